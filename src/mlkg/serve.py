"""``mlkg serve``: a read-only SPARQL 1.1 Protocol endpoint and a query page, with the stdlib only.

The HTTP side is :class:`http.server.ThreadingHTTPServer` (one thread per connection); queries run
in a :class:`mlkg.executor.WorkerPool`, so a slow query holds one worker process and never the
server. Every query passes :func:`mlkg.guard.check_query` (no update, no SERVICE/FROM/LOAD unless
``allow_service``), has a deadline (the worker is killed; HTTP 503) and a row cap.

Routes
------
``/sparql``
    GET ``?query=``, POST ``application/x-www-form-urlencoded`` (``query=``) and POST
    ``application/sparql-query``. Results as SPARQL JSON (default), XML, CSV or TSV for SELECT/ASK;
    Turtle (default) or N-Triples for CONSTRUCT/DESCRIBE, chosen by ``Accept`` (or ``format=``).
``/``
    The query page (``static/index.html``), with the named queries as examples.
``/api/queries``
    The named-query catalogue as JSON.
``/api/prepare``
    POST JSON ``{"name": …, "params": {…}}`` → ``{"query": text with parameters bound}``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from mlkg.errors import GraphNotFoundError, MlkgError, QueryError, QueryTimeoutError, StoreError

if TYPE_CHECKING:
    from rdflib.term import Node

    from mlkg.executor import QueryResult, WorkerPool

logger = logging.getLogger("mlkg.serve")

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 1_000_000
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
DEFAULT_MEMORY_MB = 2048

JSON_RESULTS = "application/sparql-results+json"
XML_RESULTS = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"

# Accepted media type (or format= word) → the type we answer with.
_TABLE_TYPES = {
    JSON_RESULTS: JSON_RESULTS,
    "application/json": JSON_RESULTS,
    "json": JSON_RESULTS,
    XML_RESULTS: XML_RESULTS,
    "application/xml": XML_RESULTS,
    "text/xml": XML_RESULTS,
    "xml": XML_RESULTS,
    CSV: CSV,
    "csv": CSV,
    TSV: TSV,
    "tsv": TSV,
}
_GRAPH_TYPES = {
    TURTLE: TURTLE,
    "application/x-turtle": TURTLE,
    "turtle": TURTLE,
    "ttl": TURTLE,
    NTRIPLES: NTRIPLES,
    "text/plain": NTRIPLES,
    "nt": NTRIPLES,
    "ntriples": NTRIPLES,
    "n-triples": NTRIPLES,
}
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
}
_LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}


class ServeError(MlkgError):
    """The server cannot start (port taken, bad address, missing graph)."""


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one endpoint.

    Attributes
    ----------
    graph_dir
        The build folder to serve.
    host, port
        Where to listen (``127.0.0.1:7878`` by default; port 0 picks a free one).
    timeout
        Seconds per query before its worker is killed (HTTP 503).
    max_rows
        Row cap per result.
    allow_service
        Allow SERVICE / FROM / FROM NAMED (they reach the network).
    cors_origins
        Origins allowed to read responses from scripts (none by default; never credentials).
    workers
        Worker processes, i.e. queries running at once.
    memory_limit_mb
        Address-space limit of each worker, or ``None``.
    """

    graph_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    allow_service: bool = False
    cors_origins: tuple[str, ...] = ()
    workers: int = 3
    memory_limit_mb: int | None = DEFAULT_MEMORY_MB
    quiet: bool = False


@dataclass
class _Catalogue:
    loaded_at: float = 0.0
    entries: list[dict[str, Any]] = field(default_factory=list)


class EndpointServer(ThreadingHTTPServer):
    """The HTTP server: holds the configuration and the worker pool."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, config: ServerConfig, pool: WorkerPool) -> None:
        self.config = config
        self.pool = pool
        self.catalogue = _Catalogue()
        self.catalogue_lock = threading.Lock()
        if ":" in config.host:
            self.address_family = socket.AF_INET6
        super().__init__((config.host.strip("[]"), config.port), _Handler)

    @property
    def url(self) -> str:
        """Return the base URL the server listens on (``http://127.0.0.1:7878``)."""
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}"


