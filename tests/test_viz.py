"""Tests of mlkg.viz and `mlkg viz`: selection, the HTML (offline, escaped) and bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mlkg import viz
from mlkg.cli import cli
from mlkg.errors import AmbiguousRoleError, RoleNotFoundError
from mlkg.store import memory_graph

ROLE = "https://w3id.org/mlkg/id/role/"

HOSTILE_LABELS = [
    "<img src=x onerror=window.__pwned=1>",
    "</script><script>window.__pwned=2</script>",
    '<a href="javascript:window.__pwned=3">click</a>',
    "line\u2028sep\u2029end <!-- &lt;b&gt; ]]>",
]

HOSTILE_TTL = """
@prefix mlkg: <https://w3id.org/mlkg/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix role: <https://w3id.org/mlkg/id/role/> .
@prefix tool: <https://w3id.org/mlkg/id/tool/> .
@prefix document: <https://w3id.org/mlkg/id/document/> .
@prefix evidence: <https://w3id.org/mlkg/id/evidence/> .
@prefix fact: <https://w3id.org/mlkg/id/fact/> .

document:cccccccccccccccc a mlkg:Document ;
    dcterms:title \"\"\"<iframe src="javascript:window.__pwned=5"></iframe>\"\"\" ;
    mlkg:fileName "<b>bold</b>.md" .
role:img a mlkg:Role ; skos:prefLabel \"\"\"LABEL0\"\"\"@en ;
    skos:altLabel \"\"\"LABEL2\"\"\"@en ;
    mlkg:mentionedIn document:cccccccccccccccc ;
    mlkg:usesTool tool:script .
tool:script a mlkg:Tool ; skos:prefLabel \"\"\"LABEL1\"\"\"@en ; skos:altLabel "hostile-alias"@en .
role:sep a mlkg:Role ; skos:prefLabel \"\"\"LABEL3\"\"\"@en ; mlkg:progressesTo role:img .
fact:c000000000000001 a rdf:Statement ;
    rdf:subject role:img ; rdf:predicate mlkg:usesTool ; rdf:object tool:script ;
    mlkg:qualifier "<b>q</b>" ;
    prov:wasDerivedFrom evidence:cccccccccccccccc-1-2 .
evidence:cccccccccccccccc-1-2 a mlkg:Evidence ;
    prov:value \"\"\"<svg onload="window.__pwned=4"></svg> uses </script>\"\"\" ;
    mlkg:section "<style>body{display:none}</style>" ;
    prov:wasQuotedFrom document:cccccccccccccccc .
