"""The ``mlkg`` command line: a thin shell over the library.

Commands live in submodules and are imported only when invoked, so ``mlkg --help`` does not load
rdflib, networkx or pyvis. Each command turns :class:`mlkg.errors.MlkgError` into a one-line
message and the error's exit code (see :func:`mlkg.cli.common.handle_errors`).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from mlkg import __version__

# command name -> (module, attribute, one-line help shown by ``mlkg --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "build": ("mlkg.cli.build", "build", "Build the knowledge graph from documents."),
    "stats": ("mlkg.cli.build", "stats", "Print the summary of an existing build."),
    "explain": ("mlkg.cli.build", "explain", "List every fact about a role with its evidence."),
    "validate": ("mlkg.cli.build", "validate", "Check a build against the SHACL shapes."),
    "query": ("mlkg.cli.query", "query", "Run a named or ad-hoc SPARQL query."),
    "queries": ("mlkg.cli.query", "queries", "List the named queries."),
    "serve": ("mlkg.cli.serve", "serve", "Serve a read-only SPARQL endpoint and query page."),
    "path": ("mlkg.cli.paths", "path", "Career route(s) from one role to another."),
    "gap": ("mlkg.cli.paths", "gap", "What role B requires that role A lacks."),
    "next": ("mlkg.cli.paths", "next_roles", "Roles one step away from a role."),
    "viz": ("mlkg.cli.viz", "viz", "Write an interactive, offline HTML view of the graph."),
    "push": ("mlkg.cli.push", "push", "Load a build into a SPARQL server."),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when the command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute, _ = COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command whose module is not there yet
            if exc.name != module_name:
                raise
            return None
        command: click.Command = getattr(module, attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from COMMANDS so that listing commands imports nothing heavy.
        rows = [(name, short) for name, (_, _, short) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlkg")
def cli() -> None:
    """mlkg: a knowledge graph of machine-learning research careers.

    Build it from documents, ask it questions in SPARQL, find career routes, look at it.
    Start with `mlkg build`, then `mlkg queries` and
    `mlkg path "Data Scientist" "Research Scientist"`.
    """


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (the ``mlkg`` console script)."""
    return cli.main(args=argv, prog_name="mlkg")
