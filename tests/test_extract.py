"""Extraction: ambiguous names, discovery, ladders, degrees, salaries, evidence, golden files."""

from __future__ import annotations

import functools
import json
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlkg.documents import Document, read_document
from mlkg.extract import Extractor
from mlkg.records import Extraction
from mlkg.resources import corpus_dir

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
OTHER_DOCUMENTS = Path(__file__).parent / "documents"


@functools.cache
def extractor() -> Extractor:
    """The extractor over the bundled vocabulary and cues (built once)."""
    return Extractor()


def extract(text: str) -> tuple[Extraction, dict[str, str], dict[str, str]]:
    """Extract ``text``; return the extraction, the label and the class of each entity IRI."""
    document = Document("doc", Path("doc.md"), text, "0" * 64)
    extraction = extractor().extract(document)
    label = {iri: e.label for iri, e in extraction.entities.items()}
    cls = {iri: e.cls for iri, e in extraction.entities.items()}
    return extraction, label, cls


def facts(text: str) -> set[tuple[str, ...]]:
    """Return the (subject, predicate, object[, qualifier]) facts of ``text``, by label."""
    extraction, label, _ = extract(text)
    return {
        (label[f.subject], f.predicate, label[f.object]) + ((f.qualifier,) if f.qualifier else ())
        for f in extraction.facts
    }


def objects(text: str, predicate: str) -> set[str]:
    """Return the labels of the objects of ``predicate`` in ``text``."""
    return {f[2] for f in facts(text) if f[1] == predicate}


def entities(text: str) -> set[tuple[str, str]]:
    """Return the (class, label) entities of ``text``."""
    extraction, _, _ = extract(text)
    return {(e.cls, e.label) for e in extraction.entities.values()}


HEAD = "Data Scientist\n\nData Scientists analyse data.\n\n"


# --- spelling variants and ambiguous names -----------------------------------------------------


def test_spelling_variants_give_one_entity() -> None:
    text = HEAD + "They use PyTorch, Pytorch, Scikit-learn, scikit-learn and sklearn.\n"
    text += "A Ph.D. or PhD.\n"
    found = entities(text)
    assert {("Tool", "PyTorch"), ("Tool", "scikit-learn"), ("Degree", "PhD")} <= found
    assert len([e for e in found if e[1].lower().startswith("pytorch")]) == 1


@pytest.mark.parametrize(
    "sentence",
    [
        "We Go home.",
        "R is a letter of the alphabet.",
        "Julia said hello to the team.",
        "Rust never sleeps, they say.",
        "Spark joy in your team.",
    ],
)
def test_ambiguous_short_names_need_context(sentence: str) -> None:
    assert objects(HEAD + sentence + "\n", "usesTool") == set()


@pytest.mark.parametrize(
    "text",
    [
        "We like Python. Julia said hello to the team.\n",
        "We go to conferences and R is a letter. Julia said hello.\n",
    ],
)
def test_ambiguous_name_near_a_language_still_needs_its_own_context(text: str) -> None:
    assert "Julia" not in objects(HEAD + text, "usesTool")


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("Programming languages: Python, R and Go.", "R"),
        ("Programming languages: Python, R and Go.", "Go"),
        ("Experience with languages such as Julia or C++.", "Julia"),
        ("Write services in Go and Rust.", "Rust"),
        ("Big data tools like Apache Spark and Hadoop.", "Apache Spark"),
    ],
)
def test_ambiguous_short_names_with_context(sentence: str, name: str) -> None:
    assert name in objects(HEAD + sentence + "\n", "usesTool")


def test_large_scale_ai_is_not_scale_ai() -> None:
    found = entities(HEAD + "They build large-scale AI systems.\n")
    assert ("Organization", "Scale AI") not in found


def test_scale_ai_the_company_is_found() -> None:
    assert ("Organization", "Scale AI") in entities(HEAD + "Employers include Scale AI and Meta.\n")


# --- discovery of unknown terms ----------------------------------------------------------------


def test_programming_languages_list_discovers_a_language() -> None:
    found = entities(HEAD + "Programming languages: Python, Zig.\n")
    assert ("ProgrammingLanguage", "Zig") in found


def test_frameworks_eg_list_discovers_a_tool() -> None:
    found = entities(HEAD + "Deep learning frameworks (e.g., PyTorch, Flumox).\n")
    assert ("Tool", "Flumox") in found


def test_proficiency_list_discovers_by_known_siblings() -> None:
    text = HEAD + "Proficiency in Python, SQL, and Zig.\n"
    assert ("ProgrammingLanguage", "Zig") in entities(text)


