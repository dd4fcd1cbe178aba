"""The executor: worker pool, deadline, row cap, bindings, rebuild safety."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from mlkg.errors import GraphNotFoundError, QueryError, QueryTimeoutError
from mlkg.executor import QueryResult, WorkerPool, bind_values, execute
from mlkg.guard import QueryRejectedError

ROLE = "https://w3id.org/mlkg/id/role/"
DATA_SCIENTIST = URIRef(ROLE + "data-scientist")
CARTESIAN = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(size=2, memory_limit_mb=2048) as workers:
        yield workers


def _gone(pid: int, within: float = 3.0) -> bool:
    """True once process ``pid`` no longer exists or is a zombie."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_select_rows_and_vars(small_build_dir: Path, pool: WorkerPool) -> None:
    result = execute(
        small_build_dir,
        "SELECT ?r ?l WHERE { ?r a mlkg:Role ; skos:prefLabel ?l } ORDER BY ?l",
        pool=pool,
    )
    assert isinstance(result, QueryResult)
    assert result.form == "SELECT"
    assert result.vars == ["r", "l"]
    assert (DATA_SCIENTIST, Literal("Data Scientist", lang="en")) in result.rows
    assert result.truncated is False
    assert result.boolean is None


def test_unbound_is_none(small_build_dir: Path, pool: WorkerPool) -> None:
    result = execute(
        small_build_dir,
        "SELECT ?r ?missing WHERE { ?r a mlkg:Role OPTIONAL { ?r <urn:none> ?missing } }",
        pool=pool,
    )
    assert result.rows and all(row[1] is None for row in result.rows)


def test_ask_and_construct(small_build_dir: Path, pool: WorkerPool) -> None:
    assert execute(small_build_dir, "ASK { ?s a mlkg:Role }", pool=pool).boolean is True
    assert execute(small_build_dir, "ASK { ?s a <urn:nothing> }", pool=pool).boolean is False
    result = execute(
        small_build_dir,
        "CONSTRUCT { ?r skos:prefLabel ?l } WHERE { ?r a mlkg:Role ; skos:prefLabel ?l }",
        pool=pool,
    )
    assert result.form == "CONSTRUCT"
    assert result.graph_ntriples is not None
    assert f"<{DATA_SCIENTIST}>" in result.graph_ntriples
    assert len(result.rows) == result.graph_ntriples.count(" .\n")


def test_typed_literals_survive(small_build_dir: Path, pool: WorkerPool) -> None:
    result = execute(small_build_dir, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", pool=pool)
    (count,) = result.rows[0]
    assert isinstance(count, Literal)
    assert isinstance(count.toPython(), int)
    assert count.toPython() > 50


def test_row_cap(small_build_dir: Path, pool: WorkerPool) -> None:
    result = execute(small_build_dir, "SELECT * WHERE { ?s ?p ?o }", row_cap=7, pool=pool)
    assert len(result.rows) == 7
    assert result.truncated is True
    exact = execute(small_build_dir, "SELECT * WHERE { ?s ?p ?o } LIMIT 7", row_cap=7, pool=pool)
    assert exact.truncated is False
    graph = execute(small_build_dir, "CONSTRUCT WHERE { ?s ?p ?o }", row_cap=3, pool=pool)
    assert graph.truncated is True
    assert graph.graph_ntriples is not None and graph.graph_ntriples.count("\n") == 3


def test_timeout_kills_the_worker(small_build_dir: Path, pool: WorkerPool) -> None:
    before = set(pool.pids())
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="longer than 1 s") as info:
        execute(small_build_dir, CARTESIAN, timeout=1.0, pool=pool)
    assert time.monotonic() - started < 1.0 + 2.0
    assert info.value.exit_code == 4
    killed = before - set(pool.pids())
    assert len(killed) == 1
    assert _gone(killed.pop())
    # The pool refills and keeps answering.
    assert execute(small_build_dir, "ASK { ?s ?p ?o }", pool=pool).boolean is True


