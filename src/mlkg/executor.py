"""Run SPARQL queries on a build in worker processes, with a deadline, a row cap and a memory limit.

Neither rdflib nor pyoxigraph can cancel a running query, so the only sure way to stop one is to run
it in another process and kill that process. :class:`WorkerPool` keeps a few warm workers (Python
started, rdflib's parser and pyoxigraph imported, the build's store open) and reuses them across
queries; a worker that passes its deadline is killed (``SIGKILL``, so its CPU is free at once) and
replaced in the background.

Every query is checked by :func:`mlkg.guard.check_query` inside the worker before Oxigraph sees
it, so a pathological text costs the worker's time and not the caller's.

Workers open the build read-only with ``pyoxigraph.Store.read_only`` and keep it open while the
build folder stays the same directory (same inode). A rebuild swaps the folder in with a rename, so
the next query sees a new inode and reopens; the folder is opened through a directory descriptor
(``/proc/self/fd/N``), so one query reads either the old build or the new one, never a mix.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlkg.errors import GraphNotFoundError, MlkgError, QueryError, QueryTimeoutError, StoreError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from rdflib.term import Node

DEFAULT_TIMEOUT = 30.0
DEFAULT_ROW_CAP = 10_000

_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters SPARQL forbids in an IRIREF (plus controls and space).
_BAD_IRI_CHARS = re.compile(r'[\x00-\x20<>"{}|^`\\]')

# A term crossing the process boundary: None (unbound), ("u", iri), ("b", id),
# ("l", lexical form, datatype IRI or None, language or None).
Wire = tuple[str, ...] | None


@dataclass(frozen=True)
class QueryResult:
    """The answer to one query.

    Attributes
    ----------
    form
        ``"SELECT"``, ``"ASK"``, ``"CONSTRUCT"`` or ``"DESCRIBE"``.
    vars
        Variable names of a SELECT, in projection order; ``["subject", "predicate", "object"]``
        for CONSTRUCT/DESCRIBE; empty for ASK.
    rows
        SELECT solutions (``None`` where a variable is unbound), or the triples of a graph result.
    boolean
        The answer of an ASK, else ``None``.
    truncated
        True if the row cap cut the result short.
    graph_ntriples
        The triples of a CONSTRUCT/DESCRIBE as N-Triples, else ``None``.
    """

    form: str
    vars: list[str]
    rows: list[tuple[Node | None, ...]]
    boolean: bool | None = None
    truncated: bool = False
    graph_ntriples: str | None = None


class QueryBusyError(QueryError):
    """Every worker stayed busy until the query's deadline: the query never started."""

    exit_code = 4


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    used: int = field(default=0)


