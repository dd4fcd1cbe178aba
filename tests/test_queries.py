"""Tests of the named-query catalogue, parameter binding and running (mlkg.queries).

Every catalogue query runs on the small hand-made graph (in memory and through the executor) and
on the seed build, against golden results in ``tests/golden/queries/{small,seed}/<name>.json``
(SPARQL 1.1 JSON results). ``MLKG_UPDATE_GOLDENS=1 pytest tests/test_queries.py`` rewrites them,
and the catalogue table in ``docs/sparql.md``; read the diff before committing.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Literal, URIRef
from tests.query_params import (
    SEED_DEFAULT,
    SEED_OVERRIDES,
    SMALL_DEFAULT,
    SMALL_OVERRIDES,
    params_for,
)

import mlkg
from mlkg.errors import QueryError
from mlkg.output import to_json
from mlkg.queries import (
    _TOKEN,
    NamedQuery,
    adhoc_query,
    catalogue_markdown,
    check_params,
    entity_classes,
    execute_query,
    inject_values,
    load_catalogue,
    parse_header,
    query_variables,
    resolve,
    resolve_entity,
    run,
    term_to_sparql,
    where_group_start,
)
from mlkg.resources import queries_dir

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "queries"
UPDATE = os.environ.get("MLKG_UPDATE_GOLDENS") == "1"
CATALOGUE = load_catalogue()
NAMES = sorted(CATALOGUE)

ROLE = "https://w3id.org/mlkg/id/role/"
ONTOLOGY = "https://w3id.org/mlkg/ontology#"


def check_golden(path: Path, actual: str) -> None:
    """Compare a JSON result with its golden file (or rewrite it under MLKG_UPDATE_GOLDENS=1)."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"no golden file {path}: run MLKG_UPDATE_GOLDENS=1 pytest {__file__}"
    want, got = json.loads(path.read_text(encoding="utf-8")), json.loads(actual)
    if want != got:
        pytest.fail(
            f"{path.parent.name}/{path.name} differs from the golden result:\n"
            + _diff(want, got)
            + "\n(if the graph changed on purpose, "
            "rerun with MLKG_UPDATE_GOLDENS=1 and read the diff)"
        )


def _diff(want: dict, got: dict) -> str:
    """Say which head or rows differ between two SPARQL JSON results (order-aware)."""
    if want.get("head") != got.get("head"):
        return f"  vars {want.get('head')} != {got.get('head')}"

    def rows(doc: dict) -> list[str]:
        return [
            " | ".join(f"{k}={v['value']}" for k, v in sorted(b.items()))
            for b in doc.get("results", {}).get("bindings", [])
        ]

    old, new = rows(want), rows(got)
    lines = [f"  rows: {len(old)} expected, {len(new)} now"]
    lines += [f"  - {row[:200]}" for row in old if row not in new][:10]
    lines += [f"  + {row[:200]}" for row in new if row not in old][:10]
    if sorted(old) == sorted(new):
        lines.append("  same rows, different order")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The catalogue files


