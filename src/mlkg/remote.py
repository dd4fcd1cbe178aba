"""Talk to a remote SPARQL 1.1 server (Virtuoso, Fuseki, GraphDB, ...) with real timeouts.

:func:`open_remote` returns a read-only :class:`rdflib.Graph` whose queries go to the server's
SPARQL endpoint. rdflib's own ``SPARQLStore`` ignores its ``timeout=`` (a hung server hangs the
caller forever) and reports a refused connection as a misleading ``ValueError``; this module does
the HTTP itself (:class:`HttpClient`) so that

* every request has a **total deadline** (not just a per-read timeout: a server that drips one
  byte a second is cut off when the deadline passes), enforced by a watchdog that shuts the
  socket down;
* every fault is a :class:`mlkg.errors.StoreError` naming the real cause: connection refused,
  DNS failure, timeout, wrong credentials (401/403), a server error (5xx), a URL that is not a
  SPARQL endpoint (an HTML page), a truncated or malformed answer;
* credentials come from ``MLKG_STORE_USER`` / ``MLKG_STORE_PASSWORD`` or ``~/.netrc``, never from
  the command line, and are offered for HTTP basic and digest authentication.

Store URLs are ``sparql+http://host:port/path`` or ``sparql+https://...``; plain ``http(s)://`` is
accepted too. A ``default-graph-uri`` query parameter in the URL (or the ``MLKG_STORE_GRAPH``
environment variable, or ``named_graph=``) makes every query read that named graph only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import netrc
import os
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any

from mlkg.errors import StoreError

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.query import Result

USER_ENV = "MLKG_STORE_USER"
PASSWORD_ENV = "MLKG_STORE_PASSWORD"
GRAPH_ENV = "MLKG_STORE_GRAPH"
DEFAULT_TIMEOUT = 30.0
MAX_RESPONSE_BYTES = 512 * 1024 * 1024

SELECT_ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "text/turtle;q=0.8, application/n-triples;q=0.8, application/rdf+xml;q=0.5"
)
_RESULT_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "application/json",
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "text/csv",
    "text/tab-separated-values",
}


class StoreTimeoutError(StoreError):
    """A remote store did not answer completely within the deadline."""

    exit_code = 4


class StoreAuthError(StoreError):
    """A remote store refused the credentials (HTTP 401 or 403)."""


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: the HTTP endpoint, and the named graph it selects (if any)."""

    endpoint: str
    named_graph: str | None = None
    extra_params: tuple[tuple[str, str], ...] = field(default=())

    @property
    def host(self) -> str:
        """Return ``host:port`` of the endpoint (for messages)."""
        return urllib.parse.urlsplit(self.endpoint).netloc


def parse_store_url(url: str) -> StoreURL:
    """Return the HTTP endpoint and named graph of a ``sparql+http(s)://`` store URL.

    Raises :class:`StoreError` if the URL is not an http(s) URL with a host.

    Examples
    --------
    >>> parse_store_url("sparql+http://127.0.0.1:8890/sparql").endpoint
    'http://127.0.0.1:8890/sparql'
    >>> parse_store_url("sparql+http://h/sparql?default-graph-uri=urn:g").named_graph
    'urn:g'
    """
    text = url.strip()
    if text.startswith("sparql+"):
        text = text[len("sparql+") :]
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(
            f"not a store URL: {url!r} (expected sparql+http://host:port/sparql "
            "or sparql+https://...)"
        )
    if parts.username or parts.password:
        raise StoreError(
            "do not put credentials in the store URL: set "
            f"{USER_ENV} / {PASSWORD_ENV} or use ~/.netrc"
        )
    params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    graphs = [value for key, value in params if key == "default-graph-uri"]
    extra = tuple((key, value) for key, value in params if key != "default-graph-uri")
    if len(graphs) > 1:
        raise StoreError(f"store URL {url!r} names more than one default-graph-uri")
    endpoint = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))
    return StoreURL(endpoint, graphs[0] if graphs else None, extra)


