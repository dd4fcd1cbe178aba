"""The query guard: every SPARQL text is checked here before any engine sees it.

rdflib and Oxigraph both follow ``SERVICE <url>``, ``FROM <url>``, ``FROM NAMED <url>`` and
``LOAD <url>`` out to the network (and ``LOAD <file://…>`` to the disk), and both run SPARQL
Update if asked. mlkg's read paths (``mlkg query``, the Python API, ``mlkg serve``) are read-only
and make no outbound requests, so :func:`check_query` parses the text with rdflib's SPARQL grammar
and rejects those forms unless the caller opts in.

As a second line of defence against differences between rdflib's and Oxigraph's parsers, a lexical
scan also rejects the text if a ``SERVICE``/``FROM``/``LOAD`` keyword followed by an IRI, a prefixed
name or a variable appears anywhere in it, also after expanding ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from mlkg.errors import QueryError

#: Largest query text accepted, in bytes of UTF-8 (the endpoint's request body cap too).
MAX_QUERY_BYTES = 1_000_000

QUERY_FORMS = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}

_UPDATE_NAMES = {
    "Load": "LOAD",
    "Clear": "CLEAR",
    "Drop": "DROP",
    "Create": "CREATE",
    "Add": "ADD",
    "Move": "MOVE",
    "Copy": "COPY",
    "InsertData": "INSERT DATA",
    "DeleteData": "DELETE DATA",
    "DeleteWhere": "DELETE WHERE",
    "Modify": "DELETE/INSERT",
}

# Keyword followed by something that names a remote or local resource. String literals such as
# "customer service" do not match, because a quote is not an IRI, prefixed name or variable.
_TARGET = r"(?:<|[?$]|[A-Za-z][\w.-]*:|:)"
_LEXICAL_RULES = (
    (re.compile(rf"\bSERVICE\s+(?:SILENT\s+)?{_TARGET}", re.IGNORECASE), "SERVICE"),
    (re.compile(rf"\bFROM\s+(?:NAMED\s+)?{_TARGET}", re.IGNORECASE), "FROM"),
    (re.compile(rf"\bLOAD\s+(?:SILENT\s+)?{_TARGET}", re.IGNORECASE), "LOAD"),
)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class QueryRejectedError(QueryError):
    """A query is well-formed but uses a form mlkg does not run on a read path."""


def check_query(text: str, *, allow_service: bool = False, allow_update: bool = False) -> str:
    """Parse a SPARQL query and reject forms that write, or reach outside the local graph.

    Parameters
    ----------
    text
        The SPARQL text, at most :data:`MAX_QUERY_BYTES` bytes of UTF-8.
    allow_service
        Allow ``SERVICE``, ``FROM``, ``FROM NAMED`` (and ``LOAD`` in an update), which fetch URLs.
    allow_update
        Allow SPARQL Update requests (``INSERT``, ``DELETE``, ``LOAD``, ``CLEAR``, ``DROP`` …).

    Returns
    -------
    str
        The query form: ``"SELECT"``, ``"ASK"``, ``"CONSTRUCT"`` or ``"DESCRIBE"``; ``"UPDATE"``
        for an update when ``allow_update`` is true.

    Raises
    ------
    mlkg.errors.QueryError
        On a syntax error (``syntax error at line L, column C: …``), a forbidden form, an empty or
        too large text, or a query nested too deeply to parse.

    Examples
    --------
    >>> check_query("SELECT ?s WHERE { ?s ?p ?o }")
    'SELECT'
    >>> check_query("SELECT * { SERVICE <http://example.org/> { ?s ?p ?o } }")
    ... # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    mlkg.guard.QueryRejectedError: SERVICE (federated query) is disabled
    """
    if not isinstance(text, str):
        raise QueryError("the query must be text")
    if len(text) <= _CACHE_TEXT_LIMIT:
        # Parsing costs 5-30 ms of pure-Python time; pages and dashboards repeat their queries.
        return _check_cached(text, allow_service, allow_update)
    return _check(text, allow_service, allow_update)


_CACHE_TEXT_LIMIT = 16_384
#: Bumped when the rules change, so verdicts cached on disk by an older guard are not reused.
_GUARD_VERSION = "1"


@functools.lru_cache(maxsize=512)
def _check_cached(text: str, allow_service: bool, allow_update: bool) -> str:
    """Cached :func:`_check` for short texts (only accepted queries are cached).

    Accepted verdicts are also kept on disk (see :func:`_verdict_path`): importing rdflib's
    SPARQL grammar alone costs about a second, which a one-shot ``mlkg query`` of a query it has
    checked before should not pay.
    """
    path = _verdict_path(text, allow_service, allow_update)
    if path is not None:
        try:
            form = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            form = ""
        if form in QUERY_FORMS.values() or form == "UPDATE":
            _lexical_check_if(text, allow_service)
            return form
    form = _check(text, allow_service, allow_update)
    if path is not None:
        _store_verdict(path, form)
    return form


def _lexical_check_if(text: str, allow_service: bool) -> None:
    if not allow_service:
        _lexical_check(text)


def _verdict_path(text: str, allow_service: bool, allow_update: bool) -> Path | None:
    """Return the cache file of a verdict, or None when caching is off (``MLKG_NO_CACHE``)."""
    if os.environ.get("MLKG_NO_CACHE"):
        return None
    import hashlib
    from importlib.metadata import version

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlkg" / "guard"
    key = f"{_GUARD_VERSION}|{version('rdflib')}|{allow_service}|{allow_update}|{text}"
    try:
        return base / hashlib.sha256(key.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # not valid text: _check says so
        return None


def _store_verdict(path: Path, form: str) -> None:
    """Write a verdict atomically; a cache that cannot be written only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temp.write_text(form, encoding="ascii")
        os.replace(temp, path)
    except OSError:
        pass


