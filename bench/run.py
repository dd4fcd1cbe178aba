"""Run the benchmark suite: ``python -m bench.run [--quick] [--only build,query,...]``.

Writes ``bench/results.json`` (machine, versions, date, every figure with min/median/max over
repeats) and ``BENCHMARKS.md`` (readable tables, targets first). ``--only`` re-runs some sections
and keeps the others from the previous ``results.json``. ``--quick`` is the under-two-minutes
variant (smaller sizes, fewer repeats, no rdflib above 100k triples).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import generate
from bench.harness import Context, Section, machine_info, run_section
from bench.report import render
from bench.sections import build, cli, paths, query, serve, virtuoso, viz

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results.json"
REPORT = ROOT / "BENCHMARKS.md"

SECTIONS: dict[str, tuple[str, Callable[[Context, Section], None]]] = {
    "build": ("2. Build: extraction throughput, documents/s, MB/s, peak memory", build.run),
    "incremental": ("2b. Incremental rebuild (1 document changed)", build.incremental),
    "query": ("3. Query: named queries, ours (Oxigraph) vs rdflib in-memory", query.run),
    "virtuoso": (
        "3b. Virtuoso: push throughput and named queries, beside the embedded store",
        virtuoso.run,
    ),
    "cli": ("4. CLI responsiveness (fresh processes)", cli.run),
    "paths": ("5. Paths: routes and the NetworkX view", paths.run),
    "viz": ("6. Visualisation: HTML and time to interactive", viz.run),
    "serve": ("7. Endpoint: mlkg serve under 8 concurrent clients", serve.run),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="the under-two-minutes variant")
    parser.add_argument(
        "--only", default="", help="comma-separated sections: " + ",".join(SECTIONS)
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the synthetic data")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write results.json")
    parser.add_argument("--markdown", type=Path, default=REPORT, help="where to write the report")
    parser.add_argument("--cache", type=Path, default=generate.CACHE_DIR, help="generated data")
    parser.add_argument(
        "--max-docs", type=int, default=None, help="cap the synthetic corpus sizes (build sections)"
    )
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test suite's
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections, write the JSON and Markdown results; return the exit code."""
    args = parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        print(
            f"bench: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}",
            file=sys.stderr,
        )
        return 2
    generate.CACHE_DIR = args.cache
    args.cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="mlkg-bench-"))

    def log(message: str) -> None:
        print(
            f"[bench {time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True
        )

    ctx = Context(
        max_docs=args.max_docs,
        quick=args.quick,
        tiny=args.tiny,
        work=work,
        cache=args.cache,
        seed=args.seed,
        log=log,
    )
    results: dict = {}
    if args.only and args.json.is_file():
        try:
            results = json.loads(args.json.read_text())
        except ValueError:
            results = {}
    command = "python -m bench.run " + shlex.join(argv if argv is not None else sys.argv[1:])
    commands = [c for c in results.get("commands", []) if c != command.strip()]
    results["machine"] = machine_info()
    results["mode"] = "tiny" if args.tiny else ("quick" if args.quick else "full")
    results["commands"] = [*commands, command.strip()]
    sections = results.get("sections", {})

    def save() -> None:
        # written after every section, so an interrupted run still leaves its numbers
        results["sections"] = {k: sections[k] for k in SECTIONS if k in sections}
        results["seconds"] = round(time.perf_counter() - started, 1)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
        args.markdown.write_text(render(results))

    try:
        for name in only:
            title, func = SECTIONS[name]
            log(f"{name} ...")
            section = run_section(name, title, func, ctx)
            log(f"{name}: {section.status} ({section.seconds:.1f} s)")
            sections[name] = section.__dict__
            save()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save()
    log(f"wrote {args.json} and {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