def test_generic_words_are_not_discovered() -> None:
    found = entities(HEAD + "Programming languages: Python, and other languages.\n")
    assert not any("other" in label.lower() for _, label in found)


# --- ladders -----------------------------------------------------------------------------------


def test_bullet_ladder_with_role_colon() -> None:
    text = HEAD + (
        "## Career Progression\n"
        "- Junior Data Scientist: cleans data.\n"
        "- Senior Data Scientist: leads projects.\n"
        "- Principal Data Scientist: sets direction.\n"
    )
    found = facts(text)
    assert ("Junior Data Scientist", "progressesTo", "Senior Data Scientist") in found
    assert ("Senior Data Scientist", "progressesTo", "Principal Data Scientist") in found
    assert ("Junior Data Scientist", "progressesTo", "Principal Data Scientist") not in found


def test_numbered_ladder() -> None:
    text = HEAD + "## Career Ladder\n1. Data Analyst\n2. Data Scientist\n3. Staff Data Scientist\n"
    found = {f for f in facts(text) if f[1] == "progressesTo"}
    assert found == {
        ("Data Analyst", "progressesTo", "Data Scientist"),
        ("Data Scientist", "progressesTo", "Staff Data Scientist"),
    }


def test_arrow_ladder_anywhere() -> None:
    found = facts(HEAD + "A common path: Data Analyst → Data Scientist → Analytics Manager\n")
    assert ("Data Analyst", "progressesTo", "Data Scientist") in found
    assert ("Data Scientist", "progressesTo", "Analytics Manager") in found


def test_ascii_arrow_ladder() -> None:
    found = facts(HEAD + "Path: Data Analyst -> Data Scientist -> Analytics Manager\n")
    assert ("Data Analyst", "progressesTo", "Data Scientist") in found


def test_stage_labels_with_alternatives() -> None:
    extraction, label, _ = extract((FIXTURES / "stage-labels.txt").read_text())
    found = {(label[f.subject], f.predicate, label[f.object]) for f in extraction.facts}
    assert {
        ("Research Assistant", "progressesTo", "Research Scientist"),
        ("Research Engineer", "progressesTo", "Research Scientist"),
        ("Research Scientist", "progressesTo", "Principal Scientist"),
        ("Research Assistant", "atStage", "Entry-Level"),
        ("Research Scientist", "atStage", "Mid-Level"),
    } <= found


def test_stage_only_ladder_with_years() -> None:
    extraction, label, _ = extract((FIXTURES / "stage-labels.txt").read_text())
    steps = {
        (label[f.subject], label[f.object], f.min_years, f.max_years)
        for f in extraction.facts
        if f.predicate == "progressesTo" and "Level" in label[f.subject]
    }
    assert steps == {("Entry-Level", "Mid-Level", 2, 5), ("Mid-Level", "Senior-Level", 5, None)}


def test_stage_and_years_on_role_steps() -> None:
    text = HEAD + (
        "## Career Progression\n"
        "- Entry-Level (0-3 years): Junior Data Scientist\n"
        "- Mid-Level (3-6 years): Data Scientist\n"
        "- Senior-Level (6+ years): Lead Data Scientist\n"
    )
    extraction, label, _ = extract(text)
    stage_years = {
        (label[f.subject], label[f.object], f.min_years, f.max_years)
        for f in extraction.facts
        if f.predicate == "atStage" and f.min_years is not None
    }
    assert ("Junior Data Scientist", "Entry-Level", 0, 3) in stage_years
    assert ("Lead Data Scientist", "Senior-Level", 6, None) in stage_years
    found = facts(text)
    assert ("Junior Data Scientist", "progressesTo", "Data Scientist") in found
    assert ("Data Scientist", "progressesTo", "Lead Data Scientist") in found


def test_stage_labels_as_plain_lines() -> None:
    text = HEAD.replace("Data Scientists analyse", "Research Scientists analyse") + (
        "## Career Progression\n\n"
        "Entry-Level Roles:\n- Research Assistant\n\n"
        "Mid-Level Roles:\n- Research Scientist\n\n"
        "Senior Roles:\n- Principal Scientist\n"
    )
    found = facts(text)
    assert ("Research Assistant", "progressesTo", "Research Scientist") in found
    assert ("Research Scientist", "progressesTo", "Principal Scientist") in found


