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


# --- the fast paths agree with plain versions ----------------------------------------------------


def _reference_find(matcher: VocabularyMatcher, text: str) -> list[tuple[int, int, str]]:
    """Matches found the plain way: every occurrence of a key, kept on word boundaries."""
    from mlkg.extract.matcher import _plurals
    from mlkg.extract.text import is_word_char

    keys: set[str] = set()
    for term in matcher.vocabulary.terms.values():
        for label in (term.label, *term.alt_labels):
            key = normalize_key(label)
            if key:
                keys.update([key, *_plurals(key)])
    normalized = normalize(text)
    norm = normalized.text
    candidates = []
    for key in keys:
        start = norm.find(key)
        while start >= 0:
            end = start + len(key)
            before_ok = start == 0 or not is_word_char(norm[start - 1])
            after_ok = end == len(norm) or not is_word_char(norm[end])
            if before_ok and after_ok:
                candidates.append((start, end))
            start = norm.find(key, start + 1)
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    found = []
    taken_until = -1
    for start, end in candidates:
        if start < taken_until:
            continue
        first = normalized.original(start)
        last = normalized.original(end - 1) + 1
        if first > 1 and text[first - 1] == "-" and text[first - 2].isalnum():
            continue
        found.append((first, last, text[first:last]))
        taken_until = end
    return found


TRICKY = Vocabulary(
    {
        "rd": Term("rd", "ResearchArea", "R&D", ()),
        "rd2": Term("rd2", "Tool", "R D", ()),
        "net": Term("net", "Tool", ".NET", ()),
        "cpp": Term("cpp", "ProgrammingLanguage", "C++", ()),
        "node": Term("node", "Tool", "Node.js", ("NodeJS",)),
        "ml": Term("ml", "ResearchArea", "machine learning", ("ML",)),
        "mlops": Term("mlops", "TechnicalSkill", "machine learning ops", ()),
        "phd": Term("phd", "Degree", "Ph.D.", ()),
    }
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *("R&D", "r d", "R-D", ".NET", "asp.net", "C++", "c+", "Node.js", "nodejs"),
                *("machine", "learning", "ops", "ML", "Ph.D.", "phd", "s", " ", "  "),
                *("-", ",", ".", "\n", "é", "_", "x", "’", "'", "#"),
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_matcher_agrees_with_the_plain_way(text: str) -> None:
    """Boundaries checked by the automaton give the same matches as checking each hit."""
    matcher = VocabularyMatcher(TRICKY)
    assert [(m.start, m.end, m.surface) for m in matcher.find(text)] == _reference_find(
        matcher, text
    )


def _reference_normalize(text: str) -> tuple[str, tuple[int, ...]]:
    """normalize() the plain way: drop positions listed one by one."""
    import re

    from mlkg.extract.text import _TRANSLATE, _lower

    lowered = _lower(text.translate(_TRANSLATE))
    drop = re.compile(r"'|(?<=[^\W_])\.(?=[^\W_])|(?<= ) +")
    drops = [m.start() + k for m in drop.finditer(lowered) for k in range(m.end() - m.start())]
    kept = "".join(c for i, c in enumerate(lowered) if i not in set(drops))
    return kept, tuple(d - rank for rank, d in enumerate(drops))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aB1_ .'’-\né")), max_size=60))
def test_normalize_agrees_with_the_plain_way(text: str) -> None:
    normalized = normalize(text)
    assert (normalized.text, normalized.shifted) == _reference_normalize(text)
