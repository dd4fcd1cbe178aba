"""mlkg: a knowledge graph of machine-learning research careers.

The library is a one-way pipeline::

    documents -> extract -> graph (RDF, Oxigraph store) -> query / paths / viz / serve

Heavy libraries (rdflib, networkx, pyvis) are imported lazily by the functions that need them.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "build", "query"]


def query(graph: Any, name_or_text: str, **params: Any) -> list[dict[str, Any]]:
    """Run a named query (or SPARQL text) on ``graph`` and return its rows as dicts.

    ``graph`` is an :class:`rdflib.Graph` or a build folder path. See :func:`mlkg.queries.run`.
    """
    from mlkg.queries import run

    return run(graph, name_or_text, **params)


def build(*args: Any, **kwargs: Any) -> Any:
    """Build a graph from documents; see :func:`mlkg.build.build`."""
    from mlkg.build import build as _build

    return _build(*args, **kwargs)
