"""Options and error handling shared by every command."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mlkg.errors import MlkgError

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn an :class:`MlkgError` raised by ``func`` into ``mlkg: error: ...`` and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MlkgError as exc:
            click.echo(f"mlkg: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("mlkg: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


graph_option = click.option(
    "--graph",
    "graph_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Build folder to read (default: data/build).",
)

store_option = click.option(
    "--store",
    "store_url",
    default=None,
    metavar="URL",
    help="Read from a SPARQL server instead (sparql+http://host:port/sparql).",
)