def make_server(config: ServerConfig) -> EndpointServer:
    """Check the build, start the worker pool and bind the socket.

    Returns
    -------
    EndpointServer
        A bound server; call :func:`run` (or ``serve_forever``) to answer requests.

    Raises
    ------
    ServeError
        The port is taken, the address cannot be bound, or an option is out of range.
    mlkg.errors.GraphNotFoundError
        There is no build in ``config.graph_dir``.
    """
    from mlkg.executor import WorkerPool
    from mlkg.store import resolve_build_dir

    resolve_build_dir(config.graph_dir)
    if config.timeout <= 0:
        raise ServeError("--timeout must be a positive number of seconds")
    if config.max_rows < 1:
        raise ServeError("--max-rows must be at least 1")
    if config.workers < 1:
        raise ServeError("--workers must be at least 1")
    if not 0 <= config.port <= 65535:
        raise ServeError(f"--port {config.port} is not a TCP port (0-65535)")
    for origin in config.cors_origins:
        if origin == "*" or not origin.startswith(("http://", "https://")):
            raise ServeError(
                f"--cors-origin {origin!r}: give a full origin such as http://localhost:3000"
            )
    pool = WorkerPool(
        config.workers,
        memory_limit_mb=config.memory_limit_mb,
        warm_graph_dir=Path(config.graph_dir),
    )
    try:
        return EndpointServer(config, pool)
    except OSError as exc:
        pool.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {config.port} on {config.host} is already in use: "
                "stop the other server or choose another port with --port"
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ServeError(
                f"not allowed to listen on {config.host}:{config.port} (ports below 1024 "
                "need privileges): choose another port with --port"
            ) from None
        raise ServeError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    except BaseException:
        pool.close()
        raise


def run(server: EndpointServer) -> None:
    """Answer requests until interrupted (Ctrl-C), then stop the workers and close the socket."""
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.pool.close()


@contextlib.contextmanager
def running(config: ServerConfig) -> Any:
    """Run a server in a background thread for the ``with`` block; yield it (for tests, scripts).

    Yields
    ------
    EndpointServer
        The running server; ``server.url`` is its base URL.
    """
    server = make_server(config)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        server.pool.close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------------------------
# Content negotiation and result formats


def negotiate(accept: str | None, form: str, format_param: str | None = None) -> str | None:
    """Return the media type to answer with, or ``None`` if nothing acceptable is offered.

    ``format_param`` (``json``, ``xml``, ``csv``, ``tsv``, ``turtle``, ``nt`` or a media type)
    wins over ``Accept``; otherwise the highest-``q`` acceptable type is chosen.

    Examples
    --------
    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", "SELECT")
    'application/sparql-results+xml'
    >>> negotiate("*/*", "CONSTRUCT")
    'text/turtle'
    """
    table = form in ("SELECT", "ASK")
    known = _TABLE_TYPES if table else _GRAPH_TYPES
    default = JSON_RESULTS if table else TURTLE
    if format_param:
        chosen = known.get(format_param.strip().lower())
        if chosen:
            return chosen
    if not accept or not accept.strip():
        return default
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")[:50]):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        q = 1.0
        for param in pieces[1:]:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranges.append((-q, index, media))
    for _, _, media in sorted(ranges):
        if media in known:
            return known[media]
        if media in ("*/*", "application/*", "text/*"):
            if media == "text/*":
                return CSV if table else TURTLE
            return default
    return None


