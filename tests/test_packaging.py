"""The wheel ships the ontology, queries and corpus, and works outside the checkout."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of the checkout, built with pip (no isolation when hatchling is installed)."""
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out)]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")  # else pip fetches hatchling from PyPI
    command.append(str(ROOT))
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (built,) = out.glob("mlkg-*.whl")
    return built


def test_wheel_contains_the_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for source, packaged, pattern in [
        ("ontology", "mlkg/_data/ontology", "*.ttl"),
        ("examples/queries", "mlkg/_data/queries", "*.rq"),
        ("data/documents", "mlkg/_data/documents", "*.txt"),
    ]:
        expected = {f"{packaged}/{p.name}" for p in (ROOT / source).glob(pattern)}
        assert expected, source
        assert expected <= set(names), sorted(expected - set(names))
    assert "mlkg/_data/documents/manifest.json" in names
    assert "mlkg/_data/ontology/cues.toml" in names
    assert "mlkg/cli/__init__.py" in names
    assert not any(n.startswith(("tests/", "mlkg/tests/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mlkg = mlkg.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_builds_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    site_packages = sysconfig.get_paths()["purelib"]
    env = {
        **os.environ,
        # the unpacked wheel first, then the dependencies; -S skips the editable .pth file
        "PYTHONPATH": os.pathsep.join([str(unpacked), site_packages]),
    }
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = (
        "import sys, mlkg, mlkg.resources as r;"
        f"assert mlkg.__file__.startswith({str(unpacked)!r}), mlkg.__file__;"
        f"assert str(r.corpus_dir()).startswith({str(unpacked)!r});"
        f"assert str(r.ontology_dir()).startswith({str(unpacked)!r});"
        "from mlkg.cli import main; sys.argv = ['mlkg'] + sys.argv[1:]; main()"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, "build", "--out", "kg", "-q"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((work / "kg" / "build.json").read_text(encoding="utf-8"))
    assert len(summary["documents"]) == 5
    assert (work / "kg" / "mlkg.ttl").stat().st_size > 10_000
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, "queries"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "skills-of-role" in result.stdout
