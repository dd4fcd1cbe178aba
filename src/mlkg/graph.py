"""Records to RDF: the only writer of instance triples.

:func:`build_graph` merges the extractions of many documents into one :class:`rdflib.Graph`
following ``docs/data-model.md``: one node per entity (labels merged), a direct triple per
relation, a reified ``rdf:Statement`` per relation with its evidence (PROV-O), documents and
salary distributions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlkg.documents import Document
from mlkg.ids import document_iri, evidence_iri, fact_iri
from mlkg.records import Entity, Evidence, Extraction, Fact
from mlkg.resources import ontology_dir

if TYPE_CHECKING:
    from rdflib import Graph

_QUALIFIER_RANK = {"minimum": 0, "typical": 1, "preferred": 2}


def ontology_class_axioms() -> list[tuple[str, str]]:
    """Return the ``rdfs:subClassOf`` pairs between mlkg classes declared in ``mlkg.ttl``."""
    from rdflib import Graph
    from rdflib.namespace import RDFS

    from mlkg.namespace import ONTOLOGY_IRI

    ontology = Graph()
    ontology.parse(ontology_dir() / "mlkg.ttl", format="turtle")
    return sorted(
        (str(s), str(o))
        for s, o in ontology.subject_objects(RDFS.subClassOf)
        if str(s).startswith(ONTOLOGY_IRI)
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


def build_graph(documents: Sequence[Document], extractions: Sequence[Extraction]) -> Graph:
    """Return the RDF graph of the given documents and their extractions.

    ``documents[i]`` is the source of ``extractions[i]``. The graph holds the ontology's
    ``rdfs:subClassOf`` axioms too, so ``rdf:type/rdfs:subClassOf*`` works on it alone.
    """
    from rdflib import RDF, RDFS, Graph, Literal, URIRef
    from rdflib.namespace import DCTERMS, PROV, SKOS, XSD

    from mlkg.namespace import MLKG, SCHEMA, VOCABULARY_SCHEME

    graph = Graph()
    add = graph.add
    for sub, sup in ontology_class_axioms():
        add((URIRef(sub), RDFS.subClassOf, URIRef(sup)))

    entities = merge_entities(extractions)
    mentioned: dict[str, set[str]] = defaultdict(set)
    facts: dict[tuple[str, str, str], list[Fact]] = defaultdict(list)

    for document, extraction in zip(documents, extractions, strict=True):
        doc = URIRef(document_iri(document.id))
        add((doc, RDF.type, MLKG.Document))
        add((doc, RDF.type, PROV.Entity))
        add((doc, DCTERMS.identifier, Literal(document.id)))
        add((doc, DCTERMS.title, Literal(document.title or document.path.stem)))
        add((doc, MLKG.fileName, Literal(document.file_name)))
        add((doc, MLKG.sha256, Literal(document.sha256)))
        if document.origin:
            add((doc, DCTERMS.source, Literal(document.origin)))
        if extraction.primary_role:
            add((doc, MLKG.primaryRole, URIRef(extraction.primary_role)))
            mentioned[extraction.primary_role].add(document.id)
        for mention in extraction.mentions:
            mentioned[mention.iri].add(document.id)
        for fact in extraction.facts:
            facts[(fact.subject, fact.predicate, fact.object)].append(fact)
            mentioned[fact.subject].add(document.id)
            mentioned[fact.object].add(document.id)
        for salary in extraction.salaries:
            node = URIRef(salary.iri)
            add((node, RDF.type, SCHEMA.MonetaryAmountDistribution))
            add((node, SCHEMA.currency, Literal(salary.currency)))
            for name, value in salary.figures().items():
                predicate = {
                    "min_value": SCHEMA.minValue,
                    "max_value": SCHEMA.maxValue,
                    "median": SCHEMA.median,
                    "average": MLKG.average,
                    "percentile10": SCHEMA.percentile10,
                    "percentile90": SCHEMA.percentile90,
                }[name]
                add((node, predicate, Literal(value, datatype=XSD.integer)))
            if salary.organization:
                add((node, MLKG.organization, URIRef(salary.organization)))
                mentioned[salary.organization].add(document.id)
            if salary.year:
                add((node, MLKG.year, Literal(salary.year, datatype=XSD.integer)))
            add((node, MLKG.mentionedIn, doc))
            fact = Fact(salary.role, "hasSalary", salary.iri, salary.evidence)
            facts[(salary.role, "hasSalary", salary.iri)].append(fact)
            mentioned[salary.role].add(document.id)

    for iri, entity in sorted(entities.items()):
        if iri not in mentioned:
            continue
        node = URIRef(iri)
        add((node, RDF.type, getattr(MLKG, entity.cls)))
        add((node, SKOS.prefLabel, Literal(entity.label, lang="en")))
        for alt in entity.alt_labels:
            if alt != entity.label:
                add((node, SKOS.altLabel, Literal(alt, lang="en")))
        if entity.in_vocabulary:
            add((node, SKOS.inScheme, VOCABULARY_SCHEME))
        for document_id in sorted(mentioned[iri]):
            add((node, MLKG.mentionedIn, URIRef(document_iri(document_id))))

    evidence_nodes: dict[Evidence, URIRef] = {}
    for (subject, predicate_name, obj), stated in sorted(facts.items()):
        s, o = URIRef(subject), URIRef(obj)
        p = getattr(MLKG, predicate_name)
        add((s, p, o))
        node = URIRef(fact_iri(subject, str(p), obj))
        add((node, RDF.type, RDF.Statement))
        add((node, RDF.type, PROV.Entity))
        add((node, RDF.subject, s))
        add((node, RDF.predicate, p))
        add((node, RDF.object, o))
        qualifiers = sorted(
            {f.qualifier for f in stated if f.qualifier}, key=lambda q: _QUALIFIER_RANK.get(q, 9)
        )
        if qualifiers:
            add((node, MLKG.qualifier, Literal(qualifiers[0])))
        years = sorted(
            ((f.min_years, f.max_years) for f in stated if f.min_years is not None),
            key=lambda pair: (pair[0] or 0, pair[1] if pair[1] is not None else 999),
        )
        if years:
            low, high = years[0]
            add((node, MLKG.minYears, Literal(low, datatype=XSD.integer)))
            if high is not None:
                add((node, MLKG.maxYears, Literal(high, datatype=XSD.integer)))
        for fact in sorted(stated, key=lambda f: f.evidence):
            evidence = evidence_nodes.get(fact.evidence)
            if evidence is None:
                evidence = URIRef(evidence_iri(fact.evidence))
                evidence_nodes[fact.evidence] = evidence
                add((evidence, RDF.type, MLKG.Evidence))
                add((evidence, RDF.type, PROV.Entity))
                add((evidence, PROV.value, Literal(fact.evidence.text)))
                add((evidence, MLKG.section, Literal(fact.evidence.section)))
                add(
                    (evidence, MLKG.startOffset, Literal(fact.evidence.start, datatype=XSD.integer))
                )
                add((evidence, MLKG.endOffset, Literal(fact.evidence.end, datatype=XSD.integer)))
                add((evidence, PROV.wasQuotedFrom, URIRef(document_iri(fact.evidence.document_id))))
            add((node, PROV.wasDerivedFrom, evidence))
    return graph


def serialize(graph: Graph) -> bytes:
    """Return ``graph`` as Turtle, triples sorted, so the same input always gives the same bytes.

    Serialised by Oxigraph (rdflib's sorted ``longturtle`` writer took 1 s on the seed graph,
    this takes 0.2 s); one prefix per kind of instance IRI keeps the file readable.
    """
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    from mlkg.ids import ID_BASE, KIND_OF_CLASS
    from mlkg.namespace import ONTOLOGY_IRI

    cache: dict[object, object] = {}

    def convert(term: object) -> object:
        found = cache.get(term)
        if found is not None:
            return found
        if isinstance(term, URIRef):
            value: object = ox.NamedNode(str(term))
        elif isinstance(term, Literal):
            if term.language:
                value = ox.Literal(str(term), language=term.language)
            elif term.datatype:
                value = ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
            else:
                value = ox.Literal(str(term))
        elif isinstance(term, BNode):
            value = ox.BlankNode(str(term))
        else:
            raise TypeError(f"not an RDF term: {term!r}")
        cache[term] = value
        return value

    def key(triple: tuple[object, object, object]) -> tuple[str, ...]:
        s, p, o = triple
        kind = "L" if isinstance(o, Literal) else "I"
        extra = ""
        if isinstance(o, Literal):
            extra = f"{o.language or ''}|{o.datatype or ''}"
        return (str(s), str(p), kind, str(o), extra)

    triples = [
        ox.Triple(convert(s), convert(p), convert(o))  # type: ignore[arg-type]
        for s, p, o in sorted(graph, key=key)
    ]
    prefixes = {
        "mlkg": ONTOLOGY_IRI,
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "schema": "https://schema.org/",
        "prov": "http://www.w3.org/ns/prov#",
        "dcterms": "http://purl.org/dc/terms/",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    }
    for kind in sorted({*KIND_OF_CLASS.values(), "document", "evidence", "fact", "salary"}):
        prefixes[kind] = f"{ID_BASE}{kind}/"
    data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
    # Oxigraph writes the prefixes in hash order: sort them for stable bytes.
    lines = data.split(b"\n")
    header = sorted(line for line in lines if line.startswith(b"@prefix "))
    body = [line for line in lines if not line.startswith(b"@prefix ")]
    return b"\n".join(header + body)
