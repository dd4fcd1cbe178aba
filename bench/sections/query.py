"""Section 3 (query): the named queries on our Oxigraph store against rdflib's in-memory Graph."""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import statistics
import time
import traceback
from pathlib import Path
from typing import Any

from bench import generate
from bench.harness import Context, Section, has_attr

NAMED = ["skills-of-role", "skill-gap", "top-skills", "ladder", "evidence"]
_PARAMS = re.compile(r"^#\+\s*params:\s*(.*)$", re.MULTILINE)


def sizes(ctx: Context) -> list[int]:
    """Return the graph sizes (triples) measured in this mode."""
    if ctx.tiny:
        return [2000]
    return [100_000, 1_000_000] if ctx.quick else [100_000, 1_000_000, 5_000_000]


def label(size: int) -> str:
    """Return ``100k`` / ``1M`` style labels."""
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"


def parse_params(text: str) -> list[str]:
    """Return the parameter names of a named query's ``#+ params:`` header (none -> [])."""
    match = _PARAMS.search(text)
    if not match:
        return []
    spec = re.sub(r"\([^)]*\)", "", match.group(1)).strip()
    if not spec or spec.lower() == "none":
        return []
    return [name.strip() for name in spec.split(",") if name.strip()]


def load_queries(names: list[str] = NAMED) -> tuple[dict[str, str], dict[str, str]]:
    """Return ``({name: text}, {name: why missing})`` from the named-query folder."""
    from mlkg.resources import queries_dir

    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    for name in names:
        path = queries_dir() / f"{name}.rq"
        if path.is_file():
            found[name] = path.read_text(encoding="utf-8")
        else:
            missing[name] = f"not available: {path} does not exist"
    return found, missing


def bindings_for(params: list[str], info: generate.GraphInfo) -> dict[str, str] | str:
    """Return IRI bindings for a query's parameters, or why they cannot be chosen."""
    ladder = info.ladder
    known = {
        "role": ladder[0],
        "role_a": ladder[0],
        "role_b": ladder[min(2, len(ladder) - 1)],
        "from": ladder[0],
        "source": ladder[0],
        "to": ladder[-1],
        "target": ladder[-1],
        "skill": info.skill_iris[0] if info.skill_iris else "",
    }
    out = {}
    for param in params:
        if not known.get(param):
            return f"unknown parameter {param!r}"
        out[param] = known[param]
    return out


def bind_text(text: str, bindings: dict[str, str]) -> str:
    """Return ``text`` with its parameters bound by a ``VALUES`` block, as the product binds them.

    Uses :func:`mlkg.queries.inject_values` when it exists; otherwise inserts the block after the
    first ``WHERE {``. (pyoxigraph's substitutions, behind rdflib's ``initBindings`` on
    oxrdflib, refuse variables that are not projected, so the benchmark does not use them.)
    """
    if not bindings:
        return text
    from rdflib import URIRef

    names = sorted(bindings)
    if has_attr("mlkg.queries", "inject_values") is None:
        from mlkg.queries import inject_values

        return inject_values(text, names, [[URIRef(bindings[n]) for n in names]])
    block = "VALUES ({}) {{ ({}) }}".format(
        " ".join(f"?{n}" for n in names), " ".join(f"<{bindings[n]}>" for n in names)
    )
    match = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
    if match is None:
        return text.rstrip() + "\n" + block + "\n"
    return text[: match.end()] + " " + block + "\n" + text[match.end() :]


def is_aggregate(text: str) -> bool:
    """Return True for queries that aggregate (GROUP BY or COUNT/SUM/...)."""
    return bool(re.search(r"\bGROUP\s+BY\b|\b(COUNT|SUM|AVG)\s*\(", text, re.IGNORECASE))


def time_query(run: Any, repeats: int, budget: float) -> tuple[list[float], int]:
    """Run ``run()`` once to warm up, then up to ``repeats`` times within ``budget`` seconds."""
    rows = run()
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < repeats and (not samples or time.perf_counter() < deadline):
        start = time.perf_counter()
        rows = run()
        samples.append(time.perf_counter() - start)
    return samples, rows


