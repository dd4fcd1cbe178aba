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
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from mlkg.documents import Block, Document, Sentence, parse_blocks, split_sentences
from mlkg.extract.cues import Cues, load_cues, words_pattern
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
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\bor\b|\band\b|\bas well as\b)\s*", re.I)
_NAME = re.compile(r"^[A-Z0-9][\w.+#&'-]*(?: [A-Z0-9][\w.+#&'-]*){0,2}$")
_LOWER_NAME = re.compile(r"^[a-z][a-z0-9.+#-]{1,20}$")
_GENERIC = re.compile(
    r"\b(skills?|experience|knowledge|understanding|ability|abilities|proficiency|expertise|"
    r"familiarity|strong|excellent|good|various|other|related|etc|others|similar|tools?|"
    r"frameworks?|libraries|library|languages?|platforms?|systems?|methods?|techniques?|"
    r"models?|data|research|the|a|an|our|their|your|years?|degree|field|areas?)\b",
    re.I,
)


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
        self._context = self.cues.pattern("sections", "context_words")
        self._ladder = self.cues.pattern("sections", "ladder_words")
        self._salary = self.cues.pattern("sections", "salary_words")
        self._step_verbs = self.cues.pattern("ladders", "step_verbs")
        self._object_markers = self.cues.pattern("subjects", "object_markers")
        self._contrast = self.cues.pattern("subjects", "contrast_markers")
        self._aliases = self.cues.pattern("aliases", "phrases")
        self._work = self.cues.pattern("organizations", "work_words")
        self._not_work = self.cues.pattern("organizations", "not_work_words")
        self._list_heads = {
            cls: words_pattern(words)
            for cls, words in self.cues.raw.get("lists", {}).items()
            if isinstance(words, list)
        }
        suffixes = "|".join(re.escape(s) for s in self.cues.words("organizations", "suffixes"))
        name = r"[A-Z][\w&'.-]*"
        self._org_name = re.compile(
            rf"(?<![\w-])((?:(?:{name})[ \t]+){{0,4}}(?:{suffixes})\.?"
            rf"(?:[ \t]+(?:of|for)(?:[ \t]+{name}){{1,3}})?)(?![\w-])"
        )
        heads = "|".join(re.escape(s) for s in self.cues.words("venues", "name_heads"))
        self._venue_name = re.compile(
            rf"(?<![\w-])((?:{name}[ \t]+){{0,3}}(?:{heads})(?:[ \t]+(?:of|on|in|for)"
            rf"(?:[ \t]+(?:the|and|{name})){{1,6}})?)(?![\w-])"
        )
        self._forward = self.cues.pattern("ladders", "forward_verbs")
        self._backward = self.cues.pattern("ladders", "backward_verbs")
        self._legal_suffix = words_pattern(self.cues.words("organizations", "legal_suffixes"))
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
            subjects = self._subjects(info)
            self._facts(info, subjects)
            self._salaries(info, subjects)
        self._stage_in_titles()
        return self.out

    def _scan(self, sentences: list[Sentence]) -> list[_SentenceInfo]:
        matches = [m for m in self.x.matcher.find(self.doc.text) if "\n" not in m.surface]
        starts = [s.start for s in sentences]
        buckets: list[list[Match]] = [[] for _ in sentences]
        for match in matches:
            i = bisect_right(starts, match.start) - 1
            if i >= 0 and match.end <= sentences[i].end:
                buckets[i].append(match)
        infos = []
        # the two sentences before each sentence: context for ambiguous names
        self.previous_text = {
            s.start: " ".join(p.text for p in sentences[max(0, i - 2) : i])
            for i, s in enumerate(sentences)
        }
        for sentence, found in zip(sentences, buckets, strict=True):
            role_matches = [m for m in found if any(t.cls == "Role" for t in m.terms)]
            roles = self.x.roles.find(sentence.text, sentence.start, role_matches)
            others = [
                m
                for m in found
                if not any(r.start <= m.start and m.end <= r.end for r in roles)
                and not all(t.cls == "Role" for t in m.terms)
            ]
            others = self._disambiguate(sentence, others)
            others.extend(self._discover(sentence, others, roles))
            organizations = self._discover_organizations(sentence, others, roles)
            if organizations:  # a name's words are not separate terms: "Bureau of Labor Statistics"
                others = [
                    m
                    for m in others
                    if not any(o.start <= m.start and m.end <= o.end for o in organizations)
                ]
                others.extend(organizations)
            others.sort(key=lambda m: m.start)
            infos.append(_SentenceInfo(sentence, others, roles))
        return infos

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
        has_degree = any(t.cls == "Degree" for m in matches for t in m.terms) or bool(
            re.search(r"\b(degree|major|background in|graduate)\b", text, re.I)
        )
        chosen: list[Match] = []
        for match in matches:
            terms = [t for t in match.terms if t.cls != "Role"]
            if not terms:
                continue
            order = list(_CLASS_PREFERENCE)
            if has_degree:
                order.remove("FieldOfStudy")
                order.insert(0, "FieldOfStudy")
            terms.sort(key=lambda t: order.index(t.cls) if t.cls in order else len(order))
            chosen.append(Match(match.start, match.end, match.surface, (terms[0],)))
        confirmed: list[Match] = []
        for match in chosen:
            term = match.terms[0]
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
        block = sentence.block
        nearby = " ".join(
            (
                text,
                block.label,
                self.previous_text.get(sentence.start, ""),
                *self._recent_headings(block, 2),
            )
        )
        if term.context_cues and words_pattern(term.context_cues).search(text):
            return True  # cues count in the sentence itself; nearby only a list's head noun
        head = self.x._list_heads.get(term.cls)
        if head is not None and head.search(nearby):
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
        self, sentence: Sentence, known: list[Match], roles: list[RoleSpan]
    ) -> list[Match]:
        """Find unknown tools, languages and venues named in enumerations."""
        text = sentence.text
        if "," not in text and " or " not in text and " and " not in text and ":" not in text:
            return []  # no enumeration and no "Head: item" line
        found: list[Match] = []
        taken = [(m.start, m.end) for m in known] + [(r.start, r.end) for r in roles]
        for start_match in _LIST_START.finditer(text):
            region_start = start_match.end()
            stop = re.search(r"[).;]\s|[).;]$|\s[-–—]\s", text[region_start:])
            region_end = region_start + (stop.start() if stop else len(text) - region_start)
            region = text[region_start:region_end]
            before = text[max(0, start_match.start() - 40) : start_match.start() + 1]
            head_class = None
            for cls, pattern in self.x._list_heads.items():
                if pattern.search(before):
                    head_class = cls
                    break
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
                if only in ("ProgrammingLanguage", "Tool", "Venue", "Organization"):
                    cls = only
            if cls not in ("ProgrammingLanguage", "Tool", "Venue", "Organization"):
                continue
            for piece, start in items:
                piece = piece.strip().strip("\"'()[]")
                start = self.doc.text.find(piece, start) if piece else -1
                lower_name = (
                    cls != head_class and _LOWER_NAME.match(piece) is not None and cls == "Tool"
                )
                if start < 0 or not (_NAME.match(piece) or lower_name) or _GENERIC.search(piece):
                    continue
                if not re.search(r"[A-Za-z]{2}", piece):
                    continue
                end = start + len(piece)
                if any(s < end and start < e for s, e in taken):
                    continue
                if cls == "Venue" and not re.fullmatch(r"[A-Z][A-Za-z]*[A-Z][A-Za-z]*'?\d*", piece):
                    continue  # venues: acronyms such as "AISTATS", "CoRL"
                if self.x.roles.head_form(piece.split()[-1]) is not None:
                    continue
                iri = entity_iri(cls, piece)
                term = Term(iri, cls, piece)
                found.append(Match(start, end, piece, (term,)))
                taken.append((start, end))
        return found

    def _discover_organizations(
        self, sentence: Sentence, known: list[Match], roles: list[RoleSpan]
    ) -> list[Match]:
        """Find organisations by the form of their names ("World Economic Forum", "X GmbH")."""
        found = []
        taken = [(r.start, r.end) for r in roles] + [
            (m.start, m.end) for m in known if m.terms[0].cls in ("Organization", "Venue")
        ]
        candidates = [("Organization", m) for m in self.x._org_name.finditer(sentence.text)]
        candidates += [("Venue", m) for m in self.x._venue_name.finditer(sentence.text)]
        for cls, match in candidates:
            name = re.sub(r"^(The|A|An)\s+", "", match.group(1)).strip()
            name = re.sub(r"\s+(the|and|of|on|in|for)$", "", name).rstrip(".")
            if len(name.split()) < 2 or _GENERIC.search(name.split()[0]):
                continue
            if sentence.block.kind in ("heading", "label") and not self.x._legal_suffix.search(
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
        for match in info.matches:
            term = match.terms[0]
            if term.iri in self.x.vocabulary.terms:
                iri = self._entity_for_term(term)
            else:
                iri = term.iri
                if iri not in self.out.entities:
                    self.out.entities[iri] = Entity(iri, term.cls, term.label, (), False)
            self.out.mentions.append(
                Mention(iri, self.doc.id, match.start, match.end, match.surface)
            )
        for span in info.roles:
            iri = self._role_iri(span)
            self.out.mentions.append(Mention(iri, self.doc.id, span.start, span.end, span.surface))

    # -- roles --------------------------------------------------------------------------------

    def _find_aliases(self, infos: list[_SentenceInfo]) -> None:
        for info in infos:
            roles = info.roles
            for first, second in pairwise(roles):
                between = self.doc.text[first.end : second.start]
                if self.x._aliases.search(between) and len(between) < 40:
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
            letters = len(re.sub(r"\W", "", block.text))
            if letters and len(re.sub(r"\W", "", span.surface)) >= 0.6 * letters:
                key = block.text if block.kind == "heading" else f"{block.section}\x00{block.label}"
                self.section_role[key] = self._role_iri(span)

    def _sentence_roles(self, info: _SentenceInfo) -> list[tuple[RoleSpan, str]]:
        return [(span, self._role_iri(span)) for span in info.roles]

    def _subjects(self, info: _SentenceInfo) -> list[str]:
        """Return the roles a sentence is about."""
        sentence = info.sentence
        block = sentence.block
        text = self.doc.text
        if block.kind in ("heading", "label"):
            return []
        for span, iri in self._sentence_roles(info):
            lead = text[sentence.start : span.start]
            if self.x._contrast.search(lead):
                continue
            lead_words = re.sub(r"[^\w\s]", " ", lead).split()
            if len(lead_words) <= 1 and not self.x._object_markers.search(lead):
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
        return bool(self.x._context.search(block.section) or self.x._salary.search(block.section))

    def _degree_qualifier(self, sentence: Sentence) -> str | None:
        """Return minimum/preferred/typical from the sentence, else its bullet group or heading."""
        for scope in (sentence.text, sentence.block.label, sentence.block.section):
            for kind in ("preferred", "typical", "minimum"):
                if scope and self.x.cues.pattern("degrees", kind).search(scope):
                    return kind
        return None

    def _facts(self, info: _SentenceInfo, subjects: list[str]) -> None:
        sentence = info.sentence
        if not subjects or self._is_context(sentence.block) or not info.matches:
            return
        evidence = self._evidence(sentence)
        for match in info.matches:
            term = match.terms[0]
            predicate = PREDICATE_OF_CLASS.get(term.cls)
            if predicate is None:
                continue
            if term.cls == "Organization" and not self._works_at(sentence.text):
                continue
            qualifier = self._degree_qualifier(sentence) if term.cls == "Degree" else None
            for subject in subjects:
                self.out.facts.append(Fact(subject, predicate, term.iri, evidence, qualifier))

    def _works_at(self, text: str) -> bool:
        return bool(self.x._work.search(text)) and not self.x._not_work.search(text)

    def _stage_in_titles(self) -> None:
        """A title that names a stage ("Senior Research Scientist") places the role at it."""
        first_mention: dict[str, Mention] = {}
        for mention in self.out.mentions:
            first_mention.setdefault(mention.iri, mention)
        for iri, entity in list(self.out.entities.items()):
            if entity.cls != "Role" or iri not in first_mention:
                continue
            stages = self.x.stage_matcher.find(entity.label)
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
        if "$" not in sentence.text and not re.search(r"\d", sentence.text):
            return
        scope = " ".join(
            (block.section, block.label, sentence.text, *self._recent_headings(block, 4))
        )
        if not self.x._salary.search(scope) and not re.search(
            r"\b(earn|paid|base|income)\b", scope, re.I
        ):
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

    def _is_ladder(self, block: Block) -> bool:
        return bool(self.x._ladder.search(block.section) or self.x._ladder.search(block.label))

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
                if self.x._ladder.search(block.text):
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
                block.section
                if self.x._ladder.search(block.section)
                else (block.section, block.label)
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
        return len(text.split()) <= 5 and bool(self.x.stage_matcher.find(text))

    def _then_chain(self, info: _SentenceInfo) -> bool:
        """Read "this role can grow into X and then Y" as subject -> X -> Y; True if it did."""
        sentence = info.sentence
        first = info.roles[0]
        lead = self.doc.text[sentence.start : first.start]
        between = self.doc.text[first.end : info.roles[1].start]
        if not self.x._step_verbs.search(lead[-30:]) or not re.search(r"\bthen\b", between):
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
        if re.fullmatch(
            r"\s*from\s+(an?\s+|the\s+)?", self.doc.text[sentence.start : first.start], re.I
        ):
            subjects = [self._role_iri(first)]  # "From Senior Analyst, people move into ..."
        if not subjects:
            return
        subject = subjects[0]
        evidence = self._evidence(sentence)
        for span, iri in self._sentence_roles(info):
            if iri == subject:
                continue
            lead = self.doc.text[max(sentence.start, span.start - 40) : span.start]
            lead = re.split(r"[,;.]", lead)[-1]
            if self.x._backward.search(lead):
                self.out.facts.append(Fact(iri, "progressesTo", subject, evidence))
            elif self.x._forward.search(lead):
                self.out.facts.append(Fact(subject, "progressesTo", iri, evidence))

    def _role_iris(self, info: _SentenceInfo) -> list[str]:
        return list(dict.fromkeys(iri for _, iri in self._sentence_roles(info)))

    def _stage_of(self, text: str) -> tuple[str | None, int | None, int | None]:
        stages = self.x.stage_matcher.find(text)
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
            if self.x._object_markers.search(lead.split(",")[-1]) and not self.x._step_verbs.search(
                lead
            ):
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
                if stage and len(re.sub(r"[\W\d]", "", stripped)) <= 25:
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
        return bool(self.x._step_verbs.search(lead)) or len(lead.split()) <= 2

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
