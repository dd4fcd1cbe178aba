"""Tests of the result writers (mlkg.output) against the W3C SPARQL 1.1 results specifications."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from mlkg.output import (
    csv_value,
    display_value,
    json_term,
    render,
    to_csv,
    to_json,
    to_table,
    to_tsv,
    tsv_term,
)


@dataclass
class Result:
    """A stand-in with the attributes of mlkg.executor.QueryResult."""

    form: str = "SELECT"
    vars: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    boolean: bool | None = None
    truncated: bool = False
    graph_ntriples: str | None = None


X = URIRef("http://example/x")


def spec_example(b0: str, b1: str) -> Result:
    """The results table of the CSV/TSV specification's examples (sections 3.3 and 4.3)."""
    return Result(
        vars=["x", "literal"],
        rows=[
            (X, Literal("String")),
            (X, Literal('String-with-dquote"')),
            (BNode(b0), Literal("Blank node")),
            (None, Literal("Missing 'x'")),
            (None, None),
            (X, None),
            (BNode(b1), Literal("String-with-lang", lang="en")),
            (BNode(b1), Literal("123", datatype=XSD.integer)),
        ],
    )


def test_csv_matches_the_specification_example() -> None:
    expected = (
        "x,literal\r\n"
        "http://example/x,String\r\n"
        'http://example/x,"String-with-dquote"""\r\n'
        "_:b0,Blank node\r\n"
        ",Missing 'x'\r\n"
        ",\r\n"
        "http://example/x,\r\n"
        "_:b1,String-with-lang\r\n"
        "_:b1,123\r\n"
    )
    assert to_csv(spec_example("b0", "b1")) == expected


def test_tsv_matches_the_specification_example() -> None:
    expected = (
        "?x\t?literal\n"
        '<http://example/x>\t"String"\n'
        '<http://example/x>\t"String-with-dquote\\""\n'
        '_:blank0\t"Blank node"\n'
        "\t\"Missing 'x'\"\n"
        "\t\n"
        "<http://example/x>\t\n"
        '_:blank1\t"String-with-lang"@en\n'
        "_:blank1\t123\n"
    )
    assert to_tsv(spec_example("blank0", "blank1")) == expected


def test_json_matches_the_specification_shape() -> None:
    result = Result(
        vars=["book", "title", "n", "who", "missing"],
        rows=[
            (
                URIRef("http://example.org/book/book6"),
                Literal("Harry Potter", lang="en"),
                Literal(3),
                BNode("r1"),
                None,
            )
        ],
    )
    assert json.loads(to_json(result)) == {
        "head": {"vars": ["book", "title", "n", "who", "missing"]},
        "results": {
            "bindings": [
                {
                    "book": {"type": "uri", "value": "http://example.org/book/book6"},
                    "title": {"type": "literal", "value": "Harry Potter", "xml:lang": "en"},
                    "n": {
                        "type": "literal",
                        "value": "3",
                        "datatype": "http://www.w3.org/2001/XMLSchema#integer",
                    },
                    "who": {"type": "bnode", "value": "r1"},
                }
            ]
        },
    }


def test_json_plain_string_has_no_datatype() -> None:
    assert json_term(Literal("a")) == {"type": "literal", "value": "a"}
    assert json_term(Literal("a", datatype=XSD.string)) == {"type": "literal", "value": "a"}


def test_ask_in_every_format() -> None:
    yes, no = Result(form="ASK", boolean=True), Result(form="ASK", boolean=False)
    assert json.loads(to_json(yes)) == {"head": {}, "boolean": True}
    assert json.loads(to_json(no)) == {"head": {}, "boolean": False}
    assert to_csv(yes) == "_askResult\r\ntrue\r\n"
    assert to_tsv(no) == "?_askResult\nfalse\n"
    assert to_table(yes) == "true\n"


def test_json_round_trips_through_rdflib() -> None:
    from rdflib.query import Result as RdflibResult

    example = spec_example("b0", "b1")
    text = to_json(example)
    # The all-unbound solution is written as {} (the specification's form for it) ...
    assert json.loads(text)["results"]["bindings"][4] == {}
    parsed = RdflibResult.parse(io.StringIO(text), format="json")
    assert [str(v) for v in parsed.vars] == example.vars
    rows = [tuple(row) for row in parsed]
    # ... which rdflib's reader drops; every other row comes back as written.
    expected = [row for row in example.rows if any(term is not None for term in row)]
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        for g, w in zip(got, want, strict=True):
            if isinstance(w, BNode):
                assert isinstance(g, BNode)
            else:
                assert g == w


