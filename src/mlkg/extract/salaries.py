"""Read salary figures from a sentence: amounts, currencies and what each amount is.

Handles "$127,750", "$116,883 - $139,665", "$147K to $246K", "Over $320,000", "Top 10%: Up to
$160,000", "$150,000+", "around 90,000 euros", "Average $177,730 (Range: $72,000 - $328,000)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from mlkg.extract.cues import Cues, LiteralGate

_AMOUNT = re.compile(
    r"(?P<pre>US\$|CA\$|C\$|A\$|\$|€|£|¥|₹|USD|EUR|GBP|CHF)?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?!\d)|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<mult>[kK]|[mM]{1,2}|thousand|million)(?![A-Za-z]))?"
    r"(?P<plus>\+)?"
    r"(?:\s?(?P<post>USD|EUR|GBP|CHF|euros?|dollars|pounds|€|£))?"
)
_SCALE_WORDS = re.compile(r"^\s*(billion|bn|trillion|%|percent|per cent|years?)\b", re.IGNORECASE)
_HOURLY = re.compile(r"^\s*(/\s?(hour|hr|h)\b|per hour|an hour|hourly)", re.IGNORECASE)
_RANGE_JOIN = re.compile(
    r"^\s*(-|–|—|to|and|through)(\s+(over|about|around|approximately|roughly|nearly))?\s*$",
    re.IGNORECASE,
)
_OTHER_PERCENTILE = re.compile(r"\b(top|bottom)\s+(?!10\s*%)\d{1,2}\s*%", re.I)
_OR_MORE = re.compile(r"\s*(or more|or above|or higher|and above|and up|and higher)\b", re.I)
_DOTTED_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_YEAR = re.compile(r"(?<![\d$€£,.])(19[5-9]\d|20\d\d)(?![\d,])")


@dataclass(frozen=True)
class Amount:
    """A money amount in a sentence: value in whole units, currency, and its span."""

    value: int
    currency: str | None
    start: int
    end: int
    plus: bool


@dataclass
class Figures:
    """The figures of one salary statement."""

    currency: str
    values: dict[str, int] = field(default_factory=dict)


def find_amounts(text: str, cues: Cues) -> list[Amount]:
    """Return the money amounts in ``text`` (numbers with a currency, or next to one).

    Examples
    --------
    >>> from mlkg.extract.cues import load_cues
    >>> [a.value for a in find_amounts("$147K to $246K", load_cues())]
    [147000, 246000]
    """
    currencies = _salary_cues(cues).currencies
    found: list[Amount] = []
    for match in _AMOUNT.finditer(text):
        after = text[match.end() :]
        if _SCALE_WORDS.match(after) or _HOURLY.match(after):
            continue
        number = match.group("num")
        if _DOTTED_THOUSANDS.fullmatch(number):
            value = float(number.replace(".", ""))
        else:
            value = float(number.replace(",", ""))
        mult = (match.group("mult") or "").lower()
        if mult in ("k", "thousand"):
            value *= 1_000
        elif mult in ("m", "mm", "million"):
            value *= 1_000_000
        symbol = match.group("pre") or match.group("post")
        currency = currencies.get(symbol.lower()) if symbol else None
        if currency is None and symbol and symbol.lower().startswith("euro"):
            currency = "EUR"
        start = match.start("pre") if match.group("pre") else match.start("num")
        found.append(Amount(round(value), currency, start, match.end(), bool(match.group("plus"))))
    # An amount with no currency takes it from a range partner ("90,000 to 110,000 euros").
    resolved: list[Amount] = []
    for i, amount in enumerate(found):
        if amount.currency is None:
            partner = None
            if i + 1 < len(found) and _RANGE_JOIN.match(text[amount.end : found[i + 1].start]):
                partner = found[i + 1]
            elif i > 0 and _RANGE_JOIN.match(text[found[i - 1].end : amount.start]):
                partner = found[i - 1]
            if partner is None or partner.currency is None:
                continue
            amount = Amount(amount.value, partner.currency, amount.start, amount.end, amount.plus)
        if amount.value < 1000:
            continue
        resolved.append(amount)
    return resolved


@dataclass(frozen=True)
class _SalaryCues:
    """The salary cues of one cue file, compiled once."""

    currencies: dict[str, str]  # lower-case symbol or word -> ISO code
    percentiles: list[tuple[str, re.Pattern[str]]]  # (figure kind, its cue), in order of priority
    bounds: list[tuple[str, re.Pattern[str]]]  # (figure kind, its cue)
    gate: LiteralGate  # rules out windows with no cue at all


_CUE_KINDS = (
    ("percentile90", "percentile90"),
    ("percentile10", "percentile10"),
    ("average", "average"),
    ("median", "median"),
    ("upper_bound", "max_value"),
    ("lower_bound", "min_value"),
)


@lru_cache(maxsize=8)
def _salary_cues(cues: Cues) -> _SalaryCues:
    patterns = [(kind, cues.pattern("salaries", key)) for key, kind in _CUE_KINDS]
    words = [w for key, _ in _CUE_KINDS for w in cues.pattern_words("salaries", key)]
    return _SalaryCues(
        currencies={k.lower(): v for k, v in cues.raw["salaries"]["currencies"].items()},
        percentiles=patterns[:2],
        bounds=patterns[2:],
        gate=LiteralGate(words, ignore_case=True, whole_words=True),
    )


def _cue_before(window: str, cues: Cues) -> str | None:
    """Return the figure kind a cue in ``window`` (the text before an amount) names."""
    compiled = _salary_cues(cues)
    lowered = window.lower()
    if not compiled.gate.may_contain(lowered):
        return None  # no cue word at all
    for kind, pattern in compiled.percentiles:  # "Top 10%: Up to $X" is a percentile
        if pattern.search(lowered):
            return kind
    best: tuple[int, str] | None = None
    for kind, pattern in compiled.bounds:
        for match in pattern.finditer(lowered):
            # the nearest cue wins
            if best is None or match.end() > best[0]:
                best = (match.end(), kind)
    return best[1] if best else None


def parse_figures(text: str, cues: Cues) -> list[Figures]:
    """Return the salary statements in one sentence (usually one; a conflict starts another).

    Examples
    --------
    >>> from mlkg.extract.cues import load_cues
    >>> line = "Meta: Average $177,730 (Range: $72,000 - $328,000)"
    >>> [f.values for f in parse_figures(line, load_cues())]
    [{'average': 177730, 'min_value': 72000, 'max_value': 328000}]
    >>> [f.values for f in parse_figures("Top 10%: Up to $160,000", load_cues())]
    [{'percentile90': 160000}]
    """
    if ";" in text:  # clauses state separate figures: "a median of $X; entry-level from $Y"
        return [f for clause in text.split(";") for f in parse_figures(clause, cues)]
    amounts = find_amounts(text, cues)
    if not amounts:
        return []
    statements: list[Figures] = [Figures(amounts[0].currency or "USD")]

    def put(kind: str, value: int) -> None:
        current = statements[-1]
        if kind in current.values and current.values[kind] != value:
            statements.append(Figures(current.currency))
            current = statements[-1]
        current.values[kind] = value

    index = 0
    previous_end = 0
    while index < len(amounts):
        amount = amounts[index]
        window = text[previous_end : amount.start]
        following = amounts[index + 1] if index + 1 < len(amounts) else None
        if following and _RANGE_JOIN.match(text[amount.end : following.start]):
            low, high = sorted((amount.value, following.value))
            kind = _cue_before(window, cues)
            if kind == "percentile90" or kind == "percentile10":
                put(kind, high if kind == "percentile90" else low)
            else:
                put("min_value", low)
                put("max_value", high)
            previous_end = following.end
            index += 2
            continue
        if "%" in window and _OTHER_PERCENTILE.search(window):
            previous_end = amount.end  # "Top 1%: over $624,000" says nothing of the role's range
            index += 1
            continue
        kind = _cue_before(window, cues)
        if kind is None and (amount.plus or _OR_MORE.match(text[amount.end :])):
            kind = "min_value"
        if kind is None and following is not None and index == 0:
            kind = "average"  # "Google: $204,655 (range: $56,000 - $446,000)": a headline figure
        if kind is None:
            put("min_value", amount.value)
            put("max_value", amount.value)
        else:
            put(kind, amount.value)
        previous_end = amount.end
        index += 1
    return [s for s in statements if s.values]


def find_year(text: str) -> int | None:
    """Return a year (1950-2099) written in ``text``, if any.

    Examples
    --------
    >>> find_year("Salary Ranges (US Market, 2024)")
    2024
    >>> find_year("$2,024") is None
    True
    """
    if "19" not in text and "20" not in text:
        return None  # the usual case, answered without the regex
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None