def test_forbidden_and_bad_queries(small_build_dir: Path, pool: WorkerPool) -> None:
    with pytest.raises(QueryRejectedError, match="SERVICE"):
        execute(small_build_dir, "SELECT * { SERVICE <http://e.org/> { ?s ?p ?o } }", pool=pool)
    with pytest.raises(QueryRejectedError, match="read-only"):
        execute(small_build_dir, "DELETE WHERE { ?s ?p ?o }", pool=pool)
    with pytest.raises(QueryError, match="syntax error at line 2"):
        execute(small_build_dir, "SELECT *\nWHERE { ?s ?p }", pool=pool)
    with pytest.raises(QueryError, match="timeout"):
        execute(small_build_dir, "ASK {}", timeout=0, pool=pool)


def test_missing_graph(tmp_path: Path, pool: WorkerPool) -> None:
    with pytest.raises(GraphNotFoundError, match="mlkg build"):
        execute(tmp_path, "ASK {}", pool=pool)


# -- bindings ------------------------------------------------------------------------------------
TOOLS = "SELECT ?tool WHERE { ?role mlkg:usesTool ?tool } ORDER BY ?tool"


def test_binding_a_projected_variable(small_build_dir: Path, pool: WorkerPool) -> None:
    query = "SELECT ?role ?tool WHERE { ?role mlkg:usesTool ?tool } ORDER BY ?tool"
    bound = execute(small_build_dir, query, bindings={"role": DATA_SCIENTIST}, pool=pool)
    assert bound.rows and {row[0] for row in bound.rows} == {DATA_SCIENTIST}


def test_binding_a_variable_not_projected(small_build_dir: Path, pool: WorkerPool) -> None:
    everything = execute(small_build_dir, TOOLS, pool=pool)
    bound = execute(small_build_dir, TOOLS, bindings={"role": DATA_SCIENTIST}, pool=pool)
    assert 0 < len(bound.rows) < len(everything.rows)
    assert {row[0] for row in bound.rows} == {
        URIRef("https://w3id.org/mlkg/id/language/python"),
        URIRef("https://w3id.org/mlkg/id/tool/scikit-learn"),
    }


def test_binding_inside_an_aggregate(small_build_dir: Path, pool: WorkerPool) -> None:
    query = "SELECT (COUNT(?tool) AS ?n) WHERE { ?role mlkg:usesTool ?tool }"
    bound = execute(small_build_dir, query, bindings={"role": DATA_SCIENTIST}, pool=pool)
    assert bound.rows[0][0] == Literal(2)


def test_binding_a_literal_with_quotes_is_data_not_code(
    small_build_dir: Path, pool: WorkerPool
) -> None:
    query = "SELECT ?r WHERE { ?r skos:prefLabel ?label }"
    hostile = Literal('x" } SERVICE <http://evil.example/> { ?a ?b ?c } #', lang="en")
    assert execute(small_build_dir, query, bindings={"label": hostile}, pool=pool).rows == []
    good = Literal("Data Scientist", lang="en")
    assert execute(small_build_dir, query, bindings={"label": good}, pool=pool).rows == [
        (DATA_SCIENTIST,)
    ]


