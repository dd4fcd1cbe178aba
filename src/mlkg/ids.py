"""Mint IRIs: the only place mlkg makes them.

Entity IRIs are ``https://w3id.org/mlkg/id/{kind}/{slug}``; slugs are stable (the same label
always gives the same slug) and always valid IRI path segments.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from mlkg.records import Evidence

ID_BASE = "https://w3id.org/mlkg/id/"
#: The ontology's namespace (``mlkg:``); also :data:`mlkg.namespace.ONTOLOGY_IRI`.
ONTOLOGY_IRI = "https://w3id.org/mlkg/ontology#"
#: The SKOS concept scheme of the known terms.
VOCABULARY_SCHEME_IRI = "https://w3id.org/mlkg/vocabulary"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"

#: The prefixes of mlkg's Turtle files and of graphs opened on a build.
PREFIXES = {
    "mlkg": ONTOLOGY_IRI,
    "skos": SKOS,
    "schema": SCHEMA,
    "prov": PROV,
    "dcterms": DCTERMS,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
}

#: IRI path segment ("kind") for each mlkg class.
KIND_OF_CLASS = {
    "Role": "role",
    "TechnicalSkill": "skill",
    "SoftSkill": "skill",
    "Tool": "tool",
    "ProgrammingLanguage": "language",
    "Venue": "venue",
    "CareerStage": "stage",
    "Degree": "degree",
    "FieldOfStudy": "field",
    "ResearchArea": "area",
    "Organization": "organization",
    "Industry": "industry",
}

_SYMBOLS = {"++": " plus plus ", "#": " sharp ", "&": " and ", "+": " plus ", "@": " at "}
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_MAX_SLUG = 80


@lru_cache(maxsize=1 << 16)
def slugify(label: str) -> str:
    """Return a stable, lower-case ASCII slug for ``label`` (never empty).

    Cached: a build asks for the same few thousand slugs (documents, labels) again and again.

    Examples
    --------
    >>> slugify("Machine Learning Researcher")
    'machine-learning-researcher'
    >>> slugify("C++")
    'c-plus-plus'
    >>> slugify("Ph.D.")
    'ph-d'
    >>> slugify("<script>")
    'script'
    """
    text = unicodedata.normalize("NFKD", label)
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    slug = _NON_SLUG.sub("-", text).strip("-")
    if len(slug) > _MAX_SLUG:
        digest = hashlib.sha1(label.encode("utf-8")).hexdigest()[:8]
        slug = slug[: _MAX_SLUG - 9].rstrip("-") + "-" + digest
    if not slug:
        slug = "x-" + hashlib.sha1(label.encode("utf-8")).hexdigest()[:12]
    return slug


def entity_iri(cls: str, label: str) -> str:
    """Return the IRI of an entity of mlkg class ``cls`` with preferred label ``label``.

    Examples
    --------
    >>> entity_iri("Tool", "PyTorch")
    'https://w3id.org/mlkg/id/tool/pytorch'
    """
    return f"{ID_BASE}{KIND_OF_CLASS[cls]}/{slugify(label)}"


def document_iri(document_id: str) -> str:
    """Return the IRI of a document from its id (16 hex digits of its sha256)."""
    return f"{ID_BASE}document/{slugify(document_id)}"


def evidence_iri(evidence: Evidence) -> str:
    """Return the IRI of an evidence excerpt: its document and offsets."""
    return f"{ID_BASE}evidence/{slugify(evidence.document_id)}-{evidence.start}-{evidence.end}"


def fact_iri(subject: str, predicate: str, obj: str) -> str:
    """Return the IRI of a reified fact: one per (subject, predicate, object)."""
    digest = hashlib.sha1(f"{subject}|{predicate}|{obj}".encode()).hexdigest()[:16]
    return f"{ID_BASE}fact/{digest}"


def salary_iri(*parts: object) -> str:
    """Return the IRI of a salary statement from the values that identify it."""
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:16]
    return f"{ID_BASE}salary/{digest}"
