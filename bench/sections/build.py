"""Section 2 (build) and the incremental rebuild: throughput, memory, and the spaCy baseline."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench import generate
from bench.harness import (
    Context,
    ProcessResult,
    Section,
    first_error_line,
    has_attr,
    mlkg_command,
    run_process,
    show_command,
)


def corpus_sizes(ctx: Context) -> list[int]:
    """Return the corpus sizes the build is measured on in this mode."""
    if ctx.tiny:
        return [5]
    sizes = [20] if ctx.quick else [100, 1000, 10000]
    return sorted({ctx.docs(size) for size in sizes})


def build_argv(docs: Path, out: Path, jobs: int | None) -> list[str]:
    """Return the command that builds ``docs`` into ``out`` (the CLI, else the Python API)."""
    if importlib.util.find_spec("mlkg.cli.build") is not None:
        argv = [*mlkg_command(), "build", "--docs", str(docs), "--out", str(out)]
        return [*argv, "--jobs", str(jobs)] if jobs else argv
    call = f"build([Path({str(docs)!r})], Path({str(out)!r})" + (f", jobs={jobs})" if jobs else ")")
    return [sys.executable, "-c", f"from pathlib import Path; from mlkg.build import build; {call}"]


def build_available() -> str | None:
    """Return None if a build can run, else why not."""
    return has_attr("mlkg.build", "build")


def remove_build(out: Path) -> None:
    """Remove a build folder, which the build may have made a symlink to a staging folder."""
    if out.is_symlink():
        target = out.resolve()
        out.unlink()
        shutil.rmtree(target, ignore_errors=True)
    elif out.exists():
        remove_build(out)
    for sibling in out.parent.glob(f".{out.name}*"):  # staging / lock / history folders
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)


def run_build(ctx: Context, docs: Path, out: Path, jobs: int | None) -> ProcessResult:
    """Build ``docs`` into a fresh ``out`` in a child process; return its measurements."""
    remove_build(out)
    argv = build_argv(docs, out, jobs)
    ctx.shared.setdefault("build_commands", set()).add(show_command(argv, ctx.work))
    return run_process(argv, timeout=3600)


def _corpus_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.suffix in {".txt", ".md"})


def run(ctx: Context, section: Section) -> None:
    """Measure extraction against spaCy, then ``mlkg build`` throughput and memory."""
    extraction(ctx, section)
    reason = build_available()
    if reason:
        section.missing("mlkg build", reason)
        section.notes.append(f"build not measured: {reason}")
        return
    seed_build(ctx, section)
    cores = len(__import__("os").sched_getaffinity(0))
    jobs_list = [1] if cores == 1 else [1, cores]
    if ctx.max_docs and not ctx.quick and not ctx.tiny:
        for size in (100, 1000, 10000):
            if size > ctx.max_docs:
                section.missing(f"build {size:,} docs", f"not run (--max-docs {ctx.max_docs})")
    previous: dict[int, tuple[int, float]] = {}  # jobs -> (documents, seconds) last built
    for size in corpus_sizes(ctx):
        docs = generate.cached_corpus(size, ctx.seed)
        mb = _corpus_bytes(docs) / 1e6
        for jobs in jobs_list:
            label = f"build {size:,} docs, {jobs} core{'s' if jobs > 1 else ''}"
            last = previous.get(jobs)
            if last is not None and last[1] * size / last[0] > (600 if ctx.quick else 900):
                section.missing(label, f"not run (too slow: {last[1]:.0f} s at {last[0]:,} docs)")
                continue
            repeats = ctx.repeats(3 if size <= 100 else 1, 1)
            results = []
            for _ in range(repeats):
                res = run_build(ctx, docs, ctx.work / "build-out", jobs)
                if res.returncode != 0:
                    section.missing(label, f"failed: {first_error_line(res)}")
                    break
                results.append(res)
            if not results:
                continue
            walls = [r.wall for r in results]
            previous[jobs] = (size, min(walls))
            section.figure(f"{label}: wall", walls, "s")
            section.figure(f"{label}: documents/s", [size / w for w in walls], "docs/s")
            section.figure(
                f"{label}: MB/s", [mb / w for w in walls], "MB/s", corpus_mb=round(mb, 2)
            )
            section.figure(f"{label}: peak RSS", [r.max_rss_mb for r in results], "MB")
            section.figure(f"{label}: CPU time", [r.cpu for r in results], "s")
    remove_build(ctx.work / "build-out")
    section.commands.extend(sorted(ctx.shared.get("build_commands", ())))


def seed_build(ctx: Context, section: Section) -> None:
    """Time ``mlkg build`` of the five bundled documents, start-up included (target <= 1 s)."""
    from mlkg.resources import corpus_dir

    walls = []
    for _ in range(ctx.repeats(5, 2)):
        res = run_build(ctx, corpus_dir(), ctx.work / "seed-out", None)
        if res.returncode != 0:
            section.missing("build of the 5 bundled documents", f"failed: {first_error_line(res)}")
            section.target(
                "build of the 5 bundled documents (wall, start-up included)",
                None,
                "<=",
                1.0,
                "s",
                note=first_error_line(res),
            )
            return
        walls.append(res.wall)
    fig = section.figure("build of the 5 bundled documents: wall (fresh process)", walls, "s")
    section.target(
        "build of the 5 bundled documents (wall, start-up included)", fig["median"], "<=", 1.0, "s"
    )
    remove_build(ctx.work / "seed-out")


def bench_vocabulary_file(ctx: Context) -> Path:
    """Write (once) the benchmark vocabulary: the real one plus thousands of generated terms."""
    path = ctx.cache / f"vocabulary-s{ctx.seed}-v{generate.vocabulary_digest()}.ttl"
    if not path.is_file():
        generate.write_vocabulary(generate.make_vocabulary(ctx.seed), path.with_suffix(".tmp"))
        path.with_suffix(".tmp").rename(path)
    return path


def extraction(ctx: Context, section: Section) -> None:
    """Extraction-only throughput of mlkg (one core) against spaCy's PhraseMatcher."""
    reason = has_attr("mlkg.vocabulary", "load_vocabulary") or has_attr(
        "mlkg.documents", "read_document"
    )
    if reason:
        section.missing("extraction", reason)
        return
    from mlkg.documents import read_document
    from mlkg.vocabulary import load_vocabulary

    size = 5 if ctx.tiny else ctx.docs(50 if ctx.quick else 500)
    folder = generate.cached_corpus(size, ctx.seed)
    documents = [read_document(p)[0] for p in sorted(folder.iterdir()) if p.suffix != ""]
    documents = [d for d in documents if d is not None]
    texts = [d.text for d in documents]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    vocab_file = bench_vocabulary_file(ctx)
    vocabulary = load_vocabulary(vocab_file)
    labels = sorted({lab for t in vocabulary.terms.values() for lab in (t.label, *t.alt_labels)})
    section.notes.append(
        f"extraction corpus: {len(texts):,} synthetic documents, {mb:.2f} MB; vocabulary: "
        f"{len(vocabulary.terms):,} concepts, {len(labels):,} labels "
        f"(real terms from {generate.make_vocabulary(ctx.seed, generated=False).source} "
        "plus generated ones)"
    )
    repeats = ctx.repeats(5, 2)
    rates: dict[str, list[float]] = {}

    def measure(name: str, func: Any) -> None:
        func(texts[:2], documents[:2])  # warm-up (lazy imports, caches)
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            count = func(texts, documents)
            samples.append(time.perf_counter() - start)
        rates[name] = [mb / s for s in samples]
        section.figure(f"{name}: MB/s (1 core)", rates[name], "MB/s", matches=count)
        section.figure(f"{name}: documents/s (1 core)", [len(texts) / s for s in samples], "docs/s")

    # ours: the vocabulary matcher alone (same job as the baseline), then full extraction
    if not has_attr("mlkg.extract.matcher", "VocabularyMatcher"):
        from mlkg.extract.matcher import VocabularyMatcher

        start = time.perf_counter()
        matcher = VocabularyMatcher(vocabulary)
        section.figure(
            "mlkg VocabularyMatcher: compile vocabulary", time.perf_counter() - start, "s"
        )
        measure(
            "mlkg VocabularyMatcher.find (matching only)",
            lambda ts, ds: sum(len(matcher.find(t)) for t in ts),
        )
    extract_reason = has_attr("mlkg.extract", "extract_document")
    if extract_reason is None:
        import mlkg.extract
        from mlkg.extract import extract_document

        helper: Any = vocabulary
        if hasattr(mlkg.extract, "Extractor"):  # extract_document(document, extractor)
            start = time.perf_counter()
            helper = mlkg.extract.Extractor(vocabulary)
            section.figure(
                "mlkg Extractor: build from the vocabulary", time.perf_counter() - start, "s"
            )
        measure(
            "mlkg extract_document (full extraction)",
            lambda ts, ds: sum(len(extract_document(d, helper).facts) for d in ds),
        )
    else:
        section.missing("mlkg extract_document (full extraction)", extract_reason)

    # baseline: spaCy PhraseMatcher over the same labels and texts
    spacy_reason = has_attr("spacy", "blank")
    if spacy_reason is None:
        import spacy
        from spacy.matcher import PhraseMatcher

        start = time.perf_counter()
        nlp = spacy.blank("en")
        phrase = PhraseMatcher(nlp.vocab, attr="LOWER")
        phrase.add("TERM", [nlp.make_doc(text) for text in labels])
        section.figure("spaCy PhraseMatcher: compile vocabulary", time.perf_counter() - start, "s")
        measure(
            "spaCy PhraseMatcher baseline (blank('en') tokenizer + match)",
            lambda ts, ds: sum(len(phrase(nlp.make_doc(t))) for t in ts),
        )
    else:
        section.missing("spaCy PhraseMatcher baseline", spacy_reason)
    baseline = next((v for k, v in rates.items() if k.startswith("spaCy")), None)
    if baseline is None:
        return
    import statistics

    base = statistics.median(baseline)
    for name, values in rates.items():
        if name.startswith("spaCy"):
            continue
        ratio = statistics.median(values) / base
        section.figure(f"ratio {name.split(' (')[0]} / spaCy (MB/s)", ratio, "x")
        if "full extraction" in name or ("matching only" in name and extract_reason is not None):
            section.target(
                f"extraction throughput vs spaCy PhraseMatcher ({name.split(':')[0]})",
                ratio,
                ">=",
                3.0,
                "x",
                note="" if "full" in name else "extract_document missing: matcher alone measured",
            )