# --- degrees -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "degree", "qualifier"),
    [
        ("Minimum: Bachelor's degree in Statistics.", "Bachelor's degree", "minimum"),
        ("At least a Master's degree is required.", "Master's degree", "minimum"),
        ("A PhD is preferred.", "PhD", "preferred"),
        ("Most hires typically hold a PhD.", "PhD", "typical"),
    ],
)
def test_degree_qualifiers(sentence: str, degree: str, qualifier: str) -> None:
    assert ("Data Scientist", "requiresDegree", degree, qualifier) in facts(HEAD + sentence + "\n")


def test_degree_qualifier_from_the_section_heading() -> None:
    text = HEAD + "Preferred qualifications\n- PhD in Statistics.\n"
    assert ("Data Scientist", "requiresDegree", "PhD", "preferred") in facts(text)


def test_field_of_study_next_to_a_degree() -> None:
    assert ("Data Scientist", "inField", "Statistics") in facts(
        HEAD + "A Master's degree in Statistics.\n"
    )


# --- salaries ----------------------------------------------------------------------------------


def test_salaries_attach_to_the_role_of_their_line_or_heading() -> None:
    text = HEAD + (
        "## Salary Ranges (US Market, 2024)\n"
        "- Senior Data Scientist: $150,000 - $190,000\n"
        "- Meta: Average $177,730 (Range: $72,000 - $328,000)\n"
        "\n## Machine Learning Engineer\n"
        "Machine Learning Engineers earn around 90,000 euros.\n"
    )
    extraction, label, _ = extract(text)
    salaries = {
        (label[s.role], s.currency, tuple(sorted(s.figures().items())), s.year)
        for s in extraction.salaries
    }
    assert (
        "Senior Data Scientist",
        "USD",
        (("max_value", 190000), ("min_value", 150000)),
        2024,
    ) in salaries
    assert (
        "Data Scientist",
        "USD",
        (("average", 177730), ("max_value", 328000), ("min_value", 72000)),
        2024,
    ) in salaries
    assert any(
        role == "Machine Learning Engineer" and currency == "EUR"
        for role, currency, _, _ in salaries
    )
    meta = [s for s in extraction.salaries if s.figures().get("average") == 177730]
    assert meta and meta[0].organization and label[meta[0].organization] == "Meta"


def test_revenue_is_not_a_salary() -> None:
    extraction, _, _ = extract(HEAD + "## Salary\nNVIDIA reported revenue of $19.20 billion.\n")
    assert extraction.salaries == []


# --- evidence ----------------------------------------------------------------------------------


def _documents() -> list[Path]:
    paths = sorted(corpus_dir().glob("*.txt")) + sorted(FIXTURES.glob("*.md"))
    paths += sorted(FIXTURES.glob("*.txt"))
    if OTHER_DOCUMENTS.is_dir():
        paths += sorted(p for p in OTHER_DOCUMENTS.iterdir() if p.suffix in (".md", ".txt"))
    return paths


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_every_fact_has_evidence_that_slices_the_document(path: Path) -> None:
    document, _ = read_document(path)
    extraction = extractor().extract(document)
    assert extraction.primary_role is not None
    assert extraction.facts
    records = [f.evidence for f in extraction.facts] + [s.evidence for s in extraction.salaries]
    for evidence in records:
        assert evidence.document_id == document.id
        assert document.text[evidence.start : evidence.end] == evidence.text
        assert evidence.text.strip()
    for mention in extraction.mentions:
        assert document.text[mention.start : mention.end] == mention.surface
    for fact in extraction.facts:
        assert fact.subject in extraction.entities and fact.object in extraction.entities
        assert extraction.entities[fact.subject].cls in ("Role", "CareerStage")
    for salary in extraction.salaries:
        figures = salary.figures()
        assert figures and all(v >= 0 for v in figures.values())
        if "min_value" in figures and "max_value" in figures:
            assert figures["min_value"] <= figures["max_value"]


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_one_pass_gates_agree_with_per_sentence_gates(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The word gates answered for all sentences at once give the same extraction."""
    from mlkg.extract import _Run

    document, _ = read_document(path)
    one_pass = extractor().extract(document)
    monkeypatch.setattr(_Run, "_gate_flags", lambda self: None)
    assert extractor().extract(document) == one_pass


def test_a_heading_that_is_not_a_slice_of_the_text_still_extracts() -> None:
    """An odd space after '#' makes a heading's text differ from the document at its offsets."""
    text = "# \u00a0Data Scientist\n\nRequired Skills\n- Python and SQL\n- Works at Acme Labs\n"
    extraction, label, _ = extract(text)
    assert label[extraction.primary_role or ""] == "Data Scientist"
    assert {"Python", "SQL"} <= objects(text, "usesTool")


def test_extraction_is_deterministic() -> None:
    document, _ = read_document(FIXTURES / "posting.md")
    first = extractor().extract(document)
    second = Extractor().extract(document)
    assert first == second


def test_extraction_does_not_import_rdflib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, mlkg.extract, mlkg.documents, mlkg.records;"
        "assert 'rdflib' not in sys.modules, 'rdflib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- golden files ------------------------------------------------------------------------------


def _golden(path: Path) -> dict[str, object]:
    document, _ = read_document(path)
    extraction = extractor().extract(document)
    label = {iri: e.label for iri, e in extraction.entities.items()}
    return {
        "primary_role": label[extraction.primary_role] if extraction.primary_role else None,
        "facts": sorted(
            {
                (label[f.subject], f.predicate, label[f.object])
                + ((f.qualifier,) if f.qualifier else ())
                for f in extraction.facts
            }
        ),
        "entities": sorted({(e.cls, e.label) for e in extraction.entities.values()}),
        "salaries": sorted(
            (
                [label[s.role], s.currency, s.figures(), label.get(s.organization or ""), s.year]
                for s in extraction.salaries
            ),
            key=json.dumps,
        ),
    }


@pytest.mark.parametrize(
    "expected_file", sorted(FIXTURES.glob("*.expected.json")), ids=lambda p: p.name
)
def test_golden_documents(expected_file: Path) -> None:
    source = expected_file.with_name(expected_file.name.replace(".expected.json", ".md"))
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(_golden(source)))
    assert got["primary_role"] == expected["primary_role"]
    for key in ("facts", "entities", "salaries"):
        missing = [item for item in expected[key] if item not in got[key]]
        extra = [item for item in got[key] if item not in expected[key]]
        assert not missing and not extra, f"{key}: missing {missing}, unexpected {extra}"


