"""Records to RDF: shape of the built graph, provenance of every fact, determinism."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlkg.documents import read_document, read_documents
from mlkg.extract import Extractor
from mlkg.graph import build_graph, merge_entities, serialize
from mlkg.records import ENTITY_CLASSES, RELATIONS
from mlkg.resources import corpus_dir
from mlkg.store import GRAPH_FILE
from mlkg.validate import validate_graph

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
MLKG = "https://w3id.org/mlkg/ontology#"


@functools.cache
def extractor() -> Extractor:
    """The extractor over the bundled vocabulary and cues (built once)."""
    return Extractor()


@pytest.fixture(scope="module")
def seed_graph(seed_build_dir: Path):
    """The seed build's mlkg.ttl parsed into an rdflib Graph."""
    from rdflib import Graph

    return Graph().parse(seed_build_dir / GRAPH_FILE, format="turtle")


def graph_of(paths: list[Path]):
    """Return the graph built from the documents at ``paths``."""
    documents = read_documents(paths).documents
    extractions = [extractor().extract(d) for d in documents]
    return build_graph(documents, extractions)


def test_seed_graph_conforms_to_the_shapes(seed_graph) -> None:
    report = validate_graph(seed_graph)
    assert report.conforms, report.summary()


def test_a_broken_graph_does_not_conform(seed_graph) -> None:
    from rdflib import Graph, URIRef
    from rdflib.namespace import SKOS

    broken = Graph()
    for triple in seed_graph:
        broken.add(triple)
    role = URIRef("https://w3id.org/mlkg/id/role/research-scientist")
    assert broken.value(role, SKOS.prefLabel) is not None
    broken.remove((role, SKOS.prefLabel, None))
    report = validate_graph(broken)
    assert not report.conforms
    assert any(v.focus == str(role) for v in report.violations)
    assert "prefLabel" in report.summary(limit=100)


def _entities(graph):
    from rdflib import RDF, URIRef

    for cls in ENTITY_CLASSES:
        yield from graph.subjects(RDF.type, URIRef(MLKG + cls))


def test_every_entity_has_one_english_label_and_a_document(seed_graph) -> None:
    from rdflib import URIRef
    from rdflib.namespace import SKOS

    entities = list(_entities(seed_graph))
    assert len(entities) > 50
    for entity in entities:
        labels = list(seed_graph.objects(entity, SKOS.prefLabel))
        assert len(labels) == 1, entity
        assert labels[0].language == "en", entity
        assert str(labels[0]) == str(labels[0]).strip() and "\n" not in labels[0]
        documents = list(seed_graph.objects(entity, URIRef(MLKG + "mentionedIn")))
        assert documents, entity


def test_entity_statistics_count_documents_and_linking_roles(seed_graph) -> None:
    """documentCount = its mentionedIn links; roleCount = roles related to it (not roles)."""
    from rdflib import RDF, URIRef

    role_class = URIRef(MLKG + "Role")
    counted = [URIRef(MLKG + p) for p in RELATIONS if p not in ("progressesTo", "hasSalary")]
    linking: dict[object, set[object]] = {}
    for predicate in counted:
        for role, entity in seed_graph.subject_objects(predicate):
            if (role, RDF.type, role_class) in seed_graph:
                linking.setdefault(entity, set()).add(role)
    assert linking, "the seed graph has relations"
    for entity in _entities(seed_graph):
        documents = set(seed_graph.objects(entity, URIRef(MLKG + "mentionedIn")))
        [document_count] = seed_graph.objects(entity, URIRef(MLKG + "documentCount"))
        assert int(document_count) == len(documents), entity
        role_counts = [int(n) for n in seed_graph.objects(entity, URIRef(MLKG + "roleCount"))]
        if (entity, RDF.type, role_class) in seed_graph:
            assert role_counts == [], entity
        else:
            assert role_counts == [len(linking.get(entity, ()))], entity
    assert any(int(n) > 1 for n in seed_graph.objects(None, URIRef(MLKG + "roleCount")))


def test_every_relation_has_a_reified_statement_with_evidence(seed_graph) -> None:
    from rdflib import RDF, URIRef
    from rdflib.namespace import PROV

    texts = {}
    for path in sorted(corpus_dir().glob("*.txt")):
        document, _ = read_document(path)
        texts[f"https://w3id.org/mlkg/id/document/{document.id}"] = document.text
    checked = 0
    for name in RELATIONS:
        predicate = URIRef(MLKG + name)
        for s, o in seed_graph.subject_objects(predicate):
            statements = [
                st
                for st in seed_graph.subjects(RDF.subject, s)
                if (st, RDF.predicate, predicate) in seed_graph
                and (st, RDF.object, o) in seed_graph
            ]
            assert len(statements) == 1, (s, name, o)
            evidence = list(seed_graph.objects(statements[0], PROV.wasDerivedFrom))
            assert evidence, (s, name, o)
            for node in evidence:
                text = str(seed_graph.value(node, PROV.value))
                start = int(seed_graph.value(node, URIRef(MLKG + "startOffset")))
                end = int(seed_graph.value(node, URIRef(MLKG + "endOffset")))
                source = str(seed_graph.value(node, PROV.wasQuotedFrom))
                assert texts[source][start:end] == text
                assert seed_graph.value(node, URIRef(MLKG + "section")) is not None
            checked += 1
    assert checked > 100


