"""Graph → one self-contained, offline HTML page (pyvis network model, our own template).

The page is built in four steps, each a function:

1. :func:`read_graph_data` reads entities, labels, relations, evidence, documents and salaries
   from an :class:`rdflib.Graph` with the ``sparql/viz-*.rq`` queries (and nothing else).
2. :func:`select` picks the nodes and edges to draw (class filter, focus role and depth, route).
3. :func:`build_network` turns the selection into a :class:`pyvis.network.Network` (opaque node
   ids, colour/shape by class, size by degree, a NetworkX layout; physics only for small graphs).
4. :func:`render_html` fills ``templates/viz.html`` with vis-network's JavaScript and CSS inlined
   (so the page makes no request to any host) and the data as escaped JSON; the page script
   ``templates/viz.js`` builds every text with ``textContent``, so labels taken from documents are
   shown as text and never run.

:func:`visualize` does all four and writes the file atomically. :func:`measure_time_to_interactive`
builds a synthetic graph of N nodes and times the page in headless Chromium (for ``make bench``).
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import hashlib
import json
import math
import os
import re
import tempfile
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlkg.errors import AmbiguousRoleError, MlkgError, RoleNotFoundError

if TYPE_CHECKING:
    import subprocess

    from pyvis.network import Network
    from rdflib import Graph

ONTOLOGY = "https://w3id.org/mlkg/ontology#"
SPARQL_DIR = Path(__file__).resolve().parent / "sparql"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: Above this many nodes the page uses the precomputed layout with physics off.
PHYSICS_NODE_LIMIT = 1000

#: Colour and vis-network shape of each class (by local name); others use ``DEFAULT_STYLE``.
CLASS_STYLES: dict[str, tuple[str, str]] = {
    "Role": ("#d62728", "dot"),
    "TechnicalSkill": ("#1f77b4", "square"),
    "SoftSkill": ("#17becf", "square"),
    "Skill": ("#1f77b4", "square"),
    "Tool": ("#2ca02c", "triangle"),
    "ProgrammingLanguage": ("#bcbd22", "triangle"),
    "Venue": ("#9467bd", "star"),
    "CareerStage": ("#ff7f0e", "hexagon"),
    "Degree": ("#8c564b", "diamond"),
    "FieldOfStudy": ("#e377c2", "diamond"),
    "ResearchArea": ("#6a3d9a", "star"),
    "Organization": ("#393b79", "triangleDown"),
    "Industry": ("#843c39", "triangleDown"),
}
DEFAULT_STYLE = ("#7f7f7f", "dot")

# Characters that must not appear raw in JSON embedded in HTML: "<" (``</script>``, ``<!--``),
# ">" and "&" (entity and comment tricks), and U+2028/U+2029 (line terminators in old JS).
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


class VizError(MlkgError):
    """The view cannot be made: unknown class, bad depth, unwritable output, missing assets."""


# --------------------------------------------------------------------------------------------
# 1. Reading the graph
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """One node candidate: an entity with its IRI, preferred label, class and alt labels."""

    iri: str
    label: str
    cls: str
    alt_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """A quoted sentence backing a fact, with its section and source document."""

    quote: str
    section: str
    document: str
    title: str
    file_name: str


@dataclass
class Fact:
    """A relation ``subject --predicate--> object`` with qualifiers and evidence."""

    subject: str
    predicate: str
    object: str
    qualifier: str = ""
    min_years: str = ""
    max_years: str = ""
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class GraphData:
    """Everything the page shows, read from the graph by :func:`read_graph_data`."""

    entities: dict[str, Entity]
    facts: list[Fact]
    mentions: dict[str, list[tuple[str, str, str]]]
    salaries: dict[str, str]
    superclasses: dict[str, set[str]]

    def relation_edges(self) -> list[tuple[str, str, str]]:
        """Return ``(subject, predicate, object)`` of facts whose both ends are entities."""
        return [
            (f.subject, f.predicate, f.object)
            for f in self.facts
            if f.subject in self.entities and f.object in self.entities
        ]


def load_query(name: str) -> str:
    """Return the text of the internal query ``sparql/{name}.rq``.

    Raises :class:`VizError` if the file is missing (a broken installation).
    """
    path = SPARQL_DIR / f"{name}.rq"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise VizError(f"internal query {path} is missing: reinstall mlkg") from exc


def _rows(graph: Graph, name: str) -> list[dict[str, str]]:
    """Run internal query ``name`` and return its rows as dicts of strings ('' when unbound)."""
    from mlkg.errors import QueryError

    try:
        result = graph.query(load_query(name))
    except MlkgError:
        raise
    except Exception as exc:  # the store's own errors (remote failures, engine errors)
        raise QueryError(f"query {name} failed: {exc}") from exc
    names = [str(v) for v in result.vars or []]
    rows = []
    for row in result:
        values = tuple(row)  # type: ignore[arg-type]
        rows.append({n: ("" if v is None else str(v)) for n, v in zip(names, values, strict=False)})
    return rows


def _local(iri: str) -> str:
    """Return the local name of an ontology IRI (``...#Role`` → ``Role``)."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _salary_label(row: dict[str, str]) -> str:
    """Return a one-line description of a salary distribution row."""

    def money(value: str) -> str:
        try:
            return f"{int(float(value)):,}"
        except ValueError:
            return value

    parts = []
    span = "–".join(money(row[k]) for k in ("minValue", "maxValue") if row.get(k))
    if span:
        parts.append(f"{row.get('currency') or ''} {span}".strip())
    if row.get("average"):
        parts.append(f"average {money(row['average'])}")
    if row.get("median"):
        parts.append(f"median {money(row['median'])}")
    if row.get("organization"):
        parts.append(f"at {row['organization']}")
    if row.get("year"):
        parts.append(f"({row['year']})")
    return " ".join(parts) or "salary"


def read_graph_data(graph: Graph) -> GraphData:
    """Read what the page shows from ``graph``, with SPARQL only.

    Returns
    -------
    GraphData
        Entities keyed by IRI (most specific mlkg class, preferred label, alt labels), every
        relation as a :class:`Fact` with its evidence, the documents mentioning each entity,
        salary descriptions and the subclass → superclasses map of mlkg classes.

    Examples
    --------
    >>> from mlkg.store import memory_graph
    >>> data = read_graph_data(memory_graph("tests/fixtures/small-graph.ttl"))  # doctest: +SKIP
    >>> data.entities["https://w3id.org/mlkg/id/tool/pytorch"].label  # doctest: +SKIP
    'PyTorch'
    """
    superclasses: dict[str, set[str]] = defaultdict(set)
    for row in _rows(graph, "viz-class-hierarchy"):
        superclasses[_local(row["subclass"])].add(_local(row["superclass"]))

    classes_of: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, str] = {}
    for row in _rows(graph, "viz-entities"):
        classes_of[row["entity"]].append(_local(row["class"]))
        labels.setdefault(row["entity"], row["label"])
    alt: dict[str, list[str]] = defaultdict(list)
    for row in _rows(graph, "viz-alt-labels"):
        if row["altLabel"] not in alt[row["entity"]]:
            alt[row["entity"]].append(row["altLabel"])

    entities = {}
    for iri, classes in classes_of.items():
        # The most specific class: one that no other class of the entity is a subclass of.
        specific = [c for c in classes if not any(c in superclasses[o] for o in classes if o != c)]
        entities[iri] = Entity(iri, labels[iri], sorted(specific or classes)[0], tuple(alt[iri]))

    facts: dict[tuple[str, str, str], Fact] = {}
    for row in _rows(graph, "viz-relations"):
        key = (row["subject"], row["predicate"], row["object"])
        facts[key] = Fact(*key)
    seen_evidence: set[tuple[tuple[str, str, str], str]] = set()
    for row in _rows(graph, "viz-evidence"):
        key = (row["subject"], row["predicate"], row["object"])
        fact = facts.setdefault(key, Fact(*key))
        fact.qualifier = fact.qualifier or row["qualifier"]
        fact.min_years = fact.min_years or row["minYears"]
        fact.max_years = fact.max_years or row["maxYears"]
        if row["evidence"] and (key, row["evidence"]) not in seen_evidence:
            seen_evidence.add((key, row["evidence"]))
            fact.evidence.append(
                Evidence(
                    row["quote"], row["section"], row["document"], row["title"], row["fileName"]
                )
            )

    mentions: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for row in _rows(graph, "viz-mentions"):
        mentions[row["entity"]].append((row["document"], row["title"], row["fileName"]))
    salaries = {row["salary"]: _salary_label(row) for row in _rows(graph, "viz-salaries")}
    return GraphData(
        entities=entities,
        facts=[facts[k] for k in sorted(facts)],
        mentions=dict(mentions),
        salaries=salaries,
        superclasses=dict(superclasses),
    )


