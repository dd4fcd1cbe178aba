"""Career routes: a NetworkX view of the roles in the RDF graph, shortest routes, skill gaps.

The view is built from the RDF graph with the SPARQL queries ``mlkg/sparql/paths-*.rq`` (never
from extraction objects). Its nodes are roles (node id = the role's IRI); its edges are

- **ladder** edges, one per ``mlkg:progressesTo`` triple between two roles, carrying the evidence
  sentences and documents of the reified fact;
- optionally **lateral** edges (``inferred=True``, both directions) between roles whose
  requirements (skills, tools and degrees) overlap: Jaccard similarity at least ``threshold``
  and at least :data:`LATERAL_MIN_SHARED` requirements in common.

Every edge has an integer ``cost`` (see :func:`step_cost`), used by weighted routes::

    cost(A -> B) = 1 + |R(B) - R(A)| + STAGE_JUMP_WEIGHT * max(0, |rank(B) - rank(A)| - 1)

where ``R`` is the set of skills, tools and degrees a role requires and ``rank`` the position of
the role's career stage on the stage ladder written in the graph (0 when unknown). Unweighted
routes count steps. Among routes of equal cost, the one whose sequence of labels sorts first wins,
so answers never depend on dictionary order.

networkx is imported lazily, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import statistics
import threading
import time
import unicodedata
import weakref
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from mlkg.errors import AmbiguousRoleError, MlkgError, NoRouteError, RoleNotFoundError

if TYPE_CHECKING:
    import networkx as nx
    import pyoxigraph
    from rdflib import Graph

    #: What the functions here read: an rdflib graph (a build opened with
    #: :func:`mlkg.store.open_graph`, a remote store, any rdflib graph) or a build's Oxigraph
    #: store itself (:func:`mlkg.store.open_store`), which spares importing rdflib.
    GraphSource = Graph | pyoxigraph.Store

__all__ = [
    "DEFAULT_THRESHOLD",
    "LATERAL_MIN_SHARED",
    "REQUIREMENT_KINDS",
    "STAGE_JUMP_WEIGHT",
    "Evidence",
    "Gap",
    "NextRole",
    "PathOptionError",
    "Route",
    "Salary",
    "SalaryChange",
    "Step",
    "bench_route_latency",
    "build_cache_key",
    "clear_cache",
    "jaccard",
    "load_view",
    "next_roles",
    "resolve_role",
    "shortest_route",
    "skill_gap",
    "step_cost",
    "synthetic_turtle",
]

#: Default Jaccard similarity (over skills, tools, degrees) for a lateral edge.
DEFAULT_THRESHOLD = 0.3
#: A lateral edge also needs at least this many shared requirements (one shared tool is not enough).
LATERAL_MIN_SHARED = 2
#: Extra cost per career stage skipped by one step.
STAGE_JUMP_WEIGHT = 2
#: How many routes beyond ``k`` are examined to break ties between k-best routes by label.
_TIE_WINDOW = 32

#: The requirement groups that count for gaps, costs and lateral edges.
REQUIREMENT_KINDS = ("skills", "tools", "degrees")
_PROPERTY_KIND = {
    "requiresSkill": "skills",
    "usesTool": "tools",
    "requiresDegree": "degrees",
    "publishesAt": "venues",
    "atStage": "stages",
}
# Most specific class first: an entity typed both Tool and ProgrammingLanguage is a language.
_CLASS_ORDER = (
    "ProgrammingLanguage",
    "TechnicalSkill",
    "SoftSkill",
    "Tool",
    "Skill",
    "Degree",
    "Venue",
    "CareerStage",
)
_DEFAULT_CLASS = {"skills": "Skill", "tools": "Tool", "degrees": "Degree"}

_SPARQL_DIR = Path(__file__).resolve().parent / "sparql"


class PathOptionError(MlkgError):
    """An option of a route query is out of range (``k`` below 1, threshold outside (0, 1])."""


# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One sentence stating a ladder step, and the document it was quoted from."""

    sentence: str
    document: str | None = None
    document_id: str | None = None
    title: str | None = None
    file: str | None = None
    section: str | None = None
    start: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the evidence as a JSON-ready dict."""
        return {
            "sentence": self.sentence,
            "document": self.document_id,
            "title": self.title,
            "file": self.file,
            "section": self.section,
            "start": self.start,
        }


@dataclass(frozen=True)
class Salary:
    """A role's salary range in one currency (min of minValue, max of maxValue)."""

    currency: str
    min: int | None
    max: int | None

    def to_dict(self) -> dict[str, Any]:
        """Return the range as a JSON-ready dict."""
        return {"currency": self.currency, "min": self.min, "max": self.max}

    def __str__(self) -> str:
        low = f"{self.min:,}" if self.min is not None else "?"
        high = f"{self.max:,}" if self.max is not None else "?"
        return f"{self.currency} {low}–{high}"


@dataclass(frozen=True)
class SalaryChange:
    """The salary ranges at both ends of a step (same currency) and the change of each bound."""

    currency: str
    before: Salary
    after: Salary
    min_change: int | None
    max_change: int | None

    def to_dict(self) -> dict[str, Any]:
        """Return the change as a JSON-ready dict."""
        return {
            "currency": self.currency,
            "from": self.before.to_dict(),
            "to": self.after.to_dict(),
            "min_change": self.min_change,
            "max_change": self.max_change,
        }

    def __str__(self) -> str:
        def signed(value: int | None) -> str:
            return "?" if value is None else f"{value:+,}"

        return (
            f"{self.before} → {self.after} "
            f"(min {signed(self.min_change)}, max {signed(self.max_change)})"
        )


