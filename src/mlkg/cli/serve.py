"""``mlkg serve``: run the read-only SPARQL endpoint and query page."""

from __future__ import annotations

from pathlib import Path

import click

from mlkg.cli.common import graph_option, handle_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7878, show_default=True, type=int, help="TCP port (0: any free).")
@graph_option
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=float,
    help="Seconds a query may run before it is stopped (HTTP 503).",
)
@click.option(
    "--max-rows", default=10_000, show_default=True, type=int, help="Most rows per result."
)
@click.option(
    "--workers",
    default=3,
    show_default=True,
    type=int,
    help="Worker processes: queries that can run at the same time.",
)
@click.option(
    "--memory-limit",
    "memory_limit_mb",
    default=2048,
    show_default=True,
    type=int,
    metavar="MB",
    help="Address-space limit per worker in MB (0: none).",
)
@click.option(
    "--allow-service",
    is_flag=True,
    help="Allow SERVICE / FROM / FROM NAMED, which make the server fetch URLs.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Let scripts from this origin read results (repeatable; no credentials).",
)
@click.option("--quiet", is_flag=True, help="Do not log requests.")
@handle_errors
def serve(
    host: str,
    port: int,
    graph_dir: Path | None,
    timeout: float,
    max_rows: int,
    workers: int,
    memory_limit_mb: int,
    allow_service: bool,
    cors_origins: tuple[str, ...],
    quiet: bool,
) -> None:
    """Serve a read-only SPARQL endpoint (/sparql) and a query page (/).

    Queries run in worker processes with a deadline and a row cap; SPARQL Update is refused and
    federated queries (SERVICE) are off unless --allow-service. Stop with Ctrl-C.
    """
    from mlkg.serve import ServerConfig, make_server, parse_cors, run
    from mlkg.store import resolve_build_dir

    config = ServerConfig(
        graph_dir=resolve_build_dir(graph_dir),
        host=host,
        port=port,
        timeout=timeout,
        max_rows=max_rows,
        allow_service=allow_service,
        cors_origins=parse_cors(cors_origins),
        workers=workers,
        memory_limit_mb=memory_limit_mb or None,
        quiet=quiet,
    )
    _stop_on_signals()
    try:
        server = make_server(config)
        click.echo(
            f"mlkg: serving {config.graph_dir} at {server.url}/ (SPARQL: {server.url}/sparql)"
        )
        if host not in ("127.0.0.1", "localhost", "::1"):
            click.echo(
                "mlkg: warning: listening beyond this machine; see SECURITY.md before sharing it",
                err=True,
            )
        if allow_service:
            click.echo(
                "mlkg: warning: --allow-service lets queries make the server fetch URLs", err=True
            )
        click.echo("mlkg: press Ctrl-C to stop", err=True)
        run(server)
    except KeyboardInterrupt:
        click.echo("mlkg: stopped", err=True)


def _stop_on_signals() -> None:
    """Make Ctrl-C (SIGINT) and SIGTERM stop the server cleanly, even when started in background."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
