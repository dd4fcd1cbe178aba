"""Section 5 (paths): route latency on a 10k-role graph, and building the NetworkX view."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

from bench import generate
from bench.harness import Context, Section, has_attr
from bench.sections.query import label, load_ours


def run(ctx: Context, section: Section) -> None:
    """Time ``mlkg.paths.load_view`` and ``shortest_route`` on synthetic role graphs."""
    reason = has_attr("mlkg.paths", "load_view") or has_attr("mlkg.paths", "shortest_route")
    if reason:
        section.unavailable(reason)
        return
    from mlkg.errors import MlkgError
    from mlkg.paths import clear_cache, load_view, shortest_route
    from mlkg.store import open_graph

    n_roles = 200 if ctx.tiny else 10_000
    info = generate.cached_graph(roles=n_roles, seed=ctx.seed, profile="roles")
    build_dir = ctx.work / "paths-roles"
    load = load_ours(Path(info.path), build_dir)
    section.figure(
        f"load the {n_roles:,}-role graph into the store ({info.triples:,} triples)", load, "s"
    )
    graph = open_graph(build_dir)
    clear_cache()
    start = time.perf_counter()
    view = load_view(graph)
    section.figure(
        f"load_view, {n_roles:,} roles (first call)",
        time.perf_counter() - start,
        "s",
        nodes=view.number_of_nodes(),
        edges=view.number_of_edges(),
    )
    import networkx as nx

    rng = random.Random(ctx.seed)
    roles = sorted(view.nodes)
    starts = [r for r in roles if view.out_degree(r) > 0]
    pairs: list[tuple[str, str]] = [(info.ladder[0], info.ladder[-1])]
    while len(pairs) < ctx.repeats(200, 50) and starts:
        a = rng.choice(starts)
        reachable = sorted(nx.descendants(view, a))
        pairs.append((a, rng.choice(reachable)))
    unreachable = [tuple(rng.sample(roles, 2)) for _ in range(ctx.repeats(50, 20))]
    found: list[float] = []
    missed: list[float] = []
    for a, b in [*pairs, *unreachable]:
        start = time.perf_counter()
        try:
            shortest_route(graph, a, b)
            found.append(time.perf_counter() - start)
        except MlkgError:
            missed.append(time.perf_counter() - start)
    if found:
        fig = section.figure(
            f"shortest_route, {n_roles:,} roles, route found (view loaded)",
            [s * 1000 for s in found],
            "ms",
            percentiles=(50, 95),
        )
        section.target(f"route latency p50, {n_roles:,} roles", fig["p50"], "<=", 5.0, "ms")
    if missed:
        section.figure(
            f"shortest_route, {n_roles:,} roles, no route (view loaded)",
            [s * 1000 for s in missed],
            "ms",
            percentiles=(50, 95),
        )
    del graph, view
    clear_cache()
    shutil.rmtree(build_dir, ignore_errors=True)
    # the view from a full-shape graph (1M triples; smaller in tiny mode)
    if ctx.quick and not ctx.tiny:
        section.notes.append("load_view from 1M triples: not run in --quick")
        return
    size = 2000 if ctx.tiny else 1_000_000
    info = generate.cached_graph(triples=size, seed=ctx.seed)
    build_dir = ctx.work / "paths-full"
    load_ours(Path(info.path), build_dir)
    graph = open_graph(build_dir)
    samples = []
    for _ in range(ctx.repeats(3, 1)):
        clear_cache()
        start = time.perf_counter()
        view = load_view(graph)
        samples.append(time.perf_counter() - start)
    section.figure(
        f"load_view from {label(size)} triples ({info.roles:,} roles)",
        samples,
        "s",
        nodes=view.number_of_nodes(),
        edges=view.number_of_edges(),
    )
    start = time.perf_counter()
    load_view(graph)
    section.figure(
        f"load_view from {label(size)} triples, cached (second call)",
        (time.perf_counter() - start) * 1000,
        "ms",
    )
    del graph, view
    clear_cache()
    shutil.rmtree(build_dir, ignore_errors=True)