# --------------------------------------------------------------------------------------------
# 2. Selecting what to draw
# --------------------------------------------------------------------------------------------


@dataclass
class Selection:
    """The nodes (IRIs, sorted) and edges ``(subject, predicate, object)`` to draw."""

    nodes: list[str]
    edges: list[tuple[str, str, str]]
    focus: str | None = None
    route: list[str] = field(default_factory=list)


def known_classes(data: GraphData) -> list[str]:
    """Return the class names ``--classes`` accepts: entity classes and their superclasses."""
    names = {e.cls for e in data.entities.values()}
    for name in list(names):
        names |= data.superclasses.get(name, set())
    names.discard("Evidence")
    names.discard("Document")
    return sorted(names)


def _suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choices, or ``""``."""
    pool = list(choices)
    lower = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(word.lower(), list(lower), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{lower[c]}'" for c in close) + "?)"


def resolve_classes(data: GraphData, names: Sequence[str]) -> set[str]:
    """Return the class names selected by ``names`` (a class selects its subclasses too).

    Matching ignores case. Raises :class:`VizError` for an unknown class, with a suggestion.
    """
    known = known_classes(data)
    by_lower = {k.lower(): k for k in known}
    wanted = set()
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name.lower() not in by_lower:
            raise VizError(
                f"unknown class '{name}'{_suggest(name, known)}; known classes: {', '.join(known)}"
            )
        wanted.add(by_lower[name.lower()])
    if not wanted:
        raise VizError("--classes names no class; known classes: " + ", ".join(known))
    return {
        e.cls
        for e in data.entities.values()
        if e.cls in wanted or data.superclasses.get(e.cls, set()) & wanted
    }


def resolve_entity(data: GraphData, name: str, *, cls: str | None = "Role") -> str:
    """Return the IRI of the entity named ``name`` (an IRI, a label or an alt label; any case).

    Only entities of class ``cls`` are considered unless ``cls`` is ``None``. Raises
    :class:`RoleNotFoundError` (with suggestions) or :class:`AmbiguousRoleError`.
    """
    pool = [e for e in data.entities.values() if cls is None or e.cls == cls]
    if any(e.iri == name for e in pool):
        return name
    key = name.strip().casefold()
    exact = [e for e in pool if e.label.casefold() == key]
    if not exact:
        exact = [e for e in pool if any(a.casefold() == key for a in e.alt_labels)]
    if len(exact) == 1:
        return exact[0].iri
    kind = (cls or "entity").lower()
    if len(exact) > 1:
        labels = sorted(f"{e.label} <{e.iri}>" for e in exact)
        raise AmbiguousRoleError(f"'{name}' names several {kind}s: {'; '.join(labels)}", labels)
    names = sorted({e.label for e in pool} | {a for e in pool for a in e.alt_labels})
    hint = _suggest(name, names)
    suggestions = [s.strip("'") for s in re.findall(r"'[^']*'", hint)]
    raise RoleNotFoundError(f"unknown {kind} '{name}'{hint}", suggestions)


def _resolve_route_node(data: GraphData, name: str) -> str:
    """Return the IRI of a route node: a role if one has that name, else any entity."""
    try:
        return resolve_entity(data, name)
    except RoleNotFoundError:
        return resolve_entity(data, name, cls=None)


def select(
    data: GraphData,
    *,
    classes: Sequence[str] | None = None,
    focus: str | None = None,
    depth: int | None = None,
    route: Sequence[str] | None = None,
) -> Selection:
    """Return the nodes and edges to draw.

    Parameters
    ----------
    classes
        Class names (``Role``, ``Skill``, ``Tool`` ...); only entities of those classes (or their
        subclasses) are kept. ``None`` keeps every class.
    focus
        A role (label, alt label or IRI): keep only nodes within ``depth`` hops of it (edges
        followed in both directions, through kept classes only). The focus itself is always kept.
    depth
        Hops from ``focus``; default 1. Must be ``>= 0``; given without ``focus`` it is an error.
    route
        Labels or IRIs of a route's nodes, in order; they are always kept and drawn highlighted.

    Returns
    -------
    Selection
        Sorted node IRIs and the relation edges between kept nodes.
    """
    if depth is not None and depth < 0:
        raise VizError(f"--depth must be 0 or more, not {depth}")
    if depth is not None and focus is None:
        raise VizError("--depth needs --focus ROLE")
    allowed = resolve_classes(data, classes) if classes else None
    keep = {iri for iri, e in data.entities.items() if allowed is None or e.cls in allowed}
    route_iris = [_resolve_route_node(data, r) for r in route or []]
    edges = [e for e in data.relation_edges()]

    focus_iri = None
    if focus is not None:
        focus_iri = resolve_entity(data, focus)
        limit = 1 if depth is None else depth
        neighbours: dict[str, set[str]] = defaultdict(set)
        for s, _, o in edges:
            if s in keep and o in keep:
                neighbours[s].add(o)
                neighbours[o].add(s)
        reached = {focus_iri: 0}
        queue = deque([focus_iri])
        while queue:
            node = queue.popleft()
            if reached[node] >= limit:
                continue
            for nxt in sorted(neighbours[node]):
                if nxt not in reached:
                    reached[nxt] = reached[node] + 1
                    queue.append(nxt)
        keep = set(reached)
    keep |= set(route_iris)
    nodes = sorted(keep)
    kept_edges = [e for e in edges if e[0] in keep and e[2] in keep]
    return Selection(nodes=nodes, edges=kept_edges, focus=focus_iri, route=route_iris)


# --------------------------------------------------------------------------------------------
# 3. The pyvis network
# --------------------------------------------------------------------------------------------


def _humanise(predicate: str) -> str:
    """Return ``requires skill`` for ``...#requiresSkill``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", _local(predicate)).lower()


