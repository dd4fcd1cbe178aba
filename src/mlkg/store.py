"""Open and write the embedded Oxigraph store of a build.

A build folder holds ``mlkg.ttl`` (the graph as sorted Turtle) and ``store/`` (the same triples in
an on-disk Oxigraph store). Readers call :func:`open_graph` and get an :class:`rdflib.Graph` whose
queries run on Oxigraph's SPARQL engine.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from mlkg.errors import GraphNotFoundError, StoreError
from mlkg.resources import default_build_dir

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pyoxigraph
    from rdflib import Graph

GRAPH_FILE = "mlkg.ttl"
STORE_DIR = "store"
SUMMARY_FILE = "build.json"


def resolve_build_dir(graph_dir: Path | str | None) -> Path:
    """Return the build folder to read, raising :class:`GraphNotFoundError` if there is none.

    ``None`` means the default, ``data/build`` under the current directory.
    """
    path = Path(graph_dir) if graph_dir is not None else default_build_dir()
    if not (path / GRAPH_FILE).is_file() or not (path / STORE_DIR).is_dir():
        raise GraphNotFoundError(
            f"no graph in {path}: build one first with `mlkg build --out {path}`"
        )
    return path


def open_graph(graph_dir: Path | str | None = None) -> Graph:
    """Return the graph of a build as a read-only, Oxigraph-backed :class:`rdflib.Graph`.

    Examples
    --------
    >>> g = open_graph("data/build")  # doctest: +SKIP
    >>> len(g) > 0  # doctest: +SKIP
    True
    """
    from oxrdflib import OxigraphStore
    from rdflib import Graph
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    inner = open_store(graph_dir)
    graph = Graph(store=OxigraphStore(store=inner), identifier=DATASET_DEFAULT_GRAPH_ID)
    _bind_prefixes(graph)
    return graph


def open_store(graph_dir: Path | str | None = None) -> pyoxigraph.Store:
    """Return the Oxigraph store of a build, opened read-only.

    Raises :class:`GraphNotFoundError` without a build and :class:`StoreError` when the store
    cannot be opened (damaged, or not an Oxigraph store).
    """
    import pyoxigraph

    path = resolve_build_dir(graph_dir)
    # Open the build the link points to now, so a rebuild that swaps the link cannot hand
    # RocksDB files of two different builds.
    real = path.resolve() / STORE_DIR
    try:
        return pyoxigraph.Store.read_only(str(real))
    except (OSError, RuntimeError, ValueError) as exc:
        raise StoreError(
            f"cannot open the store in {path / STORE_DIR}: {exc}; rebuild with `mlkg build`"
        ) from exc


def memory_graph(turtle_file: Path | str) -> Graph:
    """Return an in-memory, Oxigraph-backed graph loaded from a Turtle file (tests, fixtures)."""
    import pyoxigraph
    from oxrdflib import OxigraphStore
    from rdflib import Graph
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    inner = pyoxigraph.Store()
    inner.bulk_load(path=str(turtle_file), format=pyoxigraph.RdfFormat.TURTLE)
    graph = Graph(store=OxigraphStore(store=inner), identifier=DATASET_DEFAULT_GRAPH_ID)
    _bind_prefixes(graph)
    return graph


def write_store(source: Path | bytes, store_dir: Path) -> int:
    """Bulk-load a new Oxigraph store at ``store_dir``; return its size.

    ``source`` is a Turtle file, or the graph as N-Triples bytes (what a build holds).
    """
    import pyoxigraph

    store = pyoxigraph.Store(str(store_dir))
    if isinstance(source, bytes):
        store.bulk_load(source, format=pyoxigraph.RdfFormat.N_TRIPLES)
    else:
        store.bulk_load(path=str(source), format=pyoxigraph.RdfFormat.TURTLE)
    store.optimize()
    count = len(store)
    store.flush()
    del store
    return count


def derive_store(base: Path, store_dir: Path, subjects: Iterable[str], ntriples: bytes) -> None:
    """Write at ``store_dir`` a copy of the store ``base`` with new triples for some subjects.

    Every triple of each of ``subjects`` is removed, then the N-Triples ``ntriples`` (their new
    triples) are added, so the copy holds what a bulk load of the new graph would hold. ``base``
    is not changed: its immutable table files are hard-linked (copied across file systems) and
    the rest copied, so a rebuild that changed a few documents does not load the whole graph.
    """
    import pyoxigraph

    store_dir.mkdir()
    for entry in base.iterdir():
        if entry.name == "LOG" or entry.name.startswith("LOG.old"):
            continue  # RocksDB's diagnostic log: each copy would carry all the previous ones
        if entry.suffix == ".sst":
            link_or_copy(entry, store_dir / entry.name)
        else:
            shutil.copy2(entry, store_dir / entry.name)
    store = pyoxigraph.Store(str(store_dir))
    default = pyoxigraph.DefaultGraph()
    for subject in subjects:
        node = pyoxigraph.NamedNode(subject)
        for quad in list(store.quads_for_pattern(node, None, None, default)):
            store.remove(quad)
    if ntriples:
        store.load(ntriples, format=pyoxigraph.RdfFormat.N_TRIPLES)
    store.flush()
    del store


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link ``source`` to ``target`` (for files never changed once written), else copy it."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _bind_prefixes(graph: Graph) -> None:
    from rdflib import Namespace

    from mlkg.ids import ID_BASE, PREFIXES

    for prefix, namespace in {**PREFIXES, "mlkgid": ID_BASE}.items():
        graph.bind(prefix, Namespace(namespace), override=True)


def connect(graph_dir: Path | str | None = None, store_url: str | None = None) -> Graph:
    """Return the graph to read: a remote SPARQL store if ``store_url`` is given, else a build.

    Every command that reads the graph goes through this function, so ``--store`` works the
    same everywhere.
    """
    if store_url:
        from mlkg.remote import open_remote

        return open_remote(store_url)
    return open_graph(graph_dir)