def test_catalogue_has_the_queries_the_issue_asks_for() -> None:
    required = {
        "roles", "role-profile", "skills-of-role", "tools-of-role", "venues-of-role",
        "degrees-of-role", "roles-needing", "shared-skills", "top-skills", "top-tools",
        "skill-gap", "ladder", "salaries", "evidence",
    }  # fmt: skip
    assert required <= set(CATALOGUE)


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_file_conventions(name: str) -> None:
    query = CATALOGUE[name]
    text = query.text
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), "kebab-case file name"
    lines = text.splitlines()
    assert lines[0].startswith("#+ summary: ") and query.summary, "first line is #+ summary:"
    assert lines[1].startswith("#+ params: "), "second line is #+ params:"
    assert re.search(r"^PREFIX mlkg: <https://w3id\.org/mlkg/ontology#>$", text, re.M)
    # Every prefix used is declared (no reliance on the engine's default prefixes).
    declared = set(re.findall(r"^PREFIX (\w*):", text, re.M))
    body = "\n".join(line for line in lines if not line.startswith(("#", "PREFIX")))
    body = re.sub(r'"[^"]*"|<[^>]*>', "", body)
    used = set(re.findall(r"(?<![\w?$])([A-Za-z][\w-]*):[A-Za-z_]", body))
    assert used <= declared, f"undeclared prefixes: {used - declared}"
    assert re.search(r"^ORDER BY ", text, re.M), "a deterministic ORDER BY"
    variables = query_variables(text)
    for param in query.params:
        assert param.name in variables, f"parameter {param.name} is not a variable of the query"
        assert param.description, f"parameter {param.name} has no description"


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOGUE[n].params])
def test_parameters_are_used_in_the_top_level_group(name: str) -> None:
    # The VALUES block goes at the top of the WHERE group; a variable used only inside a
    # sub-SELECT would not be constrained by it, and the query would silently ignore the value.
    query = CATALOGUE[name]
    start = where_group_start(query.text, form="SELECT")
    assert start is not None
    tokens = [m for m in _TOKEN.finditer(query.text, start) if m.lastgroup != "comment"]
    stack: list[bool] = [False]  # per open group: is it (inside) a sub-SELECT?
    top_level: set[str] = set()
    for index, match in enumerate(tokens):
        token = match.group()
        if match.lastgroup == "open":
            following = tokens[index + 1].group().upper() if index + 1 < len(tokens) else ""
            stack.append(stack[-1] or following == "SELECT")
        elif match.lastgroup == "close":
            stack.pop()
            if not stack:
                break
        elif token[0] in "?$" and not stack[-1]:
            top_level.add(token[1:])
    for param in query.params:
        assert param.name in top_level, f"?{param.name} is not used in the top-level group"


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_queries_pass_the_guard(name: str) -> None:
    from mlkg.guard import check_query

    assert check_query(CATALOGUE[name].text) == "SELECT"


def test_order_by_breaks_ties_by_label_then_iri() -> None:
    # The last ORDER BY key of a query that returns an entity column is an IRI or a label,
    # so two rows never compare equal on every key.
    for name, query in CATALOGUE.items():
        order = re.search(r"^ORDER BY (.*)$", query.text, re.M)
        assert order, name
        keys = order.group(1).split()
        assert len(keys) >= 2 or name in {"stats"}, f"{name}: one ORDER BY key cannot break ties"


def test_order_by_sorts_labels_as_strings() -> None:
    # Virtuoso 7.2 orders language-tagged literals longer than about 20 characters by a prefix
    # only, so a label is ordered by STR() (or a string BIND made from it), never bare.
    for name, query in CATALOGUE.items():
        order = query.text[query.text.rindex("ORDER BY") :]
        computed = set(re.findall(r"\bAS \?(\w+)\)", query.text))
        bare = re.findall(r"(?<![\w(])\?(\w*[Ll]abel)\b", order)
        assert not [v for v in bare if v not in computed], f"{name}: ORDER BY a bare label"


# Queries that list a class and its subclasses (VALUES or IN) instead of walking
# `rdfs:subClassOf*` (which loses rows on Virtuoso 7.2 when combined with ORDER BY).
ENUMERATED_CLASSES = {
    "skills-of-role": "Skill",
    "top-skills": "Skill",
    "tools-of-role": "Tool",
    "top-tools": "Tool",
}


@pytest.mark.parametrize("name", sorted(ENUMERATED_CLASSES))
def test_enumerated_classes_are_the_ontology_subclasses(name: str) -> None:
    from rdflib import Graph, Namespace
    from rdflib.namespace import RDFS

    from mlkg.resources import ontology_dir

    mlkg_ns = Namespace("https://w3id.org/mlkg/ontology#")
    ontology = Graph().parse(ontology_dir() / "mlkg.ttl", format="turtle")
    top = mlkg_ns[ENUMERATED_CLASSES[name]]
    closure = {
        str(c).removeprefix(str(mlkg_ns))
        for c in ontology.transitive_subjects(RDFS.subClassOf, top)
    }
    text = CATALOGUE[name].text
    pairs = re.findall(r'\(mlkg:(\w+) "(\w+)"\)', text)  # VALUES (?class ?kind) rows
    assert all(cls == kind for cls, kind in pairs), "?kind is the class's local name"
    if pairs:
        assert {cls for cls, _ in pairs} == closure
    lists = re.findall(r"VALUES \?\w+ \{([^}]*)\}", text)  # one-variable class lists
    lists += re.findall(r"\bIN \(([^)]*)\)", text)  # FILTER(?class IN (...))
    assert pairs or lists, f"{name} names no classes"
    for block in lists:
        assert set(re.findall(r"mlkg:(\w+)", block)) == closure


