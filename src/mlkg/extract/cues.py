"""The extractor's lexical cues, read from ``ontology/cues.toml`` (data, not code).

Cue words are matched with case-insensitive regexes (:func:`words_pattern`). Python's regex
engine tries such an alternation of words at every position of a text, so the extractor asks
cheaper questions first: :class:`LiteralGate` (does any of these words occur at all?),
:class:`LiteralGates` (the same for several gates and every sentence of a document at once) and
:class:`CueWords` (the regex's answer, without the regex where a gate's answer is the same).
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mlkg.errors import VocabularyError
from mlkg.resources import ontology_dir

CUES_FILE = "cues.toml"


def words_pattern(words: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """Return a case-insensitive regex matching any of ``words`` on word boundaries.

    Examples
    --------
    >>> bool(words_pattern(["at least"]).search("At least a PhD"))
    True
    """
    return _words_pattern(tuple(words))


@lru_cache(maxsize=4096)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(w) for w in words), key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)


class LiteralGate:
    """A quick test that rules texts out before a slower regex: does any of ``literals`` occur?

    A regex that can only match where one of some literal words occurs ("engineer", "salary",
    "Labs") need not run on a text that contains none of them. :meth:`may_contain` answers with one
    Aho-Corasick pass: False means no literal occurs, so the regex cannot match; True means it
    may. With ``ignore_case`` the test ignores case as :data:`re.IGNORECASE` does, which also
    matches a few non-ASCII letters to ASCII ones ("ſ" to "s", "K" to "k"): texts that are not
    ASCII (and literals that are not) are never ruled out.

    With ``whole_words`` a literal only counts where it is not part of a longer word ("earn" in
    "learning" does not count): where the literal begins (ends) with a letter, digit or ``_``, the
    character before (after) it must not be one. That is what both ``\\b`` and the lookarounds of
    :func:`words_pattern` demand, so the gate still never rules out a text the regex would match.

    Examples
    --------
    >>> gate = LiteralGate(["engineer", "analyst"], ignore_case=True)
    >>> gate.may_contain("Senior ENGINEERS"), gate.may_contain("a data scientist")
    (True, False)
    >>> pay = LiteralGate(["earn"], ignore_case=True, whole_words=True)
    >>> pay.may_contain("machine learning"), pay.may_contain("they earn more")
    (False, True)
    """

    def __init__(
        self,
        literals: list[str] | tuple[str, ...],
        *,
        ignore_case: bool,
        whole_words: bool = False,
    ) -> None:
        import ahocorasick

        self._ignore_case = ignore_case
        self._whole_words = whole_words
        self._always = not literals or "" in literals
        if ignore_case and not all(literal.isascii() for literal in literals):
            self._always = True
        self._keys = [literal.lower() if ignore_case else literal for literal in literals]
        self._automaton = ahocorasick.Automaton()
        if not self._always:
            for key in self._keys:
                # the value: the length and whether each end must be a word boundary
                self._automaton.add_word(key, (len(key), _is_word(key[0]), _is_word(key[-1])))
            self._automaton.make_automaton()

    def may_contain(self, text: str) -> bool:
        """Return False when no literal occurs in ``text`` (a regex needing one cannot match)."""
        if self._always:
            return True
        if self._ignore_case:
            if not text.isascii():
                return True
            text = text.lower()
        if not self._whole_words:
            return next(self._automaton.iter(text), None) is not None
        last = len(text) - 1
        for end, (length, bounded_before, bounded_after) in self._automaton.iter(text):
            start = end - length + 1
            if bounded_before and start > 0 and _is_word(text[start - 1]):
                continue
            if bounded_after and end < last and _is_word(text[end + 1]):
                continue
            return True
        return False


class LiteralGates:
    """Several gates asked about the same spans of a text (the sentences of a document) at once.

    One Aho-Corasick pass over the lower-cased text answers every gate for every span, instead of
    one pass per gate and span. The gates must ignore case (a gate that ignores case may guard a
    case-sensitive regex too: it only rules out fewer texts).

    Examples
    --------
    >>> earn = LiteralGate(["earn"], ignore_case=True, whole_words=True)
    >>> lead = LiteralGate(["lead"], ignore_case=True)
    >>> LiteralGates([earn, lead]).may_contain_spans("Learn. Earn more.", [(0, 6), (7, 17)])
    [[False, True], [False, False]]
    """

    def __init__(self, gates: list[LiteralGate]) -> None:
        import ahocorasick

        if not all(gate._ignore_case for gate in gates):
            raise ValueError("LiteralGates combines gates that ignore case")
        self._gates = gates
        # lower-cased literal -> (gate number, must the start / the end be a word boundary)
        owners: dict[str, list[tuple[int, bool, bool]]] = {}
        for number, gate in enumerate(gates):
            if gate._always:
                continue
            for key in gate._keys:
                whole = gate._whole_words
                owners.setdefault(key, []).append(
                    (number, whole and _is_word(key[0]), whole and _is_word(key[-1]))
                )
        self._automaton = ahocorasick.Automaton()
        for key, entries in owners.items():
            self._automaton.add_word(key, (len(key), tuple(entries)))
        self._empty = not owners
        if owners:
            self._automaton.make_automaton()

    def may_contain(self, text: str) -> list[bool]:
        """Return ``gate.may_contain(text)`` for each gate."""
        found = [gate._always for gate in self._gates]
        if self._empty:
            return found
        if not text.isascii():  # as LiteralGate.may_contain, for gates that ignore case
            return [True] * len(found)
        lowered = text.lower()
        last = len(lowered) - 1
        for end, (length, entries) in self._automaton.iter(lowered):
            start = end - length + 1
            for number, bounded_before, bounded_after in entries:
                if found[number]:
                    continue
                if bounded_before and start > 0 and _is_word(lowered[start - 1]):
                    continue
                if bounded_after and end < last and _is_word(lowered[end + 1]):
                    continue
                found[number] = True
        return found

    def may_contain_spans(self, text: str, spans: list[tuple[int, int]]) -> list[list[bool]]:
        """Return, for each gate, ``gate.may_contain(text[start:end])`` for each span.

        ``spans`` must be in order and must not overlap.
        """
        found = [[gate._always] * len(spans) for gate in self._gates]
        if self._empty:
            return found
        lowered = text.lower()
        if len(lowered) != len(text):  # a letter whose lower case is longer: offsets would move
            return [[gate.may_contain(text[a:b]) for a, b in spans] for gate in self._gates]
        starts = [start for start, _ in spans]
        for end, (length, entries) in self._automaton.iter(lowered):
            start = end - length + 1
            index = bisect_right(starts, start) - 1
            if index < 0:
                continue
            span_start, span_end = spans[index]
            if end >= span_end:
                continue  # not inside the span
            for number, bounded_before, bounded_after in entries:
                if found[number][index]:
                    continue
                if bounded_before and start > span_start and _is_word(lowered[start - 1]):
                    continue
                if bounded_after and end + 1 < span_end and _is_word(lowered[end + 1]):
                    continue
                found[number][index] = True
        if not text.isascii():  # a gate that ignores case lets every text that is not ASCII pass
            for match in _NON_ASCII.finditer(text):
                index = bisect_right(starts, match.start()) - 1
                if index >= 0 and match.start() < spans[index][1]:
                    for flags in found:
                        flags[index] = True
        return found


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _is_word(char: str) -> bool:
    """True for the characters regexes count as word characters (``\\w``)."""
    return char.isalnum() or char == "_"


class CueWords:
    """Whether any of some words occurs in a text: ``words_pattern(words).search``, as a bool.

    A whole-word :class:`LiteralGate` rules texts out first. For ASCII text, when every word
    begins and ends with a letter, a digit or ``_``, the gate's answer is the regex's (the same
    words, ignoring case, with no letter, digit or ``_`` on either side), so the regex is not run,
    nor even compiled; otherwise the regex decides.

    Examples
    --------
    >>> words = cue_words(("at least", "minimum"))
    >>> words.occurs_in("At least a PhD"), words.occurs_in("at leastwise")
    (True, False)
    """

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words
        self._gate = LiteralGate(words, ignore_case=True, whole_words=True)
        self._gate_decides = (
            bool(words)
            and "" not in words
            and all(word.isascii() and _is_word(word[0]) and _is_word(word[-1]) for word in words)
        )

    def occurs_in(self, text: str) -> bool:
        """Return True when one of the words occurs in ``text`` (on word boundaries, any case)."""
        if not self._gate.may_contain(text):
            return False
        if self._gate_decides and text.isascii():
            return True
        return words_pattern(self.words).search(text) is not None


@lru_cache(maxsize=4096)
def cue_words(words: tuple[str, ...]) -> CueWords:
    """Return the :class:`CueWords` of ``words`` (made once per tuple of words)."""
    return CueWords(words)


@dataclass(frozen=True, eq=False)
class Cues:
    """Compiled cues; ``raw`` is the parsed TOML."""

    raw: dict[str, Any]
    digest: str

    def words(self, section: str, key: str) -> list[str]:
        """Return the word list ``[section] key`` of the cue file."""
        value = self.raw.get(section, {}).get(key, [])
        return [str(v) for v in value]

    def pattern(self, section: str, key: str) -> re.Pattern[str]:
        """Return the compiled word pattern for ``[section] key``."""
        return _pattern(self, section, key)

    def cue_words(self, section: str, key: str) -> CueWords:
        """Return the :class:`CueWords` of ``[section] key`` (``pattern(...).search`` as a bool)."""
        return cue_words(tuple(self.pattern_words(section, key)))

    def pattern_words(self, section: str, key: str) -> list[str]:
        """Return the words :meth:`pattern` matches (for an empty list, a word no text has)."""
        return self.words(section, key) or ["\x00never\x00"]


@lru_cache(maxsize=256)
def _pattern(cues: Cues, section: str, key: str) -> re.Pattern[str]:
    return words_pattern(cues.pattern_words(section, key))


def load_cues(path: Path | None = None) -> Cues:
    """Return the cues read from ``path`` (default: the bundled ``cues.toml``)."""
    return _load(str(path or ontology_dir() / CUES_FILE))


@lru_cache(maxsize=4)
def _load(path_text: str) -> Cues:
    import hashlib

    try:
        data = Path(path_text).read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VocabularyError(f"cannot read the extraction cues {path_text}: {exc}") from exc
    return Cues(raw=raw, digest=hashlib.sha256(data).hexdigest())