class WorkerPool:
    """A fixed number of warm worker processes that run queries one at a time each.

    Parameters
    ----------
    size
        Number of workers, i.e. queries that can run at the same time.
    memory_limit_mb
        Address space (MB) each worker may use beyond what it holds once warm (``RLIMIT_AS``
        set after warm-up), or ``None`` for no limit.
    max_queries_per_worker
        Recycle a worker after this many queries (bounds slow memory growth).
    warm_graph_dir
        A build each worker opens before it says it is ready (the endpoint's graph). Without
        one, the first build queried is used for the workers started after it: a replacement
        then opens that store before its memory limit is set, so the store's own reservations
        do not count against the next query.
    slow_after
        Seconds after which a running query's worker drops to the lowest CPU priority, so a
        runaway query slows fast ones as little as possible (the worker is replaced afterwards).
    preload_parser
        Import rdflib's SPARQL grammar (~70 ms) before a worker says it is ready, so no query
        pays for it later. A one-shot pool turns it off: its caller waits for the worker anyway,
        and a query whose verdict the guard has cached on disk never needs the grammar.

    Examples
    --------
    >>> pool = WorkerPool(size=2)  # doctest: +SKIP
    >>> execute(Path("data/build"), "ASK { ?s ?p ?o }", pool=pool).boolean  # doctest: +SKIP
    True
    >>> pool.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        size: int = 1,
        *,
        memory_limit_mb: int | None = None,
        max_queries_per_worker: int = 1000,
        warm_graph_dir: Path | None = None,
        slow_after: float = 1.0,
        start_method: str | None = None,
        preload_parser: bool = True,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = size
        self.memory_limit_mb = memory_limit_mb
        self.max_queries_per_worker = max_queries_per_worker
        self.slow_after = slow_after
        self.start_method = start_method
        self.preload_parser = preload_parser
        self.warm_graph_dir = os.path.abspath(warm_graph_dir) if warm_graph_dir else None
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._all: set[_Worker] = set()
        starting = [self._start_worker() for _ in range(size)]
        for worker in starting:
            self._wait_ready(worker)
            self._idle.put(worker)

    # -- worker life cycle -------------------------------------------------------------------
    def _start_worker(self) -> _Worker:
        ctx = _context(self.start_method)
        # Linux's parent-death signal follows the *thread* that forked: a worker forked from a
        # short-lived refill thread would be killed when that thread ends. Only ask for it when
        # the parent side is long-lived (the fork server, or this process's main thread).
        die_with_parent = (
            self.start_method != "fork" or threading.current_thread() is threading.main_thread()
        )
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        process = ctx.Process(
            target=_worker_main,
            args=(
                child_conn,
                self.memory_limit_mb,
                self.warm_graph_dir,
                die_with_parent,
                self.preload_parser,
            ),
            name="mlkg-query-worker",
            daemon=True,
        )
        process.start()
        child_conn.close()
        worker = _Worker(process=process, conn=parent_conn)
        with self._lock:
            self._all.add(worker)
        return worker

    @staticmethod
    def _wait_ready(worker: _Worker, timeout: float = 60.0) -> None:
        """Wait until a new worker has imported its modules (and opened the build, if known)."""
        with contextlib.suppress(EOFError, OSError):
            if worker.conn.poll(timeout):
                worker.conn.recv()

    def _kill(self, worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            worker.process.kill()
        with contextlib.suppress(Exception):
            worker.process.join(timeout=2)
        with contextlib.suppress(Exception):
            worker.conn.close()
        with self._lock:
            self._all.discard(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and put a fresh one in the idle queue, in the background."""
        self._kill(worker)

        def refill() -> None:
            if self._closed:
                return
            try:
                fresh = self._start_worker()
                self._wait_ready(fresh)  # only a warm worker joins the queue
            except Exception:  # pragma: no cover - e.g. out of processes; retry on next query
                return
            if self._closed:
                self._kill(fresh)
            else:
                self._idle.put(fresh)

        threading.Thread(target=refill, name="mlkg-worker-refill", daemon=True).start()

    def close(self) -> None:
        """Stop every worker (running queries are killed). The pool cannot be used afterwards."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.close()
            self._kill(worker)

    def pids(self) -> list[int]:
        """Return the process ids of the live workers (for tests and monitoring)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    # -- running -----------------------------------------------------------------------------
    def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Run one job in a worker; kill the worker if it is not done within ``timeout`` seconds.

        Returns
        -------
        dict
            The worker's answer (see :func:`_run_job`).
        """
        if self._closed:
            raise QueryError("the query executor is shut down")
        if self.warm_graph_dir is None and job.get("graph_dir"):
            self.warm_graph_dir = job["graph_dir"]
        try:
            worker = self._idle.get(timeout=max(0.0, timeout))
        except queue.Empty:
            raise QueryBusyError(
                f"the server is busy: no query worker became free within {timeout:g} s"
            ) from None
        if not worker.process.is_alive():
            self._replace(worker)
            raise QueryError("the query worker stopped unexpectedly; try again")
        niced = False
        try:
            worker.conn.send(job)
            ready = worker.conn.poll(min(timeout, self.slow_after))
            if not ready and timeout > self.slow_after:
                # A long query yields the CPU to short ones; the worker is recycled afterwards.
                niced = _lower_priority(worker.process.pid)
                ready = worker.conn.poll(timeout - self.slow_after)
            if not ready:
                self._replace(worker)
                raise QueryTimeoutError(
                    f"the query ran longer than {timeout:g} s and was stopped; "
                    "add LIMIT or narrow the pattern"
                )
            reply: dict[str, Any] = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._replace(worker)
            raise QueryError(
                "the query stopped its worker (it may have run out of memory)"
            ) from None
        except QueryError:
            raise
        except BaseException:
            self._replace(worker)
            raise
        worker.used += 1
        if niced or worker.used >= self.max_queries_per_worker or reply.get("recycle"):
            self._replace(worker)
        else:
            self._idle.put(worker)
        return reply

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default_pool: WorkerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """Return the process-wide pool of one worker used when :func:`execute` gets no ``pool``."""
    global _default_pool
    with _default_lock:
        if _default_pool is None or _default_pool._closed:
            # fork is fast and safe while this process runs no other thread (the CLI's case)
            single = threading.active_count() == 1 and sys.platform != "win32"
            _default_pool = WorkerPool(
                size=1, start_method="fork" if single else None, preload_parser=False
            )
            atexit.register(_default_pool.close)
        return _default_pool


def execute(
    graph_dir: Path,
    query: str,
    *,
    bindings: Mapping[str, Node] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    row_cap: int = DEFAULT_ROW_CAP,
    allow_service: bool = False,
    pool: WorkerPool | None = None,
) -> QueryResult:
    """Check and run a SPARQL query on a build, in a worker process with a deadline.

    Parameters
    ----------
    graph_dir
        The build folder (``mlkg.ttl`` + ``store/``).
    query
        SPARQL query text; checked by :func:`mlkg.guard.check_query` first.
    bindings
        Values for variables (name without ``?`` → rdflib term). They are added as a ``VALUES``
        block at the start of the query's WHERE pattern, written from the terms (never pasted
        text), so they work for projected and non-projected variables alike.
    timeout
        Seconds before the worker is killed and :class:`mlkg.errors.QueryTimeoutError` raised.
    row_cap
        Most rows (or triples) returned; ``truncated`` tells whether more existed.
    allow_service
        Allow ``SERVICE`` / ``FROM`` (they reach the network).
    pool
        The worker pool to use; by default a process-wide pool of one warm worker.

    Returns
    -------
    QueryResult
        The rows, boolean or triples of the answer.

    Raises
    ------
    mlkg.errors.QueryError
        Forbidden form, syntax error, bad binding, or a failure while running.
    mlkg.errors.QueryTimeoutError
        The query passed its deadline (exit code 4).
    mlkg.errors.GraphNotFoundError
        ``graph_dir`` holds no build.

    Examples
    --------
    >>> result = execute(Path("data/build"), "SELECT ?r WHERE { ?r a ?c } LIMIT 1")
    ... # doctest: +SKIP
    >>> result.vars  # doctest: +SKIP
    ['r']
    """
    from mlkg.store import resolve_build_dir

    if timeout <= 0:
        raise QueryError("the timeout must be a positive number of seconds")
    if row_cap < 0:
        raise QueryError("the row cap must not be negative")
    path = resolve_build_dir(graph_dir)
    job = {
        "graph_dir": os.path.abspath(path),
        "query": query,
        "bindings": _encode_bindings(bindings or {}),
        "row_cap": int(row_cap),
        "allow_service": bool(allow_service),
    }
    reply = (pool or default_pool()).run(job, timeout)
    if reply["status"] != "ok":
        from mlkg.guard import QueryRejectedError

        if reply["kind"] == "QueryRejectedError":
            raise QueryRejectedError(reply["message"])
        raise _ERRORS.get(reply["kind"], QueryError)(reply["message"])
    return QueryResult(
        form=reply["form"],
        vars=list(reply["vars"]),
        rows=[tuple(_decode(term) for term in row) for row in reply["rows"]],
        boolean=reply["boolean"],
        truncated=reply["truncated"],
        graph_ntriples=reply["ntriples"],
    )


_ERRORS: dict[str, type[MlkgError]] = {
    "QueryError": QueryError,
    "QueryTimeoutError": QueryTimeoutError,
    "GraphNotFoundError": GraphNotFoundError,
    "StoreError": StoreError,
}


def _encode_bindings(bindings: Mapping[str, Node]) -> list[tuple[str, str]]:
    """Return ``[(variable, N-Triples term)]``, validating names and terms."""
    from rdflib.term import BNode, Literal, URIRef

    encoded = []
    for name, value in bindings.items():
        bare = name[1:] if name[:1] in "?$" else name
        if not _VARIABLE_NAME.match(bare):
            raise QueryError(f"bad parameter name {name!r}: use letters, digits and _")
        if isinstance(value, URIRef):
            if _BAD_IRI_CHARS.search(str(value)) or ":" not in str(value):
                raise QueryError(f"parameter {bare}: {str(value)!r} is not a valid IRI")
            term = f"<{value}>"
        elif isinstance(value, Literal):
            term = value.n3()
        elif isinstance(value, BNode):
            raise QueryError(f"parameter {bare}: blank nodes cannot be bound")
        else:
            raise QueryError(f"parameter {bare}: expected an IRI or a literal")
        encoded.append((bare, term))
    return encoded


def _decode(term: Wire) -> Node | None:
    """Return the rdflib term for a wire term."""
    from rdflib.term import BNode, Literal, URIRef

    if term is None:
        return None
    kind = term[0]
    if kind == "u":
        return URIRef(term[1])
    if kind == "b":
        return BNode(term[1])
    lexical, datatype, language = term[1], term[2], term[3]
    if language:
        return Literal(lexical, lang=language)
    if datatype and datatype != _XSD_STRING:
        return Literal(lexical, datatype=URIRef(datatype))
    return Literal(lexical)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


# ------------------------------------------------------------------------------------------------
# The worker side


def _context(start_method: str | None = None) -> Any:
    """Return the multiprocessing context for workers: forkserver where available, else spawn.

    ``start_method="fork"`` gives a worker that starts at once with the caller's imports; the
    one-shot CLI uses it (a fork server costs ~0.4 s to start, more than the query).
    """
    import multiprocessing

    if start_method is not None:
        return multiprocessing.get_context(start_method)

    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # pragma: no cover - Windows
        return multiprocessing.get_context("spawn")
    # Imported once in the fork server, so each new worker starts warm in a few milliseconds.
    ctx.set_forkserver_preload(
        [
            "mlkg.executor",
            "mlkg.guard",
            "mlkg.store",
            "mlkg.namespace",
            "pyoxigraph",
            "rdflib",
            "rdflib.plugins.sparql.parser",
        ]
    )
    return ctx


def _worker_main(
    conn: Connection,
    memory_limit_mb: int | None,
    warm_graph_dir: str | None,
    die_with_parent: bool = True,
    preload_parser: bool = True,
) -> None:
    """Say ``ready`` on ``conn`` once warm, then serve jobs from it until it closes."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if die_with_parent:
        _die_with_parent()
    # Warm up: import the engine (and, unless told not to, the guard's SPARQL grammar) before
    # the first query arrives.
    import pyoxigraph  # noqa: F401

    if preload_parser:
        from rdflib.plugins.sparql import parser  # noqa: F401

    stores: dict[str, tuple[tuple[int, ...], Any, int]] = {}
    if warm_graph_dir:
        with contextlib.suppress(Exception):
            _open_store(warm_graph_dir, stores)
    if memory_limit_mb:
        _limit_memory(int(memory_limit_mb))
    try:
        conn.send("ready")
    except (OSError, BrokenPipeError):
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            reply = _run_job(job, stores)
        except MlkgError as exc:
            reply = {"status": "error", "kind": type(exc).__name__, "message": str(exc)}
        except MemoryError:
            reply = {
                "status": "error",
                "kind": "QueryError",
                "message": "the query ran out of memory; add LIMIT or narrow the pattern",
                "recycle": True,
            }
        except RecursionError:
            reply = {
                "status": "error",
                "kind": "QueryError",
                "message": "the query is nested too deeply to run",
                "recycle": True,
            }
        except Exception as exc:  # engine errors: a short first line, no traceback
            reply = {
                "status": "error",
                "kind": "QueryError",
                "message": "the query failed: " + _first_line(str(exc)),
            }
        try:
            conn.send(reply)
        except (OSError, BrokenPipeError):
            return


