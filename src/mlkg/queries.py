"""Named SPARQL queries: load the ``.rq`` catalogue, bind parameters safely, run.

A named query is one ``.rq`` file in :func:`mlkg.resources.queries_dir` whose first lines are a
header::

    #+ summary: The skills a role requires.
    #+ params: role (the role: a label, an altLabel or an IRI)

Parameters are SPARQL variables (``?role``). They are never pasted into the query text as the user
typed them: each value becomes an RDF term, serialised by :func:`term_to_sparql` (which escapes
every quote, backslash and control character), and a ``VALUES`` block holding those terms is
inserted at the top of the query's ``WHERE`` group (:func:`inject_values`). A value can change
which rows a query returns, never its structure.

A parameter named ``role``, ``skill``, ``tool``, ``requirement`` or ``stage`` (optionally with a
suffix such as ``role_a``) names an entity: the value may be its ``skos:prefLabel`` or
``skos:altLabel`` in any case, its slug (``research-scientist``) or its IRI, and is resolved to the
IRI by a SPARQL lookup
(``sparql/queries-labels.rq``). Any other parameter is bound as a plain string literal.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlkg.errors import QueryError
from mlkg.output import escape_string

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

    from mlkg.executor import QueryResult

#: Default per-query deadline (seconds) and row cap for the CLI and the Python API.
DEFAULT_TIMEOUT = 30.0
DEFAULT_ROW_CAP = 10_000

_ONTOLOGY = "https://w3id.org/mlkg/ontology#"

#: Parameter names (before an optional ``_suffix``) that name entities, and the classes they
#: may belong to (or a subclass of them).
ENTITY_PARAMS: dict[str, tuple[str, ...]] = {
    "role": (_ONTOLOGY + "Role",),
    "skill": (_ONTOLOGY + "Skill",),
    "tool": (_ONTOLOGY + "Tool",),
    "requirement": (_ONTOLOGY + "Skill", _ONTOLOGY + "Tool"),
    "stage": (_ONTOLOGY + "CareerStage",),
}
_KIND_WORDS = {
    "role": "role",
    "skill": "skill",
    "tool": "tool",
    "requirement": "skill or tool",
    "stage": "career stage",
}

_HEADER = re.compile(r"^#\+\s*(?P<key>[A-Za-z_-]+)\s*:\s*(?P<value>.*?)\s*$")
_PARAM = re.compile(r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\((?P<description>[^()]*)\))?\s*")
_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_QUERY_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANGTAG = re.compile(r"^[A-Za-z]+(?:-[A-Za-z0-9]+)*$")
# Characters an IRIREF may not contain (SPARQL 1.1 grammar, production 139), plus controls/space.
_BAD_IRI_CHARS = re.compile(r'[<>"{}|^`\\\x00-\x20\x7f-\x9f]')
_IRI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Param:
    """A parameter of a named query: a SPARQL variable name and what it means."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class NamedQuery:
    """A SPARQL query with its header.

    ``name`` is the file stem (``skills-of-role``), or ``<ad-hoc>`` / the file name for a query
    given as text or as a file outside the catalogue. ``params`` lists the declared parameters;
    ``adhoc`` is true when the query did not come from the catalogue (then, without a
    ``#+ params:`` header, any variable of the query may be bound).
    """

    name: str
    path: Path | None
    summary: str
    params: list[Param] = field(default_factory=list)
    text: str = ""
    adhoc: bool = False
    declared_params: bool = True

    def param_names(self) -> list[str]:
        """Return the names of the declared parameters, in order."""
        return [p.name for p in self.params]


