"""Plain records of what extraction finds: mentions, facts, salaries, with their evidence.

These are frozen dataclasses with no RDF in them, so extraction can be tested on its own; the
graph stage (:mod:`mlkg.graph`) turns them into triples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: mlkg class local names an entity can have.
ENTITY_CLASSES = (
    "Role",
    "TechnicalSkill",
    "SoftSkill",
    "Tool",
    "ProgrammingLanguage",
    "Venue",
    "CareerStage",
    "Degree",
    "FieldOfStudy",
    "ResearchArea",
    "Organization",
    "Industry",
)

#: mlkg properties that relate a role (or a stage) to what the documents say about it.
RELATIONS = (
    "requiresSkill",
    "usesTool",
    "publishesAt",
    "requiresDegree",
    "inField",
    "focusesOn",
    "worksIn",
    "atStage",
    "hasSalary",
    "progressesTo",
)


@dataclass(frozen=True, order=True)
class Evidence:
    """Where a fact was read: the verbatim sentence or bullet and its character offsets."""

    document_id: str
    section: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, order=True)
class Entity:
    """One thing the documents name: its IRI, class, preferred label and alternative labels.

    ``in_vocabulary`` is true when the entity is a concept of the SKOS vocabulary.
    """

    iri: str
    cls: str
    label: str
    alt_labels: tuple[str, ...] = ()
    in_vocabulary: bool = False


@dataclass(frozen=True, order=True)
class Mention:
    """An entity named in a document at ``start:end`` (offsets in the document text)."""

    iri: str
    document_id: str
    start: int
    end: int
    surface: str


@dataclass(frozen=True, order=True)
class Fact:
    """A relation ``subject --predicate--> object`` between entity IRIs, with its evidence.

    ``predicate`` is the local name of an mlkg property (``requiresSkill``, ``progressesTo``...).
    ``qualifier`` is ``minimum``/``preferred``/``typical`` for degrees; ``min_years``/``max_years``
    give the experience range of a ladder step where the text states one.
    """

    subject: str
    predicate: str
    object: str
    evidence: Evidence
    qualifier: str | None = None
    min_years: int | None = None
    max_years: int | None = None


@dataclass(frozen=True, order=True)
class Salary:
    """A salary statement: figures in whole currency units, for a role, with its evidence."""

    iri: str
    role: str
    currency: str
    evidence: Evidence
    min_value: int | None = None
    max_value: int | None = None
    median: int | None = None
    average: int | None = None
    percentile10: int | None = None
    percentile90: int | None = None
    organization: str | None = None
    year: int | None = None

    def figures(self) -> dict[str, int]:
        """Return the figures that are set, by field name."""
        names = ("min_value", "max_value", "median", "average", "percentile10", "percentile90")
        return {n: v for n in names if (v := getattr(self, n)) is not None}


@dataclass
class Extraction:
    """Everything extracted from one document."""

    document_id: str
    primary_role: str | None = None
    entities: dict[str, Entity] = field(default_factory=dict)
    mentions: list[Mention] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    salaries: list[Salary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