def _nt_term(term: Node | None) -> str:
    """Return a term in N-Triples syntax (for TSV), with tabs and newlines escaped."""
    from rdflib.term import BNode, Literal, URIRef

    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    assert isinstance(term, Literal)
    value = (
        str(term)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    if term.language:
        return f'"{value}"@{term.language}'
    if term.datatype:
        return f'"{value}"^^<{term.datatype}>'
    return f'"{value}"'


def _json_term(term: Node) -> dict[str, str]:
    from rdflib.term import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    assert isinstance(term, Literal)
    out = {"type": "literal", "value": str(term)}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype:
        out["datatype"] = str(term.datatype)
    return out


def _xml_text(value: str) -> str:
    """Escape text for XML 1.0, replacing characters XML cannot carry."""
    from xml.sax.saxutils import escape

    cleaned = "".join(
        ch
        if ch in "\t\n\r"
        or ("\x20" <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ord(ch) > 0xFFFF
        else "\ufffd"
        for ch in value
    )
    return escape(cleaned)


def _xml_attr(value: str) -> str:
    return _xml_text(value).replace('"', "&quot;")


def serialize(result: QueryResult, media_type: str) -> bytes:
    """Write a query result in a W3C results format (or RDF for a graph result).

    Returns
    -------
    bytes
        The response body, UTF-8.
    """
    import csv
    import io

    if result.form in ("CONSTRUCT", "DESCRIBE"):
        ntriples = result.graph_ntriples or ""
        if media_type == NTRIPLES:
            return ntriples.encode("utf-8")
        return _ntriples_to_turtle(ntriples)
    if media_type == JSON_RESULTS:
        if result.form == "ASK":
            return json.dumps({"head": {}, "boolean": bool(result.boolean)}).encode("utf-8")
        bindings = [
            {
                var: _json_term(term)
                for var, term in zip(result.vars, row, strict=True)
                if term is not None
            }
            for row in result.rows
        ]
        body = {"head": {"vars": result.vars}, "results": {"bindings": bindings}}
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    if media_type == XML_RESULTS:
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        parts.append('<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>')
        if result.form == "ASK":
            parts.append(f"</head>\n<boolean>{'true' if result.boolean else 'false'}</boolean>\n")
        else:
            parts.extend(f'<variable name="{_xml_attr(v)}"/>' for v in result.vars)
            parts.append("</head>\n<results>\n")
            for row in result.rows:
                parts.append("<result>")
                for var, term in zip(result.vars, row, strict=True):
                    if term is not None:
                        parts.append(
                            f'<binding name="{_xml_attr(var)}">{_xml_value(term)}</binding>'
                        )
                parts.append("</result>\n")
            parts.append("</results>\n")
        parts.append("</sparql>\n")
        return "".join(parts).encode("utf-8")
    if media_type == CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if result.form == "ASK":
            writer.writerow(["boolean"])
            writer.writerow(["true" if result.boolean else "false"])
        else:
            writer.writerow(result.vars)
            for row in result.rows:
                writer.writerow(["" if t is None else _csv_value(t) for t in row])
        return buffer.getvalue().encode("utf-8")
    # TSV
    if result.form == "ASK":
        return f"?boolean\n{'true' if result.boolean else 'false'}\n".encode()
    lines = ["\t".join(f"?{v}" for v in result.vars)]
    lines.extend("\t".join(_nt_term(t) for t in row) for row in result.rows)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _csv_value(term: Node) -> str:
    from rdflib.term import BNode

    return f"_:{term}" if isinstance(term, BNode) else str(term)


def _xml_value(term: Node) -> str:
    from rdflib.term import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return f"<uri>{_xml_text(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{_xml_text(str(term))}</bnode>"
    assert isinstance(term, Literal)
    if term.language:
        return f'<literal xml:lang="{_xml_attr(term.language)}">{_xml_text(str(term))}</literal>'
    if term.datatype:
        return (
            f'<literal datatype="{_xml_attr(str(term.datatype))}">{_xml_text(str(term))}</literal>'
        )
    return f"<literal>{_xml_text(str(term))}</literal>"


def _ntriples_to_turtle(ntriples: str) -> bytes:
    """Return N-Triples rewritten as Turtle with the mlkg prefixes (pyoxigraph, fast)."""
    import pyoxigraph

    from mlkg.guard import default_prefixes

    triples = list(
        pyoxigraph.parse(ntriples.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    )
    data = pyoxigraph.serialize(
        triples,
        format=pyoxigraph.RdfFormat.TURTLE,
        prefixes={k: v for k, v in default_prefixes().items() if k != "mlkgid"},
    )
    return data or b""


# ------------------------------------------------------------------------------------------------
# The named-query catalogue for the page


def catalogue_entries(reload_after: float = 5.0, cache: _Catalogue | None = None) -> list[dict]:
    """Return the named queries as ``[{name, summary, params: [{name, description}], text}]``.

    Uses :func:`mlkg.queries.load_catalogue` when it is available, else reads the ``.rq`` headers
    under :func:`mlkg.resources.queries_dir` directly.

    Returns
    -------
    list of dict
        One entry per query, sorted by name.
    """
    if cache is not None and cache.entries and time.monotonic() - cache.loaded_at < reload_after:
        return cache.entries
    entries: list[dict[str, Any]] = []
    try:
        from mlkg.queries import load_catalogue

        for name, query in sorted(load_catalogue().items()):
            entries.append(
                {
                    "name": name,
                    "summary": query.summary,
                    "params": [
                        {"name": p.name, "description": getattr(p, "description", "")}
                        for p in query.params
                    ],
                    "text": query.text,
                }
            )
    except ImportError:
        entries = _read_catalogue_files()
    except MlkgError:
        entries = _read_catalogue_files()
    if cache is not None:
        cache.entries = entries
        cache.loaded_at = time.monotonic()
    return entries


def _read_catalogue_files() -> list[dict[str, Any]]:
    import re

    from mlkg.resources import queries_dir

    header = re.compile(r"^#\+\s*(summary|params)\s*:\s*(.*)$")
    entries = []
    for path in sorted(queries_dir().glob("*.rq")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        summary, params = "", []
        for line in text.splitlines():
            match = header.match(line.strip())
            if not match:
                if line.strip() and not line.startswith("#"):
                    break
                continue
            if match.group(1) == "summary":
                summary = match.group(2)
            else:
                params = [
                    {"name": p.split("(")[0].strip(), "description": ""}
                    for p in match.group(2).split(",")
                    if p.strip()
                ]
        entries.append({"name": path.stem, "summary": summary, "params": params, "text": text})
    return entries


# ------------------------------------------------------------------------------------------------
# The request handler


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class _Handler(BaseHTTPRequestHandler):
    server: EndpointServer
    protocol_version = "HTTP/1.1"
    server_version = "mlkg"
    sys_version = ""
    timeout = 30  # seconds a client may take to send its request (slow clients are cut off)
    disable_nagle_algorithm = True  # small responses go out at once (no 40 ms delayed-ACK stalls)

    # -- plumbing ------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.config.quiet:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.server.config.quiet:
            path = self.path.split("?", 1)[0]
            self.log_message('"%s %s" %s', self.command, path[:100], str(code))

    def _cors_headers(self) -> dict[str, str]:
        origin = self.headers.get("Origin")
        if origin and origin in self.server.config.cors_origins:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in {**_SECURITY_HEADERS, **self._cors_headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        accept = (self.headers.get("Accept") or "").lower()
        if "application/json" in accept and "sparql-results" not in accept:
            body = json.dumps({"error": message}).encode("utf-8")
            self._send(status, body, "application/json; charset=utf-8", headers)
        else:
            self._send(
                status, (message + "\n").encode("utf-8"), "text/plain; charset=utf-8", headers
            )

    def _check_host(self) -> None:
        """Refuse foreign Host headers on a loopback server (DNS-rebinding protection)."""
        if self.server.config.host not in _LOOPBACK_NAMES:
            return
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if host.startswith("[") and "]" in host:
            name = host[: host.index("]") + 1]
        if name and name not in _LOOPBACK_NAMES:
            raise _HTTPError(HTTPStatus.FORBIDDEN, "forbidden host name for a loopback server")

    def _dispatch(self, method: str) -> None:
        try:
            self._check_host()
            path = urlsplit(self.path).path
            if path == "/sparql":
                self._sparql(method)
            elif path == "/api/queries" and method in ("GET", "HEAD"):
                self._queries()
            elif path == "/api/prepare" and method == "POST":
                self._prepare()
            elif method in ("GET", "HEAD"):
                self._static(path)
            else:
                raise _HTTPError(
                    HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed", {"Allow": "GET"}
                )
        except _HTTPError as exc:
            if exc.status >= 400:
                self.close_connection = self.close_connection or exc.status in (411, 413)
            self._send_error(exc.status, exc.message, exc.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # never echo internals to the client
            logger.exception("internal error")
            self._send_error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal server error")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_OPTIONS(self) -> None:
        cors = self._cors_headers()
        if not cors:
            self._send(HTTPStatus.NO_CONTENT, b"", "text/plain", {"Allow": "GET, POST, OPTIONS"})
            return
        self._send(
            HTTPStatus.NO_CONTENT,
            b"",
            "text/plain",
            {
                "Access-Control-Allow-Methods": "GET, POST",
                "Access-Control-Allow-Headers": "Content-Type, Accept",
                "Access-Control-Max-Age": "600",
            },
        )

    def _unsupported(self) -> None:
        self._send_error(
            HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed", {"Allow": "GET, POST"}
        )

    do_PUT = do_DELETE = do_PATCH = _unsupported

    def _drain(self, length: int, limit: int = 16 * MAX_BODY_BYTES) -> None:
        """Read and drop a refused body (up to ``limit``), so the client gets to read our answer."""
        remaining = min(length, limit)
        with contextlib.suppress(OSError):
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise _HTTPError(
                HTTPStatus.LENGTH_REQUIRED, "send a Content-Length (no chunked bodies)"
            )
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise _HTTPError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
        try:
            length = int(length_text)
        except ValueError:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        if length < 0:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._drain(length)
            raise _HTTPError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the request body is larger than 1 MB"
            )
        return self.rfile.read(length)

    # -- routes --------------------------------------------------------------------------------
    def _static(self, path: str) -> None:
        name = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
        if name.startswith("static/"):
            name = name[len("static/") :]
        if "/" in name or name.startswith(".") or not name:
            raise _HTTPError(HTTPStatus.NOT_FOUND, "not found")
        file = STATIC_DIR / name
        content_type = _STATIC_TYPES.get(file.suffix)
        if content_type is None or not file.is_file():
            raise _HTTPError(HTTPStatus.NOT_FOUND, "not found")
        self._send(HTTPStatus.OK, file.read_bytes(), content_type)

    def _queries(self) -> None:
        with self.server.catalogue_lock:
            entries = catalogue_entries(cache=self.server.catalogue)
        body = json.dumps({"queries": entries}, ensure_ascii=False).encode("utf-8")
        self._send(HTTPStatus.OK, body, "application/json; charset=utf-8")

    def _prepare(self) -> None:
        """Bind a named query's parameters (labels resolved to IRIs) and return the text."""
        body = self._read_body()
        try:
            request = json.loads(body.decode("utf-8"))
            name = request["name"]
            params = request.get("params") or {}
            if not isinstance(name, str) or not isinstance(params, dict):
                raise TypeError
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
                raise TypeError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise _HTTPError(
                HTTPStatus.BAD_REQUEST, 'send JSON {"name": "...", "params": {"name": "value"}}'
            ) from None
        try:
            from mlkg.queries import load_catalogue, prepare
        except ImportError:
            raise _HTTPError(HTTPStatus.NOT_IMPLEMENTED, "parameters are not supported") from None
        config = self.server.config
        try:
            if name not in load_catalogue():
                raise _HTTPError(HTTPStatus.NOT_FOUND, f"no named query {name!r}")
            prepared = prepare(
                config.graph_dir,
                name,
                {k: v for k, v in params.items() if v.strip()},
                allow_service=config.allow_service,
                timeout=config.timeout,
            )
        except QueryTimeoutError as exc:
            raise _HTTPError(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None
        except MlkgError as exc:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        out = json.dumps({"query": prepared.text}, ensure_ascii=False).encode("utf-8")
        self._send(HTTPStatus.OK, out, "application/json; charset=utf-8")

    def _query_text(self, method: str) -> tuple[str, dict[str, list[str]]]:
        """Return the query text and the other parameters of a protocol request."""
        url = urlsplit(self.path)
        try:
            params = parse_qs(url.query, keep_blank_values=True, max_num_fields=100)
        except ValueError:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "too many URL parameters") from None
        if method == "POST":
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            body = self._read_body()
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise _HTTPError(HTTPStatus.BAD_REQUEST, "the body is not UTF-8") from None
            if content_type == "application/sparql-update":
                raise _HTTPError(
                    HTTPStatus.FORBIDDEN, "SPARQL Update is not allowed: this endpoint is read-only"
                )
            if content_type == "application/sparql-query":
                if "query" in params:
                    raise _HTTPError(
                        HTTPStatus.BAD_REQUEST, "give the query once, not also in the URL"
                    )
                return text, params
            if content_type == "application/x-www-form-urlencoded":
                try:
                    form = parse_qs(text, keep_blank_values=True, max_num_fields=100)
                except ValueError:
                    raise _HTTPError(HTTPStatus.BAD_REQUEST, "too many form fields") from None
                for key, values in form.items():
                    params.setdefault(key, []).extend(values)
            else:
                raise _HTTPError(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                    "POST a query as application/sparql-query or a form "
                    "(application/x-www-form-urlencoded) with query=",
                )
        if "update" in params:
            raise _HTTPError(
                HTTPStatus.FORBIDDEN, "SPARQL Update is not allowed: this endpoint is read-only"
            )
        for key in (
            "default-graph-uri",
            "named-graph-uri",
            "using-graph-uri",
            "using-named-graph-uri",
        ):
            if key in params and not self.server.config.allow_service:
                raise _HTTPError(
                    HTTPStatus.BAD_REQUEST, f"{key} is not supported: the endpoint serves one graph"
                )
        queries = params.get("query", [])
        if not queries:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "missing query parameter: send ?query=…")
        if len(queries) > 1:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "give exactly one query parameter")
        return queries[0], params

    def _sparql(self, method: str) -> None:
        from mlkg.executor import QueryBusyError, execute
        from mlkg.guard import QueryRejectedError

        if method not in ("GET", "HEAD", "POST"):
            raise _HTTPError(
                HTTPStatus.METHOD_NOT_ALLOWED, "use GET or POST", {"Allow": "GET, POST"}
            )
        if (
            method == "GET"
            and "query=" not in (urlsplit(self.path).query or "")
            and "text/html" in (self.headers.get("Accept") or "")
        ):
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": "/"})
            return
        text, params = self._query_text(method)
        if len(text.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
            raise _HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the query is larger than 1 MB")
        config = self.server.config
        formats = params.get("format") or params.get("output") or []
        format_param = formats[0] if formats else None
        started = time.perf_counter()
        try:
            result = execute(
                config.graph_dir,
                text,
                timeout=config.timeout,
                row_cap=config.max_rows,
                allow_service=config.allow_service,
                pool=self.server.pool,
            )
        except QueryBusyError as exc:
            raise _HTTPError(
                HTTPStatus.SERVICE_UNAVAILABLE, str(exc), {"Retry-After": "5"}
            ) from None
        except QueryTimeoutError as exc:
            raise _HTTPError(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None
        except QueryRejectedError as exc:
            raise _HTTPError(HTTPStatus.FORBIDDEN, str(exc)) from None
        except (GraphNotFoundError, StoreError) as exc:
            logger.error("graph unavailable: %s", exc)
            raise _HTTPError(HTTPStatus.SERVICE_UNAVAILABLE, "the graph is not available") from None
        except QueryError as exc:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        elapsed = time.perf_counter() - started
        media_type = negotiate(self.headers.get("Accept"), result.form, format_param)
        if media_type is None:
            offered = ", ".join(
                [JSON_RESULTS, XML_RESULTS, CSV, TSV]
                if result.form in ("SELECT", "ASK")
                else [TURTLE, NTRIPLES]
            )
            raise _HTTPError(
                HTTPStatus.NOT_ACCEPTABLE, f"cannot answer in that format; offered: {offered}"
            )
        body = serialize(result, media_type)
        headers = {"X-Mlkg-Elapsed-Ms": f"{elapsed * 1000:.1f}"}
        if result.truncated:
            headers["X-Mlkg-Truncated"] = str(config.max_rows)
        content_type = media_type + ("; charset=utf-8" if media_type.startswith("text/") else "")
        self._send(HTTPStatus.OK, body, content_type, headers)


def parse_cors(origins: Sequence[str]) -> tuple[str, ...]:
    """Return CORS origins without trailing slashes, de-duplicated, in order."""
    seen: dict[str, None] = {}
    for origin in origins:
        seen[origin.rstrip("/")] = None
    return tuple(seen)