def parse_header(text: str) -> tuple[str, list[Param], bool, bool]:
    """Read the ``#+ summary:`` / ``#+ params:`` header at the top of a query.

    Returns
    -------
    tuple
        ``(summary, params, has_summary, has_params)``; ``params`` is empty for ``none``.

    Examples
    --------
    >>> parse_header("#+ summary: Hi.\\n#+ params: role (a role), b\\nSELECT * {}")[1]
    [Param(name='role', description='a role'), Param(name='b', description='')]
    """
    summary = ""
    params: list[Param] = []
    has_summary = has_params = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        match = _HEADER.match(stripped)
        if not match:
            continue
        key, value = match["key"].lower(), match["value"]
        if key == "summary":
            summary, has_summary = value, True
        elif key == "params":
            has_params = True
            params = _parse_params(value)
    return summary, params, has_summary, has_params


def _parse_params(value: str) -> list[Param]:
    """Parse ``name (description), name (description)`` or ``none``."""
    if value.strip().lower() in {"", "none", "-"}:
        return []
    params: list[Param] = []
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if not match or match.end() == position:
            raise QueryError(f"malformed '#+ params:' header near {value[position:]!r}")
        params.append(Param(match["name"], (match["description"] or "").strip()))
        position = match.end()
        if position < len(value):
            if value[position] != ",":
                raise QueryError(f"malformed '#+ params:' header near {value[position:]!r}")
            position += 1
    return params