def test_docs_catalogue_table_matches_the_files() -> None:
    doc = ROOT / "docs" / "sparql.md"
    text = doc.read_text(encoding="utf-8")
    start, end = "<!-- catalogue:start -->\n", "<!-- catalogue:end -->"
    assert start in text and end in text, "docs/sparql.md lacks the catalogue markers"
    before, rest = text.split(start, 1)
    current, after = rest.split(end, 1)
    expected = catalogue_markdown(CATALOGUE)
    if UPDATE and current != expected:
        doc.write_text(before + start + expected + end + after, encoding="utf-8")
        return
    assert current == expected, "docs/sparql.md catalogue table is stale (MLKG_UPDATE_GOLDENS=1)"


# ---------------------------------------------------------------------------------------------
# Golden results


@pytest.mark.parametrize("name", NAMES)
def test_golden_small_graph(name: str, small_graph: Any) -> None:
    params = params_for(name, SMALL_DEFAULT, SMALL_OVERRIDES)
    result = execute_query(small_graph, name, params)
    assert not result.truncated
    check_golden(GOLDEN / "small" / f"{name}.json", to_json(result))


@pytest.mark.parametrize("name", NAMES)
def test_small_build_dir_gives_the_same_rows_as_the_graph(
    name: str, small_graph: Any, small_build_dir: Path
) -> None:
    params = params_for(name, SMALL_DEFAULT, SMALL_OVERRIDES)
    in_memory = execute_query(small_graph, name, params)
    on_disk = execute_query(small_build_dir, name, params)
    assert on_disk.vars == in_memory.vars
    assert on_disk.rows == in_memory.rows


@pytest.fixture(scope="module")
def rdflib_graph(small_graph_file: Path) -> Any:
    """The small graph in rdflib's own in-memory store (rdflib's SPARQL engine, not Oxigraph)."""
    from rdflib import Graph

    graph = Graph()
    graph.parse(small_graph_file, format="turtle")
    return graph


@pytest.mark.parametrize("name", NAMES)
def test_rdflib_engine_gives_the_same_rows(name: str, small_graph: Any, rdflib_graph: Any) -> None:
    # The catalogue is plain SPARQL 1.1: any engine (a remote store through --store too)
    # should agree with Oxigraph.
    params = params_for(name, SMALL_DEFAULT, SMALL_OVERRIDES)
    oxigraph = execute_query(small_graph, name, params)
    rdflib_engine = execute_query(rdflib_graph, name, params)
    assert rdflib_engine.vars == oxigraph.vars
    assert rdflib_engine.rows == oxigraph.rows


@pytest.fixture(scope="module")
def seed_dir(request: pytest.FixtureRequest) -> Path:
    """The seed build, or a skip while the build pipeline is not there yet."""
    pytest.importorskip("mlkg.build", reason="the build pipeline (mlkg.build) is not there yet")
    return request.getfixturevalue("seed_build_dir")  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", NAMES)
def test_golden_seed_build(name: str, seed_dir: Path) -> None:
    params = params_for(name, SEED_DEFAULT, SEED_OVERRIDES)
    result = execute_query(seed_dir, name, params)
    assert not result.truncated
    check_golden(GOLDEN / "seed" / f"{name}.json", to_json(result))


def test_small_graph_answers_make_sense(small_graph: Any) -> None:
    ladder = run(small_graph, "ladder", role="data scientist")
    assert [(str(r["label"]), int(r["distance"])) for r in ladder] == [
        ("Senior Data Scientist", 1),
        ("Research Scientist", 2),
        ("Research Director", 3),
    ]
    gap = run(small_graph, "skill-gap", role_a="Data Scientist", role_b="Research Scientist")
    assert {str(r["label"]) for r in gap} == {
        "deep learning", "research methodology", "PyTorch", "PhD",
    }  # fmt: skip
    degrees = run(small_graph, "degrees-of-role", role="Research Scientist")
    assert [(str(r["label"]), str(r["qualifier"])) for r in degrees] == [("PhD", "typical")]
    needing = run(small_graph, "roles-needing", requirement="python")
    assert [str(r["label"]) for r in needing] == [
        "Data Scientist", "Research Scientist", "Senior Data Scientist",
    ]  # fmt: skip
    top = run(small_graph, "top-skills")
    assert str(top[0]["label"]) == "communication" and int(top[0]["roles"]) == 3


