"""Salary figures: every form of issue 2, years, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlkg.extract.cues import Cues, load_cues
from mlkg.extract.salaries import find_amounts, find_year, parse_figures


@pytest.fixture(scope="module")
def cues() -> Cues:
    """The bundled extraction cues."""
    return load_cues()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$127,750", [("USD", {"min_value": 127750, "max_value": 127750})]),
        ("$116,883 - $139,665", [("USD", {"min_value": 116883, "max_value": 139665})]),
        ("$116,883 – $139,665", [("USD", {"min_value": 116883, "max_value": 139665})]),
        ("$147K to $246K", [("USD", {"min_value": 147000, "max_value": 246000})]),
        ("$246K to $147K", [("USD", {"min_value": 147000, "max_value": 246000})]),
        ("Over $320,000", [("USD", {"min_value": 320000})]),
        ("Top 10%: Up to $160,000", [("USD", {"percentile90": 160000})]),
        ("around 90,000 euros", [("EUR", {"min_value": 90000, "max_value": 90000})]),
        ("90,000 to 110,000 euros", [("EUR", {"min_value": 90000, "max_value": 110000})]),
        (
            "Meta: Average $177,730 (Range: $72,000 - $328,000)",
            [("USD", {"average": 177730, "min_value": 72000, "max_value": 328000})],
        ),
        ("$150,000+", [("USD", {"min_value": 150000})]),
        ("€75.000 - 95.000 EUR", [("EUR", {"min_value": 75000, "max_value": 95000})]),
        ("£60,000", [("GBP", {"min_value": 60000, "max_value": 60000})]),
        ("Median: $150,000", [("USD", {"median": 150000})]),
        ("$1.5M", [("USD", {"min_value": 1500000, "max_value": 1500000})]),
    ],
)
def test_salary_forms(text: str, expected: list[tuple[str, dict[str, int]]], cues: Cues) -> None:
    assert [(f.currency, f.values) for f in parse_figures(text, cues)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "The company reported revenue of $19.20 billion.",
        "A market worth $4,500 billion by 2030.",
        "Contractors earn $2,000 per hour.",
        "Rates of $1,500/hour are common.",
        "Paid $1,200 an hour for consulting.",
        "Hourly: $45/hr",
        "10 - 12 years of experience",
        "Top 10% of candidates",
        "In 2024, 3,000 people applied.",
        "",
    ],
)
def test_not_salaries(text: str, cues: Cues) -> None:
    assert parse_figures(text, cues) == []


def test_a_salary_next_to_a_billion_is_still_read(cues: Cues) -> None:
    text = "A $19.20 billion company pays $150,000."
    assert [f.values for f in parse_figures(text, cues)] == [
        {"min_value": 150000, "max_value": 150000}
    ]


def test_amount_spans_point_at_the_text(cues: Cues) -> None:
    text = "Pay: $147K to $246K a year"
    amounts = find_amounts(text, cues)
    assert [text[a.start : a.end] for a in amounts] == ["$147K", "$246K"]


def test_conflicting_figures_start_a_second_statement(cues: Cues) -> None:
    text = "Google: $150,000 - $200,000; Meta: $160,000 - $210,000"
    figures = parse_figures(text, cues)
    assert [f.values for f in figures] == [
        {"min_value": 150000, "max_value": 200000},
        {"min_value": 160000, "max_value": 210000},
    ]


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("Salary Ranges (US Market, 2024)", 2024),
        ("2023 compensation", 2023),
        ("Compensation in 1999", 1999),
        ("$2,024", None),
        ("3000 engineers", None),
        ("Salaries", None),
        ("2,024,000", None),
        ("20245", None),
    ],
)
def test_find_year(text: str, year: int | None) -> None:
    assert find_year(text) == year


_SALARY_TEXT = st.lists(
    st.sampled_from(
        [
            "$",
            "€",
            "£",
            "USD",
            " euros",
            "1",
            "0",
            "5",
            ",",
            ".",
            "000",
            ",000",
            "K",
            "M",
            "+",
            " - ",
            " to ",
            " and ",
            "Up to ",
            "Over ",
            "Top 10%: ",
            "Average ",
            "Median ",
            "(Range: ",
            ")",
            " billion",
            "/hour",
            " ",
            "-",
            "Meta: ",
            "%",
        ]
    ),
    max_size=40,
).map("".join)


def _check(text: str, cues: Cues) -> None:
    for figures in parse_figures(text, cues):
        assert figures.currency
        assert figures.values
        assert all(isinstance(v, int) and v >= 0 for v in figures.values.values()), text
        low, high = figures.values.get("min_value"), figures.values.get("max_value")
        if low is not None and high is not None:
            assert low <= high, (text, figures.values)


@settings(max_examples=400, deadline=None)
@given(_SALARY_TEXT)
def test_parse_figures_never_crashes_nor_gives_negative_or_inverted_ranges(text: str) -> None:
    _check(text, load_cues())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_parse_figures_on_arbitrary_text(text: str) -> None:
    _check(text, load_cues())
    year = find_year(text)
    assert year is None or 1950 <= year <= 2099