@dataclass(frozen=True)
class Step:
    """One step of a route: the next role, what to gain, the salary change and the evidence."""

    source: str
    target: str
    kind: str
    gain: Mapping[str, tuple[str, ...]]
    salary_change: SalaryChange | None
    evidence: tuple[Evidence, ...]
    cost: int
    similarity: float | None = None

    @property
    def inferred(self) -> bool:
        """Return True for a lateral step (inferred from shared requirements, not documented)."""
        return self.kind == "lateral"

    def to_dict(self) -> dict[str, Any]:
        """Return the step as a JSON-ready dict."""
        return {
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
            "inferred": self.inferred,
            "gain": {kind: list(labels) for kind, labels in self.gain.items()},
            "salary_change": self.salary_change.to_dict() if self.salary_change else None,
            "evidence": [item.to_dict() for item in self.evidence],
            "similarity": self.similarity,
            "cost": self.cost,
        }


@dataclass(frozen=True)
class Route:
    """A route from one role to another; ``cost`` is steps (unweighted) or summed step costs;
    ``nodes`` holds the role IRIs along ``path``."""

    source: str
    target: str
    path: tuple[str, ...]
    steps: tuple[Step, ...]
    cost: int
    weighted: bool = False
    nodes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the route in the documented JSON shape (``from, to, path, steps, cost``)."""
        return {
            "from": self.source,
            "to": self.target,
            "path": list(self.path),
            "steps": [step.to_dict() for step in self.steps],
            "cost": self.cost,
            "weighted": self.weighted,
            "iris": list(self.nodes),
        }


@dataclass(frozen=True)
class Gap:
    """What role ``target`` requires that ``source`` lacks, what they share, and what only
    ``source`` has; each grouped by class (``TechnicalSkill``, ``SoftSkill``, ``Tool``,
    ``ProgrammingLanguage``, ``Degree``)."""

    source: str
    target: str
    missing: Mapping[str, tuple[str, ...]]
    shared: Mapping[str, tuple[str, ...]]
    extra: Mapping[str, tuple[str, ...]]
    salary_change: SalaryChange | None = None

    @property
    def size(self) -> int:
        """Return how many requirements of the target the source lacks."""
        return sum(len(labels) for labels in self.missing.values())

    def to_dict(self) -> dict[str, Any]:
        """Return the gap as a JSON-ready dict."""
        return {
            "from": self.source,
            "to": self.target,
            "missing": {name: list(labels) for name, labels in self.missing.items()},
            "shared": {name: list(labels) for name, labels in self.shared.items()},
            "extra": {name: list(labels) for name, labels in self.extra.items()},
            "size": self.size,
            "salary_change": self.salary_change.to_dict() if self.salary_change else None,
        }


@dataclass(frozen=True)
class NextRole:
    """A role one step away, with the step that leads there; ``rank`` starts at 1."""

    rank: int
    label: str
    iri: str
    step: Step

    def to_dict(self) -> dict[str, Any]:
        """Return the next role as a JSON-ready dict."""
        return {"rank": self.rank, "role": self.label, "iri": self.iri, **self.step.to_dict()}


# --------------------------------------------------------------------------------------------
# loading the view
# --------------------------------------------------------------------------------------------


@cache
def _query_text(name: str) -> str:
    """Return the text of ``mlkg/sparql/{name}.rq``."""
    return (_SPARQL_DIR / f"{name}.rq").read_text(encoding="utf-8")


def _rows(graph: GraphSource, name: str) -> Iterator[dict[str, Any]]:
    """Yield the rows of a named query as dicts of Python values (IRIs as str; unbound: None).

    On a pyoxigraph store, or an Oxigraph-backed graph of the default graph (what
    :mod:`mlkg.store` opens), the query runs on pyoxigraph directly: converting every term to
    rdflib first costs more than the query.
    """
    text = _query_text(name)
    inner = _oxigraph_store(graph)
    if inner is not None:
        solutions = inner.query(text)
        names = [variable.value for variable in solutions.variables]
        for solution in solutions:
            yield dict(zip(names, map(_from_oxigraph, solution), strict=True))
        return

    from rdflib import Literal

    rdf_graph = cast("Graph", graph)  # not a store: _oxigraph_store returned those
    result = rdf_graph.query(text)
    names = [str(var) for var in (result.vars or [])]
    for row in result:
        values: dict[str, Any] = {}
        for var in names:
            term = row[var]  # type: ignore[index]
            if term is None:
                values[var] = None
            elif isinstance(term, Literal):
                values[var] = term.toPython()
            else:  # an IRI (or a blank node)
                values[var] = str(term)
        yield values


def _oxigraph_store(graph: GraphSource) -> Any:
    """Return ``graph`` if it is a pyoxigraph store, or the store behind an rdflib ``graph``
    that reads that store's default graph; else None."""
    import pyoxigraph

    if isinstance(graph, pyoxigraph.Store):
        return graph
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    inner = getattr(graph.store, "_inner", None)
    if isinstance(inner, pyoxigraph.Store) and graph.identifier == DATASET_DEFAULT_GRAPH_ID:
        return inner
    return None


_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = {
    _XSD + name
    for name in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte", "negativeInteger",
        "nonPositiveInteger",
    )
}  # fmt: skip
_FLOAT_TYPES = {_XSD + "decimal", _XSD + "double", _XSD + "float"}