def test_ladder_distance_is_the_shortest_route(tmp_path: Path) -> None:
    from mlkg.store import memory_graph

    # a -> b -> c -> d and a shortcut a -> c; then a chain of 30 roles after d
    lines = ["@prefix mlkg: <https://w3id.org/mlkg/ontology#> .",
             "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
             "@prefix r: <https://w3id.org/mlkg/id/role/> ."]  # fmt: skip
    names = ["a", "b", "c", "d"] + [f"x{i:02d}" for i in range(30)]
    for name in names:
        lines.append(f'r:{name} a mlkg:Role ; skos:prefLabel "{name}"@en .')
    for first, second in itertools.pairwise(names):
        lines.append(f"r:{first} mlkg:progressesTo r:{second} .")
    lines.append("r:a mlkg:progressesTo r:c .")
    path = tmp_path / "chain.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = run(memory_graph(path), "ladder", role="a")
    got = [(str(r["label"]), int(r["distance"]) if "distance" in r else None) for r in rows]
    assert got[:4] == [("b", 1), ("c", 1), ("d", 2), ("x00", 3)]
    assert got[9:11] == [("x06", 9), ("x07", 10)]
    # beyond 10 steps: listed, without a distance, after the others
    assert all(distance is None for _, distance in got[11:])
    assert [label for label, _ in got[11:]] == [f"x{i:02d}" for i in range(8, 30)]


# ---------------------------------------------------------------------------------------------
# Header parsing and resolution


def test_parse_header() -> None:
    summary, params, has_summary, has_params = parse_header(
        "#+ summary: Hello.\n#+ params: role_a (first role), role_b (second, by label)\nSELECT"
    )
    assert summary == "Hello." and has_summary and has_params
    assert [(p.name, p.description) for p in params] == [
        ("role_a", "first role"),
        ("role_b", "second, by label"),
    ]
    assert parse_header("#+ params: none\nASK {}")[1] == []
    assert parse_header("ASK {}") == ("", [], False, False)


@pytest.mark.parametrize("header", ["#+ params: role role", "#+ params: role (x), (y)"])
def test_parse_header_rejects_malformed_params(header: str) -> None:
    with pytest.raises(QueryError, match="malformed"):
        parse_header(header + "\nSELECT * {}")


def test_resolve_name_path_and_text(tmp_path: Path) -> None:
    assert resolve("roles") is CATALOGUE["roles"] or resolve("roles") == CATALOGUE["roles"]
    path = tmp_path / "mine.rq"
    path.write_text("#+ summary: Mine.\n#+ params: none\nASK { ?s ?p ?o }\n", encoding="utf-8")
    mine = resolve(str(path))
    assert mine.adhoc and mine.summary == "Mine." and mine.path == path
    text = resolve("SELECT * WHERE { ?s ?p ?o }")
    assert text.adhoc and text.path is None


def test_resolve_unknown_name_lists_known_ones() -> None:
    with pytest.raises(QueryError) as info:
        resolve("skills-of-rol")
    message = str(info.value)
    assert "did you mean 'skills-of-role'" in message
    assert "known queries: " in message and "ladder" in message


def test_resolve_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="no query file"):
        resolve(str(tmp_path / "nothing.rq"))
    folder = tmp_path / "dir.rq"
    folder.mkdir()
    with pytest.raises(QueryError, match="is a folder"):
        resolve(str(folder))


def test_catalogue_is_read_from_the_resources_folder() -> None:
    assert {p.stem for p in queries_dir().glob("*.rq")} == set(CATALOGUE)


# ---------------------------------------------------------------------------------------------
# Parameters


def test_check_params_unknown_missing_and_dashes() -> None:
    gap = CATALOGUE["skill-gap"]
    assert check_params(gap, {"role-a": "x", "role_b": "y"}) == {"role_a": "x", "role_b": "y"}
    with pytest.raises(QueryError, match=r"unknown parameter 'colour'.*role_a, role_b"):
        check_params(gap, {"role_a": "x", "role_b": "y", "colour": "red"})
    with pytest.raises(QueryError, match="needs --param role_b=VALUE"):
        check_params(gap, {"role_a": "x"})
    with pytest.raises(QueryError, match=r"unknown parameter 'role'.*none"):
        check_params(CATALOGUE["roles"], {"role": "x"})


