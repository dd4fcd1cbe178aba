"""Shared fixtures: the hand-made small graph and one build of the bundled corpus per session."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def small_graph_file() -> Path:
    """The hand-made Turtle graph that follows docs/data-model.md."""
    return FIXTURES / "small-graph.ttl"


@pytest.fixture()
def small_graph(small_graph_file: Path):  # type: ignore[no-untyped-def]
    """The small graph loaded into an in-memory Oxigraph-backed rdflib Graph."""
    from mlkg.store import memory_graph

    return memory_graph(small_graph_file)


@pytest.fixture(scope="session")
def small_build_dir(tmp_path_factory: pytest.TempPathFactory, small_graph_file: Path) -> Path:
    """A build folder (mlkg.ttl + store/) holding the small hand-made graph."""
    import shutil

    from mlkg.store import GRAPH_FILE, STORE_DIR, write_store

    out = tmp_path_factory.mktemp("small-build")
    shutil.copy(small_graph_file, out / GRAPH_FILE)
    write_store(out / GRAPH_FILE, out / STORE_DIR)
    return out


@pytest.fixture(scope="session")
def seed_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of the five bundled seed documents (built once per test session)."""
    from mlkg.build import build
    from mlkg.resources import corpus_dir

    out = tmp_path_factory.mktemp("seed-build") / "build"
    build([corpus_dir()], out)
    return out