"""


def hostile_turtle() -> str:
    """Return the hostile graph: labels, evidence and titles that are HTML/script."""
    text = HOSTILE_TTL
    for i, label in enumerate(HOSTILE_LABELS):
        escaped = label.replace("\\", "\\\\").replace('"', '\\"')
        escaped = escaped.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        text = text.replace(f'"""LABEL{i}"""', f'"{escaped}"')
    return text


@pytest.fixture()
def hostile_graph(tmp_path: Path) -> Any:
    path = tmp_path / "hostile.ttl"
    path.write_text(hostile_turtle(), encoding="utf-8")
    return memory_graph(path)


def payload_of(html: str) -> dict[str, Any]:
    """Return the JSON data block of a page."""
    match = re.search(
        r'<script type="application/json" id="mlkg-data">(.*?)</script>', html, flags=re.S
    )
    assert match, "no data block"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def labels_drawn(html: str) -> list[str]:
    data = payload_of(html)
    return sorted(data["info"][node["id"]]["label"] for node in data["nodes"])


def render(graph: Any, **kwargs: Any) -> str:
    data = viz.read_graph_data(graph)
    return viz.render_html(data, viz.select(data, **kwargs))


class PageParser(HTMLParser):
    """Collect tags, URL-bearing attributes, script elements and style text of a page."""

    URL_ATTRS = frozenset(
        {
            "src",
            "href",
            "srcset",
            "action",
            "formaction",
            "poster",
            "data",
            "background",
            "xlink:href",
            "manifest",
            "ping",
            "longdesc",
            "cite",
            "imagesrcset",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.styles: list[str] = []
        self.metas: list[dict[str, str | None]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in self.URL_ATTRS]
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag == "meta":
            self.metas.append(dict(attrs))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def assert_offline(html: str) -> None:
    """Fail on any reference to another host: script, stylesheet, font, image, frame."""
    page = parse(html)
    remote = re.compile(r"^\s*(https?:|//|ftp:|ws:|wss:)", re.I)
    assert not [u for u in page.urls if remote.match(u)], page.urls
    assert "link" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert all("src" not in attrs for attrs in page.scripts)
    css = "\n".join(page.styles)
    assert "@import" not in css
    for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", css):
        assert url.startswith("data:"), url
    assert not re.search(r"@font-face", css)
    csp = [
        m for m in page.metas if (m.get("http-equiv") or "").lower() == "content-security-policy"
    ]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    assert "connect-src 'none'" in (csp[0]["content"] or "")


# ---------------------------------------------------------------- selection from the graph


def test_node_count_equals_entities_selected_by_sparql(small_graph: Any) -> None:
    expected = {
        str(row[0])
        for row in small_graph.query(
            """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
            PREFIX mlkg: <https://w3id.org/mlkg/ontology#>
            SELECT DISTINCT ?e WHERE { ?e a ?c ; skos:prefLabel ?l .
              FILTER(STRSTARTS(STR(?c), STR(mlkg:)) && ?c != mlkg:Document) }"""
        )
    }
    html = render(small_graph)
    data = payload_of(html)
    assert len(data["nodes"]) == len(expected) == 25
    assert {info["iri"] for info in data["info"].values()} == expected
    # every relation between drawn entities is an edge; salaries are not nodes
    assert len(data["edges"]) == 31


def test_node_ids_are_opaque(small_graph: Any) -> None:
    data = payload_of(render(small_graph))
    assert all(re.fullmatch(r"n\d+", node["id"]) for node in data["nodes"])
    assert all(re.fullmatch(r"[er]\d+", edge["id"]) for edge in data["edges"])


def test_classes_filter_includes_subclasses(small_graph: Any) -> None:
    data = viz.read_graph_data(small_graph)
    roles = viz.select(data, classes=["Role"])
    assert len(roles.nodes) == 5 and all(data.entities[n].cls == "Role" for n in roles.nodes)
    skills = viz.select(data, classes=["skill"])  # case-insensitive, Skill = Technical + Soft
    assert {data.entities[n].cls for n in skills.nodes} == {"TechnicalSkill", "SoftSkill"}
    assert len(skills.nodes) == 5
    tools = viz.select(data, classes=["Tool"])  # a ProgrammingLanguage is a Tool
    assert sorted(data.entities[n].label for n in tools.nodes) == [
        "PyTorch",
        "Python",
        "scikit-learn",
    ]
    both = viz.select(data, classes=["Role", "Tool"])
    assert len(both.nodes) == 8
    assert all(s in both.nodes and o in both.nodes for s, _, o in both.edges)
    assert len(both.edges) == 9  # 6 usesTool + 3 progressesTo
    html = viz.render_html(data, both)
    assert len(payload_of(html)["nodes"]) == 8


def test_unknown_class_suggests(small_graph: Any) -> None:
    data = viz.read_graph_data(small_graph)
    with pytest.raises(viz.VizError, match=r"unknown class 'Rol'.*did you mean 'Role'"):
        viz.select(data, classes=["Rol"])


def test_focus_and_depth(small_graph: Any) -> None:
    data = viz.read_graph_data(small_graph)
    only = viz.select(data, focus="Data Scientist", depth=0)
    assert only.nodes == [ROLE + "data-scientist"]
    near = viz.select(data, focus="data scientist")  # default depth 1, any case
    assert len(near.nodes) == 10  # itself and its 9 direct neighbours (salary is no node)
    wider = viz.select(data, focus="Data Scientist", depth=2)
    assert set(near.nodes) < set(wider.nodes)
    # every node within depth 1 is adjacent to the focus
    for node in set(near.nodes) - {ROLE + "data-scientist"}:
        assert any({s, o} == {node, ROLE + "data-scientist"} for s, _, o in near.edges)
    by_alt = viz.select(data, focus="ML Research Scientist", depth=0)
    assert by_alt.nodes == [ROLE + "research-scientist"]
    roles_only = viz.select(data, focus="Data Scientist", depth=5, classes=["Role"])
    assert [data.entities[n].label for n in roles_only.nodes] == [
        "Data Scientist",
        "Research Director",
        "Research Scientist",
        "Senior Data Scientist",
    ]


def test_focus_errors(small_graph: Any) -> None:
    data = viz.read_graph_data(small_graph)
    with pytest.raises(RoleNotFoundError, match="did you mean 'Data Scientist'") as info:
        viz.select(data, focus="Data Scientst")
    assert "Data Scientist" in info.value.suggestions
    with pytest.raises(RoleNotFoundError):
        viz.select(data, focus="PyTorch")  # not a role
    with pytest.raises(viz.VizError, match="0 or more"):
        viz.select(data, focus="Data Scientist", depth=-1)
    with pytest.raises(viz.VizError, match="needs --focus"):
        viz.select(data, depth=2)


def test_ambiguous_focus() -> None:
    data = viz.GraphData(
        entities={
            ROLE + "a": viz.Entity(ROLE + "a", "Engineer", "Role"),
            ROLE + "b": viz.Entity(ROLE + "b", "engineer", "Role"),
        },
        facts=[],
        mentions={},
        salaries={},
        superclasses={},
    )
    with pytest.raises(AmbiguousRoleError):
        viz.select(data, focus="ENGINEER")


def test_route_overlay(small_graph: Any) -> None:
    data = viz.read_graph_data(small_graph)
    route = ["Data Scientist", "Senior Data Scientist", "Research Scientist"]
    selection = viz.select(data, classes=["Tool"], route=route)
    html = viz.render_html(data, selection)
    payload = payload_of(html)
    assert [payload["info"][i]["label"] for i in payload["route"]] == route
    on_route = [e for e in payload["edges"] if e["route"]]
    assert len(on_route) == 2 and all(e["rel"] == "progresses to" for e in on_route)
    # a route between nodes with no direct edge gets a dashed route edge
    selection = viz.select(data, route=["Data Scientist", "Research Director"])
    payload = payload_of(viz.render_html(data, selection))
    assert [e["rel"] for e in payload["edges"] if e["route"]] == ["route"]
    with pytest.raises(RoleNotFoundError):
        viz.select(data, route=["Data Scientist", "Nobody"])


def test_panel_data_has_facts_with_evidence_and_documents(small_graph: Any) -> None:
    data = payload_of(render(small_graph))
    info = next(i for i in data["info"].values() if i["label"] == "Research Scientist")
    assert sorted(info["alt"]) == ["ML Research Scientist", "Machine Learning Research Scientist"]
    degree = next(f for f in info["facts"] if f["predicate"] == "requires degree")
    assert degree["other"] == "PhD" and degree["qualifier"] == "typical"
    assert degree["evidence"] == [
        {
            "quote": "- Typically requires a Ph.D. in computer science",
            "section": "Education",
            "title": "Research Scientist guide",
            "file": "research-scientist.md",
        }
    ]
    salary = next(f for f in info["facts"] if f["predicate"] == "has salary")
    assert "56,000–446,000" in salary["other"] and "Google" in salary["other"]
    assert info["docs"] == [{"title": "Research Scientist guide", "file": "research-scientist.md"}]
    incoming = [f for f in info["facts"] if f["dir"] == "in"]
    assert [f["other"] for f in incoming] == ["Senior Data Scientist"]


def test_size_grows_with_degree_and_legend(small_graph: Any) -> None:
    data = payload_of(render(small_graph))
    by_label = {data["info"][n["id"]]["label"]: n for n in data["nodes"]}
    assert by_label["Research Scientist"]["size"] > by_label["Lab Technician"]["size"]
    legend = {row["cls"]: row for row in data["legend"]}
    assert legend["Role"]["count"] == 5
    assert by_label["Python"]["shape"] == legend["ProgrammingLanguage"]["shape"]
    assert by_label["Python"]["color"] == legend["ProgrammingLanguage"]["color"]


# ---------------------------------------------------------------- the HTML itself


def test_page_is_offline_and_self_contained(small_graph: Any) -> None:
    html = render(small_graph)
    assert_offline(html)
    assert "vis-network" in html and "@license" in html  # vis-network inlined with its notice
    assert "Apache License 2.0 and the MIT License" in html


def test_assert_offline_catches_remote_references() -> None:
    base = (
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; connect-src 'none'\">"
    )
    for bad in (
        '<script src="https://cdn.example/x.js"></script>',
        '<link rel="stylesheet" href="//cdn.example/x.css">',
        "<style>@font-face{src:url(https://fonts.example/a.woff)}</style>",
        "<style>@import 'x.css';</style>",
        '<img src="http://x/y.png">',
    ):
        with pytest.raises(AssertionError):
            assert_offline(base + bad)
    assert_offline(base + "<style>a{background:url(data:image/png;base64,AA)}</style>")


def test_options_physics_small_and_large(small_graph: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    data = payload_of(render(small_graph))
    assert data["physics"] is True and data["options"]["physics"]["enabled"] is True
    assert data["options"]["physics"]["stabilization"]["enabled"] is True
    assert all("x" in n and "y" in n for n in data["nodes"])
    monkeypatch.setattr(viz, "PHYSICS_NODE_LIMIT", 10)
    monkeypatch.setattr(viz, "SPRING_NODE_LIMIT", 5)  # exercise the anchor layout too
    data = payload_of(render(small_graph))
    assert data["physics"] is False and data["options"]["physics"]["enabled"] is False
    positions = {(n["x"], n["y"]) for n in data["nodes"]}
    assert len(positions) == len(data["nodes"])  # no two nodes on top of each other


def test_output_is_deterministic(small_graph: Any) -> None:
    assert render(small_graph) == render(small_graph)


def test_hostile_labels_are_escaped(hostile_graph: Any) -> None:
    html = render(hostile_graph)
    assert_offline(html)
    page = parse(html)
    # only our three script elements; no element came from the data
    assert len(page.scripts) == 3
    assert set(page.tags) <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "span",
        "label",
        "input",
        "ul",
        "main",
        "div",
        "aside",
        "section",
        "h2",
        "ol",
        "p",
        "script",
    }
    for raw in ("<img src=x", "<script>window", "<svg onload", "<iframe", "\u2028", "\u2029"):
        assert raw not in html
    data = payload_of(html)
    labels = sorted(i["label"] for i in data["info"].values())
    assert labels == sorted([HOSTILE_LABELS[0], HOSTILE_LABELS[1], HOSTILE_LABELS[3]])
    assert HOSTILE_LABELS[2] in next(i["alt"] for i in data["info"].values() if i["alt"])
    tool = next(i for i in data["info"].values() if i["cls"] == "Tool")
    evidence = tool["facts"][0]["evidence"][0]
    assert evidence["quote"].startswith("<svg onload=")
    assert evidence["title"].startswith("<iframe")
    assert evidence["section"].startswith("<style>")


@given(st.text())
def test_json_for_script_is_inert_and_round_trips(text: str) -> None:
    encoded = viz.json_for_script({"label": text, "alt": [text]})
    assert not set(encoded) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(encoded) == {"label": text, "alt": [text]}


def test_write_atomic_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "graph.html"
    target.write_text("old", encoding="utf-8")

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(viz.VizError, match="No space left"):
        viz.write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.html"]
    monkeypatch.undo()
    viz.write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    with pytest.raises(viz.VizError, match="does not exist"):
        viz.write_atomic(tmp_path / "missing" / "g.html", "x")
    with pytest.raises(viz.VizError, match="directory"):
        viz.write_atomic(tmp_path, "x")


# ---------------------------------------------------------------- the command


@pytest.fixture()
def build_copy(small_build_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "build"
    shutil.copytree(small_build_dir, out)
    return out


def test_cli_default_output(build_copy: Path) -> None:
    result = CliRunner().invoke(cli, ["viz", "--graph", str(build_copy)])
    assert result.exit_code == 0, result.stderr
    written = build_copy / "graph.html"
    assert result.stdout.strip() == str(written)
    assert "25 nodes" in result.stderr
    assert len(payload_of(written.read_text(encoding="utf-8"))["nodes"]) == 25


def test_cli_focus_classes_out(build_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "roles.html"
    result = CliRunner().invoke(
        cli,
        [
            "viz",
            "--graph",
            str(build_copy),
            "--out",
            str(out),
            "--classes",
            "Role, Tool",
            "--focus",
            "Research Scientist",
            "--depth",
            "1",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert labels_drawn(out.read_text(encoding="utf-8")) == [
        "PyTorch",
        "Python",
        "Research Director",
        "Research Scientist",
        "Senior Data Scientist",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--focus", "Data Scientst"],
            "unknown role 'Data Scientst' (did you mean 'Data Scientist'",
        ),
        (["--classes", "Rol"], "unknown class 'Rol' (did you mean 'Role'?)"),
        (["--classes", ","], "--classes is empty"),
        (["--focus", "Data Scientist", "--depth", "-1"], "--depth must be 0 or more"),
        (["--depth", "1"], "--depth needs --focus"),
        (["--path", "Data Scientst", "Research Director"], "unknown role 'Data Scientst'"),
        (["--path", "Data Scientist", "Nobody At All"], "unknown role 'Nobody At All'"),
    ],
)
def test_cli_bad_input(build_copy: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "bad.html"
    result = CliRunner().invoke(cli, ["viz", "--graph", str(build_copy), "--out", str(out), *args])
    assert result.exit_code == 2
    assert result.stderr.startswith("mlkg: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert not out.exists()
    assert not list(tmp_path.glob(".bad.html.*"))


def test_cli_unwritable_output(build_copy: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    for out in (blocker / "graph.html", tmp_path / "missing" / "graph.html", tmp_path):
        result = CliRunner().invoke(cli, ["viz", "--graph", str(build_copy), "--out", str(out)])
        assert result.exit_code == 2, out
        assert result.stderr.startswith(f"mlkg: error: cannot write {out}")
        assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "file.txt"]


def test_cli_missing_graph(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["viz", "--graph", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "no graph in" in result.stderr


def test_cli_path_draws_route(build_copy: Path, tmp_path: Path) -> None:
    pytest.importorskip("mlkg.paths")
    out = tmp_path / "route.html"
    result = CliRunner().invoke(
        cli,
        [
            "viz",
            "--graph",
            str(build_copy),
            "--out",
            str(out),
            "--path",
            "Data Scientist",
            "Research Director",
        ],
    )
    assert result.exit_code == 0, result.stderr
    payload = payload_of(out.read_text(encoding="utf-8"))
    assert [payload["info"][i]["label"] for i in payload["route"]] == [
        "Data Scientist",
        "Senior Data Scientist",
        "Research Scientist",
        "Research Director",
    ]
    assert sum(1 for e in payload["edges"] if e["route"]) == 3


def test_synthetic_graph_shape() -> None:
    data = viz.read_graph_data(viz.synthetic_graph(60))
    assert len(data.entities) == 60
    assert sum(e.cls == "Role" for e in data.entities.values()) == 6
    assert all(f.evidence for f in data.facts)


def test_seed_build_page(seed_build_dir: Path, tmp_path: Path) -> None:
    from mlkg.store import open_graph

    graph = open_graph(seed_build_dir)
    out = tmp_path / "seed.html"
    result = viz.visualize(graph, out)
    html = out.read_text(encoding="utf-8")
    assert_offline(html)
    data = payload_of(html)
    entities = viz.read_graph_data(graph).entities
    assert len(data["nodes"]) == result.nodes == len(entities) > 50
    roles = [i for i in data["info"].values() if i["cls"] == "Role"]
    assert roles and any(f["evidence"] for i in roles for f in i["facts"])


def test_pyvis_traps_that_made_us_own_the_template() -> None:
    """pyvis 0.3.2's own template renders the heading raw and links CDNs even "in_line".

    If this starts failing, pyvis changed: re-check HARDENING.md before relying on it.
    """
    from pyvis.network import Network

    net = Network(heading="<img src=x onerror=alert(1)>", cdn_resources="in_line")
    net.add_node("a", label="a")
    html = net.generate_html()
    assert "<img src=x onerror=alert(1)>" in html
    assert re.search(r'<link[^>]+href="https://cdn', html)
    ours = render(memory_graph(Path(__file__).parent / "fixtures" / "small-graph.ttl"))
    assert "<link" not in ours


def test_empty_graph_renders(tmp_path: Path) -> None:
    ttl = tmp_path / "empty.ttl"
    ttl.write_text("@prefix mlkg: <https://w3id.org/mlkg/ontology#> .\n", encoding="utf-8")
    result = viz.visualize(memory_graph(ttl), tmp_path / "empty.html")
    assert (result.nodes, result.edges) == (0, 0)
    html = (tmp_path / "empty.html").read_text(encoding="utf-8")
    assert_offline(html)
    assert payload_of(html)["nodes"] == []


def _live_members(group: int) -> list[int]:
    """Return the processes of a process group that are not zombies (read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def test_stopping_the_browser_stops_every_process_of_its_group() -> None:
    """A helper that outlives the main process (as Chromium's do) is stopped too."""
    import subprocess
    import time

    proc = subprocess.Popen(["sh", "-c", "(trap '' TERM; sleep 30) & wait"], start_new_session=True)
    deadline = time.monotonic() + 5
    while len(_live_members(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_live_members(proc.pid)) >= 2  # the shell and a helper deaf to SIGTERM
    viz._stop_group(proc)
    deadline = time.monotonic() + 5
    while _live_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _live_members(proc.pid) == []


def test_a_profile_still_written_to_is_removed_on_a_later_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    real = shutil.rmtree
    failures = [OSError(39, "Directory not empty")] * 2

    def flaky(path: Any, *args: Any, **kwargs: Any) -> None:
        if failures and not kwargs.get("ignore_errors"):
            raise failures.pop()
        real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", flaky)
    viz._remove_profile(profile)
    assert not profile.exists() and not failures