def test_every_statement_is_about_a_direct_triple(seed_graph) -> None:
    from rdflib import RDF

    for statement in seed_graph.subjects(RDF.type, RDF.Statement):
        s = seed_graph.value(statement, RDF.subject)
        p = seed_graph.value(statement, RDF.predicate)
        o = seed_graph.value(statement, RDF.object)
        assert (s, p, o) in seed_graph


def test_relations_link_roles_to_the_documented_classes(seed_graph) -> None:
    from rdflib import RDF, URIRef

    def types(node):
        return {str(t)[len(MLKG) :] for t in seed_graph.objects(node, RDF.type)}

    for name in RELATIONS:
        for s, _ in seed_graph.subject_objects(URIRef(MLKG + name)):
            allowed = {"Role", "CareerStage"} if name == "progressesTo" else {"Role"}
            assert types(s) & allowed, (s, name)


def test_every_document_is_described(seed_graph) -> None:
    from rdflib import RDF, URIRef
    from rdflib.namespace import DCTERMS

    documents = list(seed_graph.subjects(RDF.type, URIRef(MLKG + "Document")))
    assert len(documents) == 5
    for document in documents:
        assert seed_graph.value(document, URIRef(MLKG + "sha256")) is not None
        assert seed_graph.value(document, URIRef(MLKG + "primaryRole")) is not None
        assert seed_graph.value(document, DCTERMS.title) is not None


def test_salaries_are_distributions_of_whole_numbers(seed_graph) -> None:
    from rdflib import RDF, URIRef

    schema = "https://schema.org/"
    salaries = list(seed_graph.subjects(RDF.type, URIRef(schema + "MonetaryAmountDistribution")))
    assert salaries
    for salary in salaries:
        assert seed_graph.value(salary, URIRef(schema + "currency")) is not None
        low = seed_graph.value(salary, URIRef(schema + "minValue"))
        high = seed_graph.value(salary, URIRef(schema + "maxValue"))
        if low is not None and high is not None:
            assert 0 <= int(low) <= int(high)
        assert any(seed_graph.subjects(URIRef(MLKG + "hasSalary"), salary))


def test_serialize_is_deterministic_and_round_trips() -> None:
    from rdflib import Graph
    from rdflib.compare import isomorphic

    paths = [FIXTURES, sorted(corpus_dir().glob("*.txt"))[0]]
    first = serialize(graph_of(paths))
    second = serialize(graph_of(paths))
    assert first == second
    parsed_first = Graph().parse(data=first, format="turtle")
    assert isomorphic(parsed_first, graph_of(paths))


def test_seed_build_file_is_isomorphic_to_a_fresh_graph(seed_graph) -> None:
    from rdflib.compare import isomorphic

    assert isomorphic(seed_graph, graph_of([corpus_dir()]))


def test_document_order_does_not_change_the_graph() -> None:
    from rdflib.compare import isomorphic

    documents = read_documents([FIXTURES]).documents
    extractions = [extractor().extract(d) for d in documents]
    forward = build_graph(documents, extractions)
    backward = build_graph(documents[::-1], extractions[::-1])
    assert isomorphic(forward, backward)
    assert serialize(forward) == serialize(backward)


def test_graph_ntriples_are_the_sorted_lines_of_the_rows_with_their_contents() -> None:
    from collections import Counter

    from mlkg.graph import RDF_TYPE, graph_ntriples, graph_triples, ntriples
    from mlkg.ids import ONTOLOGY_IRI, SKOS

    documents = read_documents([FIXTURES, corpus_dir()]).documents
    extractions = [extractor().extract(d) for d in documents]
    rows = graph_triples(documents, extractions)
    data, contents = graph_ntriples(documents, extractions)
    assert data == ntriples(rows)
    assert contents.triples == len(rows) == data.count(b"\n")
    skipped = {ONTOLOGY_IRI + "Document", ONTOLOGY_IRI + "Evidence"}
    typed = Counter(
        o.removeprefix(ONTOLOGY_IRI)
        for _, p, _, o, _ in rows
        if p == RDF_TYPE and o.startswith(ONTOLOGY_IRI) and o not in skipped
    )
    assert contents.entities == typed
    relations = Counter(
        p.removeprefix(ONTOLOGY_IRI)
        for _, p, _, _, _ in rows
        if p in {ONTOLOGY_IRI + n for n in (*RELATIONS, "hasSalary")}
    )
    assert contents.relations == relations
    assert set(contents.relations) >= {"requiresSkill", "usesTool", "hasSalary"}
    labels = {s: o for s, p, _, o, _ in rows if p == SKOS + "prefLabel"}
    assert contents.labels == labels


