"""The benchmark harness works: generators are deterministic and well-formed, and a tiny version of
every section runs to the end (no timing thresholds here; those live in ``python -m bench.run``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `bench` is a top-level folder, not part of the mlkg package
    sys.path.insert(0, str(ROOT))

from bench import generate  # noqa: E402
from bench.harness import Context, Section, percentile, run_section, summarize  # noqa: E402

ONT = "https://w3id.org/mlkg/ontology#"


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private generator cache, so tests never touch bench/.cache."""
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setattr(generate, "CACHE_DIR", folder)
    return folder


def tiny_context(tmp_path: Path, cache: Path) -> Context:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return Context(quick=True, tiny=True, work=work, cache=cache, log=lambda _: None)


# ---------------------------------------------------------------------------- generators


def test_vocabulary_has_thousands_of_terms_and_keeps_real_ones() -> None:
    vocab = generate.make_vocabulary(seed=3)
    real = generate.make_vocabulary(seed=3, generated=False)
    assert len(vocab.terms("tool")) >= 1000
    assert len(vocab.terms("skill")) >= 1000
    assert set(real.terms("tool")) <= set(vocab.terms("tool"))
    assert generate.make_vocabulary(seed=3).entries == vocab.entries
    labels = vocab.all_labels()
    assert len(labels) == len(set(labels))
    preferred = [label.lower() for kind in vocab.entries for label in vocab.terms(kind)]
    assert len(preferred) == len(set(preferred))  # no two concepts share a preferred label


def test_vocabulary_file_loads_with_the_product_loader(tmp_path: Path) -> None:
    pytest.importorskip("mlkg.vocabulary")
    from mlkg.vocabulary import load_vocabulary

    vocab = generate.make_vocabulary(seed=1)
    path = generate.write_vocabulary(vocab, tmp_path / "vocabulary.ttl")
    loaded = load_vocabulary(path)
    labels = {t.label for t in loaded.terms.values()}
    assert set(vocab.terms("tool")) <= labels
    assert len(loaded.terms) >= vocab.size() - 5  # a rare slug clash may merge two labels


def test_corpus_is_deterministic_and_in_both_layouts(tmp_path: Path) -> None:
    vocab = generate.make_vocabulary(seed=7)
    first = generate.write_corpus(tmp_path / "a", 6, seed=7, vocab=vocab)
    second = generate.write_corpus(tmp_path / "b", 6, seed=7, vocab=vocab)
    assert [p.name for p in first] == [p.name for p in second]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    guides = [p for p in first if p.suffix == ".txt"]
    postings = [p for p in first if p.suffix == ".md"]
    assert guides and postings
    guide = guides[0].read_text()
    assert "\nRequired Skills\n" in guide and "\n- " in guide
    assert "Career Progression" in guide and "Salary Ranges (US Market, 2024)" in guide
    posting = postings[0].read_text()
    assert posting.startswith("# ") and "## Minimum qualifications" in posting
    assert "$" in posting


