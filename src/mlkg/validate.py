"""Check a graph against the SHACL shapes (``ontology/shapes.ttl``).

Returns a report; never prints. The build refuses to write a graph that does not conform.

The shapes run in shifty (``pyshifty``), a SHACL engine written in Rust that supports SHACL Core
and SHACL-SPARQL. On the seed graph (9,700 triples) pySHACL took about 1 s and rudof about
0.25 s (ADR 0004); on 106,000 triples shifty takes about 0.4x rudof's time and a quarter of its
memory (ADR 0005). pySHACL stays in the test suite as the reference engine: the tests check that
both engines agree on every broken fixture.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from mlkg.errors import MlkgError
from mlkg.resources import ontology_dir

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator
    from concurrent.futures import Executor, Future
    from pathlib import Path

    from rdflib import Graph


@dataclass(frozen=True)
class Violation:
    """One SHACL result: the node, the path, and the shape's message."""

    focus: str
    path: str
    message: str
    severity: str


@dataclass(frozen=True)
class ValidationReport:
    """Whether a graph conforms, and every violation found."""

    conforms: bool
    violations: list[Violation] = field(default_factory=list)

    def summary(self, limit: int = 10) -> str:
        """Return the violations as text, at most ``limit`` of them."""
        lines = [f"{v.severity}: {v.focus} {v.path}: {v.message}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"... and {len(self.violations) - limit} more")
        return "\n".join(lines)


def shapes_file() -> Path:
    """Return the path of the SHACL shapes every build is checked against."""
    return ontology_dir() / "shapes.ttl"


def engine_version() -> str:
    """Return the name and version of the SHACL engine, e.g. ``"pyshifty 0.5.1"``."""
    import shifty

    return f"pyshifty {shifty.version()}"


def validate_data(
    data: bytes | str,
    rdf_format: str = "ntriples",
    *,
    shapes: str | None = None,
    focus: Collection[str] | None = None,
) -> ValidationReport:
    """Return the SHACL validation report of serialised RDF ``data``.

    ``rdf_format`` is ``"ntriples"`` (what the build hands over) or ``"turtle"``; ``shapes`` is
    a shapes graph in Turtle, by default mlkg's (:func:`shapes_file`). With ``focus``, results
    about other nodes of mlkg's instance namespace are left out (a chunk of a graph checked in
    parts: see :func:`validate_changes`); ``conforms`` then says whether any result is left.

    Examples
    --------
    >>> validate_data(b"").conforms
    True
    """
    import shifty

    if rdf_format not in ("ntriples", "turtle"):
        raise MlkgError(f"unknown RDF format {rdf_format!r}: use 'ntriples' or 'turtle'")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw.strip():
        return ValidationReport(True)  # no node, so no focus node
    shapes_text = shapes if shapes is not None else shapes_file().read_text(encoding="utf-8")
    try:
        # N-Triples is a subset of Turtle, so both formats are read as Turtle. Bytes, because
        # shifty takes a short str for a file name. No SHACL-AF rules (infer), and a constraint
        # shifty cannot run is an error rather than silently passed.
        result = shifty.validate_algebra(
            raw,
            shapes_text.encode("utf-8"),
            graph_mode="data",
            infer=False,
            on_unsupported="error",
        )
    except Exception as exc:  # shifty raises ValueError, RuntimeError or its own types
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MlkgError(f"SHACL validation could not run: {detail}") from exc
    prefixes = _prefixes(shapes_text)
    entries = result.violations
    if focus is not None:  # dropped before they are read: a chunk may have thousands of them
        entries = [e for e in entries if _kept(_bare(e.focus_node), focus)]
    violations = sorted(
        {v for entry in entries for v in _violations_of(entry, prefixes)},
        key=lambda v: (v.severity, v.focus, v.path, v.message),
    )
    conforms = not violations if focus is not None else bool(result.conforms)
    return ValidationReport(conforms, violations)


def _kept(node: str, focus: Collection[str]) -> bool:
    """True when a result about ``node`` counts in a check of the nodes ``focus``."""
    return node in focus or not node.startswith(_INSTANCE)


def _violations_of(entry: Any, prefixes: dict[str, str]) -> list[Violation]:
    """Return one :class:`Violation` per reason of a shifty result about one focus node."""
    focus = _bare(entry.focus_node)
    default = str(entry.severity or "Violation")
    if not entry.reasons:
        return [Violation(focus, "", "SHACL constraint violated", default.rsplit("#", 1)[-1])]
    return [
        Violation(
            focus=focus,
            path=_expand(reason.path, prefixes),
            message=_bare_iris(reason.author_message or reason.message)
            or "SHACL constraint violated",
            severity=str(reason.severity or default).rsplit("#", 1)[-1],
        )
        for reason in entry.reasons
    ]


def _bare(term: str | None) -> str:
    """Return an IRI without the angle brackets shifty writes around it."""
    if not term:
        return ""
    return term[1:-1] if term.startswith("<") and term.endswith(">") else term


def _bare_iris(message: str | None) -> str:
    """Return ``message`` with ``<iri>`` written as ``iri`` (as pySHACL and rudof word it)."""
    return _BRACKETED_IRI.sub(r"\1", message or "")


_BRACKETED_IRI = re.compile(r"<([a-z][a-z0-9+.-]*:[^<>\s]*)>")


def _expand(path: str | None, prefixes: dict[str, str]) -> str:
    """Return a path shifty writes as a prefixed name (``mlkg:mentionedIn``) as a full IRI."""
    if not path:
        return ""
    bare = _bare(path)
    if bare != path:
        return bare
    prefix, colon, local = path.partition(":")
    if colon and prefix in prefixes:
        return prefixes[prefix] + local
    return path


@lru_cache(maxsize=8)
def _prefixes(shapes: str) -> dict[str, str]:
    """Return the ``@prefix`` / ``PREFIX`` declarations of a Turtle shapes graph."""
    return {
        match["name"]: match["iri"]
        for match in re.finditer(
            r"(?im)^\s*@?prefix\s+(?P<name>[A-Za-z0-9_.-]*):\s*<(?P<iri>[^>]*)>", shapes
        )
    }


def validate_graph(graph: Graph) -> ValidationReport:
    """Return the SHACL validation report of an rdflib ``graph`` against mlkg's shapes."""
    from mlkg.graph import ntriples, rows_of

    report, _ = validate_changes(ntriples(rows_of(graph)), None)
    return report


def validate_build(graph_dir: Path | str | None = None) -> ValidationReport:
    """Return the SHACL validation report of a build: the triples its store serves."""
    import pyoxigraph

    from mlkg.store import open_store

    store = open_store(graph_dir)
    try:
        data = store.dump(
            format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=pyoxigraph.DefaultGraph()
        )
    except (OSError, RuntimeError, ValueError) as exc:
        raise MlkgError(f"cannot read the store of {graph_dir or 'data/build'}: {exc}") from exc
    report, _ = validate_changes(data or b"", None)  # in chunks: one subject's triples are together
    return report


def validate_remote(store_url: str) -> ValidationReport:
    """Return the SHACL validation report of the graph a SPARQL server holds (``--store``).

    Every triple is read over the protocol (``mlkg.remote``), then checked like a build.
    """
    from mlkg.remote import open_remote

    return validate_graph(open_remote(store_url))


_TYPE = b"> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "


@dataclass
class CheckedGraph:
    """What a passed check leaves for the next one: a digest of each node's triples and types.

    ``salt`` names the shapes, ontology and engine the check ran with; a state with another salt
    is ignored.
    """

    salt: str
    nodes: dict[str, bytes] = field(default_factory=dict)
    types: dict[str, bytes] = field(default_factory=dict)
    #: digest of the whole graph (its N-Triples), set by the build (:func:`graph_digest`)
    digest: str = ""


@dataclass(frozen=True)
class GraphIndex:
    """Sorted N-Triples by subject: where each subject's triples are, and digests of them.

    The triples stay in ``data``, the graph's one copy (a list of its lines would take about as
    much memory again); ``spans`` gives each subject's lines as a byte range of it.
    """

    data: bytes
    spans: dict[str, tuple[int, int]]
    nodes: dict[str, bytes]
    types: dict[str, bytes]
    #: each typed subject's ``rdf:type`` lines
    type_lines: dict[str, bytes]

    def triples_of(self, node: str) -> bytes:
        """Return the N-Triples lines of subject ``node``."""
        start, end = self.spans[node]
        return self.data[start:end]


#: Lines checked in one call of the engine. shifty's time per triple does not grow with the
#: graph, but its memory does (about 2.5 GB at 1M triples), and every chunk also loads the types
#: of the nodes it points at, whose own results are then dropped (20,000-line chunks took 36 s
#: at 970,000 triples, one call 20 s, 500,000-line chunks 21.5 s). So a cold check runs in a few
#: large calls, on ``jobs`` processes, and a small incremental one in a single call.
CHUNK_LINES = 500_000


def validation_salt() -> str:
    """Return a digest of what a verdict depends on besides the data: shapes, ontology, engine."""
    import hashlib

    digest = hashlib.sha256(shapes_file().read_bytes())
    digest.update((ontology_dir() / "mlkg.ttl").read_bytes())
    digest.update(engine_version().encode())
    return digest.hexdigest()


def validate_changes(
    data: bytes,
    previous: CheckedGraph | None,
    *,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    index: GraphIndex | None = None,
) -> tuple[ValidationReport, CheckedGraph]:
    """Check N-Triples ``data`` (sorted, as :func:`mlkg.graph.ntriples` writes it).

    Returns the report and the state to pass next time. With a usable ``previous`` state, only
    the nodes whose triples changed, and the nodes pointing at a node whose ``rdf:type`` changed,
    are checked; without one, every node. Nodes are checked in chunks of about
    :data:`CHUNK_LINES` triples (on ``jobs`` processes), each node with its own triples, the
    types of the nodes it points at and the class axioms. That gives the verdict of one check of
    the whole graph because every mlkg shape looks at most one step from its focus node (its own
    values, and the types of the nodes it points at); ``tests/test_validate.py`` keeps the
    shapes that way. Results about a loaded neighbour are dropped (its own triples are not all
    there); those of the SPARQL constraints, which read each instance's own triples, are kept.
    ``progress(done, total)`` is called after each chunk; ``index`` is ``index_graph(data)``
    when the caller has it already.
    """
    indexed = index if index is not None else index_graph(data)
    salt = validation_salt()
    state = CheckedGraph(salt, indexed.nodes, indexed.types)
    schema = {node for node in indexed.spans if node.startswith(_SCHEMA)}
    if previous is None or previous.salt != salt:
        focus = set(indexed.spans) - schema
    elif any(
        previous.nodes.get(node) != indexed.nodes.get(node)
        for node in schema | {n for n in previous.nodes if n.startswith(_SCHEMA)}
    ):
        focus = set(indexed.spans) - schema  # class axioms changed: every sh:class may differ
    else:
        focus = _changed(indexed, previous)
    if not focus:
        return ValidationReport(True), state
    plan = _chunk_plan(indexed, sorted(focus))
    axioms = b"".join(indexed.triples_of(node) for node in sorted(schema))
    # Each chunk's data is made when it is sent, so at most a few chunks are in memory at once.
    chunks = ((_chunk_data(indexed, nodes, axioms), frozenset(nodes)) for nodes in plan)
    if jobs > 1 and len(plan) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Fresh interpreters, not forks of this process: it may hold gigabytes of graph.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            reports = _counted(
                _map_few_at_a_time(pool, _check_chunk, chunks, jobs + 1), len(plan), progress
            )
    else:
        reports = _counted(map(_check_chunk, chunks), len(plan), progress)
    kept = {v for report in reports for v in report.violations}
    violations = sorted(kept, key=lambda v: (v.severity, v.focus, v.path, v.message))
    return ValidationReport(not violations, violations), state


def _check_chunk(chunk: tuple[bytes, frozenset[str]]) -> ValidationReport:
    """Return the report of one chunk (data, the nodes it checks) without its neighbours' results.

    Results about a loaded neighbour are dropped: its own triples are not all there.
    """
    data, nodes = chunk
    return validate_data(data, focus=nodes)


def _counted(
    reports: Iterable[ValidationReport], total: int, progress: Callable[[int, int], None] | None
) -> list[ValidationReport]:
    """Return ``reports`` as a list, calling ``progress(done, total)`` as each one arrives."""
    done: list[ValidationReport] = []
    for report in reports:
        done.append(report)
        if progress is not None:
            progress(len(done), total)
    return done


_T = TypeVar("_T")


def _map_few_at_a_time(
    pool: Executor, func: Callable[[_T], ValidationReport], items: Iterable[_T], window: int
) -> Iterator[ValidationReport]:
    """Yield ``func(item)`` for each of ``items``, in order, with at most ``window`` submitted
    and unanswered at a time (``Executor.map`` would take every item at once)."""
    pending: deque[Future[ValidationReport]] = deque()
    for item in items:
        pending.append(pool.submit(func, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _changed(indexed: GraphIndex, previous: CheckedGraph) -> set[str]:
    """Return the nodes whose verdict may differ from the previous check's."""
    focus = {node for node in changed_subjects(indexed, previous) if node in indexed.nodes}
    # Nodes pointing at a node whose types changed or went away. A node typed for the first time
    # needs no scan: an unchanged node pointing at it only gains a type on a neighbour, and the
    # shapes only ever ask a neighbour for a type (sh:class), never for its absence.
    retyped = {node for node, digest in previous.types.items() if indexed.types.get(node) != digest}
    if retyped:
        focus.update(_pointing_at(indexed, retyped))
    return focus


def _pointing_at(indexed: GraphIndex, targets: set[str]) -> set[str]:
    """Return the subjects with a triple whose object is one of the IRIs ``targets``.

    The lines are found in the bytes (an N-Triples line ending `` <iri> .`` has that IRI as its
    object: a literal ends with a quote, a language or a datatype), then mapped to the subject
    whose span holds them. A few targets go into one regex (at 1M triples about 0.1 s, against
    about 1 s for a search per target); many are looked up in a scan of every IRI object.
    """
    from bisect import bisect_right

    subjects = sorted(indexed.spans, key=lambda node: indexed.spans[node][0])
    starts = [indexed.spans[node][0] for node in subjects]
    data = indexed.data
    if len(targets) <= _FEW_TARGETS:
        names = b"|".join(re.escape(t.encode("utf-8")) for t in sorted(targets))
        lines = re.compile(rb" <(?:" + names + rb")> \.(?:\n|\Z)").finditer(data)
    else:
        wanted = {t.encode("utf-8") for t in targets}
        lines = (m for m in _IRI_OBJECT.finditer(data) if m.group(1) in wanted)
    return {subjects[bisect_right(starts, line.start()) - 1] for line in lines}


_FEW_TARGETS = 32


def _chunk_plan(indexed: GraphIndex, focus: list[str]) -> list[list[str]]:
    """Return ``focus`` cut in runs of nodes holding about :data:`CHUNK_LINES` triples each."""
    plan: list[list[str]] = []
    nodes: list[str] = []
    lines = 0
    data = indexed.data
    for node in focus:
        start, end = indexed.spans[node]
        nodes.append(node)
        lines += data.count(b"\n", start, end)
        if lines >= CHUNK_LINES:
            plan.append(nodes)
            nodes, lines = [], 0
    if nodes:
        plan.append(nodes)
    return plan


def _chunk_data(indexed: GraphIndex, nodes: list[str], axioms: bytes) -> bytes:
    """Return what checks ``nodes``: the class axioms, their triples and their neighbours' types."""
    own = b"".join(indexed.triples_of(node) for node in nodes)
    neighbours = {iri.decode("utf-8") for iri in _IRI_OBJECT.findall(own)}
    extra = [indexed.type_lines.get(other, b"") for other in sorted(neighbours.difference(nodes))]
    return b"".join([axioms, own, *extra])


_INSTANCE = "https://w3id.org/mlkg/id/"
_SCHEMA = "https://w3id.org/mlkg/ontology#"


# The IRI object of an N-Triples line as the build writes it (``<s> <p> <o> .``); a literal
# object starts with a quote, so its lines do not match.
_IRI_OBJECT = re.compile(rb"^\S+ <[^>]*> <([^>]*)> \.$", re.MULTILINE)


def graph_digest(data: bytes) -> str:
    """Return a digest of a whole graph's sorted N-Triples (the build's identity of a graph)."""
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def changed_subjects(index: GraphIndex, previous: CheckedGraph) -> set[str]:
    """Return the subjects whose triples differ from ``previous``: changed, new or gone."""
    changed = {node for node, digest in index.nodes.items() if previous.nodes.get(node) != digest}
    changed.update(node for node in previous.nodes if node not in index.nodes)
    return changed


def index_graph(data: bytes) -> GraphIndex:
    """Return sorted N-Triples ``data`` indexed by subject, with digests.

    Raises :class:`~mlkg.errors.MlkgError` when a line does not start with a subject.
    """
    import hashlib

    view = memoryview(data)
    spans: dict[str, tuple[int, int]] = {}
    nodes: dict[str, bytes] = {}
    types: dict[str, bytes] = {}
    type_lines: dict[str, bytes] = {}
    match = _SUBJECT_LINES.match
    startswith = data.startswith
    find = data.find
    offset = 0
    total = len(data)
    while offset < total:
        found = match(data, offset)  # one subject's lines, at C speed (no list of lines)
        if found is None:
            raise MlkgError(f"cannot index the graph: no subject at byte {offset}")
        stop = found.end()
        bracketed = found.group(1)
        subject = (bracketed[1:-1] if bracketed[0] == 0x3C else bracketed).decode("utf-8")  # <
        spans[subject] = (offset, stop)
        nodes[subject] = hashlib.blake2b(view[offset:stop], digest_size=16).digest()
        # the rdf:type lines follow each other (lines are sorted): the first one, then the run
        head = bracketed + _TYPE[1:]
        if startswith(head, offset):
            first = offset
        else:
            newline = find(b"\n" + head, offset, stop)
            first = newline + 1 if newline >= 0 else -1
        if first >= 0:
            end = first
            while end < stop and startswith(head, end):
                end = find(b"\n", end, stop) + 1 or stop
            typed = data[first:end]
            types[subject] = hashlib.blake2b(typed, digest_size=16).digest()
            type_lines[subject] = typed
        offset = stop
    return GraphIndex(data, spans, nodes, types, type_lines)


# The lines of one subject (an IRI or a blank node) in sorted N-Triples: the first, and those
# after it with the same subject.
_SUBJECT_LINES = re.compile(rb"(<[^>\n]*>|_:[^\s]+) [^\n]*(?:\n|\Z)(?:\1 [^\n]*(?:\n|\Z))*")
