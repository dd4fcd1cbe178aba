"""Role titles: known and unknown titles, plurals, "in <Area>" folding, aliases, subjects."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from mlkg.documents import Document
from mlkg.extract import Extractor
from mlkg.extract.roles import RoleSpan
from mlkg.records import Extraction


@functools.cache
def extractor() -> Extractor:
    """The extractor over the bundled vocabulary and cues (built once)."""
    return Extractor()


def find_roles(text: str) -> list[RoleSpan]:
    """Return the role titles the role finder sees in one sentence."""
    x = extractor()
    matches = [m for m in x.matcher.find(text) if any(t.cls == "Role" for t in m.terms)]
    return x.roles.find(text, 0, matches)


def extract(text: str) -> tuple[Extraction, dict[str, str]]:
    """Extract ``text``; return the extraction and the label of each entity IRI."""
    document = Document("doc", Path("doc.md"), text, "0" * 64)
    extraction = extractor().extract(document)
    return extraction, {iri: e.label for iri, e in extraction.entities.items()}


def facts(text: str) -> set[tuple[str, str, str]]:
    """Return the (subject label, predicate, object label) facts of ``text``."""
    extraction, label = extract(text)
    return {(label[f.subject], f.predicate, label[f.object]) for f in extraction.facts}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Senior Research Scientist", "Senior Research Scientist"),
        ("She is a Senior Research Scientist.", "Senior Research Scientist"),
        ("Research Scientists in Machine Learning publish.", "Research Scientist"),
        ("Research Scientist in Machine Learning", "Research Scientist"),
        ("Research Fellows in Computational Biology", "Computational Biology Research Fellow"),
        ("We hire data scientists.", "Data Scientist"),
        ("ML Researchers write papers.", "Machine Learning Researcher"),
        ("Head of Research", "Head of Research"),
        ("AI/ML Research Specialist", "AI/ML Research Specialist"),
    ],
)
def test_role_titles(text: str, label: str) -> None:
    assert [r.label for r in find_roles(text)] == [label]


def test_unknown_title_with_area_is_folded_and_keeps_its_written_form() -> None:
    (span,) = find_roles("Research Fellow in Computational Biology")
    assert span.label == "Computational Biology Research Fellow"
    assert "Research Fellow in Computational Biology" in span.alt_labels
    assert span.term is None


def test_spans_point_at_the_text() -> None:
    text = "Unlike AI Engineers, Senior Research Scientists mentor data scientists."
    spans = find_roles(text)
    assert len(spans) == 3
    for span in spans:
        assert text[span.start : span.end] == span.surface


def test_a_title_inside_a_longer_name_is_not_a_role() -> None:
    assert find_roles("The TensorFlow Developer Professional Certificate helps.") == []


def test_a_lone_head_noun_is_not_a_role() -> None:
    assert find_roles("The Engineer said hello.") == [] or all(
        r.term is not None for r in find_roles("The Engineer said hello.")
    )


def test_primary_role_from_the_opening() -> None:
    extraction, label = extract("Machine Learning Engineer\n\nThey ship models with PyTorch.\n")
    assert label[extraction.primary_role] == "Machine Learning Engineer"


def test_no_role_gives_a_warning_and_no_facts() -> None:
    extraction, _ = extract("Groceries\n\nEggs, milk and bread. Also Python.\n")
    assert extraction.primary_role is None
    assert extraction.warnings
    assert extraction.facts == []


def test_also_known_as_makes_an_alt_label() -> None:
    text = "Prompt Engineer\n\nThe Prompt Engineer, also known as a Prompt Specialist, uses Go.\n"
    extraction, _ = extract(text)
    roles = [e for e in extraction.entities.values() if e.cls == "Role"]
    assert [r.label for r in roles] == ["Prompt Engineer"]
    assert "Prompt Specialist" in roles[0].alt_labels


def test_plural_and_generic_area_form_are_one_role() -> None:
    text = (
        "Research Scientist in Machine Learning\n\n"
        "Research Scientists in Machine Learning publish at NeurIPS.\n"
        "A Research Scientist uses PyTorch.\n"
    )
    extraction, label = extract(text)
    role = label[extraction.primary_role]
    assert role == "Research Scientist"
    assert "Research Scientist in Machine Learning" in (
        extraction.entities[extraction.primary_role].alt_labels
    )
    assert {(role, "publishesAt", "NeurIPS"), (role, "usesTool", "PyTorch")} <= facts(text)


def test_plural_and_specific_area_form_are_one_role() -> None:
    text = (
        "Research Fellow in Computational Biology\n\n"
        "Research Fellows in Computational Biology publish at NeurIPS.\n"
    )
    extraction, label = extract(text)
    role = label[extraction.primary_role]
    assert role == "Computational Biology Research Fellow"
    assert [e.label for e in extraction.entities.values() if e.cls == "Role"] == [role]
    assert (role, "publishesAt", "NeurIPS") in facts(text)


def test_unlike_x_does_not_make_x_the_subject() -> None:
    text = (
        "Research Scientist\n\n"
        "Research Scientists study new methods.\n\n"
        "Unlike AI Engineers, research scientists publish papers at ICLR.\n"
    )
    found = facts(text)
    assert ("Research Scientist", "publishesAt", "ICLR") in found
    assert not any(s == "AI Engineer" for s, _, _ in found)


def test_role_colon_bullet_attaches_facts_to_that_role() -> None:
    text = (
        "Research Scientist\n\n"
        "Research Scientists publish at NeurIPS.\n\n"
        "Related roles\n"
        "- Machine Learning Engineers: implement models in TensorFlow and deploy with Kubernetes.\n"
    )
    found = facts(text)
    assert ("Machine Learning Engineer", "usesTool", "TensorFlow") in found
    assert ("Machine Learning Engineer", "usesTool", "Kubernetes") in found
    assert ("Research Scientist", "usesTool", "TensorFlow") not in found
    assert ("Research Scientist", "publishesAt", "NeurIPS") in found


def test_facts_attach_to_the_role_of_their_heading() -> None:
    text = (
        "Data Scientist\n\n"
        "Data Scientists use SQL.\n\n"
        "## Machine Learning Engineer\n"
        "Builds services with Kubernetes.\n"
    )
    found = facts(text)
    assert ("Machine Learning Engineer", "usesTool", "Kubernetes") in found
    assert ("Data Scientist", "usesTool", "Kubernetes") not in found


def test_a_title_naming_a_stage_places_the_role_at_it() -> None:
    assert ("Senior Research Scientist", "atStage", "Senior-Level") in facts(
        "# Senior Research Scientist\n\nThey publish at ICML.\n"
    )