def load_query_file(path: Path, *, adhoc: bool = False) -> NamedQuery:
    """Read one ``.rq`` file into a :class:`NamedQuery`.

    Returns
    -------
    NamedQuery
        Named after the file stem; ``adhoc`` marks a file outside the catalogue.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QueryError(f"no query file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"cannot read query file {path}: {exc}") from None
    summary, params, _, has_params = parse_header(text)
    return NamedQuery(
        name=path.stem if not adhoc else path.name,
        path=path,
        summary=summary,
        params=params,
        text=text,
        adhoc=adhoc,
        declared_params=has_params,
    )


def load_catalogue(directory: Path | None = None) -> dict[str, NamedQuery]:
    """Load every named query of the catalogue.

    Parameters
    ----------
    directory
        Folder of ``*.rq`` files; default :func:`mlkg.resources.queries_dir`.

    Returns
    -------
    dict
        Query name (file stem) to :class:`NamedQuery`, sorted by name.

    Examples
    --------
    >>> "skills-of-role" in load_catalogue()
    True
    """
    from mlkg.resources import queries_dir

    folder = directory if directory is not None else queries_dir()
    if not folder.is_dir():
        raise QueryError(f"the query catalogue folder {folder} is missing")
    return {path.stem: load_query_file(path) for path in sorted(folder.glob("*.rq"))}


def adhoc_query(text: str, name: str = "<ad-hoc>") -> NamedQuery:
    """Wrap SPARQL text given directly (``-`` on the CLI, or a string) as a :class:`NamedQuery`."""
    summary, params, _, has_params = parse_header(text)
    return NamedQuery(
        name=name,
        path=None,
        summary=summary,
        params=params,
        text=text,
        adhoc=True,
        declared_params=has_params,
    )


def resolve(name_or_path_or_text: str | NamedQuery) -> NamedQuery:
    """Find the query meant by a catalogue name, a path to an ``.rq`` file, or SPARQL text.

    Returns
    -------
    NamedQuery
        The catalogue entry, the file's query, or an ad-hoc query wrapping the text.

    Raises
    ------
    mlkg.errors.QueryError
        For a name that is neither in the catalogue nor a file, listing the known names.

    Examples
    --------
    >>> resolve("ladder").params[0].name
    'role'
    >>> resolve("SELECT * WHERE { ?s ?p ?o }").adhoc
    True
    """
    if isinstance(name_or_path_or_text, NamedQuery):
        return name_or_path_or_text
    value = name_or_path_or_text
    if not isinstance(value, str) or not value.strip():
        raise QueryError("no query given: name a catalogue query, an .rq file or SPARQL text")
    stripped = value.strip()
    if _QUERY_NAME.match(stripped):
        catalogue = load_catalogue()
        if stripped in catalogue:
            return catalogue[stripped]
        if not Path(stripped).is_file():
            raise unknown_query_error(stripped, catalogue)
    if "\n" not in stripped and len(stripped) < 4096:
        path = Path(stripped)
        if path.suffix == ".rq" or path.is_file():
            if path.is_dir():
                raise QueryError(f"{path} is a folder, not a query file")
            if path.is_file():
                return load_query_file(path, adhoc=True)
            if path.suffix == ".rq":
                raise QueryError(f"no query file {path}")
    if re.search(r"[{?$]|\b(?:select|ask|construct|describe)\b", stripped, re.IGNORECASE):
        return adhoc_query(value)
    raise unknown_query_error(stripped, load_catalogue())


def unknown_query_error(name: str, catalogue: Mapping[str, NamedQuery]) -> QueryError:
    """Return the error for an unknown query name: a suggestion and the known names."""
    known = sorted(catalogue)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return QueryError(f"no query named '{name}'; {hint}known queries: {', '.join(known)}")


# --------------------------------------------------------------------------------------------
# Terms and VALUES injection


def term_to_sparql(term: Node) -> str:
    """Serialise an IRI or a literal as SPARQL text that cannot escape its own token.

    Every ``"`` and ``\\`` is escaped, line breaks and tabs use ``\\n``-style escapes and other
    control characters ``\\uXXXX``, so the result is one string token whatever the value.

    Returns
    -------
    str
        ``<iri>``, ``"lexical"``, ``"lexical"@lang`` or ``"lexical"^^<datatype>``.

    Raises
    ------
    mlkg.errors.QueryError
        For a blank node, an IRI with characters an IRI may not hold, or a bad language tag.

    Examples
    --------
    >>> from rdflib import Literal, URIRef
    >>> term_to_sparql(Literal('say "hi"\\n'))
    '"say \\\\"hi\\\\"\\\\n"'
    >>> term_to_sparql(URIRef("https://w3id.org/mlkg/id/role/x"))
    '<https://w3id.org/mlkg/id/role/x>'
    """
    from rdflib import Literal, URIRef
    from rdflib.namespace import XSD

    if isinstance(term, URIRef):
        return "<" + check_iri(str(term)) + ">"
    if isinstance(term, Literal):
        body = '"' + _escape_string(str(term)) + '"'
        if term.language:
            if not _LANGTAG.match(term.language):
                raise QueryError(f"invalid language tag {term.language!r}")
            return f"{body}@{term.language}"
        if term.datatype is not None and term.datatype != XSD.string:
            return f"{body}^^<{check_iri(str(term.datatype))}>"
        return body
    raise QueryError(f"cannot bind {term!r}: only IRIs and literals can be parameter values")


def check_iri(iri: str) -> str:
    """Return ``iri`` if it can be written as a SPARQL ``<IRI>``; raise :class:`QueryError`."""
    if not _IRI_SCHEME.match(iri) or _BAD_IRI_CHARS.search(iri):
        raise QueryError(f"not a valid absolute IRI: {iri!r}")
    return iri


def _escape_string(value: str) -> str:
    """Escape a parameter value for a SPARQL ``"..."`` literal; refuse invalid Unicode."""
    if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        raise QueryError("a parameter value holds an unpaired surrogate (not valid Unicode)")
    return escape_string(value)


def values_block(variables: Sequence[str], rows: Sequence[Sequence[Node]]) -> str:
    """Return ``VALUES (?a ?b) { (t1 t2) ... }`` for the given variable names and terms."""
    for name in variables:
        if not _VARNAME.match(name):
            raise QueryError(f"invalid parameter name {name!r}")
    head = " ".join(f"?{name}" for name in variables)
    body = " ".join("(" + " ".join(term_to_sparql(t) for t in row) + ")" for row in rows)
    return f"VALUES ({head}) {{ {body} }}"


def inject_values(
    query: str, variables: Sequence[str], rows: Sequence[Sequence[Node]], *, form: str | None = None
) -> str:
    """Insert a ``VALUES`` block at the top of the query's ``WHERE`` group.

    The block goes right after the ``{`` that opens the ``WHERE`` clause, so the variables are
    bound for the whole group (``FILTER NOT EXISTS``, ``OPTIONAL``, ``GROUP BY``...), even when
    they are not projected. The position is found by a lexer that skips comments, strings and
    IRIs; the query text is otherwise unchanged. For ``CONSTRUCT WHERE { }`` (whose pattern is
    also the template) and a ``DESCRIBE`` without ``WHERE``, the block is appended as the
    query's trailing ``VALUES`` clause instead.

    Returns
    -------
    str
        The query text with the block inserted.

    Examples
    --------
    >>> from rdflib import Literal
    >>> inject_values("SELECT ?x WHERE { ?x ?p ?v }", ["v"], [[Literal("a")]])
    'SELECT ?x WHERE { VALUES (?v) { ("a") }\\n ?x ?p ?v }'
    """
    if not variables:
        return query
    block = values_block(variables, rows)
    position = where_group_start(query, form=form)
    if position is None:
        return query.rstrip() + "\n" + block + "\n"
    return query[:position] + " " + block + "\n" + query[position:]


_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
               |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<open>\{) | (?P<close>\}) | (?P<lparen>\() | (?P<rparen>\))
  | (?P<other>[?$][A-Za-z0-9_]+|\S)
    """,
    re.VERBOSE | re.DOTALL,
)


