"""Remote SPARQL store: every fault ends within the deadline with its real cause named.

Each fault is a small HTTP server on a 127.0.0.1 thread that misbehaves in one way.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkg.errors import StoreError
from mlkg.remote import (
    StoreAuthError,
    StoreTimeoutError,
    credentials,
    inject_bindings,
    open_remote,
    parse_store_url,
)

TIMEOUT = 1.0
# A fault that is not cut off by the deadline would take minutes (the drip sends 600 bytes at
# one a second, the hung server waits 60 s); this bound only tells "ended" from "hung".
HANG_BOUND = 20.0

SELECT_ANSWER = {
    "head": {"vars": ["s"]},
    "results": {"bindings": [{"s": {"type": "uri", "value": "https://w3id.org/mlkg/id/role/x"}}]},
}


class FaultServer(ThreadingHTTPServer):
    """An HTTP server whose handler calls ``behaviour(handler)`` for every request."""

    daemon_threads = True

    def __init__(self, behaviour: Callable[[Any], None]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"sparql+http://127.0.0.1:{self.server_address[1]}/sparql"


class Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )

    def do_GET(self) -> None:
        self._record()
        self.server.behaviour(self)

    do_POST = do_GET

    def send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def serve() -> Iterator[Callable[[Callable[[Any], None]], FaultServer]]:
    """Start fault servers on 127.0.0.1 threads; stop them all afterwards."""
    servers: list[FaultServer] = []

    def start(behaviour: Callable[[Any], None]) -> FaultServer:
        server = FaultServer(behaviour)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop.set()
        server.shutdown()
        server.server_close()


def ask(url: str, **kwargs: Any) -> Any:
    return open_remote(url, timeout=TIMEOUT, **kwargs).query("SELECT ?s WHERE { ?s ?p ?o }")


def fails_quickly(url: str, match: str, error: type[StoreError] = StoreError) -> StoreError:
    started = time.monotonic()
    with pytest.raises(error, match=match) as info:
        ask(url)
    assert time.monotonic() - started < HANG_BOUND
    return info.value


def answer_json(handler: Handler) -> None:
    handler.send(200, json.dumps(SELECT_ANSWER).encode(), "application/sparql-results+json")


def test_a_good_answer_is_parsed(serve: Any) -> None:
    server = serve(answer_json)
    rows = list(ask(server.url))
    assert [str(row[0]) for row in rows] == ["https://w3id.org/mlkg/id/role/x"]
    assert server.requests[0]["method"] == "POST"
    assert "query=SELECT" in server.requests[0]["body"]


def test_named_graph_is_sent_as_default_graph_uri(serve: Any) -> None:
    server = serve(answer_json)
    list(ask(server.url, named_graph="https://w3id.org/mlkg/graph"))
    form = parse_qs(server.requests[0]["body"])
    assert form["default-graph-uri"] == ["https://w3id.org/mlkg/graph"]
    assert "FROM" not in form["query"][0]


def test_named_graph_from_the_url(serve: Any) -> None:
    server = serve(answer_json)
    list(ask(server.url + "?default-graph-uri=urn:mlkg:g"))
    assert parse_qs(server.requests[0]["body"])["default-graph-uri"] == ["urn:mlkg:g"]


def test_server_that_never_answers_times_out(serve: Any) -> None:
    server = serve(lambda handler: handler.server.stop.wait(60))
    fails_quickly(server.url, "timeout: query to .* within 1 s", StoreTimeoutError)


def test_server_that_drips_one_byte_a_second_hits_the_total_deadline(serve: Any) -> None:
    def drip(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/sparql-results+json")
        handler.send_header("Content-Length", "600")
        handler.end_headers()
        try:
            for _ in range(600):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                if handler.server.stop.wait(0.3):
                    return
        except OSError:
            return

    server = serve(drip)
    fails_quickly(server.url, "timeout", StoreTimeoutError)


def test_server_that_drips_its_headers_hits_the_total_deadline(serve: Any) -> None:
    def drip_headers(handler: Handler) -> None:
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 600:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                if handler.server.stop.wait(0.3):
                    return
        except OSError:
            return

    server = serve(drip_headers)
    fails_quickly(server.url, "timeout", StoreTimeoutError)


def test_refused_connection_says_so() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now.
    fails_quickly(f"sparql+http://127.0.0.1:{port}/sparql", "connection refused by 127.0.0.1")


def test_dns_failure_says_so() -> None:
    # .invalid never resolves (RFC 2606); the resolver answers locally.
    fails_quickly("sparql+http://no-such-host.invalid/sparql", "DNS failure")


@pytest.mark.parametrize(
    ("status", "match"),
    [
        (401, "wrong or missing credentials: .* HTTP 401.*MLKG_STORE_USER"),
        (403, "access forbidden: .* HTTP 403"),
        (500, "server error: .* HTTP 500 .*: boom"),
        (503, "server error: .* HTTP 503"),
        (404, "no SPARQL endpoint at .*: HTTP 404"),
        (400, "rejected the query \\(HTTP 400\\): boom"),
    ],
)
def test_http_errors_name_the_status(serve: Any, status: int, match: str) -> None:
    server = serve(lambda handler: handler.send(status, b"boom", "text/plain"))
    fails_quickly(server.url, match)


def test_wrong_credentials_name_the_user(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLKG_STORE_USER", "alice")
    monkeypatch.setenv("MLKG_STORE_PASSWORD", "wrong")
    challenge = {"WWW_Authenticate": 'Basic realm="sparql"'}
    server = serve(lambda handler: handler.send(401, b"no", "text/plain", **challenge))
    error = fails_quickly(server.url, "wrong or missing credentials", StoreAuthError)
    assert "'alice'" in str(error)
    assert "wrong" not in str(error).replace("wrong or missing", "")  # the password is not shown


def test_basic_credentials_from_the_environment_are_sent(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    monkeypatch.setenv("MLKG_STORE_USER", "alice")
    monkeypatch.setenv("MLKG_STORE_PASSWORD", "s3cret")
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()

    def basic(handler: Handler) -> None:
        if handler.headers.get("Authorization") == expected:
            answer_json(handler)
        else:
            handler.send(401, b"", "text/plain", WWW_Authenticate='Basic realm="sparql"')

    server = serve(basic)
    assert len(list(ask(server.url))) == 1
    assert "Authorization" not in server.requests[0]["headers"]  # nothing sent unasked


def test_digest_credentials_are_answered(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLKG_STORE_USER", "dba")
    monkeypatch.setenv("MLKG_STORE_PASSWORD", "dba")

    def digest(handler: Handler) -> None:
        authorization = handler.headers.get("Authorization", "")
        if authorization.startswith("Digest ") and 'username="dba"' in authorization:
            answer_json(handler)
        else:
            challenge = 'Digest realm="virtuoso", nonce="abc123", qop="auth", algorithm="MD5"'
            handler.send(401, b"", "text/plain", WWW_Authenticate=challenge)

    server = serve(digest)
    assert len(list(ask(server.url))) == 1


def test_credentials_from_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLKG_STORE_USER", raising=False)
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine store.example login bob password hunter2\n")
    netrc_file.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc_file))
    assert credentials("http://store.example:8890/sparql") == ("bob", "hunter2")
    assert credentials("http://other.example/sparql") is None


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(StoreError, match="do not put credentials in the store URL"):
        parse_store_url("sparql+http://dba:dba@127.0.0.1:8890/sparql")


@pytest.mark.parametrize("url", ["", "ftp://x/sparql", "sparql+http:///sparql", "127.0.0.1:8890"])
def test_bad_store_urls(url: str) -> None:
    with pytest.raises(StoreError, match="not a store URL"):
        parse_store_url(url)


def test_html_page_is_not_a_sparql_endpoint(serve: Any) -> None:
    page = b"<!doctype html><html><body>Welcome</body></html>"
    server = serve(lambda handler: handler.send(200, page, "text/html; charset=utf-8"))
    fails_quickly(server.url, "not a SPARQL endpoint: .* HTML page")


def test_truncated_json_is_reported(serve: Any) -> None:
    body = json.dumps(SELECT_ANSWER).encode()[:-20]
    server = serve(lambda handler: handler.send(200, body, "application/sparql-results+json"))
    fails_quickly(server.url, "truncated or malformed JSON")


def test_connection_closed_mid_answer_is_reported(serve: Any) -> None:
    def cut(handler: Handler) -> None:
        body = json.dumps(SELECT_ANSWER).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/sparql-results+json")
        handler.send_header("Content-Length", str(len(body) + 100))
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    server = serve(cut)
    fails_quickly(server.url, "truncated answer: .* closed the connection after")


def test_json_that_is_not_sparql_results(serve: Any) -> None:
    server = serve(lambda handler: handler.send(200, b'{"hello": 1}', "application/json"))
    fails_quickly(server.url, "not a SPARQL endpoint")


def test_bad_timeout_is_refused() -> None:
    with pytest.raises(StoreError, match="timeout must be a positive"):
        open_remote("sparql+http://127.0.0.1:1/sparql", timeout=0)


def test_bad_named_graph_is_refused() -> None:
    with pytest.raises(StoreError, match="not an absolute IRI"):
        open_remote("sparql+http://127.0.0.1:1/sparql", named_graph="not an iri")


def _node(value: Any) -> str:
    return f"<{value}>"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o",
            "SELECT ?o WHERE { VALUES (?s) { (<urn:x>) } ?s ?p ?o } ORDER BY ?o",
        ),
        (
            'SELECT ?o WHERE { ?s ?p "{ not a brace" } # } comment {\n',
            'SELECT ?o WHERE { VALUES (?s) { (<urn:x>) } ?s ?p "{ not a brace" } # } comment {\n',
        ),
        (
            "PREFIX a: <urn:a#> CONSTRUCT { ?s ?p ?o } WHERE {?s ?p ?o}",
            "PREFIX a: <urn:a#> CONSTRUCT { ?s ?p ?o } WHERE { VALUES (?s) { (<urn:x>) }?s ?p ?o}",
        ),
        ("ASK { ?s ?p ?o }", "ASK { VALUES (?s) { (<urn:x>) } ?s ?p ?o }"),
    ],
)
def test_bindings_go_into_the_where_group(query: str, expected: str) -> None:
    assert inject_bindings(query, {"s": "urn:x"}, _node) == expected


def test_bindings_need_a_where_group() -> None:
    with pytest.raises(StoreError, match="no WHERE"):
        inject_bindings("CONSTRUCT { ?s ?p ?o }", {"s": "urn:x"}, _node)


@given(st.text(max_size=200))
def test_binding_injection_never_crashes(query: str) -> None:
    try:
        result = inject_bindings(query, {"s": "urn:x"}, _node)
    except StoreError:
        return
    assert "VALUES (?s) { (<urn:x>) }" in result
    assert result.replace(" VALUES (?s) { (<urn:x>) }", "", 1) == query
