"""Records to RDF: the only writer of instance triples.

:func:`graph_triples` merges the extractions of many documents into one set of triples following
``docs/data-model.md``: one node per entity (labels merged), a direct triple per relation, a
reified ``rdf:Statement`` per relation with its evidence (PROV-O), documents and salary
distributions. Triples are plain tuples of strings (:data:`Row`), so nothing pays for rdflib
term objects; the build goes one step further with :func:`graph_ntriples`, which writes each
triple straight to its N-Triples line: the sorted lines, as bytes, go to Oxigraph (Turtle file,
store) and to the SHACL validator. :func:`build_graph` gives the same triples as an
:class:`rdflib.Graph` for library users and tests.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from mlkg.documents import Document
from mlkg.ids import (
    DCTERMS,
    ONTOLOGY_IRI,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    VOCABULARY_SCHEME_IRI,
    XSD,
    document_iri,
    evidence_iri,
    fact_iri,
)
from mlkg.records import Entity, Evidence, Extraction, Fact
from mlkg.resources import ontology_dir

if TYPE_CHECKING:
    from rdflib import Graph

#: One triple: ``(subject, predicate, kind, object, extra)``. ``kind`` is ``"I"`` for an IRI
#: object and ``"L"`` for a literal, whose ``extra`` is ``"language|datatype"`` (either part may
#: be empty); IRIs have ``extra == ""``.
Row = tuple[str, str, str, str, str]

MLKG = ONTOLOGY_IRI

RDF_TYPE = RDF + "type"
_INTEGER = "|" + XSD + "integer"
_EN = "en|"
_PLAIN = "|"

_QUALIFIER_RANK = {"minimum": 0, "typical": 1, "preferred": 2}
_SALARY_PREDICATES = {
    "min_value": SCHEMA + "minValue",
    "max_value": SCHEMA + "maxValue",
    "median": SCHEMA + "median",
    "average": MLKG + "average",
    "percentile10": SCHEMA + "percentile10",
    "percentile90": SCHEMA + "percentile90",
}


def ontology_class_axioms() -> list[tuple[str, str]]:
    """Return the ``rdfs:subClassOf`` pairs between mlkg classes declared in ``mlkg.ttl``."""
    import pyoxigraph as ox

    axioms = ox.parse(path=str(ontology_dir() / "mlkg.ttl"), format=ox.RdfFormat.TURTLE)
    return sorted(
        (t.subject.value, t.object.value)
        for t in axioms
        if t.predicate.value == RDFS + "subClassOf"
        and isinstance(t.subject, ox.NamedNode)
        and isinstance(t.object, ox.NamedNode)
        and t.subject.value.startswith(ONTOLOGY_IRI)
    )


def merge_entities(extractions: Sequence[Extraction]) -> dict[str, Entity]:
    """Return one entity per IRI across documents, alternative labels merged.

    The preferred label is the vocabulary's, else the one written first (in document order).
    """
    merged: dict[str, Entity] = {}
    for extraction in extractions:
        for iri, entity in extraction.entities.items():
            if iri not in merged:
                merged[iri] = entity
                continue
            known = merged[iri]
            alts = set(known.alt_labels) | set(entity.alt_labels)
            if not known.in_vocabulary and entity.label != known.label:
                alts.add(entity.label)
            alts.discard(known.label)
            merged[iri] = Entity(
                iri, known.cls, known.label, tuple(sorted(alts)), known.in_vocabulary
            )
    return merged


@dataclass
class GraphContents:
    """What a graph holds, counted while it is made (the build summary reports it)."""

    #: distinct triples
    triples: int = 0
    #: entities per class (local name, e.g. ``"Role"``)
    entities: Counter[str] = field(default_factory=Counter)
    #: direct relation triples per relation (local name, e.g. ``"requiresSkill"``)
    relations: Counter[str] = field(default_factory=Counter)
    #: the preferred label of each entity, by IRI
    labels: dict[str, str] = field(default_factory=dict)


def graph_triples(documents: Sequence[Document], extractions: Sequence[Extraction]) -> list[Row]:
    """Return the triples of the given documents and their extractions, in no particular order.

    ``documents[i]`` is the source of ``extractions[i]``. The triples hold the ontology's
    ``rdfs:subClassOf`` axioms too, so ``rdf:type/rdfs:subClassOf*`` works on the graph alone.
    """
    rows: set[Row] = set()
    add = rows.add

    def iri(s: str, p: str, o: str) -> None:
        add((s, p, "I", o, ""))

    def literal(s: str, p: str, value: str, extra: str = _PLAIN) -> None:
        add((s, p, "L", value, extra))

    _make_graph(documents, extractions, iri, literal, GraphContents())
    return list(rows)


def graph_ntriples(
    documents: Sequence[Document], extractions: Sequence[Extraction]
) -> tuple[bytes, GraphContents]:
    """Return the graph of :func:`graph_triples` as :func:`ntriples` writes it, and its contents.

    The same bytes as ``ntriples(graph_triples(documents, extractions))``, made without holding
    the rows: each triple goes straight to its N-Triples line (at 10,000 documents the rows
    took about 4.6 GB, their lines 2 GB).
    """
    lines: set[bytes] = set()
    add = lines.add

    def iri(s: str, p: str, o: str) -> None:
        add(f"<{s}> <{p}> <{o}> .\n".encode())

    def literal(s: str, p: str, value: str, extra: str = _PLAIN) -> None:
        add(_literal_line(s, p, value, extra))

    contents = _make_graph(documents, extractions, iri, literal, GraphContents())
    contents.triples = len(lines)
    ordered = sorted(lines)
    lines.clear()  # the closures still hold the set: empty it before the join
    return b"".join(ordered), contents


def _make_graph(
    documents: Sequence[Document],
    extractions: Sequence[Extraction],
    iri: Callable[[str, str, str], None],
    literal: Callable[..., None],
    contents: GraphContents,
) -> GraphContents:
    """Make the graph's triples, each passed to ``iri(s, p, o)`` or ``literal(s, p, value,
    extra)`` (maybe more than once); return ``contents`` with its entities, relations and labels
    counted (the caller counts the distinct triples)."""
    for sub, sup in ontology_class_axioms():
        iri(sub, RDFS + "subClassOf", sup)

    entities = merge_entities(extractions)
    mentioned: dict[str, set[str]] = defaultdict(set)
    facts: dict[tuple[str, str, str], list[Fact]] = defaultdict(list)

    for document, extraction in zip(documents, extractions, strict=True):
        doc = document_iri(document.id)
        iri(doc, RDF_TYPE, MLKG + "Document")
        iri(doc, RDF_TYPE, PROV + "Entity")
        literal(doc, DCTERMS + "identifier", document.id)
        literal(doc, DCTERMS + "title", document.title or document.path.stem)
        literal(doc, MLKG + "fileName", document.file_name)
        literal(doc, MLKG + "sha256", document.sha256)
        if document.origin:
            literal(doc, DCTERMS + "source", document.origin)
        if extraction.primary_role:
            iri(doc, MLKG + "primaryRole", extraction.primary_role)
            mentioned[extraction.primary_role].add(document.id)
        for mention in extraction.mentions:
            mentioned[mention.iri].add(document.id)
        for fact in extraction.facts:
            facts[(fact.subject, fact.predicate, fact.object)].append(fact)
            mentioned[fact.subject].add(document.id)
            mentioned[fact.object].add(document.id)
        for salary in extraction.salaries:
            node = salary.iri
            iri(node, RDF_TYPE, SCHEMA + "MonetaryAmountDistribution")
            literal(node, SCHEMA + "currency", salary.currency)
            for name, value in salary.figures().items():
                literal(node, _SALARY_PREDICATES[name], str(int(value)), _INTEGER)
            if salary.organization:
                iri(node, MLKG + "organization", salary.organization)
                mentioned[salary.organization].add(document.id)
            if salary.year:
                literal(node, MLKG + "year", str(int(salary.year)), _INTEGER)
            iri(node, MLKG + "mentionedIn", doc)
            fact = Fact(salary.role, "hasSalary", salary.iri, salary.evidence)
            facts[(salary.role, "hasSalary", salary.iri)].append(fact)
            mentioned[salary.role].add(document.id)

    linking_roles = _linking_roles(facts, entities)
    for node, entity in entities.items():
        if node not in mentioned:
            continue
        contents.entities[entity.cls] += 1
        contents.labels[node] = entity.label
        iri(node, RDF_TYPE, MLKG + entity.cls)
        literal(node, MLKG + "documentCount", str(len(mentioned[node])), _INTEGER)
        if entity.cls != "Role":
            literal(node, MLKG + "roleCount", str(len(linking_roles.get(node, ()))), _INTEGER)
        literal(node, SKOS + "prefLabel", entity.label, _EN)
        for alt in entity.alt_labels:
            if alt != entity.label:
                literal(node, SKOS + "altLabel", alt, _EN)
        if entity.in_vocabulary:
            iri(node, SKOS + "inScheme", VOCABULARY_SCHEME_IRI)
        for document_id in mentioned[node]:
            iri(node, MLKG + "mentionedIn", document_iri(document_id))

    evidence_nodes: set[Evidence] = set()
    for (s, predicate_name, o), stated in facts.items():
        p = MLKG + predicate_name
        iri(s, p, o)
        contents.relations[predicate_name] += 1
        node = fact_iri(s, p, o)
        iri(node, RDF_TYPE, RDF + "Statement")
        iri(node, RDF_TYPE, PROV + "Entity")
        iri(node, RDF + "subject", s)
        iri(node, RDF + "predicate", p)
        iri(node, RDF + "object", o)
        qualifiers = [f.qualifier for f in stated if f.qualifier]
        if qualifiers:
            strongest = min(qualifiers, key=lambda q: (_QUALIFIER_RANK.get(q, 9), q))
            literal(node, MLKG + "qualifier", strongest)
        years = [(f.min_years, f.max_years) for f in stated if f.min_years is not None]
        if years:
            low, high = min(
                years, key=lambda pair: (pair[0] or 0, pair[1] if pair[1] is not None else 999)
            )
            literal(node, MLKG + "minYears", str(low), _INTEGER)
            if high is not None:
                literal(node, MLKG + "maxYears", str(high), _INTEGER)
        for fact in stated:
            evidence = evidence_iri(fact.evidence)
            if fact.evidence not in evidence_nodes:
                evidence_nodes.add(fact.evidence)
                iri(evidence, RDF_TYPE, MLKG + "Evidence")
                iri(evidence, RDF_TYPE, PROV + "Entity")
                literal(evidence, PROV + "value", fact.evidence.text)
                literal(evidence, MLKG + "section", fact.evidence.section)
                literal(evidence, MLKG + "startOffset", str(fact.evidence.start), _INTEGER)
                literal(evidence, MLKG + "endOffset", str(fact.evidence.end), _INTEGER)
                iri(evidence, PROV + "wasQuotedFrom", document_iri(fact.evidence.document_id))
            iri(node, PROV + "wasDerivedFrom", evidence)
    return contents


def _linking_roles(
    facts: dict[tuple[str, str, str], list[Fact]], entities: dict[str, Entity]
) -> dict[str, set[str]]:
    """Return, per entity, the roles with a direct relation to it (``progressesTo`` aside).

    These give ``mlkg:roleCount``: the roles requiring a skill, using a tool, publishing at a
    venue, and so on. Salaries are not entities and role-to-role moves are not counted.
    """
    roles: dict[str, set[str]] = defaultdict(set)
    for subject, predicate, obj in facts:
        if predicate in ("progressesTo", "hasSalary"):
            continue
        subject_entity = entities.get(subject)
        if subject_entity is not None and subject_entity.cls == "Role":
            roles[obj].add(subject)
    return roles


_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r"}
_ESCAPES.update({code: f"\\u{code:04X}" for code in range(0x20) if code not in _ESCAPES})


def ntriples(rows: Iterable[Row]) -> bytes:
    """Return ``rows`` as N-Triples (UTF-8), one line per row, lines sorted.

    Sorted lines keep each subject's triples together (``>`` ends every IRI), and the same rows
    always give the same bytes.

    Examples
    --------
    >>> ntriples([("http://a", "http://b", "L", 'say "hi"', "en|")])
    b'<http://a> <http://b> "say \\\\"hi\\\\""@en .\\n'
    """
    # UTF-8 keeps the order of code points, so sorted bytes are the sorted text, encoded.
    lines = [
        f"<{s}> <{p}> <{o}> .\n".encode() if kind == "I" else _literal_line(s, p, o, extra)
        for s, p, kind, o, extra in rows
    ]
    lines.sort()
    return b"".join(lines)


def _literal_line(s: str, p: str, value: str, extra: str) -> bytes:
    """Return the N-Triples line of a literal triple (``extra`` is ``"language|datatype"``)."""
    language, _, datatype = extra.partition("|")
    text = value.translate(_ESCAPES)
    if language:
        return f'<{s}> <{p}> "{text}"@{language} .\n'.encode()
    if datatype:
        return f'<{s}> <{p}> "{text}"^^<{datatype}> .\n'.encode()
    return f'<{s}> <{p}> "{text}" .\n'.encode()


def build_graph(documents: Sequence[Document], extractions: Sequence[Extraction]) -> Graph:
    """Return the RDF graph of the given documents and their extractions as an rdflib graph.

    The same triples as :func:`graph_triples`; the build itself never makes this object.
    """
    from rdflib import Graph

    graph = Graph()
    graph.parse(data=ntriples(graph_triples(documents, extractions)), format="nt")
    return graph


def rows_of(graph: Graph) -> list[Row]:
    """Return the rows of an rdflib graph (the inverse of :func:`build_graph`)."""
    from rdflib import Literal

    rows = []
    for s, p, o in graph:
        if isinstance(o, Literal):
            rows.append((str(s), str(p), "L", str(o), f"{o.language or ''}|{o.datatype or ''}"))
        else:
            rows.append((str(s), str(p), "I", str(o), ""))
    return rows


def serialize(graph: Graph) -> bytes:
    """Return ``graph`` as Turtle, triples sorted, so the same input always gives the same bytes."""
    return turtle(ntriples(rows_of(graph)))


def turtle(data: bytes) -> bytes:
    """Return N-Triples ``data`` (from :func:`ntriples`) as Turtle, triples in the same order.

    Written by Oxigraph (rdflib's sorted ``longturtle`` writer took 1 s on the seed graph); one
    prefix per kind of instance IRI keeps the file readable. Same rows, same bytes.
    """
    buffer = io.BytesIO()
    write_turtle(data, buffer)
    return buffer.getvalue()


def write_turtle(data: bytes, handle: BinaryIO) -> None:
    """Write N-Triples ``data`` as Turtle (the bytes :func:`turtle` returns) to ``handle``.

    ``handle`` is a new binary file opened for writing and reading (``"w+b"``): the Turtle
    streams into it, so a large graph is never a second time in memory, then its ``@prefix``
    lines, which Oxigraph writes in hash order, are put in sorted order in place.
    """
    import pyoxigraph as ox

    from mlkg.ids import ID_BASE, KIND_OF_CLASS

    triples = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
    prefixes = dict(PREFIXES)
    for kind in sorted({*KIND_OF_CLASS.values(), "document", "evidence", "fact", "salary"}):
        prefixes[kind] = f"{ID_BASE}{kind}/"
    start = handle.tell()
    ox.serialize(triples, handle, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    end = handle.tell()
    handle.seek(start)
    head = handle.read(_HEAD_BYTES)
    while _prefix_head_open(head) and handle.tell() < end:
        head += handle.read(_HEAD_BYTES)
    handle.seek(start)
    handle.write(sort_prefix_lines(head))  # the same lines in another order: the same length
    handle.seek(end)


_HEAD_BYTES = 1 << 16


def _prefix_head_open(head: bytes) -> bool:
    """True when ``head`` may end inside the ``@prefix`` lines a Turtle file starts with."""
    end = _prefix_head_end(head)
    return end < 0 or b"@prefix ".startswith(head[end:])


def _prefix_head_end(data: bytes) -> int:
    """Return where the ``@prefix`` lines ``data`` starts with end (-1: the last has no newline)."""
    end = 0
    while data.startswith(b"@prefix ", end):
        newline = data.find(b"\n", end)
        if newline < 0:
            return -1
        end = newline + 1
    return end


def sort_prefix_lines(data: bytes) -> bytes:
    r"""Return Turtle ``data`` with the ``@prefix`` lines it starts with in sorted order.

    Only that head is split in lines: the rest, as large as the graph, is copied once.

    Examples
    --------
    >>> sort_prefix_lines(b"@prefix b: <urn:b> .\n@prefix a: <urn:a> .\n<urn:x> a b:C .\n")
    b'@prefix a: <urn:a> .\n@prefix b: <urn:b> .\n<urn:x> a b:C .\n'
    """
    end = _prefix_head_end(data)
    if end < 0:  # nothing but prefixes, no final newline
        return b"\n".join(sorted(data.split(b"\n")))
    header = sorted(data[:end].splitlines(keepends=True))
    return b"".join([*header, memoryview(data)[end:]])
