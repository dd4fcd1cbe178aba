"""Builds: determinism, atomic publish, lock, orphans, pruning, cache, kill -9, concurrency."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mlkg.build import KEEP_BUILDS, build, build_lock, read_summary
from mlkg.errors import BuildError, BuildLockedError, DocumentError, ValidationError
from mlkg.resources import corpus_dir
from mlkg.store import GRAPH_FILE, STORE_DIR, SUMMARY_FILE

ROOT = Path(__file__).resolve().parents[1]
MLKG = ROOT / ".venv" / "bin" / "mlkg"

DOC_A = (
    "# Data Scientist\n\nData Scientists use Python, SQL and PyTorch.\n\n"
    "## Career Progression\n- Junior Data Scientist: cleans data.\n"
    "- Senior Data Scientist: leads projects.\n"
)
DOC_C = "# Data Analyst\n\nData Analysts use Excel and SQL.\n"
DOC_B = (
    "Title: Machine Learning Engineer\n\nMachine Learning Engineers deploy models with "
    "Kubernetes.\n\nSalary\nThe range is $150,000 - $190,000.\n"
)


def make_docs(folder: Path) -> Path:
    """Write two small good documents into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.md").write_text(DOC_A, encoding="utf-8")
    (folder / "b.txt").write_text(DOC_B, encoding="utf-8")
    return folder


def builds_dir(out: Path) -> Path:
    """The folder next to ``out`` that keeps complete builds."""
    return out.parent / f".{out.name}.builds"


def snapshot(out: Path) -> tuple[str, bytes, bytes]:
    """Return what ``out`` points at and the bytes of its graph and summary."""
    return (
        os.readlink(out),
        (out / GRAPH_FILE).read_bytes(),
        (out / SUMMARY_FILE).read_bytes(),
    )


def check_complete(out: Path) -> None:
    """Fail unless ``out`` is a complete, readable build."""
    import pyoxigraph
    from rdflib import Graph

    assert out.is_symlink()
    graph = Graph().parse(out / GRAPH_FILE, format="turtle")
    assert len(graph) > 0
    summary = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["triples"] == len(graph)
    store = pyoxigraph.Store.read_only(str(out / STORE_DIR))
    assert len(store) == len(graph)


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    """A folder of two good documents."""
    return make_docs(tmp_path / "docs")


@pytest.fixture()
def built(tmp_path: Path, docs: Path) -> Path:
    """A complete build of ``docs`` in ``tmp_path/out``."""
    out = tmp_path / "out"
    build([docs], out)
    return out


def can_be_denied_write(folder: Path) -> bool:
    """True when removing write permission from ``folder`` really stops this process writing."""
    folder.chmod(0o555)
    try:
        (folder / ".probe").write_text("x")
    except PermissionError:
        return True
    else:
        (folder / ".probe").unlink()
        return False
    finally:
        folder.chmod(0o755)


# --- the build folder --------------------------------------------------------------------------


def test_build_publishes_a_link_to_a_complete_build(built: Path) -> None:
    check_complete(built)
    target = built.resolve()
    assert target.parent == builds_dir(built).resolve()
    summary = read_summary(built)
    assert len(summary["documents"]) == 2
    assert {d["primary_role"] for d in summary["documents"]} == {
        "Data Scientist",
        "Machine Learning Engineer",
    }
    assert summary["entities"]["Role"] >= 3
    assert summary["facts"]["progressesTo"] >= 1


def test_two_builds_of_the_same_input_are_byte_identical(tmp_path: Path, docs: Path) -> None:
    build([docs], tmp_path / "one")
    build([docs], tmp_path / "two", use_cache=False)
    assert (tmp_path / "one" / GRAPH_FILE).read_bytes() == (
        tmp_path / "two" / GRAPH_FILE
    ).read_bytes()


def test_seed_build_is_complete(seed_build_dir: Path) -> None:
    check_complete(seed_build_dir)
    assert len(read_summary(seed_build_dir)["documents"]) == 5


