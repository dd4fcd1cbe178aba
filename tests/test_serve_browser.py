"""The query page in headless Chromium: an example query runs and its rows show, offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from mlkg.serve import EndpointServer, ServerConfig, running

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="needs headless Chromium: apt-get install -y chromium (make browser-deps)",
    ),
]


@pytest.fixture(scope="module")
def server(small_build_dir: Path) -> Iterator[EndpointServer]:
    config = ServerConfig(graph_dir=small_build_dir, port=0, timeout=5.0, workers=2, quiet=True)
    with running(config) as live:
        yield live


def render(url: str, profile: Path) -> str:
    """Load ``url`` in headless Chromium, let its scripts and fetches finish, return the DOM."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def table_rows(dom: str) -> list[list[str]]:
    """Return the text of each row of the result table."""
    match = re.search(r'<table id="result-table">(.*?)</table>', dom, re.S)
    assert match, "no result table on the page:\n" + dom[-3000:]
    rows = re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)[1:]  # skip the header
    return [
        [unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in rows
    ]


def test_example_query_shows_rows(server: EndpointServer, tmp_path: Path) -> None:
    dom = render(server.url + "/#example=roles", tmp_path / "profile")
    rows = table_rows(dom)
    labels = {cell for row in rows for cell in row}
    assert "Data Scientist@en" in labels
    assert len(rows) >= 3
    assert re.search(r'id="status"[^>]*>\d+ rows? in', dom)


def test_example_with_a_parameter(server: EndpointServer, tmp_path: Path) -> None:
    dom = render(
        server.url + "/#example=skills-of-role&role=data%20scientist", tmp_path / "profile"
    )
    if 'data-name="skills-of-role"' not in dom:
        pytest.skip("the catalogue has no skills-of-role query")
    cells = {cell for row in table_rows(dom) for cell in row}
    assert {"statistics@en", "communication@en"} <= cells


def test_page_loads_nothing_from_outside(server: EndpointServer, tmp_path: Path) -> None:
    dom = render(server.url + "/", tmp_path / "profile")
    assert 'data-name="roles"' in dom  # the examples came from our own /api/queries
    assert not re.search(r'(src|href)="https?://', dom)


def test_hostile_values_are_shown_as_text(server: EndpointServer, tmp_path: Path) -> None:
    from urllib.parse import quote

    query = (
        'SELECT ?x ?y WHERE { BIND("<img src=x onerror=\\"document.title=\'pwned\'\\">" AS ?x) '
        "BIND(\"</script><script>document.title='pwned'</script>\" AS ?y) }"
    )
    dom = render(server.url + "/#query=" + quote(query), tmp_path / "profile")
    rows = table_rows(dom)
    assert rows and "<img src=x" in rows[0][1]
    assert "<img" not in dom.split('<table id="result-table">', 1)[1]
    assert "<title>mlkg · SPARQL</title>" in dom
