"""Vocabulary matching: case and spelling variants, word boundaries, offsets."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlkg.extract import Extractor
from mlkg.extract.matcher import VocabularyMatcher
from mlkg.extract.text import normalize, normalize_key
from mlkg.vocabulary import Term, Vocabulary


@functools.cache
def bundled_matcher() -> VocabularyMatcher:
    """The matcher over the bundled vocabulary (built once)."""
    return Extractor().matcher


@pytest.fixture()
def matcher() -> VocabularyMatcher:
    """The matcher over the bundled vocabulary."""
    return bundled_matcher()


def labels(matcher: VocabularyMatcher, text: str) -> list[tuple[str, str]]:
    """Return (surface, preferred label of the first term) of each match in ``text``."""
    return [(m.surface, m.terms[0].label) for m in matcher.find(text)]


@pytest.mark.parametrize("surface", ["PyTorch", "Pytorch", "pytorch", "PYTORCH"])
def test_pytorch_spellings(matcher: VocabularyMatcher, surface: str) -> None:
    assert labels(matcher, f"We use {surface} daily.") == [(surface, "PyTorch")]


@pytest.mark.parametrize("surface", ["Scikit-learn", "scikit-learn", "sklearn", "scikit learn"])
def test_scikit_learn_spellings(matcher: VocabularyMatcher, surface: str) -> None:
    assert labels(matcher, f"Models in {surface}.") == [(surface, "scikit-learn")]


@pytest.mark.parametrize("surface", ["Ph.D.", "PhD", "Ph.D", "phd", "doctorate"])
def test_phd_spellings(matcher: VocabularyMatcher, surface: str) -> None:
    found = labels(matcher, f"A {surface} helps")
    assert found and found[0][1] == "PhD"
    assert found[0][0].rstrip(".") == surface.rstrip(".")


def test_masters_with_curly_apostrophe(matcher: VocabularyMatcher) -> None:
    found = labels(matcher, "A Master’s degree in CS")
    assert ("Master’s degree", "Master's degree") in found


def test_plural_forms_match(matcher: VocabularyMatcher) -> None:
    assert ("GPUs", "GPU") in labels(matcher, "Train on GPUs.") or not any(
        t.label == "GPU" for t in matcher.vocabulary.terms.values()
    )
    assert labels(matcher, "data scientists") == [("data scientists", "Data Scientist")]


def test_longest_match_wins(matcher: VocabularyMatcher) -> None:
    found = labels(matcher, "We study machine learning.")
    assert [f[0] for f in found] == ["machine learning"]


def test_word_boundaries(matcher: VocabularyMatcher) -> None:
    assert all(surface != "R" for surface, _ in labels(matcher, "RAG and PR reviews"))
    assert all(surface.lower() != "go" for surface, _ in labels(matcher, "Google and going"))


def test_large_scale_ai_is_not_scale_ai(matcher: VocabularyMatcher) -> None:
    text = "We train large-scale AI models."
    assert all(label != "Scale AI" for _, label in labels(matcher, text))


def test_offsets_point_at_the_original_text(matcher: VocabularyMatcher) -> None:
    text = "A  Ph.D.\nin Scikit-learn, with PyTorch\u00a0and Master’s degree."
    matches = matcher.find(text)
    assert len(matches) >= 3
    for match in matches:
        assert text[match.start : match.end] == match.surface


def test_a_tiny_vocabulary() -> None:
    vocabulary = Vocabulary(
        {
            "t1": Term("t1", "Tool", "Node.js", ("NodeJS",)),
            "t2": Term("t2", "ProgrammingLanguage", "C++", ()),
        }
    )
    matcher = VocabularyMatcher(vocabulary)
    assert [m.surface for m in matcher.find("Node.js, nodejs, C++ and C")] == [
        "Node.js",
        "nodejs",
        "C++",
    ]


def test_an_empty_vocabulary_matches_nothing() -> None:
    assert VocabularyMatcher(Vocabulary({})).find("PyTorch") == []


@pytest.mark.parametrize(
    ("label", "key"),
    [("Ph.D.", "phd"), ("Master's degree", "masters degree"), ("Scikit-learn", "scikit learn")],
)
def test_normalize_key(label: str, key: str) -> None:
    assert normalize_key(label) == key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_normalize_maps_back_to_the_original(text: str) -> None:
    normalized = normalize(text)
    previous = -1
    for index in range(len(normalized.text)):
        original = normalized.original(index)
        assert 0 <= original < len(text)
        assert original > previous
        previous = original


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["PyTorch", "Ph.D.", "sklearn", " ", "-", ".", "’", "\n", "R", "Go", "é", "ẞ", "İ", "x"]
        ),
        max_size=40,
    ).map("".join)
)
def test_matches_always_slice_the_text(text: str) -> None:
    for match in bundled_matcher().find(text):
        assert text[match.start : match.end] == match.surface