def record_latency(section: Section, name: str, samples: list[float], rows: int) -> dict:
    """Record query times (seconds) as figure ``name`` in ms with p50/p95; return the figure."""
    return section.figure(name, [s * 1000 for s in samples], "ms", percentiles=(50, 95), rows=rows)


def _rdflib_worker(
    nt_path: str, queries: dict[str, str], repeats: int, budget: float, conn: Any
) -> None:
    """Child process: load rdflib's default store, then time each query; report over ``conn``."""
    import sys

    from rdflib import Graph

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))  # the default, as users have it
    start = time.perf_counter()
    graph = Graph()
    graph.parse(nt_path, format="nt")
    conn.send(("load", time.perf_counter() - start, len(graph)))
    for name, text in queries.items():
        try:
            first_start = time.perf_counter()
            rows = len(list(graph.query(text)))
            first = time.perf_counter() - first_start
            if first > budget:
                samples = [first]
            else:
                samples, rows = time_query(
                    lambda t=text, g=graph: len(list(g.query(t))), repeats, budget
                )
            conn.send(("query", name, samples, rows, None))
        except RecursionError:
            conn.send(("query", name, [], 0, "RecursionError"))
        except Exception as exc:
            conn.send(("query", name, [], 0, f"{type(exc).__name__}: {exc}"[:300]))
    conn.send(("done",))


def run_rdflib(
    nt_path: Path,
    queries: dict[str, str],
    repeats: int,
    budget: float,
    query_timeout: float,
    load_timeout: float,
) -> dict[str, Any]:
    """Run the rdflib baseline in child processes; a query past ``query_timeout`` is killed.

    Returns ``{"load": seconds, "triples": n, "queries": {name: (samples, rows, error)}}``.
    """
    ctx = multiprocessing.get_context("fork")
    result: dict[str, Any] = {"queries": {}}
    pending = dict(queries)
    while pending:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_rdflib_worker,
            args=(str(nt_path), pending, repeats, budget, child),
            daemon=True,
        )
        proc.start()
        child.close()
        timeout = load_timeout
        current = next(iter(pending))
        try:
            while True:
                if not parent.poll(timeout):
                    if "load" not in result:
                        result["load_error"] = f"load took over {load_timeout:.0f} s"
                        pending.clear()
                    else:
                        result["queries"][current] = ([], 0, f"timeout: over {query_timeout:.0f} s")
                        pending.pop(current, None)
                    break
                message = parent.recv()
                if message[0] == "load":
                    result.setdefault("load", message[1])
                    result["triples"] = message[2]
                    timeout = query_timeout
                elif message[0] == "query":
                    _, name, samples, rows, error = message
                    result["queries"][name] = (samples, rows, error)
                    pending.pop(name, None)
                    if pending:
                        current = next(iter(pending))
                else:
                    break
        except EOFError:
            result["queries"][current] = ([], 0, "the rdflib process died")
            pending.pop(current, None)
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join()
            parent.close()
    return result


def load_ours(nt_path: Path, build_dir: Path) -> float:
    """Bulk-load ``nt_path`` into a build folder with our store; return the seconds taken."""
    from mlkg.store import GRAPH_FILE, STORE_DIR, write_store

    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    os.symlink(nt_path, build_dir / GRAPH_FILE)
    start = time.perf_counter()
    write_store(build_dir / GRAPH_FILE, build_dir / STORE_DIR)
    return time.perf_counter() - start