def _lower_priority(pid: int | None) -> bool:
    """Give process ``pid`` the lowest CPU priority; return whether that worked."""
    if pid is None or not hasattr(os, "setpriority"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 19)
    except OSError:
        return False
    return True


def _limit_memory(memory_limit_mb: int) -> None:
    """Cap this worker's address space at what it holds now, warm, plus ``memory_limit_mb``.

    A cap on the total (``RLIMIT_AS``) counts the interpreter, the libraries and the store's
    reservations too, whose size varies from start to start: a fixed 600 MB cap made a fresh
    worker fail on a plain ``ASK`` one time in two. Measured from the warm baseline, the limit
    is what a query may use.
    """
    import resource

    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            baseline = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        baseline = 0
    limit = baseline + memory_limit_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _die_with_parent() -> None:
    """Ask Linux to kill this worker if its parent dies (best effort)."""
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _oxigraph_syntax_error(message: str) -> str:
    """Return Oxigraph's parse error as ``syntax error at line L, column C: …``, shortened."""
    match = re.match(r"error at (\d+):(\d+): (.*)", _first_line(message, 10_000))
    if not match:
        return "syntax error: " + _first_line(message, 120)
    detail = match.group(3)
    if len(detail) > 80:
        detail = detail[:79] + "…"
    return f"syntax error at line {match.group(1)}, column {match.group(2)}: {detail}"