@pytest.mark.parametrize("head_bytes", [1, 7, 1 << 16])
def test_write_turtle_streams_oxigraphs_turtle_with_sorted_prefixes(
    head_bytes: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import re

    import pyoxigraph as ox

    import mlkg.graph
    from mlkg.graph import graph_ntriples, turtle, write_turtle

    documents = read_documents([FIXTURES]).documents
    data, _ = graph_ntriples(documents, [extractor().extract(d) for d in documents])
    monkeypatch.setattr(mlkg.graph, "_HEAD_BYTES", head_bytes)  # prefixes read in many pieces
    with (tmp_path / "g.ttl").open("w+b") as handle:
        handle.write(b"kept")  # the Turtle goes where the handle is
        write_turtle(data, handle)
        assert handle.tell() == handle.seek(0, 2)
    written = (tmp_path / "g.ttl").read_bytes()
    assert written.startswith(b"kept@prefix ")
    # the reference: Oxigraph's own output with the same prefixes, its head sorted
    prefixes = dict(re.findall(rb"^@prefix ([\w-]*): <([^>]*)> \.$", written[4:], re.MULTILINE))
    assert len(prefixes) > 5
    raw = ox.serialize(
        ox.parse(data, format=ox.RdfFormat.N_TRIPLES),
        format=ox.RdfFormat.TURTLE,
        prefixes={k.decode(): v.decode() for k, v in prefixes.items()},
    )
    assert raw is not None
    lines = raw.split(b"\n")
    heads = next(i for i, line in enumerate(lines) if not line.startswith(b"@prefix "))
    reference = b"\n".join([*sorted(lines[:heads]), *lines[heads:]])
    assert reference != raw  # Oxigraph's own order is not sorted: the test sorts something
    assert written[4:] == reference == turtle(data)
    with (tmp_path / "empty.ttl").open("w+b") as handle:
        write_turtle(b"", handle)
    assert (tmp_path / "empty.ttl").read_bytes() == turtle(b"")


def test_entities_merge_across_documents(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Data Scientist\n\nData Scientists use PyTorch.\n")
    (tmp_path / "b.md").write_text("# ML Engineer\n\nML Engineers use Pytorch daily.\n")
    graph = graph_of([tmp_path])
    from rdflib import URIRef

    pytorch = URIRef("https://w3id.org/mlkg/id/tool/pytorch")
    assert len(list(graph.objects(pytorch, URIRef(MLKG + "mentionedIn")))) == 2


def test_merge_keeps_the_first_label_and_collects_alt_labels() -> None:
    from mlkg.records import Entity, Extraction

    a = Extraction("a", entities={"x": Entity("x", "Role", "ML Engineer", ("MLE",))})
    b = Extraction("b", entities={"x": Entity("x", "Role", "Ml Engineer", ("Machine L. E.",))})
    merged = merge_entities([a, b])["x"]
    assert merged.label == "ML Engineer"
    assert set(merged.alt_labels) == {"MLE", "Machine L. E.", "Ml Engineer"}


def test_hostile_text_survives_serialisation(tmp_path: Path) -> None:
    from rdflib import Graph, Literal
    from rdflib.namespace import SKOS

    (tmp_path / "evil.md").write_text(
        "# Data Scientist\n\n"
        "Programming languages: Python, <img src=x onerror=alert(1)>, "
        "</script><script>alert(1)</script> and Zig.\n"
        'Frameworks (e.g., PyTorch, "Quoted" {Curly} `Tick` \\Back).\n'
    )
    graph = graph_of([tmp_path])
    data = serialize(graph)
    parsed = Graph().parse(data=data, format="turtle")
    assert len(parsed) == len(graph)
    assert validate_graph(parsed).conforms
    for iri in parsed.subjects(SKOS.prefLabel, None):
        assert not any(c in str(iri) for c in ' <>"{}|^`\\')
    assert Literal("Data Scientist", lang="en") in set(parsed.objects(None, SKOS.prefLabel))


def _prefixes_sorted_by_splitting_everything(data: bytes) -> bytes:
    """The obvious way to sort the prefix lines, kept as the reference."""
    lines = data.split(b"\n")
    header = sorted(line for line in lines if line.startswith(b"@prefix "))
    return b"\n".join(header + [line for line in lines if not line.startswith(b"@prefix ")])


@settings(max_examples=300, deadline=None)
@given(
    prefixes=st.lists(st.text("abc:", max_size=4), max_size=4),
    body=st.lists(st.text('xy z."<>', max_size=6), max_size=4),
    final_newline=st.booleans(),
)
def test_sort_prefix_lines_matches_sorting_every_line(
    prefixes: list[str], body: list[str], final_newline: bool
) -> None:
    from mlkg.graph import sort_prefix_lines

    lines = [f"@prefix {p} <urn:x> ." for p in prefixes] + body
    data = ("\n".join(lines) + ("\n" if final_newline else "")).encode()
    assert sort_prefix_lines(data) == _prefixes_sorted_by_splitting_everything(data)
