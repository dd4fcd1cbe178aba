"""Extraction against hand-written golden expectations (tests/golden/extraction/*.json).

The seeds (data/documents) must reach precision and recall >= 0.95 in every class; the documents
in other layouts (tests/documents) >= 0.9 precision and >= 0.8 recall. A build is read only through
the SPARQL queries in tests/golden/extraction/queries (see docs/extraction-evaluation.md).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
GOLDEN_DIR = HERE / "golden" / "extraction"
DOCUMENTS_DIR = HERE / "documents"

SEED_MIN_PRECISION = 0.95
SEED_MIN_RECALL = 0.95
DOCS_MIN_PRECISION = 0.9
DOCS_MIN_RECALL = 0.8


def _load_evaluate() -> ModuleType:
    name = "mlkg_golden_evaluate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, GOLDEN_DIR / "evaluate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


ev = _load_evaluate()


def _corpus_dir() -> Path:
    from mlkg.resources import corpus_dir

    return Path(corpus_dir())


SEED_GOLDENS = ev.load_goldens(_corpus_dir())
DOC_GOLDENS = ev.load_goldens(DOCUMENTS_DIR)
ALL_GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.json"))


def _ids(goldens: list[Any]) -> list[str]:
    return [Path(g.file).stem for g in goldens]


# ------------------------------------------------------------------------------------------
# The goldens and test documents themselves


@pytest.mark.parametrize("path", ALL_GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_file_is_well_formed(path: Path) -> None:
    golden = ev.load_golden(path)
    assert path.stem == Path(golden.file).stem, "a golden is named after its document"
    role_keys = [ev.alternatives(r) for r in golden.items["roles"]]
    role_keys += [ev.alternatives(r) for r in golden.optional.get("roles", ())]

    def is_role(name: str) -> bool:
        return any(not keys.isdisjoint(ev.alternatives(name)) for keys in role_keys)

    assert is_role(golden.primary_role), f"primary role {golden.primary_role!r} not in roles"
    for a, b in (*golden.ladder, *golden.optional.get("ladder", ())):
        assert is_role(a) and is_role(b), f"ladder step {a!r} -> {b!r} names a role not in roles"
    for cls in ev.ENTITY_CLASSES:
        keys = [ev.alternatives(item) for item in golden.items[cls]]
        for i, first in enumerate(keys):
            for second in keys[i + 1 :]:
                assert first.isdisjoint(second), f"{cls}: two items share an alternative: {first}"


def test_every_seed_document_has_a_golden() -> None:
    seeds = sorted(p.name for p in _corpus_dir().glob("*.txt"))
    assert seeds, "the bundled corpus is empty"
    assert sorted(g.file for g in SEED_GOLDENS) == seeds


def test_every_test_document_has_a_golden() -> None:
    documents = sorted(p.name for p in DOCUMENTS_DIR.iterdir() if p.is_file())
    assert len(documents) >= 4
    assert sorted(g.file for g in DOC_GOLDENS) == documents


def test_messy_document_keeps_its_bom_and_crlf() -> None:
    raw = (DOCUMENTS_DIR / "messy-posting-crlf.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the BOM was lost (an editor or git normalised it)"
    assert raw.count(b"\r\n") == raw.count(b"\n") > 10, "CRLF line endings were normalised"


# ------------------------------------------------------------------------------------------
# The scorer, on the hand-made small graph (independent of the extractor)


def _write_golden(tmp_path: Path, data: dict[str, Any]) -> Path:
    base: dict[str, Any] = {
        "primary_role": "",
        "roles": [],
        "languages": [],
        "tools": [],
        "venues": [],
        "degrees": [],
        "organizations": [],
        "salary_figures": [],
        "ladder": [],
    }
    base.update(data)
    path = tmp_path / (Path(base["file"]).stem + ".json")
    path.write_text(json.dumps(base), encoding="utf-8")
    return path


def test_scorer_on_the_small_graph(small_build_dir: Path, tmp_path: Path) -> None:
    path = _write_golden(
        tmp_path,
        {
            "file": "research-scientist.md",
            "primary_role": "ML Research Scientist",
            "roles": [
                "Machine Learning Research Scientist",
                "Research Director",
                "Research Fellow",
            ],
            "languages": ["Python"],
            "tools": ["PyTorch|torch"],
            "venues": ["NeurIPS"],
            "degrees": ["Ph.D."],
            "organizations": ["The Google"],
            "salary_figures": [204655, 56000, 446000, 99000],
            "ladder": [["Research Scientist", "Research Director"]],
            "optional": {"roles": ["Lab Technician"]},
        },
    )
    golden = ev.load_golden(path)
    scores = ev.score_document(golden, ev.read_build(small_build_dir))
    assert scores["roles"].missed == [("research-scientist.md", "Research Fellow")]
    assert scores["roles"].spurious == []  # Lab Technician is optional
    assert (scores["roles"].found, scores["roles"].golden) == (2, 3)
    assert (scores["roles"].correct, scores["roles"].extracted) == (2, 2)
    # Python is a ProgrammingLanguage, so it is not a spurious tool
    assert (scores["tools"].precision, scores["tools"].recall) == (1.0, 1.0)
    for cls in ("primary_role", "languages", "venues", "degrees", "organizations", "ladder"):
        assert (scores[cls].precision, scores[cls].recall) == (1.0, 1.0), cls
    salary = scores["salary_figures"]
    assert salary.missed == [("research-scientist.md", "99,000")]
    assert (salary.precision, salary.recall) == (1.0, 0.75)


def test_scorer_counts_spurious_items_and_edges(small_build_dir: Path, tmp_path: Path) -> None:
    path = _write_golden(
        tmp_path,
        {
            "file": "data-scientist.md",
            "primary_role": "Data Scientist",
            "roles": ["Data Scientist"],
            "ladder": [["Data Scientist", "Research Scientist"]],
        },
    )
    golden = ev.load_golden(path)
    extracted = ev.read_build(small_build_dir)
    scores = ev.score_document(golden, extracted)
    assert scores["roles"].spurious == [("data-scientist.md", "Senior Data Scientist")]
    assert scores["ladder"].missed == [
        ("data-scientist.md", "Data Scientist -> Research Scientist")
    ]
    assert sorted(scores["ladder"].spurious) == [
        ("data-scientist.md", "Data Scientist -> Senior Data Scientist"),
        ("data-scientist.md", "Senior Data Scientist -> Research Scientist"),
    ]
    assert scores["tools"].spurious and scores["tools"].precision == 0.0
    table = ev.format_table(ev.score_corpus([golden], extracted))
    assert "roles" in table and "0.500" in table


def test_evaluate_script_prints_a_table(
    small_build_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "research-scientist.md").write_text("# Research Scientist\n", encoding="utf-8")
    goldens = tmp_path / "goldens"
    goldens.mkdir()
    _write_golden(goldens, {"file": "research-scientist.md", "venues": ["NeurIPS", "ICML"]})
    argv = [str(small_build_dir), str(docs), "--golden-dir", str(goldens), "--details"]
    assert ev.main(argv) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["venues"] == ["2", "1", "1", "1", "1.000", "0.500"]
    assert "missed    research-scientist.md: ICML" in out
    assert all(cls in rows for cls in ev.CLASSES)


def test_evaluate_script_rejects_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ev.main([str(tmp_path), str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err


def test_golden_loader_names_the_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"file": "x.txt", "roles": "Data Scientist"}', encoding="utf-8")
    with pytest.raises(ev.GoldenError, match=r"bad\.json"):
        ev.load_golden(bad)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ph.D.", "ph d"),
        ("Master's degree", "Masters Degree"),
        ("the  Jupyter   Notebooks", "Jupyter Notebooks"),
        ("Scikit-learn", "scikit learn"),
        ("AI/ML Research Specialist", "AI ML research specialist"),
    ],
)
def test_normalise_equal(a: str, b: str) -> None:
    assert ev.normalise(a) == ev.normalise(b)


@pytest.mark.parametrize(("a", "b"), [("C++", "C"), ("C#", "C"), ("PhD", "Ph.D."), ("R", "")])
def test_normalise_different(a: str, b: str) -> None:
    assert ev.normalise(a) != ev.normalise(b)


@given(st.text())
def test_normalise_gives_a_clean_key(text: str) -> None:
    key = ev.normalise(text)
    assert key == key.strip() and "  " not in key
    assert "the" not in key.split()
    assert not any(ch in key for ch in "'.,;:/()|-_\"")


# ------------------------------------------------------------------------------------------
# The extraction


@pytest.fixture(scope="module")
def seed_extracted(seed_build_dir: Path) -> Any:
    """What the build of the bundled corpus extracted, read through SPARQL."""
    return ev.read_build(seed_build_dir)


@pytest.fixture(scope="module")
def documents_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of tests/documents (built once for this module)."""
    from mlkg.build import build

    out = tmp_path_factory.mktemp("golden-documents") / "build"
    build([DOCUMENTS_DIR], out)
    return out