def test_adhoc_params_are_the_query_variables() -> None:
    query = adhoc_query("SELECT ?x WHERE { ?x ?p ?role }  # ?nope in a comment\n")
    assert check_params(query, {"role": "a"}) == {"role": "a"}
    with pytest.raises(QueryError, match="no variable \\?nope"):
        check_params(query, {"nope": "a"})
    declared = adhoc_query("#+ params: role (a role)\nSELECT ?x WHERE { ?x ?p ?role . ?x ?q ?y }")
    with pytest.raises(QueryError, match="unknown parameter 'y'"):
        check_params(declared, {"role": "a", "y": "b"})


def test_entity_classes_by_parameter_name() -> None:
    assert entity_classes("role") == ("https://w3id.org/mlkg/ontology#Role",)
    assert entity_classes("role_b") == entity_classes("role")
    assert entity_classes("requirement") == (
        "https://w3id.org/mlkg/ontology#Skill",
        "https://w3id.org/mlkg/ontology#Tool",
    )
    assert entity_classes("text") is None


@pytest.mark.parametrize(
    "value",
    [
        "Research Scientist",
        "research scientist",
        "  RESEARCH   scientist ",
        "ml research scientist",
        "Machine Learning Research Scientist",
        "research-scientist",
        f"{ROLE}research-scientist",
        f"<{ROLE}research-scientist>",
        URIRef(f"{ROLE}research-scientist"),
    ],
)
def test_role_by_label_altlabel_slug_or_iri(small_graph: Any, value: Any) -> None:
    rows = run(small_graph, "role-profile", role=value)
    labels = {str(r["object"]) for r in rows if str(r["property"]).endswith("prefLabel")}
    assert labels == {"Research Scientist"}


def test_skill_by_altlabel_and_tool_by_altlabel(small_graph: Any) -> None:
    assert [str(r["label"]) for r in run(small_graph, "roles-needing", requirement="DL")] == [
        "Research Scientist",
        "Senior Data Scientist",
    ]
    assert [str(r["label"]) for r in run(small_graph, "roles-needing", requirement="SKLEARN")] == [
        "Data Scientist"
    ]