#: Graphs up to this many nodes get a full NetworkX spring layout; larger ones lay out their
#: best-connected nodes that way and place the others around them (NetworkX's spring layout for
#: 500+ nodes needs scipy and is too slow for 5,000 nodes).
SPRING_NODE_LIMIT = 300
_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def _layout(
    nodes: Sequence[str], edges: Sequence[tuple[str, str, str]]
) -> dict[str, tuple[float, float]]:
    """Return deterministic positions for ``nodes``, scaled for vis-network.

    Up to :data:`SPRING_NODE_LIMIT` nodes: NetworkX's spring layout with a fixed seed. Above:
    the :data:`SPRING_NODE_LIMIT` nodes of highest degree (the anchors) get a spring layout of
    the graph joining anchors that are adjacent or share a neighbour; every other node is then
    placed, in breadth-first order, on a sunflower spiral around the first placed neighbour.
    Nodes without edges go in a compact grid below the rest.
    """
    import networkx as nx

    if not nodes:
        return {}
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from((s, o) for s, _, o in edges if s != o)
    unit = 60.0  # distance between neighbours on a spiral, in vis pixels
    isolated = [n for n in nodes if g.degree(n) == 0]
    g.remove_nodes_from(isolated)
    connected = [n for n in nodes if n in g]
    scale = unit * 2.5 * math.sqrt(max(len(connected), 1)) + 200.0
    placed: dict[str, tuple[float, float]] = {}
    if len(connected) <= SPRING_NODE_LIMIT:
        pos = nx.spring_layout(g, seed=7, iterations=50) if connected else {}
        placed = {n: (float(x) * scale, float(y) * scale) for n, (x, y) in pos.items()}
        return _with_isolated(placed, isolated, unit)

    order = sorted(connected, key=lambda n: (-g.degree(n), n))
    anchors = set(order[:SPRING_NODE_LIMIT])
    h = nx.Graph()
    h.add_nodes_from(sorted(anchors))
    h.add_edges_from((a, b) for a, b in g.edges() if a in anchors and b in anchors)
    for node in order[SPRING_NODE_LIMIT:]:
        near = sorted(n for n in g[node] if n in anchors)[:8]
        h.add_edges_from((a, b) for i, a in enumerate(near) for b in near[i + 1 :])
    spring = nx.spring_layout(h, seed=7, iterations=50)
    placed = {n: (float(x) * scale, float(y) * scale) for n, (x, y) in spring.items()}
    children: dict[str, int] = defaultdict(int)
    queue = deque(sorted(anchors, key=lambda n: (-g.degree(n), n)))
    while queue:
        parent = queue.popleft()
        for node in sorted(g[parent]):
            if node in placed:
                continue
            children[parent] += 1
            k = children[parent]
            px, py = placed[parent]
            radius = unit * (1.0 + 0.6 * math.sqrt(k))
            placed[node] = (
                px + radius * math.cos(k * _GOLDEN_ANGLE),
                py + radius * math.sin(k * _GOLDEN_ANGLE),
            )
            queue.append(node)
    # Nodes in components without an anchor go with the isolated ones.
    return _with_isolated(placed, [n for n in nodes if n not in placed], unit)


