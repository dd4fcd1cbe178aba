"""Find vocabulary terms in text with one Aho-Corasick pass.

All labels and alternative labels of the vocabulary (normalised by
:func:`mlkg.extract.text.normalize_key`, plus simple plurals) go into one automaton; a document is
scanned once, matches are kept on word boundaries, and overlapping matches resolve to the longest.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlkg.extract.text import is_word_char, normalize, normalize_key
from mlkg.vocabulary import Term, Vocabulary


@dataclass(frozen=True)
class Match:
    """A span of the original text naming one or more vocabulary terms (same label)."""

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
        self._automaton = ahocorasick.Automaton()
        for key, terms in table.items():
            ordered = tuple(sorted(terms.values(), key=lambda t: t.iri))
            self._automaton.add_word(key, (len(key), ordered))
        if table:
            self._automaton.make_automaton()
        self._empty = not table

    def find(self, text: str) -> list[Match]:
        """Return the non-overlapping vocabulary matches in ``text``, in order of position."""
        if self._empty:
            return []
        normalized = normalize(text)
        norm = normalized.text
        candidates: list[tuple[int, int, tuple[Term, ...]]] = []
        for end_index, (length, terms) in self._automaton.iter(norm):
            start = end_index - length + 1
            if start > 0 and is_word_char(norm[start - 1]):
                continue
            after = end_index + 1
            if after < len(norm) and is_word_char(norm[after]):
                continue
            candidates.append((start, after, terms))
        candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
        matches: list[Match] = []
        taken_until = -1
        for start, end, terms in candidates:
            if start < taken_until:
                continue
            original_start = normalized.original(start)
            original_end = normalized.original(end - 1) + 1
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
