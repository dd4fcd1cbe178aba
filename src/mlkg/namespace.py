"""RDF namespaces used by mlkg.

``MLKG`` is a closed :class:`rdflib.namespace.DefinedNamespace`: a typo such as
``MLKG.requireSkill``
raises at import time instead of minting a wrong IRI. A test keeps it in sync with
``ontology/mlkg.ttl``.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

from mlkg.ids import ID_BASE, VOCABULARY_SCHEME_IRI
from mlkg.ids import ONTOLOGY_IRI as ONTOLOGY_IRI

ID_IRI = ID_BASE
VOCABULARY_SCHEME = URIRef(VOCABULARY_SCHEME_IRI)

MLKGID = Namespace(ID_IRI)
SCHEMA = Namespace("https://schema.org/")


class MLKG(DefinedNamespace):
    """The mlkg ontology: ``https://w3id.org/mlkg/ontology#``."""

    _NS = Namespace(ONTOLOGY_IRI)
    _fail = True

    # classes
    Role: URIRef
    Skill: URIRef
    TechnicalSkill: URIRef
    SoftSkill: URIRef
    Tool: URIRef
    ProgrammingLanguage: URIRef
    Venue: URIRef
    CareerStage: URIRef
    Degree: URIRef
    FieldOfStudy: URIRef
    ResearchArea: URIRef
    Organization: URIRef
    Industry: URIRef
    Document: URIRef
    Evidence: URIRef

    # relations between entities
    requiresSkill: URIRef
    usesTool: URIRef
    publishesAt: URIRef
    progressesTo: URIRef
    atStage: URIRef
    requiresDegree: URIRef
    inField: URIRef
    focusesOn: URIRef
    worksIn: URIRef
    hasSalary: URIRef

    # provenance and annotations
    mentionedIn: URIRef
    primaryRole: URIRef
    fileName: URIRef
    sha256: URIRef
    section: URIRef
    startOffset: URIRef
    endOffset: URIRef
    qualifier: URIRef
    minYears: URIRef
    maxYears: URIRef
    needsContext: URIRef
    contextCue: URIRef

    # statistics of an entity in its graph
    documentCount: URIRef
    roleCount: URIRef

    # salary
    average: URIRef
    organization: URIRef
    year: URIRef