def incremental(ctx: Context, section: Section) -> None:
    """Rebuild after 1 of N documents changed, against a cold build of the same N."""
    reason = build_available()
    if reason:
        section.unavailable(reason)
        return
    size = 5 if ctx.tiny else ctx.docs(20 if ctx.quick else 1000)
    docs = ctx.work / "inc-docs"
    shutil.rmtree(docs, ignore_errors=True)
    shutil.copytree(generate.cached_corpus(size, ctx.seed), docs)
    out = ctx.work / "inc-out"
    remove_build(out)
    argv = build_argv(docs, out, None)
    section.commands.append(show_command(argv, ctx.work))
    cold = run_process(argv)
    if cold.returncode != 0:
        section.unavailable(f"build failed: {first_error_line(cold)}")
        return
    unchanged = run_process(argv)  # says it is up to date
    # the same, built again: every extraction from the cache (the CLI's --force)
    forced = run_process([*argv, "--force"]) if "-c" not in argv else None
    files = sorted(p for p in docs.iterdir() if p.suffix in {".txt", ".md"})
    changed = []
    last_output = ""
    for i in range(ctx.repeats(1, 1)):
        target = files[(i * 37) % len(files)]
        with target.open("a", encoding="utf-8") as fh:
            fh.write(f"- Experience with PyTorch and statistics (edit {i}).\n")
        res = run_process(argv)
        if res.returncode != 0:
            section.unavailable(f"rebuild failed: {first_error_line(res)}")
            return
        changed.append(res.wall)
        last_output = res.stdout + res.stderr
    section.figure(f"cold build of {size:,} documents", cold.wall, "s")
    section.figure(f"rebuild, nothing changed ({size:,} documents)", unchanged.wall, "s")
    if forced is not None and forced.returncode == 0:
        section.figure(
            f"rebuild with --force, nothing changed ({size:,} documents)", forced.wall, "s"
        )
    fig = section.figure(f"rebuild after 1 of {size:,} documents changed", changed, "s")
    speedup = cold.wall / fig["median"]
    section.figure("speed-up of the 1-changed rebuild over the cold build", speedup, "x")
    cached = re.search(r"(\d+) documents? from cache", last_output)
    if cached:
        section.figure("documents taken from the cache in that rebuild", int(cached[1]), "docs")
    if speedup < 1.5:
        why = (
            f"{cached[1]} of {size:,} documents came from the cache, so the time goes to the "
            "steps after extraction (graph, validation, serialisation, store)"
            if cached
            else "the build did not say it used a cache"
        )
        section.notes.append(f"speed-up only {speedup:.2f}x: {why}")
    remove_build(out)
