"""The HTML view opened in headless Chromium, driven over the DevTools protocol.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and ``websocket-client``; skipped
with the reason when either is missing. Screenshots are saved under the test's tmp folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlkg import viz
from mlkg.store import memory_graph

CHROMIUM = Path("/usr/bin/chromium")
# CI sets MLKG_REQUIRE_CHROMIUM=1: there a missing browser is a failure, not a skip.
REQUIRED = os.environ.get("MLKG_REQUIRE_CHROMIUM") == "1"


def missing() -> str | None:
    """Return why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return "no /usr/bin/chromium: install it with `make chromium` (apt-get install -y chromium)"
    if importlib.util.find_spec("websocket") is None:
        return "websocket-client is not installed: pip install 'websocket-client>=1.6,<2'"
    return None


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not REQUIRED and missing() is not None, reason=str(missing())),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[viz.Chromium]:
    reason = missing()
    if reason:
        pytest.fail(f"MLKG_REQUIRE_CHROMIUM=1 but {reason}")
    with viz.Chromium(str(CHROMIUM), timeout=60) as chromium:
        # A page that ran injected code would set this flag or open a dialog (recorded).
        chromium.send(
            "Page.addScriptToEvaluateOnNewDocument",
            {"source": "window.__pwned = undefined;"},
        )
        yield chromium


def open_page(browser: viz.Chromium, path: Path) -> float:
    browser.console_errors.clear()
    browser.requests.clear()
    browser.dialogs.clear()
    ready = browser.open(path)
    assert browser.evaluate("document.readyState") == "complete"
    return ready


def assert_clean(browser: viz.Chromium, path: Path) -> None:
    """No console error, no dialog, no injected flag, no request but the page itself."""
    time.sleep(0.2)  # let late events arrive
    browser.evaluate("1")
    assert browser.console_errors == []
    assert browser.dialogs == []
    assert browser.evaluate("window.__pwned === undefined") is True
    assert browser.requests == [path.resolve().as_uri()]


def drawn_nodes(browser: viz.Chromium) -> int:
    return int(browser.evaluate("window.mlkgNetwork.body.data.nodes.length"))


def type_search(browser: viz.Chromium, text: str) -> None:
    browser.evaluate(
        "(function (t) { var i = document.getElementById('mlkg-search'); i.focus(); i.value = t;"
        " i.dispatchEvent(new Event('input'));"
        " i.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true})); })"
        f"({json.dumps(text)})"
    )


def node_point(browser: viz.Chromium, node_id: str) -> tuple[float, float]:
    point = browser.evaluate(
        "(function (id) { var n = window.mlkgNetwork; var p = n.canvasToDOM(n.getPosition(id));"
        " var r = document.getElementById('mlkg-network').getBoundingClientRect();"
        f" return [p.x + r.left, p.y + r.top]; }})({json.dumps(node_id)})"
    )
    return float(point[0]), float(point[1])


def hover(browser: viz.Chromium, node_id: str) -> str:
    """Move the mouse onto a node and return the tooltip's text."""
    x, y = node_point(browser, node_id)
    browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x - 40, "y": y - 40})
    browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        text = browser.evaluate(
            "(function () { var t = document.querySelector('.vis-tooltip');"
            " return t && t.style.visibility !== 'hidden' ? t.textContent : null; })()"
        )
        if text:
            return str(text)
        time.sleep(0.05)
    raise AssertionError(f"no tooltip over {node_id}")


def click(browser: viz.Chromium, node_id: str) -> None:
    x, y = node_point(browser, node_id)
    for kind in ("mousePressed", "mouseReleased"):
        browser.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
        )
    time.sleep(0.1)


def payload(browser: viz.Chromium) -> dict[str, Any]:
    data: dict[str, Any] = browser.evaluate(
        "JSON.parse(document.getElementById('mlkg-data').textContent)"
    )
    return data


