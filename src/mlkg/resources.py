"""Where mlkg's bundled files live.

In a wheel the ontology, the named queries and the demo corpus are packaged under
``mlkg/_data/``; in a source checkout (editable install) they are read from the top-level
``ontology/``, ``examples/queries/`` and ``data/documents/`` folders, which stay the source
of truth.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DATA = Path(__file__).resolve().parent / "_data"
_CHECKOUT = Path(__file__).resolve().parents[2]


def _locate(packaged: str, checkout: str) -> Path:
    """Return the packaged folder if it exists, else the checkout folder."""
    candidate = _PACKAGE_DATA / packaged
    if candidate.is_dir():
        return candidate
    return _CHECKOUT / checkout


def ontology_dir() -> Path:
    """Return the folder holding ``mlkg.ttl``, ``shapes.ttl`` and ``vocabulary.ttl``."""
    return _locate("ontology", "ontology")


def queries_dir() -> Path:
    """Return the folder holding the named SPARQL queries (``*.rq``)."""
    return _locate("queries", "examples/queries")


def corpus_dir() -> Path:
    """Return the folder holding the bundled demo documents and their ``manifest.json``."""
    return _locate("documents", "data/documents")


def default_build_dir() -> Path:
    """Return the default build folder: ``data/build`` under the current directory.

    Examples
    --------
    >>> default_build_dir().name
    'build'
    """
    return Path("data") / "build"