# --- fast paths agree with the regexes they stand in for ----------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *("in", "In", "with", "WITH", "e.g.", "E.g.,", "(e.g.,", "(i.e.", "(", ":"),
                *("such as", "Like", "including", "include", "includes", " ", "\t", "x", "s"),
                *("_", "1", "é", "\n", "-", ".", "w", "i"),
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_list_starts_agree_with_the_regex(text: str) -> None:
    from mlkg.extract import _LIST_START, _list_starts

    assert [m.span() for m in _list_starts(text)] == [m.span() for m in _LIST_START.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["lead", "Lead", "s", "es", " ", "-", ".", "x", "Labs", "é", "İ", "_", "1"]
        ),
        max_size=15,
    ).map("".join),
    st.booleans(),
    st.booleans(),
)
def test_literal_gates_never_rule_out_a_match(text: str, ignore_case: bool, whole: bool) -> None:
    """A gate says False only where the regex it guards cannot match."""
    import re

    from mlkg.extract.cues import LiteralGate, LiteralGates, words_pattern

    words = ["lead", "leads", "Labs"]
    gate = LiteralGate(words, ignore_case=ignore_case, whole_words=whole)
    if ignore_case:
        regex = words_pattern(words)
    else:
        regex = re.compile(r"(?<![\w])(?:lead|leads|Labs)(?![\w])")
    if regex.search(text):
        assert gate.may_contain(text)
    if ignore_case:  # asked about several spans at once, with another gate
        other = LiteralGate(["Labs", "x"], ignore_case=True)
        cuts = sorted({0, len(text) // 3, len(text) // 2, len(text)})
        spans = list(pairwise(cuts))
        both = LiteralGates([gate, other])
        assert both.may_contain_spans(text, spans) == [
            [g.may_contain(text[a:b]) for a, b in spans] for g in (gate, other)
        ]
        assert both.may_contain(text) == [gate.may_contain(text), other.may_contain(text)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["at", "least", "At", "a.k.a.", "x", " ", "-", ".", "_", "1", "é", "K", "ſ"]
        ),
        max_size=12,
    ).map("".join),
    st.sampled_from(
        [(), ("at least",), ("at least", "x"), ("a.k.a.", "at"), ("ſ",), ("",), ("least", "at")]
    ),
)
def test_cue_words_answer_as_the_regex(text: str, words: tuple[str, ...]) -> None:
    from mlkg.extract.cues import cue_words, words_pattern

    assert cue_words(words).occurs_in(text) == bool(words_pattern(words).search(text))
