"""Documents to records: entities, facts with evidence, ladders and salaries.

:func:`extract_document` is the whole extractor for one document. It never imports rdflib; the
graph stage turns its :class:`~mlkg.records.Extraction` into RDF.

The steps, in order:

1. split the text into blocks and sentences (:mod:`mlkg.documents`);
2. find vocabulary terms in one Aho-Corasick pass (:mod:`mlkg.extract.matcher`) and job titles,
   known or not (:mod:`mlkg.extract.roles`); discover unknown tools, languages and venues from
   enumerations typed by their head noun or their known siblings;
3. decide which role each sentence is about (the document's primary role unless the sentence,
   its bullet group or its heading names another);
4. turn each mention into a relation by the class of the thing named, with the sentence as
   evidence; read career ladders and salary lines.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from mlkg.documents import Block, Document, Sentence, parse_blocks, split_sentences
from mlkg.extract.cues import Cues, LiteralGate, LiteralGates, cue_words, load_cues
from mlkg.extract.matcher import Match, VocabularyMatcher
from mlkg.extract.roles import RoleFinder, RoleSpan
from mlkg.extract.salaries import find_year, parse_figures
from mlkg.extract.text import normalize_key
from mlkg.ids import entity_iri, salary_iri
from mlkg.records import Entity, Evidence, Extraction, Fact, Mention, Salary
from mlkg.vocabulary import Term, Vocabulary, load_vocabulary

__all__ = ["EXTRACTOR_VERSION", "Extractor", "extract_document"]

#: Bumped whenever extraction output changes for the same input (invalidates build caches).
EXTRACTOR_VERSION = "1"

#: The relation each class of entity gives its role.
PREDICATE_OF_CLASS = {
    "TechnicalSkill": "requiresSkill",
    "SoftSkill": "requiresSkill",
    "Tool": "usesTool",
    "ProgrammingLanguage": "usesTool",
    "Venue": "publishesAt",
    "Degree": "requiresDegree",
    "FieldOfStudy": "inField",
    "ResearchArea": "focusesOn",
    "Industry": "worksIn",
    "Organization": "worksIn",
}
# When one label names things of several classes, the first class here wins (fields of study
# win only next to a degree).
_CLASS_PREFERENCE = (
    "ProgrammingLanguage",
    "Tool",
    "Venue",
    "Degree",
    "ResearchArea",
    "TechnicalSkill",
    "SoftSkill",
    "Organization",
    "Industry",
    "CareerStage",
    "FieldOfStudy",
    "Role",
)
# Classes of proper names: a multi-word name written in lower case is not that name.
_NAMED_CLASSES = ("Tool", "ProgrammingLanguage", "Organization", "Venue")
_YEARS_RANGE = re.compile(r"(\d{1,2})\s*(?:-|–|—|to)\s*(\d{1,2})\s*\+?\s*(?:years?|yrs?)", re.I)
_YEARS_MIN = re.compile(
    r"(\d{1,2})\s*\+\s*(?:years?|yrs?)|(?:over|more than)\s+(\d{1,2})\s+years?", re.I
)
_LIST_START = re.compile(
    r"(?::|\(e\.g\.,?|\(i\.e\.,?|\(|\be\.g\.,?|\bsuch as\b|\blike\b|\bincluding\b|\binclude\b"
    r"|\bincludes\b|\bin\b|\bwith\b)\s*",
    re.I,
)
# The same matches as _LIST_START in lower-cased ASCII text, found faster: without IGNORECASE and
# with every alternative opening on a literal character (``\bin`` written ``i(?<!\wi)n``), the
# regex engine skips straight to the characters that can open a match.
_LIST_START_ASCII = re.compile(
    r"(?::|\(e\.g\.,?|\(i\.e\.,?|\(|e(?<!\we)\.g\.,?|s(?<!\ws)uch as\b|l(?<!\wl)ike\b"
    r"|i(?<!\wi)ncluding\b|i(?<!\wi)nclude\b|i(?<!\wi)ncludes\b|i(?<!\wi)n\b|w(?<!\ww)ith\b)\s*"
)
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\bor\b|\band\b|\bas well as\b)\s*", re.I)
_NAME = re.compile(r"^[A-Z0-9][\w.+#&'-]*(?: [A-Z0-9][\w.+#&'-]*){0,2}$")
_LOWER_NAME = re.compile(r"^[a-z][a-z0-9.+#-]{1,20}$")
# Regexes of single steps, compiled once (module-level ``re`` functions look them up per call).
_DEGREE_WORDS = re.compile(r"\b(degree|major|background in|graduate)\b", re.I)
_LIST_STOP = re.compile(r"[).;]\s|[).;]$|\s[-–—]\s")
_TWO_LETTERS = re.compile(r"[A-Za-z]{2}")
_VENUE_ACRONYM = re.compile(r"[A-Z][A-Za-z]*[A-Z][A-Za-z]*'?\d*")
_LEADING_ARTICLE = re.compile(r"^(The|A|An)\s+")
_TRAILING_JOINER = re.compile(r"\s+(the|and|of|on|in|for)$")
_PUNCTUATION = re.compile(r"[^\w\s]")
_NON_WORD = re.compile(r"\W")
_NON_LETTER = re.compile(r"[\W\d]")
_DIGIT = re.compile(r"\d")
_PAY_WORDS = ("earn", "paid", "base", "income")
_PAY = re.compile(r"\b(" + "|".join(_PAY_WORDS) + r")\b", re.I)
_THEN = re.compile(r"\bthen\b")
_FROM_LEAD = re.compile(r"\s*from\s+(an?\s+|the\s+)?", re.I)
_CLAUSE_MARK = re.compile(r"[,;.]")
# Classes whose unknown names enumerations can introduce.
_DISCOVERABLE = ("ProgrammingLanguage", "Tool", "Venue", "Organization")
# Words that make an enumerated item or a name generic ("strong skills", "The Data Labs").
_GENERIC_WORDS = (
    *("skill", "skills", "experience", "knowledge", "understanding", "ability", "abilities"),
    *("proficiency", "expertise", "familiarity", "strong", "excellent", "good", "various"),
    *("other", "related", "etc", "others", "similar", "tool", "tools", "framework", "frameworks"),
    *("libraries", "library", "language", "languages", "platform", "platforms", "system"),
    *("systems", "method", "methods", "technique", "techniques", "model", "models", "data"),
    *("research", "the", "a", "an", "our", "their", "your", "year", "years", "degree", "field"),
    *("area", "areas"),
)
_GENERIC = re.compile(r"\b(" + "|".join(_GENERIC_WORDS) + r")\b", re.I)


@dataclass
class _Step:
    roles: list[str] = field(default_factory=list)
    stage: str | None = None
    min_years: int | None = None
    max_years: int | None = None
    evidence: Evidence | None = None
    opened_by: str = "bullet"  # "label" | "stage" | "bullet"
    role_evidence: dict[str, Evidence] = field(default_factory=dict)  # the bullet naming a role

    def evidence_for(self, role: str) -> Evidence | None:
        """Return the sentence that names ``role`` in this step (else the step's own)."""
        return self.role_evidence.get(role, self.evidence)


@dataclass
class _SentenceInfo:
    sentence: Sentence
    matches: list[Match]
    roles: list[RoleSpan]
    role_iris: list[tuple[RoleSpan, str]] | None = None  # see _Run._sentence_roles


def _names_class(terms: tuple[Term, ...], cls: str) -> bool:
    """True when one of ``terms`` is of class ``cls``."""
    return any(term.cls == cls for term in terms)


def _only_roles(terms: tuple[Term, ...]) -> bool:
    """True when every one of ``terms`` is a role."""
    return all(term.cls == "Role" for term in terms)


def _inside_a_role(match: Match, roles: list[RoleSpan]) -> bool:
    """True when ``match`` lies inside one of the role titles ``roles``."""
    return any(role.start <= match.start and match.end <= role.end for role in roles)


def _two_of_a_discoverable_class(matches: list[Match]) -> bool:
    """True when two of ``matches`` name things of the same class that enumerations extend."""
    seen = set()
    for match in matches:
        cls = match.terms[0].cls
        if cls in _DISCOVERABLE:
            if cls in seen:
                return True
            seen.add(cls)
    return False


def _list_starts(text: str) -> Iterator[re.Match[str]]:
    """Return the matches of _LIST_START in ``text`` (the words and signs that open a list)."""
    if text.isascii():  # lower-casing keeps every offset
        return _LIST_START_ASCII.finditer(text.lower())
    return _LIST_START.finditer(text)


def _match_start(match: Match) -> int:
    return match.start


# The order of _CLASS_PREFERENCE as ranks, and with fields of study first (next to a degree).
_CLASS_RANK = {cls: rank for rank, cls in enumerate(_CLASS_PREFERENCE)}
_CLASS_RANK_NEAR_DEGREE = {
    cls: rank
    for rank, cls in enumerate(
        ("FieldOfStudy", *(c for c in _CLASS_PREFERENCE if c != "FieldOfStudy"))
    )
}


class Extractor:
    """The extractor, built once from a vocabulary and the cue file and reused per document."""

    def __init__(self, vocabulary: Vocabulary | None = None, cues: Cues | None = None) -> None:
        self.vocabulary = vocabulary or load_vocabulary()
        self.cues = cues or load_cues()
        self.matcher = VocabularyMatcher(self.vocabulary)
        role_terms: dict[str, Term] = {}
        for term in self.vocabulary.by_class("Role"):
            for label in (term.label, *term.alt_labels):
                role_terms.setdefault(normalize_key(label), term)
        self.roles = RoleFinder(self.cues, role_terms)
        self.stage_matcher = VocabularyMatcher(
            Vocabulary({t.iri: t for t in self.vocabulary.by_class("CareerStage")})
        )
        # The career stages named in a short text (a title, a heading): the same titles come back
        # in document after document.
        self.stages_in: Callable[[str], list[Match]] = lru_cache(maxsize=8192)(
            self.stage_matcher.find
        )
        self._context = self.cues.cue_words("sections", "context_words")
        self._ladder = self.cues.cue_words("sections", "ladder_words")
        self._salary = self.cues.cue_words("sections", "salary_words")
        self._step_verbs = self.cues.cue_words("ladders", "step_verbs")
        self._object_markers = self.cues.cue_words("subjects", "object_markers")
        self._contrast = self.cues.cue_words("subjects", "contrast_markers")
        self._aliases = self.cues.cue_words("aliases", "phrases")
        self._work = self.cues.cue_words("organizations", "work_words")
        self._not_work = self.cues.cue_words("organizations", "not_work_words")
        self._list_heads = {
            cls: cue_words(tuple(words))
            for cls, words in self.cues.raw.get("lists", {}).items()
            if isinstance(words, list)
        }
        head_lists = [w for w in self.cues.raw.get("lists", {}).values() if isinstance(w, list)]
        # An empty list's pattern matches everywhere, so it can rule nothing out.
        head_words = [str(w) for words in head_lists for w in words] if all(head_lists) else []
        # the head nouns anywhere in a text (even inside a word: the 40 characters before a list
        # may begin inside one), and as whole words in a given text
        self._list_head_gate = LiteralGate(head_words, ignore_case=True)
        # one gate per class of _list_heads (in its order), asked together
        self._list_head_gates = LiteralGates(
            [
                LiteralGate(words, ignore_case=True, whole_words=True)
                for words in self.cues.raw.get("lists", {}).values()
                if isinstance(words, list)
            ]
        )
        self._generic_gate = LiteralGate(_GENERIC_WORDS, ignore_case=True, whole_words=True)
        self._degree_kinds = [
            (kind, self.cues.cue_words("degrees", kind))
            for kind in ("preferred", "typical", "minimum")
        ]
        self._pay_gate = LiteralGate(
            [*self.cues.pattern_words("sections", "salary_words"), *_PAY_WORDS],
            ignore_case=True,
            whole_words=True,
        )
        suffixes = "|".join(re.escape(s) for s in self.cues.words("organizations", "suffixes"))
        self._org_gate = LiteralGate(
            self.cues.words("organizations", "suffixes"), ignore_case=False, whole_words=True
        )
        name = r"[A-Z][\w&'.-]*"
        self._org_name = re.compile(
            rf"(?<![\w-])((?:(?:{name})[ \t]+){{0,4}}(?:{suffixes})\.?"
            rf"(?:[ \t]+(?:of|for)(?:[ \t]+{name}){{1,3}})?)(?![\w-])"
        )
        heads = "|".join(re.escape(s) for s in self.cues.words("venues", "name_heads"))
        self._venue_gate = LiteralGate(
            self.cues.words("venues", "name_heads"), ignore_case=False, whole_words=True
        )
        name_words = [
            self.cues.words("organizations", "suffixes"),
            self.cues.words("venues", "name_heads"),
        ]
        self._name_gate = LiteralGate(  # either of the two above (an empty list rules nothing out)
            [w for words in name_words for w in words] if all(name_words) else [],
            ignore_case=True,  # to be asked together with the others (it only rules out less)
            whole_words=True,
        )
        # asked about every sentence of a document at once (see _Run._scan)
        self.sentence_gates = LiteralGates(
            [self.roles.head_gate, self._list_head_gate, self._name_gate]
        )
        self._venue_name = re.compile(
            rf"(?<![\w-])((?:{name}[ \t]+){{0,3}}(?:{heads})(?:[ \t]+(?:of|on|in|for)"
            rf"(?:[ \t]+(?:the|and|{name})){{1,6}})?)(?![\w-])"
        )
        self._forward = self.cues.cue_words("ladders", "forward_verbs")
        self._backward = self.cues.cue_words("ladders", "backward_verbs")
        self._legal_suffix = cue_words(tuple(self.cues.words("organizations", "legal_suffixes")))
        arrows = self.cues.words("ladders", "arrows")
        self._arrow = re.compile(
            "|".join(re.escape(a) for a in sorted(arrows, key=len, reverse=True))
        )
        self.digest = f"{EXTRACTOR_VERSION}:{self.vocabulary.digest}:{self.cues.digest}"

    # -- public -------------------------------------------------------------------------------

    def extract(self, document: Document) -> Extraction:
        """Return everything extracted from ``document``."""
        return _Run(self, document).run()


def extract_document(document: Document, extractor: Extractor | None = None) -> Extraction:
    """Return the entities, facts and salaries stated in ``document``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from mlkg.documents import Document
    >>> text = "Data Scientist\\nRequired Skills\\n- Python and SQL\\n"
    >>> doc = Document("d1", Path("x.md"), text, "0" * 64)
    >>> sorted(f.predicate for f in extract_document(doc).facts)  # doctest: +SKIP
    ['usesTool', 'usesTool']
    """
    return (extractor or Extractor()).extract(document)


class _Run:
    """The extraction of one document (state shared by the steps)."""

    def __init__(self, extractor: Extractor, document: Document) -> None:
        self.x = extractor
        self.doc = document
        self.out = Extraction(document_id=document.id)
        self.aliases: dict[str, str] = {}  # alias label key -> role iri
        self.section_role: dict[str, str] = {}
        # Answers that depend only on a heading or label text, asked once per sentence.
        self._context_sections: dict[str, bool] = {}
        self._ladder_texts: dict[str, bool] = {}

    # -- orchestration ------------------------------------------------------------------------

    def run(self) -> Extraction:
        blocks = parse_blocks(self.doc.text)
        self.heading_starts = [b.start for b in blocks if b.kind == "heading"]
        self.heading_texts = {b.start: b.text for b in blocks if b.kind == "heading"}
        self.heading_years = {
            b.start: year for b in blocks if b.kind == "heading" and (year := find_year(b.text))
        }
        sentences = [s for b in blocks for s in split_sentences(b)]
        self.sentences = sentences
        self.sentence_starts = [s.start for s in sentences]
        # True when every sentence's text is the document's text at its offsets (as parse_blocks
        # makes them, but for headings whose text the regexes trimmed of odd spaces)
        self.aligned = all(
            self.doc.text.startswith(s.text, s.start) and len(s.text) == s.end - s.start
            for s in sentences
        )
        infos = self._scan(sentences)
        self._find_aliases(infos)
        primary = self._primary_role(infos)
        if primary is None:
            self.out.warnings.append("no recognisable role in the opening of the document")
            return self.out
        self.out.primary_role = primary
        self._heading_roles(infos)
        ladder_sentences = self._ladders(infos)
        for info in infos:
            self._record_mentions(info)
            if id(info) in ladder_sentences:
                continue
            text = info.sentence.text
            states_facts = info.matches and not self._is_context(info.sentence.block)
            if states_facts or "$" in text or _DIGIT.search(text):
                subjects = self._subjects(info)  # only when a fact or a salary may need them
                self._facts(info, subjects)
                self._salaries(info, subjects)
        self._stage_in_titles()
        return self.out

    def _scan(self, sentences: list[Sentence]) -> list[_SentenceInfo]:
        matches = [m for m in self.x.matcher.find(self.doc.text) if "\n" not in m.surface]
        starts = self.sentence_starts
        buckets: list[list[Match]] = [[] for _ in sentences]
        for match in matches:
            i = bisect_right(starts, match.start) - 1
            if i >= 0 and match.end <= sentences[i].end:
                buckets[i].append(match)
        # Whether each sentence may hold a role's head noun, a list's head noun, or the suffix of
        # an organisation's name or the head of a venue's: one pass over the document for all
        # (None when sentence texts are not plain slices of the document: asked per sentence).
        heads, list_heads, names = self._gate_flags() or (None, None, None)
        infos = []
        find_roles = self.x.roles.find
        for index, (sentence, found) in enumerate(zip(sentences, buckets, strict=True)):
            role_matches: list[Match] = []  # matches naming a role (and maybe more)
            others: list[Match] = []  # matches naming something else (and maybe a role)
            for match in found:
                if len(match.terms) == 1:
                    (role_matches if match.terms[0].cls == "Role" else others).append(match)
                    continue
                if _names_class(match.terms, "Role"):
                    role_matches.append(match)
                if not _only_roles(match.terms):
                    others.append(match)
            roles = find_roles(
                sentence.text,
                sentence.start,
                role_matches,
                head_possible=heads[index] if heads else None,
            )
            if roles and others:
                others = [m for m in others if not _inside_a_role(m, roles)]
            if others:
                others = self._disambiguate(sentence, others)
            discovered = self._discover(
                sentence, others, roles, list_heads[index] if list_heads else None
            )
            others.extend(discovered)
            organizations = self._discover_organizations(
                sentence, others, roles, names[index] if names else None
            )
            if organizations:  # a name's words are not separate terms: "Bureau of Labor Statistics"
                others = [
                    m
                    for m in others
                    if not any(o.start <= m.start and m.end <= o.end for o in organizations)
                ]
                others.extend(organizations)
            if discovered or organizations:  # else still in order of position
                others.sort(key=_match_start)
            infos.append(_SentenceInfo(sentence, others, roles))
        return infos

    def _gate_flags(self) -> list[list[bool]] | None:
        """Return the answers of the sentence gates (``x.sentence_gates``) for every sentence."""
        if not self.aligned:
            return None
        spans = [(s.start, s.end) for s in self.sentences]
        return self.x.sentence_gates.may_contain_spans(self.doc.text, spans)

    def _previous_text(self, sentence: Sentence) -> str:
        """Return the two sentences before ``sentence``: context for ambiguous names."""
        index = bisect_left(self.sentence_starts, sentence.start)  # starts are distinct
        return " ".join(p.text for p in self.sentences[max(0, index - 2) : index])

    # -- entities -----------------------------------------------------------------------------

    def _entity_for_term(self, term: Term) -> str:
        if term.iri not in self.out.entities:
            self.out.entities[term.iri] = Entity(
                term.iri, term.cls, term.label, term.alt_labels, True
            )
        return term.iri

    def _role_iri(self, span: RoleSpan) -> str:
        alias = self.aliases.get(normalize_key(span.label))
        if alias:
            return alias
        if span.term is not None:
            iri = self._entity_for_term(span.term)
            extra = tuple(a for a in span.alt_labels if a != span.term.label)
            if extra:
                self._add_alt_labels(iri, extra)
            return iri
        primary = self.out.primary_role
        if primary and self._is_suffix_of(span.label, self.out.entities[primary].label):
            return primary
        iri = entity_iri("Role", span.label)
        if iri not in self.out.entities:
            self.out.entities[iri] = Entity(iri, "Role", span.label, span.alt_labels, False)
        else:
            self._add_alt_labels(iri, span.alt_labels)
        return iri

    def _add_alt_labels(self, iri: str, labels: Iterable[str]) -> None:
        entity = self.out.entities[iri]
        known = {normalize_key(entity.label), *(normalize_key(a) for a in entity.alt_labels)}
        new = [a for a in labels if normalize_key(a) not in known]
        if new:
            self.out.entities[iri] = Entity(
                entity.iri,
                entity.cls,
                entity.label,
                tuple(sorted(set(entity.alt_labels) | set(new))),
                entity.in_vocabulary,
            )

    @staticmethod
    def _is_suffix_of(label: str, other: str) -> bool:
        words, others = normalize_key(label).split(), normalize_key(other).split()
        return len(words) >= 2 and len(words) < len(others) and others[-len(words) :] == words

    def _disambiguate(self, sentence: Sentence, matches: list[Match]) -> list[Match]:
        """Pick one class per match and drop ambiguous terms that lack their context."""
        text = sentence.text
        has_degree: bool | None = None  # asked only when a label names things of two classes
        chosen: list[Match] = []
        for match in matches:
            if len(match.terms) == 1:  # the common case: one term, nothing to choose
                if match.terms[0].cls != "Role":
                    chosen.append(match)
                continue
            terms = [t for t in match.terms if t.cls != "Role"]
            if not terms:
                continue
            if len(terms) == 1:
                best = terms[0]
            else:
                if has_degree is None:
                    has_degree = any(_names_class(m.terms, "Degree") for m in matches) or bool(
                        _DEGREE_WORDS.search(text)
                    )
                rank = _CLASS_RANK_NEAR_DEGREE if has_degree else _CLASS_RANK
                # the first of the best-ranked terms (as a stable sort would put first)
                best = min(terms, key=lambda t: rank.get(t.cls, len(rank)))
            chosen.append(Match(match.start, match.end, match.surface, (best,)))
        confirmed: list[Match] = []
        for match in chosen:
            term = match.terms[0]
            if not term.needs_context and term.cls not in _NAMED_CLASSES:
                confirmed.append(match)
                continue
            if term.needs_context and term.label[:1].isupper() and match.surface[:1].islower():
                continue  # "the nature of the work" does not name the journal Nature
            if (
                term.cls in _NAMED_CLASSES
                and " " in term.label
                and term.label[:1].isupper()
                and match.surface[:1].islower()
            ):
                continue  # "core ML areas" does not name the tool Core ML
            if term.needs_context and not self._has_context(term, match, chosen, text, sentence):
                continue
            confirmed.append(match)
        return confirmed

    def _has_context(
        self, term: Term, match: Match, others: list[Match], text: str, sentence: Sentence
    ) -> bool:
        if term.context_cues and cue_words(term.context_cues).occurs_in(text):
            return True  # cues count in the sentence itself; nearby only a list's head noun
        head = self.x._list_heads.get(term.cls)
        if head is not None:
            block = sentence.block
            nearby = " ".join(
                (
                    text,
                    block.label,
                    self._previous_text(sentence),
                    *self._recent_headings(block, 2),
                )
            )
            if head.occurs_in(nearby):
                return True
        siblings = [
            m
            for m in others
            if m is not match and m.terms[0].cls == term.cls and not m.terms[0].needs_context
        ]
        if siblings:
            nearest = min(abs(m.start - match.start) for m in siblings)
            return nearest < 40
        return False

    def _discover(
        self,
        sentence: Sentence,
        known: list[Match],
        roles: list[RoleSpan],
        head_possible: bool | None = None,
    ) -> list[Match]:
        """Find unknown tools, languages and venues named in enumerations.

        ``head_possible`` is ``_list_head_gate.may_contain(sentence.text)`` if known.
        """
        text = sentence.text
        if "," not in text and " or " not in text and " and " not in text and ":" not in text:
            return []  # no enumeration and no "Head: item" line
        # An item gets the class of the list's head noun ("languages: ..."), else of two or more
        # known siblings of one class.
        if head_possible is None:
            head_possible = self.x._list_head_gate.may_contain(text)
        siblings_possible: bool | None = None  # asked when needed
        if not head_possible:
            siblings_possible = _two_of_a_discoverable_class(known)
            if not siblings_possible:
                return []  # no head noun and no two known siblings: no class to give
        found: list[Match] = []
        taken: list[tuple[int, int]] | None = None  # spans already named (built when needed)
        for start_match in _list_starts(text):
            before = text[max(0, start_match.start() - 40) : start_match.start() + 1]
            head_class = None
            possible = self.x._list_head_gates.may_contain(before)
            for (cls, head), may_name in zip(self.x._list_heads.items(), possible, strict=True):
                if may_name and head.occurs_in(before):
                    head_class = cls
                    break
            if head_class is None:
                if siblings_possible is None:
                    siblings_possible = _two_of_a_discoverable_class(known)
                if not siblings_possible:
                    continue  # no class to give
            elif head_class not in _DISCOVERABLE:
                continue  # a list of things of another class
            region_start = start_match.end()
            stop = _LIST_STOP.search(text, region_start)
            region_end = stop.start() if stop else len(text)
            region = text[region_start:region_end]
            items = []
            position = 0
            for piece in _LIST_SPLIT.split(region):
                index = region.find(piece, position)
                position = index + len(piece)
                if piece:
                    items.append((piece, sentence.start + region_start + index))
            if len(items) < 2 and head_class is None:
                continue
            known_in_region = [
                m
                for m in known
                if sentence.start + region_start <= m.start < sentence.start + region_end
            ]
            sibling_classes = {m.terms[0].cls for m in known_in_region}
            cls = head_class
            if cls is None and len(sibling_classes) == 1 and len(known_in_region) >= 2:
                only = next(iter(sibling_classes))
                if only in _DISCOVERABLE:
                    cls = only
            if cls not in _DISCOVERABLE:
                continue
            for piece, start in items:
                piece = piece.strip().strip("\"'()[]")
                start = self.doc.text.find(piece, start) if piece else -1
                if start < 0:
                    continue
                end = start + len(piece)
                if taken is None:
                    taken = [(m.start, m.end) for m in known] + [(r.start, r.end) for r in roles]
                if (start, end) in taken or any(s < end and start < e for s, e in taken):
                    continue  # already named (most items of a list are known matches)
                lower_name = (
                    cls != head_class and _LOWER_NAME.match(piece) is not None and cls == "Tool"
                )
                if not (_NAME.match(piece) or lower_name) or not _TWO_LETTERS.search(piece):
                    continue
                if self.x._generic_gate.may_contain(piece) and _GENERIC.search(piece):
                    continue
                if cls == "Venue" and not _VENUE_ACRONYM.fullmatch(piece):
                    continue  # venues: acronyms such as "AISTATS", "CoRL"
                if self.x.roles.head_form(piece.split()[-1]) is not None:
                    continue
                iri = entity_iri(cls, piece)
                term = Term(iri, cls, piece)
                found.append(Match(start, end, piece, (term,)))
                taken.append((start, end))
        return found

    def _discover_organizations(
        self,
        sentence: Sentence,
        known: list[Match],
        roles: list[RoleSpan],
        name_possible: bool | None = None,
    ) -> list[Match]:
        """Find organisations by the form of their names ("World Economic Forum", "X GmbH").

        ``name_possible`` is ``_name_gate.may_contain(sentence.text)`` if known.
        """
        text = sentence.text
        if name_possible is None:
            name_possible = self.x._name_gate.may_contain(text)
        if not name_possible:
            return []  # neither an organisation's suffix nor a venue's head: the usual case
        candidates = []
        if self.x._org_gate.may_contain(text):  # no name can end without a suffix ("Labs")
            candidates += [("Organization", m) for m in self.x._org_name.finditer(text)]
        if self.x._venue_gate.may_contain(text):  # nor a venue's name lack its head ("Journal")
            candidates += [("Venue", m) for m in self.x._venue_name.finditer(text)]
        if not candidates:
            return []
        found = []
        taken = [(r.start, r.end) for r in roles] + [
            (m.start, m.end) for m in known if m.terms[0].cls in ("Organization", "Venue")
        ]
        for cls, match in candidates:
            name = _LEADING_ARTICLE.sub("", match.group(1)).strip()
            name = _TRAILING_JOINER.sub("", name).rstrip(".")
            words = name.split()
            if len(words) < 2 or (
                self.x._generic_gate.may_contain(words[0]) and _GENERIC.search(words[0])
            ):
                continue
            if sentence.block.kind in ("heading", "label") and not self.x._legal_suffix.occurs_in(
                name
            ):
                continue
            start = sentence.start + match.start(1) + match.group(1).find(name)
            end = start + len(name)
            if any(s < end and start < e for s, e in taken):
                continue
            term = Term(entity_iri(cls, name), cls, name)
            found.append(Match(start, end, name, (term,)))
            taken.append((start, end))
        return found

    def _record_mentions(self, info: _SentenceInfo) -> None:
        entities = self.out.entities
        mentions = self.out.mentions
        known = self.x.vocabulary.terms
        document_id = self.doc.id
        for match in info.matches:
            term = match.terms[0]
            iri = term.iri
            if iri not in entities:
                if iri in known:
                    entities[iri] = Entity(iri, term.cls, term.label, term.alt_labels, True)
                else:  # discovered
                    entities[iri] = Entity(iri, term.cls, term.label, (), False)
            mentions.append(Mention(iri, document_id, match.start, match.end, match.surface))
        if info.roles:
            for span, iri in self._sentence_roles(info):
                mentions.append(Mention(iri, document_id, span.start, span.end, span.surface))

    # -- roles --------------------------------------------------------------------------------

    def _find_aliases(self, infos: list[_SentenceInfo]) -> None:
        for info in infos:
            roles = info.roles
            for first, second in pairwise(roles):
                between = self.doc.text[first.end : second.start]
                if self.x._aliases.occurs_in(between) and len(between) < 40:
                    iri = self._role_iri(first)
                    self.aliases[normalize_key(second.label)] = iri
                    self._add_alt_labels(iri, [second.label, *second.alt_labels])

    def _primary_role(self, infos: list[_SentenceInfo]) -> str | None:
        hint = self.doc.primary_role_hint or self.doc.title
        if hint:
            spans = self.x.roles.find(
                hint,
                0,
                [m for m in self.x.matcher.find(hint) if any(t.cls == "Role" for t in m.terms)],
            )
            if spans:
                return self._role_iri(spans[0])
        # The title's role if the first block names one; else, of the roles in the opening
        # blocks, the one the whole document names most often (first named wins a tie).
        opening: list[RoleSpan] = []
        blocks_seen = 0
        last_block = None
        for info in infos:
            if info.sentence.block is not last_block:
                blocks_seen += 1
                last_block = info.sentence.block
            if blocks_seen > 4:
                break
            if blocks_seen == 1 and info.roles and info.sentence.block.kind == "heading":
                return self._role_iri(info.roles[0])
            opening.extend(info.roles)
        if not opening:
            return None
        # A mention of "Senior Data Analyst" also counts for "Data Analyst": the base title of a
        # ladder document gathers the mentions of its levels.
        mentions = [normalize_key(span.label) for info in infos for span in info.roles]

        def weight(span: RoleSpan) -> int:
            key = normalize_key(span.label)
            return sum(1 for m in mentions if m == key or m.endswith(" " + key))

        best = max(opening, key=weight)
        return self._role_iri(best)

    def _heading_roles(self, infos: list[_SentenceInfo]) -> None:
        """Remember headings and bullet labels that are role titles: they set the subject."""
        for info in infos:
            block = info.sentence.block
            if block.kind not in ("heading", "label") or not info.roles:
                continue
            span = info.roles[0]
            letters = len(_NON_WORD.sub("", block.text))
            if letters and len(_NON_WORD.sub("", span.surface)) >= 0.6 * letters:
                key = block.text if block.kind == "heading" else f"{block.section}\x00{block.label}"
                self.section_role[key] = self._role_iri(span)

    def _sentence_roles(self, info: _SentenceInfo) -> list[tuple[RoleSpan, str]]:
        """Return each role title of the sentence with its IRI.

        Only asked once the primary role is known: from then on a title's IRI does not change
        and asking again changes no entity, so the first answer is kept.
        """
        if info.role_iris is None:
            info.role_iris = [(span, self._role_iri(span)) for span in info.roles]
        return info.role_iris

    def _subjects(self, info: _SentenceInfo) -> list[str]:
        """Return the roles a sentence is about."""
        sentence = info.sentence
        block = sentence.block
        text = self.doc.text
        if block.kind in ("heading", "label"):
            return []
        for span, iri in self._sentence_roles(info):
            lead = text[sentence.start : span.start]
            if self.x._contrast.occurs_in(lead):
                continue
            lead_words = _PUNCTUATION.sub(" ", lead).split()
            if len(lead_words) <= 1 and not self.x._object_markers.occurs_in(lead):
                return [iri]
            break
        label_role = (
            self.section_role.get(f"{block.section}\x00{block.label}") if block.label else None
        )
        if label_role:
            return [label_role]
        heading_role = self.section_role.get(block.section)
        if heading_role:
            return [heading_role]
        assert self.out.primary_role is not None
        return [self.out.primary_role]

    # -- facts --------------------------------------------------------------------------------

    def _evidence(self, sentence: Sentence) -> Evidence:
        return Evidence(
            self.doc.id, sentence.block.section, sentence.text, sentence.start, sentence.end
        )

    def _is_context(self, block: Block) -> bool:
        """True for sections about the market, trends or pay: they state no requirement."""
        section = block.section
        answer = self._context_sections.get(section)
        if answer is None:
            answer = bool(self.x._context.occurs_in(section) or self.x._salary.occurs_in(section))
            self._context_sections[section] = answer
        return answer

    def _degree_qualifier(self, sentence: Sentence) -> str | None:
        """Return minimum/preferred/typical from the sentence, else its bullet group or heading."""
        for scope in (sentence.text, sentence.block.label, sentence.block.section):
            for kind, words in self.x._degree_kinds:
                if scope and words.occurs_in(scope):
                    return kind
        return None

    def _facts(self, info: _SentenceInfo, subjects: list[str]) -> None:
        sentence = info.sentence
        if not subjects or not info.matches or self._is_context(sentence.block):
            return
        evidence = self._evidence(sentence)
        facts = self.out.facts
        works_at: bool | None = None  # asked at the first organisation
        for match in info.matches:
            term = match.terms[0]
            predicate = PREDICATE_OF_CLASS.get(term.cls)
            if predicate is None:
                continue
            if term.cls == "Organization":
                if works_at is None:
                    works_at = self._works_at(sentence.text)
                if not works_at:
                    continue
            qualifier = self._degree_qualifier(sentence) if term.cls == "Degree" else None
            for subject in subjects:
                facts.append(Fact(subject, predicate, term.iri, evidence, qualifier))

    def _works_at(self, text: str) -> bool:
        return bool(self.x._work.occurs_in(text)) and not self.x._not_work.occurs_in(text)

    def _stage_in_titles(self) -> None:
        """A title that names a stage ("Senior Research Scientist") places the role at it."""
        first_mention: dict[str, Mention] = {}
        for mention in self.out.mentions:
            first_mention.setdefault(mention.iri, mention)
        for iri, entity in list(self.out.entities.items()):
            if entity.cls != "Role" or iri not in first_mention:
                continue
            stages = self.x.stages_in(entity.label)
            if not stages:
                continue
            mention = first_mention[iri]
            sentence = self._sentence_at(mention.start)
            term = stages[0].terms[0]
            self._entity_for_term(term)
            self.out.facts.append(Fact(iri, "atStage", term.iri, self._evidence(sentence)))

    def _sentence_at(self, offset: int) -> Sentence:
        """Return the sentence that contains document offset ``offset``."""
        index = max(0, bisect_right(self.sentence_starts, offset) - 1)
        return self.sentences[index]

    # -- salaries -----------------------------------------------------------------------------

    def _salaries(self, info: _SentenceInfo, subjects: list[str]) -> None:
        sentence = info.sentence
        block = sentence.block
        if "$" not in sentence.text and not _DIGIT.search(sentence.text):
            return
        scope = " ".join(
            (block.section, block.label, sentence.text, *self._recent_headings(block, 4))
        )
        if not self.x._pay_gate.may_contain(scope):
            return  # no word of pay anywhere near
        if not self.x._salary.occurs_in(scope) and not _PAY.search(scope):
            return
        figures = parse_figures(sentence.text, self.x.cues)
        if not figures:
            return
        organization = self._salary_organization(info)
        year = find_year(sentence.text) or find_year(block.section) or self._recent_year(block)
        role = subjects[0] if subjects else self.out.primary_role
        assert role is not None
        evidence = self._evidence(sentence)
        for number, statement in enumerate(figures):
            values = statement.values
            iri = salary_iri(self.doc.id, sentence.start, number, role)
            self.out.salaries.append(
                Salary(
                    iri=iri,
                    role=role,
                    currency=statement.currency,
                    evidence=evidence,
                    min_value=values.get("min_value"),
                    max_value=values.get("max_value"),
                    median=values.get("median"),
                    average=values.get("average"),
                    percentile10=values.get("percentile10"),
                    percentile90=values.get("percentile90"),
                    organization=organization,
                    year=year,
                )
            )

    def _salary_organization(self, info: _SentenceInfo) -> str | None:
        organizations = [m for m in info.matches if m.terms[0].cls == "Organization"]
        if len(organizations) == 1:
            return self._entity_for_term(organizations[0].terms[0])
        return None

    def _recent_headings(self, block: Block, count: int) -> list[str]:
        """Return the texts of the ``count`` headings above ``block``."""
        index = bisect_right(self.heading_starts, block.start)
        return [self.heading_texts[s] for s in self.heading_starts[max(0, index - count) : index]]

    def _recent_year(self, block: Block) -> int | None:
        """Return the year of one of the 8 headings above ``block``, nearest first."""
        index = bisect_right(self.heading_starts, block.start)
        for start in reversed(self.heading_starts[max(0, index - 8) : index]):
            year = self.heading_years.get(start)
            if year:
                return year
        return None

    # -- ladders ------------------------------------------------------------------------------

    def _names_ladder(self, text: str) -> bool:
        """True when a heading or label says "career path", "progression", "levels" and so on."""
        answer = self._ladder_texts.get(text)
        if answer is None:
            answer = bool(self.x._ladder.occurs_in(text))
            self._ladder_texts[text] = answer
        return answer

    def _is_ladder(self, block: Block) -> bool:
        return self._names_ladder(block.section) or self._names_ladder(block.label)

    def _ladders(self, infos: list[_SentenceInfo]) -> set[int]:
        """Read career ladders; return the ids of the sentences they used."""
        used: set[int] = set()
        groups: list[list[_SentenceInfo]] = []
        current_key: str | tuple[str, str] | None = None
        stage_sections: set[str] = set()  # stage headings inside a ladder ("Entry-Level Roles:")
        for info in infos:
            block = info.sentence.block
            if block.kind == "heading":
                if current_key is not None and self._is_stage_heading(block.text):
                    stage_sections.add(block.section)
                    groups[-1].append(info)  # a stage heading continues the ladder
                    continue
                current_key = None
                if self._names_ladder(block.text):
                    groups.append([])  # a ladder heading opens a ladder
                    current_key = block.section
                continue
            if block.section in stage_sections and current_key is not None:
                groups[-1].append(info)
                continue
            if not self._is_ladder(block):
                current_key = None
                if len(info.roles) >= 2 and self.x._arrow.search(info.sentence.text):
                    groups.append([info])  # "A -> B -> C" anywhere is a ladder
                elif len(info.roles) >= 2 and self._then_chain(info):
                    pass
                elif info.roles:
                    self._verb_steps(info)
                continue
            key = (
                block.section if self._names_ladder(block.section) else (block.section, block.label)
            )
            if key != current_key:
                groups.append([])
                current_key = key
            groups[-1].append(info)
        for group in groups:
            steps = self._steps(group)
            if sum(1 for s in steps if s.roles or s.stage) >= 2:
                used.update(id(i) for i in group)
                self._ladder_facts(steps)
                for info in group:
                    subjects = self._step_subjects(info, steps)
                    self._facts(info, subjects)
                    self._salaries(info, [self.out.primary_role or ""])
        return used

    def _is_stage_heading(self, text: str) -> bool:
        """True for a short heading that names a career stage ("Mid-Level Roles")."""
        return len(text.split()) <= 5 and bool(self.x.stages_in(text))

    def _then_chain(self, info: _SentenceInfo) -> bool:
        """Read "this role can grow into X and then Y" as subject -> X -> Y; True if it did."""
        sentence = info.sentence
        first = info.roles[0]
        lead = self.doc.text[sentence.start : first.start]
        between = self.doc.text[first.end : info.roles[1].start]
        if not self.x._step_verbs.occurs_in(lead[-30:]) or not _THEN.search(between):
            return False
        subjects = self._subjects(info)
        chain = [subjects[0]] if subjects and subjects[0] not in self._role_iris(info) else []
        evidence = self._evidence(sentence)
        steps = [
            _Step([role], None, None, None, evidence) for role in chain + self._role_iris(info)
        ]
        self._ladder_facts(steps)
        return True

    def _verb_steps(self, info: _SentenceInfo) -> None:
        """Read "S can advance to R" (S -> R) and "S often start as R" (R -> S) outside ladders."""
        sentence = info.sentence
        if self._is_context(sentence.block) or sentence.block.kind in ("heading", "label"):
            return
        subjects = self._subjects(info)
        first = info.roles[0]
        if _FROM_LEAD.fullmatch(self.doc.text[sentence.start : first.start]):
            subjects = [self._role_iri(first)]  # "From Senior Analyst, people move into ..."
        if not subjects:
            return
        subject = subjects[0]
        evidence = self._evidence(sentence)
        for span, iri in self._sentence_roles(info):
            if iri == subject:
                continue
            lead = self.doc.text[max(sentence.start, span.start - 40) : span.start]
            lead = _CLAUSE_MARK.split(lead)[-1]
            if self.x._backward.occurs_in(lead):
                self.out.facts.append(Fact(iri, "progressesTo", subject, evidence))
            elif self.x._forward.occurs_in(lead):
                self.out.facts.append(Fact(subject, "progressesTo", iri, evidence))

    def _role_iris(self, info: _SentenceInfo) -> list[str]:
        return list(dict.fromkeys(iri for _, iri in self._sentence_roles(info)))

    def _stage_of(self, text: str) -> tuple[str | None, int | None, int | None]:
        stages = self.x.stages_in(text)
        if not stages:
            return None, None, None
        iri = self._entity_for_term(stages[0].terms[0])
        years = _YEARS_RANGE.search(text)
        if years:
            return iri, int(years.group(1)), int(years.group(2))
        minimum = _YEARS_MIN.search(text)
        if minimum:
            return iri, int(minimum.group(1) or minimum.group(2)), None
        return iri, None, None

    def _step_roles(self, info: _SentenceInfo, start: int, end: int) -> list[str]:
        roles = []
        for span, iri in self._sentence_roles(info):
            if not (start <= span.start < end):
                continue
            lead = self.doc.text[max(start, span.start - 25) : span.start]
            if self.x._object_markers.occurs_in(
                lead.split(",")[-1]
            ) and not self.x._step_verbs.occurs_in(lead):
                continue
            roles.append(iri)
        return list(dict.fromkeys(roles))

    def _steps(self, group: list[_SentenceInfo]) -> list[_Step]:
        steps: list[_Step] = []
        self._step_of: dict[int, _Step] = {}
        for info in group:
            sentence = info.sentence
            text = sentence.text
            evidence = self._evidence(sentence)
            current = steps[-1] if steps else None
            if sentence.block.kind in ("label", "heading"):
                stage, low, high = self._stage_of(text)
                roles = self._step_roles(info, sentence.start, sentence.end)
                if stage or roles:
                    steps.append(_Step(roles, stage, low, high, evidence, "label"))
                    self._step_of[id(info)] = steps[-1]
                continue
            if self.x._arrow.search(text) and len(self.x._arrow.findall(text)) >= 1:
                parts = self._arrow_parts(info)
                if len(parts) >= 2:
                    for roles, stage, low, high in parts:
                        steps.append(_Step(roles, stage, low, high, evidence, "bullet"))
                    continue
            colon = text.find(":")
            key_end = sentence.start + colon if 0 < colon < 60 else sentence.start
            key_text = text[:colon] if 0 < colon < 60 else ""
            key_roles = self._step_roles(info, sentence.start, key_end) if key_text else []
            key_stage, low, high = self._stage_of(key_text) if key_text else (None, None, None)
            rest_roles = self._step_roles(info, key_end, sentence.end)
            whole_stage = None
            if not key_text and not info.roles:
                stage, s_low, s_high = self._stage_of(text)
                stripped = _YEARS_RANGE.sub("", _YEARS_MIN.sub("", text))
                if stage and len(_NON_LETTER.sub("", stripped)) <= 25:
                    whole_stage, low, high = stage, s_low, s_high
            if key_roles:
                if current and current.opened_by == "label":
                    current.roles.extend(r for r in key_roles if r not in current.roles)
                    for role in key_roles:
                        current.role_evidence.setdefault(role, evidence)
                    self._step_of[id(info)] = current
                else:
                    stage = key_stage
                    steps.append(_Step(key_roles, stage, low, high, evidence, "bullet"))
                    self._step_of[id(info)] = steps[-1]
            elif key_stage or whole_stage:
                stage = key_stage or whole_stage
                steps.append(
                    _Step(
                        rest_roles, stage, low, high, evidence, "stage" if whole_stage else "bullet"
                    )
                )
                self._step_of[id(info)] = steps[-1]
            elif rest_roles and self._is_step_sentence(info):
                if current and current.opened_by == "label" and not current.roles:
                    current.roles.extend(rest_roles)
                    current.evidence = evidence
                    self._step_of[id(info)] = current
                elif current and current.opened_by == "stage":
                    continue
                else:
                    steps.append(_Step(rest_roles, None, None, None, evidence, "bullet"))
                    self._step_of[id(info)] = steps[-1]
        return steps

    def _is_step_sentence(self, info: _SentenceInfo) -> bool:
        """A sentence is a ladder step when it opens with a role or a step verb."""
        sentence = info.sentence
        first = info.roles[0]
        lead = self.doc.text[sentence.start : first.start]
        return bool(self.x._step_verbs.occurs_in(lead)) or len(lead.split()) <= 2

    def _arrow_parts(
        self, info: _SentenceInfo
    ) -> list[tuple[list[str], str | None, int | None, int | None]]:
        sentence = info.sentence
        parts = []
        position = sentence.start
        for piece in self.x._arrow.split(sentence.text):
            start = self.doc.text.find(piece, position)
            end = start + len(piece)
            position = end
            if "(" in piece:  # "Staff Engineer (tech lead track)": the aside is not a step
                end = start + piece.index("(")
            roles = self._step_roles(info, start, end)
            stage, low, high = self._stage_of(piece)
            if roles:
                parts.append((roles, stage, low, high))
        return parts

    def _step_subjects(self, info: _SentenceInfo, steps: list[_Step]) -> list[str]:
        """Return the roles of the step a ladder sentence opens or describes."""
        step = self._step_of.get(id(info))
        if step is None:  # a description belongs to the latest step opened before it
            opened = [s for s in steps if s.evidence and s.evidence.start <= info.sentence.start]
            step = opened[-1] if opened else None
        return list(step.roles) if step else []

    def _ladder_facts(self, steps: list[_Step]) -> None:
        for step in steps:
            if step.stage and step.evidence:
                for role in step.roles:
                    self.out.facts.append(
                        Fact(
                            role,
                            "atStage",
                            step.stage,
                            step.evidence_for(role) or step.evidence,
                            None,
                            step.min_years,
                            step.max_years,
                        )
                    )
        for before, after in pairwise(steps):
            if after.evidence is None:
                continue
            if before.roles and after.roles:
                for a in before.roles:
                    for b in after.roles:
                        if a != b:
                            self.out.facts.append(
                                Fact(
                                    a,
                                    "progressesTo",
                                    b,
                                    after.evidence_for(b) or after.evidence,
                                    None,
                                    after.min_years,
                                    after.max_years,
                                )
                            )
            elif (
                not before.roles
                and not after.roles
                and before.stage
                and after.stage
                and before.stage != after.stage
            ):
                self.out.facts.append(
                    Fact(
                        before.stage,
                        "progressesTo",
                        after.stage,
                        after.evidence,
                        None,
                        after.min_years,
                        after.max_years,
                    )
                )
