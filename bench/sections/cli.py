"""Section 4 (CLI): wall time of fresh ``mlkg`` processes on the seed build, and heavy imports."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from bench.harness import (
    Context,
    Section,
    first_error_line,
    mlkg_command,
    run_process,
    show_command,
)
from bench.sections.build import build_argv, build_available

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")
HEAVY = (
    "rdflib",
    "pyoxigraph",
    "oxrdflib",
    "networkx",
    "pyvis",
    "jinja2",
    "spacy",
    "numpy",
    "shifty",
    "pyshacl",
    "ahocorasick",
    "rich",
)


def seed_build_dir(ctx: Context) -> tuple[Path, str]:
    """Return a build folder of the five bundled documents (or of the fixture graph) and its kind.

    Built once per run and shared between sections.
    """
    if "seed_build" in ctx.shared:
        return ctx.shared["seed_build"]
    from mlkg.resources import corpus_dir

    out = ctx.work / "seed-build"
    kind = "seed build of the five bundled documents"
    if build_available() is None:
        res = run_process(build_argv(corpus_dir(), out, None))
        if res.returncode != 0:
            kind = f"fixture graph (seed build failed: {first_error_line(res)})"
    else:
        kind = f"fixture graph (no build yet: {build_available()})"
    if not kind.startswith("seed"):
        from mlkg.store import GRAPH_FILE, STORE_DIR, write_store

        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        fixture = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "small-graph.ttl"
        shutil.copy(fixture, out / GRAPH_FILE)
        write_store(out / GRAPH_FILE, out / STORE_DIR)
    ctx.shared["seed_build"] = (out, kind)
    return out, kind


def route_pair(build_dir: Path) -> tuple[str, str] | None:
    """Return the labels of two roles joined by a progressesTo chain of 1-2 steps, if any."""
    from mlkg.store import open_graph

    graph = open_graph(build_dir)
    rows = list(
        graph.query(
            """PREFIX mlkg: <https://w3id.org/mlkg/ontology#>
            PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
            SELECT ?la ?lb (COUNT(?m) AS ?n) WHERE {
              ?a mlkg:progressesTo ?m . ?m mlkg:progressesTo? ?b .
              ?a a mlkg:Role ; skos:prefLabel ?la . ?b a mlkg:Role ; skos:prefLabel ?lb .
              FILTER(?a != ?b)
            } GROUP BY ?la ?lb ORDER BY DESC(?n) ?la ?lb LIMIT 1"""
        )
    )
    if not rows:
        return None
    return str(rows[0][0]), str(rows[0][1])


def time_command(ctx: Context, argv: list[str], runs: int) -> tuple[list[float], str]:
    """Return wall times of ``argv`` as fresh processes (hyperfine if present) and the tool."""
    hyperfine = shutil.which("hyperfine")
    if hyperfine:
        export = ctx.work / "hyperfine.json"
        proc = subprocess.run(
            [
                hyperfine,
                "-N",
                "--warmup",
                "1",
                "--runs",
                str(runs),
                "-i",
                "--style",
                "none",
                "--export-json",
                str(export),
                shlex.join(argv),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode == 0 and export.is_file():
            times: list[float] = json.loads(export.read_text())["results"][0]["times"]
            return times, "hyperfine -N"
    run_process(argv)  # warm-up
    return [run_process(argv).wall for _ in range(runs)], "subprocess"


def run(ctx: Context, section: Section) -> None:
    """Time ``mlkg --help``, ``mlkg query roles`` and ``mlkg path A B``; list heavy imports."""
    build_dir, kind = seed_build_dir(ctx)
    section.notes.append(f"graph: {kind}")
    pair = route_pair(build_dir) or ("Data Scientist", "Research Scientist")
    mlkg = mlkg_command()
    commands = [
        ("mlkg --help", [*mlkg, "--help"], 0.15),
        ("mlkg query roles", [*mlkg, "query", "roles", "--graph", str(build_dir)], 0.5),
        ("mlkg path A B", [*mlkg, "path", pair[0], pair[1], "--graph", str(build_dir)], 0.6),
    ]
    runs = ctx.repeats(20, 5)
    for name, argv, goal in commands:
        shown = show_command(argv, ctx.work)
        check = run_process(argv, timeout=120)
        if check.returncode != 0:
            section.missing(name, f"fails: {first_error_line(check)}")
            section.target(f"{name} wall", None, "<=", goal, "s", note=first_error_line(check))
            continue
        times, tool = time_command(ctx, argv, runs)
        fig = section.figure(f"{name}: wall ({tool})", times, "s", percentiles=(50, 95))
        section.target(f"{name} wall (median)", fig["median"], "<=", goal, "s")
        section.commands.append(shown)
    # heavy imports of the CLI entry point
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import mlkg.cli"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    section.commands.append('python -X importtime -c "import mlkg.cli"')
    rows = []  # (cumulative us, self us, module, nesting level)
    for line in proc.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            self_us, cumulative, indent, module = match.groups()
            rows.append((int(cumulative), int(self_us), module, len(indent) // 2))
    top_level = [r for r in rows if r[3] == 0]
    total = max((r[0] for r in top_level), default=0)
    top = sorted(top_level, reverse=True)[:8]
    section.figure(
        "import mlkg.cli: import time (sum of top-level imports)",
        sum(r[0] for r in top_level) / 1000,
        "ms",
    )
    heavy = sorted({r[2].split(".")[0] for r in rows} & set(HEAVY))
    section.notes.append(
        "heavy libraries imported by `import mlkg.cli`: " + (", ".join(heavy) or "none")
    )
    section.notes.append(
        "largest top-level imports of `import mlkg.cli` (cumulative ms): "
        + ", ".join(f"{m} {c / 1000:.1f}" for c, _, m, _ in top)
        + f" (largest {total / 1000:.1f} ms)"
    )
