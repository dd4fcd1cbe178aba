"""``mlkg build``, ``stats``, ``explain`` and ``validate`` through click's CliRunner."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlkg.cli import cli
from mlkg.records import RELATIONS
from mlkg.store import GRAPH_FILE, STORE_DIR, SUMMARY_FILE

DOC = "# Data Scientist\n\nData Scientists use Python, SQL and PyTorch.\n"


def invoke(*args: str) -> Result:
    """Run ``mlkg ARGS`` in-process."""
    return CliRunner().invoke(cli, list(args))


def one_error_line(result: Result, code: int) -> str:
    """Assert a failed run printed one ``mlkg: error:`` line, exit ``code``, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    errors = [line for line in result.stderr.splitlines() if line.startswith("mlkg: error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    """A folder holding one good document."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ds.md").write_text(DOC, encoding="utf-8")
    return folder


# --- happy paths -------------------------------------------------------------------------------


def test_build_prints_a_summary(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "out"
    result = invoke("build", "--docs", str(docs), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "Documents: 1" in result.stdout
    assert "ds.md: Data Scientist" in result.stdout
    assert "usesTool" in result.stdout and "Triples:" in result.stdout
    assert (out / GRAPH_FILE).is_file() and (out / STORE_DIR).is_dir()
    assert result.stderr == ""


def test_build_again_says_it_is_up_to_date_unless_forced(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "out"
    first = invoke("build", "--docs", str(docs), "--out", str(out))
    assert first.exit_code == 0 and "Up to date" not in first.stdout
    again = invoke("build", "--docs", str(docs), "--out", str(out))
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("Up to date: nothing changed")
    assert "ds.md: Data Scientist" in again.stdout and "(1 documents from cache)" in again.stdout
    forced = invoke("build", "--docs", str(docs), "--out", str(out), "--force")
    assert forced.exit_code == 0 and "Up to date" not in forced.stdout
    quiet = invoke("build", "--docs", str(docs), "--out", str(out), "-q")
    assert quiet.stdout == "" and quiet.stderr == ""


def test_build_quiet_prints_nothing(tmp_path: Path, docs: Path) -> None:
    result = invoke("build", "--docs", str(docs), "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_build_warns_about_skipped_and_duplicate_files(tmp_path: Path, docs: Path) -> None:
    (docs / "copy.md").write_text(DOC.replace("\n", "\r\n"), encoding="utf-8")
    (docs / "blob.txt").write_bytes(bytes(range(256)) * 8)
    result = invoke("build", "--docs", str(docs), "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert any(line.startswith("mlkg: warning: skipped ") and "blob.txt" in line for line in lines)
    assert "mlkg: warning: ds.md is the same document as copy.md: built once" in lines


def test_build_with_several_docs_options(tmp_path: Path, docs: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("Title: Machine Learning Engineer\n\nThey use Kubernetes.\n")
    result = invoke(
        "build", "--docs", str(docs), "--docs", str(other), "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 0, result.stderr
    assert "Documents: 2" in result.stdout


def test_stats(seed_build_dir: Path) -> None:
    result = invoke("stats", "--graph", str(seed_build_dir))
    assert result.exit_code == 0, result.stderr
    assert "Documents: 5" in result.stdout
    assert "Role" in result.stdout and "progressesTo" in result.stdout


def test_explain_text(seed_build_dir: Path) -> None:
    result = invoke("explain", "Research Scientist", "--graph", str(seed_build_dir))
    assert result.exit_code == 0, result.stderr
    assert "usesTool:" in result.stdout or "publishesAt:" in result.stdout
    assert "\u201c" in result.stdout and ".txt \u00a7 " in result.stdout


def test_explain_json_evidence_slices_the_documents(seed_build_dir: Path) -> None:
    from mlkg.documents import read_document
    from mlkg.resources import corpus_dir

    texts = {p.name: read_document(p)[0].text for p in corpus_dir().glob("*.txt")}
    result = invoke(
        "explain", "Research Scientist", "--graph", str(seed_build_dir), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts
    predicates = {f["predicate"] for f in facts}
    assert predicates <= set(RELATIONS)
    for fact in facts:
        assert fact["evidence"]
        for evidence in fact["evidence"]:
            assert texts[evidence["file"]][evidence["start"] : evidence["end"]] == evidence["text"]


def test_validate_conforming_build(seed_build_dir: Path) -> None:
    result = invoke("validate", "--graph", str(seed_build_dir))
    assert result.exit_code == 0, result.stderr
    assert "conforms" in result.stdout


# --- bad input ---------------------------------------------------------------------------------


def test_build_missing_docs(tmp_path: Path) -> None:
    line = one_error_line(
        invoke("build", "--docs", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")), 2
    )
    assert "nowhere" in line and "no such file" in line


def test_build_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    line = one_error_line(
        invoke("build", "--docs", str(tmp_path / "empty"), "--out", str(tmp_path / "o")), 1
    )
    assert "no usable document" in line


def test_build_only_bad_documents(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_text(" \n")
    (bad / "blob.md").write_bytes(b"\x00\xff" * 500)
    result = invoke("build", "--docs", str(bad), "--out", str(tmp_path / "o"))
    line = one_error_line(result, 1)
    assert "no usable document" in line and "empty.txt" in line


def test_build_strict(tmp_path: Path, docs: Path) -> None:
    (docs / "blob.txt").write_bytes(bytes(range(256)) * 8)
    result = invoke("build", "--docs", str(docs), "--out", str(tmp_path / "o"), "--strict")
    line = one_error_line(result, 1)
    assert "blob.txt" in line and "--strict" in line
    assert not (tmp_path / "o").exists()


def test_build_max_bytes_names_the_limit(tmp_path: Path, docs: Path) -> None:
    result = invoke(
        "build", "--docs", str(docs), "--out", str(tmp_path / "o"), "--max-bytes", "10", "--strict"
    )
    line = one_error_line(result, 1)
    assert "ds.md" in line and "10-byte limit" in line


def test_build_locked(tmp_path: Path, docs: Path) -> None:
    from mlkg.build import build_lock

    out = tmp_path / "o"
    with build_lock(out):
        line = one_error_line(invoke("build", "--docs", str(docs), "--out", str(out)), 3)
    assert "another build" in line


def test_build_out_is_a_plain_folder(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    line = one_error_line(invoke("build", "--docs", str(docs), "--out", str(out)), 1)
    assert "not an mlkg build" in line
    assert (out / "notes.txt").read_text() == "mine"


def test_build_out_under_a_file(tmp_path: Path, docs: Path) -> None:
    (tmp_path / "file").write_text("x")
    line = one_error_line(
        invoke("build", "--docs", str(docs), "--out", str(tmp_path / "file" / "o")), 1
    )
    assert "file" in line


def test_build_unwritable_out(tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if Path(p) == tmp_path else real_access(p, mode)
    )
    line = one_error_line(invoke("build", "--docs", str(docs), "--out", str(tmp_path / "o")), 1)
    assert "cannot write" in line


def test_build_non_utf8_file_name_in_messages(tmp_path: Path, docs: Path) -> None:
    with open(os.fsencode(docs) + b"/bad\xff.txt", "wb") as handle:
        handle.write(b"\x00\x01" * 300)
    result = invoke("build", "--docs", str(docs), "--out", str(tmp_path / "o"), "--strict")
    line = one_error_line(result, 1)
    assert "bad\\" in line
    line.encode("utf-8")


@pytest.mark.parametrize(
    "args",
    [
        ["build", "--max-bytes", "0"],
        ["build", "--jobs", "-1"],
        ["build", "--nonsense"],
        ["stats", "extra"],
        ["explain"],
        ["explain", "x", "--format", "xml"],
    ],
)
def test_usage_errors(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "Error:" in result.stderr


def test_stats_missing_graph(tmp_path: Path) -> None:
    line = one_error_line(invoke("stats", "--graph", str(tmp_path / "none")), 2)
    assert "mlkg build" in line


def test_stats_broken_summary(tmp_path: Path, seed_build_dir: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(seed_build_dir.resolve(), broken)
    (broken / SUMMARY_FILE).write_text("{not json")
    line = one_error_line(invoke("stats", "--graph", str(broken)), 1)
    assert SUMMARY_FILE in line


def test_explain_unknown_role(seed_build_dir: Path) -> None:
    line = one_error_line(invoke("explain", "Astronaut Chef", "--graph", str(seed_build_dir)), 2)
    assert "Astronaut Chef" in line


def test_explain_unknown_role_does_not_mention_query_params(seed_build_dir: Path) -> None:
    line = one_error_line(invoke("explain", "Astronaut Chef", "--graph", str(seed_build_dir)), 2)
    assert "--param" not in line


def test_explain_missing_graph(tmp_path: Path) -> None:
    one_error_line(invoke("explain", "Data Scientist", "--graph", str(tmp_path / "none")), 2)


def test_validate_missing_graph(tmp_path: Path) -> None:
    one_error_line(invoke("validate", "--graph", str(tmp_path / "none")), 2)


def test_validate_non_conforming_graph(tmp_path: Path, small_graph_file: Path) -> None:
    from rdflib import Graph, URIRef
    from rdflib.namespace import SKOS

    from mlkg.store import write_store

    graph = Graph().parse(small_graph_file, format="turtle")
    subjects = sorted(set(graph.subjects(SKOS.prefLabel, None)), key=str)
    assert subjects
    graph.remove((subjects[0], SKOS.prefLabel, None))
    graph.add((subjects[0], URIRef("https://w3id.org/mlkg/ontology#mentionedIn"), subjects[0]))
    folder = tmp_path / "bad"
    folder.mkdir()
    graph.serialize(folder / GRAPH_FILE, format="turtle")
    write_store(folder / GRAPH_FILE, folder / STORE_DIR)
    result = invoke("validate", "--graph", str(folder))
    assert result.exit_code == 1
    assert result.stderr.startswith("mlkg: error: the graph does not conform")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["validate"], ["explain", "Research Scientist"]])
def test_corrupt_store_is_one_error_line(
    tmp_path: Path, seed_build_dir: Path, command: list[str]
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(seed_build_dir.resolve(), broken)
    (broken / STORE_DIR / "CURRENT").write_text("garbage\n")
    line = one_error_line(invoke(*command, "--graph", str(broken)), 2)
    assert "store" in line


# --- every bad document of HARDENING.md, through the command line ------------------------------


def _bad_empty(folder: Path) -> str:
    (folder / "empty.txt").write_text("")
    return "empty.txt"


def _bad_whitespace(folder: Path) -> str:
    (folder / "blank.md").write_text(" \n\t\n   \r\n")
    return "blank.md"


def _bad_binary(folder: Path) -> str:
    (folder / "random.txt").write_bytes(bytes(range(256)) * 16)
    return "random.txt"


def _bad_too_big(folder: Path) -> str:
    with (folder / "huge.txt").open("wb") as handle:
        handle.truncate(60 * 1024 * 1024)  # sparse
    return "huge.txt"


def _bad_pipe(folder: Path) -> str:
    os.mkfifo(folder / "pipe.txt")
    return "pipe.txt"


def _bad_symlink_loop(folder: Path) -> str:
    os.symlink("loop.txt", folder / "loop.txt")
    return "loop.txt"


def _bad_symlink_out(folder: Path) -> str:
    outside = folder.parent / "outside.txt"
    outside.write_text(DOC.replace("PyTorch", "JAX"))
    os.symlink(outside, folder / "escape.txt")
    return "escape.txt"


def _bad_no_role(folder: Path) -> str:
    (folder / "shopping.txt").write_text("Groceries\n\nEggs, milk and bread.\n")
    return "shopping.txt"


BAD_DOCUMENTS = [
    _bad_empty,
    _bad_whitespace,
    _bad_binary,
    _bad_too_big,
    _bad_pipe,
    _bad_symlink_loop,
    _bad_symlink_out,
    _bad_no_role,
]


@pytest.fixture(scope="module")
def shared_previous(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete build of one good document, shared by tests that must leave it untouched."""
    folder = tmp_path_factory.mktemp("previous")
    (folder / "docs").mkdir()
    (folder / "docs" / "ds.md").write_text(DOC, encoding="utf-8")
    out = folder / "out"
    result = invoke("build", "--docs", str(folder / "docs"), "--out", str(out), "-q")
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture()
def previous(tmp_path: Path, docs: Path) -> Path:
    """A complete build of ``docs`` in ``tmp_path/out``."""
    out = tmp_path / "out"
    result = invoke("build", "--docs", str(docs), "--out", str(out), "-q")
    assert result.exit_code == 0, result.stderr
    return out


def _snapshot(out: Path) -> tuple[str, bytes]:
    return os.readlink(out), (out / GRAPH_FILE).read_bytes()


@pytest.mark.parametrize("make_bad", BAD_DOCUMENTS, ids=lambda f: f.__name__[5:])
def test_strict_bad_document_fails_naming_it(
    docs: Path, shared_previous: Path, make_bad: Callable[[Path], str]
) -> None:
    before = _snapshot(shared_previous)
    name = make_bad(docs)
    result = invoke("build", "--docs", str(docs), "--out", str(shared_previous), "--strict")
    line = one_error_line(result, 1)
    assert name in line and "--strict" in line
    assert _snapshot(shared_previous) == before


def test_bad_documents_are_skipped_with_a_warning_each(docs: Path, previous: Path) -> None:
    names = [make_bad(docs) for make_bad in BAD_DOCUMENTS]
    result = invoke("build", "--docs", str(docs), "--out", str(previous), "-q")
    assert result.exit_code == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert all(line.startswith("mlkg: warning: skipped ") for line in warnings)
    for name in names:
        assert sum(name in line for line in warnings) == 1, (name, warnings)
    assert "JAX" not in (previous / GRAPH_FILE).read_text(encoding="utf-8")
