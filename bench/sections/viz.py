"""Section 6 (visualisation): writing the HTML and time to interactive in headless Chromium."""

from __future__ import annotations

import shutil

from bench.harness import Context, Section, has_attr


def run(ctx: Context, section: Section) -> None:
    """Call ``mlkg.viz.measure_time_to_interactive`` at 100, 1,000 and 5,000 nodes."""
    reason = has_attr("mlkg.viz", "measure_time_to_interactive")
    if reason:
        section.unavailable(reason)
        return
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        section.unavailable("no chromium on PATH (apt-get install -y chromium)")
        return
    from mlkg.viz import measure_time_to_interactive

    sizes = [50] if ctx.tiny else ([100, 1000] if ctx.quick else [100, 1000, 5000])
    section.notes.append(
        "mlkg.viz.measure_time_to_interactive: synthetic graph -> visualize() (SPARQL, layout, "
        "HTML) -> headless Chromium until drawn, physics stopped and controls wired"
    )
    for n in sizes:
        build, interactive, size = [], [], 0.0
        drawn = 0.0
        for _ in range(ctx.repeats(3, 1)):
            result = measure_time_to_interactive(n, chromium=chromium, workdir=ctx.work)
            build.append(result["build_s"])
            interactive.append(result["interactive_ms"] / 1000)
            size = result["html_bytes"]
            drawn = result["nodes"]
        section.figure(
            f"{n:,} nodes: write the HTML",
            build,
            "s",
            drawn=int(drawn),
            html_mb=round(size / 1e6, 2),
        )
        fig = section.figure(f"{n:,} nodes: time to interactive in Chromium", interactive, "s")
        if n == 5000 or (ctx.tiny and n == sizes[-1]):
            section.target(f"time to interactive, {n:,} nodes", fig["median"], "<=", 5.0, "s")