def where_group_start(query: str, *, form: str | None = None) -> int | None:
    """Return the index just after the ``{`` that opens the ``WHERE`` group, or ``None``.

    ``None`` means the query has no separate ``WHERE`` group to insert into (``CONSTRUCT WHERE``
    short form, ``DESCRIBE <iri>``); callers then append a trailing ``VALUES`` clause.
    """
    depth = 0
    parens = 0
    construct = (form or "").upper() == "CONSTRUCT"
    template_done = False
    previous = ""
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup
        if kind == "comment":
            continue
        token = match.group()
        top = depth == 0 and parens == 0
        if kind == "open" and top:
            if construct and not template_done:
                if previous == "WHERE":
                    return None  # CONSTRUCT WHERE { ... }: the pattern is also the template
                template_done = True
            else:
                return match.end()
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "lparen":
            parens += 1
        elif kind == "rparen":
            parens = max(0, parens - 1)
        elif kind == "word" and top and form is None and token.upper() == "CONSTRUCT":
            construct = True
        previous = token.upper() if kind == "word" else token
    return None


# --------------------------------------------------------------------------------------------
# Parameter binding


def entity_classes(param_name: str) -> tuple[str, ...] | None:
    """Return the classes an entity parameter may name, or ``None`` for a literal parameter.

    Examples
    --------
    >>> entity_classes("role_b")
    ('https://w3id.org/mlkg/ontology#Role',)
    >>> entity_classes("text") is None
    True
    """
    base = re.sub(r"(?:_[A-Za-z0-9]+|[0-9]+)$", "", param_name)
    return ENTITY_PARAMS.get(base) or ENTITY_PARAMS.get(param_name)


def query_variables(text: str) -> set[str]:
    """Return the names of the variables used in SPARQL text (comments and strings skipped)."""
    names: set[str] = set()
    for match in _TOKEN.finditer(text):
        token = match.group()
        if match.lastgroup == "other" and token[0] in "?$" and len(token) > 1:
            names.add(token[1:])
    return names