def _from_oxigraph(term: Any) -> Any:
    """Return a pyoxigraph term as a Python value: IRIs as str, numbers as int/float."""
    if term is None:
        return None
    datatype = getattr(term, "datatype", None)
    if datatype is None:  # a NamedNode or BlankNode
        return str(term.value)
    value = str(term.value)
    try:
        if datatype.value in _INTEGER_TYPES:
            return int(value)
        if datatype.value in _FLOAT_TYPES:
            return float(value)
    except ValueError:
        return value
    return value


def _local_name(iri: str) -> str:
    """Return the part of an IRI after its last ``#`` or ``/``."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _clean(text: str) -> str:
    """Return ``text`` without control or bidi-override characters, with whitespace collapsed."""
    if text.isprintable():  # the common case; format characters (bidi overrides) are not
        return " ".join(text.split())
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf"} or ch == " ")
    return " ".join(kept.split())


def _norm(name: str) -> str:
    """Return the lookup key of a role name: case-folded, NFKC, whitespace collapsed."""
    return _clean(unicodedata.normalize("NFKC", name)).casefold()


def _as_int(value: Any) -> int | None:
    """Return ``value`` as an int if it is a finite number, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return round(number)


def _salary_range(rows: list[dict[str, Any]]) -> Salary | None:
    """Return a role's salary range from its salary rows: the best-attested currency,
    min of minValue and max of maxValue (a median or average stands in where both are missing)."""
    by_currency: dict[str, dict[str, dict[str, set[int]]]] = defaultdict(
        lambda: defaultdict(lambda: {"min": set(), "max": set(), "mid": set()})
    )
    for row in rows:
        currency = _clean(str(row["currency"])) if row["currency"] is not None else "?"
        bucket = by_currency[currency][row["salary"]]
        for key, column in (("min", "min"), ("max", "max"), ("mid", "median"), ("mid", "average")):
            value = _as_int(row[column])
            if value is not None and value >= 0:
                bucket[key].add(value)
    best: Salary | None = None
    best_count = 0
    for currency in sorted(by_currency):
        lows: list[int] = []
        highs: list[int] = []
        for values in by_currency[currency].values():
            lows.extend(values["min"] or values["mid"])
            highs.extend(values["max"] or values["mid"])
        if not lows and not highs:
            continue
        count = len(by_currency[currency])
        if count > best_count:
            best_count = count
            best = Salary(currency, min(lows) if lows else None, max(highs) if highs else None)
    return best


def _stage_ranks(graph: GraphSource) -> dict[str, int]:
    """Return each stage's position on the stage ladder: the longest chain of stage steps
    leading to it (cycles broken by skipping the steps that would close them, in IRI order)."""
    import networkx as nx

    ladder = nx.DiGraph()
    for row in _rows(graph, "paths-stage-ladder"):
        source, target = row["from"], row["to"]
        if source == target:
            continue
        ladder.add_edge(source, target)
        if not nx.is_directed_acyclic_graph(ladder):
            ladder.remove_edge(source, target)
    ranks: dict[str, int] = {}
    for node in nx.topological_sort(ladder):
        ranks[node] = max((ranks[p] + 1 for p in ladder.predecessors(node)), default=0)
    return ranks


def step_cost(
    source_requirements: Iterable[str],
    target_requirements: Iterable[str],
    source_rank: int | None,
    target_rank: int | None,
) -> int:
    """Return the cost of one step: 1 + the skill gap + the stage-jump term.

    ``cost = 1 + |R(B) - R(A)| + STAGE_JUMP_WEIGHT * max(0, |rank(B) - rank(A)| - 1)``; the
    stage term is 0 when either rank is unknown. The result is a positive integer, so routes are
    finite, non-negative and never prefer a longer chain of free steps.

    Examples
    --------
    >>> step_cost({"python"}, {"python", "pytorch"}, 0, 1)
    2
    >>> step_cost(set(), {"a", "b"}, 0, 3)
    7
    """
    gap = len(set(target_requirements) - set(source_requirements))
    jump = 0
    if source_rank is not None and target_rank is not None:
        jump = max(0, abs(target_rank - source_rank) - 1)
    return 1 + gap + STAGE_JUMP_WEIGHT * jump


