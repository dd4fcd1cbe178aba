"""``mlkg viz``: write the interactive, offline HTML view of the graph."""

from __future__ import annotations

from pathlib import Path

import click

from mlkg.cli.common import graph_option, handle_errors, store_option


@click.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="HTML file to write (default: graph.html in the build folder).",
)
@click.option(
    "--focus", default=None, metavar="ROLE", help="Show only the neighbourhood of a role."
)
@click.option(
    "--depth",
    type=int,
    default=None,
    metavar="N",
    help="Hops around --focus to show (default 1).",
)
@click.option(
    "--classes",
    default=None,
    metavar="Role,Tool,...",
    help="Show only these classes (a class includes its subclasses: Skill, Tool).",
)
@click.option(
    "--path",
    "route",
    nargs=2,
    default=None,
    metavar="FROM TO",
    help="Draw the shortest career route between two roles highlighted.",
)
@graph_option
@store_option
@handle_errors
def viz(
    out: Path | None,
    focus: str | None,
    depth: int | None,
    classes: str | None,
    route: tuple[str, str] | None,
    graph_dir: Path | None,
    store_url: str | None,
) -> None:
    """Write one self-contained HTML page of the graph and print its path.

    The page works offline (file://): legend and class filters, search by name or alias,
    hover and click for facts with their evidence, neighbourhood highlight, and the
    route from --path drawn in red.
    """
    from mlkg.resources import default_build_dir
    from mlkg.store import connect
    from mlkg.viz import VizError, visualize

    if depth is not None and depth < 0:
        raise VizError(f"--depth must be 0 or more, not {depth}")
    if out is None:
        out = (graph_dir if graph_dir is not None else default_build_dir()) / "graph.html"
    class_list = [c for c in classes.split(",") if c.strip()] if classes is not None else None
    if classes is not None and not class_list:
        raise VizError("--classes is empty: name at least one class, e.g. --classes Role,Tool")
    graph = connect(graph_dir, store_url)
    if out.is_dir():
        raise VizError(f"cannot write {out}: it is a directory")
    if not out.parent.is_dir():
        raise VizError(f"cannot write {out}: folder {out.parent} does not exist")
    result = visualize(
        graph,
        out,
        classes=class_list,
        focus=focus,
        depth=depth,
        path=(route[0], route[1]) if route else None,
    )
    click.echo(str(result.path))
    click.echo(f"{result.nodes} nodes, {result.edges} edges", err=True)