def _first_line(message: str, limit: int = 200) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _open_store(graph_dir: str, stores: dict[str, tuple[tuple[int, ...], Any, int]]) -> Any:
    """Return a read-only store of the build at ``graph_dir``, reopening it if the build changed."""
    import pyoxigraph

    from mlkg.store import STORE_DIR

    try:
        fd = os.open(graph_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        raise GraphNotFoundError(
            f"no graph in {graph_dir}: build one first with `mlkg build --out {graph_dir}`"
        ) from None
    try:
        st = os.fstat(fd)
        ident: tuple[int, ...] = (st.st_dev, st.st_ino)
        try:
            store_stat = os.stat(STORE_DIR, dir_fd=fd)
            ident += (store_stat.st_ino, store_stat.st_mtime_ns)
        except OSError:
            raise GraphNotFoundError(f"no store in {graph_dir}: rebuild it") from None
        cached = stores.get(graph_dir)
        if cached is not None and cached[0] == ident:
            os.close(fd)
            return cached[1]
        # Resolve everything through the descriptor, so a rename mid-open cannot mix two builds.
        pinned = f"/proc/self/fd/{fd}" if os.path.isdir(f"/proc/self/fd/{fd}") else graph_dir
        try:
            store = pyoxigraph.Store.read_only(os.path.join(pinned, STORE_DIR))
        except OSError as exc:
            raise StoreError(
                f"cannot open the store in {graph_dir}: {_first_line(str(exc))}"
            ) from None
    except BaseException:
        os.close(fd)
        raise
    if cached is not None:
        with contextlib.suppress(OSError):
            os.close(cached[2])
    stores[graph_dir] = (ident, store, fd)  # keep fd open: it pins the build being read
    return store


def _run_job(job: dict[str, Any], stores: dict[str, tuple[tuple[int, ...], Any, int]]) -> dict:
    """Check, bind and run one query; return a picklable reply."""
    import pyoxigraph

    from mlkg.guard import check_query, default_prefixes

    text: str = job["query"]
    allow_service: bool = job["allow_service"]
    row_cap: int = job["row_cap"]
    form = check_query(text, allow_service=allow_service)
    if job["bindings"]:
        text = bind_values(text, form, job["bindings"])
        check_query(text, allow_service=allow_service)
    store = _open_store(job["graph_dir"], stores)
    try:
        answer = store.query(text, prefixes=default_prefixes())
    except SyntaxError as exc:
        raise QueryError(_oxigraph_syntax_error(str(exc))) from None
    reply: dict[str, Any] = {
        "status": "ok",
        "form": form,
        "vars": [],
        "rows": [],
        "boolean": None,
        "truncated": False,
        "ntriples": None,
    }
    if isinstance(answer, pyoxigraph.QueryBoolean):
        reply["boolean"] = bool(answer)
        return reply
    if isinstance(answer, pyoxigraph.QuerySolutions):
        names = [v.value for v in answer.variables]
        rows: list[tuple[Wire, ...]] = []
        for solution in answer:
            if len(rows) >= row_cap:
                reply["truncated"] = True
                break
            rows.append(tuple(_wire(solution[i]) for i in range(len(names))))
        reply["vars"] = names
        reply["rows"] = rows
        return reply
    triples: list[Any] = []
    for triple in answer:
        if len(triples) >= row_cap:
            reply["truncated"] = True
            break
        triples.append(triple)
    reply["vars"] = ["subject", "predicate", "object"]
    reply["rows"] = [(_wire(t.subject), _wire(t.predicate), _wire(t.object)) for t in triples]
    data = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES) or b""
    reply["ntriples"] = data.decode("utf-8")
    return reply