def test_small_graph_page(browser: viz.Chromium, small_graph: Any, tmp_path: Path) -> None:
    page = tmp_path / "graph.html"
    result = viz.visualize(small_graph, page)
    open_page(browser, page)
    assert drawn_nodes(browser) == result.nodes == 25
    assert browser.evaluate("window.mlkgNetwork.body.data.edges.length") == result.edges
    # physics stabilised, then stopped
    assert browser.evaluate("window.mlkgNetwork.physics.physicsEnabled") is False

    # search finds a node by its alt label, selects and describes it
    type_search(browser, "sklearn")
    selected = browser.evaluate("window.mlkgNetwork.getSelectedNodes()")
    info = payload(browser)["info"]
    assert [info[n]["label"] for n in selected] == ["scikit-learn"]
    assert browser.evaluate("document.querySelector('#mlkg-panel h3').textContent") == (
        "scikit-learn"
    )
    # its neighbourhood is highlighted: non-neighbours dimmed
    dimmed = browser.evaluate(
        "window.mlkgNetwork.body.data.nodes.get({filter: function (n) {"
        " return n.color === '#e4e4e4'; }}).length"
    )
    assert dimmed == 25 - 2  # scikit-learn and Data Scientist stay

    # clicking a node shows its facts with evidence and documents
    rs = next(k for k, v in info.items() if v["label"] == "Research Scientist")
    browser.evaluate("window.mlkgNetwork.fit({animation: false})")
    click(browser, rs)
    panel = browser.evaluate("document.getElementById('mlkg-panel').textContent")
    assert "Research Scientist" in panel
    assert "- Typically requires a Ph.D. in computer science" in panel
    assert "Research Scientist guide" in panel
    tip = hover(browser, rs)
    assert "Research Scientist" in tip and "ML Research Scientist" in tip and "Role" in tip

    # class filter: unticking Role hides the five roles
    browser.evaluate("document.getElementById('mlkg-class-Role').click()")
    hidden = browser.evaluate(
        "window.mlkgNetwork.body.data.nodes.get({filter: function (n) { return n.hidden; }})"
        ".map(function (n) { return n.id; })"
    )
    assert sorted(info[n]["label"] for n in hidden) == [
        "Data Scientist",
        "Lab Technician",
        "Research Director",
        "Research Scientist",
        "Senior Data Scientist",
    ]
    shot = browser.screenshot(tmp_path / "small-graph.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_clean(browser, page)


def test_focus_and_route(browser: viz.Chromium, small_graph: Any, tmp_path: Path) -> None:
    page = tmp_path / "focus.html"
    viz.visualize(
        small_graph,
        page,
        focus="Research Scientist",
        depth=1,
        route=["Data Scientist", "Senior Data Scientist", "Research Scientist"],
    )
    open_page(browser, page)
    data = payload(browser)
    assert drawn_nodes(browser) == len(data["nodes"])
    assert browser.evaluate("window.mlkgNetwork.getSelectedNodes()") == [data["focus"]]
    route_items = browser.evaluate(
        "Array.from(document.querySelectorAll('#mlkg-route-list li'))"
        ".map(function (li) { return li.textContent; })"
    )
    assert route_items == ["Data Scientist", "Senior Data Scientist", "Research Scientist"]
    route_edges = browser.evaluate(
        "window.mlkgNetwork.body.data.edges.get({filter: function (e) { return e.width === 4; }})"
        ".length"
    )
    assert route_edges == 2
    browser.screenshot(tmp_path / "focus-route.png")
    assert_clean(browser, page)


def test_hostile_graph_runs_nothing(browser: viz.Chromium, tmp_path: Path) -> None:
    from test_viz import HOSTILE_LABELS, hostile_turtle

    ttl = tmp_path / "hostile.ttl"
    ttl.write_text(hostile_turtle(), encoding="utf-8")
    page = tmp_path / "hostile.html"
    viz.visualize(memory_graph(ttl), page)
    open_page(browser, page)
    info = payload(browser)["info"]
    assert sorted(v["label"] for v in info.values()) == sorted(
        [HOSTILE_LABELS[0], HOSTILE_LABELS[1], HOSTILE_LABELS[3]]
    )
    browser.evaluate("window.mlkgNetwork.fit({animation: false})")
    for node_id, node in info.items():
        tip = hover(browser, node_id)  # on hover: shown as text
        assert node["label"] in tip
        click(browser, node_id)  # in the side panel: shown as text
        heading = browser.evaluate("document.querySelector('#mlkg-panel h3').textContent")
        assert heading == node["label"]
    # the tool's panel shows the hostile evidence, section, title and qualifier as text
    tool = next(k for k, v in info.items() if v["cls"] == "Tool")
    click(browser, tool)
    panel = browser.evaluate("document.getElementById('mlkg-panel').textContent")
    assert '<svg onload="window.__pwned=4"></svg> uses </script>' in panel
    assert "<style>body{display:none}</style>" in panel
    assert '<iframe src="javascript:window.__pwned=5"></iframe>' in panel
    # search by a hostile alt label
    type_search(browser, "hostile-alias")
    assert browser.evaluate("window.mlkgNetwork.getSelectedNodes()") == [tool]
    # nothing from the data became an element
    counts = browser.evaluate(
        "['img', 'svg', 'iframe', 'a[href^=\"javascript\"]', 'style', 'script',"
        " 'b:not(.mlkg-tip > b)']"
        ".map(function (s) { return document.querySelectorAll(s).length; })"
    )
    assert counts == [0, 0, 0, 0, 2, 3, 0]
    browser.screenshot(tmp_path / "hostile.png")
    assert_clean(browser, page)


def test_large_graph_uses_layout_without_physics(
    browser: viz.Chromium, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(viz, "PHYSICS_NODE_LIMIT", 100)
    page = tmp_path / "large.html"
    result = viz.visualize(viz.synthetic_graph(300), page)
    open_page(browser, page)
    assert drawn_nodes(browser) == result.nodes == 300
    assert browser.evaluate("window.mlkgNetwork.physics.physicsEnabled") is False
    type_search(browser, "alt tool 2")
    selected = browser.evaluate("window.mlkgNetwork.getSelectedNodes()")
    assert [payload(browser)["info"][n]["label"] for n in selected] == ["tool 2"]
    browser.screenshot(tmp_path / "large.png")
    assert_clean(browser, page)


def test_seed_build_page(browser: viz.Chromium, seed_build_dir: Path, tmp_path: Path) -> None:
    from mlkg.store import open_graph

    page = tmp_path / "seed.html"
    result = viz.visualize(open_graph(seed_build_dir), page)
    open_page(browser, page)
    assert drawn_nodes(browser) == result.nodes
    browser.screenshot(tmp_path / "seed.png")
    assert_clean(browser, page)
