"""SHACL checks of built graphs (mlkg.validate): the engine, and the incremental check.

The incremental check (:func:`mlkg.validate.validate_changes`) must give the verdict of a whole
check. It may, because every shape looks at most one step from its focus node; the first test
keeps ``ontology/shapes.ttl`` that way, the others compare both checks on broken graphs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlkg.graph import ntriples, rows_of
from mlkg.validate import (
    CheckedGraph,
    ValidationReport,
    validate_changes,
    validate_data,
)

SH = "http://www.w3.org/ns/shacl#"
MLKG = "https://w3id.org/mlkg/ontology#"
ID = "https://w3id.org/mlkg/id/"


def sorted_ntriples(path: Path) -> bytes:
    from rdflib import Graph

    return ntriples(rows_of(Graph().parse(path, format="turtle")))


CLEAN = sorted_ntriples(Path(__file__).parent / "fixtures" / "small-graph.ttl")
CLEAN_LINES = CLEAN.splitlines(keepends=True)


@pytest.fixture(scope="module")
def clean() -> bytes:
    return CLEAN


@pytest.fixture(scope="module")
def clean_state(clean: bytes) -> CheckedGraph:
    report, state = validate_changes(clean, None)
    assert report.conforms, report.summary()
    return state


def focus_of(report: ValidationReport) -> set[tuple[str, str, str]]:
    return {(v.focus, v.path, v.message) for v in report.violations}


def test_every_shape_looks_one_step_from_its_focus_node() -> None:
    """What makes the incremental check exact: simple paths, no nested node shapes."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import SH as SHNS

    from mlkg.validate import shapes_file

    shapes = Graph().parse(shapes_file(), format="turtle")
    for path in shapes.objects(None, SHNS.path):
        assert isinstance(path, URIRef), f"sh:path {path!r} is not a single predicate"
    for forbidden in ("node", "qualifiedValueShape", "equals", "disjoint", "closed"):
        assert not list(shapes.subject_objects(URIRef(SH + forbidden))), forbidden
    # SPARQL constraints scan every instance from one target node and read its own triples.
    for shape, _ in shapes.subject_objects(SHNS.sparql):
        assert list(shapes.objects(shape, SHNS.targetNode)), shape
        assert not list(shapes.objects(shape, SHNS.targetClass)), shape


