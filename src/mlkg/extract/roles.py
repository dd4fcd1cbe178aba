"""Find job titles in text, known or not, and give each a canonical label.

A title is a run of capitalised words ending in a role head noun ("Senior Research Scientist",
"AI/ML Research Specialist"), optionally specialised by "in <Area>" ("Research Fellow in Machine
Learning", folded to "Machine Learning Research Fellow") or "of <Thing>" ("Head of Research").
Titles the vocabulary knows are also found in lower case ("data scientists").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlkg.extract.cues import Cues, LiteralGate
from mlkg.extract.matcher import Match
from mlkg.extract.text import normalize_key
from mlkg.vocabulary import Term

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9&+']*(?:[/.-][A-Za-z0-9&+]+)*")
_SUFFIX = re.compile(r"\s+(in|of)\s+")
_ACRONYM_BEFORE = re.compile(r"([A-Z][A-Z0-9/&+-]*)[ \t]+$")
_NEXT_NAME = re.compile(r"[ \t]+([A-Z][a-z]+)")


@dataclass(frozen=True)
class RoleSpan:
    """A role title found at ``start:end`` of the original text, with its canonical label."""

    start: int
    end: int
    surface: str
    label: str
    alt_labels: tuple[str, ...]
    term: Term | None


def _is_capitalised(token: str) -> bool:
    return token[:1].isupper() or token[:1].isdigit()


class RoleFinder:
    """Finds role titles using the cue file and the vocabulary's known roles."""

    def __init__(self, cues: Cues, role_terms: dict[str, Term]) -> None:
        self.heads = {w.lower() for w in cues.words("roles", "heads")}
        self.not_start = {w.lower() for w in cues.words("roles", "not_title_start")}
        self.expand = {k.lower(): v for k, v in cues.raw.get("roles", {}).get("expand", {}).items()}
        self.max_suffix = int(cues.raw.get("roles", {}).get("in_suffix_max_words", 4))
        self.role_terms = role_terms  # normalised key -> Term
        heads = sorted(self.heads, key=len, reverse=True)
        self._any_head = re.compile(
            r"\b(?:" + "|".join(re.escape(h) for h in heads) + r")(?:e?s)?\b", re.IGNORECASE
        )
        # rules out most texts quickly: a head noun, singular or plural, as a whole word
        self.head_gate = LiteralGate(
            [form for h in heads for form in (h, h + "s", h + "es")],
            ignore_case=True,
            whole_words=True,
        )

    def head_form(self, token: str) -> str | None:
        """Return the singular form of ``token`` if it is a role head noun, else None."""
        lower = token.lower()
        if lower in self.heads:
            return token
        if lower.endswith("s") and lower[:-1] in self.heads:
            return token[:-1]
        if lower.endswith("es") and lower[:-2] in self.heads:
            return token[:-2]
        return None

    def lookup(self, label: str) -> Term | None:
        """Return the vocabulary role whose label or altLabel is ``label`` (any case), if any."""
        return self.role_terms.get(normalize_key(label))

    def canonical(self, words: list[str], area: list[str]) -> tuple[str, tuple[str, ...]]:
        """Return the canonical label and alternative labels of a title's words."""
        written = " ".join(words + (["in", *area] if area else []))
        front = area + words if area else words
        expanded = []
        for word in front:
            expanded.append(self.expand.get(word.lower(), word))
        label = " ".join(expanded)
        alts = tuple(a for a in dict.fromkeys([written, " ".join(front)]) if a != label)
        return label, alts

    def find(
        self,
        text: str,
        offset: int,
        vocabulary_roles: list[Match],
        *,
        head_possible: bool | None = None,
    ) -> list[RoleSpan]:
        """Return the role titles in ``text`` (which starts at document offset ``offset``).

        ``head_possible`` is ``self.head_gate.may_contain(text)`` when the caller already knows
        it (None: asked here).
        """
        if not vocabulary_roles:
            if head_possible is None:
                head_possible = self.head_gate.may_contain(text)
            if not (head_possible and self._any_head.search(text)):
                return []  # most sentences name no role: skip the tokenising
        tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        spans: list[RoleSpan] = []
        for index, (token, _start, end) in enumerate(tokens):
            if not _is_capitalised(token):
                continue
            head = self.head_form(token)
            if head is None:
                continue
            first = index
            while first > 0:
                previous, _, p_end = tokens[first - 1]
                gap = text[p_end : tokens[first][1]]
                if gap.strip() or "\n" in gap or not _is_capitalised(previous):
                    break
                if previous.lower() in self.not_start:
                    break
                first -= 1
            words = [t for t, _, _ in tokens[first:index]] + [head]
            span_end = end
            area: list[str] = []
            rest = text[end:]
            suffix = _SUFFIX.match(rest)
            if suffix:
                j = index + 1
                if j < len(tokens) and tokens[j][0].lower() == suffix.group(1):
                    k = j + 1
                    collected: list[tuple[str, int, int]] = []
                    while (
                        k < len(tokens)
                        and len(collected) < self.max_suffix
                        and _is_capitalised(tokens[k][0])
                        and not text[tokens[k - 1][2] : tokens[k][1]].strip()
                        and self.head_form(tokens[k][0]) is None
                    ):
                        collected.append(tokens[k])
                        k += 1
                    if collected and suffix.group(1) == "in":
                        area = [t for t, _, _ in collected]
                        span_end = collected[-1][2]
                    elif collected:
                        words = [*words, "of", *(t for t, _, _ in collected)]
                        span_end = collected[-1][2]
            if len(words) < 2 and not area and self.lookup(head) is None:
                continue
            if not area and _continues_name(text, span_end if len(words) > 1 else end):
                continue  # "TensorFlow Developer Professional Certificate" is not a role
            span_start = tokens[first][1]
            if area and _area_is_generic(area):
                # "Research Scientist in Machine Learning" is a Research Scientist: every role
                # here is in ML, so the suffix names no narrower role (kept as an altLabel).
                written = " ".join([*words, "in", *area])
                label, alts = self.canonical(words, [])
                alts = (written,)
                term = self.lookup(label)
            else:
                label, alts = self.canonical(words, area)
                term = self.lookup(label) or self.lookup(
                    " ".join(words + (["in", *area] if area else []))
                )
            if term is not None:
                alts = tuple(a for a in dict.fromkeys([*alts, label]) if a != term.label)
                label = term.label
            spans.append(
                RoleSpan(
                    offset + span_start,
                    offset + span_end,
                    text[span_start:span_end],
                    label,
                    alts,
                    term,
                )
            )
        # Known titles in any case ("data scientists") that no capitalised title covers.
        for match in vocabulary_roles:
            if any(s.start <= match.start and match.end <= s.end for s in spans):
                continue
            term = match.terms[0]
            local_start = match.start - offset
            modifiers: list[str] = []
            while True:  # "AI engineering manager": capitalised modifiers before a known title
                before = _ACRONYM_BEFORE.search(text[:local_start])  # acronyms
                if not before or before.group(1).lower() in self.not_start:
                    break
                modifiers.insert(0, before.group(1))
                local_start = before.start(1)
            if modifiers:
                label = " ".join([*modifiers, *(w[:1].upper() + w[1:] for w in term.label.split())])
                known = self.lookup(label)
                spans.append(
                    RoleSpan(
                        offset + local_start,
                        match.end,
                        text[local_start : match.end - offset],
                        known.label if known else label,
                        (),
                        known,
                    )
                )
                continue
            spans.append(RoleSpan(match.start, match.end, match.surface, term.label, (), term))
        spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
        kept: list[RoleSpan] = []
        for span in spans:
            if kept and span.start < kept[-1].end:
                continue
            kept.append(span)
        return kept


def _continues_name(text: str, end: int) -> bool:
    """True when a capitalised word follows ``end`` directly: the title is part of a longer name."""
    following = _NEXT_NAME.match(text[end:])
    return following is not None and following.group(1) not in ("In", "Of", "At", "And", "Or")


def _area_is_generic(area: list[str]) -> bool:
    """True when "in <area>" only repeats the field every role here is in (ML, AI)."""
    return " ".join(area).lower() in {"ml", "ai", "machine learning", "artificial intelligence"}