def _check(text: str, allow_service: bool, allow_update: bool) -> str:
    """Do the work of :func:`check_query`."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise QueryError("the query is not valid Unicode text") from None
    if size > MAX_QUERY_BYTES:
        raise QueryError(f"the query is too large ({size:,} bytes; the limit is 1 MB)")
    if not text.strip():
        raise QueryError("the query is empty")
    if "\x00" in text:
        raise QueryError("the query contains a NUL character")

    try:
        form, tree = _parse(text)
    except RecursionError:
        raise QueryError("the query is nested too deeply (or is too long) to parse") from None

    if form == "UPDATE":
        if not allow_update:
            names = sorted({_UPDATE_NAMES.get(n, n) for n in _update_operations(tree)})
            what = ", ".join(names) or "update"
            raise QueryRejectedError(
                f"SPARQL Update ({what}) is not allowed: this graph is read-only"
            )
        if not allow_service and "Load" in _update_operations(tree):
            raise QueryRejectedError("LOAD is disabled; it fetches a URL or reads a file")
    else:
        try:
            _check_tree(tree, allow_service=allow_service)
        except RecursionError:
            raise QueryError("the query is nested too deeply (or is too long) to parse") from None

    if not allow_service:
        _lexical_check(text)
    return form


def default_prefixes() -> dict[str, str]:
    """Return the prefixes a query may use without declaring them (``mlkg:``, ``skos:``, …).

    The executor passes them to Oxigraph, like the prefixes bound on :func:`mlkg.store.open_graph`.

    Returns
    -------
    dict
        Prefix (without colon) → namespace IRI.
    """
    from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

    from mlkg.namespace import ID_IRI, ONTOLOGY_IRI, SCHEMA

    return {
        "mlkg": ONTOLOGY_IRI,
        "mlkgid": ID_IRI,
        "skos": str(SKOS),
        "schema": str(SCHEMA),
        "prov": str(PROV),
        "dcterms": str(DCTERMS),
        "rdf": str(RDF),
        "rdfs": str(RDFS),
        "xsd": str(XSD),
    }


def _parse(text: str) -> tuple[str, Any]:
    """Return ``(form, parse tree)``; raise :class:`QueryError` (line and column) on bad syntax."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        tree = parseQuery(text)
    except ParseBaseException as query_exc:
        try:
            update = parseUpdate(text)
        except ParseBaseException:
            raise _syntax_error(text, query_exc) from None
        except Exception:  # rdflib raises a few others on odd input; the query error is clearer
            raise _syntax_error(text, query_exc) from None
        return "UPDATE", update
    except RecursionError:
        raise
    except Exception as exc:  # e.g. a bad escape, an undefined prefix: rdflib raises plain errors
        raise QueryError(f"syntax error: {_short(str(exc))}") from None
    name = getattr(tree[1], "name", "")
    form = QUERY_FORMS.get(name)
    if form is None:  # pragma: no cover - the grammar only produces the four forms
        raise QueryError("not a SPARQL query")
    return form, tree