def test_an_unchanged_graph_is_not_checked_again(
    clean: bytes, clean_state: CheckedGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlkg.validate

    calls: list[int] = []
    monkeypatch.setattr(mlkg.validate, "validate_data", lambda data, **_: calls.append(len(data)))
    report, state = validate_changes(clean, clean_state)
    assert report.conforms and calls == []
    assert state.nodes == clean_state.nodes


def test_a_changed_node_is_checked_with_its_neighbours_only(
    clean: bytes, clean_state: CheckedGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlkg.validate

    line = next(x for x in clean.splitlines(keepends=True) if b"prefLabel" in x)
    changed = clean.replace(line, line.replace(b'"@en', b' (renamed)"@en'))
    sizes: list[int] = []
    real = mlkg.validate.validate_data

    def spy(data: bytes, **options: Any) -> ValidationReport:
        sizes.append(len(data))
        return real(data, **options)

    monkeypatch.setattr(mlkg.validate, "validate_data", spy)
    report, _ = validate_changes(changed, clean_state)
    assert report.conforms
    assert sizes and sizes[0] < len(changed) / 2


def test_a_stale_state_means_a_whole_check(clean: bytes, clean_state: CheckedGraph) -> None:
    stale = CheckedGraph("another shapes file", clean_state.nodes, clean_state.types)
    broken = clean.replace(b'"@en .', b'"@de .', 1)
    report, state = validate_changes(broken, stale)
    assert not report.conforms
    assert state.salt == clean_state.salt


BREAKS = {
    "label in another language": lambda data: data.replace(b'"@en .', b'"@de .', 1),
    "skill loses its type (the roles requiring it break)": lambda data: b"".join(
        line
        for line in data.splitlines(keepends=True)
        if not (line.startswith(b"<" + ID.encode() + b"skill/") and b"#type>" in line)
    ),
    "document loses its identifier": lambda data: b"".join(
        line for line in data.splitlines(keepends=True) if b"/terms/identifier>" not in line
    ),
    "salary figures swapped": lambda data: (
        data.replace(b"<https://schema.org/minValue>", b"<https://schema.org/tmp>")
        .replace(b"<https://schema.org/maxValue>", b"<https://schema.org/minValue>")
        .replace(b"<https://schema.org/tmp>", b"<https://schema.org/maxValue>")
    ),
}


@pytest.mark.parametrize("chunk", [100, 20_000])
@pytest.mark.parametrize("name", sorted(BREAKS))
def test_incremental_check_finds_what_a_whole_check_finds(
    clean: bytes, clean_state: CheckedGraph, name: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlkg.validate

    monkeypatch.setattr(mlkg.validate, "CHUNK_LINES", chunk)
    broken = ntriples_sorted(BREAKS[name](clean))
    assert broken != clean
    whole = validate_data(broken)
    incremental, _ = validate_changes(broken, clean_state)
    chunked, _ = validate_changes(broken, None)
    assert not whole.conforms, name
    assert incremental.conforms == chunked.conforms == whole.conforms
    assert focus_of(incremental) == focus_of(chunked) == focus_of(whole)


def ntriples_sorted(data: bytes) -> bytes:
    return b"".join(sorted(data.splitlines(keepends=True)))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    dropped=st.sets(st.integers(0, len(CLEAN_LINES) - 1), max_size=4),
    relabelled=st.sets(st.integers(0, len(CLEAN_LINES) - 1), max_size=2),
    chunk=st.sampled_from([120, 20_000]),
)
def test_incremental_verdict_equals_whole_verdict_after_random_edits(
    clean_state: CheckedGraph, dropped: set[int], relabelled: set[int], chunk: int
) -> None:
    """Drop lines, or move a label to another language, at random: the checks agree."""
    import mlkg.validate

    default, mlkg.validate.CHUNK_LINES = mlkg.validate.CHUNK_LINES, chunk
    try:
        _compare_after_edits(clean_state, dropped, relabelled)
    finally:
        mlkg.validate.CHUNK_LINES = default


def _compare_after_edits(
    clean_state: CheckedGraph, dropped: set[int], relabelled: set[int]
) -> None:
    edited = []
    for i, line in enumerate(CLEAN_LINES):
        if i in dropped:
            continue
        if i in relabelled and line.endswith(b'"@en .\n'):
            line = line.replace(b'"@en .', b'"@fr .')
        edited.append(line)
    broken = ntriples_sorted(b"".join(edited))
    whole = validate_data(broken)
    incremental, _ = validate_changes(broken, clean_state)
    chunked, _ = validate_changes(broken, None)
    assert incremental.conforms == chunked.conforms == whole.conforms
    instance = {v for v in focus_of(whole) if v[0].startswith(ID)}
    assert {v for v in focus_of(incremental) if v[0].startswith(ID)} == instance
    assert {v for v in focus_of(chunked) if v[0].startswith(ID)} == instance


def test_focus_leaves_out_results_about_other_instances(clean: bytes) -> None:
    broken = ntriples_sorted(BREAKS["label in another language"](clean))
    everything = validate_data(broken)
    bad = {v.focus for v in everything.violations if v.focus.startswith(ID)}
    assert bad
    elsewhere = validate_data(broken, focus={ID + "role/nobody"})
    assert elsewhere.conforms and not elsewhere.violations
    assert validate_data(broken, focus=bad).violations == everything.violations


def test_bad_data_is_one_error(tmp_path: Path) -> None:
    from mlkg.errors import MlkgError

    with pytest.raises(MlkgError, match="SHACL validation could not run"):
        validate_data(b"<not an iri> <b> <c> .\n")


def test_chunks_checked_on_several_processes_give_the_same_report(
    clean: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlkg.validate

    monkeypatch.setattr(mlkg.validate, "CHUNK_LINES", 60)
    broken = ntriples_sorted(BREAKS["label in another language"](clean))
    alone, _ = validate_changes(broken, None)
    shared, _ = validate_changes(broken, None, jobs=2)
    assert not shared.conforms
    assert focus_of(shared) == focus_of(alone) == focus_of(validate_data(broken))


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_every_chunk(
    clean: bytes, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    import mlkg.validate

    monkeypatch.setattr(mlkg.validate, "CHUNK_LINES", 60)
    calls: list[tuple[int, int]] = []
    report, _ = validate_changes(clean, None, jobs=jobs, progress=lambda d, t: calls.append((d, t)))
    assert report.conforms
    total = calls[-1][1]
    assert total > 1
    assert calls == [(done, total) for done in range(1, total + 1)]


def test_the_index_points_at_each_subjects_lines() -> None:
    from mlkg.validate import index_graph

    index = index_graph(CLEAN)
    assert index.data is CLEAN  # offsets into the graph, not a copy of it
    for node in index.spans:
        own = b"".join(line for line in CLEAN_LINES if line.startswith(f"<{node}> ".encode()))
        assert index.triples_of(node) == own
        typed = [line for line in own.splitlines(keepends=True) if b"#type> " in line]
        assert index.type_lines.get(node, b"") == b"".join(typed)
    assert sum(end - start for start, end in index.spans.values()) == len(CLEAN)


_IRIS = st.sampled_from(["urn:a", "urn:a/b", "urn:ab", "urn:b", "urn:é"])
_SUBJECTS = st.one_of(_IRIS.map(lambda s: f"<{s}>"), st.sampled_from(["_:b1", "_:b10"]))
# literals that look like the end of a line about another node, or like a type line
_TRICKY_LITERALS = st.sampled_from(
    ['"x <urn:a> ."', '"<urn:a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:b> ."']
)
_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@settings(max_examples=200, deadline=None)
@given(
    triples=st.sets(
        st.tuples(
            _SUBJECTS,
            st.sampled_from([_TYPE_IRI, "urn:p", "urn:q"]),
            st.one_of(
                _IRIS.map(lambda o: f"<{o}>"), st.text(max_size=6).map(repr), _TRICKY_LITERALS
            ),
        ),
        max_size=25,
    ),
    final_newline=st.booleans(),
)
def test_the_index_agrees_with_the_lines_of_any_sorted_graph(
    triples: set[tuple[str, str, str]], final_newline: bool
) -> None:
    """Subjects that are prefixes of others, blank nodes, literals holding a type line."""
    from mlkg.validate import index_graph

    lines = sorted(f"{s} <{p}> {o} .\n".encode() for s, p, o in triples)
    data = b"".join(lines)
    if not final_newline:
        data = data.removesuffix(b"\n")
    index = index_graph(data)
    assert sum(end - start for start, end in index.spans.values()) == len(data)
    assert set(index.spans) == {s.strip("<>") for s, _, _ in triples}
    for subject in {s for s, _, _ in triples}:
        node = subject.strip("<>")
        own = [line for line in lines if line.startswith(f"{subject} ".encode())]
        assert index.triples_of(node).rstrip(b"\n") == b"".join(own).rstrip(b"\n")
        typed = b"".join(
            line for line in own if line.startswith(f"{subject} <{_TYPE_IRI}> ".encode())
        )
        assert index.type_lines.get(node, b"").rstrip(b"\n") == typed.rstrip(b"\n")


@settings(max_examples=50, deadline=None)
@given(
    picked=st.sets(st.integers(0, 10_000), max_size=5),
    final_newline=st.booleans(),
    few=st.sampled_from([0, 32]),
)
def test_the_nodes_pointing_at_a_node_are_the_subjects_of_its_lines(
    picked: set[int], final_newline: bool, few: int
) -> None:
    import mlkg.validate

    default, mlkg.validate._FEW_TARGETS = mlkg.validate._FEW_TARGETS, few  # both ways of finding
    try:
        _compare_pointing_at(picked, final_newline)
    finally:
        mlkg.validate._FEW_TARGETS = default


def _compare_pointing_at(picked: set[int], final_newline: bool) -> None:
    from mlkg.validate import _pointing_at, index_graph

    data = CLEAN if final_newline else CLEAN.removesuffix(b"\n")
    index = index_graph(data)
    nodes = sorted(index.spans)
    targets = {nodes[i % len(nodes)] for i in picked}
    expected = {
        line[1 : line.index(b"> ")].decode()
        for line in data.splitlines()
        if any(line.endswith(f" <{t}> .".encode()) for t in targets)
    }
    assert _pointing_at(index, targets) == expected


def test_an_index_of_lines_without_a_subject_is_an_error() -> None:
    from mlkg.errors import MlkgError
    from mlkg.validate import index_graph

    with pytest.raises(MlkgError, match="no subject at byte 14"):
        index_graph(b'<a> <b> <c> .\n"c" <b> <a> .\n')


def test_chunks_are_sent_a_few_at_a_time() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from mlkg.validate import ValidationReport, _map_few_at_a_time

    drawn: list[int] = []
    release = threading.Event()

    def items():
        for i in range(10):
            drawn.append(i)
            yield b"x" * i

    def slow(item: bytes) -> ValidationReport:
        release.wait(5)
        return ValidationReport(len(item) % 2 == 0)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = _map_few_at_a_time(pool, slow, items(), 3)
        first = threading.Thread(target=lambda: next(answers))
        first.start()
        first.join(0.2)
        assert len(drawn) == 3  # the rest waits until an answer is taken
        release.set()
        first.join()
        rest = list(answers)
    assert len(drawn) == 10
    assert [r.conforms for r in rest] == [i % 2 == 0 for i in range(1, 10)]