def _build_base(graph: GraphSource) -> nx.DiGraph:
    """Return the ladder-only view of ``graph`` (nodes with attributes, ladder edges)."""
    import networkx as nx

    nodes: dict[str, dict[str, Any]] = {}
    for row in _rows(graph, "paths-roles"):
        node = nodes.setdefault(row["role"], {"iri": row["role"], "pref": [], "altLabels": []})
        if row["label"] is None:
            continue
        label = _clean(str(row["label"]))
        if label:
            (node["pref"] if row["kind"] == "pref" else node["altLabels"]).append(label)

    entities: dict[str, tuple[str, str]] = {}
    attributes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    classes: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, set[str]] = defaultdict(set)
    for row in _rows(graph, "paths-role-attributes"):
        if row["role"] not in nodes:
            continue
        kind = _PROPERTY_KIND.get(_local_name(row["property"]))
        if kind is None:
            continue
        entity = row["entity"]
        attributes[row["role"]][kind].add(entity)
        if row["label"] is not None:
            labels[entity].add(_clean(str(row["label"])))
        if row["class"] is not None:
            classes[entity].add(_local_name(row["class"]))
        classes.setdefault(entity, set())
        entities.setdefault(entity, ("", kind))
    for entity, (_, kind) in list(entities.items()):
        label = min((text for text in labels[entity] if text), default="") or _local_name(entity)
        known = [name for name in _CLASS_ORDER if name in classes[entity]]
        entities[entity] = (label, known[0] if known else _DEFAULT_CLASS.get(kind, kind))

    salary_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(graph, "paths-role-salaries"):
        salary_rows[row["role"]].append(row)

    stage_rank = _stage_ranks(graph)

    view = nx.DiGraph()
    for iri in sorted(nodes, key=lambda item: (_node_label(nodes[item]), item)):
        data = nodes[iri]
        found = attributes.get(iri, {})
        stages = found.get("stages", set())
        ranks = [stage_rank[stage] for stage in stages if stage in stage_rank]
        requirements = frozenset(
            entity for kind in REQUIREMENT_KINDS for entity in found.get(kind, set())
        )

        def names(kind: str, found: Mapping[str, set[str]] = found) -> tuple[str, ...]:
            return tuple(sorted({entities[e][0] for e in found.get(kind, set())}, key=str.casefold))

        view.add_node(
            iri,
            iri=iri,
            label=_node_label(data),
            altLabels=tuple(
                sorted(set(data["altLabels"]) | set(sorted(data["pref"])[1:]), key=str.casefold)
            ),
            stages=names("stages"),
            stage_rank=min(ranks) if ranks else None,
            skills=names("skills"),
            tools=names("tools"),
            degrees=names("degrees"),
            venues=names("venues"),
            requirements=requirements,
            salary=_salary_range(salary_rows.get(iri, [])),
        )

    evidence: dict[tuple[str, str], dict[Any, Evidence]] = defaultdict(dict)
    years: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    pairs: set[tuple[str, str]] = set()
    for row in _rows(graph, "paths-ladder-edges"):
        pair = (row["from"], row["to"])
        if pair[0] == pair[1] or pair[0] not in view or pair[1] not in view:
            continue
        pairs.add(pair)
        if row["minYears"] is not None or row["maxYears"] is not None:
            years[pair] = (_as_int(row["minYears"]), _as_int(row["maxYears"]))
        if row["evidence"] is not None and row["sentence"] is not None:
            evidence[pair][row["evidence"]] = Evidence(
                sentence=_clean(str(row["sentence"])),
                document=row["document"],
                document_id=None if row["documentId"] is None else str(row["documentId"]),
                title=None if row["title"] is None else _clean(str(row["title"])),
                file=None if row["fileName"] is None else _clean(str(row["fileName"])),
                section=None if row["section"] is None else _clean(str(row["section"])),
                start=_as_int(row["start"]),
            )
    order = {node: index for index, node in enumerate(view)}
    for source, target in sorted(pairs, key=lambda pair: (order[pair[0]], order[pair[1]])):
        items = tuple(
            sorted(
                evidence[(source, target)].values(),
                key=lambda item: (item.file or "", item.start or 0, item.sentence),
            )
        )
        view.add_edge(
            source,
            target,
            kind="ladder",
            inferred=False,
            evidence=items,
            documents=tuple(sorted({item.document_id or "" for item in items} - {""})),
            years=years.get((source, target)),
            similarity=None,
            cost=_edge_cost(view, source, target),
        )

    index: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"pref": set(), "alt": set()})
    for node, data in view.nodes(data=True):
        index[_norm(data["label"])]["pref"].add(node)
        for alt in data["altLabels"]:
            index[_norm(alt)]["alt"].add(node)
    view.graph.update(
        mlkg_view=True,
        lateral=False,
        threshold=None,
        entities=entities,
        index=dict(index),
        stage_ranks=stage_rank,
    )
    return view


def _node_label(data: Mapping[str, Any]) -> str:
    """Return a role's display label: its first prefLabel, else the IRI's last segment."""
    pref = sorted(data["pref"])
    return pref[0] if pref else _local_name(data["iri"])


def _edge_cost(view: nx.DiGraph, source: str, target: str) -> int:
    """Return :func:`step_cost` for an edge of the view, checked to be a positive integer."""
    a, b = view.nodes[source], view.nodes[target]
    cost = step_cost(a["requirements"], b["requirements"], a["stage_rank"], b["stage_rank"])
    if not isinstance(cost, int) or cost < 1:  # pragma: no cover - guards the formula
        raise MlkgError(f"invalid cost {cost!r} for the step {a['label']} -> {b['label']}")
    return cost


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    """Return |A ∩ B| / |A ∪ B| (0.0 when both are empty).

    Examples
    --------
    >>> jaccard(frozenset("ab"), frozenset("bc"))
    0.3333333333333333
    """
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def _add_lateral(view: nx.DiGraph, threshold: float) -> None:
    """Add lateral edges (both directions) between roles whose requirements overlap enough."""
    holders: dict[str, list[str]] = defaultdict(list)
    for node, data in view.nodes(data=True):
        for item in data["requirements"]:
            holders[item].append(node)
    shared: dict[tuple[str, str], int] = defaultdict(int)
    order = {node: index for index, node in enumerate(view)}
    for nodes in holders.values():
        nodes.sort(key=order.__getitem__)
        for i, first in enumerate(nodes):
            for second in nodes[i + 1 :]:
                shared[(first, second)] += 1
    for (first, second), count in sorted(
        shared.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])
    ):
        if count < LATERAL_MIN_SHARED:
            continue
        a = view.nodes[first]["requirements"]
        b = view.nodes[second]["requirements"]
        similarity = count / (len(a) + len(b) - count)
        if similarity < threshold:
            continue
        for source, target in ((first, second), (second, first)):
            if view.has_edge(source, target):
                continue  # a documented step wins over an inferred one
            view.add_edge(
                source,
                target,
                kind="lateral",
                inferred=True,
                evidence=(),
                documents=(),
                years=None,
                similarity=round(similarity, 4),
                cost=_edge_cost(view, source, target),
            )


