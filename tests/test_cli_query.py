"""Tests of ``mlkg query`` and ``mlkg queries`` through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlkg.cli import cli
from mlkg.queries import load_catalogue


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def one_error_line(result: Result, code: int = 2) -> str:
    """Assert a failed run printed exactly one ``mlkg: error:`` line and no traceback."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mlkg: error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


# ---------------------------------------------------------------------------------------------
# mlkg queries


def test_queries_lists_every_named_query_with_params() -> None:
    result = invoke("queries")
    assert result.exit_code == 0, result.stderr
    catalogue = load_catalogue()
    for name, entry in catalogue.items():
        assert f"{name}  (" in result.stdout
        for param in entry.params:
            assert f"--param {param.name}=" in result.stdout
    assert "skill-gap  (role_a, role_b)" in result.stdout
    assert "roles  (no parameters)" in result.stdout


def test_queries_shows_one_query_text() -> None:
    result = invoke("queries", "ladder")
    assert result.exit_code == 0
    assert result.stdout == load_catalogue()["ladder"].text


def test_queries_unknown_name() -> None:
    line = one_error_line(invoke("queries", "ladderz"))
    assert "did you mean 'ladder'" in line


# ---------------------------------------------------------------------------------------------
# mlkg query: output


def test_query_table(small_build_dir: Path) -> None:
    result = invoke(
        "query", "skills-of-role", "--param", "role=ML Research Scientist", "--graph",
        str(small_build_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["skill", "label", "kind", "evidenceCount"]
    assert "mlkgid:skill/deep-learning" in result.stdout
    assert result.stderr.strip() == "(3 rows)"


def test_query_json_is_sparql_results_json(small_build_dir: Path) -> None:
    result = invoke(
        "query", "skill-gap", "-p", "role_a=data scientist", "-p", "role-b=research-scientist",
        "--format", "json", "--graph", str(small_build_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["head"]["vars"] == ["property", "item", "label", "kind"]
    labels = [b["label"]["value"] for b in document["results"]["bindings"]]
    assert labels == ["PhD", "deep learning", "research methodology", "PyTorch"]
    assert result.stderr == ""


def test_query_csv_and_tsv(small_build_dir: Path) -> None:
    result = invoke("query", "roles", "--format", "csv", "--graph", str(small_build_dir))
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert rows[0] == ["role", "label", "stage", "stageLabel", "skills"]
    assert rows[1][1] == "Data Scientist" and rows[1][4] == "2"
    # click's Result.stdout turns CRLF into LF; the bytes written keep the CSV line ends
    assert result.stdout_bytes.endswith(b"\r\n")
    result = invoke("query", "roles", "--format", "tsv", "--graph", str(small_build_dir))
    assert result.stdout.splitlines()[0] == "?role\t?label\t?stage\t?stageLabel\t?skills"
    assert '\t"Data Scientist"@en\t' in result.stdout


def test_query_from_stdin_and_file(small_build_dir: Path, tmp_path: Path) -> None:
    text = "ASK { ?r a <https://w3id.org/mlkg/ontology#Venue> }"
    result = invoke("query", "-", "--graph", str(small_build_dir), input=text)
    assert result.exit_code == 0 and result.stdout == "true\n"
    path = tmp_path / "venues.rq"
    path.write_text(
        "#+ summary: Venues.\n#+ params: none\n"
        "SELECT ?v WHERE { ?v a <https://w3id.org/mlkg/ontology#Venue> } ORDER BY ?v\n",
        encoding="utf-8",
    )
    result = invoke("query", str(path), "--format", "csv", "--graph", str(small_build_dir))
    assert result.stdout_bytes == b"v\r\nhttps://w3id.org/mlkg/id/venue/neurips\r\n"


def test_query_adhoc_param_binds_a_variable(small_build_dir: Path) -> None:
    text = (
        "SELECT ?skill WHERE { ?role <https://w3id.org/mlkg/ontology#requiresSkill> ?skill }"
        " ORDER BY ?skill"
    )
    result = invoke(
        "query", "-", "-p", "role=Research Director", "--format", "csv",
        "--graph", str(small_build_dir), input=text,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "https://w3id.org/mlkg/id/skill/leadership",
        "https://w3id.org/mlkg/id/skill/research-methodology",
    ]


def test_query_construct_as_ntriples(small_build_dir: Path) -> None:
    text = "CONSTRUCT { ?v a <http://e/V> } WHERE { ?v a <https://w3id.org/mlkg/ontology#Venue> }"
    result = invoke(
        "query", "-", "--format", "ntriples", "--graph", str(small_build_dir), input=text
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "<https://w3id.org/mlkg/id/venue/neurips> "
        "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://e/V> .\n"
    )


def test_query_max_rows_warns(small_build_dir: Path) -> None:
    result = invoke("query", "roles", "--max-rows", "2", "--format", "csv", "--graph",
                    str(small_build_dir))  # fmt: skip
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 3
    assert "only the first 2 rows" in result.stderr


def test_query_store_option_reads_a_remote_graph(
    small_graph: object, small_build_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlkg.store

    seen: list[str | None] = []

    def fake_connect(graph_dir: object = None, store_url: str | None = None) -> object:
        seen.append(store_url)
        return small_graph

    monkeypatch.setattr(mlkg.store, "connect", fake_connect)
    result = invoke("query", "venues-of-role", "-p", "role=research scientist", "--format",
                    "csv", "--store", "sparql+http://127.0.0.1:9/sparql")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert seen == ["sparql+http://127.0.0.1:9/sparql"]
    assert "NeurIPS" in result.stdout


# ---------------------------------------------------------------------------------------------
# mlkg query: bad input, one clear line each


def test_unknown_query_name_lists_known_ones(small_build_dir: Path) -> None:
    line = one_error_line(invoke("query", "skils-of-role", "--graph", str(small_build_dir)))
    assert "no query named 'skils-of-role'" in line
    assert "did you mean 'skills-of-role'" in line
    for name in load_catalogue():
        assert name in line


def test_syntax_error_has_line_and_column(small_build_dir: Path) -> None:
    line = one_error_line(
        invoke("query", "-", "--graph", str(small_build_dir), input="SELECT ?x WHERE {\n ?x ?y }")
    )
    assert "syntax error at line 2, column" in line


def test_syntax_error_is_reported_before_looking_for_the_graph(tmp_path: Path) -> None:
    line = one_error_line(
        invoke("query", "-", "--graph", str(tmp_path / "none"), input="SELECT WHERE")
    )
    assert "syntax error" in line


def test_missing_parameter(small_build_dir: Path) -> None:
    line = one_error_line(invoke("query", "skill-gap", "-p", "role_a=x", "--graph",
                                 str(small_build_dir)))  # fmt: skip
    assert "needs --param role_b=VALUE" in line


def test_unknown_parameter(small_build_dir: Path) -> None:
    line = one_error_line(invoke("query", "roles", "-p", "role=x", "--graph", str(small_build_dir)))
    assert "unknown parameter 'role'" in line


@pytest.mark.parametrize("pair", ["role", "=x"])
def test_malformed_parameter(small_build_dir: Path, pair: str) -> None:
    line = one_error_line(invoke("query", "ladder", "-p", pair, "--graph", str(small_build_dir)))
    assert "--param expects NAME=VALUE" in line


def test_parameter_given_twice(small_build_dir: Path) -> None:
    line = one_error_line(invoke("query", "ladder", "-p", "role=a", "-p", "role=b", "--graph",
                                 str(small_build_dir)))  # fmt: skip
    assert "given twice" in line


def test_unknown_role_label_suggests(small_build_dir: Path) -> None:
    line = one_error_line(invoke("query", "ladder", "-p", "role=Data Scientst", "--graph",
                                 str(small_build_dir)))  # fmt: skip
    assert "no role called 'Data Scientst'; did you mean 'Data Scientist'" in line


def test_missing_graph_says_how_to_build(tmp_path: Path) -> None:
    line = one_error_line(invoke("query", "roles", "--graph", str(tmp_path / "nothing")))
    assert "mlkg build --out" in line


def test_service_is_refused(small_build_dir: Path) -> None:
    text = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
    line = one_error_line(invoke("query", "-", "--graph", str(small_build_dir), input=text))
    assert "SERVICE" in line


def test_update_is_refused(small_build_dir: Path) -> None:
    text = "DELETE WHERE { ?s ?p ?o }"
    line = one_error_line(invoke("query", "-", "--graph", str(small_build_dir), input=text))
    assert "read-only" in line


def test_empty_stdin(small_build_dir: Path) -> None:
    line = one_error_line(invoke("query", "-", "--graph", str(small_build_dir), input="  \n"))
    assert "no query text" in line


def test_ntriples_for_a_select(small_build_dir: Path) -> None:
    line = one_error_line(
        invoke("query", "roles", "--format", "ntriples", "--graph", str(small_build_dir))
    )
    assert "CONSTRUCT" in line


def test_timeout_exits_4(small_build_dir: Path) -> None:
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    result = invoke("query", "-", "--timeout", "0.5", "--graph", str(small_build_dir), input=text)
    line = one_error_line(result, code=4)
    assert "longer than 0.5 s" in line


def test_query_help_lists_the_options() -> None:
    result = invoke("query", "--help")
    assert result.exit_code == 0
    for option in ("--param", "--format", "--graph", "--store", "--timeout", "--max-rows",
                   "--allow-service"):  # fmt: skip
        assert option in result.stdout


def test_timeout_in_a_real_process_prints_one_line(small_build_dir: Path) -> None:
    # CliRunner cannot see what worker processes write to the real stderr after a timeout,
    # so this one case runs the installed command.
    import subprocess
    import sys

    command = Path(sys.executable).parent / "mlkg"
    if not command.exists():
        pytest.skip("the mlkg console script is not installed next to this Python")
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    done = subprocess.run(
        [str(command), "query", "-", "--timeout", "0.5", "--graph", str(small_build_dir)],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 4
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "mlkg: error: the query ran longer than 0.5 s and was stopped; "
        "add LIMIT or narrow the pattern"
    ]