@pytest.mark.parametrize("value", ["Machine Learning Research Scientist", "research-scientist"])
def test_names_are_looked_up_in_pages(
    small_graph: Any, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server may cut long answers (Virtuoso: 10,000 rows), so labels come in pages."""
    import mlkg.queries

    monkeypatch.setattr(mlkg.queries, "LOOKUP_PAGE", 2)
    rows = run(small_graph, "role-profile", role=value)
    assert {str(r["object"]) for r in rows if str(r["property"]).endswith("prefLabel")} == {
        "Research Scientist"
    }
    with pytest.raises(QueryError, match=r"did you mean 'Research Scientist'"):
        run(small_graph, "skills-of-role", role="Reserch Scientist")


@pytest.mark.parametrize("value", ["Research Scientist", "research-scientist", "Reserch Scientist"])
def test_a_build_folder_answers_a_lookup_in_one_request(
    small_build_dir: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No paging on a build folder (no server cuts the answer), whatever the page size."""
    import mlkg.queries

    monkeypatch.setattr(mlkg.queries, "LOOKUP_PAGE", 2)
    calls: list[str] = []
    real = mlkg.queries._execute

    def counting(target: Any, text: str, **kwargs: Any) -> Any:
        calls.append(text)
        return real(target, text, **kwargs)

    monkeypatch.setattr(mlkg.queries, "_execute", counting)
    try:
        rows = run(small_build_dir, "skills-of-role", role=value)
    except QueryError as error:
        assert value == "Reserch Scientist" and "did you mean 'Research Scientist'" in str(error)
    else:
        assert rows and value != "Reserch Scientist"
    assert len([text for text in calls if "?preferred" in text]) == 1


def test_an_iri_is_looked_up_alone(small_build_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given an IRI, the lookup reads that entity's labels only, and still checks its class."""
    import mlkg.queries

    answers: list[set[str]] = []
    real = mlkg.queries._execute

    def counting(target: Any, text: str, **kwargs: Any) -> Any:
        result = real(target, text, **kwargs)
        if "?preferred" in text:
            answers.append({str(row[result.vars.index("entity")]) for row in result.rows})
        return result

    monkeypatch.setattr(mlkg.queries, "_execute", counting)
    role = "https://w3id.org/mlkg/id/role/research-scientist"
    assert run(small_build_dir, "skills-of-role", role=f"<{role}>")
    assert answers == [{role}]
    with pytest.raises(QueryError, match="no role has the IRI"):
        run(small_build_dir, "skills-of-role", role="https://w3id.org/mlkg/id/skill/statistics")


def test_subclass_closure_follows_the_ontology() -> None:
    from mlkg.queries import subclass_closure

    def names(*classes: str) -> list[str]:
        closure = subclass_closure(tuple(ONTOLOGY + c for c in classes))
        return [c.rsplit("#", 1)[-1] for c in closure]

    assert names("Skill") == ["Skill", "SoftSkill", "TechnicalSkill"]
    assert names("Skill", "Tool") == [
        "ProgrammingLanguage", "Skill", "SoftSkill", "TechnicalSkill", "Tool"
    ]  # fmt: skip
    assert names("Role") == ["Role"]


def test_unknown_label_suggests_close_ones(small_graph: Any) -> None:
    with pytest.raises(QueryError, match=r"no role called 'Reserch Scientist'.*did you mean"):
        run(small_graph, "skills-of-role", role="Reserch Scientist")
    with pytest.raises(QueryError, match=r"no role called 'zzzz'$"):
        run(small_graph, "skills-of-role", role="zzzz")


def test_a_skill_is_not_a_role(small_graph: Any) -> None:
    with pytest.raises(QueryError, match="no role called 'statistics'"):
        run(small_graph, "skills-of-role", role="statistics")
    with pytest.raises(QueryError, match="no role has the IRI"):
        run(small_graph, "skills-of-role", role="https://w3id.org/mlkg/id/skill/statistics")


def test_ambiguous_label() -> None:
    rows = [
        {"entity": URIRef(ROLE + "a"), "label": Literal("Alpha"), "preferred": Literal(True)},
        {"entity": URIRef(ROLE + "b"), "label": Literal("Beta"), "preferred": Literal(True)},
        {"entity": URIRef(ROLE + "a"), "label": Literal("Lead"), "preferred": Literal(False)},
        {"entity": URIRef(ROLE + "b"), "label": Literal("lead"), "preferred": Literal(False)},
        {"entity": URIRef(ROLE + "c"), "label": Literal("Gamma"), "preferred": Literal(True)},
        {"entity": URIRef(ROLE + "d"), "label": Literal("Gamma"), "preferred": Literal(False)},
    ]
    with pytest.raises(QueryError, match=r"'Lead' names several roles: Alpha .*Beta"):
        resolve_entity("Lead", "role", (), rows)
    # a prefLabel wins over another entity's altLabel
    assert resolve_entity("gamma", "role", (), rows) == URIRef(ROLE + "c")


def test_literal_params_and_rdflib_terms(small_graph: Any) -> None:
    rows = run(small_graph, "search", text="PYTORCH")
    assert {str(r["label"]) for r in rows} == {"PyTorch"}
    rows = run(small_graph, "search", text=Literal("torch"))
    assert {str(r["label"]) for r in rows} == {"PyTorch"}


def test_values_binds_variables_that_are_not_projected(small_graph: Any) -> None:
    # skills-of-role does not project ?role: oxrdflib's initBindings would fail there.
    assert "?role" not in CATALOGUE["skills-of-role"].text.split("WHERE")[0]
    rows = run(small_graph, "skills-of-role", role="Research Director")
    assert [str(r["label"]) for r in rows] == ["research methodology", "leadership"] or [
        str(r["label"]) for r in rows
    ] == ["leadership", "research methodology"]


def test_oxrdflib_initbindings_trap_still_exists(small_graph: Any) -> None:
    # Why we inject VALUES: oxrdflib refuses initBindings on a variable not in the projection.
    role = URIRef(ROLE + "research-scientist")
    with pytest.raises(RuntimeError, match="projection"):
        list(small_graph.query("SELECT ?x WHERE { ?role ?p ?x }", initBindings={"role": role}))


def test_run_ask_construct_and_api(small_graph: Any) -> None:
    assert run(small_graph, "ASK { ?s a <https://w3id.org/mlkg/ontology#Role> }") == [
        {"boolean": Literal(True)}
    ]
    triples = run(
        small_graph,
        "CONSTRUCT { ?r <http://e/p> ?l } WHERE { ?r a <https://w3id.org/mlkg/ontology#Role> ; "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }",
    )
    assert len(triples) == 5 and set(triples[0]) == {"subject", "predicate", "object"}
    assert mlkg.query(small_graph, "roles") == run(small_graph, "roles")


def test_run_on_a_build_folder(small_build_dir: Path) -> None:
    rows = mlkg.query(small_build_dir, "tools-of-role", role="senior data scientist")
    assert [str(r["label"]) for r in rows] == ["Python", "PyTorch"]
    assert rows[0]["tool"] == URIRef("https://w3id.org/mlkg/id/language/python")


def test_missing_graph_folder(tmp_path: Path) -> None:
    from mlkg.errors import GraphNotFoundError

    with pytest.raises(GraphNotFoundError, match="mlkg build --out"):
        run(tmp_path / "nothing", "roles")


def test_syntax_error_has_line_and_column(small_graph: Any) -> None:
    with pytest.raises(QueryError, match=r"syntax error at line 2, column \d+"):
        run(small_graph, "SELECT ?x WHERE {\n  ?x ?y }")


def test_service_is_refused(small_graph: Any) -> None:
    with pytest.raises(QueryError, match="SERVICE"):
        run(small_graph, "SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }")


# ---------------------------------------------------------------------------------------------
# VALUES injection


def test_where_group_start_cases() -> None:
    cases = {
        "SELECT * WHERE { ?s ?p ?o }": "SELECT * WHERE {",
        'SELECT * { ?s ?p "{" }': "SELECT * {",
        "# { a comment\nSELECT * WHERE { ?s ?p ?o }": "# { a comment\nSELECT * WHERE {",
        "SELECT (EXISTS { ?s ?p ?o } AS ?e) WHERE { ?s ?p ?o }": "AS ?e) WHERE {",
        "PREFIX a: <http://x/#> SELECT * WHERE { ?s ?p ?o }": "SELECT * WHERE {",
        "SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o } } }": "SELECT * WHERE {",
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }": "} WHERE {",
        "ASK { ?s ?p '''}''' }": "ASK {",
        "DESCRIBE ?s WHERE { ?s ?p ?o }": "DESCRIBE ?s WHERE {",
    }
    for query, prefix in cases.items():
        form = query.split("#")[0].split()[0] if not query.startswith("#") else "SELECT"
        if form.upper() not in {"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"}:
            form = "SELECT"
        position = where_group_start(query, form=form.upper())
        assert position is not None and query[:position].endswith(prefix), query
    assert where_group_start("CONSTRUCT WHERE { ?s ?p ?o }", form="CONSTRUCT") is None
    assert where_group_start("DESCRIBE <http://x/>", form="DESCRIBE") is None


