"""Load the SKOS vocabulary of known terms (``ontology/vocabulary.ttl``) for the extractor.

The vocabulary is data: each ``skos:Concept`` has one mlkg class, a preferred label, alternative
labels and, for ambiguous labels such as "R" or "Go", ``mlkg:needsContext`` with context cues.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mlkg.errors import VocabularyError
from mlkg.records import ENTITY_CLASSES
from mlkg.resources import ontology_dir

VOCABULARY_FILE = "vocabulary.ttl"
_ONT = "https://w3id.org/mlkg/ontology#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass(frozen=True)
class Term:
    """A known term: its IRI, mlkg class, labels and (for ambiguous labels) context cues."""

    iri: str
    cls: str
    label: str
    alt_labels: tuple[str, ...] = ()
    needs_context: bool = False
    context_cues: tuple[str, ...] = ()


@dataclass
class Vocabulary:
    """The known terms, by IRI, and a digest of the file they came from (for caching)."""

    terms: dict[str, Term] = field(default_factory=dict)
    digest: str = ""

    def by_class(self, cls: str) -> list[Term]:
        """Return the terms of one mlkg class, sorted by IRI."""
        return sorted((t for t in self.terms.values() if t.cls == cls), key=lambda t: t.iri)


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """Return the vocabulary read from ``path`` (default: the bundled ``vocabulary.ttl``).

    Raises :class:`VocabularyError` when the file is missing or is not valid Turtle.
    """
    path = path or ontology_dir() / VOCABULARY_FILE
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(path_text: str) -> Vocabulary:
    import pyoxigraph

    path = Path(path_text)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VocabularyError(f"cannot read the vocabulary {path}: {exc.strerror or exc}") from exc
    try:
        quads = list(pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.TURTLE))
    except SyntaxError as exc:
        raise VocabularyError(f"the vocabulary {path} is not valid Turtle: {exc}") from exc
    classes: dict[str, str] = {}
    pref: dict[str, str] = {}
    alts: dict[str, list[str]] = {}
    needs: set[str] = set()
    cues: dict[str, list[str]] = {}
    for quad in quads:
        subject = quad.subject.value
        predicate = quad.predicate.value
        obj = quad.object
        if predicate == _RDF_TYPE and obj.value.startswith(_ONT):
            local = obj.value[len(_ONT) :]
            if local in ENTITY_CLASSES:
                classes[subject] = local
        elif predicate == _SKOS + "prefLabel":
            pref[subject] = obj.value
        elif predicate == _SKOS + "altLabel":
            alts.setdefault(subject, []).append(obj.value)
        elif predicate == _ONT + "needsContext" and obj.value in ("true", "1"):
            needs.add(subject)
        elif predicate == _ONT + "contextCue":
            cues.setdefault(subject, []).extend(
                c.strip() for c in obj.value.replace(";", ",").split(",") if c.strip()
            )
    terms = {
        iri: Term(
            iri=iri,
            cls=cls,
            label=pref.get(iri, iri.rsplit("/", 1)[-1]),
            alt_labels=tuple(sorted(set(alts.get(iri, [])))),
            needs_context=iri in needs,
            context_cues=tuple(sorted(set(cues.get(iri, [])))),
        )
        for iri, cls in classes.items()
    }
    return Vocabulary(terms=terms, digest=hashlib.sha256(data).hexdigest())
