"""CliRunner tests of ``mlkg path``, ``mlkg gap`` and ``mlkg next``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlkg.cli import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def ambiguous_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder where 'ML Scientist' names two roles."""
    from mlkg.store import GRAPH_FILE, STORE_DIR, write_store

    out = tmp_path_factory.mktemp("ambiguous-build")
    (out / GRAPH_FILE).write_text(
        "@prefix mlkg: <https://w3id.org/mlkg/ontology#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "@prefix role: <https://w3id.org/mlkg/id/role/> .\n"
        'role:a a mlkg:Role ; skos:prefLabel "Machine Learning Scientist"@en ;\n'
        '    skos:altLabel "ML Scientist"@en ; mlkg:progressesTo role:b .\n'
        'role:b a mlkg:Role ; skos:prefLabel "ML Research Scientist"@en ;\n'
        '    skos:altLabel "ML Scientist"@en .\n',
        encoding="utf-8",
    )
    write_store(out / GRAPH_FILE, out / STORE_DIR)
    return out


def test_path_text_shows_steps_gains_and_sentences(small_build_dir: Path) -> None:
    result = run("path", "data scientist", "Research Director", "--graph", str(small_build_dir))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(
        "Data Scientist → Senior Data Scientist → Research Scientist → Research Director"
    )
    assert "(steps: 3)" in out
    assert "gain:   skills: deep learning; tools: PyTorch" in out
    assert "degrees: PhD" in out
    assert '"- Research Director: oversees research"' in out
    assert "research-scientist.md" in out
    assert result.stderr == ""


