"""mlkg push against a small SPARQL 1.1 server (pyoxigraph behind http.server on 127.0.0.1).

The server speaks SPARQL 1.1 Query, Update and Graph Store Protocol POST, and can be told to fail
chosen requests, so retries, verification and "nothing half-replaced" are tested without
Virtuoso (tests/test_virtuoso.py runs the same pushes on the real thing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from mlkg.cli import cli
from mlkg.errors import GraphNotFoundError, StoreError
from mlkg.push import DEFAULT_GRAPH, PushError, batches, push, read_triples, temporary_graph
from mlkg.store import GRAPH_FILE


class SparqlServer(ThreadingHTTPServer):
    """A SPARQL 1.1 server over an in-memory Oxigraph store, with injectable faults."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SparqlHandler)
        self.store = ox.Store()
        self.lock = threading.Lock()
        self.requests: list[str] = []
        # Called with (kind, body) before each request is served; returns a status to fail with.
        self.fault: Callable[[str, str], int | None] = lambda kind, body: None

    @property
    def url(self) -> str:
        return f"sparql+http://127.0.0.1:{self.server_address[1]}/sparql"

    @property
    def gsp(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/data"

    def graph(self, iri: str) -> set[str]:
        return {
            str(q.triple) for q in self.store.quads_for_pattern(None, None, None, ox.NamedNode(iri))
        }


class SparqlHandler(BaseHTTPRequestHandler):
    server: SparqlServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        content_type = self.headers.get("Content-Type", "").split(";")[0]
        url = urlsplit(self.path)
        if url.path == "/data":
            kind = "gsp"
        elif content_type == "application/sparql-update":
            kind = "update"
        else:
            kind = "query"
        self.server.requests.append(kind)
        status = self.server.fault(kind, body)
        if status:
            self.reply(status, b"injected fault", "text/plain")
            return
        try:
            with self.server.lock:
                if kind == "gsp":
                    graph = parse_qs(url.query)["graph"][0]
                    self.server.store.load(
                        body.encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph)
                    )
                    self.reply(204, b"", "text/plain")
                elif kind == "update":
                    self.server.store.update(body)
                    self.reply(204, b"", "text/plain")
                else:
                    form = parse_qs(body)
                    result = self.server.store.query(form["query"][0])
                    payload = result.serialize(format=ox.QueryResultsFormat.JSON)
                    self.reply(200, payload, "application/sparql-results+json")
        except SyntaxError as exc:
            self.reply(400, str(exc).encode(), "text/plain")

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server() -> Iterator[SparqlServer]:
    """A SPARQL server on a 127.0.0.1 thread, stopped afterwards."""
    instance = SparqlServer()
    threading.Thread(target=instance.serve_forever, args=(0.05,), daemon=True).start()
    yield instance
    instance.shutdown()
    instance.server_close()


def build_triples(build_dir: Path) -> set[str]:
    return set(read_triples(build_dir / GRAPH_FILE))