def worker_path(
    section: Section,
    build_dir: Path,
    queries: dict[str, tuple[str, dict[str, str]]],
    tag: str,
    repeats: int,
    budget: float,
) -> None:
    """Time the queries the way ``mlkg query`` and ``mlkg serve`` run them (informational).

    That path is :func:`mlkg.queries.execute_query` on the build folder: a warm worker process
    runs the text on pyoxigraph directly and sends the rows back, with the row cap lifted so
    every row crosses. Parameters are given as IRIs and resolved as the CLI resolves them (one
    lookup query each), then bound by a ``VALUES`` block. No target is attached; the targets
    stay on the library path above.
    """
    if has_attr("mlkg.queries", "execute_query"):
        return
    from mlkg.queries import execute_query

    for name, (text, params) in queries.items():
        try:
            samples, rows = time_query(
                lambda t=text, p=params: len(execute_query(build_dir, t, p, row_cap=10**9).rows),
                repeats,
                budget,
            )
        except Exception as exc:
            section.missing(f"{name} @ {tag}: mlkg query path", f"{type(exc).__name__}: {exc}")
            continue
        record_latency(section, f"{name} @ {tag}: mlkg query path (worker process)", samples, rows)


def run(ctx: Context, section: Section) -> None:
    """Measure load time and p50/p95 of every named query at each size, ours vs rdflib."""
    reason = has_attr("mlkg.store", "write_store") or has_attr("mlkg.store", "open_graph")
    if reason:
        section.unavailable(reason)
        return
    from mlkg.store import open_graph

    queries, missing = load_queries()
    for name, why in missing.items():
        section.missing(f"{name}", why)
    if not queries:
        section.unavailable("no named query files yet")
        return
    section.notes.append(
        "ours = mlkg.store.write_store (pyoxigraph bulk load, on disk) + mlkg.store.open_graph "
        "(rdflib Graph over oxrdflib), queries via Graph.query(text) with parameters bound by "
        "a VALUES block (mlkg.queries.inject_values); "
        "rdflib = rdflib.Graph() default memory store, Graph.parse(format='nt'), same call. "
        "Latencies include query parsing and materialising every row. "
        "'mlkg query path' = the same texts through mlkg.queries.execute_query on the build "
        "folder (a warm worker process runs them on pyoxigraph and sends every row back as "
        "rdflib terms), which is what `mlkg query` and `mlkg serve` do; informational."
    )
    repeats = ctx.repeats(30, 10)
    budget = 2.0 if ctx.tiny else (3.0 if ctx.quick else 10.0)
    rdflib_load_per_triple: float | None = None
    rdflib_last: tuple[int, float] | None = None  # (size, load seconds) of the last rdflib load
    medians: dict[tuple[str, int, str], float] = {}
    at_least: dict[tuple[str, int], float] = {}  # rdflib timed out: its p50 is at least this
    query_timeout = 30.0 if ctx.quick else 120.0  # seconds, per rdflib query
    for size in sizes(ctx):
        tag = label(size)
        info = generate.cached_graph(triples=size, seed=ctx.seed)
        nt = Path(info.path)
        runnable: dict[str, str] = {}
        with_params: dict[str, tuple[str, dict[str, str]]] = {}
        for name, text in queries.items():
            b = bindings_for(parse_params(text), info)
            if isinstance(b, str):
                section.missing(f"{name} @ {tag}", f"not run: {b}")
            else:
                runnable[name] = bind_text(text, b)
                with_params[name] = (text, b)
        # ours
        build_dir = ctx.work / f"store-{tag}"
        load = load_ours(nt, build_dir)
        section.figure(
            f"load @ {tag}: ours (Oxigraph bulk load to disk)", load, "s", triples=info.triples
        )
        graph = open_graph(build_dir)
        for name, text in runnable.items():
            try:
                samples, rows = time_query(
                    lambda t=text, g=graph: len(list(g.query(t))), repeats, budget
                )
            except RecursionError:
                section.missing(f"{name} @ {tag}: ours", "RecursionError")
                section.target(f"no RecursionError: {name} @ {tag} ours", 1, "<=", 0, "errors")
                continue
            except Exception as exc:
                section.missing(f"{name} @ {tag}: ours", f"error: {type(exc).__name__}: {exc}")
                continue
            fig = record_latency(section, f"{name} @ {tag}: ours", samples, rows)
            medians[(name, size, "ours")] = fig["p50"]
            if size == 1_000_000 or (ctx.tiny and size == sizes(ctx)[-1]):
                section.target(f"{name} p50 @ {tag} (ours)", fig["p50"], "<=", 50.0, "ms")
        del graph
        worker_path(section, build_dir, with_params, tag, repeats, budget)
        shutil.rmtree(build_dir, ignore_errors=True)
        # rdflib baseline
        estimate = rdflib_load_per_triple * info.triples if rdflib_load_per_triple else None
        limit = 60.0 if ctx.quick else 300.0
        skip = None
        if ctx.quick and size > 100_000:
            skip = "not run in --quick"
        elif estimate is not None and estimate > limit and rdflib_last is not None:
            skip = (
                f"not run (too slow: load {rdflib_last[1]:.0f} s at {label(rdflib_last[0])}, "
                f"~{estimate:.0f} s expected here)"
            )
        if skip:
            section.missing(f"load @ {tag}: rdflib", skip)
            for name in runnable:
                section.missing(f"{name} @ {tag}: rdflib", skip)
            continue
        res = run_rdflib(
            nt,
            runnable,
            repeats=ctx.repeats(10, 5),
            budget=budget,
            query_timeout=query_timeout,
            load_timeout=900.0,
        )
        if "load" not in res:
            section.missing(f"load @ {tag}: rdflib", res.get("load_error", "failed"))
            continue
        rdflib_load_per_triple = res["load"] / info.triples
        rdflib_last = (size, res["load"])
        section.figure(f"load @ {tag}: rdflib (Graph.parse nt, memory)", res["load"], "s")
        section.figure(f"load ratio @ {tag}: rdflib / ours", res["load"] / load, "x")
        for name in runnable:
            samples, rows, error = res["queries"].get(name, ([], 0, "not run"))
            if error and error.startswith("timeout"):
                # rdflib did not finish: its time is at least the timeout (a lower bound).
                at_least[(name, size)] = query_timeout * 1000
            if error:
                section.missing(f"{name} @ {tag}: rdflib", error)
                if error == "RecursionError":
                    section.notes.append(f"rdflib raised RecursionError on {name} @ {tag}")
                continue
            fig = record_latency(section, f"{name} @ {tag}: rdflib", samples, rows)
            medians[(name, size, "rdflib")] = fig["p50"]
            ours = medians.get((name, size, "ours"))
            if ours:
                section.figure(
                    f"speed-up {name} @ {tag}: rdflib p50 / ours p50", fig["p50"] / ours, "x"
                )
    # the 50x target on aggregate queries at 1M
    target_size = sizes(ctx)[-1] if ctx.tiny else 1_000_000
    for name, text in queries.items():
        if not is_aggregate(text):
            continue
        ours = medians.get((name, target_size, "ours"))
        theirs = medians.get((name, target_size, "rdflib"))
        value = theirs / ours if ours and theirs else None
        note = "" if value is not None else "rdflib not measured at this size"
        bound = at_least.get((name, target_size))
        if value is None and ours and bound:
            value = bound / ours
            note = f"at least: rdflib did not finish within {bound / 1000:.0f} s"
        section.target(
            f"speed-up over rdflib, aggregate query {name} @ {label(target_size)}",
            value,
            ">=",
            50.0,
            "x",
            note=note,
        )
    if any(k[2] == "rdflib" for k in medians):
        ratios = [
            medians[(n, s, "rdflib")] / medians[(n, s, "ours")]
            for (n, s, w) in medians
            if w == "rdflib" and (n, s, "ours") in medians
        ]
        if ratios:
            section.notes.append(
                f"geometric-mean speed-up over rdflib, all measured queries and sizes: "
                f"{statistics.geometric_mean(ratios):.1f}x"
            )


def traceback_tail() -> str:
    """Return the last lines of the current traceback (for notes)."""
    return traceback.format_exc(limit=3)[-800:]