def test_path_json_has_the_documented_shape(small_build_dir: Path) -> None:
    result = run(
        "path", "Data Scientist", "Research Director", "--format", "json",
        "--graph", str(small_build_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"from", "to", "path", "steps", "cost"} <= set(data)
    assert data["from"] == "Data Scientist" and data["to"] == "Research Director"
    assert data["path"] == [
        "Data Scientist",
        "Senior Data Scientist",
        "Research Scientist",
        "Research Director",
    ]
    assert data["cost"] == 3
    step = data["steps"][0]
    assert {"from", "to", "gain", "evidence"} <= set(step)
    assert step["gain"] == {"skills": ["deep learning"], "tools": ["PyTorch"], "degrees": []}
    assert step["evidence"][0]["sentence"] == "- Data Scientist: builds models from data"
    assert step["evidence"][0]["document"] == "aaaaaaaaaaaaaaaa"


def test_path_k_weighted_lateral_json_is_a_list(small_build_dir: Path) -> None:
    result = run(
        "path", "Research Scientist", "Senior Data Scientist", "--k", "3", "--lateral",
        "--weighted", "--format", "json", "--graph", str(small_build_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == 1
    assert data[0]["path"] == ["Research Scientist", "Senior Data Scientist"]
    assert data[0]["steps"][0]["inferred"] is True
    assert data[0]["cost"] == data[0]["steps"][0]["cost"]


def test_path_k_text_numbers_routes(small_build_dir: Path) -> None:
    result = run(
        "path", "Senior Data Scientist", "Research Director", "--k", "2", "--lateral",
        "--threshold", "0.3", "--graph", str(small_build_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Route 1: Senior Data Scientist → ")


def test_path_lateral_step_is_marked_inferred(small_build_dir: Path) -> None:
    result = run(
        "path", "Research Scientist", "Senior Data Scientist", "--lateral",
        "--graph", str(small_build_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "[lateral, inferred, similarity 0.5714]" in result.stdout
    assert "inferred from shared requirements" in result.stdout


def test_path_to_itself_is_zero_steps(small_build_dir: Path) -> None:
    result = run("path", "Lab Technician", "lab technician", "--graph", str(small_build_dir))
    assert result.exit_code == 0
    assert "(steps: 0)" in result.stdout and "already the target" in result.stdout


def test_no_route_exits_1_with_one_line(small_build_dir: Path) -> None:
    result = run("path", "Lab Technician", "Data Scientist", "--graph", str(small_build_dir))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("mlkg: error: no route from Lab Technician to Data Scientist")
    assert "Lab Technician has no outgoing ladder edges" in lines[0]


@pytest.mark.parametrize("command", ["path", "gap"])
def test_unknown_role_exits_2_with_suggestions(small_build_dir: Path, command: str) -> None:
    result = run(command, "Data Scientst", "Research Director", "--graph", str(small_build_dir))
    assert result.exit_code == 2
    assert "unknown role 'Data Scientst'; did you mean: Data Scientist" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_unknown_role_for_next(small_build_dir: Path) -> None:
    result = run("next", "Astronaut", "--graph", str(small_build_dir))
    assert result.exit_code == 2
    assert "unknown role 'Astronaut'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("path", "ml scientist", "ML Research Scientist"),
        ("gap", "ML Research Scientist", "ML scientist"),
        ("next", "ML SCIENTIST"),
    ],
)
def test_ambiguous_role_exits_2_listing_candidates(
    ambiguous_build_dir: Path, args: tuple[str, ...]
) -> None:
    result = run(*args, "--graph", str(ambiguous_build_dir))
    assert result.exit_code == 2
    assert "is ambiguous" in result.stderr
    assert "Machine Learning Scientist, ML Research Scientist" in result.stderr


def test_gap_text_and_json(small_build_dir: Path) -> None:
    text = run("gap", "Data Scientist", "ML Research Scientist", "--graph", str(small_build_dir))
    assert text.exit_code == 0, text.stderr
    assert "Research Scientist vs Data Scientist: 4 requirement(s) to gain" in text.stdout
    assert "technical skills: deep learning, research methodology" in text.stdout
    assert "programming languages: Python" in text.stdout
    assert "Salary: USD 70,000–100,000 → USD 56,000–446,000" in text.stdout
    raw = run(
        "gap", "Data Scientist", "Research Scientist", "--format", "json",
        "--graph", str(small_build_dir),
    )  # fmt: skip
    data = json.loads(raw.stdout)
    assert data["missing"]["Degree"] == ["PhD"]
    assert data["shared"]["SoftSkill"] == ["communication"]
    assert data["size"] == 4


def test_next_text_and_json(small_build_dir: Path) -> None:
    text = run("next", "research scientist", "--lateral", "--graph", str(small_build_dir))
    assert text.exit_code == 0, text.stderr
    assert "1. Research Director  (ladder; cost 2)" in text.stdout
    assert "2. Senior Data Scientist  (lateral, similarity 0.5714; cost 2)" in text.stdout
    raw = run("next", "Data Scientist", "--format", "json", "--graph", str(small_build_dir))
    data = json.loads(raw.stdout)
    assert [item["role"] for item in data] == ["Senior Data Scientist"]
    assert data[0]["rank"] == 1 and data[0]["evidence"]
    none = run("next", "lab technician", "--graph", str(small_build_dir))
    assert none.exit_code == 0
    assert none.stdout.strip() == "No role is one step away from Lab Technician."
    assert json.loads(run("next", "Lab Technician", "--format", "json",
                          "--graph", str(small_build_dir)).stdout) == []  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        ("path", "a", "b", "--k", "0"),
        ("path", "a", "b", "--k", "many"),
        ("path", "a", "b", "--format", "xml"),
        ("path", "a", "b", "--threshold", "0"),
        ("path", "a", "b", "--threshold", "1.5"),
        ("path", "a"),
        ("gap", "a"),
        ("next",),
        ("next", "a", "--format", "yaml"),
    ],
)
def test_bad_options_exit_2(small_build_dir: Path, args: tuple[str, ...]) -> None:
    result = run(*args, "--graph", str(small_build_dir))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("path", "a", "b"), ("gap", "a", "b"), ("next", "a")])
def test_missing_graph_is_one_clear_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = run(*command, "--graph", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert result.stderr.startswith("mlkg: error: no graph in ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["path", "gap", "next"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "--format" in result.stdout and "--graph" in result.stdout


def test_cli_module_does_not_import_networkx() -> None:
    code = (
        "import sys, mlkg.cli.paths, mlkg.paths; "
        "heavy = {'networkx', 'rdflib', 'pyoxigraph'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "networkx" not in out


def test_path_on_a_build_reads_its_store_without_rdflib(small_build_dir: Path) -> None:
    code = (
        "import sys\n"
        "from mlkg.cli import main\n"
        "sys.argv[1:] = ['path', 'Data Scientist', 'Research Director', '--graph', sys.argv[1]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('rdflib' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(small_build_dir)], capture_output=True, text=True
    )
    assert "Data Scientist" in done.stdout, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