def test_tsv_numbers_abbreviated_only_when_valid() -> None:
    assert tsv_term(Literal("12", datatype=XSD.integer)) == "12"
    assert tsv_term(Literal("-1.5", datatype=XSD.decimal)) == "-1.5"
    assert tsv_term(Literal("1.0E3", datatype=XSD.double, normalize=False)) == "1.0E3"
    # not valid numerals: the full form keeps the term exact
    assert tsv_term(Literal("abc", datatype=XSD.integer)) == (
        '"abc"^^<http://www.w3.org/2001/XMLSchema#integer>'
    )
    assert tsv_term(Literal("true", datatype=XSD.boolean)) == (
        '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    )


def test_tsv_escapes_tabs_and_newlines() -> None:
    assert tsv_term(Literal("a\tb\nc\rd\\e")) == '"a\\tb\\nc\\rd\\\\e"'
    line = to_tsv(Result(vars=["v"], rows=[(Literal("x\ty\nz"),)]))
    assert line.count("\n") == 2 and line.count("\t") == 0


def test_csv_quotes_commas_quotes_and_newlines() -> None:
    text = to_csv(Result(vars=["v"], rows=[(Literal('a,b "c"\nd'),)]))
    assert text == 'v\r\n"a,b ""c""\nd"\r\n'
    assert csv_value(BNode("x")) == "_:x"


alphabet = st.characters(blacklist_categories=["Cs"])


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.text(alphabet=alphabet, max_size=20), min_size=1, max_size=5))
def test_csv_round_trips_through_a_csv_reader(values: list[str]) -> None:
    result = Result(vars=[f"v{i}" for i in range(len(values))], rows=[tuple(map(Literal, values))])
    rows = list(csv.reader(io.StringIO(to_csv(result), newline="")))
    assert rows[0] == result.vars
    # a lone CR inside a quoted field is kept by the reader: the value comes back exactly
    assert rows[1] == values


@settings(max_examples=150, deadline=None)
@given(
    value=st.text(alphabet=alphabet, max_size=30),
    lang=st.none() | st.sampled_from(["en", "fr-CA"]),
)
def test_tsv_cells_stay_on_one_line_and_round_trip(value: str, lang: str | None) -> None:
    term = Literal(value, lang=lang)
    text = to_tsv(Result(vars=["v"], rows=[(term,)]))
    lines = text.split("\n")
    assert len(lines) == 3 and lines[2] == ""
    assert "\t" not in lines[1]
    cell = lines[1]
    body = cell[1 : cell.rindex('"')]
    # the escapes used (\\ \" \t \n \r \uXXXX) are also JSON's, so JSON can decode them
    decoded = json.loads('"' + body + '"')
    assert decoded == value


def test_table_is_aligned_and_shortens_iris() -> None:
    result = Result(
        vars=["role", "label"],
        rows=[
            (URIRef("https://w3id.org/mlkg/id/role/data-scientist"), Literal("Data Scientist")),
            (URIRef("https://w3id.org/mlkg/ontology#Role"), None),
        ],
    )
    assert to_table(result, width=100).splitlines() == [
        "role                        label",
        "--------------------------  --------------",
        "mlkgid:role/data-scientist  Data Scientist",
        "mlkg:Role",
    ]
    assert to_table(Result(vars=["x"]), width=80) == "(no rows)\n"


def test_table_wraps_long_cells_without_losing_text() -> None:
    sentence = "word " * 60
    table = to_table(
        Result(vars=["n", "sentence"], rows=[(Literal(1), Literal(sentence))]), width=60
    )
    assert all(len(line) <= 60 for line in table.splitlines())
    assert " ".join(table.split()[5:]) == sentence.strip()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("red\x1b[31mALERT", "red\\x1b[31mALERT"),
        ("evil\u202eroles", "evil\\u202eroles"),
        ("bell\x07", "bell\\x07"),
        ("[bold]not markup[/bold]", "[bold]not markup[/bold]"),
    ],
)
def test_table_neutralises_terminal_controls(text: str, shown: str) -> None:
    assert display_value(Literal(text)) == shown
    table = to_table(Result(vars=["v"], rows=[(Literal(text),)]), width=200)
    assert "\x1b" not in table and "\u202e" not in table and shown in table


def test_render_dispatch_and_errors() -> None:
    example = spec_example("b0", "b1")
    assert render(example, "csv") == to_csv(example)
    assert render(example, "tsv") == to_tsv(example)
    assert render(example, "json") == to_json(example)
    with pytest.raises(ValueError, match="unknown format"):
        render(example, "xml")
    with pytest.raises(ValueError, match="CONSTRUCT"):
        render(example, "ntriples")
    graph = Result(form="CONSTRUCT", vars=["subject", "predicate", "object"], graph_ntriples="")
    assert render(graph, "ntriples") == ""