@pytest.fixture(scope="module")
def documents_extracted(documents_build_dir: Path) -> Any:
    """What the build of tests/documents extracted, read through SPARQL."""
    return ev.read_build(documents_build_dir)


def _failure_message(corpus: str, score: Any, min_precision: float, min_recall: float) -> str:
    lines = [
        f"{corpus} / {score.cls}: precision {score.precision:.3f} (min {min_precision}), "
        f"recall {score.recall:.3f} (min {min_recall}); "
        f"{score.found}/{score.golden} golden items found, "
        f"{score.correct}/{score.extracted} extracted items correct"
    ]
    lines += [f"  missed    {file}: {label}" for file, label in sorted(score.missed)]
    lines += [f"  spurious  {file}: {label}" for file, label in sorted(score.spurious)]
    return "\n".join(lines)


@pytest.mark.parametrize("golden", SEED_GOLDENS, ids=_ids(SEED_GOLDENS))
def test_seed_document_is_in_the_build(golden: Any, seed_extracted: Any) -> None:
    assert golden.file in seed_extracted.files


@pytest.mark.parametrize("golden", DOC_GOLDENS, ids=_ids(DOC_GOLDENS))
def test_test_document_is_in_the_build(golden: Any, documents_extracted: Any) -> None:
    assert golden.file in documents_extracted.files


