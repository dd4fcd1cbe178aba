"""``mlkg query`` and ``mlkg queries``: run named or ad-hoc SPARQL, list the catalogue."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlkg.cli.common import graph_option, handle_errors, store_option
from mlkg.errors import QueryError

if TYPE_CHECKING:
    from mlkg.queries import NamedQuery

FORMAT_CHOICES = ["table", "csv", "tsv", "json", "ntriples"]


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """Turn ``name=value`` strings into a dict; raise :class:`QueryError` on a malformed one."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise QueryError(f"--param expects NAME=VALUE, got {pair!r}")
        if name in params:
            raise QueryError(f"--param {name} is given twice")
        params[name] = value
    return params


def _load(query_ref: str) -> NamedQuery:
    """Return the query named by the argument: a catalogue name, an .rq file, or ``-`` (stdin)."""
    from mlkg.queries import adhoc_query, resolve

    if query_ref == "-":
        text = sys.stdin.read()
        if not text.strip():
            raise QueryError("no query text on standard input")
        return adhoc_query(text, name="<stdin>")
    return resolve(query_ref)


@click.command("query")
@click.argument("query_ref", metavar="NAME|FILE.rq|-")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Bind a query parameter (repeatable). Roles, skills and tools may be given by label.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    default="table",
    show_default=True,
    help="table for people; csv, tsv, json are the W3C SPARQL 1.1 results formats.",
)
@graph_option
@store_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Stop the query after this many seconds.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    default=10_000,
    show_default=True,
    help="Return at most this many rows.",
)
@click.option(
    "--allow-service",
    is_flag=True,
    help="Allow SERVICE / FROM clauses (they fetch URLs from the network).",
)
@handle_errors
def query(
    query_ref: str,
    params: tuple[str, ...],
    fmt: str,
    graph_dir: Path | None,
    store_url: str | None,
    timeout: float,
    max_rows: int,
    allow_service: bool,
) -> None:
    """Run a named query, a query file, or SPARQL from standard input (-).

    \b
    Examples:
      mlkg query roles
      mlkg query skills-of-role --param role="research scientist"
      mlkg query skill-gap -p role_a="Data Scientist" -p role_b="Research Scientist" --format json
      echo 'SELECT * WHERE { ?s ?p ?o } LIMIT 5' | mlkg query -
    """
    from mlkg.guard import check_query
    from mlkg.output import render
    from mlkg.queries import check_params, execute_query
    from mlkg.store import connect, resolve_build_dir

    named = _load(query_ref)
    pairs = _parse_params(params)
    # The query and its parameters are checked before the graph is looked for.
    form = check_query(named.text, allow_service=allow_service)
    given = check_params(named, pairs)
    if fmt == "ntriples" and form not in ("CONSTRUCT", "DESCRIBE"):
        raise QueryError("--format ntriples is for CONSTRUCT and DESCRIBE queries")

    target: Any = connect(store_url=store_url) if store_url else resolve_build_dir(graph_dir)
    try:
        result = execute_query(
            target,
            named,
            given,
            timeout=timeout,
            row_cap=max_rows,
            allow_service=allow_service,
        )
    except QueryError:
        _settle_workers()
        raise
    click.echo(render(result, fmt), nl=False)
    if result.truncated:
        click.echo(
            f"mlkg: warning: only the first {max_rows:,} rows are shown (--max-rows)", err=True
        )
    elif fmt == "table" and result.form != "ASK":
        count = len(result.rows)
        click.echo(f"({count} row{'s' if count != 1 else ''})", err=True)


@click.command("queries")
@click.argument("name", required=False)
@handle_errors
def queries(name: str | None) -> None:
    """List the named queries with their parameters, or print one query's SPARQL.

    \b
    Examples:
      mlkg queries
      mlkg queries evidence
    """
    from mlkg.queries import load_catalogue, unknown_query_error

    catalogue = load_catalogue()
    if name is not None:
        if name not in catalogue:
            raise unknown_query_error(name, catalogue)
        click.echo(catalogue[name].text, nl=not catalogue[name].text.endswith("\n"))
        return
    click.echo(format_catalogue(catalogue.values(), width=_width()), nl=False)


def format_catalogue(entries: Any, width: int = 100) -> str:
    """Return the catalogue as text: each query's name, parameters and summary."""
    lines: list[str] = []
    for entry in entries:
        params = ", ".join(p.name for p in entry.params) or "no parameters"
        lines.append(f"{entry.name}  ({params})")
        summary = textwrap.fill(
            entry.summary or "(no summary)",
            width=max(40, width - 4),
            initial_indent="    ",
            subsequent_indent="    ",
        )
        lines.append(summary)
        for param in entry.params:
            if param.description:
                lines.append(
                    textwrap.fill(
                        f"--param {param.name}=…  {param.description}",
                        width=max(40, width - 4),
                        initial_indent="    ",
                        subsequent_indent="        ",
                    )
                )
    return "\n".join(lines) + "\n"


def _settle_workers(wait: float = 10.0) -> None:
    """Let a worker being started in the background (after a timeout killed one) finish starting.

    The executor replaces a killed worker from a daemon thread; if this process exited while
    that thread was half-way through starting a process, the fork server would print a
    traceback after our one-line error. Waiting for it lets the exit handler stop it cleanly.
    """
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith("mlkg-worker-refill") and thread.is_alive():
            thread.join(wait)


def _width() -> int:
    import shutil

    if not sys.stdout.isatty():
        return 100
    return max(40, shutil.get_terminal_size((100, 24)).columns)