class _CacheEntry:
    """The views of one graph: the ladder-only base and lateral variants by threshold."""

    def __init__(self, owner: Any, base: nx.DiGraph) -> None:
        self.owner = owner
        self.base = base
        self.lateral: dict[float, nx.DiGraph] = {}


_CACHE: dict[Hashable, _CacheEntry] = {}
_BY_IDENTITY = object()  # first item of the cache keys of graphs cached by identity
#: How many views cached under an explicit ``cache_key`` are kept (the newest).
_MAX_KEYED = 8
_LOCK = threading.RLock()


def _check_threshold(threshold: float) -> float:
    value = float(threshold)
    if not (0.0 < value <= 1.0):
        raise PathOptionError(f"threshold must be in (0, 1], got {threshold!r}")
    return value


def build_cache_key(build_dir: Path | str) -> tuple[str, int, int]:
    """Return a cache key for the graph of a build folder: its ``mlkg.ttl`` path, mtime and size.

    Pass it as ``load_view(graph, cache_key=...)`` when a long-lived process (the server) opens the
    same build several times: the view is rebuilt only when the build changes.
    """
    from mlkg.store import GRAPH_FILE

    path = (Path(build_dir) / GRAPH_FILE).resolve()
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size)


def clear_cache() -> None:
    """Forget every cached view."""
    with _LOCK:
        _CACHE.clear()


def load_view(
    graph: GraphSource,
    *,
    lateral: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    cache_key: Hashable | None = None,
    refresh: bool = False,
) -> nx.DiGraph:
    """Return the role view of ``graph`` as a frozen :class:`networkx.DiGraph`.

    Nodes are role IRIs with attributes ``iri, label, altLabels, stages, stage_rank, skills,
    tools, degrees, venues`` (label tuples), ``requirements`` (IRIs of skills, tools, degrees)
    and ``salary`` (:class:`Salary` or None). Ladder edges carry ``kind="ladder",
    inferred=False, evidence, documents, years, cost``; with ``lateral=True`` lateral edges
    (``kind="lateral", inferred=True, similarity, cost``) join roles whose requirements overlap
    with Jaccard similarity >= ``threshold`` and at least :data:`LATERAL_MIN_SHARED` shared.

    The view is a snapshot, cached per graph object (or per ``cache_key``, e.g.
    :func:`build_cache_key`); pass ``refresh=True`` after changing the graph. A pyoxigraph
    store cannot be referenced weakly, so its view keeps it open while cached; such views and the
    views under a ``cache_key`` share one budget: only the newest :data:`_MAX_KEYED` are kept.

    Examples
    --------
    >>> view = load_view(open_graph("data/build"))  # doctest: +SKIP
    >>> view.nodes["https://w3id.org/mlkg/id/role/research-scientist"]["label"]  # doctest: +SKIP
    'Research Scientist'
    """
    import networkx as nx

    value = _check_threshold(threshold)
    key: Hashable = cache_key if cache_key is not None else (_BY_IDENTITY, id(graph))
    with _LOCK:
        entry = _CACHE.get(key)
        if entry is not None and cache_key is None and entry.owner() is not graph:
            entry = None  # the id was reused by a new graph object
        if entry is None or refresh:
            base = _build_base(graph)
            nx.freeze(base)
            _reverse(base)
            # a keyed entry must not keep its graph (and its open store) alive
            entry = _CacheEntry(_owner_of(graph) if cache_key is None else None, base)
            _CACHE.pop(key, None)
            _CACHE[key] = entry
            if isinstance(entry.owner, weakref.ref):
                weakref.finalize(graph, _forget, key, entry)
            else:
                held = [k for k, e in _CACHE.items() if not isinstance(e.owner, weakref.ref)]
                for old in held[:-_MAX_KEYED]:  # oldest first: a rebuilt build's stale views
                    del _CACHE[old]
        if not lateral:
            return entry.base
        view = entry.lateral.get(value)
        if view is None:
            view = nx.DiGraph(entry.base)
            view.graph.update(entry.base.graph, lateral=True, threshold=value)
            view.graph.pop("_reverse", None)
            _add_lateral(view, value)
            nx.freeze(view)
            _reverse(view)
            entry.lateral[value] = view
        return view


def _owner_of(graph: GraphSource) -> Callable[[], Any]:
    """Return a weak reference to ``graph``, or a strong one where it allows no weak one."""
    try:
        return weakref.ref(graph)
    except TypeError:  # a pyoxigraph.Store
        return lambda: graph


def _forget(key: Hashable, entry: _CacheEntry) -> None:
    """Drop a cache entry when its graph is garbage-collected (if it is still that entry)."""
    with _LOCK:
        if _CACHE.get(key) is entry:
            del _CACHE[key]


# --------------------------------------------------------------------------------------------
# naming roles
# --------------------------------------------------------------------------------------------


def _show(name: str) -> str:
    """Return ``name`` quoted for a one-line message, control characters escaped."""
    shown = "".join(
        ch if unicodedata.category(ch) not in {"Cc", "Cf"} else f"\\u{ord(ch):04x}" for ch in name
    )
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return f"'{shown}'"


def _labels_for(view: nx.DiGraph, nodes: Iterable[str]) -> list[str]:
    """Return display names of ``nodes``, adding the IRI's last segment where labels collide."""
    ordered = sorted(nodes, key=lambda node: (view.nodes[node]["label"].casefold(), node))
    counts: dict[str, int] = defaultdict(int)
    for node in ordered:
        counts[view.nodes[node]["label"].casefold()] += 1
    names = []
    for node in ordered:
        label = view.nodes[node]["label"]
        names.append(f"{label} ({_local_name(node)})" if counts[label.casefold()] > 1 else label)
    return names