@pytest.mark.parametrize(
    ("bindings", "message"),
    [
        ({"bad name": DATA_SCIENTIST}, "bad parameter name"),
        ({"role": URIRef("http://e.org/a> } SERVICE <http://x")}, "not a valid IRI"),
        ({"role": "plain text"}, "expected an IRI or a literal"),
    ],
)
def test_bad_bindings(
    small_build_dir: Path, pool: WorkerPool, bindings: dict, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        execute(small_build_dir, TOOLS, bindings=bindings, pool=pool)


@pytest.mark.parametrize(
    ("text", "form", "expected"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT", "SELECT * WHERE { VALUES"),
        ("SELECT * { ?s ?p ?o }", "SELECT", "SELECT * { VALUES"),
        ("SELECT (EXISTS { ?a ?b ?c } AS ?x) WHERE { ?s ?p ?o }", "SELECT", "WHERE { VALUES"),
        ('SELECT * WHERE { ?s ?p "{" } # {', "SELECT", "WHERE { VALUES"),
        ("# WHERE {\nSELECT * WHERE { ?s ?p ?o }", "SELECT", "SELECT * WHERE { VALUES"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT", "WHERE { VALUES"),
        ("ASK { ?s ?p ?o }", "ASK", "ASK { VALUES"),
    ],
)
def test_bind_values_position(text: str, form: str, expected: str) -> None:
    assert expected in bind_values(text, form, [("s", "<urn:x>")])


@pytest.mark.parametrize(
    ("text", "form"),
    [("DESCRIBE <urn:x>", "DESCRIBE"), ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT")],
)
def test_bind_values_needs_a_where_group(text: str, form: str) -> None:
    with pytest.raises(QueryError, match="WHERE"):
        bind_values(text, form, [("s", "<urn:x>")])


# -- rebuilds ------------------------------------------------------------------------------------
def _copy_build(source: Path, target: Path) -> None:
    shutil.copytree(source, target)


def test_reader_sees_the_new_build_after_an_atomic_swap(
    small_build_dir: Path, tmp_path: Path, pool: WorkerPool
) -> None:
    from mlkg.store import GRAPH_FILE, STORE_DIR, write_store

    live = tmp_path / "build"
    _copy_build(small_build_dir, live)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    before = execute(live, query, pool=pool).rows[0][0]

    staging = tmp_path / "staging"
    staging.mkdir()
    extra = tmp_path / "extra.ttl"
    extra.write_text(
        (small_build_dir / GRAPH_FILE).read_text(encoding="utf-8")
        + "\n<urn:new> <urn:p> <urn:o> .\n",
        encoding="utf-8",
    )
    shutil.copy(extra, staging / GRAPH_FILE)
    write_store(staging / GRAPH_FILE, staging / STORE_DIR)
    old = tmp_path / "old"
    os.rename(live, old)
    os.rename(staging, live)

    after = execute(live, query, pool=pool).rows[0][0]
    assert isinstance(before, Literal) and isinstance(after, Literal)
    assert after.toPython() == before.toPython() + 1
    shutil.rmtree(old)
    assert execute(live, "ASK { <urn:new> ?p ?o }", pool=pool).boolean is True


def test_default_pool_runs_without_an_explicit_pool(small_build_dir: Path) -> None:
    assert execute(small_build_dir, "ASK { ?s a mlkg:Role }").boolean is True


def test_memory_limit_stops_a_greedy_query(small_build_dir: Path) -> None:
    greedy = "SELECT ?a ?b ?c WHERE { ?a ?x ?b . ?c ?y ?d . ?e ?z ?f } ORDER BY ?a ?b ?c ?d ?e ?f"
    with WorkerPool(size=1, memory_limit_mb=600) as small:
        with pytest.raises(QueryError, match="memory"):
            execute(small_build_dir, greedy, timeout=60, row_cap=5, pool=small)
        assert execute(small_build_dir, "ASK { ?s ?p ?o }", pool=small).boolean is True


def test_symlink_swap_like_mlkg_build(small_build_dir: Path, tmp_path: Path) -> None:
    """`mlkg build` publishes a build by replacing a symbolic link; readers follow the swap."""
    from mlkg.store import GRAPH_FILE, STORE_DIR, write_store

    first = tmp_path / "builds" / "1"
    second = tmp_path / "builds" / "2"
    _copy_build(small_build_dir, first)
    second.mkdir(parents=True)
    (second / GRAPH_FILE).write_text("<urn:only> <urn:p> <urn:o> .\n", encoding="utf-8")
    write_store(second / GRAPH_FILE, second / STORE_DIR)
    live = tmp_path / "build"
    live.symlink_to(first)
    with WorkerPool(size=1) as one:
        assert execute(live, "ASK { ?s a mlkg:Role }", pool=one).boolean is True
        link = tmp_path / ".build.link"
        link.symlink_to(second)
        os.replace(link, live)
        assert execute(live, "ASK { ?s a mlkg:Role }", pool=one).boolean is False
        assert execute(live, "ASK { <urn:only> ?p ?o }", pool=one).boolean is True


def test_a_pool_without_the_preloaded_parser_still_checks_new_queries(
    small_build_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No cached verdict: the worker must import the SPARQL grammar when the query comes.
    monkeypatch.setenv("MLKG_NO_CACHE", "1")
    with WorkerPool(size=1, start_method="spawn", preload_parser=False) as one:
        assert execute(small_build_dir, "ASK { ?s a mlkg:Role }", pool=one).boolean is True
        with pytest.raises(QueryError, match="syntax error"):
            execute(small_build_dir, "SELECT ?s WHERE { ?s ", pool=one)