@pytest.mark.parametrize("method", ["update", "gsp"])
def test_push_loads_the_build_into_the_named_graph(
    server: SparqlServer, small_build_dir: Path, method: str
) -> None:
    seen: list[tuple[int, int]] = []
    result = push(
        small_build_dir,
        server.url,
        gsp_endpoint=server.gsp,
        method=method,
        batch_size=40,
        progress=lambda done, total: seen.append((done, total)),
    )
    expected = build_triples(small_build_dir)
    assert server.graph(DEFAULT_GRAPH) == expected
    assert result.triples == len(expected)
    assert result.batches == -(-len(expected) // 40)
    assert seen[-1] == (len(expected), len(expected))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert list(server.store.named_graphs()) == [ox.NamedNode(DEFAULT_GRAPH)]  # no temp left


def test_push_twice_gives_the_same_triples(server: SparqlServer, small_build_dir: Path) -> None:
    push(small_build_dir, server.url, named_graph="urn:mlkg:test")
    first = server.graph("urn:mlkg:test")
    push(small_build_dir, server.url, named_graph="urn:mlkg:test", batch_size=7)
    assert server.graph("urn:mlkg:test") == first == build_triples(small_build_dir)


def test_push_replaces_stale_triples_and_leaves_other_graphs(
    server: SparqlServer, small_build_dir: Path
) -> None:
    server.store.update(
        f"INSERT DATA {{ GRAPH <{DEFAULT_GRAPH}> {{ <urn:stale> <urn:p> <urn:o> }} "
        "GRAPH <urn:other> { <urn:keep> <urn:p> <urn:o> } }"
    )
    push(small_build_dir, server.url)
    assert server.graph(DEFAULT_GRAPH) == build_triples(small_build_dir)
    assert server.graph("urn:other") == {"<urn:keep> <urn:p> <urn:o>"}


def test_a_leftover_temporary_graph_is_cleaned(server: SparqlServer, small_build_dir: Path) -> None:
    leftover = temporary_graph(DEFAULT_GRAPH)
    server.store.update(f"INSERT DATA {{ GRAPH <{leftover}> {{ <urn:half> <urn:p> <urn:o> }} }}")
    push(small_build_dir, server.url)
    assert server.graph(DEFAULT_GRAPH) == build_triples(small_build_dir)
    assert server.graph(leftover) == set()


def test_a_failed_batch_is_retried(server: SparqlServer, small_build_dir: Path) -> None:
    failures = iter([503, 500])

    def flaky(kind: str, body: str) -> int | None:
        return next(failures, None) if kind == "update" and "INSERT DATA" in body else None

    server.fault = flaky
    result = push(small_build_dir, server.url, batch_size=50, backoff=0.01)
    assert result.retries == 2
    assert server.graph(DEFAULT_GRAPH) == build_triples(small_build_dir)


def test_a_batch_that_keeps_failing_leaves_the_target_unchanged(
    server: SparqlServer, small_build_dir: Path
) -> None:
    server.store.update(
        f"INSERT DATA {{ GRAPH <{DEFAULT_GRAPH}> {{ <urn:old> <urn:p> <urn:o> }} }}"
    )
    inserts = 0

    def third_batch_fails(kind: str, body: str) -> int | None:
        nonlocal inserts
        if kind == "update" and "INSERT DATA" in body:
            inserts += 1
            return 500 if inserts >= 3 else None
        return None

    server.fault = third_batch_fails
    with pytest.raises(
        PushError, match=r"batch 3 .* failed after 3 attempts: server error.*unchanged"
    ):
        push(small_build_dir, server.url, batch_size=50, retries=2, backoff=0.01)
    assert server.graph(DEFAULT_GRAPH) == {"<urn:old> <urn:p> <urn:o>"}
    assert server.graph(temporary_graph(DEFAULT_GRAPH)) == set()  # dropped


def test_bad_requests_are_not_retried(server: SparqlServer, small_build_dir: Path) -> None:
    server.fault = lambda kind, body: 400 if "INSERT DATA" in body else None
    with pytest.raises(PushError, match=r"batch 1 .* failed: .*HTTP 400"):
        push(small_build_dir, server.url, backoff=0.01)
    assert server.requests.count("update") == 3  # cleanup, one batch, drop


def test_a_count_mismatch_stops_the_switch(server: SparqlServer, small_build_dir: Path) -> None:
    def lose_one(kind: str, body: str) -> int | None:
        if kind == "update" and "INSERT DATA" in body:
            # The server "accepts" the batch but stores one triple less.
            server.store.update(body.replace(body.splitlines()[1], "", 1))
            return 204
        return None

    server.fault = lose_one
    with pytest.raises(PushError, match=r"verification failed: .* holds \d+ triples, the build"):
        push(small_build_dir, server.url)
    assert server.graph(DEFAULT_GRAPH) == set()


def test_a_failed_switch_leaves_the_target_unchanged(
    server: SparqlServer, small_build_dir: Path
) -> None:
    server.fault = lambda kind, body: 500 if body.startswith("MOVE") else None
    with pytest.raises(PushError, match="switch to the new graph failed"):
        push(small_build_dir, server.url, retries=1, backoff=0.01)
    assert list(server.store.named_graphs()) == []


def test_batches_keep_blank_nodes_together() -> None:
    lines = ["<a> <p> <b>", "_:x <p> <c>", "<d> <p> <e>", "<f> <p> _:x", "<g> <p> <h>"]
    chunks = list(batches(lines, 2))
    assert sum(len(chunk) for chunk in chunks) == 5
    assert sum(1 for chunk in chunks if any("_:" in line for line in chunk)) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "ftp"}, "unknown push method"),
        ({"batch_size": 0}, "batch size must be at least 1"),
        ({"method": "gsp"}, "needs --gsp-endpoint"),
        ({"named_graph": "no iri"}, "not an absolute IRI"),
    ],
)
def test_bad_arguments(small_build_dir: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(StoreError, match=match):
        push(small_build_dir, "sparql+http://127.0.0.1:1/sparql", **kwargs)


def test_missing_build(tmp_path: Path) -> None:
    with pytest.raises(GraphNotFoundError):
        push(tmp_path, "sparql+http://127.0.0.1:1/sparql")


def test_cli_push_reports_throughput(server: SparqlServer, small_build_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["push", "--graph", str(small_build_dir), "--store", server.url, "--batch-size", "100"]
    )
    assert result.exit_code == 0, result.stderr
    count = len(build_triples(small_build_dir))
    assert f"pushed {count} triples to <{DEFAULT_GRAPH}>" in result.stdout
    assert "triples/s, 3 batches" in result.stdout


def test_cli_push_unreachable_is_one_line(small_build_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["push", "--graph", str(small_build_dir), "--store", "sparql+http://127.0.0.1:1/sparql"],
    )
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "connection refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_push_needs_a_store(small_build_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["push", "--graph", str(small_build_dir)])
    assert result.exit_code == 2
    assert "--store" in result.stderr