def resolve_role(view: nx.DiGraph, name: str) -> str:
    """Return the node (role IRI) that ``name`` names in ``view``.

    ``name`` is a prefLabel or altLabel (case-insensitive, whitespace-insensitive) or the role's
    IRI. A prefLabel match wins over altLabel matches.

    Raises
    ------
    RoleNotFoundError
        No role has that name; ``suggestions`` (and the message) hold close labels.
    AmbiguousRoleError
        Several roles have that name; ``candidates`` (and the message) list them.
    """
    if name in view:
        return name
    key = _norm(name)
    entry = view.graph["index"].get(key) if key else None
    if entry:
        for found in (entry["pref"], entry["alt"]):
            if len(found) == 1:
                return next(iter(found))
            if len(found) > 1:
                candidates = _labels_for(view, found)
                raise AmbiguousRoleError(
                    f"role {_show(name)} is ambiguous: it names {', '.join(candidates)}; "
                    "use a more specific name",
                    candidates,
                )
    known: dict[str, str] = {}
    for label_key, found in view.graph["index"].items():
        for node in sorted(found["pref"] | found["alt"]):
            known.setdefault(label_key, view.nodes[node]["label"])
    close = difflib.get_close_matches(key, list(known), n=5, cutoff=0.6) if key else []
    suggestions = list(dict.fromkeys(known[match] for match in close))
    hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
    if not view.number_of_nodes():
        hint = "; the graph has no roles"
    raise RoleNotFoundError(f"unknown role {_show(name)}{hint}", suggestions)


# --------------------------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------------------------


def _gain(view: nx.DiGraph, source: str, target: str) -> dict[str, tuple[str, ...]]:
    """Return the labels of what ``target`` requires that ``source`` lacks, by requirement kind."""
    entities = view.graph["entities"]
    missing = view.nodes[target]["requirements"] - view.nodes[source]["requirements"]
    gain: dict[str, list[str]] = {kind: [] for kind in REQUIREMENT_KINDS}
    for entity in missing:
        label, _ = entities[entity]
        gain[_kind_of(view, target, entity)].append(label)
    return {kind: tuple(sorted(set(labels), key=str.casefold)) for kind, labels in gain.items()}


def _kind_of(view: nx.DiGraph, node: str, entity: str) -> str:
    """Return which requirement kind (skills, tools, degrees) ``entity`` is for ``node``."""
    name = view.graph["entities"][entity][1]
    if name in {"TechnicalSkill", "SoftSkill", "Skill"}:
        return "skills"
    if name in {"Tool", "ProgrammingLanguage"}:
        return "tools"
    if name == "Degree":
        return "degrees"
    return "skills"


def _salary_change(view: nx.DiGraph, source: str, target: str) -> SalaryChange | None:
    """Return the salary change of a step where both ends have a range in the same currency."""
    before = view.nodes[source]["salary"]
    after = view.nodes[target]["salary"]
    if before is None or after is None or before.currency != after.currency:
        return None

    def change(new: int | None, old: int | None) -> int | None:
        return None if new is None or old is None else new - old

    return SalaryChange(
        before.currency, before, after, change(after.min, before.min), change(after.max, before.max)
    )


def _step(view: nx.DiGraph, source: str, target: str) -> Step:
    data = view.edges[source, target]
    return Step(
        source=view.nodes[source]["label"],
        target=view.nodes[target]["label"],
        kind=data["kind"],
        gain=_gain(view, source, target),
        salary_change=_salary_change(view, source, target),
        evidence=data["evidence"],
        cost=data["cost"],
        similarity=data["similarity"],
    )


def _route(view: nx.DiGraph, nodes: list[str], weighted: bool) -> Route:
    steps = tuple(_step(view, a, b) for a, b in itertools.pairwise(nodes))
    cost = sum(step.cost for step in steps) if weighted else len(steps)
    return Route(
        source=view.nodes[nodes[0]]["label"],
        target=view.nodes[nodes[-1]]["label"],
        path=tuple(view.nodes[node]["label"] for node in nodes),
        steps=steps,
        cost=cost,
        weighted=weighted,
        nodes=tuple(nodes),
    )


def _weight(weighted: bool) -> Any:
    """Return the networkx weight for routes: the edge cost, or 1 per step."""
    if weighted:
        return "cost"
    return None


def _path_cost(view: nx.DiGraph, nodes: list[str], weighted: bool) -> int:
    if not weighted:
        return len(nodes) - 1
    return sum(view.edges[a, b]["cost"] for a, b in itertools.pairwise(nodes))