def _with_isolated(
    placed: dict[str, tuple[float, float]], rest: Sequence[str], unit: float
) -> dict[str, tuple[float, float]]:
    """Return ``placed`` plus ``rest`` in a compact grid below it, all rounded to 0.1 px."""
    if rest:
        xs = [x for x, _ in placed.values()] or [0.0]
        ys = [y for _, y in placed.values()] or [0.0]
        columns = max(1, math.ceil(math.sqrt(len(rest))))
        left = (min(xs) + max(xs)) / 2 - (columns - 1) * unit / 2
        top = max(ys) + 2 * unit
        for k, node in enumerate(rest):
            placed[node] = (left + (k % columns) * unit, top + (k // columns) * unit)
    return {n: (round(x, 1), round(y, 1)) for n, (x, y) in placed.items()}


def stabilization_iterations(n_nodes: int) -> int:
    """Return how many physics iterations the page runs before it stops physics.

    The NetworkX layout is already a good start, so physics only polishes it: 150 iterations for
    up to 133 nodes, fewer as graphs grow (each iteration costs about ``n log n``), at least 30.
    """
    return max(30, min(150, 20_000 // max(n_nodes, 1)))


def build_network(data: GraphData, selection: Selection) -> tuple[Network, dict[str, str]]:
    """Return the pyvis network of ``selection`` and the map IRI → opaque node id.

    Node ids are ``n0``, ``n1``... (never labels or IRIs, which come from documents); labels are
    passed as data only. Size grows with the degree in the selection. Graphs above
    :data:`PHYSICS_NODE_LIMIT` nodes get physics off and keep the precomputed layout.
    """
    from pyvis.network import Network

    ids = {iri: f"n{i}" for i, iri in enumerate(selection.nodes)}
    degree: dict[str, int] = defaultdict(int)
    for s, _, o in selection.edges:
        degree[s] += 1
        degree[o] += 1
    positions = _layout(selection.nodes, selection.edges)
    large = len(selection.nodes) > PHYSICS_NODE_LIMIT

    net = Network(directed=True, cdn_resources="remote", height="100%", width="100%")
    for iri in selection.nodes:
        entity = data.entities[iri]
        colour, shape = CLASS_STYLES.get(entity.cls, DEFAULT_STYLE)
        x, y = positions.get(iri, (0.0, 0.0))
        net.add_node(
            ids[iri],
            label=entity.label,
            shape=shape,
            color=colour,
            size=round(8 + 5 * math.sqrt(degree[iri]), 1),
            x=x,
            y=y,
        )
    route_pairs = set(zip(selection.route, selection.route[1:], strict=False))
    route_pairs |= {(b, a) for a, b in route_pairs}
    drawn_pairs = set()
    for index, (s, p, o) in enumerate(selection.edges):
        on_route = (s, o) in route_pairs
        net.add_edge(ids[s], ids[o], id=f"e{index}", rel=_humanise(p), route=on_route)
        drawn_pairs.add((s, o))
    for a, b in zip(selection.route, selection.route[1:], strict=False):
        if (a, b) not in drawn_pairs and (b, a) not in drawn_pairs:
            net.add_edge(ids[a], ids[b], id=f"r{len(net.edges)}", rel="route", route=True)

    net.toggle_physics(not large)
    if not large:
        net.barnes_hut(gravity=-3000, central_gravity=0.8, spring_length=100, damping=0.4)
    options = json.loads(net.options.to_json())
    options.pop("configure", None)
    options["layout"] = {"improvedLayout": False, "randomSeed": 7}
    options["edges"] = {
        "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}},
        "smooth": False if large else {"enabled": True, "type": "continuous"},
        "color": {"color": "#b0b0b0", "highlight": "#444444"},
    }
    options["nodes"] = {"font": {"size": 14, "face": "sans-serif"}, "borderWidth": 1}
    options["interaction"] = {
        "hover": True,
        "tooltipDelay": 150,
        "hideEdgesOnDrag": large,
        "hideEdgesOnZoom": large,
    }
    physics = options.setdefault("physics", {})
    physics["enabled"] = not large
    physics["stabilization"] = {
        "enabled": not large,
        "iterations": stabilization_iterations(len(selection.nodes)),
        "fit": True,
    }
    net.options = options  # a plain dict from here on; pyvis serialises it with json.dumps
    return net, ids


# --------------------------------------------------------------------------------------------
# 4. The HTML page
# --------------------------------------------------------------------------------------------


def json_for_script(value: Any) -> str:
    """Return ``value`` as JSON safe to embed in an HTML ``<script>`` element.

    ``<``, ``>``, ``&``, U+2028 and U+2029 become ``\\uXXXX`` escapes, so no text from the graph
    can close the script element, open a comment or break a JavaScript line.

    Examples
    --------
    >>> json_for_script({"label": "</script>"})
    '{"label": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
    return _JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


def _vis_assets() -> tuple[str, str]:
    """Return vis-network's JavaScript and CSS as shipped in pyvis (with their license header)."""
    import pyvis

    lib = Path(pyvis.__file__).resolve().parent / "lib" / "vis-9.1.2"
    try:
        js = (lib / "vis-network.min.js").read_text(encoding="utf-8")
        css = (lib / "vis-network.css").read_text(encoding="utf-8")
    except OSError as exc:
        raise VizError(f"vis-network files missing in {lib}: reinstall pyvis") from exc
    if "</script" in js.lower() or "</style" in css.lower():
        raise VizError("vis-network's files contain a closing tag and cannot be inlined safely")
    return js, css


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _panel_data(data: GraphData, selection: Selection, ids: dict[str, str]) -> dict[str, Any]:
    """Return the per-node data of the page: class, alt labels, facts, evidence, documents."""
    shown = set(selection.nodes)
    by_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fact in data.facts:
        for end, direction, other in (
            (fact.subject, "out", fact.object),
            (fact.object, "in", fact.subject),
        ):
            if end not in shown:
                continue
            if other in data.entities:
                other_label = data.entities[other].label
            else:
                other_label = data.salaries.get(other, _local(other))
            by_node[end].append(
                {
                    "dir": direction,
                    "predicate": _humanise(fact.predicate),
                    "other": other_label,
                    "otherId": ids.get(other, ""),
                    "qualifier": fact.qualifier,
                    "years": "–".join(y for y in (fact.min_years, fact.max_years) if y),
                    "evidence": [
                        {
                            "quote": ev.quote,
                            "section": ev.section,
                            "title": ev.title,
                            "file": ev.file_name,
                        }
                        for ev in fact.evidence
                    ],
                }
            )
    nodes = {}
    for iri in selection.nodes:
        entity = data.entities[iri]
        nodes[ids[iri]] = {
            "iri": iri,
            "label": entity.label,
            "cls": entity.cls,
            "alt": list(entity.alt_labels),
            "facts": by_node.get(iri, []),
            "docs": [
                {"title": title, "file": file_name}
                for _, title, file_name in data.mentions.get(iri, [])
            ],
        }
    return nodes


def render_html(
    data: GraphData, selection: Selection, *, title: str = "mlkg: ML research careers"
) -> str:
    """Return the HTML page of ``selection``: one self-contained file, no external reference.

    The page holds vis-network (inlined, license header kept), the network from
    :func:`build_network` and the panel data as escaped JSON, and a Content-Security-Policy that
    allows only the page's own scripts (by hash) and no connection to any host.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    net, ids = build_network(data, selection)
    nodes, edges, _heading, _height, _width, options_json = net.get_network_data()
    counts: dict[str, int] = defaultdict(int)
    for iri in selection.nodes:
        counts[data.entities[iri].cls] += 1
    legend = [
        {
            "cls": cls,
            "color": CLASS_STYLES.get(cls, DEFAULT_STYLE)[0],
            "shape": CLASS_STYLES.get(cls, DEFAULT_STYLE)[1],
            "count": counts[cls],
        }
        for cls in sorted(counts)
    ]
    payload = {
        "nodes": nodes,
        "edges": edges,
        "options": json.loads(options_json),
        "info": _panel_data(data, selection, ids),
        "legend": legend,
        "route": [ids[iri] for iri in selection.route],
        "focus": ids.get(selection.focus or "", ""),
        "physics": len(selection.nodes) <= PHYSICS_NODE_LIMIT,
    }
    vis_js, vis_css = _vis_assets()
    app_js = (TEMPLATE_DIR / "viz.js").read_text(encoding="utf-8")
    app_css = (TEMPLATE_DIR / "viz.css").read_text(encoding="utf-8")
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(vis_js)} {_csp_hash(app_js)}; "
        "style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'; object-src 'none'"
    )
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    page = env.get_template("viz.html").render(
        title=title,
        csp=csp,
        vis_js=vis_js,
        vis_css=vis_css,
        app_js=app_js,
        app_css=app_css,
        data_json=json_for_script(payload),
        node_count=len(selection.nodes),
        edge_count=len(edges),
    )
    return page


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    A failed or interrupted write leaves no partial file. Raises :class:`VizError` when the
    folder is missing or not writable. Returns the path written.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise VizError(f"cannot write {path}: it is a directory")
    if not folder.is_dir():
        raise VizError(f"cannot write {path}: folder {folder} does not exist")
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            tmp_name = handle.name
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except OSError as exc:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
        raise VizError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


@dataclass(frozen=True)
class VizResult:
    """What :func:`visualize` wrote: the path and the numbers of nodes and edges drawn."""

    path: Path
    nodes: int
    edges: int


def visualize(
    graph: Graph,
    out: Path | str,
    *,
    classes: Sequence[str] | None = None,
    focus: str | None = None,
    depth: int | None = None,
    path: tuple[str, str] | None = None,
    route: Sequence[str] | None = None,
) -> VizResult:
    """Write the interactive HTML view of ``graph`` to ``out`` and return what was written.

    ``path=(FROM, TO)`` asks :func:`mlkg.paths.shortest_route` for the route and draws it
    highlighted; ``route`` gives the route's labels or IRIs directly. Every check (classes,
    focus, depth, route) runs before anything is written, so bad input leaves no file.

    Examples
    --------
    >>> from mlkg.store import memory_graph
    >>> g = memory_graph("tests/fixtures/small-graph.ttl")  # doctest: +SKIP
    >>> visualize(g, "/tmp/graph.html", focus="Data Scientist", depth=1).nodes  # doctest: +SKIP
    11
    """
    data = read_graph_data(graph)
    route_labels = list(route or [])
    if path is not None:
        route_labels = _route_between(graph, data, *path)
    selection = select(data, classes=classes, focus=focus, depth=depth, route=route_labels)
    html = render_html(data, selection)
    out_path = Path(out)
    write_atomic(out_path, html)
    return VizResult(out_path, len(selection.nodes), len(selection.edges))


def _route_between(graph: Graph, data: GraphData, source: str, target: str) -> list[str]:
    """Return the labels of the shortest career route from ``source`` to ``target``."""
    # Check both names first, so an unknown role gets our did-you-mean message.
    resolve_entity(data, source)
    resolve_entity(data, target)
    from mlkg.paths import shortest_route

    routes = shortest_route(graph, source, target)
    if not routes:
        from mlkg.errors import NoRouteError

        raise NoRouteError(f"no career route from '{source}' to '{target}'")
    return [str(step) for step in routes[0].path]


# --------------------------------------------------------------------------------------------
# Benchmark support: synthetic graphs and headless Chromium over the DevTools protocol
# --------------------------------------------------------------------------------------------


def synthetic_graph(n_nodes: int, *, seed: int = 1) -> Graph:
    """Return an in-memory graph of ``n_nodes`` entities shaped like a build (for benchmarks).

    About a tenth of the nodes are roles; each role requires a few skills, uses a few tools and
    progresses to another role, every fact with one evidence sentence.
    """
    import random

    import pyoxigraph
    from oxrdflib import OxigraphStore
    from rdflib import RDF, Graph, Literal, URIRef
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
    from rdflib.namespace import SKOS

    from mlkg.namespace import MLKG, MLKGID

    rng = random.Random(seed)
    g = Graph(store=OxigraphStore(store=pyoxigraph.Store()), identifier=DATASET_DEFAULT_GRAPH_ID)
    n_roles = max(2, n_nodes // 10)
    roles = [MLKGID[f"role/r{i}"] for i in range(n_roles)]
    others: list[URIRef] = []
    kinds = [("skill", MLKG.TechnicalSkill), ("skill", MLKG.SoftSkill), ("tool", MLKG.Tool)]
    for i, role in enumerate(roles):
        g.add((role, RDF.type, MLKG.Role))
        g.add((role, SKOS.prefLabel, Literal(f"Role {i}", lang="en")))
    for i in range(n_nodes - n_roles):
        kind, cls = kinds[i % len(kinds)]
        node = MLKGID[f"{kind}/e{i}"]
        others.append(node)
        g.add((node, RDF.type, cls))
        g.add((node, SKOS.prefLabel, Literal(f"{kind} {i}", lang="en")))
        g.add((node, SKOS.altLabel, Literal(f"alt {kind} {i}", lang="en")))
    for i, node in enumerate(others):
        role = roles[i % n_roles]
        pred = MLKG.usesTool if "/tool/" in str(node) else MLKG.requiresSkill
        _synthetic_fact(g, role, pred, node, i)
        if rng.random() < 0.5:
            _synthetic_fact(g, roles[rng.randrange(n_roles)], pred, node, i + n_nodes)
    for i, role in enumerate(roles[:-1]):
        _synthetic_fact(g, role, MLKG.progressesTo, roles[i + 1], 3 * n_nodes + i)
    return g


def _synthetic_fact(g: Graph, s: Any, p: Any, o: Any, i: int) -> None:
    from rdflib import RDF, Literal
    from rdflib.namespace import PROV

    from mlkg.namespace import MLKGID

    g.add((s, p, o))
    fact = MLKGID[f"fact/{i:016x}"]
    ev = MLKGID[f"evidence/{i:016x}"]
    g.add((fact, RDF.type, RDF.Statement))
    g.add((fact, RDF.subject, s))
    g.add((fact, RDF.predicate, p))
    g.add((fact, RDF.object, o))
    g.add((fact, PROV.wasDerivedFrom, ev))
    g.add((ev, PROV.value, Literal(f"- synthetic sentence {i}")))


class Chromium:
    """Headless Chromium driven over the DevTools protocol (needs ``websocket-client``).

    Use as a context manager::

        with Chromium() as browser:
            browser.open(Path("graph.html"))
            browser.evaluate("window.mlkgNetwork.body.data.nodes.length")

    ``console_errors`` collects console errors, uncaught exceptions and failed/blocked loads;
    ``requests`` lists every URL the page asked for.
    """

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-extensions",
        "--mute-audio",
    )

    def __init__(self, binary: str = "/usr/bin/chromium", *, timeout: float = 30.0) -> None:
        self.binary = binary
        self.timeout = timeout
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self._next_id = 0
        self._proc: Any = None
        self._ws: Any = None
        self._profile: Path | None = None

    def __enter__(self) -> Chromium:
        import shutil
        import subprocess
        import time

        try:
            import websocket  # websocket-client
        except ImportError as exc:
            raise VizError(
                "driving Chromium needs websocket-client: pip install websocket-client"
            ) from exc
        if not Path(self.binary).exists() and shutil.which(self.binary) is None:
            raise VizError(f"no Chromium at {self.binary}: apt-get install -y chromium")
        self._profile = Path(tempfile.mkdtemp(prefix="mlkg-chromium-"))
        port_file = self._profile / "DevToolsActivePort"
        self._proc = subprocess.Popen(
            [
                self.binary,
                *self.FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-port=0",
                "--window-size=1280,800",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: __exit__ stops its children too
        )
        deadline = time.monotonic() + self.timeout
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.__exit__(None, None, None)
                raise VizError("Chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        target = self._page_target(port, deadline)
        self._ws = websocket.create_connection(target, timeout=self.timeout, suppress_origin=True)
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")
        return self

    def _page_target(self, port: int, deadline: float) -> str:
        import time
        import urllib.request

        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                    targets = json.loads(r.read())
                for t in targets:
                    if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                        return str(t["webSocketDebuggerUrl"])
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise VizError("Chromium has no page to drive")
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.close()
            self._ws = None
        if self._proc is not None:
            _stop_group(self._proc)
            self._proc = None
        if self._profile is not None:
            _remove_profile(self._profile)
            self._profile = None

    def _handle_event(self, message: dict[str, Any]) -> None:
        method = message.get("method", "")
        params = message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console_errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            desc = details.get("exception", {}).get("description") or details.get("text", "")
            self.console_errors.append(f"exception: {desc}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.console_errors.append(f"log: {params['entry'].get('text', '')}")
        elif method == "Network.requestWillBeSent":
            self.requests.append(params.get("request", {}).get("url", ""))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(params.get("message", ""))
            self._send_nowait("Page.handleJavaScriptDialog", {"accept": True})

    def _send_nowait(self, method: str, params: dict[str, Any] | None = None) -> int:
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": method, "params": params or {}}))
        return self._next_id

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one DevTools command and return its result (events are recorded meanwhile)."""
        wanted = self._send_nowait(method, params)
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise VizError(f"DevTools {method} failed: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._handle_event(message)

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        """Evaluate JavaScript in the page and return its value (JSON-serialisable values)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise VizError(
                "page script failed: "
                + str(details.get("exception", {}).get("description") or details.get("text"))
            )
        return result.get("result", {}).get("value")

    def open(self, path: Path, *, ready_timeout: float | None = None) -> float:
        """Load ``path`` as a ``file://`` URL, wait for the page's ready mark; return it in ms.

        The mark (``window.mlkgReadyAt``) is ``performance.now()`` when the network is drawn,
        its physics stopped and its controls wired: the time to interactive from navigation.
        """
        import time

        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        deadline = time.monotonic() + (ready_timeout or self.timeout)
        while True:
            ready = self.evaluate("window.mlkgReadyAt === undefined ? null : window.mlkgReadyAt")
            if ready is not None:
                return float(ready)
            if time.monotonic() > deadline:
                raise VizError(f"page {path} did not become ready: {self.console_errors}")
            time.sleep(0.02)

    def screenshot(self, path: Path) -> Path:
        """Save a PNG screenshot of the page to ``path`` and return it."""
        result = self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(result["data"]))
        return path


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session and every process of its group.

    Chromium's helpers (renderer, GPU, crash handler) can outlive the browser process for a
    moment and keep writing into the profile folder.
    """
    import signal
    import subprocess

    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # any helper still running


def _remove_profile(folder: Path, attempts: int = 20) -> None:
    """Remove a browser profile folder, retrying while a helper that just ended flushes into it.

    A folder that still cannot be removed is left in the temporary directory: it is not worth
    failing a measurement for.
    """
    import shutil
    import time

    for _ in range(attempts):
        try:
            shutil.rmtree(folder)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    shutil.rmtree(folder, ignore_errors=True)


def measure_time_to_interactive(
    n_nodes: int,
    *,
    chromium: str = "/usr/bin/chromium",
    workdir: Path | None = None,
    runs: int = 3,
) -> dict[str, float]:
    """Build a synthetic ``n_nodes`` graph page and time it in headless Chromium.

    The page is loaded ``runs`` times in one browser; the first load pays for compiling
    vis-network, later loads show the steady state.

    Returns
    -------
    dict
        ``nodes`` (drawn in the page), ``selected`` (chosen from the graph), ``build_s``
        (Python: SPARQL, layout, HTML), ``html_bytes``, ``first_ms`` and ``median_ms``
        (navigation start → drawn, physics stopped, controls wired; ``interactive_ms`` is
        ``first_ms``, the load in a fresh browser).

    Examples
    --------
    >>> measure_time_to_interactive(5000)["median_ms"] < 5000  # doctest: +SKIP
    True
    """
    import statistics
    import time

    from mlkg.store import _bind_prefixes

    graph = synthetic_graph(n_nodes)
    _bind_prefixes(graph)
    with tempfile.TemporaryDirectory(prefix="mlkg-bench-") as tmp:
        out = Path(workdir or tmp) / f"bench-{n_nodes}.html"
        start = time.perf_counter()
        result = visualize(graph, out)
        build_s = time.perf_counter() - start
        with Chromium(chromium, timeout=120) as browser:
            times = [browser.open(out, ready_timeout=120) for _ in range(max(1, runs))]
            drawn = browser.evaluate("window.mlkgNetwork.body.data.nodes.length")
            errors = list(browser.console_errors)
        if errors:
            raise VizError(f"the {n_nodes}-node page logged errors: {errors[:3]}")
        return {
            "nodes": float(drawn),
            "selected": float(result.nodes),
            "build_s": round(build_s, 3),
            "html_bytes": float(out.stat().st_size),
            "interactive_ms": round(times[0], 1),
            "first_ms": round(times[0], 1),
            "median_ms": round(statistics.median(times), 1),
        }
