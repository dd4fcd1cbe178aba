"""Text normalisation for matching, with a map back to the original offsets.

Matching is done on a normalised copy of the text (lower case, hyphens and slashes as spaces,
no apostrophes, no dots inside abbreviations, single spaces) so that "Ph.D." meets "PhD",
"Scikit-learn" meets "scikit learn" and "Master’s" meets "masters". :class:`Normalized` maps
every offset of the copy back to the original text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

_TRANSLATE = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "`": "'",
        "-": " ",
        "‐": " ",
        "‑": " ",
        "–": " ",
        "—": " ",
        "_": " ",
        "/": " ",
        "\n": " ",
        "\t": " ",
        "\u00a0": " ",
    }
)
# Characters dropped from the copy: apostrophes, dots between letters ("ph.d", "node.js"), and all
# but the first of a run of spaces. Both regexes open with a literal character, so the regex
# engine skips ahead to the next ``'`` or ``.``, or to the next two spaces.
_DROP = re.compile(r"'|\.(?<=[^\W_]\.)(?=[^\W_])")
_SPACE_RUN = re.compile(r"  +")


@dataclass(frozen=True)
class Normalized:
    """A normalised copy of a text and the map back to the original offsets."""

    text: str
    shifted: tuple[int, ...]  # deletion positions minus their rank, ascending

    def original(self, index: int) -> int:
        """Return the offset in the original text of offset ``index`` of the copy."""
        return index + bisect_right(self.shifted, index)


def _lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def normalize(text: str) -> Normalized:
    """Return the normalised copy of ``text`` used for matching.

    Examples
    --------
    >>> n = normalize("A Ph.D. in Scikit-learn")
    >>> n.text
    'a phd. in scikit learn'
    >>> n.original(n.text.index("scikit"))
    11
    """
    lowered = _lower(text.translate(_TRANSLATE))
    if "'" not in lowered and "." not in lowered and "  " not in lowered:
        return Normalized(lowered, ())  # nothing to drop (most short texts)
    dropped = [match.span() for match in _DROP.finditer(lowered)]
    if "  " in lowered:  # a run of spaces keeps its first
        dropped += [(match.start() + 1, match.end()) for match in _SPACE_RUN.finditer(lowered)]
        dropped.sort()
    pieces = []
    shifted: list[int] = []
    previous = 0
    for start, end in dropped:
        pieces.append(lowered[previous:start])
        # each dropped character shifts the rest of the copy left by one
        shifted.extend([start - len(shifted)] * (end - start))
        previous = end
    if not shifted:
        return Normalized(lowered, ())
    pieces.append(lowered[previous:])
    return Normalized("".join(pieces), tuple(shifted))


@lru_cache(maxsize=65536)
def normalize_key(label: str) -> str:
    """Return the matching key of a label: its normalised form, trimmed.

    Examples
    --------
    >>> normalize_key("Master's degree")
    'masters degree'
    >>> normalize_key("Ph.D.")
    'phd'
    """
    return normalize(label.strip()).text.strip().rstrip(".,;:!? ")


def is_word_char(char: str) -> bool:
    """Return True for characters that continue a word (letters, digits, ``+`` and ``#``)."""
    return char.isalnum() or char in "+#"