def _syntax_error(text: str, exc: Any) -> QueryError:
    """Build a ``syntax error at line L, column C`` error from a pyparsing exception."""
    loc = max(0, min(int(getattr(exc, "loc", 0)), len(text)))
    line = text.count("\n", 0, loc) + 1
    column = loc - (text.rfind("\n", 0, loc) + 1) + 1
    found = text[loc : loc + 20].split("\n", 1)[0].strip()
    near = f"unexpected {found!r}" if found else "unexpected end of query"
    return QueryError(f"syntax error at line {line}, column {column}: {near}")


def _short(message: str, limit: int = 160) -> str:
    """Return the first line of ``message``, at most ``limit`` characters."""
    first = message.strip().splitlines()[0] if message.strip() else "invalid query"
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _update_operations(tree: Any) -> list[str]:
    """Return the names of the operations of a parsed update request."""
    return [getattr(op, "name", "") for op in tree.get("request", []) or []]


def _check_tree(tree: Any, *, allow_service: bool) -> None:
    """Walk a query's parse tree; raise on undeclared prefixes, SERVICE and dataset clauses."""
    from rdflib.plugins.sparql.parserutils import CompValue

    declared = set(default_prefixes()) | {
        str(decl.get("prefix") or "")
        for decl in tree[0]
        if isinstance(decl, CompValue) and decl.name == "PrefixDecl"
    }
    stack = [tree[1]]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == "pname":
                prefix = str(item.get("prefix") or "")
                if prefix not in declared:
                    raise QueryError(
                        f"unknown prefix '{prefix}:'; declare it with PREFIX {prefix}: <…>"
                    )
            elif allow_service:
                pass
            elif item.name == "ServiceGraphPattern":
                raise QueryRejectedError(
                    "SERVICE (federated query) is disabled; "
                    "pass --allow-service (mlkg query or mlkg serve) to enable it"
                )
            elif item.name == "DatasetClause":
                raise QueryRejectedError(
                    "FROM / FROM NAMED are disabled: they fetch URLs; "
                    "query the default graph instead (or use --allow-service)"
                )
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "asList") and not isinstance(item, str):  # pyparsing ParseResults
            stack.extend(list(item))


def _lexical_check(text: str) -> None:
    """Reject SERVICE/FROM/LOAD followed by a target anywhere in the raw or unescaped text."""
    variants = [text]
    if "\\u" in text or "\\U" in text:
        variants.append(_UNICODE_ESCAPE.sub(lambda m: _chr(m.group(1) or m.group(2)), text))
    for variant in variants:
        code = strip_literals(variant)
        for pattern, keyword in _LEXICAL_RULES:
            if pattern.search(code):
                raise QueryRejectedError(
                    f"{keyword} is disabled: it fetches URLs or files "
                    "(use --allow-service to enable it)"
                )


IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')


def strip_literals(text: str) -> str:
    """Return ``text`` with string literals and comments blanked out (IRIs kept).

    Returns
    -------
    str
        Text of the same length, strings and comments replaced by spaces.

    Examples
    --------
    >>> strip_literals('SELECT * { ?s ?p "a # b" } # note')
    'SELECT * { ?s ?p         }       '
    """
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif c in "\"'":
            end = skip_string(text, i)
            out.append(" " * (end - i))
            i = end
        elif c == "<" and (match := IRIREF.match(text, i)):
            out.append(match.group(0))
            i = match.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_string(text: str, i: int) -> int:
    """Return the index just after the SPARQL string literal that starts at ``text[i]``."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        end = i + 3
        while end < len(text):
            if text[end] == "\\":
                end += 2
            elif text.startswith(quote * 3, end):
                return end + 3
            else:
                end += 1
        return len(text)
    end = i + 1
    while end < len(text):
        if text[end] == "\\":
            end += 2
        elif text[end] in (quote, "\n"):
            return end + 1
        else:
            end += 1
    return len(text)


def _chr(hex_digits: str) -> str:
    """Return the character of a ``\\uXXXX`` escape, or nothing if it is not a code point."""
    value = int(hex_digits, 16)
    return chr(value) if value <= 0x10FFFF else ""