def credentials(endpoint: str) -> tuple[str, str] | None:
    """Return ``(user, password)`` for ``endpoint`` from the environment or ``~/.netrc``.

    ``MLKG_STORE_USER`` and ``MLKG_STORE_PASSWORD`` win; otherwise the ``machine`` entry of
    ``~/.netrc`` (or ``$NETRC``) for the endpoint's host. Returns ``None`` when neither has any.
    """
    user = os.environ.get(USER_ENV)
    password = os.environ.get(PASSWORD_ENV)
    if user:
        return user, password or ""
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.isfile(path):
        return None
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        raise StoreError(f"cannot read credentials from {path}: {exc}") from exc
    if entry is None:
        return None
    login, _account, secret = entry
    return (login, secret or "") if login else None


@dataclass
class HttpResponse:
    """What :meth:`HttpClient.request` returns: status, content type (no parameters), body."""

    status: int
    content_type: str
    body: bytes
    headers: Message


class _Deadline:
    """A total deadline for one HTTP exchange: when it passes, every socket is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Return the seconds left (at least a millisecond, so it can be a socket timeout)."""
        return max(self.expires - time.monotonic(), 0.001)

    def register(self, sock: socket.socket) -> None:
        """Watch ``sock``; shut it down at once if the deadline has already passed."""
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def expire(self) -> None:
        """Mark the deadline as passed and shut every watched socket down."""
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type[http.client.HTTPConnection], deadline: _Deadline) -> Any:
    """Return a connection class whose sockets ``deadline`` can shut down."""

    class Watched(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            # http.client sends headers and body in two writes; without TCP_NODELAY, Nagle's
            # algorithm and delayed ACKs add ~40 ms to every request.
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            deadline.register(self.sock)

    return Watched


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _watched(http.client.HTTPSConnection, self._deadline),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


def _closing_retry(handle: Any) -> Any:
    """Wrap an auth handler's 401 hook so the challenged response is closed when it retries.

    urllib leaves the 401 response (and its socket) open when an auth handler sends the request
    again; that leaks a socket per authenticated request.
    """

    def http_error_401(
        self: Any, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Message
    ) -> Any:
        try:
            result = handle(self, req, fp, code, msg, headers)
        except BaseException:
            fp.close()
            raise
        if result is not None:
            fp.close()
        return result

    return http_error_401


class _DigestAuthHandler(urllib.request.HTTPDigestAuthHandler):
    http_error_401 = _closing_retry(urllib.request.HTTPDigestAuthHandler.http_error_401)


class _BasicAuthHandler(urllib.request.HTTPBasicAuthHandler):
    http_error_401 = _closing_retry(urllib.request.HTTPBasicAuthHandler.http_error_401)


class HttpClient:
    """HTTP requests to one SPARQL server with a total deadline, auth and clear errors.

    Parameters
    ----------
    endpoint
        Any URL on the server (used for credentials lookup and messages).
    timeout
        Seconds allowed for each whole request: connect, send, wait, and read the full answer.
    auth
        ``(user, password)``; default: :func:`credentials` for the endpoint.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        auth: tuple[str, str] | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        if not timeout > 0:
            raise StoreError(f"timeout must be a positive number of seconds, not {timeout}")
        self.endpoint = endpoint
        self.timeout = float(timeout)
        self.auth = auth if auth is not None else credentials(endpoint)
        self.max_bytes = max_bytes
        self._ssl_context: ssl.SSLContext | None = None

    def _opener(self, deadline: _Deadline, url: str) -> urllib.request.OpenerDirector:
        handlers: list[urllib.request.BaseHandler] = [_HTTPHandler(deadline)]
        if url.startswith("https:"):
            if self._ssl_context is None:  # loading the CA bundle costs ~50 ms: do it once
                self._ssl_context = ssl.create_default_context()
            handlers.append(_HTTPSHandler(deadline, self._ssl_context))
        host = urllib.parse.urlsplit(url).hostname or ""
        if host in ("localhost", "127.0.0.1", "::1"):
            # Never send loopback traffic to a proxy from the environment.
            handlers.append(urllib.request.ProxyHandler({}))
        if self.auth is not None:
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, url, self.auth[0], self.auth[1])
            # Digest first: urllib's basic handler refuses a Digest-only challenge.
            handlers.append(_DigestAuthHandler(manager))
            handlers.append(_BasicAuthHandler(manager))
        return urllib.request.build_opener(*handlers)

    def request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        what: str = "request",
    ) -> HttpResponse:
        """Send one request; return the answer, or raise :class:`StoreError` naming the fault.

        Any 2xx status is returned; every other status raises. ``what`` names the request in
        messages ("query", "batch 3", ...).
        """
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        with _Deadline(self.timeout) as deadline:
            try:
                response = self._opener(deadline, url).open(request, timeout=deadline.remaining())
                with response:
                    body = self._read(response, deadline)
                    status = response.status
                    response_headers = response.headers
            except urllib.error.HTTPError as exc:
                with exc:  # closes the error's connection
                    if deadline.expired:
                        raise self._timeout(what, url) from exc
                    raise self._http_error(exc, url, what) from exc
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                if deadline.expired:
                    raise self._timeout(what, url) from exc
                raise self._network_error(exc, url, what) from exc
            if deadline.expired:
                raise self._timeout(what, url)
        content_type = (response_headers.get_content_type() or "").lower()
        return HttpResponse(status, content_type, body, response_headers)

    def _read(self, response: http.client.HTTPResponse, deadline: _Deadline) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = response.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_bytes:
                raise StoreError(
                    f"the answer from {self.endpoint} is larger than "
                    f"{self.max_bytes // (1024 * 1024)} MiB; add a LIMIT"
                )
            chunks.append(chunk)
        expected = response.length  # bytes still expected per Content-Length, if given
        if expected:
            raise http.client.IncompleteRead(b"".join(chunks), expected)
        return b"".join(chunks)

    def _timeout(self, what: str, url: str) -> StoreTimeoutError:
        return StoreTimeoutError(
            f"timeout: {what} to {_short(url)} got no complete answer within "
            f"{self.timeout:g} s (the server is hung, overloaded or too slow; "
            "raise --timeout or simplify the query)"
        )

    def _http_error(self, exc: urllib.error.HTTPError, url: str, what: str) -> StoreError:
        error = self._classify(exc, url, what)
        error.status = exc.code  # type: ignore[attr-defined]
        return error

    def _classify(self, exc: urllib.error.HTTPError, url: str, what: str) -> StoreError:
        detail = _body_excerpt(exc)
        code = exc.code
        where = _short(url)
        if code in (401, 403):
            if self.auth is None:
                hint = (
                    f"set {USER_ENV} and {PASSWORD_ENV} "
                    f"(or add machine {urllib.parse.urlsplit(url).hostname} to ~/.netrc)"
                )
            else:
                hint = f"check the user {self.auth[0]!r} and its password and rights"
            reason = "wrong or missing credentials" if code == 401 else "access forbidden"
            return StoreAuthError(f"{reason}: {where} answered HTTP {code} to the {what}; {hint}")
        if code == 404:
            return StoreError(f"no SPARQL endpoint at {where}: HTTP 404 Not Found")
        if code in (405, 406, 415):
            return StoreError(
                f"not a SPARQL endpoint: {where} answered HTTP {code} {exc.reason} to the {what} "
                "(check the URL; Virtuoso's is http://host:8890/sparql)"
            )
        if code in (400, 422):
            return StoreError(f"{where} rejected the {what} (HTTP {code}){detail}")
        if code >= 500:
            return StoreError(f"server error: {where} answered HTTP {code} to the {what}{detail}")
        return StoreError(f"{where} answered HTTP {code} {exc.reason} to the {what}{detail}")

    def _network_error(self, exc: BaseException, url: str, what: str) -> StoreError:
        reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        host = _host(url)
        if isinstance(reason, socket.gaierror):
            return StoreError(f"DNS failure: cannot resolve the host of {_short(url)} ({reason})")
        if isinstance(reason, ConnectionRefusedError):
            return StoreError(
                f"unreachable: connection refused by {host} (is the SPARQL server running?)"
            )
        if isinstance(reason, TimeoutError | socket.timeout):
            return self._timeout(what, url)
        if isinstance(reason, ssl.SSLError):
            return StoreError(f"TLS failure talking to {host}: {reason}")
        if isinstance(reason, http.client.IncompleteRead):
            return StoreError(
                f"truncated answer: {host} closed the connection after "
                f"{len(reason.partial)} bytes of the {what}"
            )
        if isinstance(reason, http.client.RemoteDisconnected | ConnectionResetError):
            return StoreError(f"{host} closed the connection without answering the {what}")
        if isinstance(reason, OSError) and reason.strerror:
            return StoreError(f"unreachable: cannot talk to {host}: {reason.strerror}")
        return StoreError(f"cannot talk to {host}: {reason}")


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


def _short(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _body_excerpt(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read(2048)
    except Exception:  # the body of an error is only a hint
        return ""
    text = " ".join(raw.decode("utf-8", "replace").split())
    if not text or "<html" in text.lower()[:200]:
        return ""
    return f": {text[:200]}"


def check_sparql_answer(response: HttpResponse, endpoint: str) -> None:
    """Raise :class:`StoreError` unless ``response`` looks like a SPARQL result document."""
    if response.content_type in ("text/html", "application/xhtml+xml"):
        raise StoreError(
            f"not a SPARQL endpoint: {endpoint} answered with an HTML page "
            "(check the URL; Virtuoso's is http://host:8890/sparql)"
        )
    if response.content_type not in _RESULT_TYPES:
        raise StoreError(
            f"not a SPARQL endpoint: {endpoint} answered {response.content_type or 'no type'}, "
            "not SPARQL results"
        )


def parse_result(response: HttpResponse, endpoint: str) -> Result:
    """Return the rdflib :class:`~rdflib.query.Result` of a SPARQL answer.

    Raises :class:`StoreError` if the answer is not SPARQL results or is truncated/malformed.
    """
    import io

    from rdflib.query import Result

    check_sparql_answer(response, endpoint)
    content_type = response.content_type
    if content_type == "application/json":
        content_type = "application/sparql-results+json"
    if content_type == "application/sparql-results+json":
        # Parse ourselves first: rdflib's JSON parser fails with unclear KeyErrors.
        try:
            document = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StoreError(
                f"truncated or malformed JSON from {endpoint} ({len(response.body)} bytes): {exc}"
            ) from exc
        if not isinstance(document, dict) or not ("boolean" in document or "results" in document):
            raise StoreError(f"not a SPARQL endpoint: {endpoint} answered JSON that is not results")
    try:
        return Result.parse(io.BytesIO(response.body), content_type=content_type)
    except Exception as exc:  # any parser's failure is the server's malformed answer
        raise StoreError(
            f"malformed {content_type} answer from {endpoint}: {type(exc).__name__}: {exc}"
        ) from exc


def _remote_store_class() -> type:
    """Build the SPARQLStore subclass lazily so importing this module does not import rdflib."""
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
    from rdflib.plugins.stores.sparqlstore import SPARQLStore
    from rdflib.term import BNode

    class RemoteSPARQLStore(SPARQLStore):
        """A read-only SPARQLStore whose HTTP goes through :class:`HttpClient`."""

        def __init__(self, client: HttpClient, named_graph: str | None) -> None:
            super().__init__(client.endpoint, returnFormat="json", method="POST_FORM")
            self.client = client
            self.named_graph = named_graph

        def _query(self, query: str, default_graph: Any = None, **_: Any) -> Result:
            self._queries += 1
            params: list[tuple[str, str]] = [("query", query)]
            if self.named_graph:
                params.append(("default-graph-uri", self.named_graph))
            elif (
                default_graph is not None
                and not isinstance(default_graph, BNode)
                and str(default_graph) != str(DATASET_DEFAULT_GRAPH_ID)
            ):
                params.append(("default-graph-uri", str(default_graph)))
            response = self.client.request(
                "POST",
                self.client.endpoint,
                data=urllib.parse.urlencode(params).encode("utf-8"),
                headers={
                    "Accept": SELECT_ACCEPT,
                    "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                },
                what="query",
            )
            return parse_result(response, self.client.endpoint)

        def query(  # type: ignore[override]
            self,
            query: Any,
            initNs: Any = None,
            initBindings: Any = None,
            queryGraph: Any = None,
            DEBUG: bool = False,
        ) -> Result:
            if not isinstance(query, str):
                raise StoreError("a remote store needs the query text, not a prepared query object")
            text = inject_bindings(query, dict(initBindings or {}), self.node_to_sparql)
            text = inject_prefixes(text, {**self.nsBindings, **dict(initNs or {})})
            return self._query(text, default_graph=queryGraph)

    return RemoteSPARQLStore


def open_remote(
    url: str, *, timeout: float = DEFAULT_TIMEOUT, named_graph: str | None = None
) -> Graph:
    """Return a read-only :class:`rdflib.Graph` backed by the SPARQL endpoint at ``url``.

    Parameters
    ----------
    url
        ``sparql+http://host:port/sparql`` (or ``sparql+https://``). A ``default-graph-uri``
        query parameter selects the named graph to read.
    timeout
        Total seconds allowed for each query (connect, wait and read the whole answer).
    named_graph
        IRI of the named graph to read (wins over the URL and ``MLKG_STORE_GRAPH``). Without
        one, queries read the server's default graph (on Virtuoso: the union of all graphs).

    Returns
    -------
    rdflib.Graph
        Queries on it run on the server. It is not checked for reachability here: the first
        query raises :class:`StoreError` if the server cannot answer.

    Examples
    --------
    >>> g = open_remote("sparql+http://127.0.0.1:8890/sparql")  # doctest: +SKIP
    >>> bool(g.query("ASK { ?s ?p ?o }").askAnswer)  # doctest: +SKIP
    True
    """
    from rdflib import Graph, URIRef
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    parsed = parse_store_url(url)
    graph_iri = named_graph or parsed.named_graph or os.environ.get(GRAPH_ENV) or None
    if graph_iri is not None:
        check_iri(graph_iri, "named graph")
    endpoint = parsed.endpoint
    if parsed.extra_params:
        endpoint += "?" + urllib.parse.urlencode(parsed.extra_params)
    client = HttpClient(endpoint, timeout=timeout)
    store = _remote_store_class()(client, graph_iri)
    identifier = URIRef(graph_iri) if graph_iri else DATASET_DEFAULT_GRAPH_ID
    graph = Graph(store=store, identifier=identifier)
    from mlkg.store import _bind_prefixes

    _bind_prefixes(graph)
    return graph


def check_iri(iri: str, what: str = "IRI") -> str:
    """Return ``iri`` if it is an absolute IRI safe to write between ``<`` and ``>``.

    Raises :class:`StoreError` otherwise.

    Examples
    --------
    >>> check_iri("https://w3id.org/mlkg/graph")
    'https://w3id.org/mlkg/graph'
    """
    scheme = iri.split(":", 1)[0] if ":" in iri else ""
    bad = set(' <>"{}|\\^`') | {chr(c) for c in range(0x21)}
    if (
        not scheme
        or not scheme[0].isalpha()
        or not all(c.isalnum() or c in "+-." for c in scheme)
        or any(c in bad for c in iri)
    ):
        raise StoreError(f"not an absolute IRI for the {what}: {iri!r}")
    return iri


_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_STRING = re.compile(
    r"\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\"|'\''(?:[^'\\]|\\.|'(?!''))*'\''"
    r"|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'",
    re.S,
)
_WORD = re.compile(r"[A-Za-z_]+")


def _top_level_braces(query: str) -> list[tuple[int, str]]:
    """Return ``(offset, preceding keyword)`` of each ``{`` at nesting depth 0.

    Strings, IRIs and comments are skipped, so braces inside them do not count.
    """
    found: list[tuple[int, str]] = []
    depth = 0
    last_word = ""
    i = 0
    while i < len(query):
        char = query[i]
        if char == "#":
            end = query.find("\n", i)
            i = len(query) if end < 0 else end + 1
            continue
        if char in "\"'":
            match = _STRING.match(query, i)
            i = match.end() if match else i + 1
            last_word = ""
            continue
        if char == "<":
            match = _IRIREF.match(query, i)
            if match:
                i = match.end()
                last_word = ""
                continue
        if char == "{":
            if depth == 0:
                found.append((i, last_word))
            depth += 1
        elif char == "}":
            depth -= 1
        elif char.isascii() and (char.isalpha() or char == "_"):
            match = _WORD.match(query, i)
            assert match is not None
            last_word = match.group().upper()
            i = match.end()
            continue
        elif not char.isspace():
            last_word = ""
        i += 1
    return found


def inject_bindings(query: str, bindings: dict[Any, Any], node_to_sparql: Any) -> str:
    """Return ``query`` with ``bindings`` as a ``VALUES`` block at the start of its WHERE group.

    rdflib's SPARQLStore appends a trailing ``VALUES`` clause instead, which servers such as
    Virtuoso reject when the variable is not projected ("No column s"). Raises
    :class:`StoreError` if the query has no WHERE group.

    Examples
    --------
    >>> from rdflib import URIRef
    >>> from rdflib.plugins.stores.sparqlstore import _node_to_sparql
    >>> inject_bindings("SELECT ?o { ?s ?p ?o }", {"s": URIRef("urn:x")}, _node_to_sparql)
    'SELECT ?o { VALUES (?s) { (<urn:x>) } ?s ?p ?o }'
    """
    if not bindings:
        return query
    braces = _top_level_braces(query)
    is_construct = any(word == "CONSTRUCT" for word in _WORD.findall(query.upper()))
    where = [offset for offset, word in braces if word == "WHERE"]
    if where:
        offset = where[0]
    elif braces and not is_construct:
        offset = braces[0][0]
    else:
        raise StoreError("cannot bind parameters: the query has no WHERE { ... } group")
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(node_to_sparql(value) for value in bindings.values())
    block = f" VALUES ({names}) {{ ({values}) }}"
    return query[: offset + 1] + block + query[offset + 1 :]


_PREFIX_DECL = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?\s*:", re.I)


def inject_prefixes(query: str, namespaces: dict[str, Any]) -> str:
    """Return ``query`` preceded by PREFIX lines for the namespaces it uses but does not declare.

    Examples
    --------
    >>> inject_prefixes("SELECT * { ?s a ex:C }", {"ex": "urn:ex#", "no": "urn:no#"})
    'PREFIX ex: <urn:ex#>\\nSELECT * { ?s a ex:C }'
    """
    declared = {match.group(1) or "" for match in _PREFIX_DECL.finditer(query)}
    lines = [
        f"PREFIX {prefix}: <{namespace}>"
        for prefix, namespace in sorted(namespaces.items())
        if prefix not in declared and re.search(rf"(?<![\w?$]){re.escape(prefix)}:", query)
    ]
    return "\n".join([*lines, query]) if lines else query
