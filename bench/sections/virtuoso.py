"""Section 3b (virtuoso): push throughput and named-query latency on OpenLink Virtuoso, beside
the embedded Oxigraph store measured the same way in the same run.

The section starts its own throw-away Virtuoso with ``scripts/virtuoso.sh`` (state folder in the
run's scratch folder, loopback ports), pushes the query section's synthetic graph with
:func:`mlkg.push.push` by both methods (SPARQL Update ``INSERT DATA`` and the Graph Store
Protocol), then times the query section's named queries, with the same parameter bindings,
through :func:`mlkg.queries.execute_query` on :func:`mlkg.remote.open_remote` and on
:func:`mlkg.store.open_graph`. The server is stopped (and its folder removed) in every case.
Without ``virtuoso-t`` the section says so and measures nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import generate
from bench.harness import ROOT, Context, Section, has_attr
from bench.sections.query import (
    bind_text,
    bindings_for,
    label,
    load_ours,
    load_queries,
    parse_params,
    record_latency,
    time_query,
)

SCRIPT = ROOT / "scripts" / "virtuoso.sh"
GRAPH = "https://w3id.org/mlkg/bench-graph"
USER, PASSWORD = "dba", "dba"  # the administrator of a fresh Virtuoso database
METHODS = {"gsp": "Graph Store Protocol", "update": "SPARQL Update INSERT DATA"}


def size(ctx: Context) -> int:
    """Return the graph size (triples) measured in this mode."""
    if ctx.tiny:
        return 2000
    return 100_000 if ctx.quick else 1_000_000


def buffers(ctx: Context) -> int:
    """Return Virtuoso's ``NumberOfBuffers`` (8 KiB pages) for this mode.

    ``MLKG_VIRTUOSO_BUFFERS`` wins when set. Otherwise the full run takes the row of Debian's
    ``virtuoso.ini`` for 4 GB of free memory (340,000 pages, about 2.6 GiB): several times what
    1M triples occupy, so the whole database stays in memory, and a modest share of a shared
    24 GB machine. Quick runs use the script's default (100,000, about 0.8 GiB), tiny ones 20,000.
    """
    given = os.environ.get("MLKG_VIRTUOSO_BUFFERS", "").strip()
    if given.isdigit():
        return int(given)
    if ctx.tiny:
        return 20_000
    return 100_000 if ctx.quick else 340_000


def missing_tools() -> str | None:
    """Return why Virtuoso cannot be started here, or None."""
    absent = [tool for tool in ("virtuoso-t", "isql-vt") if shutil.which(tool) is None]
    if absent:
        return (
            f"{' and '.join(absent)} not installed (bash scripts/virtuoso.sh install, "
            "or make virtuoso)"
        )
    return None


def virtuoso_version() -> str:
    """Return the server's version line (``virtuoso-t -?``) and the Debian package version."""
    parts = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["virtuoso-t", "-?"], capture_output=True, text=True, timeout=30
        )  # prints its banner on stdout or stderr depending on the build
        lines = [line.strip() for line in (out.stdout + out.stderr).splitlines() if line.strip()]
        banner = [line for line in lines if line.startswith("Version")]
        if lines:
            parts.append(f"{lines[0]}, {banner[0] if banner else '?'}")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "virtuoso-opensource-7-bin"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if out.returncode == 0 and out.stdout.strip():
            parts.append(f"Debian package virtuoso-opensource-7-bin {out.stdout.strip()}")
    return "; ".join(parts) or "version unknown"


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the ``with`` block, then restore the previous values."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Server:
    """A Virtuoso started by ``scripts/virtuoso.sh start`` with its state in ``folder``."""

    def __init__(self, folder: Path, n_buffers: int) -> None:
        self.env = {
            **os.environ,
            "MLKG_VIRTUOSO_DIR": str(folder),
            "MLKG_VIRTUOSO_BUFFERS": str(n_buffers),
        }
        self.url = ""

    def start(self) -> str:
        """Start the server; return its query endpoint (``http://127.0.0.1:PORT/sparql``)."""
        done = subprocess.run(
            ["bash", str(SCRIPT), "start"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/virtuoso.sh start failed: {done.stderr.strip()[-800:]}")
        self.url = done.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        """Stop the server and remove its folder (safe if it never started)."""
        subprocess.run(
            ["bash", str(SCRIPT), "stop"], env=self.env, capture_output=True, timeout=120
        )

    @property
    def base(self) -> str:
        return self.url.rsplit("/sparql", 1)[0]

    @property
    def update(self) -> str:
        return self.base + "/sparql-auth"

    @property
    def gsp(self) -> str:
        return self.base + "/sparql-graph-crud-auth"

    def store_url(self, graph: str = GRAPH) -> str:
        """The ``--store`` URL that reads ``graph`` only."""
        return f"sparql+{self.url}?default-graph-uri={graph}"

    def drop(self, graph: str) -> None:
        """Drop ``graph`` (untimed set-up between two pushes)."""
        from mlkg.remote import HttpClient

        client = HttpClient(self.update, timeout=600, auth=(USER, PASSWORD))
        client.request(
            "POST",
            self.update,
            data=f"DROP SILENT GRAPH <{graph}>".encode(),
            headers={"Content-Type": "application/sparql-update; charset=UTF-8"},
            what="drop",
        )


def strip_header(text: str) -> str:
    """Return query text without its ``#+`` header lines.

    The parameters are already bound by a ``VALUES`` block; without the header,
    :func:`mlkg.queries.execute_query` runs the text as it is (with the header it would ask for
    the parameters again, and look each one up by label).
    """
    return "".join(line for line in text.splitlines(True) if not line.startswith("#+"))


def _repeat(run: Callable[[], Any], repeats: int, budget: float) -> list[Any]:
    """Call ``run()`` up to ``repeats`` times; start another call only if it should end within
    ``budget`` seconds of the first (judged by the last call's duration)."""
    results = []
    started = time.perf_counter()
    last = 0.0
    while len(results) < repeats:
        if results and time.perf_counter() - started + last > budget:
            break
        begin = time.perf_counter()
        results.append(run())
        last = time.perf_counter() - begin
    return results


def measure_push(ctx: Context, section: Section, server: Server, build_dir: Path, tag: str) -> None:
    """Push the build by each method, repeatedly; record triples/s (min / median / max)."""
    from mlkg.push import push

    repeats = ctx.repeats(3, 1)
    budget = 60.0 if ctx.tiny else (120.0 if ctx.quick else 600.0)
    for method, title in METHODS.items():

        def once(method: str = method) -> Any:
            server.drop(GRAPH)  # every push loads into an empty graph (untimed)
            logged = [0]

            def progress(done: int, total: int) -> None:
                quarter = done * 4 // max(total, 1)
                if not ctx.tiny and done < total and quarter > logged[0]:
                    logged[0] = quarter
                    ctx.log(f"virtuoso: push {method} @ {tag}: {done:,} of {total:,} triples")

            result = push(
                build_dir,
                "sparql+" + server.url,
                update_endpoint=server.update,
                gsp_endpoint=server.gsp,
                named_graph=GRAPH,
                method=method,
                progress=progress,
            )
            ctx.log(
                f"virtuoso: push {method} @ {tag}: {result.triples:,} triples in "
                f"{result.seconds:.1f} s ({result.triples_per_second:,.0f}/s)"
            )
            return result

        with environment(MLKG_STORE_USER=USER, MLKG_STORE_PASSWORD=PASSWORD):
            results = _repeat(once, repeats, budget)
        first = results[0]
        section.figure(
            f"push @ {tag}: {title} ({method})",
            [r.triples_per_second for r in results],
            "triples/s",
            triples=first.triples,
            batches=first.batches,
            retries=sum(r.retries for r in results),
        )
        section.figure(
            f"push @ {tag}: {title} ({method}), whole push",
            [r.seconds for r in results],
            "s",
        )


def measure_queries(
    ctx: Context,
    section: Section,
    stores: dict[str, Any],
    queries: dict[str, str],
    tag: str,
) -> dict[tuple[str, str], float]:
    """Time every query on every store, store after store for each query; return the p50s."""
    from mlkg.queries import execute_query

    repeats = ctx.repeats(30, 10)
    budget = 2.0 if ctx.tiny else (3.0 if ctx.quick else 10.0)
    medians: dict[tuple[str, str], float] = {}
    for name, text in queries.items():
        rows: dict[str, int] = {}
        for store, graph in stores.items():
            try:
                samples, count = time_query(
                    lambda t=text, g=graph: len(execute_query(g, t, timeout=120).rows),
                    repeats,
                    budget,
                )
            except Exception as exc:
                section.missing(f"{name} @ {tag}: {store}", f"error: {type(exc).__name__}: {exc}")
                continue
            fig = record_latency(section, f"{name} @ {tag}: {store}", samples, count)
            medians[(name, store)] = fig["p50"]
            rows[store] = count
        if len(set(rows.values())) > 1:
            section.notes.append(f"{name} @ {tag}: the stores gave different row counts {rows}")
        if (name, "virtuoso") in medians and (name, "embedded") in medians:
            section.figure(
                f"{name} @ {tag}: Virtuoso p50 / embedded p50",
                medians[(name, "virtuoso")] / medians[(name, "embedded")],
                "x",
            )
    return medians


def run(ctx: Context, section: Section) -> None:
    """Start Virtuoso, push the synthetic graph by both methods, time the named queries on both
    stores; stop Virtuoso whatever happens."""
    reason = (
        has_attr("mlkg.push", "push")
        or has_attr("mlkg.remote", "open_remote")
        or has_attr("mlkg.queries", "execute_query")
        or has_attr("mlkg.store", "write_store")
        or missing_tools()
    )
    if reason:
        section.unavailable(reason)
        return
    from mlkg.remote import open_remote
    from mlkg.store import open_graph

    queries, missing = load_queries()
    for name, why in missing.items():
        section.missing(name, why)
    if not queries:
        section.unavailable("no named query files yet")
        return
    triples = size(ctx)
    tag = label(triples)
    info = generate.cached_graph(triples=triples, seed=ctx.seed)
    runnable: dict[str, str] = {}
    for name, text in queries.items():
        bound = bindings_for(parse_params(text), info)
        if isinstance(bound, str):
            section.missing(f"{name} @ {tag}", f"not run: {bound}")
        else:
            runnable[name] = strip_header(bind_text(text, bound))
    # the embedded store: a build folder (mlkg.ttl + store/), as the query section makes it
    build_dir = ctx.work / f"virtuoso-build-{tag}"
    load = load_ours(Path(info.path), build_dir)
    section.figure(
        f"load @ {tag}: embedded (Oxigraph bulk load to disk)", load, "s", triples=info.triples
    )
    n_buffers = buffers(ctx)
    version = virtuoso_version()
    section.notes.append(
        f"Virtuoso: {version}; NumberOfBuffers {n_buffers:,} "
        f"(~{n_buffers * 8 / 1024 / 1024:.1f} GiB of 8 KiB pages), started by "
        "scripts/virtuoso.sh on 127.0.0.1, client and server on this machine."
    )
    section.notes.append(
        "push = mlkg.push.push(build, store, method=...) of the query section's synthetic graph "
        "(bench/generate.py, mlkg.ttl of the build) as dba/dba (MLKG_STORE_USER / "
        "MLKG_STORE_PASSWORD), default batch sizes (update: 1,000 triples per INSERT DATA, "
        "gsp: 20,000 per POST); triples/s over the whole push (batches, count check, MOVE, "
        "final count), each push into an empty graph (the previous one is dropped first, "
        "untimed); reading mlkg.ttl is not timed."
    )
    section.notes.append(
        "queries = mlkg.queries.execute_query(graph, text) with the query section's texts and "
        "parameter bindings (a VALUES block of IRIs, so no label lookup), graph = "
        "mlkg.store.open_graph(build) (embedded) or mlkg.remote.open_remote(store URL with "
        "default-graph-uri) (virtuoso); for each query the embedded store, then Virtuoso: "
        "one warm-up, then up to 30 runs (10 in --quick) within 10 s (3 s). Latencies "
        "include the query guard, the HTTP round trip (virtuoso) and materialising every row."
    )
    server = Server(ctx.work / "virtuoso", n_buffers)
    try:
        start = time.perf_counter()
        url = server.start()
        section.figure(
            "Virtuoso start (empty database, until /sparql answers)",
            time.perf_counter() - start,
            "s",
        )
        ctx.log(f"virtuoso: running at {url}")
        measure_push(ctx, section, server, build_dir, tag)
        stores = {
            "embedded": open_graph(build_dir),
            "virtuoso": open_remote(server.store_url(), timeout=120),
        }
        measure_queries(ctx, section, stores, runnable, tag)
    finally:
        server.stop()
        shutil.rmtree(build_dir, ignore_errors=True)
