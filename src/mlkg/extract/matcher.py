"""Find vocabulary terms in text with one Aho-Corasick pass.

All labels and alternative labels of the vocabulary (normalised by
:func:`mlkg.extract.text.normalize_key`, plus simple plurals) go into one automaton; a document is
scanned once, matches are kept on word boundaries, and overlapping matches resolve to the longest.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from operator import itemgetter
from typing import NamedTuple

from mlkg.extract.text import normalize, normalize_key
from mlkg.vocabulary import Term, Vocabulary


class Match(NamedTuple):
    """A span of the original text naming one or more vocabulary terms (same label).

    A named tuple rather than a frozen dataclass: a document has thousands of matches, and a
    tuple is several times quicker to make.
    """

    start: int
    end: int
    surface: str
    terms: tuple[Term, ...]


def _plurals(key: str) -> list[str]:
    if len(key) < 4 or not key[-1].isalpha():
        return []
    if key.endswith("y") and key[-2:-1] not in "aeiou":
        return [key[:-1] + "ies"]
    if key.endswith(("s", "x", "ch", "sh")):
        return [key + "es"]
    return [key + "s"]


class VocabularyMatcher:
    """An Aho-Corasick automaton over every label of a vocabulary.

    Word boundaries are checked by the automaton itself: it holds each key as
    ``" " + boundary_form(key) + " "`` (:func:`_boundary_form`: every character that does not
    continue a word turned into a space) and scans the text's boundary form padded with spaces,
    so it only reports matches that start and end on word boundaries. The boundary form loses
    punctuation ("r&d" and "r d" look alike), so each hit is confirmed against the normalised
    text before it counts.

    Examples
    --------
    >>> from mlkg.vocabulary import Term, Vocabulary
    >>> v = Vocabulary({"t": Term("t", "Tool", "PyTorch", ("Pytorch",))})
    >>> [m.surface for m in VocabularyMatcher(v).find("We use pytorch and PyTorch.")]
    ['pytorch', 'PyTorch']
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        import ahocorasick

        self.vocabulary = vocabulary
        table: dict[str, dict[str, Term]] = {}
        for term in vocabulary.terms.values():
            for label in (term.label, *term.alt_labels):
                key = normalize_key(label)
                if not key:
                    continue
                table.setdefault(key, {})[term.iri] = term
                for plural in _plurals(key):
                    table.setdefault(plural, {}).setdefault(term.iri, term)
        # boundary form -> the keys with that form and their terms
        entries: dict[str, list[tuple[str, tuple[Term, ...]]]] = {}
        for key, by_iri in table.items():
            ordered = tuple(sorted(by_iri.values(), key=lambda t: t.iri))
            entries.setdefault(_boundary_form(key), []).append((key, ordered))
        self._automaton = ahocorasick.Automaton()
        for form, keyed in entries.items():
            # the value: the key's length, its first (key, terms) pair and any others sharing
            # the boundary form (rare: "r&d" and "r d")
            (first_key, first_terms), *more = keyed
            self._automaton.add_word(f" {form} ", (len(form), first_key, first_terms, tuple(more)))
        if table:
            self._automaton.make_automaton()
        self._empty = not table

    def find(self, text: str) -> list[Match]:
        """Return the non-overlapping vocabulary matches in ``text``, in order of position."""
        if self._empty:
            return []
        normalized = normalize(text)
        norm = normalized.text
        candidates: list[tuple[int, int, tuple[Term, ...]]] = []  # (start, -length, terms)
        for end_index, (length, key, terms, more) in self._automaton.iter(
            f" {_boundary_form(norm)} "
        ):
            # the padded form starts one character before ``norm``: the key's first character is
            # at ``end_index - length`` in the padded form, so at ``end_index - length - 1`` in norm
            start = end_index - length - 1
            if norm.startswith(key, start):
                candidates.append((start, -length, terms))
                continue
            for other_key, other_terms in more:
                if norm.startswith(other_key, start):
                    candidates.append((start, -length, other_terms))
                    break
        candidates.sort(key=_BY_START_LONGEST_FIRST)
        shifted = normalized.shifted  # empty when the copy dropped nothing: offsets are the same
        matches: list[Match] = []
        taken_until = -1
        for start, negative_length, terms in candidates:
            if start < taken_until:
                continue
            end = start - negative_length
            if shifted:  # as normalized.original(), inline
                original_start = start + bisect_right(shifted, start)
                original_end = end + bisect_right(shifted, end - 1)
            else:
                original_start, original_end = start, end
            if (
                original_start > 1
                and text[original_start - 1] == "-"
                and text[original_start - 2].isalnum()
            ):
                continue  # inside a hyphenated word: "large-scale AI" is not "Scale AI"
            matches.append(
                Match(original_start, original_end, text[original_start:original_end], terms)
            )
            taken_until = end
        return matches


# Candidates sort by start, then the longest first (no two share both).
_BY_START_LONGEST_FIRST = itemgetter(0, 1)

# Characters that do not continue a word (see :func:`mlkg.extract.text.is_word_char`): ``\w`` is
# a letter, a digit or ``_``, so "not a letter, digit, + or #" is ``[^\w+#]|_``. ASCII ones go
# through a translation table (fast), others through a regex.
_ASCII_NOT_WORD = str.maketrans(
    {chr(c): " " for c in range(128) if re.fullmatch(r"[^\w+#]|_", chr(c))}
)
_NON_ASCII_NOT_WORD = re.compile(r"[^\w\x00-\x7f]")


def _boundary_form(text: str) -> str:
    """Return ``text`` with every character that does not continue a word replaced by a space.

    Examples
    --------
    >>> _boundary_form("c++, r&d (ml)")
    'c++  r d  ml '
    """
    ascii_done = text.translate(_ASCII_NOT_WORD)
    if ascii_done.isascii():
        return ascii_done
    return _NON_ASCII_NOT_WORD.sub(" ", ascii_done)
