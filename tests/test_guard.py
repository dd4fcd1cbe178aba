"""The query guard: forbidden forms, syntax errors with position, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlkg.errors import QueryError
from mlkg.guard import MAX_QUERY_BYTES, QueryRejectedError, check_query

SELECT = "SELECT ?s WHERE { ?s ?p ?o }"


@pytest.mark.parametrize(
    ("text", "form"),
    [
        (SELECT, "SELECT"),
        ("ASK { ?s ?p ?o }", "ASK"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <https://w3id.org/mlkg/id/role/data-scientist>", "DESCRIBE"),
        ("SELECT ?r WHERE { ?r a mlkg:Role ; skos:prefLabel ?l }", "SELECT"),  # default prefixes
        ('SELECT ?x WHERE { ?x ?p "customer service from <x>" }', "SELECT"),
        ("SELECT ?x WHERE { ?x ?p ?service . ?x ?q ?from }", "SELECT"),
    ],
)
def test_allowed_forms(text: str, form: str) -> None:
    assert check_query(text) == form


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * WHERE { SERVICE SILENT <http://example.org/> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", "FROM"),
        ("SELECT * FROM NAMED <http://example.org/g> WHERE { ?s ?p ?o }", "FROM"),
        ("ASK FROM <file:///etc/passwd> { ?s ?p ?o }", "FROM"),
        ("CONSTRUCT { ?s ?p ?o } FROM <http://x.org/> WHERE { ?s ?p ?o }", "FROM"),
        ("DESCRIBE ?s FROM <http://x.org/> WHERE { ?s ?p ?o }", "FROM"),
        ("SELECT * WHERE { OPTIONAL { SERVICE <http://e.org/> { ?s ?p ?o } } }", "SERVICE"),
        ("SELECT * WHERE { { SELECT * WHERE { SERVICE <http://e.org/> {?s ?p ?o} } } }", "SERVICE"),
        ("SELECT * WHERE { FILTER EXISTS { SERVICE <http://e.org/> { ?s ?p ?o } } }", "SERVICE"),
    ],
)
def test_network_forms_rejected(text: str, word: str) -> None:
    with pytest.raises(QueryRejectedError, match=word):
        check_query(text)
    assert check_query(text, allow_service=True) in {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("LOAD <http://example.org/data.ttl>", "LOAD"),
        ("LOAD <file:///etc/passwd> INTO GRAPH <urn:x>", "LOAD"),
        ("CLEAR ALL", "CLEAR"),
        ("CLEAR DEFAULT", "CLEAR"),
        ("DROP GRAPH <urn:g>", "DROP"),
        ("CREATE GRAPH <urn:g>", "CREATE"),
        ("ADD DEFAULT TO <urn:g>", "ADD"),
        ("MOVE DEFAULT TO <urn:g>", "MOVE"),
        ("COPY DEFAULT TO <urn:g>", "COPY"),
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "INSERT DATA"),
        ("DELETE DATA { <urn:a> <urn:b> <urn:c> }", "DELETE DATA"),
        ("DELETE WHERE { ?s ?p ?o }", "DELETE WHERE"),
        ("DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", "DELETE/INSERT"),
        ("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "DELETE/INSERT"),
        ("INSERT DATA { <urn:a> <urn:b> 1 } ; CLEAR ALL", "CLEAR"),
    ],
)
def test_updates_rejected(text: str, word: str) -> None:
    with pytest.raises(QueryRejectedError, match="read-only") as info:
        check_query(text)
    assert word in str(info.value)


def test_update_allowed_on_request_but_load_still_needs_service() -> None:
    assert check_query("CLEAR ALL", allow_update=True) == "UPDATE"
    with pytest.raises(QueryRejectedError, match="LOAD"):
        check_query("LOAD <http://example.org/x>", allow_update=True)
    assert check_query("LOAD <http://e.org/x>", allow_update=True, allow_service=True) == "UPDATE"


@pytest.mark.parametrize(
    "text",
    [
        # rdflib expands \\u escapes before parsing; the lexical check sees through them too.
        "SELECT * WHERE { ?s ?p ?o } # \\u000A SERVICE <http://e.org/> { ?a ?b ?c }",
        'SELECT * WHERE { BIND("\\u0022 AS ?x) SERVICE <http://e.org/> {?a ?b ?c} #" AS ?y) }',
    ],
)
def test_escape_tricks_rejected(text: str) -> None:
    with pytest.raises(QueryError):
        check_query(text)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("SELECT * WHERE {\n  ?s ?p ?o .\n  FILTER( }", 3, 3),
        ("SELEKT * WHERE { ?s ?p ?o }", 1, 1),
        ("SELECT * WHERE { ?s ?p ?o ", 1, 27),
    ],
)
def test_syntax_error_has_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(QueryError, match=rf"^syntax error at line {line}, column {column}: "):
        check_query(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("SELECT * WHERE { ?s ?p ?o }\x00", "NUL"),
        ("SELECT * WHERE { ?s foo:bar ?o }", "unknown prefix 'foo:'"),
        ("SELECT * WHERE " + "{" * 3000 + "}" * 3000, "nested too deeply"),
        ("SELECT * WHERE { ?s ?p ?o } #" + "x" * MAX_QUERY_BYTES, "too large"),
    ],
)
def test_bad_inputs(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        check_query(text)


def test_lone_surrogate_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="Unicode"):
        check_query("SELECT * WHERE { ?s ?p '\ud800' }")


_TOKENS = st.sampled_from(
    [
        "SELECT",
        "ASK",
        "CONSTRUCT",
        "DESCRIBE",
        "WHERE",
        "SERVICE",
        "FROM",
        "NAMED",
        "LOAD",
        "INSERT",
        "DELETE",
        "DATA",
        "CLEAR",
        "ALL",
        "OPTIONAL",
        "UNION",
        "FILTER",
        "VALUES",
        "{",
        "}",
        "(",
        ")",
        ".",
        ";",
        ",",
        "*",
        "?s",
        "?p",
        "?o",
        "<http://e.org/>",
        "a",
        "mlkg:Role",
        "foo:bar",
        '"x"',
        "'y'@en",
        "1",
        "\\u0022",
        "#",
        "\n",
        "PREFIX",
        "ex:",
        "GRAPH",
        "BIND",
        "AS",
        "LIMIT",
        "ORDER BY",
        "GROUP BY",
        "COUNT(*)",
        "EXISTS",
        "NOT",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TOKENS, max_size=40).map(" ".join))
def test_fuzz_token_soup_never_crashes(text: str) -> None:
    try:
        form = check_query(text)
    except QueryError:
        return
    assert form in {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
    assert "SERVICE <" not in text.upper() or "#" in text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_fuzz_any_text_never_crashes(text: str) -> None:
    try:
        form = check_query(text)
    except QueryError:
        return
    assert form in {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
