"""Write query results for people (``table``) and for programs (W3C SPARQL 1.1 results formats).

- ``json``: SPARQL 1.1 Query Results JSON Format (``head.vars``, ``results.bindings`` with
  ``type``/``value``/``xml:lang``/``datatype``; ``ASK`` gives ``{"head": {}, "boolean": …}``).
- ``csv``: SPARQL 1.1 Query Results CSV Format (RFC 4180 quoting, CRLF line ends, plain values).
- ``tsv``: SPARQL 1.1 Query Results TSV Format (``?var`` header, terms in Turtle/N-Triples form,
  abbreviated numbers, LF line ends).
- ``table``: aligned columns, IRIs shortened with the mlkg prefixes, control characters made
  visible (a label cannot move the cursor or recolour the terminal).
- ``ntriples``: the triples of a ``CONSTRUCT``/``DESCRIBE``.

``CONSTRUCT``/``DESCRIBE`` results are shown as rows of ``subject``, ``predicate``, ``object`` in
the tabular formats. The CSV and TSV specifications do not cover ``ASK``; like Apache Jena, mlkg
writes one column ``_askResult`` holding ``true`` or ``false``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rdflib.term import Node

FORMATS = ("table", "csv", "tsv", "json", "ntriples")

_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = _XSD + "string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_NUMERIC_FORMS = {
    _XSD + "integer": re.compile(r"^[+-]?[0-9]+$"),
    _XSD + "decimal": re.compile(r"^[+-]?[0-9]*\.[0-9]+$"),
    _XSD + "double": re.compile(r"^[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+$"),
}
# C0/C1 controls, DEL, and the Unicode bidi/format controls that reorder or hide text.
_UNSAFE_DISPLAY = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

#: Prefixes used to shorten IRIs in the ``table`` format.
DISPLAY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("mlkgid:", "https://w3id.org/mlkg/id/"),
    ("mlkg:", "https://w3id.org/mlkg/ontology#"),
    ("skos:", "http://www.w3.org/2004/02/skos/core#"),
    ("schema:", "https://schema.org/"),
    ("prov:", "http://www.w3.org/ns/prov#"),
    ("dcterms:", "http://purl.org/dc/terms/"),
    ("rdf:", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs:", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd:", _XSD),
)


class ResultLike(Protocol):
    """What the writers need from a result (:class:`mlkg.executor.QueryResult` has it)."""

    @property
    def form(self) -> str: ...
    @property
    def vars(self) -> list[str]: ...
    @property
    def rows(self) -> list[tuple[Node | None, ...]]: ...
    @property
    def boolean(self) -> bool | None: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def graph_ntriples(self) -> str | None: ...


def render(result: ResultLike, fmt: str = "table", *, width: int | None = None) -> str:
    """Return a result written in one of :data:`FORMATS`.

    Parameters
    ----------
    result
        A query result (``form``, ``vars``, ``rows``, ``boolean``, ``graph_ntriples``).
    fmt
        ``table``, ``csv``, ``tsv``, ``json`` or ``ntriples``.
    width
        Width of the ``table`` in characters (default: the terminal's, else 100).

    Returns
    -------
    str
        The serialised result, ending with a line break.

    Raises
    ------
    ValueError
        For an unknown format, or ``ntriples`` on a SELECT/ASK result.
    """
    if fmt == "json":
        return to_json(result)
    if fmt == "csv":
        return to_csv(result)
    if fmt == "tsv":
        return to_tsv(result)
    if fmt == "table":
        return to_table(result, width=width)
    if fmt == "ntriples":
        if result.graph_ntriples is None:
            raise ValueError("the ntriples format is for CONSTRUCT and DESCRIBE queries")
        return result.graph_ntriples
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


# --------------------------------------------------------------------------------------------
# JSON


def json_term(term: Node) -> dict[str, str]:
    """Return the SPARQL JSON results object of one RDF term.

    Examples
    --------
    >>> from rdflib import Literal
    >>> json_term(Literal("chat", lang="fr"))
    {'type': 'literal', 'value': 'chat', 'xml:lang': 'fr'}
    """
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": str(term)}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype is not None and str(term.datatype) not in (_XSD_STRING,):
            out["datatype"] = str(term.datatype)
        return out
    return {"type": "literal", "value": str(term)}


def to_json(result: ResultLike) -> str:
    """Return the result in the SPARQL 1.1 Query Results JSON Format.

    Returns
    -------
    str
        ``{"head": {"vars": [...]}, "results": {"bindings": [...]}}`` or, for ``ASK``,
        ``{"head": {}, "boolean": true}``.
    """
    document: dict[str, Any]
    if result.form == "ASK":
        document = {"head": {}, "boolean": bool(result.boolean)}
    else:
        bindings = [
            {
                var: json_term(term)
                for var, term in zip(result.vars, row, strict=False)
                if term is not None
            }
            for row in result.rows
        ]
        document = {"head": {"vars": list(result.vars)}, "results": {"bindings": bindings}}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------------------------
# CSV


def csv_value(term: Node | None) -> str:
    """Return the CSV field of one term: the IRI, the lexical form or ``_:label`` (no quoting)."""
    from rdflib import BNode

    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def to_csv(result: ResultLike) -> str:
    """Return the result in the SPARQL 1.1 Query Results CSV Format.

    Fields holding ``"``, ``,``, CR or LF are quoted (RFC 4180); lines end with CRLF.

    Returns
    -------
    str
        A header of variable names, then one line per row.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if result.form == "ASK":
        writer.writerow(["_askResult"])
        writer.writerow(["true" if result.boolean else "false"])
        return buffer.getvalue()
    writer.writerow(result.vars)
    for row in result.rows:
        writer.writerow([csv_value(term) for term in _pad(row, len(result.vars))])
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# TSV


_ECHAR = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape_string(value: str) -> str:
    r"""Escape text for a double-quoted Turtle/SPARQL string literal on one line.

    Backslash, quote, tab and line breaks become ECHAR escapes; other control characters
    (C0, DEL, C1, U+2028/U+2029) become ``\uXXXX``. Used for TSV results and for binding
    query parameters, so both write literals the same way.

    Examples
    --------
    >>> escape_string('say "hi"\n')
    'say \\"hi\\"\\n'
    """
    out: list[str] = []
    for char in value:
        code = ord(char)
        if char in _ECHAR:
            out.append(_ECHAR[char])
        elif code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return "".join(out)


def _escape_iri(value: str) -> str:
    """Write characters an IRIREF may not hold as ``\\uXXXX`` (they should never occur)."""
    return re.sub(r'[\x00-\x20<>"{}|^`\\]', lambda m: f"\\u{ord(m.group()):04X}", value)


def tsv_term(term: Node | None) -> str:
    """Return one term in the TSV results form (Turtle syntax, no long strings).

    Numbers typed ``xsd:integer``, ``xsd:decimal`` or ``xsd:double`` use the abbreviated form
    when their lexical form allows it, as the specification recommends.

    Examples
    --------
    >>> from rdflib import Literal, URIRef
    >>> tsv_term(URIRef("http://example/x")), tsv_term(Literal(123)), tsv_term(Literal('a"b'))
    ('<http://example/x>', '123', '"a\\\\"b"')
    """
    from rdflib import BNode, Literal, URIRef

    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{_escape_iri(str(term))}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        lexical = str(term)
        datatype = str(term.datatype) if term.datatype is not None else None
        if datatype in _NUMERIC_FORMS and _NUMERIC_FORMS[datatype].match(lexical):
            return lexical
        body = f'"{escape_string(lexical)}"'
        if term.language:
            return f"{body}@{term.language}"
        if datatype and datatype not in (_XSD_STRING, _RDF_LANGSTRING):
            return f"{body}^^<{_escape_iri(datatype)}>"
        return body
    return f'"{escape_string(str(term))}"'


def to_tsv(result: ResultLike) -> str:
    """Return the result in the SPARQL 1.1 Query Results TSV Format.

    Returns
    -------
    str
        A header of ``?var`` names, then one line per row, tab-separated, LF line ends.
    """
    if result.form == "ASK":
        return "?_askResult\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join(f"?{var}" for var in result.vars)]
    lines += [
        "\t".join(tsv_term(term) for term in _pad(row, len(result.vars))) for row in result.rows
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Table


def display_value(term: Node | None) -> str:
    """Return a term as people read it: a short IRI or the literal's text, controls made visible.

    Examples
    --------
    >>> from rdflib import Literal, URIRef
    >>> display_value(URIRef("https://w3id.org/mlkg/id/role/research-scientist"))
    'mlkgid:role/research-scientist'
    >>> display_value(Literal("red\\x1b[31m"))
    'red\\\\x1b[31m'
    """
    from rdflib import BNode, URIRef

    if term is None:
        return ""
    if isinstance(term, URIRef):
        text = str(term)
        for prefix, namespace in DISPLAY_PREFIXES:
            if text.startswith(namespace) and len(text) > len(namespace):
                text = prefix + text[len(namespace) :]
                break
    elif isinstance(term, BNode):
        text = f"_:{term}"
    else:
        text = str(term)
    return _UNSAFE_DISPLAY.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def to_table(result: ResultLike, *, width: int | None = None) -> str:
    """Return the result as aligned columns for people.

    When the rows are wider than ``width``, the widest columns are wrapped (never cut) until
    they fit, down to 12 characters each.

    Returns
    -------
    str
        A header, a rule and one or more lines per row; ``true``/``false`` for ``ASK``;
        ``(no rows)`` for an empty result.
    """
    import textwrap

    if result.form == "ASK":
        return ("true" if result.boolean else "false") + "\n"
    if not result.rows:
        return "(no rows)\n"
    headers = list(result.vars)
    cells = [[display_value(term) for term in _pad(row, len(headers))] for row in result.rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    limit = width or _terminal_width()
    gap = 2
    widths = _fit_widths(widths, [len(h) for h in headers], limit - gap * (len(widths) - 1))
    lines = [_table_line(headers, widths, gap), _table_line(["-" * w for w in widths], widths, gap)]
    for row in cells:
        wrapped = [
            textwrap.wrap(cell, width=widths[i], break_long_words=True, break_on_hyphens=False)
            or [""]
            for i, cell in enumerate(row)
        ]
        for line_no in range(max(len(parts) for parts in wrapped)):
            parts = [p[line_no] if line_no < len(p) else "" for p in wrapped]
            lines.append(_table_line(parts, widths, gap))
    return "\n".join(lines) + "\n"


def _fit_widths(widths: list[int], floors: list[int], room: int, minimum: int = 12) -> list[int]:
    """Cap the widest columns at one width so that all fit in ``room`` (water-filling).

    Columns narrower than the cap keep their width; none goes below ``minimum`` or its header.
    """
    if sum(widths) <= room:
        return widths
    cap = max(widths)
    while cap > minimum and sum(min(w, cap) for w in widths) > room:
        cap -= 1
    return [max(min(w, cap), min(w, max(minimum, f))) for w, f in zip(widths, floors, strict=True)]


def _table_line(parts: Sequence[str], widths: Sequence[int], gap: int) -> str:
    return (" " * gap).join(p.ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip()


def _terminal_width() -> int:
    import shutil

    return max(40, shutil.get_terminal_size((100, 24)).columns)


def _pad(row: Sequence[Node | None], size: int) -> list[Node | None]:
    """Return ``row`` cut or padded with ``None`` to ``size`` cells."""
    cells = list(row[:size])
    return cells + [None] * (size - len(cells))
