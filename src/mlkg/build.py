"""Build a graph from documents: read, extract, merge, validate, write atomically.

A build folder ``OUT`` is a symbolic link to the newest complete build kept in ``.OUT.builds/``
next to it. A build is written into a staging folder and published by replacing the link in one
``os.replace``, so a reader sees the old graph or the new one, never a mix, and a build killed
half-way leaves the previous one untouched. A lock file refuses a second concurrent build of the
same folder. Extractions are cached by document content, so unchanged documents are not
re-extracted.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlkg.documents import DOCUMENT_SUFFIXES, MAX_DOCUMENT_BYTES, Document, read_documents
from mlkg.errors import BuildError, BuildLockedError, MlkgError, ValidationError
from mlkg.records import RELATIONS, Extraction
from mlkg.store import (
    GRAPH_FILE,
    STORE_DIR,
    SUMMARY_FILE,
    derive_store,
    link_or_copy,
    write_store,
)

if TYPE_CHECKING:
    from mlkg.extract import Extractor
    from mlkg.graph import GraphContents
    from mlkg.validate import CheckedGraph, GraphIndex

#: How many complete builds are kept next to the build folder.
KEEP_BUILDS = 3

#: The SHACL state of the last graph that passed, in the cache folder.
SHACL_STATE_FILE = "shacl-state.pickle"

#: ``progress(done, total, step)``: ``step`` is, in order, ``"extracting"`` (documents),
#: ``"assembling the graph"`` (0 then 1 of 1), ``"checking shapes"`` (chunks of the SHACL check)
#: and ``"writing the graph"`` (0 then 1 of 1: the Turtle file and the store).
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class BuildSummary:
    """What a build read and made; also written to ``OUT/build.json``."""

    out: str
    documents: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    entities: dict[str, int] = field(default_factory=dict)
    facts: dict[str, int] = field(default_factory=dict)
    salaries: int = 0
    triples: int = 0
    seconds: float = 0.0
    cached: int = 0
    graph_digest: str = ""
    #: digest of everything the graph is made from (:func:`inputs_digest`)
    inputs: str = ""
    #: whether the graph was checked against the SHACL shapes
    validated: bool = False
    #: True when the build found nothing changed and left the previous one as it was
    up_to_date: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready dict (what ``build.json`` holds)."""
        data = dict(self.__dict__)
        del data["up_to_date"]
        return data