@pytest.mark.parametrize("golden", SEED_GOLDENS, ids=_ids(SEED_GOLDENS))
def test_seed_primary_role(golden: Any, seed_extracted: Any) -> None:
    score = ev.score_document(golden, seed_extracted)["primary_role"]
    precision, recall = score.precision, score.recall
    assert precision == 1.0 and recall == 1.0, _failure_message("seeds", score, 1.0, 1.0)


@pytest.mark.parametrize("cls", ev.CLASSES)
def test_seed_extraction(cls: str, seed_extracted: Any) -> None:
    score = ev.score_corpus(SEED_GOLDENS, seed_extracted)[cls]
    precision, recall = score.precision, score.recall
    message = _failure_message("seeds", score, SEED_MIN_PRECISION, SEED_MIN_RECALL)
    assert precision >= SEED_MIN_PRECISION and recall >= SEED_MIN_RECALL, message


@pytest.mark.parametrize("cls", ev.CLASSES)
def test_documents_extraction(cls: str, documents_extracted: Any) -> None:
    score = ev.score_corpus(DOC_GOLDENS, documents_extracted)[cls]
    precision, recall = score.precision, score.recall
    message = _failure_message("tests/documents", score, DOCS_MIN_PRECISION, DOCS_MIN_RECALL)
    assert precision >= DOCS_MIN_PRECISION and recall >= DOCS_MIN_RECALL, message