def test_skipped_and_duplicate_documents_are_listed(tmp_path: Path, docs: Path) -> None:
    (docs / "copy.md").write_text(DOC_A.replace("\n", "\r\n"), encoding="utf-8")
    (docs / "blob.txt").write_bytes(bytes(range(256)) * 8)
    (docs / "empty.txt").write_text("  \n")
    (docs / "norole.txt").write_text("Groceries\n\nEggs, milk and bread.\n")
    summary = build([docs], tmp_path / "out")
    assert len(summary.documents) == 2
    assert summary.duplicates == [{"file": "copy.md", "same_as": "a.md"}]
    skipped = {Path(s["file"]).name: s["reason"] for s in summary.skipped}
    assert set(skipped) == {"blob.txt", "empty.txt", "norole.txt"}
    assert "binary" in skipped["blob.txt"] and "empty" in skipped["empty.txt"]
    assert "role" in skipped["norole.txt"]


# --- failures leave the previous build untouched -----------------------------------------------


def test_strict_bad_input_leaves_the_previous_build(built: Path, docs: Path) -> None:
    before = snapshot(built)
    (docs / "blob.txt").write_bytes(bytes(range(256)) * 8)
    with pytest.raises(BuildError, match=r"blob\.txt.*binary.*--strict"):
        build([docs], built, strict=True)
    assert snapshot(built) == before


def test_strict_document_without_role_fails(built: Path, docs: Path) -> None:
    before = snapshot(built)
    (docs / "norole.txt").write_text("Groceries\n\nEggs, milk and bread.\n")
    with pytest.raises(BuildError, match=r"norole\.txt.*--strict"):
        build([docs], built, strict=True)
    assert snapshot(built) == before


def test_no_usable_document_leaves_the_previous_build(built: Path, tmp_path: Path) -> None:
    before = snapshot(built)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_text("")
    (bad / "norole.txt").write_text("Groceries\n\nEggs, milk and bread.\n")
    with pytest.raises(BuildError, match="no usable document"):
        build([bad], built)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BuildError, match="no usable document"):
        build([empty], built)
    assert snapshot(built) == before


def test_missing_input_leaves_the_previous_build(built: Path, tmp_path: Path) -> None:
    before = snapshot(built)
    with pytest.raises(DocumentError, match="no such file"):
        build([tmp_path / "nowhere"], built)
    assert snapshot(built) == before