def _wire(term: Any) -> Wire:
    """Return the wire form of a pyoxigraph term."""
    import pyoxigraph

    if term is None:
        return None
    if isinstance(term, pyoxigraph.NamedNode):
        return ("u", term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return ("b", term.value)
    if isinstance(term, pyoxigraph.Literal):
        return ("l", term.value, term.datatype.value, term.language or "")
    return ("l", str(term), "", "")  # an RDF-star triple term: shown as text


# ------------------------------------------------------------------------------------------------
# Bindings as a VALUES block


def bind_values(text: str, form: str, bindings: list[tuple[str, str]]) -> str:
    """Return ``text`` with ``VALUES (?a ?b) { (t1 t2) }`` inserted at the start of its WHERE group.

    ``bindings`` pairs variable names with terms already written as N-Triples (validated by the
    caller), so no user text is pasted into the query. A VALUES block at the start of the group
    joins with the whole pattern, so it constrains variables whether or not they are projected.

    Returns
    -------
    str
        The new query text.

    Raises
    ------
    mlkg.errors.QueryError
        If the query has no WHERE group to bind into (``DESCRIBE <iri>``, ``CONSTRUCT WHERE``).

    Examples
    --------
    >>> bind_values("SELECT ?x WHERE { ?x ?p ?o }", "SELECT", [("p", "<http://e/p>")])
    'SELECT ?x WHERE { VALUES (?p) { (<http://e/p>) } ?x ?p ?o }'
    """
    position = _where_brace(text, form)
    if position is None:
        raise QueryError("parameters can only be bound in a query with a WHERE { … } pattern")
    variables = " ".join(f"?{name}" for name, _ in bindings)
    values = " ".join(term for _, term in bindings)
    block = f" VALUES ({variables}) {{ ({values}) }}"
    return text[: position + 1] + block + text[position + 1 :]


def _where_brace(text: str, form: str) -> int | None:
    """Return the index of the ``{`` opening the WHERE group, skipping strings, IRIs, comments."""
    from mlkg.guard import IRIREF, skip_string

    depth_paren = 0
    depth_brace = 0
    top_level_braces = 0
    i = 0
    n = len(text)
    last_word = ""
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c == "<":
            match = IRIREF.match(text, i)
            if match:
                i = match.end()
                continue
        if c.isalpha():
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_-:"):
                j += 1
            last_word = text[i:j].upper()
            i = j
            continue
        if c == "(":
            depth_paren += 1
        elif c == ")":
            depth_paren -= 1
        elif c == "{":
            if depth_paren == 0 and depth_brace == 0:
                top_level_braces += 1
                if form == "CONSTRUCT":
                    if last_word == "WHERE" and top_level_braces == 1:
                        return None  # CONSTRUCT WHERE { triples }: no room for VALUES
                    if top_level_braces == 2:
                        return i
                else:
                    return i
            depth_brace += 1
        elif c == "}":
            depth_brace -= 1
        if not c.isspace():
            last_word = ""
        i += 1
    return None