def _parents(out: Path) -> tuple[Path, Path, Path]:
    parent = out.parent
    return (
        parent / f".{out.name}.builds",
        parent / f".{out.name}.lock",
        parent / f".{out.name}.cache",
    )


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold the build lock of ``out``; raise :class:`BuildLockedError` if another build has it."""
    _, lock_path, _ = _parents(out)
    try:
        handle = lock_path.open("a+")
    except OSError as exc:
        raise BuildError(f"cannot write to {out.parent}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLockedError(
                f"another build of {out} is running (lock: {lock_path}); try again when it ends"
            ) from exc
        yield
    finally:
        handle.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_orphans(builds: Path) -> None:
    """Remove staging folders left by builds that were killed."""
    if not builds.is_dir():
        return
    for entry in builds.iterdir():
        if entry.name.startswith("staging-"):
            try:
                pid = int(entry.name.split("-")[1])
            except (IndexError, ValueError):
                pid = -1
            if pid != os.getpid() and not _pid_alive(pid):
                shutil.rmtree(entry, ignore_errors=True)


def _write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class _Previous:
    """The published build a rebuild can start from: its folder and the state of its graph."""

    build: Path
    state: CheckedGraph


#: A rebuild copies the previous store and rewrites the subjects that changed when their triples
#: are at most this share of the graph's N-Triples; beyond it, a bulk load of the whole graph is
#: quicker.
REUSE_SHARE = 0.25


def _write_graph(
    staging: Path, data: bytes, digest: str, index: GraphIndex | None, previous: _Previous | None
) -> None:
    """Write the graph (sorted N-Triples ``data``, ``digest``) into ``staging``: Turtle, store.

    With the previous build's graph at hand (``previous``), an unchanged graph reuses its Turtle
    file, and the store is a copy of the previous one with the changed subjects rewritten
    (:func:`mlkg.store.derive_store`), unless too much changed.
    """
    from mlkg.graph import write_turtle
    from mlkg.validate import changed_subjects

    if previous is not None and previous.state.digest == digest:
        link_or_copy(previous.build / GRAPH_FILE, staging / GRAPH_FILE)  # never rewritten
    else:
        with (staging / GRAPH_FILE).open("w+b") as handle:
            write_turtle(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
    if previous is not None and index is not None:
        changed = changed_subjects(index, previous.state)
        spans = [index.spans[node] for node in changed if node in index.spans]
        if sum(end - start for start, end in spans) <= REUSE_SHARE * len(index.data):
            new = b"".join(index.data[start:end] for start, end in spans)
            derive_store(previous.build / STORE_DIR, staging / STORE_DIR, sorted(changed), new)
            return
    write_store(data, staging / STORE_DIR)


def _published(out: Path, state: CheckedGraph | None) -> _Previous | None:
    """Return the build ``out`` points at if it holds the graph ``state`` was taken of."""
    if state is None or not state.digest:
        return None
    try:
        summary = read_summary(out)  # also checks that the graph and the store are there
    except MlkgError:
        return None
    if not isinstance(summary, dict) or summary.get("graph_digest") != state.digest:
        return None
    return _Previous(out.resolve(), state)  # under the build lock, ``out`` cannot move


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _publish(out: Path, staging: Path, builds: Path) -> Path:
    """Move ``staging`` to its final name and point ``out`` at it atomically; return it."""
    # A sequence number first, so names sort in publishing order (the lock is held).
    numbers = [int(p.name[:6]) for p in builds.iterdir() if p.name[:6].isdigit()]
    sequence = max(numbers, default=0) + 1
    final = builds / f"{sequence:06d}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    os.replace(staging, final)
    _fsync_dir(builds)
    if out.exists() and not out.is_symlink():
        # A plain folder from an older layout or made by hand: keep it beside the builds.
        if not (out / SUMMARY_FILE).is_file() and any(out.iterdir()):
            raise BuildError(
                f"{out} exists and is not an mlkg build: choose another --out or remove it"
            )
        os.replace(out, builds / f"previous-{os.getpid()}")
    link = out.parent / f".{out.name}.link-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.symlink(os.path.relpath(final, out.parent), link)
    os.replace(link, out)
    _fsync_dir(out.parent)
    return final


def _prune(builds: Path, current: Path, keep: int) -> None:
    complete = sorted(p for p in builds.iterdir() if p.is_dir() and p.name[:6].isdigit())
    for old in complete[:-keep] if keep > 0 else complete:
        if old.resolve() != current.resolve():
            shutil.rmtree(old, ignore_errors=True)


def _extract_all(
    documents: Sequence[Document],
    extractor: Extractor,
    cache_dir: Path | None,
    jobs: int,
    progress: ProgressCallback | None,
) -> tuple[list[Extraction], int]:
    results: dict[int, Extraction] = {}
    todo: list[int] = []
    cached = 0
    for index, document in enumerate(documents):
        hit = _cache_get(cache_dir, document, extractor.digest)
        if hit is not None:
            results[index] = hit
            cached += 1
        else:
            todo.append(index)
    done = len(results)
    total = len(documents)
    if progress:
        progress(done, total, "extracting")
    if jobs > 1 and len(todo) > 8:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        chunk = max(1, len(todo) // (jobs * 4))
        # Fresh interpreters, not forks: the caller may run threads (a progress bar's refresh
        # thread, a server), and a fork copies whatever lock they hold.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            for index, extraction in zip(
                todo,
                pool.map(_extract_one, (documents[i] for i in todo), chunksize=chunk),
                strict=True,
            ):
                results[index] = extraction
                _cache_put(cache_dir, documents[index], extractor.digest, extraction)
                done += 1
                if progress:
                    progress(done, total, "extracting")
    else:
        for index in todo:
            results[index] = extractor.extract(documents[index])
            _cache_put(cache_dir, documents[index], extractor.digest, results[index])
            done += 1
            if progress:
                progress(done, total, "extracting")
    return [results[i] for i in range(total)], cached


_WORKER_EXTRACTOR: Any = None


def _extract_one(document: Document) -> Extraction:
    global _WORKER_EXTRACTOR
    if _WORKER_EXTRACTOR is None:
        from mlkg.extract import Extractor

        _WORKER_EXTRACTOR = Extractor()
    result: Extraction = _WORKER_EXTRACTOR.extract(document)
    return result


def _cache_key(document: Document, digest: str) -> str:
    import hashlib

    return hashlib.sha256(
        f"{document.sha256}|{document.title}|{document.primary_role_hint}|{digest}".encode()
    ).hexdigest()


def _cache_get(cache_dir: Path | None, document: Document, digest: str) -> Extraction | None:
    if cache_dir is None:
        return None
    value = _load_pickle(cache_dir / f"{_cache_key(document, digest)}.pickle")
    return value if isinstance(value, Extraction) else None


def _cache_put(
    cache_dir: Path | None, document: Document, digest: str, extraction: Extraction
) -> None:
    if cache_dir is not None:
        _save_pickle(cache_dir / f"{_cache_key(document, digest)}.pickle", extraction)


def build(
    paths: Sequence[Path | str],
    out: Path | str,
    *,
    strict: bool = False,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    jobs: int = 1,
    validate: bool = True,
    use_cache: bool = True,
    keep: int = KEEP_BUILDS,
    progress: ProgressCallback | None = None,
    force: bool = False,
) -> BuildSummary:
    """Build the graph of the documents under ``paths`` into the folder ``out``; return a summary.

    Unusable documents are skipped and listed in the summary (``strict=True`` makes any of them
    an error). Raises :class:`BuildError` when no usable document remains, when the output
    cannot be written, or (:class:`ValidationError`) when the graph breaks the SHACL shapes; the
    previous build in ``out`` is then left as it was. ``progress`` is called as the build
    advances (:data:`ProgressCallback` names the steps).

    When nothing the graph is made from changed since the build in ``out`` (same documents,
    code, ontology and vocabulary: :func:`inputs_digest`), that build is left as it is and its
    summary returned with ``up_to_date`` set; ``force=True`` (or ``use_cache=False``) builds
    again all the same.

    Examples
    --------
    >>> summary = build(["data/documents"], "data/build")  # doctest: +SKIP
    >>> summary.entities["Role"] > 0  # doctest: +SKIP
    True
    """
    started = time.perf_counter()
    out = Path(out)
    builds, _, cache = _parents(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot create {out.parent}: {exc.strerror or exc}") from exc
    if not os.access(out.parent, os.W_OK):
        raise BuildError(f"cannot write to {out.parent}: permission denied")

    report = read_documents([Path(p) for p in paths], max_bytes=max_bytes)
    summary = BuildSummary(out=str(out))
    summary.skipped = [{"file": f, "reason": r} for f, r in report.skipped]
    summary.duplicates = [{"file": f, "same_as": s} for f, s in report.duplicates]
    problems = [s for s in summary.skipped if not s["reason"].startswith("read with a warning")]
    if strict and problems:
        first = problems[0]
        raise BuildError(f"{first['file']}: {first['reason']} (--strict)")

    import mlkg.graph  # noqa: F401  (loaded before code_digest() looks at the code)
    from mlkg.extract import Extractor

    extractor = Extractor()
    summary.inputs = inputs_digest(report.documents, extractor.digest, summary)
    summary.validated = validate
    with build_lock(out):
        _clean_orphans(builds)
        current = (
            _up_to_date(out, summary.inputs, validate=validate, strict=strict)
            if use_cache and not force
            else None
        )
        if current is not None:
            current.seconds = round(time.perf_counter() - started, 3)
            return current
        extractions, summary.cached = _extract_all(
            report.documents, extractor, cache if use_cache else None, jobs, progress
        )
        documents: list[Document] = []
        usable: list[Extraction] = []
        for document, extraction in zip(report.documents, extractions, strict=True):
            if extraction.primary_role is None:
                reason = "; ".join(extraction.warnings) or "no recognisable role"
                if strict:
                    raise BuildError(f"{document.file_name}: {reason} (--strict)")
                summary.skipped.append({"file": document.file_name, "reason": reason})
                continue
            documents.append(document)
            usable.append(extraction)
        if not documents:
            reasons = "; ".join(f"{s['file']}: {s['reason']}" for s in summary.skipped[:5])
            if not reasons:
                where = ", ".join(str(p) for p in paths)
                suffixes = ", ".join(DOCUMENT_SUFFIXES)
                reasons = f"no document found in {where}; mlkg reads {suffixes} files"
            raise BuildError(f"no usable document ({reasons})")

        from mlkg.graph import graph_ntriples
        from mlkg.validate import CheckedGraph, graph_digest, index_graph

        if progress:
            progress(0, 1, "assembling the graph")
        data, contents = graph_ntriples(documents, usable)
        _fill_summary(summary, contents, documents, usable)
        del extractions, usable  # the bytes say the same from here on
        summary.graph_digest = graph_digest(data)
        state_file = cache / SHACL_STATE_FILE if use_cache else None
        state = _load_pickle(state_file)
        state = state if isinstance(state, CheckedGraph) else None
        previous = _published(out, state)
        index = index_graph(data) if validate or previous is not None else None
        if progress:
            progress(1, 1, "assembling the graph")

        try:
            builds.mkdir(exist_ok=True)
            staging = builds / f"staging-{os.getpid()}-{time.monotonic_ns()}"
            staging.mkdir()
        except OSError as exc:
            raise BuildError(f"cannot write to {out.parent}: {exc.strerror or exc}") from exc
        try:
            # The Turtle file and the store are written while SHACL checks the same bytes (both
            # libraries release the GIL); the staging folder is only published if the check passes.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=1) as writer:  # leaving it waits for the writer
                written = writer.submit(
                    _write_graph, staging, data, summary.graph_digest, index, previous
                )
                if validate:
                    _validate(data, summary.graph_digest, index, state, state_file, jobs, progress)
                if progress:
                    progress(0, 1, "writing the graph")
            written.result()
            if progress:
                progress(1, 1, "writing the graph")
            summary.seconds = round(time.perf_counter() - started, 3)
            _write_file(
                staging / SUMMARY_FILE,
                json.dumps(summary.to_json(), indent=2, sort_keys=True).encode("utf-8"),
            )
            _fsync_dir(staging)
            final = _publish(out, staging, builds)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise BuildError(f"cannot write the build to {out}: {exc.strerror or exc}") from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _prune(builds, final, keep)
    return summary


def inputs_digest(
    documents: Sequence[Document], extractor_digest: str, summary: BuildSummary
) -> str:
    """Return a digest of everything a build's output is made from.

    That is the code that runs (:func:`code_digest`), the ontology folder (ontology, shapes,
    vocabulary, cues), the extractor, and each document (its content's hash, name, title,
    origin and role hint, in order), with the files the ``summary`` lists as skipped or
    duplicated. Two builds with the same digest write the same graph and the same
    ``build.json`` (but for its timing).
    """
    import hashlib

    from mlkg.resources import ontology_dir

    digest = hashlib.blake2b(code_digest(), digest_size=16)

    def add(*parts: str) -> None:
        for part in parts:
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")

    add(extractor_digest)
    _add_files(digest, ontology_dir(), "*")
    for document in documents:
        add(document.id, document.sha256, document.file_name, document.path.stem)
        add(document.title, document.origin, document.primary_role_hint)
    add(json.dumps([summary.skipped, summary.duplicates], sort_keys=True))
    return digest.hexdigest()


@functools.cache
def code_digest() -> bytes:
    """Return a digest of the code a build runs: mlkg's modules, Python and the libraries.

    Taken once per process, when the first build has imported the modules that make the graph,
    so it is the code in memory, not code edited on disk since (a long-running process keeps
    the modules it loaded). The libraries are those that read, write and check the graph
    (pyahocorasick, pyoxigraph, pyshifty); Python's version brings its Unicode tables.
    """
    import hashlib
    import platform
    from importlib import metadata

    from mlkg import __version__

    digest = hashlib.blake2b(digest_size=16)
    parts = [__version__, platform.python_version()]
    for library in ("pyahocorasick", "pyoxigraph", "pyshifty"):
        try:
            parts += [library, metadata.version(library)]
        except metadata.PackageNotFoundError:
            parts += [library, ""]
    digest.update("\0".join(parts).encode("utf-8"))
    _add_files(digest, Path(__file__).resolve().parent, "*.py")
    return digest.digest()


def _add_files(digest: Any, folder: Path, pattern: str) -> None:
    """Feed ``digest`` the name and content of each file under ``folder`` matching ``pattern``."""
    import hashlib

    for path in sorted(folder.rglob(pattern)):
        if path.is_file() and "__pycache__" not in path.relative_to(folder).parts:
            digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())


def _up_to_date(out: Path, inputs: str, *, validate: bool, strict: bool) -> BuildSummary | None:
    """Return the summary of the build ``out`` if it was made from ``inputs``, else None.

    A build made without the SHACL check does not count when the check is asked for, nor one
    that skipped a document when ``strict`` asks for none to be (the build then fails as it
    should). A ``build.json`` that is not what a build writes counts as no build.
    """
    try:
        data = read_summary(out)
    except MlkgError:
        return None
    if not isinstance(data, dict) or data.get("inputs") != inputs:
        return None
    if validate and data.get("validated") is not True:
        return None
    if not (out / GRAPH_FILE).is_file() or not (out / STORE_DIR).is_dir():
        return None
    summary = _summary_from_json(data)
    if summary is None:
        return None
    if strict and any(
        not str(s.get("reason", "")).startswith("read with a warning") for s in summary.skipped
    ):
        return None
    summary.out = str(out)
    summary.cached = len(summary.documents)
    summary.up_to_date = True
    return summary


def _summary_from_json(data: dict[str, Any]) -> BuildSummary | None:
    """Return the :class:`BuildSummary` a ``build.json`` holds, or None if it is not one."""
    known = {name for name in BuildSummary.__dataclass_fields__ if name != "up_to_date"}
    fields = {k: v for k, v in data.items() if k in known}
    lists = ("documents", "skipped", "duplicates")
    counts = ("entities", "facts")
    if not all(
        isinstance(fields.get(name), list) and all(isinstance(x, dict) for x in fields[name])
        for name in lists
    ) or not all(
        isinstance(fields.get(name), dict)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in fields[name].values())
        for name in counts
    ):
        return None
    if not all(isinstance(fields.get(name), int) for name in ("salaries", "triples")):
        return None
    if not isinstance(fields.get("validated", False), bool) or not all(
        isinstance(fields.get(name, ""), str) for name in ("graph_digest", "inputs")
    ):
        return None
    try:
        return BuildSummary(**fields)
    except TypeError:
        return None


def _validate(
    data: bytes,
    digest: str,
    index: GraphIndex | None,
    previous: CheckedGraph | None,
    state_file: Path | None,
    jobs: int,
    progress: ProgressCallback | None = None,
) -> None:
    """Check the graph (N-Triples ``data``) against the SHACL shapes.

    With the state of the last graph that passed (``previous``), only what changed since is
    checked (:func:`mlkg.validate.validate_changes`), so a rebuild after one changed document does
    not pay for SHACL over the whole graph. Raises :class:`ValidationError` with the report when
    the graph fails; the state of the last passed graph is then kept. Otherwise the new state,
    with the ``digest`` of the graph, goes to ``state_file``.
    """
    from mlkg.validate import validate_changes

    report, state = validate_changes(
        data,
        previous,
        jobs=jobs,
        progress=(lambda done, total: progress(done, total, "checking shapes"))
        if progress
        else None,
        index=index,
    )
    if not report.conforms:
        raise ValidationError(
            "the built graph breaks the SHACL shapes; nothing was written:\n" + report.summary()
        )
    state.digest = digest
    _save_pickle(state_file, state)


def _load_pickle(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        return None


def _save_pickle(path: Path | None, value: Any) -> None:
    """Write ``value`` to ``path`` atomically; a cache that cannot be written only costs time."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(f".tmp-{os.getpid()}")
        with temp.open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, path)
    except OSError:
        pass


def _fill_summary(
    summary: BuildSummary,
    contents: GraphContents,
    documents: list[Document],
    extractions: list[Extraction],
) -> None:
    summary.entities = dict(sorted(contents.entities.items()))
    summary.facts = {
        name: count for name, count in sorted(contents.relations.items()) if name in RELATIONS
    }
    summary.salaries = sum(len(e.salaries) for e in extractions)
    summary.triples = contents.triples
    summary.documents = []
    for document, extraction in zip(documents, extractions, strict=True):
        role = extraction.primary_role or ""
        summary.documents.append(
            {
                "id": document.id,
                "file": document.file_name,
                "title": document.title,
                "primary_role": contents.labels.get(role, ""),
            }
        )


def read_summary(build_dir: Path | str | None) -> dict[str, Any]:
    """Return the summary (``build.json``) of an existing build."""
    from mlkg.store import resolve_build_dir

    path = resolve_build_dir(build_dir) / SUMMARY_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildError(f"cannot read the build summary {path}: {exc}") from exc
    return data