def check_params(query: NamedQuery, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check parameter names against the query's declaration; return them normalised.

    ``role-a`` is accepted for ``role_a``. Raises :class:`QueryError` for an unknown or missing
    parameter.

    Returns
    -------
    dict
        Parameter name to the value given.
    """
    given = {name.replace("-", "_"): value for name, value in params.items()}
    if query.declared_params or not query.adhoc:
        allowed = query.param_names()
        for name in given:
            if name not in allowed:
                expected = ", ".join(allowed) if allowed else "none"
                raise QueryError(
                    f"unknown parameter '{name}' for query '{query.name}' "
                    f"(its parameters: {expected})"
                )
        missing = [name for name in allowed if name not in given]
        if missing:
            details = "; ".join(
                f"{p.name} ({p.description})" if p.description else p.name
                for p in query.params
                if p.name in missing
            )
            raise QueryError(
                f"query '{query.name}' needs --param {missing[0]}=VALUE (missing: {details})"
            )
    else:
        variables = query_variables(query.text)
        for name in given:
            if name not in variables:
                raise QueryError(f"unknown parameter '{name}': the query has no variable ?{name}")
    return given


def _normalise(label: str) -> str:
    """Case-fold and collapse whitespace, for label comparison."""
    return " ".join(unicodedata.normalize("NFKC", label).casefold().split())


@dataclass
class _Labels:
    """Labels of the entities of some classes, for name lookup."""

    by_label: dict[str, dict[str, bool]] = field(default_factory=dict)  # norm label -> iri -> pref
    pref: dict[str, str] = field(default_factory=dict)  # iri -> prefLabel
    all_labels: list[str] = field(default_factory=list)


def _internal_query(name: str) -> str:
    """Return the text of an internal query shipped in ``mlkg/sparql``."""
    path = Path(__file__).resolve().parent / "sparql" / f"{name}.rq"
    return path.read_text(encoding="utf-8")


def resolve_entity(
    value: Any,
    param_name: str,
    classes: Sequence[str],
    label_rows: Sequence[Mapping[str, Node]],
) -> Node:
    """Resolve a parameter value naming an entity to its IRI.

    Parameters
    ----------
    value
        A label, altLabel, slug or IRI (string), or an rdflib term.
    param_name
        The parameter's name, for messages.
    classes
        The classes allowed (for messages).
    label_rows
        Rows of ``sparql/queries-labels.rq``: ``entity``, ``label``, ``preferred``.

    Returns
    -------
    rdflib.term.URIRef
        The entity's IRI.

    Raises
    ------
    mlkg.errors.QueryError
        Unknown name (with close labels suggested) or a name shared by several entities.
    """
    from rdflib import Literal, URIRef

    kind = _KIND_WORDS.get(re.sub(r"(?:_[A-Za-z0-9]+|[0-9]+)$", "", param_name), "entity")
    labels = _Labels()
    for row in label_rows:
        iri, label = str(row["entity"]), str(row["label"])
        preferred = str(row.get("preferred", "")).lower() in {"true", "1"}
        labels.by_label.setdefault(_normalise(label), {})
        labels.by_label[_normalise(label)][iri] = (
            labels.by_label[_normalise(label)].get(iri, False) or preferred
        )
        if preferred:
            labels.pref.setdefault(iri, label)
        labels.all_labels.append(label)

    if isinstance(value, URIRef | Literal):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise QueryError(f"--param {param_name}: expected the name of a {kind}, got {value!r}")
    if not text:
        raise QueryError(f"--param {param_name}: the name of the {kind} is empty")

    known_iris = {iri for iris in labels.by_label.values() for iri in iris}
    iri_text = _given_iri(text)
    if iri_text is not None:
        if iri_text in known_iris:
            return URIRef(check_iri(iri_text))
        raise QueryError(f"--param {param_name}: no {kind} has the IRI <{iri_text}>")

    matches = labels.by_label.get(_normalise(text), {})
    if not matches:  # a slug, such as research-scientist
        slug = text.casefold()
        matches = {iri: True for iri in known_iris if iri.rsplit("/", 1)[-1] == slug}
    if len(matches) > 1:
        preferred_matches = {iri for iri, pref in matches.items() if pref}
        if len(preferred_matches) == 1:
            matches = {next(iter(preferred_matches)): True}
    if len(matches) == 1:
        return URIRef(check_iri(next(iter(matches))))
    if matches:
        names = ", ".join(f"{labels.pref.get(iri, iri)} <{iri}>" for iri in sorted(matches))
        raise QueryError(
            f"--param {param_name}: '{text}' names several {kind}s: {names}; give the IRI"
        )
    suggestions = _suggest(text, labels.all_labels)
    hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    return _raise_unknown(param_name, kind, text, hint)


def _raise_unknown(param_name: str, kind: str, text: str, hint: str) -> Node:
    raise QueryError(f"--param {param_name}: no {kind} called '{text}'{hint}")


def _suggest(text: str, labels: Sequence[str]) -> list[str]:
    """Return up to three labels close to ``text`` (case-insensitive), deduplicated."""
    by_norm: dict[str, str] = {}
    for label in sorted(labels):
        by_norm.setdefault(_normalise(label), label)
    close = difflib.get_close_matches(_normalise(text), list(by_norm), n=3, cutoff=0.6)
    return [by_norm[c] for c in close]


def to_literal(value: Any) -> Node:
    """Turn a literal parameter value into an RDF term (strings stay plain ``xsd:string``)."""
    from rdflib import Literal
    from rdflib.term import Node as RdfNode

    if isinstance(value, RdfNode):
        return value
    if isinstance(value, bool | int | float):
        return Literal(value)
    return Literal(str(value))


# --------------------------------------------------------------------------------------------
# Running


@dataclass(frozen=True)
class PreparedQuery:
    """A query ready to run: the original, its form and the text with parameters bound."""

    query: NamedQuery
    form: str
    text: str
    bindings: dict[str, Node]


def _check(text: str, allow_service: bool) -> str:
    from mlkg.guard import check_query

    return check_query(text, allow_service=allow_service)


def prepare(
    target: Graph | Path | str,
    name_or_text: str | NamedQuery,
    params: Mapping[str, Any],
    *,
    allow_service: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> PreparedQuery:
    """Resolve a query, check it, resolve its parameters and bind them with ``VALUES``.

    Parameters
    ----------
    target
        An :class:`rdflib.Graph`, or a build folder (used to look entity names up).
    name_or_text
        A catalogue name, an ``.rq`` path, SPARQL text or a :class:`NamedQuery`.
    params
        Parameter values by name (strings, or rdflib terms).

    Returns
    -------
    PreparedQuery
        The query, its form and the text to run.
    """
    query = resolve(name_or_text)
    form = _check(query.text, allow_service)
    given = check_params(query, params)
    bindings: dict[str, Node] = {}
    for name, value in given.items():
        classes = entity_classes(name)
        if classes is None:
            bindings[name] = to_literal(value)
        else:
            bindings[name] = _lookup(target, name, value, classes, timeout)
    names = sorted(bindings)
    text = inject_values(query.text, names, [[bindings[n] for n in names]], form=form)
    return PreparedQuery(query=query, form=form, text=text, bindings=bindings)


def _lookup(
    target: Graph | Path | str, name: str, value: Any, classes: Sequence[str], timeout: float
) -> Node:
    """Resolve an entity parameter against the graph (one SPARQL lookup, or a few pages).

    An IRI is looked up alone (one index read); a name needs every label of the classes, to
    compare them case-folded, find ambiguities and suggest close names. A build folder answers
    in one request; another graph (a SPARQL server may cut long answers: Virtuoso at 10,000
    rows) is read in ordered pages.
    """
    from rdflib import Graph as RdfGraph
    from rdflib import URIRef

    text = inject_values(
        _internal_query("queries-labels"),
        ["class"],
        [[URIRef(c)] for c in subclass_closure(tuple(classes))],
    )
    iri = _given_iri(value)
    if iri is not None and not _BAD_IRI_CHARS.search(iri):
        text = inject_values(text, ["entity"], [[URIRef(iri)]])
    rows: list[dict[str, Node]] = []

    def read(query: str, cap: int) -> int:
        result = _execute(target, query, timeout=timeout, row_cap=cap, allow_service=False)
        rows.extend(
            {var: term for var, term in zip(result.vars, row, strict=True) if term is not None}
            for row in result.rows
        )
        return len(result.rows)

    if not isinstance(target, RdfGraph):
        read(text, cap=2**62)
        return resolve_entity(value, name, classes, rows)
    text = text.rstrip() + "\nORDER BY ?entity DESC(?preferred) STR(?label)"
    offset = 0
    while read(f"{text}\nLIMIT {LOOKUP_PAGE} OFFSET {offset}\n", LOOKUP_PAGE) == LOOKUP_PAGE:
        offset += LOOKUP_PAGE
    return resolve_entity(value, name, classes, rows)


def _given_iri(value: Any) -> str | None:
    """Return the IRI a parameter value gives (``http(s)``/``urn``, angle brackets optional)."""
    from rdflib import Literal, URIRef

    if isinstance(value, URIRef | Literal):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    text = text[1:-1] if text.startswith("<") and text.endswith(">") else text
    if _IRI_SCHEME.match(text) and text.split(":", 1)[0].lower() in {"http", "https", "urn"}:
        return text
    return None


@lru_cache(maxsize=32)
def subclass_closure(classes: tuple[str, ...]) -> tuple[str, ...]:
    """Return ``classes`` and all their subclasses in ``ontology/mlkg.ttl``, sorted.

    Examples
    --------
    >>> [c.rsplit("#", 1)[-1] for c in subclass_closure((_ONTOLOGY + "Skill",))]
    ['Skill', 'SoftSkill', 'TechnicalSkill']
    """
    from mlkg.graph import ontology_class_axioms

    axioms = ontology_class_axioms()
    found = set(classes)
    while True:
        more = {sub for sub, sup in axioms if sup in found} - found
        if not more:
            return tuple(sorted(found))
        found |= more


#: Rows per request when names are looked up; at most what SPARQL servers answer by default.
LOOKUP_PAGE = 10_000


def _execute(
    target: Graph | Path | str,
    text: str,
    *,
    timeout: float,
    row_cap: int,
    allow_service: bool,
) -> QueryResult:
    """Run checked query text on a graph or a build folder and return a ``QueryResult``."""
    from rdflib import Graph as RdfGraph

    if isinstance(target, RdfGraph):
        return run_on_graph(target, text, row_cap=row_cap)
    from mlkg.executor import execute
    from mlkg.store import resolve_build_dir

    folder = resolve_build_dir(target)
    return execute(folder, text, timeout=timeout, row_cap=row_cap, allow_service=allow_service)


def run_on_graph(graph: Graph, text: str, *, row_cap: int = DEFAULT_ROW_CAP) -> QueryResult:
    """Run query text (already checked by the guard) on an in-memory or remote rdflib graph.

    Returns
    -------
    mlkg.executor.QueryResult
        The same shape :func:`mlkg.executor.execute` returns, rows capped at ``row_cap``.
    """
    from mlkg.errors import MlkgError
    from mlkg.executor import QueryResult

    try:
        result = graph.query(text)
        form = str(result.type).upper()
        if form == "ASK":
            return QueryResult(
                form="ASK",
                vars=[],
                rows=[],
                boolean=bool(result.askAnswer),
                truncated=False,
                graph_ntriples=None,
            )
        if form in ("CONSTRUCT", "DESCRIBE"):
            triples = sorted(result.graph or [])
            truncated = len(triples) > row_cap
            triples = triples[:row_cap]
            lines = [f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in triples]
            return QueryResult(
                form=form,
                vars=["subject", "predicate", "object"],
                rows=[tuple(_plain(term) for term in t) for t in triples],
                boolean=None,
                truncated=truncated,
                graph_ntriples="".join(line + "\n" for line in lines),
            )
        variables = [str(v) for v in (result.vars or [])]
        rows: list[tuple[Node | None, ...]] = []
        truncated = False
        for row in result:
            if len(rows) >= row_cap:
                truncated = True
                break
            rows.append(tuple(_plain(term) for term in row))  # type: ignore[union-attr]
        return QueryResult(
            form="SELECT",
            vars=variables,
            rows=rows,
            boolean=None,
            truncated=truncated,
            graph_ntriples=None,
        )
    except MlkgError:
        raise
    except RecursionError:
        raise QueryError("the query recursed too deeply to evaluate") from None
    except Exception as exc:  # engines raise many kinds; one clear line for the user
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryError(f"the query failed: {message[:300]}") from None


def _plain(term: Any) -> Node | None:
    """Return ``term`` with an explicit ``xsd:string`` datatype dropped (a simple literal).

    oxrdflib returns simple literals typed ``xsd:string`` while the executor returns them plain;
    both mean the same (RDF 1.1), and one form keeps results and golden files comparable.
    """
    from rdflib import Literal
    from rdflib.namespace import XSD

    if isinstance(term, Literal) and term.datatype == XSD.string and not term.language:
        return Literal(str(term))
    return term


def execute_query(
    graph: Graph | Path | str | None,
    name_or_text: str | NamedQuery,
    params: Mapping[str, Any] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    row_cap: int = DEFAULT_ROW_CAP,
    allow_service: bool = False,
) -> QueryResult:
    """Run a named or ad-hoc query and return the full result (form, variables, rows...).

    ``graph`` is an :class:`rdflib.Graph` (queried in this process) or a build folder (queried
    by :func:`mlkg.executor.execute` in a worker process with a deadline); ``None`` means the
    default build folder.

    Returns
    -------
    mlkg.executor.QueryResult
        ``form``, ``vars``, ``rows``, ``boolean``, ``truncated``, ``graph_ntriples``.
    """
    from mlkg.store import resolve_build_dir

    target: Graph | Path | str
    target = resolve_build_dir(None) if graph is None else graph
    prepared = prepare(
        target, name_or_text, params or {}, allow_service=allow_service, timeout=timeout
    )
    return _execute(
        target, prepared.text, timeout=timeout, row_cap=row_cap, allow_service=allow_service
    )


def run(
    graph: Graph | Path | str, name_or_text: str | NamedQuery, **params: Any
) -> list[dict[str, Node]]:
    """Run a named query (or SPARQL text) and return its rows as dicts.

    Parameters
    ----------
    graph
        An :class:`rdflib.Graph` or a build folder.
    name_or_text
        A catalogue name (``skills-of-role``), a path to an ``.rq`` file, or SPARQL text.
    **params
        Parameter values: for ``role``/``skill``/``tool``/``requirement`` a label, altLabel,
        slug or IRI; otherwise a string (bound as a literal) or an rdflib term.

    Returns
    -------
    list of dict
        One dict per row, variable name to RDF term; unbound variables are left out. An ``ASK``
        query gives one row ``{"boolean": Literal(True|False)}``; ``CONSTRUCT``/``DESCRIBE`` give
        one row per triple with ``subject``, ``predicate``, ``object``.

    Examples
    --------
    >>> rows = run("data/build", "skills-of-role", role="research scientist")  # doctest: +SKIP
    >>> rows[0]["label"]  # doctest: +SKIP
    rdflib.term.Literal('communication', lang='en')
    """
    from rdflib import Literal

    result = execute_query(graph, name_or_text, params)
    if result.form == "ASK":
        return [{"boolean": Literal(bool(result.boolean))}]
    return [
        {var: term for var, term in zip(result.vars, row, strict=False) if term is not None}
        for row in result.rows
    ]


def catalogue_markdown(catalogue: Mapping[str, NamedQuery] | None = None) -> str:
    """Return the catalogue as a Markdown table (name, parameters, summary).

    ``docs/sparql.md`` holds this table; a test keeps it in step with the ``.rq`` files.

    Returns
    -------
    str
        The table, one line per query, ending with a line break.
    """
    entries = catalogue if catalogue is not None else load_catalogue()
    lines = ["| query | parameters | summary |", "|---|---|---|"]
    for name in sorted(entries):
        entry = entries[name]
        params = ", ".join(f"`{p.name}`" for p in entry.params) or "–"
        summary = entry.summary.replace("|", "\\|")
        lines.append(f"| `{name}` | {params} | {summary} |")
    return "\n".join(lines) + "\n"
