"""``mlkg push``: load a build into a SPARQL server."""

from __future__ import annotations

from pathlib import Path

import click

from mlkg.cli.common import graph_option, handle_errors


@click.command()
@graph_option
@click.option(
    "--store",
    "store_url",
    required=True,
    metavar="URL",
    help="Query endpoint of the server: sparql+http://host:port/sparql.",
)
@click.option(
    "--update-endpoint",
    metavar="URL",
    default=None,
    help="SPARQL Update endpoint (default: the --store URL; Virtuoso: .../sparql-auth).",
)
@click.option(
    "--gsp-endpoint",
    metavar="URL",
    default=None,
    help="Graph Store Protocol endpoint for --method gsp (Virtuoso: .../sparql-graph-crud-auth).",
)
@click.option(
    "--named-graph",
    metavar="IRI",
    default=None,
    help="Graph to replace (default: https://w3id.org/mlkg/graph).",
)
@click.option(
    "--method",
    type=click.Choice(["update", "gsp"]),
    default="update",
    show_default=True,
    help="Load batches with SPARQL Update INSERT DATA or Graph Store Protocol POST.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Triples per request (default: 1000 for update, 20000 for gsp).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="Seconds allowed for each request.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Times a failed batch is sent again (with backoff).",
)
@handle_errors
def push(
    graph_dir: Path | None,
    store_url: str,
    update_endpoint: str | None,
    gsp_endpoint: str | None,
    named_graph: str | None,
    method: str,
    batch_size: int | None,
    timeout: float,
    retries: int,
) -> None:
    """Load a build into a SPARQL server, replacing one named graph.

    The triples go into a temporary graph first; once its count matches the build, one MOVE
    replaces the target graph, so readers never see a half-loaded graph. Pushing twice gives
    the same triples. Credentials come from MLKG_STORE_USER / MLKG_STORE_PASSWORD or
    ~/.netrc (HTTP basic or digest), never from the command line.

    Example (Virtuoso started by scripts/virtuoso.sh):

    \b
      MLKG_STORE_USER=dba MLKG_STORE_PASSWORD=dba mlkg push \\
        --store sparql+http://127.0.0.1:8890/sparql \\
        --update-endpoint http://127.0.0.1:8890/sparql-auth
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from mlkg.push import push as push_build

    console = Console(stderr=True)
    with Progress(
        TextColumn("pushing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("triples"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("push", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = push_build(
            graph_dir,
            store_url,
            update_endpoint=update_endpoint,
            gsp_endpoint=gsp_endpoint,
            named_graph=named_graph,
            batch_size=batch_size,
            method=method,
            timeout=timeout,
            retries=retries,
            progress=progress,
        )
    retried = f", {result.retries} retried" if result.retries else ""
    batches = f"{result.batches} batch" + ("es" if result.batches != 1 else "")
    click.echo(
        f"pushed {result.triples} triples to <{result.graph}> in {result.seconds:.1f} s "
        f"({result.triples_per_second:,.0f} triples/s, {batches}{retried})"
    )