def test_graph_follows_the_data_model(tmp_path: Path) -> None:
    import pyoxigraph as ox

    info = generate.write_graph(tmp_path / "g.nt", triples=20_000, seed=5)
    assert 20_000 <= info.triples < 20_000 + 2_500  # stops after the ladder that reaches it
    again = generate.write_graph(tmp_path / "h.nt", triples=20_000, seed=5)
    assert (tmp_path / "g.nt").read_bytes() == (tmp_path / "h.nt").read_bytes()
    assert again.triples == info.triples
    store = ox.Store()
    store.bulk_load(path=str(tmp_path / "g.nt"), format=ox.RdfFormat.N_TRIPLES)
    assert len(store) == info.triples  # no duplicate lines

    def ask(where: str) -> bool:
        prefixes = (
            f"PREFIX mlkg: <{ONT}> PREFIX prov: <http://www.w3.org/ns/prov#> "
            "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        )
        return bool(store.query(prefixes + f"ASK {{ {where} }}"))

    # every relation triple has a reified fact with evidence quoted from a document
    assert ask(
        "?f rdf:subject ?s ; rdf:predicate mlkg:usesTool ; rdf:object ?o ; "
        "prov:wasDerivedFrom ?e . ?e prov:value ?v ; prov:wasQuotedFrom ?d . "
        "?d a mlkg:Document . ?s mlkg:usesTool ?o"
    )
    assert not ask(
        "?s mlkg:requiresSkill ?o FILTER NOT EXISTS { ?f rdf:subject ?s ; "
        "rdf:predicate mlkg:requiresSkill ; rdf:object ?o }"
    )
    assert ask("?a mlkg:progressesTo ?b . ?b mlkg:progressesTo ?c . ?a a mlkg:Role")
    assert ask("?r mlkg:hasSalary ?s . ?s <https://schema.org/minValue> ?min")
    assert not ask("?e a mlkg:Role FILTER NOT EXISTS { ?e skos:prefLabel ?l }")
    # the statistics a build writes, consistent with the links
    assert not ask(
        "?e mlkg:documentCount ?n . "
        "{ SELECT ?e (COUNT(?d) AS ?m) WHERE { ?e mlkg:mentionedIn ?d } GROUP BY ?e } "
        "FILTER(?n != ?m)"
    )
    assert ask("?s mlkg:roleCount ?n FILTER(?n > 1)")
    # and, like a build, it conforms to the shapes
    from mlkg.validate import validate_data

    report = validate_data((tmp_path / "g.nt").read_bytes())
    assert report.conforms, report.summary(limit=5)
    ladder = info.ladder
    assert len(ladder) == 5 and all(
        iri.startswith("https://w3id.org/mlkg/id/role/") for iri in ladder
    )


def test_role_profile_graph_has_the_requested_roles(tmp_path: Path) -> None:
    info = generate.write_graph(tmp_path / "r.nt", roles=40, seed=1, profile="roles")
    assert info.roles == 40
    text = (tmp_path / "r.nt").read_text()
    assert "progressesTo" in text and "rdf-syntax-ns#Statement" not in text


def test_graph_needs_exactly_one_size() -> None:
    with pytest.raises(ValueError):
        generate.write_graph(Path("/nonexistent"), seed=1)


def test_cached_corpus_is_reused(cache: Path) -> None:
    first = generate.cached_corpus(4, seed=2)
    stamp = sorted(p.stat().st_mtime_ns for p in first.iterdir())
    assert generate.cached_corpus(4, seed=2) == first
    assert sorted(p.stat().st_mtime_ns for p in first.iterdir()) == stamp
    assert len(list(first.iterdir())) == 4  # no marker file inside the corpus folder


# ---------------------------------------------------------------------------- harness


def test_summaries_and_percentiles() -> None:
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    stats = summarize([3.0, 1.0, 2.0], percentiles=(50, 95))
    assert (stats["min"], stats["median"], stats["max"], stats["n"]) == (1.0, 2.0, 3.0, 3)
    assert stats["p50"] == 2.0


def test_a_crashing_section_is_recorded_not_raised(tmp_path: Path, cache: Path) -> None:
    def broken(ctx: Context, section: Section) -> None:
        raise RuntimeError("boom")

    section = run_section("x", "X", broken, tiny_context(tmp_path, cache))
    assert section.status == "error: RuntimeError: boom"


def test_named_query_parameters_are_read_from_the_header() -> None:
    from bench.sections.query import bind_text, parse_params

    assert parse_params("#+ params: none\nSELECT") == []
    assert parse_params("#+ params: role_a (the role: a label), role_b (the other)\n") == [
        "role_a",
        "role_b",
    ]
    text = bind_text("SELECT ?x WHERE { ?role ?p ?x }", {"role": "https://w3id.org/mlkg/id/role/a"})
    assert "VALUES" in text and "<https://w3id.org/mlkg/id/role/a>" in text


# ---------------------------------------------------------------------------- tiny runs


def _run(name: str, tmp_path: Path, cache: Path) -> Section:
    from bench.run import SECTIONS

    title, func = SECTIONS[name]
    section = run_section(name, title, func, tiny_context(tmp_path, cache))
    assert not section.status.startswith("error"), (section.status, section.notes)
    return section


def _names(section: Section) -> str:
    return "\n".join(f"{f['name']}: {f.get('status', f.get('median'))}" for f in section.figures)


def test_tiny_query_section(tmp_path: Path, cache: Path) -> None:
    section = _run("query", tmp_path, cache)
    if section.status == "ok":
        names = _names(section)
        assert "load @ 2k: ours" in names and "load @ 2k: rdflib" in names
        assert "@ 2k: ours" in names and "@ 2k: rdflib" in names
        assert "top-skills @ 2k: mlkg query path (worker process)" in names
        user_path = [f for f in section.figures if "mlkg query path" in f["name"]]
        assert len(user_path) == 5 and all("median" in f for f in user_path), user_path


def test_tiny_build_section(tmp_path: Path, cache: Path) -> None:
    section = _run("build", tmp_path, cache)
    names = _names(section)
    assert "spaCy" in names or "spacy" in names
    assert "VocabularyMatcher" in names or "extraction" in names


def test_tiny_incremental_section(tmp_path: Path, cache: Path) -> None:
    _run("incremental", tmp_path, cache)


def test_tiny_cli_section(tmp_path: Path, cache: Path) -> None:
    section = _run("cli", tmp_path, cache)
    assert "mlkg --help" in _names(section)
    assert any("import mlkg.cli" in f["name"] for f in section.figures)


def test_tiny_paths_section(tmp_path: Path, cache: Path) -> None:
    _run("paths", tmp_path, cache)


@pytest.mark.browser
def test_tiny_viz_section(tmp_path: Path, cache: Path) -> None:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("needs headless Chromium (apt-get install -y chromium)")
    _run("viz", tmp_path, cache)


def test_tiny_serve_section(tmp_path: Path, cache: Path) -> None:
    _run("serve", tmp_path, cache)


def test_the_benchmarked_server_is_never_blocked_by_its_request_log(
    tmp_path: Path, cache: Path, small_build_dir: Path
) -> None:
    """Each request logs a line: more than a pipe holds (64 KiB) must still be answered."""
    import tempfile
    import time

    from bench.harness import free_port
    from bench.sections import serve

    ctx = tiny_context(tmp_path, cache)
    port = free_port()
    with tempfile.TemporaryFile(dir=tmp_path) as log:
        proc, _ = serve._start(ctx, str(small_build_dir), port, log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if serve._get(port, "/", timeout=5)[0] == 200:
                        break
                except OSError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
            for _ in range(10_000):  # until the log holds more than a pipe would
                assert serve._get(port, "/", timeout=5)[0] == 200
                if os.fstat(log.fileno()).st_size > 80_000:
                    break
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        assert os.fstat(log.fileno()).st_size > 80_000


def _need_virtuoso() -> None:
    """Skip (or fail, under MLKG_REQUIRE_VIRTUOSO=1) when Virtuoso is not installed."""
    from bench.sections.virtuoso import missing_tools

    reason = missing_tools()
    if reason:
        if os.environ.get("MLKG_REQUIRE_VIRTUOSO") == "1":
            pytest.fail(f"MLKG_REQUIRE_VIRTUOSO=1 but {reason}")
        pytest.skip(reason)


def _alive(pid: int) -> bool:
    """Return True if ``pid`` is a running process (a zombie waiting to be reaped is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.virtuoso
def test_tiny_virtuoso_section(tmp_path: Path, cache: Path) -> None:
    from bench.sections.query import NAMED

    _need_virtuoso()
    section = _run("virtuoso", tmp_path, cache)
    assert section.status == "ok", section.status
    measured = {f["name"]: f for f in section.figures if not f.get("status")}
    for method in ("gsp", "update"):
        push = next(f for name, f in measured.items() if name.endswith(f"({method})"))
        assert push["unit"] == "triples/s" and push["median"] > 0
        assert push["triples"] >= 2000
    for name in NAMED:
        embedded, remote = measured[f"{name} @ 2k: embedded"], measured[f"{name} @ 2k: virtuoso"]
        assert "p50" in embedded and "p50" in remote
        assert embedded["rows"] == remote["rows"] > 0
    assert any("Version 7." in note or "virtuoso-opensource" in note for note in section.notes)
    assert not (tmp_path / "work" / "virtuoso").exists()  # stopped, its folder removed


@pytest.mark.virtuoso
def test_virtuoso_is_stopped_when_the_section_fails(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.run import SECTIONS
    from bench.sections import virtuoso

    _need_virtuoso()
    pids: list[int] = []

    def broken(ctx: Context, section: Section, server: virtuoso.Server, *args: object) -> None:
        pids.append(int(Path(server.env["MLKG_VIRTUOSO_DIR"], "virtuoso.pid").read_text()))
        raise RuntimeError("push broke")

    monkeypatch.setattr(virtuoso, "measure_push", broken)
    title, func = SECTIONS["virtuoso"]
    section = run_section("virtuoso", title, func, tiny_context(tmp_path, cache))
    assert section.status == "error: RuntimeError: push broke"
    assert pids and not _alive(pids[0])
    assert not (tmp_path / "work" / "virtuoso").exists()


def test_virtuoso_section_without_virtuoso(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    section = _run("virtuoso", tmp_path, cache)
    assert section.status.startswith("not available: virtuoso-t and isql-vt not installed")
    assert not section.figures


def test_run_writes_json_and_markdown(tmp_path: Path, cache: Path) -> None:
    from bench.run import main

    out_json, out_md = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    args = [
        "--tiny",
        "--only",
        "query",
        "--json",
        str(out_json),
        "--markdown",
        str(out_md),
        "--cache",
        str(cache),
    ]
    assert main(args) == 0
    results = json.loads(out_json.read_text())
    assert results["machine"]["cores"] >= 1 and results["machine"]["python"]
    assert "rdflib" in results["machine"]["packages"]
    assert set(results["sections"]) == {"query"}
    for figure in results["sections"]["query"]["figures"]:
        assert "status" in figure or {"min", "median", "max"} <= set(figure)
    text = out_md.read_text()
    assert (
        text.startswith("# Benchmarks") and "## Targets" in text and "python -m bench.run" in text
    )
    assert main(["--only", "nope", "--json", str(out_json), "--markdown", str(out_md)]) == 2


def test_peak_rss_is_the_commands_own_not_the_benchmarks(tmp_path: Path) -> None:
    """A child forked from a large process reports its own peak, and its children's count."""
    from bench.harness import run_process

    ballast = bytearray(400 * 1024 * 1024)  # the benchmark process holding a large graph
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    small = run_process([sys.executable, "-c", "pass"])
    assert small.max_rss_mb < 200
    script = tmp_path / "grandchild.py"
    script.write_text(
        "import multiprocessing, time\n"
        "def grow():\n"
        "    block = bytearray(250 * 1024 * 1024)\n"
        "    for i in range(0, len(block), 4096):\n"
        "        block[i] = 1\n"
        "    time.sleep(0.2)\n"
        "if __name__ == '__main__':\n"
        "    worker = multiprocessing.get_context('spawn').Process(target=grow)\n"
        "    worker.start()\n"
        "    worker.join()\n",
        encoding="utf-8",
    )
    grown = run_process([sys.executable, str(script)])
    assert grown.returncode == 0
    assert 250 < grown.max_rss_mb < 400
    del ballast