def test_injection_falls_back_to_trailing_values(small_graph: Any) -> None:
    text = "CONSTRUCT WHERE { ?r a ?class }"
    rows = run(small_graph, text, **{"class": URIRef("https://w3id.org/mlkg/ontology#Venue")})
    assert [str(r["subject"]) for r in rows] == ["https://w3id.org/mlkg/id/venue/neurips"]


def test_term_to_sparql_rejects_bad_terms() -> None:
    with pytest.raises(QueryError, match="not a valid absolute IRI"):
        term_to_sparql(URIRef("http://a b/"))
    with pytest.raises(QueryError, match="not a valid absolute IRI"):
        term_to_sparql(URIRef("http://x/> } UNION { ?s ?p ?o"))
    with pytest.raises(QueryError, match=r"blank nodes|only IRIs and literals"):
        term_to_sparql(BNode("b0"))
    assert term_to_sparql(Literal("x", lang="en-GB")) == '"x"@en-GB'
    assert term_to_sparql(Literal(3)) == '"3"^^<http://www.w3.org/2001/XMLSchema#integer>'


def _tokens(text: str) -> list[str]:
    return [m.group() for m in _TOKEN.finditer(text) if m.lastgroup != "comment"]


HOSTILE = st.text(
    alphabet=st.sampled_from([*"\"'{}()<>?$#\\\n\r\t .;,|^`u0022aZ", "\u2028", "\x00", "é"]),
    max_size=40,
) | st.text(max_size=40)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=HOSTILE)
def test_values_injection_never_changes_the_query_structure(small_graph: Any, value: str) -> None:
    query = "SELECT ?text (COUNT(*) AS ?n) WHERE { OPTIONAL { ?s ?p ?text } } GROUP BY ?text"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        with pytest.raises(QueryError):
            run(small_graph, query, text=value)
        return
    injected = inject_values(query, ["text"], [[Literal(value)]], form="SELECT")
    # Lexically: the original tokens plus exactly VALUES ( ?text ) { ( "…" ) }, one string token.
    original, new = _tokens(query), _tokens(injected)
    start = original.index("{") + 1
    assert new[:start] == original[:start]
    assert new[start : start + 8][:4] == ["VALUES", "(", "?text", ")"]
    assert new[start + 4 : start + 6] == ["{", "("]
    assert new[start + 7 : start + 9] == [")", "}"]
    assert new[start + 9 :] == original[start:]
    # Semantically: one row, the value itself, counted once.
    rows = run(small_graph, query, text=value)
    assert rows == [{"text": Literal(value), "n": Literal(1)}]


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=HOSTILE)
def test_hostile_labels_are_never_pasted(small_graph: Any, value: str) -> None:
    # An entity parameter is looked up in Python: the text never reaches the query.
    if value.strip() and value.strip().casefold() in {"research-scientist"}:
        return
    try:
        rows = run(small_graph, "skills-of-role", role=value)
    except QueryError as exc:
        assert "no role" in str(exc) or "empty" in str(exc) or "IRI" in str(exc)
    else:  # only a real role name resolves
        assert all(isinstance(r["skill"], URIRef) for r in rows)