def test_validation_failure_leaves_the_previous_build(
    built: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlkg.validate
    from mlkg.validate import ValidationReport, Violation

    before = snapshot(built)
    failing = ValidationReport(
        False, [Violation("urn:x", "urn:p", "broken on purpose", "Violation")]
    )
    monkeypatch.setattr(mlkg.validate, "validate_data", lambda data, **_: failing)
    (docs / "c.md").write_text("# Data Analyst\n\nData Analysts use Excel.\n")
    with pytest.raises(ValidationError, match="broken on purpose"):
        build([docs], built)
    assert snapshot(built) == before
    assert not [p for p in builds_dir(built).iterdir() if p.name.startswith("staging-")]


@pytest.fixture()
def full_disk(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After ``built``, make every way of writing a store fail as a full disk does."""
    import mlkg.build

    def fail(*args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mlkg.build, "write_store", fail)
    monkeypatch.setattr(mlkg.build, "derive_store", fail)


@pytest.mark.usefixtures("full_disk")
def test_a_write_failure_leaves_the_previous_build(built: Path, docs: Path) -> None:
    before = snapshot(built)
    (docs / "c.md").write_text("# Data Analyst\n\nData Analysts use Excel.\n")
    with pytest.raises(BuildError, match="No space left on device"):
        build([docs], built)
    assert snapshot(built) == before
    assert not [p for p in builds_dir(built).iterdir() if p.name.startswith("staging-")]


@pytest.mark.usefixtures("full_disk")
def test_a_failed_check_wins_over_a_failed_write(
    built: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staging folder is written while SHACL runs: when both fail, the check is reported."""
    import mlkg.validate
    from mlkg.validate import ValidationReport, Violation

    before = snapshot(built)
    failing = ValidationReport(False, [Violation("urn:x", "urn:p", "broken", "Violation")])
    monkeypatch.setattr(mlkg.validate, "validate_data", lambda data, **_: failing)
    (docs / "c.md").write_text("# Data Analyst\n\nData Analysts use Excel.\n")
    with pytest.raises(ValidationError, match="broken"):
        build([docs], built)
    assert snapshot(built) == before
    assert not [p for p in builds_dir(built).iterdir() if p.name.startswith("staging-")]


_STEPS = ["extracting", "assembling the graph", "checking shapes", "writing the graph"]


def test_progress_reports_every_step_in_order(tmp_path: Path, docs: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    build([docs], tmp_path / "out", progress=lambda d, t, step: calls.append((d, t, step)))
    steps = [step for _, _, step in calls]
    assert steps[0] == "extracting" and steps[-1] == "writing the graph"
    assert steps == sorted(steps, key=_STEPS.index) and set(steps) == set(_STEPS)
    for step in _STEPS:
        done, total = next((d, t) for d, t, s in reversed(calls) if s == step)
        assert done == total > 0
    assert (2, 2, "extracting") in calls  # the fixture has two documents


def test_progress_without_the_check_has_no_check(tmp_path: Path, docs: Path) -> None:
    calls: list[str] = []
    build([docs], tmp_path / "out", validate=False, progress=lambda d, t, s: calls.append(s))
    assert "checking shapes" not in calls and calls[-1] == "writing the graph"


def test_unwritable_output_folder(tmp_path: Path, docs: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    out = parent / "out"
    build([docs], out)
    before = snapshot(out)
    if not can_be_denied_write(parent):
        pytest.skip("running as root: chmod does not stop writes here")
    parent.chmod(0o555)
    try:
        with pytest.raises(BuildError, match="cannot write"):
            build([docs], out, use_cache=False)
    finally:
        parent.chmod(0o755)
    assert snapshot(out) == before


def test_unwritable_output_folder_is_reported_even_as_root(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if Path(p) == tmp_path else real_access(p, mode)
    )
    with pytest.raises(BuildError, match=r"cannot write to .*permission denied"):
        build([docs], out)
    assert not out.exists()


def test_a_plain_folder_that_is_not_a_build_is_not_replaced(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(BuildError, match="not an mlkg build"):
        build([docs], out)
    assert (out / "precious.txt").read_text() == "keep me"


# --- lock, orphans, pruning, cache -------------------------------------------------------------


def test_a_second_build_while_locked_fails_at_once(built: Path, docs: Path) -> None:
    before = snapshot(built)
    with build_lock(built), pytest.raises(BuildLockedError, match="another build"):
        build([docs], built)
    assert snapshot(built) == before
    assert BuildLockedError("x").exit_code == 3
    build([docs], built)  # the lock is free again


def test_the_lock_is_released_after_a_failed_build(built: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BuildError):
        build([empty], built)
    with build_lock(built):
        pass


def test_orphan_staging_folders_are_cleaned(built: Path, docs: Path) -> None:
    builds = builds_dir(built)
    dead = builds / "staging-999999999-1"
    dead.mkdir()
    (dead / GRAPH_FILE).write_text("@prefix broken")
    alive = builds / f"staging-{os.getppid()}-1"  # a live process that is not us
    alive.mkdir()
    build([docs], built)
    assert not dead.exists()
    assert alive.exists()
    shutil.rmtree(alive)


def test_cache_and_pruning(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "out"
    first = build([docs], out)
    first_bytes = (out / GRAPH_FILE).read_bytes()
    assert first.cached == 0
    second = build([docs], out)
    assert second.cached == len(second.documents) == 2
    assert (out / GRAPH_FILE).read_bytes() == first_bytes
    (docs / "b.txt").write_text(DOC_B.replace("Kubernetes", "Docker"), encoding="utf-8")
    third = build([docs], out)
    assert third.cached == 1
    assert b"docker" in (out / GRAPH_FILE).read_bytes().lower()
    (docs / "a.md").write_text(DOC_A.replace("PyTorch", "JAX"), encoding="utf-8")
    build([docs], out)
    complete = [p for p in builds_dir(out).iterdir() if not p.name.startswith("staging-")]
    assert len(complete) == KEEP_BUILDS == 3
    assert out.resolve() in [p.resolve() for p in complete]
    check_complete(out)


def test_pruning_keeps_the_newest_builds_within_one_second(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itertools

    import mlkg.build

    clock = itertools.count(5 * 10**9 - 3)  # crosses a whole second of monotonic_ns
    monkeypatch.setattr(mlkg.build.time, "strftime", lambda fmt, *a: "20260101T000000")
    monkeypatch.setattr(mlkg.build.time, "monotonic_ns", lambda: next(clock))
    out = tmp_path / "out"
    published = []
    for index in range(4):
        (docs / "c.md").write_text(f"# Data Analyst {index}\n\nData Analysts use Excel.\n")
        build([docs], out)
        published.append(out.resolve())
    kept = {p.resolve() for p in builds_dir(out).iterdir() if not p.name.startswith("staging-")}
    assert kept == set(published[-3:])


def test_a_corrupt_cache_entry_is_ignored(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "out"
    build([docs], out)
    expected = (out / GRAPH_FILE).read_bytes()
    cache = out.parent / f".{out.name}.cache"
    for entry in cache.iterdir():
        entry.write_bytes(b"not a pickle")
    summary = build([docs], out, force=True)
    assert summary.cached == 0
    assert (out / GRAPH_FILE).read_bytes() == expected


# --- kill -9 and concurrent builds (subprocesses) ---------------------------------------------

_BUILD_SCRIPT = "import sys; from mlkg.build import build; build([sys.argv[1]], sys.argv[2])"


def _kill_trials(tmp_path: Path, trials: int, seed: int) -> tuple[int, int]:
    """Kill builds at random moments; return (corrupt or lost builds, builds completed)."""
    docs = make_docs(tmp_path / "docs")
    out = tmp_path / "out"
    build([docs], out)
    rng = random.Random(seed)
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", _BUILD_SCRIPT, str(docs), str(out)], check=True)
    duration = time.monotonic() - start
    bad = 0
    completed = 0
    for trial in range(trials):
        # a new document each time, so every build has something new to extract and write
        (docs / "c.md").write_text(f"# Data Analyst {trial}\n\nData Analysts use Excel.\n")
        before = os.readlink(out)
        process = subprocess.Popen(
            [sys.executable, "-c", _BUILD_SCRIPT, str(docs), str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.05) * duration)  # mostly after the imports
        process.send_signal(signal.SIGKILL)
        process.wait()
        try:
            check_complete(out)
        except Exception:
            bad += 1
            continue
        completed += os.readlink(out) != before
    build([docs], out)  # the next build works and cleans the orphans
    check_complete(out)
    leftovers = [p for p in builds_dir(out).iterdir() if p.name.startswith("staging-")]
    assert leftovers == []
    return bad, completed


def test_kill_9_during_builds_never_corrupts(tmp_path: Path) -> None:
    bad, completed = _kill_trials(tmp_path, trials=10, seed=int(time.time()))
    print(f"kill -9: 10 trials, {bad} corrupt or lost builds, {completed} builds completed")
    assert bad == 0


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("MLKG_SOAK"), reason="soak test: set MLKG_SOAK=1")
def test_kill_9_soak(tmp_path: Path) -> None:
    bad, completed = _kill_trials(tmp_path, trials=20, seed=int(time.time()))
    print(f"kill -9 soak: 20 trials, {bad} corrupt or lost builds, {completed} builds completed")
    assert bad == 0


_ALTERNATE_SCRIPT = (
    "import sys; from mlkg.build import build\n"
    "for i in range(int(sys.argv[4])): build([sys.argv[1 + i % 2]], sys.argv[3])"
)


def read_while_rebuilding(first: Path, second: Path, out: Path) -> tuple[set[int], list[int]]:
    """Build ``first`` and ``second`` into ``out``, then rebuild them alternately 6 times in
    another process while this one opens the graph in a loop.

    Returns the triple counts of the two graphs and the counts the readers saw.
    """
    from mlkg.store import open_graph

    sizes = {build([second], out).triples, build([first], out).triples}
    writer = subprocess.Popen(
        [sys.executable, "-c", _ALTERNATE_SCRIPT, str(first), str(second), str(out), "6"],
        stderr=subprocess.PIPE,
    )
    seen: list[int] = []
    try:
        while writer.poll() is None:
            graph = open_graph(out)
            seen.append(len(graph))
            graph.close()
    finally:
        _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == 0, stderr
    return sizes, seen


def test_readers_see_the_old_or_the_new_graph_during_rebuilds(tmp_path: Path) -> None:
    first = make_docs(tmp_path / "first")
    second = tmp_path / "second"
    second.mkdir()
    (second / "c.md").write_text("# Data Analyst\n\nData Analysts use Excel and SQL.\n")
    sizes, seen = read_while_rebuilding(first, second, tmp_path / "out")
    assert len(sizes) == 2
    assert seen
    assert set(seen) <= sizes, (set(seen), sizes)
    assert len(set(seen)) == 2  # the readers did see both graphs


def test_readers_see_the_old_or_the_new_graph_when_rebuilds_reuse_the_store(
    tmp_path: Path,
) -> None:
    """Rebuilds that differ by one document derive their store from the published one."""
    first = tmp_path / "first"
    shutil.copytree(corpus_dir(), first)
    second = tmp_path / "second"
    shutil.copytree(first, second)
    (second / "c.md").write_text(DOC_C)
    out = tmp_path / "out"
    sizes, seen = read_while_rebuilding(first, second, out)
    assert len(sizes) == 2
    assert set(seen) <= sizes, (set(seen), sizes)
    assert store_lines(out) == turtle_lines(out)
    check_complete(out)


def test_readers_open_the_resolved_build(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyoxigraph

    from mlkg.store import open_graph

    opened: list[str] = []
    real = pyoxigraph.Store.read_only

    def spy(path: str) -> pyoxigraph.Store:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(pyoxigraph.Store, "read_only", spy)
    open_graph(built)
    assert opened
    assert all(Path(p).resolve() == Path(p) for p in opened), opened


def test_five_simultaneous_builds_one_wins(tmp_path: Path) -> None:
    if not MLKG.exists():
        pytest.skip("no .venv/bin/mlkg")
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir(), docs)
    out = tmp_path / "out"
    processes = [
        subprocess.Popen(
            [str(MLKG), "build", "--docs", str(docs), "--out", str(out), "--no-cache", "-q"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(5)
    ]
    results = []
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        results.append((process.returncode, stderr))
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3, 3, 3, 3], results
    for code, stderr in results:
        if code == 3:
            assert stderr.startswith("mlkg: error: another build of")
            assert stderr.count("\n") == 1 and "Traceback" not in stderr
    check_complete(out)


# ------------------------------------------------------------------------------------------------
# Rebuilds start from the previous build's store


def store_lines(out: Path) -> list[bytes]:
    """Return the triples of a build's store as sorted N-Triples lines."""
    import pyoxigraph

    store = pyoxigraph.Store.read_only(str(out / STORE_DIR))
    data = store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=pyoxigraph.DefaultGraph())
    return sorted((data or b"").splitlines())


def turtle_lines(out: Path) -> list[bytes]:
    """Return the triples of a build's Turtle file as sorted N-Triples lines."""
    import pyoxigraph

    triples = pyoxigraph.parse(path=str(out / GRAPH_FILE), format=pyoxigraph.RdfFormat.TURTLE)
    return sorted(pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES).splitlines())


@pytest.fixture()
def store_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record how each build writes its store: ``"bulk"`` or ``"derived"``."""
    import mlkg.build

    calls: list[str] = []
    bulk, derive = mlkg.build.write_store, mlkg.build.derive_store

    def record_bulk(*args: object) -> int:
        calls.append("bulk")
        return bulk(*args)  # type: ignore[arg-type]

    def record_derive(*args: object) -> None:
        calls.append("derived")
        derive(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mlkg.build, "write_store", record_bulk)
    monkeypatch.setattr(mlkg.build, "derive_store", record_derive)
    return calls


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: (d / "c.md").write_text(DOC_C), id="document added"),
        pytest.param(lambda d: (d / "b.txt").unlink(), id="document removed"),
        pytest.param(
            lambda d: (d / "a.md").write_text(DOC_A.replace("SQL", "Rust")), id="document edited"
        ),
    ],
)
def test_a_rebuild_derives_the_store_that_a_cold_build_writes(
    tmp_path: Path, docs: Path, store_writes: list[str], edit: Any
) -> None:
    out = tmp_path / "out"
    for seed in corpus_dir().iterdir():  # enough unchanged triples for a rebuild to reuse the store
        if seed.suffix in (".md", ".txt"):
            shutil.copy(seed, docs / seed.name)
    build([docs], out)
    edit(docs)
    build([docs], out)
    assert store_writes[-1] == "derived"
    cold = tmp_path / "cold"
    build([docs], cold, use_cache=False)
    assert store_writes[-1] == "bulk"
    assert store_lines(out) == store_lines(cold) == turtle_lines(out)
    assert (out / GRAPH_FILE).read_bytes() == (cold / GRAPH_FILE).read_bytes()
    check_complete(out)


def test_an_unchanged_graph_reuses_the_turtle_file_and_the_store(
    tmp_path: Path, docs: Path, store_writes: list[str]
) -> None:
    out = tmp_path / "out"
    build([docs], out)
    first = out.resolve()
    summary = build([docs], out, force=True)
    assert out.resolve() != first  # a new build is published, with a fresh build.json
    assert store_writes == ["bulk", "derived"]
    assert os.stat(out / GRAPH_FILE).st_ino == os.stat(first / GRAPH_FILE).st_ino
    assert store_lines(out) == store_lines(first)
    assert read_summary(out)["graph_digest"] == summary.graph_digest != ""


def test_a_build_whose_state_is_not_of_the_published_graph_writes_the_whole_store(
    tmp_path: Path, docs: Path, store_writes: list[str]
) -> None:
    out = tmp_path / "out"
    build([docs], out)
    (docs / "c.md").write_text(DOC_C)
    build([docs], out, validate=False)  # starts from the first build; no check, so no new state
    (docs / "d.md").write_text(DOC_C.replace("Data Analyst", "Data Engineer"))
    build([docs], out)  # the state is of the first graph, but the second one is published
    assert store_writes == ["bulk", "derived", "bulk"]
    check_complete(out)
    assert store_lines(out) == turtle_lines(out)


def test_derived_stores_do_not_pile_up_rocksdb_logs(
    tmp_path: Path, store_writes: list[str]
) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir(), docs)
    out = tmp_path / "out"
    for name in ("x", "y", "z"):
        build([docs], out)
        (docs / f"{name}.md").write_text(DOC_C.replace("Data Analyst", f"{name.upper()} Analyst"))
    build([docs], out)
    assert store_writes == ["bulk", "derived", "derived", "derived"]
    logs = [p.name for p in (out / STORE_DIR).iterdir() if p.name.startswith("LOG")]
    assert len(logs) <= 2, logs


def test_extraction_on_several_processes_gives_the_same_graph(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir(), docs)
    for index in range(6):  # more than 8 documents, so the extraction runs on a process pool
        (docs / f"extra-{index}.md").write_text(
            DOC_C.replace("Data Analyst", f"Data Analyst {index}")
        )
    alone = build([docs], tmp_path / "alone", jobs=1, use_cache=False)
    shared = build([docs], tmp_path / "shared", jobs=2, use_cache=False)
    assert len(alone.documents) > 8
    assert (tmp_path / "alone" / GRAPH_FILE).read_bytes() == (
        tmp_path / "shared" / GRAPH_FILE
    ).read_bytes()
    assert shared.triples == alone.triples


# --- nothing changed: the build is left as it is -------------------------------------------


def _no_extraction(monkeypatch: pytest.MonkeyPatch) -> None:
    import mlkg.extract

    def refuse(self: object, document: object) -> None:
        raise AssertionError("extracted although nothing changed")

    monkeypatch.setattr(mlkg.extract.Extractor, "extract", refuse)


def test_an_unchanged_corpus_leaves_the_build_as_it_is(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    first = build([docs], out)
    published = out.resolve()
    before = snapshot(out)
    _no_extraction(monkeypatch)
    again = build([docs], out)
    assert again.up_to_date and not first.up_to_date
    assert out.resolve() == published and snapshot(out) == before
    assert again.cached == len(again.documents) == 2
    assert {**again.to_json(), "seconds": 0, "cached": 0} == {
        **first.to_json(),
        "seconds": 0,
        "cached": 0,
    }
    assert "up_to_date" not in read_summary(out)


def test_a_changed_document_is_not_up_to_date(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "out"
    build([docs], out)
    (docs / "a.md").write_text((docs / "a.md").read_text() + "\nThey also use Rust.\n")
    assert not build([docs], out).up_to_date
    (docs / "c.md").write_text(DOC_C)  # a new document
    assert not build([docs], out).up_to_date
    (docs / "c.md").unlink()  # a document gone
    assert not build([docs], out).up_to_date
    assert build([docs], out).up_to_date


def test_a_build_without_the_check_is_not_up_to_date_for_a_checked_one(
    tmp_path: Path, docs: Path
) -> None:
    out = tmp_path / "out"
    build([docs], out, validate=False)
    assert build([docs], out, validate=False).up_to_date
    checked = build([docs], out)
    assert not checked.up_to_date and read_summary(out)["validated"] is True
    assert build([docs], out, validate=False).up_to_date  # checked already


def test_a_build_missing_its_store_is_made_again(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "out"
    build([docs], out)
    shutil.rmtree(out / STORE_DIR)
    assert not build([docs], out).up_to_date
    assert (out / STORE_DIR).is_dir()


def test_force_and_no_cache_build_again(tmp_path: Path, docs: Path) -> None:
    out = tmp_path / "out"
    build([docs], out)
    assert not build([docs], out, force=True).up_to_date
    assert not build([docs], out, use_cache=False).up_to_date


def test_the_inputs_digest_covers_the_ontology_folder_and_the_extractor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlkg.resources
    from mlkg.build import BuildSummary, inputs_digest
    from mlkg.documents import read_documents
    from mlkg.resources import ontology_dir

    documents = read_documents([corpus_dir()]).documents
    summary = BuildSummary(out="x")
    digest = inputs_digest(documents, "extractor 1", summary)
    assert digest == inputs_digest(documents, "extractor 1", summary)
    assert digest != inputs_digest(documents, "extractor 2", summary)
    assert digest != inputs_digest(documents[::-1], "extractor 1", summary)
    summary.skipped = [{"file": "x.pdf", "reason": "not a document"}]
    assert digest != inputs_digest(documents, "extractor 1", summary)
    summary.skipped = []
    import dataclasses

    for name in ("title", "origin", "primary_role_hint"):  # what a manifest gives
        changed = [dataclasses.replace(documents[0], **{name: "Another"}), *documents[1:]]
        assert digest != inputs_digest(changed, "extractor 1", summary), name
    import mlkg.build

    monkeypatch.setattr(mlkg.build, "code_digest", lambda: b"other code")
    assert digest != inputs_digest(documents, "extractor 1", summary)
    monkeypatch.undo()
    copy = tmp_path / "ontology"
    shutil.copytree(ontology_dir(), copy)
    monkeypatch.setattr(mlkg.resources, "ontology_dir", lambda: copy)
    assert digest == inputs_digest(documents, "extractor 1", summary)
    shapes = copy / "shapes.ttl"
    shapes.write_text(shapes.read_text() + "\n# a comment\n")
    assert digest != inputs_digest(documents, "extractor 1", summary)


def test_the_code_digest_covers_the_libraries_and_is_taken_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib import metadata

    from mlkg.build import code_digest

    first = code_digest()
    assert code_digest() is first  # the code in memory: taken once per process
    real_version = metadata.version
    monkeypatch.setattr(
        metadata, "version", lambda name: "9.9" if name == "pyshifty" else real_version(name)
    )
    code_digest.cache_clear()
    try:
        assert code_digest() != first  # another SHACL engine
    finally:
        monkeypatch.undo()
        code_digest.cache_clear()
    assert code_digest() == first


def test_strict_fails_on_an_up_to_date_build_that_skipped_a_document(
    tmp_path: Path, docs: Path
) -> None:
    out = tmp_path / "out"
    (docs / "z.md").write_text("Some notes about the weather, with nothing else in them.\n")
    build([docs], out)
    with pytest.raises(BuildError, match=r"z\.md: .*--strict"):
        build([docs], out, strict=True)


@pytest.mark.parametrize(
    "edit",
    [
        {"documents": 5},
        {"validated": "no"},
        {"entities": {"Role": "two"}},
        {"skipped": "none"},
        {"inputs": None},
    ],
)
def test_a_build_json_that_is_not_a_builds_means_building_again(
    tmp_path: Path, docs: Path, edit: dict[str, Any]
) -> None:
    out = tmp_path / "out"
    build([docs], out)
    path = out / SUMMARY_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    summary = build([docs], out)
    assert not summary.up_to_date
    assert build([docs], out).up_to_date


def test_an_up_to_date_build_names_the_folder_as_given(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build([docs], tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    summary = build([docs], "out")
    assert summary.up_to_date and summary.out == "out"
