"""Load a build into a SPARQL 1.1 server, in batches, without ever half-replacing the graph.

:func:`push` reads ``DIR/mlkg.ttl`` and

1. drops the temporary graph of this target (left over by a push that was killed), then loads the
   triples into it in batches: SPARQL 1.1 Update ``INSERT DATA`` (``method="update"``, works on
   any SPARQL 1.1 server) or Graph Store Protocol ``POST`` of N-Triples (``method="gsp"``);
   a failed batch is retried with exponential backoff, then reported;
2. counts the temporary graph and compares with the build;
3. switches in one update, ``MOVE <temporary> TO <target>`` (the target's old triples are
   dropped in the same operation), and counts the target again.

Any failure drops the temporary graph and leaves the target as it was. Pushing the same build
twice gives the same triples. Readers that query the target graph only (``default-graph-uri``)
never see the temporary one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mlkg.errors import StoreError
from mlkg.remote import (
    SELECT_ACCEPT,
    HttpClient,
    StoreAuthError,
    check_iri,
    parse_result,
    parse_store_url,
)
from mlkg.store import GRAPH_FILE, resolve_build_dir

DEFAULT_GRAPH = "https://w3id.org/mlkg/graph"
# Triples per request. Virtuoso 7.2's SPARQL compiler runs out of parser stack ("SP030 memory
# exhausted") on an INSERT DATA of about 5,000 triples; its Graph Store Protocol loader has no such
# limit.
DEFAULT_BATCH_SIZES = {"update": 1000, "gsp": 20000}
DEFAULT_TIMEOUT = 120.0
METHODS = ("update", "gsp")

ProgressCallback = Callable[[int, int], None]


class PushError(StoreError):
    """A push failed; the target graph on the server is unchanged."""


@dataclass(frozen=True)
class PushResult:
    """What :func:`push` did: triples loaded, target graph, time taken, batches and retries."""

    triples: int
    graph: str
    seconds: float
    batches: int
    retries: int
    method: str

    @property
    def triples_per_second(self) -> float:
        """Return the push throughput (whole push: load, verify and switch)."""
        return self.triples / self.seconds if self.seconds > 0 else float("inf")


def temporary_graph(target: str) -> str:
    """Return the IRI of the temporary graph a push to ``target`` loads into.

    It is fixed per target, so the next push cleans up after a push that was killed.

    Examples
    --------
    >>> temporary_graph("https://w3id.org/mlkg/graph")
    'urn:mlkg:push:1b96abecd60833e2'
    """
    digest = hashlib.sha1(target.encode("utf-8")).hexdigest()[:16]
    return f"urn:mlkg:push:{digest}"


def read_triples(turtle_file: Path) -> list[str]:
    """Return the distinct triples of ``turtle_file`` as N-Triples lines (without the dot).

    Triples holding blank nodes come last, so that :func:`batches` can keep them together.
    Raises :class:`StoreError` if the file cannot be read or parsed.
    """
    import pyoxigraph

    try:
        quads = pyoxigraph.parse(path=str(turtle_file), format=pyoxigraph.RdfFormat.TURTLE)
        lines = {str(quad.triple) for quad in quads}
    except (OSError, SyntaxError, ValueError) as exc:
        raise StoreError(f"cannot read {turtle_file}: {exc}") from exc
    plain = sorted(line for line in lines if "_:" not in line)
    # "_:" may also occur inside a literal; such a triple only lands in the last batch.
    with_blanks = sorted(line for line in lines if "_:" in line)
    return plain + with_blanks


def batches(lines: list[str], size: int) -> Iterator[list[str]]:
    """Yield ``lines`` in lists of ``size``; every triple with a blank node goes in the last one.

    A blank node means the same node only within one request, so triples sharing one must travel
    together.
    """
    plain = [line for line in lines if "_:" not in line]
    with_blanks = [line for line in lines if "_:" in line]
    for start in range(0, len(plain), size):
        chunk = plain[start : start + size]
        if with_blanks and start + size >= len(plain):
            chunk = chunk + with_blanks
            with_blanks = []
        yield chunk
    if with_blanks:
        yield with_blanks


class _Server:
    """The three HTTP roles of a push: query, update and (optionally) Graph Store Protocol."""

    def __init__(
        self,
        query_endpoint: str,
        update_endpoint: str,
        gsp_endpoint: str | None,
        timeout: float,
    ) -> None:
        self.query_endpoint = query_endpoint
        self.query_client = HttpClient(query_endpoint, timeout=timeout)
        self.update_endpoint = update_endpoint
        self.update_client = HttpClient(update_endpoint, timeout=timeout)
        self.gsp_endpoint = gsp_endpoint
        self.gsp_client = HttpClient(gsp_endpoint, timeout=timeout) if gsp_endpoint else None

    def update(self, text: str, what: str) -> None:
        self.update_client.request(
            "POST",
            self.update_endpoint,
            data=text.encode("utf-8"),
            headers={
                "Content-Type": "application/sparql-update; charset=UTF-8",
                "Accept": SELECT_ACCEPT,
            },
            what=what,
        )

    def gsp_post(self, graph: str, body: str, what: str) -> None:
        assert self.gsp_client is not None and self.gsp_endpoint is not None
        separator = "&" if "?" in self.gsp_endpoint else "?"
        url = self.gsp_endpoint + separator + urllib.parse.urlencode({"graph": graph})
        self.gsp_client.request(
            "POST",
            url,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/n-triples; charset=UTF-8"},
            what=what,
        )

    def count(self, graph: str) -> int:
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        response = self.query_client.request(
            "POST",
            self.query_endpoint,
            data=urllib.parse.urlencode({"query": query}).encode("utf-8"),
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                "Accept": "application/sparql-results+json",
            },
            what="count",
        )
        rows = list(parse_result(response, self.query_endpoint))
        try:
            return int(str(rows[0][0]))  # type: ignore[index]
        except (IndexError, TypeError, ValueError) as exc:
            raise StoreError(
                f"{self.query_endpoint} gave no count for graph <{graph}>: {rows!r}"
            ) from exc


def _retryable(exc: StoreError) -> bool:
    """Return whether a failed request may succeed when sent again."""
    if isinstance(exc, StoreAuthError):
        return False
    status = getattr(exc, "status", None)
    return status is None or status >= 500 or status in (408, 429)


def _with_retries(send: Callable[[], None], what: str, retries: int, backoff: float) -> int:
    """Call ``send`` until it succeeds, at most ``retries`` extra times; return retries used."""
    attempt = 0
    while True:
        try:
            send()
            return attempt
        except StoreError as exc:
            if attempt >= retries or not _retryable(exc):
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise PushError(f"{what} failed{tries}: {exc}") from exc
            time.sleep(backoff * (2**attempt))
            attempt += 1


def push(
    graph_dir: Path | str | None,
    store_url: str,
    *,
    update_endpoint: str | None = None,
    gsp_endpoint: str | None = None,
    named_graph: str | None = None,
    batch_size: int | None = None,
    method: str = "update",
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = 3,
    backoff: float = 0.5,
    progress: ProgressCallback | None = None,
) -> PushResult:
    """Load the build in ``graph_dir`` into the named graph ``named_graph`` of a SPARQL server.

    Parameters
    ----------
    graph_dir
        Build folder (``None``: ``data/build``).
    store_url
        Query endpoint, ``sparql+http://host:port/sparql``; used to verify counts.
    update_endpoint
        SPARQL 1.1 Update endpoint (default: the query endpoint). Virtuoso:
        ``http://host:port/sparql-auth`` with digest credentials.
    gsp_endpoint
        Graph Store Protocol endpoint, needed for ``method="gsp"`` (Virtuoso:
        ``http://host:port/sparql-graph-crud-auth``).
    named_graph
        Target graph IRI (default :data:`DEFAULT_GRAPH`); its previous triples are replaced.
    batch_size
        Triples per request (default: 1,000 for ``update``, 20,000 for ``gsp``).
    method
        ``"update"`` (INSERT DATA) or ``"gsp"`` (Graph Store Protocol POST of N-Triples).
    timeout
        Total seconds allowed for each request.
    retries, backoff
        A failed batch is sent again up to ``retries`` times, waiting ``backoff * 2**n`` s.
    progress
        Called with ``(triples loaded, total)`` after every batch.

    Returns
    -------
    PushResult
        Triples loaded, target graph, seconds and batches.

    Raises
    ------
    PushError
        A batch, the verification or the switch failed; the target graph is unchanged and the
        temporary graph has been dropped (when the server still answers).
    StoreError
        Bad arguments, or the server cannot be reached before anything was written.
    """
    if method not in METHODS:
        raise StoreError(f"unknown push method {method!r}: use one of {', '.join(METHODS)}")
    if batch_size is None:
        batch_size = DEFAULT_BATCH_SIZES[method]
    if batch_size < 1:
        raise StoreError(f"batch size must be at least 1, not {batch_size}")
    if method == "gsp" and not gsp_endpoint:
        raise StoreError("the gsp method needs --gsp-endpoint (Virtuoso: /sparql-graph-crud-auth)")
    target = check_iri(named_graph or DEFAULT_GRAPH, "named graph")
    query_endpoint = parse_store_url(store_url).endpoint
    update_url = parse_store_url(update_endpoint).endpoint if update_endpoint else query_endpoint
    gsp_url = parse_store_url(gsp_endpoint).endpoint if gsp_endpoint else None
    build_dir = resolve_build_dir(graph_dir)
    lines = read_triples(build_dir / GRAPH_FILE)
    total = len(lines)

    server = _Server(query_endpoint, update_url, gsp_url, timeout)
    temporary = temporary_graph(target)
    started = time.monotonic()
    # Nothing is written yet: a fault here (unreachable, wrong credentials) is reported as is.
    try:
        server.update(f"DROP SILENT GRAPH <{temporary}>", "cleanup of the temporary graph")
    except StoreError as exc:
        if "permission" in str(exc).lower() and update_endpoint is None:
            raise StoreError(
                f"{exc} (the query endpoint refuses updates: give --update-endpoint, "
                "on Virtuoso http://host:port/sparql-auth, with credentials)"
            ) from exc
        raise
    done = 0
    retried = 0
    count = 0
    try:
        for count, chunk in enumerate(batches(lines, batch_size), start=1):
            what = f"batch {count} (triples {done + 1}-{done + len(chunk)} of {total})"
            body = "".join(f"{line} .\n" for line in chunk)
            send: Callable[[], None]
            if method == "gsp":
                send = functools.partial(server.gsp_post, temporary, body, what)
            else:
                text = f"INSERT DATA {{ GRAPH <{temporary}> {{\n{body}}} }}"
                send = functools.partial(server.update, text, what)
            retried += _with_retries(send, what, retries, backoff)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        loaded = server.count(temporary)
        if loaded != total:
            raise PushError(
                f"verification failed: the temporary graph holds {loaded} triples, "
                f"the build {total}"
            )
        retried += _with_retries(
            lambda: server.update(
                f"MOVE SILENT GRAPH <{temporary}> TO GRAPH <{target}>", "switch (MOVE)"
            ),
            "switch to the new graph",
            retries,
            backoff,
        )
    except BaseException as exc:
        _drop_quietly(server, temporary)
        if isinstance(exc, PushError):
            raise PushError(f"{exc}; the graph <{target}> is unchanged") from exc
        if isinstance(exc, StoreError):
            raise PushError(f"push failed: {exc}; the graph <{target}> is unchanged") from exc
        raise
    final = server.count(target)
    if final != total:
        raise PushError(f"after the switch <{target}> holds {final} triples, the build {total}")
    return PushResult(
        triples=total,
        graph=target,
        seconds=time.monotonic() - started,
        batches=count,
        retries=retried,
        method=method,
    )


def _drop_quietly(server: _Server, graph: str) -> None:
    """Drop ``graph``; a failure here must not hide the error that caused it."""
    with contextlib.suppress(StoreError):
        server.update(f"DROP SILENT GRAPH <{graph}>", "drop of the temporary graph")
