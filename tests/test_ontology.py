"""The vocabulary as data: ontology/mlkg.ttl, ontology/shapes.ttl and ontology/vocabulary.ttl.

The ontology must stay in sync with :class:`mlkg.namespace.MLKG`; the shapes must accept the
hand-made fixture graph and reject each kind of bad graph with its own message; the SKOS vocabulary
must follow the id scheme of docs/data-model.md and never give one label to two concepts of one
class.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD

from mlkg.namespace import ID_IRI, MLKG, ONTOLOGY_IRI, SCHEMA, VOCABULARY_SCHEME
from mlkg.resources import corpus_dir, ontology_dir

ONTOLOGY_FILE = ontology_dir() / "mlkg.ttl"
SHAPES_FILE = ontology_dir() / "shapes.ttl"
VOCABULARY_FILE = ontology_dir() / "vocabulary.ttl"

# docs/data-model.md, "Entity IRIs": the kind of IRI each entity class gets.
KIND_OF_CLASS = {
    MLKG.Role: "role",
    MLKG.TechnicalSkill: "skill",
    MLKG.SoftSkill: "skill",
    MLKG.Tool: "tool",
    MLKG.ProgrammingLanguage: "language",
    MLKG.Venue: "venue",
    MLKG.CareerStage: "stage",
    MLKG.Degree: "degree",
    MLKG.FieldOfStudy: "field",
    MLKG.ResearchArea: "area",
    MLKG.Organization: "organization",
    MLKG.Industry: "industry",
}
ENTITY_IRI = re.compile(r"^https://w3id.org/mlkg/id/([a-z]+)/[a-z0-9]+(-[a-z0-9]+)*$")
DECLARATION_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
# One word of letters only: the labels that make a concept ambiguous ("R", "Go", "Spark").
BARE_WORD = re.compile(r"^[^\W\d_]+$")


# --------------------------------------------------------------------------------------------
# helpers and fixtures


def _parse(path: Path) -> Graph:
    return Graph().parse(path, format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """The ontology graph."""
    return _parse(ONTOLOGY_FILE)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """The SHACL shapes graph."""
    return _parse(SHAPES_FILE)


@pytest.fixture(scope="module")
def vocabulary() -> Graph:
    """The SKOS vocabulary graph."""
    return _parse(VOCABULARY_FILE)


def _mlkg_terms() -> set[URIRef]:
    """Every term of the closed DefinedNamespace MLKG."""
    return {MLKG[name] for name in MLKG.__annotations__}


def _declared(ontology: Graph) -> set[URIRef]:
    """Every term of the mlkg namespace declared in the ontology as a class or property."""
    found = set()
    for kind in DECLARATION_TYPES:
        for term in ontology.subjects(RDF.type, kind):
            if isinstance(term, URIRef) and str(term).startswith(ONTOLOGY_IRI):
                found.add(term)
    return found


def _concepts(vocabulary: Graph) -> list[URIRef]:
    """Every skos:Concept of the vocabulary, sorted."""
    return sorted(c for c in vocabulary.subjects(RDF.type, SKOS.Concept) if isinstance(c, URIRef))


def _mlkg_classes(graph: Graph, node: URIRef) -> list[URIRef]:
    return sorted(
        t for t in graph.objects(node, RDF.type) if isinstance(t, URIRef) and t in _mlkg_terms()
    )


def _labels(graph: Graph, node: URIRef) -> list[Literal]:
    pref = [lit for lit in graph.objects(node, SKOS.prefLabel) if isinstance(lit, Literal)]
    alt = [lit for lit in graph.objects(node, SKOS.altLabel) if isinstance(lit, Literal)]
    return pref + alt


def _superclasses(ontology: Graph, cls: URIRef) -> set[URIRef]:
    return {c for c in ontology.transitive_objects(cls, RDFS.subClassOf) if isinstance(c, URIRef)}


# --------------------------------------------------------------------------------------------
# parsing


@pytest.mark.parametrize(
    "path", [ONTOLOGY_FILE, SHAPES_FILE, VOCABULARY_FILE], ids=lambda p: p.name
)
def test_file_parses_with_rdflib_and_oxigraph(path: Path) -> None:
    import pyoxigraph

    graph = _parse(path)
    assert len(graph) > 50
    # The store and the vocabulary loader use Oxigraph's parser: it must agree on the triples.
    quads = list(pyoxigraph.parse(path.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(quads) == len(graph)


# --------------------------------------------------------------------------------------------
# the ontology


def test_ontology_header(ontology: Graph) -> None:
    onto = URIRef(ONTOLOGY_IRI.rstrip("#"))
    assert (onto, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(onto, OWL.versionInfo) is not None
    assert ontology.value(onto, OWL.versionIRI) is not None
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.license):
        assert ontology.value(onto, prop) is not None, prop


def test_namespace_and_ontology_declare_the_same_terms(ontology: Graph) -> None:
    in_python = _mlkg_terms()
    in_turtle = _declared(ontology)
    assert sorted(in_python - in_turtle) == [], "in mlkg.namespace.MLKG but not in mlkg.ttl"
    assert sorted(in_turtle - in_python) == [], "in mlkg.ttl but not in mlkg.namespace.MLKG"


def test_each_term_is_declared_once(ontology: Graph) -> None:
    for term in _declared(ontology):
        kinds = {k for k in DECLARATION_TYPES if (term, RDF.type, k) in ontology}
        assert len(kinds) == 1, (term, kinds)


@pytest.mark.parametrize("term", sorted(_mlkg_terms()), ids=lambda t: t.split("#")[-1])
def test_term_has_english_label_definition_domain_and_range(ontology: Graph, term: URIRef) -> None:
    labels = list(ontology.objects(term, RDFS.label))
    definitions = list(ontology.objects(term, SKOS.definition))
    assert [getattr(lit, "language", None) for lit in labels] == ["en"], labels
    assert [getattr(lit, "language", None) for lit in definitions] == ["en"], definitions
    assert len(str(definitions[0])) > 20
    assert ontology.value(term, RDFS.isDefinedBy) == URIRef(ONTOLOGY_IRI.rstrip("#"))
    if (term, RDF.type, OWL.Class) in ontology:
        assert list(ontology.objects(term, RDFS.subClassOf)), f"{term} has no superclass"
    else:
        assert ontology.value(term, RDFS.domain) is not None, f"{term} has no rdfs:domain"
        assert ontology.value(term, RDFS.range) is not None, f"{term} has no rdfs:range"


@pytest.mark.parametrize(
    ("cls", "superclass"),
    [
        (MLKG.TechnicalSkill, MLKG.Skill),
        (MLKG.SoftSkill, MLKG.Skill),
        (MLKG.ProgrammingLanguage, MLKG.Tool),
        (MLKG.Role, SCHEMA.Occupation),
        (MLKG.Organization, SCHEMA.Organization),
        (MLKG.Document, PROV.Entity),
        (MLKG.Evidence, PROV.Entity),
        *[(cls, SKOS.Concept) for cls in KIND_OF_CLASS],
        (MLKG.Skill, SKOS.Concept),
    ],
    ids=lambda t: t.split("#")[-1].split("/")[-1],
)
def test_class_hierarchy_follows_the_data_model(
    ontology: Graph, cls: URIRef, superclass: URIRef
) -> None:
    assert superclass in _superclasses(ontology, cls)


def test_progresses_to_is_not_transitive(ontology: Graph) -> None:
    # Routes are computed from documented steps; a reasoner must not invent steps.
    assert (MLKG.progressesTo, RDF.type, OWL.TransitiveProperty) not in ontology
    assert "not transitive" in str(ontology.value(MLKG.progressesTo, SKOS.definition))


def _union_members(ontology: Graph, node: URIRef | BNode) -> set[URIRef]:
    members = ontology.value(node, OWL.unionOf)
    assert members is not None
    return {m for m in ontology.items(members) if isinstance(m, URIRef)}


def test_works_in_range_is_industry_or_organization(ontology: Graph) -> None:
    range_node = ontology.value(MLKG.worksIn, RDFS.range)
    assert isinstance(range_node, BNode)
    assert _union_members(ontology, range_node) == {MLKG.Industry, MLKG.Organization}


def test_qualifier_range_lists_the_allowed_values(ontology: Graph) -> None:
    range_node = ontology.value(MLKG.qualifier, RDFS.range)
    assert range_node is not None
    values = ontology.value(range_node, OWL.oneOf)
    assert values is not None
    assert {str(v) for v in ontology.items(values)} == {"minimum", "preferred", "typical"}


@pytest.mark.parametrize(
    "path", [ONTOLOGY_FILE, SHAPES_FILE, VOCABULARY_FILE], ids=lambda p: p.name
)
def test_every_mlkg_iri_used_is_a_declared_term(ontology: Graph, path: Path) -> None:
    # Catches a typo such as mlkg:requireSkill in the shapes or the vocabulary.
    declared = _declared(ontology)
    graph = _parse(path)
    used = {
        node
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and str(node).startswith(ONTOLOGY_IRI)
    }
    assert sorted(used - declared) == []


# --------------------------------------------------------------------------------------------
# the shapes


def test_one_node_shape_per_class(ontology: Graph, shapes: Graph) -> None:
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    targets = set(shapes.objects(None, SH.targetClass))
    assert classes <= targets
    assert {RDF.Statement, SCHEMA.MonetaryAmountDistribution} <= targets
    for cls in targets:
        assert len(list(shapes.subjects(SH.targetClass, cls))) == 1, cls


def test_every_property_shape_has_a_message(shapes: Graph) -> None:
    property_shapes = set(shapes.objects(None, SH.property)) | set(
        shapes.subjects(RDF.type, SH.PropertyShape)
    )
    assert len(property_shapes) > 30
    for shape in property_shapes:
        assert shapes.value(shape, SH.message) is not None, shapes.value(shape, SH.path)
    for constraint in shapes.objects(None, SH.sparql):
        assert shapes.value(constraint, SH.message) is not None


def test_role_shape_checks_each_relation_against_its_range(ontology: Graph, shapes: Graph) -> None:
    # The shapes and the ontology's rdfs:range must tell the same story.
    role_shape = shapes.value(None, SH.targetClass, MLKG.Role)
    checked = {}
    for prop_shape in shapes.objects(role_shape, SH.property):
        path = shapes.value(prop_shape, SH.path)
        cls = shapes.value(prop_shape, SH["class"])
        alternatives = shapes.value(prop_shape, SH["or"])
        if alternatives is not None:
            checked[path] = {shapes.value(a, SH["class"]) for a in shapes.items(alternatives)}
        elif cls is not None:
            checked[path] = {cls}
    relations = [
        p
        for p in ontology.subjects(RDFS.domain, MLKG.Role)
        if (p, RDF.type, OWL.ObjectProperty) in ontology
    ]
    assert len(relations) >= 9
    for prop in relations:
        range_node = ontology.value(prop, RDFS.range)
        expected = (
            _union_members(ontology, range_node) if isinstance(range_node, BNode) else {range_node}
        )
        assert checked.get(prop) == expected, prop
    # progressesTo has a union domain (Role or CareerStage); from a Role it must reach a Role.
    assert checked[MLKG.progressesTo] == {MLKG.Role}


def test_shapes_graph_is_valid_shacl(fixture_graph: Graph, ontology: Graph, shapes: Graph) -> None:
    import pyshacl

    conforms, _report, text = pyshacl.validate(
        fixture_graph, shacl_graph=shapes, ont_graph=ontology, meta_shacl=True, advanced=True
    )
    assert conforms, text


def _validate(data: Graph, ontology: Graph, shapes: Graph) -> tuple[bool, list[str]]:
    """Validate ``data`` (plus the ontology) and return (conforms, result messages).

    pySHACL is the reference engine; the build's engine (shifty, :mod:`mlkg.validate`) must give
    the same verdict on the same focus nodes, so every case here also checks the two agree.
    """
    import pyshacl

    from mlkg.validate import validate_data

    conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True
    )
    messages = sorted(str(m) for m in report.objects(None, SH.resultMessage))
    build = validate_data(
        (data + ontology).serialize(format="nt", encoding="utf-8"),
        shapes=shapes.serialize(format="turtle"),
    )
    assert build.conforms == bool(conforms), (build.summary(), messages)
    reference_focus = {str(f) for f in report.objects(None, SH.focusNode)}
    assert {v.focus for v in build.violations} == reference_focus, build.summary()
    return bool(conforms), messages


@pytest.fixture()
def fixture_graph(small_graph_file: Path) -> Graph:
    """A fresh, mutable copy of the hand-made fixture graph."""
    return _parse(small_graph_file)


def test_shapes_accept_the_fixture_graph(
    fixture_graph: Graph, ontology: Graph, shapes: Graph
) -> None:
    conforms, messages = _validate(fixture_graph, ontology, shapes)
    assert conforms, messages


ROLE = URIRef(ID_IRI + "role/data-scientist")
SALARY = URIRef(ID_IRI + "salary/0000000000000001")
FACT = URIRef(ID_IRI + "fact/f000000000000005")
DOC = URIRef(ID_IRI + "document/aaaaaaaaaaaaaaaa")
EVIDENCE = URIRef(ID_IRI + "evidence/bbbbbbbbbbbbbbbb-10-80")
TOOL = URIRef(ID_IRI + "tool/pytorch")
SOFT = URIRef(ID_IRI + "skill/communication")


def _set(graph: Graph, node: URIRef, prop: URIRef, value: object) -> None:
    graph.set((node, prop, value if isinstance(value, URIRef | Literal) else Literal(value)))


def _set_years(g: Graph, low: int, high: int) -> None:
    _set(g, FACT, MLKG.minYears, low)
    _set(g, FACT, MLKG.maxYears, high)


def _remove_figures(g: Graph) -> None:
    for prop in (SCHEMA.minValue, SCHEMA.maxValue):
        g.remove((SALARY, prop, None))


BAD_GRAPHS: dict[str, tuple[Callable[[Graph], object], str]] = {
    "two prefLabels": (
        lambda g: g.add((ROLE, SKOS.prefLabel, Literal("Data scientist (2)", lang="en"))),
        "exactly one skos:prefLabel",
    ),
    "prefLabel not @en": (
        lambda g: g.set((ROLE, SKOS.prefLabel, Literal("Datenwissenschaftler", lang="de"))),
        "exactly one skos:prefLabel",
    ),
    "prefLabel with a newline": (
        lambda g: g.set((ROLE, SKOS.prefLabel, Literal("Data\nScientist", lang="en"))),
        "exactly one skos:prefLabel",
    ),
    "altLabel without language": (
        lambda g: g.add((ROLE, SKOS.altLabel, Literal("DS"))),
        "Every skos:altLabel must be an @en literal",
    ),
    "missing mentionedIn": (
        lambda g: g.remove((TOOL, MLKG.mentionedIn, None)),
        "mentionedIn at least one mlkg:Document",
    ),
    "mentionedIn a non-document": (
        lambda g: g.add((TOOL, MLKG.mentionedIn, ROLE)),
        "mentionedIn at least one mlkg:Document",
    ),
    "worksIn a tool": (
        lambda g: g.add((ROLE, MLKG.worksIn, TOOL)),
        "mlkg:worksIn must point to a mlkg:Industry or a mlkg:Organization",
    ),
    "requiresSkill a tool": (
        lambda g: g.add((ROLE, MLKG.requiresSkill, TOOL)),
        "mlkg:requiresSkill must point to a mlkg:Skill",
    ),
    "progressesTo a tool": (
        lambda g: g.add((ROLE, MLKG.progressesTo, TOOL)),
        "mlkg:progressesTo from a mlkg:Role must point to a mlkg:Role",
    ),
    "skill of the abstract class only": (
        lambda g: (g.remove((SOFT, RDF.type, MLKG.SoftSkill)), g.add((SOFT, RDF.type, MLKG.Skill))),
        "mlkg:Skill alone is abstract",
    ),
    "technical and soft skill": (
        lambda g: g.add((SOFT, RDF.type, MLKG.TechnicalSkill)),
        "either a mlkg:TechnicalSkill or a mlkg:SoftSkill",
    ),
    "salary min > max": (
        lambda g: _set(g, SALARY, SCHEMA.minValue, 200000),
        "schema:minValue must not exceed its schema:maxValue",
    ),
    "salary bad currency": (
        lambda g: _set(g, SALARY, SCHEMA.currency, "usd"),
        "exactly one schema:currency",
    ),
    "salary two currencies": (
        lambda g: g.add((SALARY, SCHEMA.currency, Literal("EUR"))),
        "exactly one schema:currency",
    ),
    "salary negative figure": (
        lambda g: _set(g, SALARY, SCHEMA.maxValue, -5),
        "at most one schema:maxValue, a non-negative xsd:integer",
    ),
    "salary decimal figure": (
        lambda g: _set(g, SALARY, SCHEMA.median, Literal("100000.5", datatype=XSD.decimal)),
        "at most one schema:median, a non-negative xsd:integer",
    ),
    "salary without figures": (
        _remove_figures,
        "A salary needs at least one figure",
    ),
    "fact without evidence": (
        lambda g: g.remove((FACT, PROV.wasDerivedFrom, None)),
        "prov:wasDerivedFrom at least one mlkg:Evidence",
    ),
    "fact with two subjects": (
        lambda g: g.add((FACT, RDF.subject, ROLE)),
        "exactly one rdf:subject",
    ),
    "fact with a foreign predicate": (
        lambda g: g.set((FACT, RDF.predicate, RDFS.seeAlso)),
        "one of the mlkg relation properties",
    ),
    "fact bad qualifier": (
        lambda g: _set(g, FACT, MLKG.qualifier, "required"),
        "mlkg:qualifier, where present, is one of",
    ),
    "fact minYears > maxYears": (
        lambda g: _set_years(g, 5, 2),
        "mlkg:minYears must not exceed its mlkg:maxYears",
    ),
    "document bad sha256": (
        lambda g: _set(g, DOC, MLKG.sha256, "not-a-digest"),
        "exactly one mlkg:sha256 of 64 lower-case hex digits",
    ),
    "document without fileName": (
        lambda g: g.remove((DOC, MLKG.fileName, None)),
        "exactly one non-empty mlkg:fileName",
    ),
    "document identifier not from sha256": (
        lambda g: _set(g, DOC, DCTERMS.identifier, "0123456789abcdef"),
        "first 16 hex digits of its mlkg:sha256",
    ),
    "evidence without value": (
        lambda g: g.remove((EVIDENCE, PROV.value, None)),
        "exactly one non-empty prov:value",
    ),
    "evidence negative offset": (
        lambda g: _set(g, EVIDENCE, MLKG.startOffset, -1),
        "exactly one mlkg:startOffset, a non-negative xsd:integer",
    ),
    "evidence start after end": (
        lambda g: _set(g, EVIDENCE, MLKG.startOffset, 500),
        "mlkg:startOffset must not exceed its mlkg:endOffset",
    ),
    "evidence quoted from a role": (
        lambda g: g.set((EVIDENCE, PROV.wasQuotedFrom, ROLE)),
        "prov:wasQuotedFrom exactly one mlkg:Document",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_GRAPHS))
def test_shapes_reject_a_bad_graph_with_its_message(
    case: str, fixture_graph: Graph, ontology: Graph, shapes: Graph
) -> None:
    mutate, expected = BAD_GRAPHS[case]
    mutate(fixture_graph)
    conforms, messages = _validate(fixture_graph, ontology, shapes)
    assert not conforms
    assert any(expected in m for m in messages), messages


def test_shapes_accept_explicit_xsd_string_literals(
    fixture_graph: Graph, ontology: Graph, shapes: Graph
) -> None:
    # An Oxigraph-backed graph returns plain literals as "..."^^xsd:string.
    for s, p, o in list(fixture_graph):
        if isinstance(o, Literal) and o.datatype is None and o.language is None:
            fixture_graph.set((s, p, Literal(str(o), datatype=XSD.string)))
    conforms, messages = _validate(fixture_graph, ontology, shapes)
    assert conforms, messages


def test_whole_graph_checks_name_the_offending_node(
    fixture_graph: Graph, ontology: Graph, shapes: Graph
) -> None:
    # The SPARQL checks run once per graph (pySHACL re-parses a per-node query for every node),
    # so their focus is the class; the message must still say which salary is wrong.
    _set(fixture_graph, SALARY, SCHEMA.minValue, 200000)
    conforms, messages = _validate(fixture_graph, ontology, shapes)
    assert not conforms
    assert f"({SALARY}: 200000 > 100000)" in " ".join(messages), messages


def _tiny_salary_graph(low: int, high: int) -> Graph:
    """A document and one salary: the smallest graph the salary shape applies to."""
    graph = Graph()
    digest = "c" * 64
    doc = URIRef(ID_IRI + "document/" + digest[:16])
    salary = URIRef(ID_IRI + "salary/00000000000000aa")
    graph.add((doc, RDF.type, MLKG.Document))
    graph.add((doc, DCTERMS.identifier, Literal(digest[:16])))
    graph.add((doc, MLKG.sha256, Literal(digest)))
    graph.add((doc, MLKG.fileName, Literal("x.txt")))
    graph.add((salary, RDF.type, SCHEMA.MonetaryAmountDistribution))
    graph.add((salary, SCHEMA.currency, Literal("USD")))
    graph.add((salary, SCHEMA.minValue, Literal(low)))
    graph.add((salary, SCHEMA.maxValue, Literal(high)))
    graph.add((salary, MLKG.mentionedIn, doc))
    return graph


@settings(max_examples=25, deadline=None)
@given(
    low=st.integers(min_value=0, max_value=10**9),
    high=st.integers(min_value=0, max_value=10**9),
)
def test_salary_order_is_numeric(ontology: Graph, shapes: Graph, low: int, high: int) -> None:
    # 99,000 < 100,000 although "99000" > "100000" as text: the check must compare numbers.
    conforms, messages = _validate(_tiny_salary_graph(low, high), ontology, shapes)
    assert conforms == (low <= high), messages


# --------------------------------------------------------------------------------------------
# the vocabulary


def test_vocabulary_scheme(vocabulary: Graph) -> None:
    assert (VOCABULARY_SCHEME, RDF.type, SKOS.ConceptScheme) in vocabulary
    assert vocabulary.value(VOCABULARY_SCHEME, DCTERMS.title) is not None


def test_every_concept_is_in_the_scheme(vocabulary: Graph) -> None:
    for concept in _concepts(vocabulary):
        assert list(vocabulary.objects(concept, SKOS.inScheme)) == [VOCABULARY_SCHEME], concept


def test_every_concept_has_one_english_pref_label(vocabulary: Graph) -> None:
    for concept in _concepts(vocabulary):
        pref = list(vocabulary.objects(concept, SKOS.prefLabel))
        assert len(pref) == 1, (concept, pref)
        assert isinstance(pref[0], Literal) and pref[0].language == "en", (concept, pref)


def test_every_label_is_clean_english(vocabulary: Graph) -> None:
    for concept in _concepts(vocabulary):
        for label in _labels(vocabulary, concept):
            assert label.language == "en", (concept, label)
            text = str(label)
            assert text == text.strip() and text, (concept, text)
            assert "  " not in text, (concept, text)
            assert all(ch.isprintable() for ch in text), (concept, text)


def test_every_concept_has_one_entity_class_matching_its_iri(vocabulary: Graph) -> None:
    for concept in _concepts(vocabulary):
        classes = _mlkg_classes(vocabulary, concept)
        assert len(classes) == 1, (concept, classes)
        assert classes[0] in KIND_OF_CLASS, (concept, classes)
        match = ENTITY_IRI.match(str(concept))
        assert match, f"{concept} does not follow mlkgid:{{kind}}/{{slug}}"
        assert match.group(1) == KIND_OF_CLASS[classes[0]], (concept, classes[0])


def _label_groups(vocabulary: Graph) -> dict[tuple[str, str], set[URIRef]]:
    """Map (class group, casefolded label) to the concepts carrying it.

    Classes that share an IRI kind or a superclass the extractor resolves together (TechnicalSkill
    and SoftSkill; Tool and ProgrammingLanguage) form one group.
    """
    group_of = {
        MLKG.TechnicalSkill: "Skill",
        MLKG.SoftSkill: "Skill",
        MLKG.ProgrammingLanguage: "Tool",
    }
    groups: dict[tuple[str, str], set[URIRef]] = defaultdict(set)
    for concept in _concepts(vocabulary):
        (cls,) = _mlkg_classes(vocabulary, concept)
        group = group_of.get(cls, str(cls))
        for label in _labels(vocabulary, concept):
            groups[(group, str(label).casefold())].add(concept)
    return groups


def test_no_label_is_shared_by_two_concepts_of_one_class(vocabulary: Graph) -> None:
    shared = {key: sorted(c) for key, c in _label_groups(vocabulary).items() if len(c) > 1}
    assert shared == {}


# Labels deliberately shared by concepts of different classes (ADR 0001): the extractor picks
# the class from context. A new entry here is a decision, not an accident.
SHARED_ACROSS_CLASSES = {
    "artificial intelligence": {"FieldOfStudy", "ResearchArea"},
    "machine learning": {"FieldOfStudy", "ResearchArea"},
    "robotics": {"FieldOfStudy", "ResearchArea"},
    "software engineering": {"FieldOfStudy", "Skill"},
    "statistics": {"FieldOfStudy", "Skill"},
    "leadership": {"CareerStage", "Skill"},
}


def test_labels_shared_across_classes_are_the_documented_ones(vocabulary: Graph) -> None:
    groups: dict[str, set[str]] = defaultdict(set)
    for group, label in _label_groups(vocabulary):
        groups[label].add(group.rsplit("#", 1)[-1])
    shared = {label: g for label, g in groups.items() if len(g) > 1}
    assert shared == SHARED_ACROSS_CLASSES


def test_no_concept_repeats_a_label_up_to_case(vocabulary: Graph) -> None:
    # The extractor matches case-insensitively: a pure case variant is noise.
    for concept in _concepts(vocabulary):
        labels = [str(lit).casefold() for lit in _labels(vocabulary, concept)]
        assert len(labels) == len(set(labels)), (concept, sorted(labels))


def test_needs_context_concepts_have_cues(vocabulary: Graph) -> None:
    flagged = set(vocabulary.subjects(MLKG.needsContext, Literal(True)))
    assert len(flagged) >= 20, "expected ambiguous concepts (R, Go, Spark, ...)"
    for concept in vocabulary.subjects(MLKG.needsContext, None):
        value = vocabulary.value(concept, MLKG.needsContext)
        assert isinstance(value, Literal) and value.datatype == XSD.boolean, (concept, value)
    for concept in sorted(c for c in flagged if isinstance(c, URIRef)):
        cues = [str(c) for c in vocabulary.objects(concept, MLKG.contextCue)]
        assert cues, f"{concept} needs context but has no mlkg:contextCue"
        assert all(c == c.strip() and c for c in cues), (concept, cues)
        literals = list(vocabulary.objects(concept, MLKG.contextCue))
        assert all(isinstance(c, Literal) and c.language is None for c in literals), concept
    for concept in set(vocabulary.subjects(MLKG.contextCue, None)):
        assert concept in flagged, f"{concept} has cues but no mlkg:needsContext true"


def test_longer_labels_of_ambiguous_concepts_confirm_themselves(vocabulary: Graph) -> None:
    # The extractor asks for a cue near any label of a needsContext concept; a label such as
    # "Apache Spark" or "R programming" must not be dropped, so it contains one of the cues.
    for concept in set(vocabulary.subjects(MLKG.needsContext, Literal(True))):
        assert isinstance(concept, URIRef)
        cues = [str(c) for c in vocabulary.objects(concept, MLKG.contextCue)]
        cue = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(c) for c in cues) + r")(?!\w)", re.IGNORECASE
        )
        for label in _labels(vocabulary, concept):
            if not BARE_WORD.match(str(label)):
                assert cue.search(str(label)), f"{concept}: {label!r} contains none of {cues}"


@pytest.mark.parametrize(
    ("label", "iri"),
    [
        ("R", "language/r"),
        ("Go", "language/go"),
        ("Julia", "language/julia"),
        ("Rust", "language/rust"),
        ("Swift", "language/swift"),
        ("Spark", "tool/apache-spark"),
        ("Ray", "tool/ray"),
        ("Excel", "tool/microsoft-excel"),
        ("Nature", "venue/nature"),
        ("Science", "venue/science"),
        ("C", "language/c"),
        ("Shell", "language/shell"),
        ("Junior", "stage/entry-level"),
        ("Lead", "stage/lead"),
        ("FAIR", "organization/meta-ai"),
        ("Apple", "organization/apple"),
        ("Oracle", "organization/oracle"),
        ("Cambridge", "organization/university-of-cambridge"),
        ("technology", "industry/technology"),
        ("education", "industry/education"),
        ("Hive", "tool/apache-hive"),
        ("Helm", "tool/helm"),
    ],
)
def test_ambiguous_terms_need_context(vocabulary: Graph, label: str, iri: str) -> None:
    # Common English words and letters: without a cue they would match ordinary prose.
    concept = URIRef(ID_IRI + iri)
    assert label.casefold() in {str(lit).casefold() for lit in _labels(vocabulary, concept)}
    assert vocabulary.value(concept, MLKG.needsContext) == Literal(True)


@pytest.mark.parametrize(
    ("iri", "pref", "alts"),
    [
        ("tool/pytorch", "PyTorch", []),
        ("tool/scikit-learn", "scikit-learn", ["sklearn", "scikit learn"]),
        ("language/cpp", "C++", ["C plus plus"]),
        ("language/python", "Python", []),
        ("degree/phd", "PhD", ["Ph.D.", "Ph.D", "doctorate", "doctoral degree"]),
        ("degree/masters-degree", "Master's degree", ["MSc", "M.S.", "MS degree", "Master's"]),
        ("degree/bachelors-degree", "Bachelor's degree", ["BSc", "B.S."]),
        ("venue/neurips", "NeurIPS", ["NIPS", "Neural Information Processing Systems"]),
        ("role/research-scientist", "Research Scientist", []),
        ("role/machine-learning-engineer", "Machine Learning Engineer", ["ML Engineer"]),
        ("role/postdoctoral-researcher", "Postdoctoral Researcher", ["Postdoc"]),
        ("stage/entry-level", "Entry-Level", ["Junior", "Entry Level"]),
        ("organization/google-deepmind", "Google DeepMind", ["DeepMind"]),
        ("area/natural-language-processing", "natural language processing", ["NLP"]),
        ("skill/statistical-analysis", "statistical analysis", []),
        ("skill/communication", "communication", []),
        ("field/computer-science", "Computer Science", []),
        ("industry/healthcare", "healthcare", []),
    ],
)
def test_canonical_spellings(vocabulary: Graph, iri: str, pref: str, alts: list[str]) -> None:
    concept = URIRef(ID_IRI + iri)
    assert str(vocabulary.value(concept, SKOS.prefLabel)) == pref
    have = {str(lit) for lit in vocabulary.objects(concept, SKOS.altLabel)}
    assert set(alts) <= have, sorted(set(alts) - have)


# Roughly the breadth the vocabulary promises; a guard against a truncated file.
MINIMUM_CONCEPTS = {
    MLKG.Role: 55,
    MLKG.ProgrammingLanguage: 30,
    MLKG.Tool: 170,
    MLKG.Venue: 55,
    MLKG.Degree: 5,
    MLKG.FieldOfStudy: 35,
    MLKG.ResearchArea: 65,
    MLKG.TechnicalSkill: 70,
    MLKG.SoftSkill: 30,
    MLKG.CareerStage: 7,
    MLKG.Organization: 65,
    MLKG.Industry: 28,
}


@pytest.mark.parametrize("cls", sorted(MINIMUM_CONCEPTS), ids=lambda c: c.split("#")[-1])
def test_vocabulary_covers_the_field(vocabulary: Graph, cls: URIRef) -> None:
    count = len(set(vocabulary.subjects(RDF.type, cls)))
    assert count >= MINIMUM_CONCEPTS[cls]


def test_vocabulary_knows_the_listed_terms_of_the_seed_corpus(vocabulary: Graph) -> None:
    # Items of the seed documents' tool, language and venue lists must be known terms.
    known = {
        str(lit).casefold()
        for concept in _concepts(vocabulary)
        for lit in _labels(vocabulary, concept)
    }
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(corpus_dir().glob("*.txt")))
    listed = re.compile(
        r"(?:frameworks|languages|libraries|tools|conferences|venues)\b[^:\n(]*?"
        r"(?::|\(e\.g\.,|such as|like)\s*([^\n()]+)"
    )
    items = set()
    for match in listed.finditer(text):
        for item in re.split(r",|\bor\b|\band\b", match.group(1)):
            item = item.strip(" .")
            if item and len(item.split()) <= 2:
                items.add(item)
    assert len(items) >= 10, sorted(items)
    unknown = sorted(i for i in items if i.casefold() not in known)
    assert unknown == []


def test_fixture_and_vocabulary_agree_on_shared_entities(
    fixture_graph: Graph, vocabulary: Graph
) -> None:
    # The vocabulary and the built graph use the same IRIs; a shared IRI must have one class.
    shared = set(_concepts(vocabulary)) & {
        s for s in fixture_graph.subjects(RDF.type, None) if isinstance(s, URIRef)
    }
    assert len(shared) >= 10
    for concept in shared:
        assert _mlkg_classes(fixture_graph, concept) == _mlkg_classes(vocabulary, concept), concept


# --------------------------------------------------------------------------------------------
# the real seed build


@pytest.fixture(scope="module")
def seed_graph(seed_build_dir: Path) -> Graph:
    """The seed build's graph, copied into memory."""
    from mlkg.store import open_graph

    graph = Graph()
    for triple in open_graph(seed_build_dir):
        graph.add(triple)
    return graph


def test_seed_build_conforms_to_the_shapes(
    seed_graph: Graph, ontology: Graph, shapes: Graph
) -> None:
    conforms, messages = _validate(seed_graph, ontology, shapes)
    assert conforms, messages[:20]


def test_seed_build_entities_agree_with_the_vocabulary(
    seed_graph: Graph, vocabulary: Graph
) -> None:
    concepts = set(_concepts(vocabulary))
    in_scheme = {s for s in seed_graph.subjects(SKOS.inScheme, VOCABULARY_SCHEME)}
    assert len(in_scheme) > 100
    assert in_scheme <= concepts, sorted(str(c) for c in in_scheme - concepts)[:10]
    for concept in in_scheme:
        assert isinstance(concept, URIRef)
        assert _mlkg_classes(seed_graph, concept) == _mlkg_classes(vocabulary, concept), concept
        pref = seed_graph.value(concept, SKOS.prefLabel)
        assert pref == vocabulary.value(concept, SKOS.prefLabel), concept