@pytest.mark.parametrize(
    "value",
    ['"} UNION { ?s ?p ?o } #', 'x"\n} ; DROP ALL', "\\u0022) } #", "SERVICE <http://x/>"],
)
def test_hostile_values_through_the_executor(small_build_dir: Path, value: str) -> None:
    try:
        rows = run(small_build_dir, "search", text=value)
    except QueryError as exc:  # the executor's guard may refuse the text; it never runs it
        assert "SERVICE" in str(exc)
    else:
        assert rows == []


def test_named_query_is_frozen() -> None:
    with pytest.raises(AttributeError):
        CATALOGUE["roles"].name = "x"  # type: ignore[misc]
    assert isinstance(CATALOGUE["roles"], NamedQuery)


# ---------------------------------------------------------------------------------------------
# top-skills / top-tools: the first 50 of the exact ranking, ties at the cut included


def _ranking_graph(counts: list[tuple[int, int]], kinds: list[str], folder: Path) -> Path:
    """Write a graph of skills and tools with the given (roleCount, documentCount) pairs."""
    lines = [
        "@prefix mlkg: <https://w3id.org/mlkg/ontology#> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
    ]
    for index, ((roles, documents), kind) in enumerate(zip(counts, kinds, strict=True)):
        # few distinct labels and counts, so ties at the 50th row are the rule, not the exception
        label = f"term {index % 7}"
        lines.append(
            f"<https://w3id.org/mlkg/id/x/{index:03d}> a mlkg:{kind} ; "
            f'skos:prefLabel "{label}"@en ; mlkg:roleCount {roles} ; '
            f"mlkg:documentCount {documents} ."
        )
    path = folder / "ranking.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.integers(1, 3),
            st.sampled_from(["TechnicalSkill", "SoftSkill", "Tool", "ProgrammingLanguage"]),
        ),
        min_size=0,
        max_size=160,
    )
)
def test_top_lists_are_the_head_of_the_exact_ranking(
    tmp_path: Path, rows: list[tuple[int, int, str]]
) -> None:
    from mlkg.store import memory_graph

    folder = tmp_path / f"r{len(rows)}-{abs(hash(tuple(rows))) % 10**8}"
    folder.mkdir()
    path = _ranking_graph([(r, d) for r, d, _ in rows], [k for *_, k in rows], folder)
    graph = memory_graph(path)
    for name, kinds in [
        ("top-skills", {"TechnicalSkill", "SoftSkill"}),
        ("top-tools", {"Tool", "ProgrammingLanguage"}),
    ]:
        expected = sorted(
            (-roles, -documents, f"term {index % 7}", f"https://w3id.org/mlkg/id/x/{index:03d}")
            for index, (roles, documents, kind) in enumerate(rows)
            if kind in kinds and roles > 0
        )[:50]
        got = [
            (-int(r["roles"]), -int(r["documents"]), str(r["label"]), str(r[name[4:-1]]))
            for r in run(graph, name)
        ]
        assert got == expected, name