def _sort_key(view: nx.DiGraph, nodes: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((view.nodes[node]["label"].casefold(), node) for node in nodes)


def _reverse(view: nx.DiGraph) -> nx.DiGraph:
    """Return the reversed view, built once per (frozen) view: searches run backwards from the
    target, and a reversed copy walks faster than networkx's reverse_view."""
    import networkx as nx

    with _LOCK:
        reverse = view.graph.get("_reverse")
        if reverse is None:
            reverse = nx.DiGraph()
            reverse.add_nodes_from(view)
            reverse.add_edges_from((v, u, {"cost": d["cost"]}) for u, v, d in view.edges(data=True))
            nx.freeze(reverse)
            view.graph["_reverse"] = reverse
    return reverse


def _best_path(view: nx.DiGraph, source: str, target: str, weighted: bool) -> list[str] | None:
    """Return the cheapest path whose label sequence sorts first, or None if there is none.

    A bidirectional search finds the best cost; distances to ``target`` up to that cost come from
    BFS or Dijkstra on the reversed view; the path is then walked greedily from ``source``, always
    taking the tight edge to the alphabetically first role. Costs are positive integers, so the
    comparison is exact and the walk always ends at ``target``.
    """
    import networkx as nx

    reverse = _reverse(view)
    distance: Mapping[str, int]
    # A bidirectional search gives the best cost; distances are then needed only up to it.
    try:
        if weighted:
            limit, _ = nx.bidirectional_dijkstra(view, source, target, weight="cost")
            distance = nx.single_source_dijkstra_path_length(
                reverse, target, cutoff=limit, weight="cost"
            )
        else:
            limit = len(nx.bidirectional_shortest_path(view, source, target)) - 1
            distance = nx.single_source_shortest_path_length(reverse, target, cutoff=limit)
    except nx.NetworkXNoPath:
        return None
    if source not in distance:
        return None
    nodes = [source]
    current = source
    while current != target:
        best: tuple[tuple[str, str], str] | None = None
        for successor, data in view.adj[current].items():
            if successor not in distance:
                continue
            step = data["cost"] if weighted else 1
            if step + distance[successor] != distance[current]:
                continue
            key = (view.nodes[successor]["label"].casefold(), successor)
            if best is None or key < best[0]:
                best = (key, successor)
        if best is None:  # pragma: no cover - cannot happen with positive integer costs
            raise MlkgError("internal error: route walk lost its way")
        current = best[1]
        nodes.append(current)
    return nodes


def _no_route(view: nx.DiGraph, source: str, target: str, lateral: bool) -> NoRouteError:
    """Return the error for a missing route, naming the isolated side(s)."""
    edges = "edges" if lateral else "ladder edges"
    a = view.nodes[source]["label"]
    b = view.nodes[target]["label"]
    reasons = []
    if view.out_degree(source) == 0:
        reasons.append(f"{a} has no outgoing {edges}")
    if view.in_degree(target) == 0:
        reasons.append(f"{b} has no incoming {edges}")
    if not reasons:
        reasons.append(f"no chain of {edges} leads from {a} to {b}")
    hint = "" if lateral else " (try --lateral for inferred steps between similar roles)"
    return NoRouteError(f"no route from {a} to {b}: {'; '.join(reasons)}{hint}")


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise PathOptionError(f"k must be a positive integer, got {k!r}")
    return k


def shortest_route(
    graph: GraphSource,
    a: str,
    b: str,
    *,
    k: int = 1,
    lateral: bool = False,
    weighted: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Route]:
    """Return the best route (or the ``k`` best) from role ``a`` to role ``b``.

    Unweighted routes minimise the number of steps; weighted routes minimise the summed
    :func:`step_cost`. Ties are broken by the sequence of labels (alphabetical). With
    ``lateral=True`` inferred lateral steps may be used. ``a == b`` gives one zero-step route.

    Returns
    -------
    list[Route]
        At most ``k`` routes, best first (fewer if fewer simple paths exist).

    Raises
    ------
    RoleNotFoundError, AmbiguousRoleError
        A role name is unknown or ambiguous.
    NoRouteError
        No route exists; the message says which side is isolated.

    Examples
    --------
    >>> routes = shortest_route(g, "Data Scientist", "Research Scientist")  # doctest: +SKIP
    >>> [route.path for route in routes]  # doctest: +SKIP
    [('Data Scientist', 'Senior Data Scientist', 'Research Scientist')]
    """
    import networkx as nx

    k = _check_k(k)
    view = load_view(graph, lateral=lateral, threshold=threshold)
    source = resolve_role(view, a)
    target = resolve_role(view, b)
    if source == target:
        return [_route(view, [source], weighted)]
    best = _best_path(view, source, target, weighted)
    if best is None:
        raise _no_route(view, source, target, lateral)
    routes = [best]
    if k > 1:
        candidates: list[tuple[int, tuple[tuple[str, str], ...], list[str]]] = []
        limit: int | None = None
        for nodes in nx.shortest_simple_paths(view, source, target, weight=_weight(weighted)):
            cost = _path_cost(view, nodes, weighted)
            if limit is not None and cost > limit:
                break
            if nodes != best:
                candidates.append((cost, _sort_key(view, nodes), nodes))
            if limit is None and len(candidates) >= k - 1:
                limit = cost  # keep collecting the routes tied with the k-th
            if len(candidates) >= k - 1 + _TIE_WINDOW:
                break
        candidates.sort(key=lambda item: (item[0], item[1]))
        routes.extend(nodes for _, _, nodes in candidates[: k - 1])
    return [_route(view, nodes, weighted) for nodes in routes]


def skill_gap(graph: GraphSource, a: str, b: str) -> Gap:
    """Return what role ``b`` requires that role ``a`` lacks, what they share and what only ``a``
    has, each grouped by class.

    Raises
    ------
    RoleNotFoundError, AmbiguousRoleError
        A role name is unknown or ambiguous.
    """
    view = load_view(graph)
    source = resolve_role(view, a)
    target = resolve_role(view, b)
    entities = view.graph["entities"]
    have = view.nodes[source]["requirements"]
    want = view.nodes[target]["requirements"]

    def grouped(items: frozenset[str]) -> dict[str, tuple[str, ...]]:
        groups: dict[str, set[str]] = defaultdict(set)
        for entity in items:
            label, name = entities[entity]
            groups[name].add(label)
        ordered = sorted(
            groups, key=lambda name: _CLASS_ORDER.index(name) if name in _CLASS_ORDER else 99
        )
        return {name: tuple(sorted(groups[name], key=str.casefold)) for name in ordered}

    return Gap(
        source=view.nodes[source]["label"],
        target=view.nodes[target]["label"],
        missing=grouped(want - have),
        shared=grouped(want & have),
        extra=grouped(have - want),
        salary_change=_salary_change(view, source, target),
    )


def next_roles(
    graph: GraphSource,
    role: str,
    *,
    lateral: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[NextRole]:
    """Return the roles one step away from ``role``, ranked.

    Documented (ladder) steps come first, then inferred lateral ones (with ``lateral=True``);
    within each group the cheaper step (:func:`step_cost`) ranks higher, then the more similar
    role, then the label.

    Raises
    ------
    RoleNotFoundError, AmbiguousRoleError
        The role name is unknown or ambiguous.
    """
    view = load_view(graph, lateral=lateral, threshold=threshold)
    source = resolve_role(view, role)

    def key(target: str) -> tuple[int, int, float, str, str]:
        data = view.edges[source, target]
        return (
            0 if data["kind"] == "ladder" else 1,
            data["cost"],
            -(data["similarity"] or 0.0),
            view.nodes[target]["label"].casefold(),
            target,
        )

    ranked = sorted(view.successors(source), key=key)
    return [
        NextRole(rank, view.nodes[target]["label"], target, _step(view, source, target))
        for rank, target in enumerate(ranked, start=1)
    ]


# --------------------------------------------------------------------------------------------
# benchmark helper
# --------------------------------------------------------------------------------------------


def synthetic_turtle(
    n_roles: int, *, seed: int = 0, ladder_length: int = 8, cross_every: int = 3
) -> str:
    """Return Turtle for a synthetic career graph of ``n_roles`` roles (for benchmarks).

    Roles form ladders of ``ladder_length`` rungs, each rung requiring 4-8 of 400 skills and tools;
    every ``cross_every``-th role also steps to a random role, so routes cross ladders.
    """
    import random

    rng = random.Random(seed)
    lines = [
        "@prefix mlkg: <https://w3id.org/mlkg/ontology#> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix r: <https://w3id.org/mlkg/id/role/> .",
        "@prefix s: <https://w3id.org/mlkg/id/skill/> .",
        "@prefix t: <https://w3id.org/mlkg/id/tool/> .",
    ]
    for i in range(200):
        lines.append(f's:s{i} a mlkg:TechnicalSkill ; skos:prefLabel "skill {i}"@en .')
        lines.append(f't:t{i} a mlkg:Tool ; skos:prefLabel "tool {i}"@en .')
    for i in range(n_roles):
        needs = [f"s:s{rng.randrange(200)}" for _ in range(rng.randint(2, 4))]
        needs_tools = [f"t:t{rng.randrange(200)}" for _ in range(rng.randint(2, 4))]
        parts = [
            f'r:r{i} a mlkg:Role ; skos:prefLabel "Role {i}"@en',
            f"mlkg:requiresSkill {', '.join(sorted(set(needs)))}",
            f"mlkg:usesTool {', '.join(sorted(set(needs_tools)))}",
        ]
        if (i + 1) % ladder_length and i + 1 < n_roles:
            parts.append(f"mlkg:progressesTo r:r{i + 1}")
        if i % cross_every == 0 and n_roles > 1:
            parts.append(f"mlkg:progressesTo r:r{rng.randrange(n_roles)}")
        lines.append(" ;\n    ".join(parts) + " .")
    return "\n".join(lines) + "\n"


def bench_route_latency(
    n_roles: int = 10_000, *, queries: int = 200, seed: int = 0, weighted: bool = False
) -> dict[str, float]:
    """Measure route latency on a synthetic graph of ``n_roles`` roles (Oxigraph-backed).

    Returns
    -------
    dict[str, float]
        ``roles``, ``edges``, ``load_s`` (first :func:`load_view`, SPARQL included),
        ``p50_ms``, ``p95_ms`` and ``max_ms`` of :func:`shortest_route` once the view is cached
        (queries that find no route count too), ``p50_found_ms`` (queries with a route only),
        ``found`` (share of queries with a route) and ``mean_steps`` of the routes found.
    """
    import random

    import pyoxigraph
    from oxrdflib import OxigraphStore
    from rdflib import Graph
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    store = pyoxigraph.Store()
    store.load(synthetic_turtle(n_roles, seed=seed), format=pyoxigraph.RdfFormat.TURTLE)
    graph = Graph(store=OxigraphStore(store=store), identifier=DATASET_DEFAULT_GRAPH_ID)
    started = time.perf_counter()
    view = load_view(graph)
    load_s = time.perf_counter() - started
    rng = random.Random(seed)
    timings = []
    found_timings = []
    lengths = []
    for _ in range(queries):
        a, b = f"Role {rng.randrange(n_roles)}", f"Role {rng.randrange(n_roles)}"
        started = time.perf_counter()
        found = False
        with contextlib.suppress(NoRouteError):
            lengths.append(len(shortest_route(graph, a, b, weighted=weighted)[0].steps))
            found = True
        elapsed = (time.perf_counter() - started) * 1000
        timings.append(elapsed)
        if found:
            found_timings.append(elapsed)
    timings.sort()
    return {
        "roles": float(view.number_of_nodes()),
        "edges": float(view.number_of_edges()),
        "load_s": round(load_s, 3),
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 3),
        "max_ms": round(timings[-1], 3),
        "p50_found_ms": round(statistics.median(found_timings), 3) if found_timings else 0.0,
        "found": round(len(lengths) / queries, 3),
        "mean_steps": round(statistics.fmean(lengths), 2) if lengths else 0.0,
    }
