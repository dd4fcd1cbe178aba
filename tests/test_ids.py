"""IRI minting: stable slugs that are always valid IRI path segments."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlkg.ids import (
    ID_BASE,
    KIND_OF_CLASS,
    document_iri,
    entity_iri,
    evidence_iri,
    fact_iri,
    salary_iri,
    slugify,
)
from mlkg.records import ENTITY_CLASSES, Evidence

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
IRI_FORBIDDEN = re.compile(r"[\x00-\x20<>\"{}|^`\\]")


def assert_valid_iri(iri: str) -> None:
    """Fail unless ``iri`` is an absolute IRI rdflib and Oxigraph both accept."""
    import pyoxigraph
    from rdflib import URIRef

    assert iri.startswith(ID_BASE), iri
    assert not IRI_FORBIDDEN.search(iri), iri
    pyoxigraph.NamedNode(iri)  # raises ValueError on an invalid IRI
    assert URIRef(iri).n3() == f"<{iri}>"


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("Machine Learning Researcher", "machine-learning-researcher"),
        ("C++", "c-plus-plus"),
        ("C#", "c-sharp"),
        ("R&D", "r-and-d"),
        ("Ph.D.", "ph-d"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("  Data   Scientist  ", "data-scientist"),
        ("Café Résumé", "cafe-resume"),
        ("AI/ML Research Specialist", "ai-ml-research-specialist"),
    ],
)
def test_slugify_examples(label: str, slug: str) -> None:
    assert slugify(label) == slug


@pytest.mark.parametrize("label", ["", "   ", "🤖", "日本語", "<>", "---", "\x00"])
def test_slugify_never_empty(label: str) -> None:
    slug = slugify(label)
    assert SLUG.match(slug), slug
    assert slug == slugify(label)


def test_slugify_distinguishes_labels_without_ascii_letters() -> None:
    assert slugify("🤖") != slugify("日本語")


def test_slugify_long_labels_are_capped_and_distinct() -> None:
    a = slugify("word " * 100 + "a")
    b = slugify("word " * 100 + "b")
    assert len(a) <= 80 and len(b) <= 80
    assert a != b


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_slugify_is_stable_and_always_a_slug(label: str) -> None:
    slug = slugify(label)
    assert SLUG.match(slug), (label, slug)
    assert slug == slugify(label)
    assert len(slug) <= 80


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(ENTITY_CLASSES),
    st.one_of(
        st.text(max_size=80),
        st.sampled_from(["<script>", "</script><script>alert(1)</script>", "a b", "{x}|^`\\"]),
    ),
)
def test_entity_iris_are_valid(cls: str, label: str) -> None:
    iri = entity_iri(cls, label)
    assert_valid_iri(iri)
    assert iri == f"{ID_BASE}{KIND_OF_CLASS[cls]}/{slugify(label)}"


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        ("Role", "role"),
        ("Tool", "tool"),
        ("ProgrammingLanguage", "language"),
        ("Venue", "venue"),
        ("Degree", "degree"),
        ("CareerStage", "stage"),
        ("Organization", "organization"),
        ("TechnicalSkill", "skill"),
        ("SoftSkill", "skill"),
    ],
)
def test_entity_iri_kinds(cls: str, kind: str) -> None:
    assert entity_iri(cls, "X Y") == f"{ID_BASE}{kind}/x-y"


def test_every_entity_class_has_a_kind() -> None:
    assert set(ENTITY_CLASSES) <= set(KIND_OF_CLASS)


def test_unknown_class_is_refused() -> None:
    with pytest.raises(KeyError):
        entity_iri("Spaceship", "x")


@settings(max_examples=100, deadline=None)
@given(
    st.text(max_size=30),
    st.text(max_size=30),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
)
def test_other_iris_are_valid(document_id: str, text: str, start: int, end: int) -> None:
    assert_valid_iri(document_iri(document_id))
    assert_valid_iri(evidence_iri(Evidence(document_id, "s", text, start, end)))
    assert_valid_iri(fact_iri(text, "p", document_id))
    assert_valid_iri(salary_iri(text, start, None))


def test_fact_and_salary_iris_are_stable_and_distinct() -> None:
    assert fact_iri("a", "p", "b") == fact_iri("a", "p", "b")
    assert fact_iri("a", "p", "b") != fact_iri("b", "p", "a")
    assert salary_iri("r", 1, 2) == salary_iri("r", 1, 2) != salary_iri("r", 2, 1)
