"""Score a build's extraction against the hand-written golden expectations.

Each ``<file-stem>.json`` next to this script lists what one document states (roles, programming
languages, tools, venues, degrees, organizations, salary figures, career-ladder steps, its primary
role). This module reads a build only through the SPARQL queries in ``queries/`` (following
``docs/data-model.md``) and computes, per document and per class, precision and recall.

Run it as a script to print a per-class table::

    python tests/golden/extraction/evaluate.py BUILD_DIR DOCS_DIR [--details]

``DOCS_DIR`` selects the goldens: those whose ``"file"`` is a file in that folder.

Matching rule: a golden item is a ``|``-separated list of alternatives; it matches an extracted
entity when the normalised form (:func:`normalise`) of one alternative equals the normalised
``skos:prefLabel`` or any normalised ``skos:altLabel`` of the entity. Items under ``"optional"`` in
a golden are neither required (recall) nor counted against precision when extracted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).resolve().parent
QUERY_DIR = GOLDEN_DIR / "queries"

#: Golden key -> local name of the mlkg class its entities carry.
ENTITY_CLASSES: dict[str, str] = {
    "roles": "Role",
    "languages": "ProgrammingLanguage",
    "tools": "Tool",
    "venues": "Venue",
    "degrees": "Degree",
    "organizations": "Organization",
}
#: Every scored class, in table order.
CLASSES: tuple[str, ...] = ("primary_role", *ENTITY_CLASSES, "salary_figures", "ladder")

_ONTOLOGY = "https://w3id.org/mlkg/ontology#"
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


class GoldenError(ValueError):
    """A golden file is missing, unreadable or not in the expected shape."""


def normalise(text: str) -> str:
    """Return the comparison key of a label.

    Case-folded; ``+``, ``#`` and ``&`` spelled out (so ``C++`` and ``C`` stay apart); apostrophes
    removed (``Master's`` = ``Masters``); every other punctuation character replaced by a space;
    the word ``the`` dropped; runs of spaces collapsed.

    Returns
    -------
    str
        The normalised label.

    Examples
    --------
    >>> normalise("The  Ph.D.")
    'ph d'
    >>> normalise("C++") == normalise("C")
    False
    >>> normalise("Master's degree")
    'masters degree'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.replace("+", " plus ").replace("#", " sharp ").replace("&", " and ")
    folded = _APOSTROPHES.sub("", folded)
    folded = _PUNCTUATION.sub(" ", folded)
    return " ".join(word for word in folded.split() if word != "the")


def alternatives(item: str) -> frozenset[str]:
    """Return the normalised alternatives of a golden item written ``"A|B|C"``.

    Returns
    -------
    frozenset of str
        The non-empty normalised alternatives.
    """
    return frozenset(key for key in (normalise(alt) for alt in item.split("|")) if key)


def display(item: str) -> str:
    """Return the first alternative of a golden item, for messages."""
    return item.split("|", 1)[0]


# --------------------------------------------------------------------------------------------
# Goldens


@dataclass(frozen=True)
class Golden:
    """The golden expectations of one document."""

    path: Path
    file: str
    primary_role: str
    items: Mapping[str, tuple[str, ...]]
    salary_figures: frozenset[int]
    ladder: tuple[tuple[str, str], ...]
    optional: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise GoldenError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _pair_list(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise GoldenError(f"{where}: expected a list of [from, to] pairs")
    pairs = []
    for pair in value:
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(p, str) and p.strip() for p in pair)
        ):
            raise GoldenError(f"{where}: {pair!r} is not a [from, to] pair of role names")
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def load_golden(path: Path) -> Golden:
    """Read and check one golden JSON file.

    Returns
    -------
    Golden
        The expectations of the document the file names.

    Raises
    ------
    GoldenError
        If the file is not valid JSON or lacks a key, or a value has the wrong shape.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldenError(f"{path}: cannot read golden file: {exc}") from exc
    if not isinstance(data, dict):
        raise GoldenError(f"{path}: expected a JSON object")
    required = {"file", "primary_role", *ENTITY_CLASSES, "salary_figures", "ladder"}
    missing = sorted(required - data.keys())
    unknown = sorted(data.keys() - required - {"optional"})
    if missing or unknown:
        raise GoldenError(f"{path}: missing keys {missing}, unknown keys {unknown}")
    if not isinstance(data["file"], str) or not isinstance(data["primary_role"], str):
        raise GoldenError(f"{path}: 'file' and 'primary_role' must be strings")
    items = {key: _string_list(data[key], f"{path}: {key}") for key in ENTITY_CLASSES}
    salaries = data["salary_figures"]
    if not isinstance(salaries, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in salaries
    ):
        raise GoldenError(f"{path}: salary_figures must be a list of positive integers")
    optional_raw = data.get("optional", {})
    if not isinstance(optional_raw, dict):
        raise GoldenError(f"{path}: optional must be an object")
    optional: dict[str, tuple[Any, ...]] = {}
    for key, value in optional_raw.items():
        if key in ENTITY_CLASSES:
            optional[key] = _string_list(value, f"{path}: optional.{key}")
        elif key == "ladder":
            optional[key] = _pair_list(value, f"{path}: optional.ladder")
        else:
            raise GoldenError(f"{path}: optional.{key} is not an optional-able class")
    return Golden(
        path=path,
        file=data["file"],
        primary_role=data["primary_role"],
        items=items,
        salary_figures=frozenset(salaries),
        ladder=_pair_list(data["ladder"], f"{path}: ladder"),
        optional=optional,
    )


def load_goldens(docs_dir: Path | None = None, golden_dir: Path = GOLDEN_DIR) -> list[Golden]:
    """Return the goldens in ``golden_dir``, keeping those whose file is in ``docs_dir`` if given.

    Returns
    -------
    list of Golden
        Sorted by file name.
    """
    goldens = [load_golden(path) for path in sorted(golden_dir.glob("*.json"))]
    if docs_dir is not None:
        present = {p.name for p in docs_dir.iterdir() if p.is_file()}
        goldens = [g for g in goldens if g.file in present]
    return sorted(goldens, key=lambda g: g.file)


# --------------------------------------------------------------------------------------------
# What the build extracted


@dataclass(frozen=True)
class Entity:
    """An extracted entity: its IRI, its prefLabel and the normalised forms of all its labels."""

    iri: str
    pref_label: str
    keys: frozenset[str]

    def matches(self, item_alternatives: frozenset[str]) -> bool:
        """Return True if one of this entity's labels equals one of the alternatives."""
        return not self.keys.isdisjoint(item_alternatives)


@dataclass
class Extracted:
    """Everything the scorer needs from one build, keyed by document file name."""

    files: set[str] = field(default_factory=set)
    entities: dict[str, dict[str, dict[str, Entity]]] = field(default_factory=dict)
    salaries: dict[str, set[int]] = field(default_factory=dict)
    ladder: dict[str, list[tuple[Entity, Entity]]] = field(default_factory=dict)
    primary: dict[str, list[Entity]] = field(default_factory=dict)

    def of(self, file: str, cls: str) -> list[Entity]:
        """Return the entities of golden class ``cls`` mentioned in ``file``, sorted by label."""
        found = self.entities.get(file, {}).get(cls, {})
        return sorted(found.values(), key=lambda e: (e.pref_label.casefold(), e.iri))


def query_text(name: str) -> str:
    """Return the text of ``queries/<name>.rq``."""
    return (QUERY_DIR / f"{name}.rq").read_text(encoding="utf-8")


def _to_int(value: Any) -> int | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int(number.to_integral_value())


def read_build(build_dir: Path | str) -> Extracted:
    """Read what a build extracted, through the SPARQL queries of ``queries/`` only.

    Returns
    -------
    Extracted
        Entities per document and class, salary figures, role ladder edges, primary roles.
    """
    from mlkg.store import open_graph

    graph = open_graph(build_dir)
    try:
        return _read_graph(graph)
    finally:
        graph.close()


def _read_graph(graph: Any) -> Extracted:
    class_of = {_ONTOLOGY + local: key for key, local in ENTITY_CLASSES.items()}
    out = Extracted()
    for row in graph.query(query_text("documents")):
        out.files.add(str(row.fileName))

    labels: dict[str, dict[str, Any]] = {}
    for row in graph.query(query_text("document-entities")):
        cls = class_of[str(row["class"])]
        iri = str(row.entity)
        record = labels.setdefault(iri, {"pref": None, "keys": set(), "seen": set()})
        record["keys"].add(normalise(str(row.label)))
        if str(row.kind) == "pref":
            record["pref"] = str(row.label)
        record["seen"].add((str(row.fileName), cls))
    for iri, record in labels.items():
        entity = Entity(iri, record["pref"] or iri, frozenset(record["keys"]))
        for file, cls in record["seen"]:
            out.entities.setdefault(file, {}).setdefault(cls, {})[iri] = entity

    role_records: dict[str, dict[str, Any]] = {}
    for row in graph.query(query_text("role-labels")):
        record = role_records.setdefault(str(row.role), {"pref": None, "keys": set()})
        record["keys"].add(normalise(str(row.label)))
        if str(row.kind) == "pref":
            record["pref"] = str(row.label)
    roles = {
        iri: Entity(iri, r["pref"] or iri, frozenset(r["keys"])) for iri, r in role_records.items()
    }

    def role(iri: str) -> Entity:
        return roles.get(iri, Entity(iri, iri, frozenset()))

    for row in graph.query(query_text("salary-figures")):
        value = _to_int(row.value.toPython() if hasattr(row.value, "toPython") else row.value)
        if value is not None:
            out.salaries.setdefault(str(row.fileName), set()).add(value)
    for row in graph.query(query_text("ladder-edges")):
        edge = (role(str(row["from"])), role(str(row.to)))
        out.ladder.setdefault(str(row.fileName), []).append(edge)
    for row in graph.query(query_text("primary-roles")):
        out.primary.setdefault(str(row.fileName), []).append(role(str(row.role)))
    return out


# --------------------------------------------------------------------------------------------
# Scores


@dataclass
class Score:
    """Counts for one class, for one document or summed over several.

    ``golden``/``found`` are golden items and how many of them were matched (recall);
    ``extracted``/``correct`` are the extracted things (optional matches excluded) and how many
    match a golden item (precision). ``missed`` and ``spurious`` hold ``(file, label)`` pairs.
    """

    cls: str
    golden: int = 0
    found: int = 0
    extracted: int = 0
    correct: int = 0
    missed: list[tuple[str, str]] = field(default_factory=list)
    spurious: list[tuple[str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Matched golden items / golden items (1.0 when there are none)."""
        return self.found / self.golden if self.golden else 1.0

    @property
    def precision(self) -> float:
        """Correct extracted items / extracted items (1.0 when nothing was extracted)."""
        return self.correct / self.extracted if self.extracted else 1.0

    def add(self, other: Score) -> None:
        """Add another score's counts and lists into this one."""
        self.golden += other.golden
        self.found += other.found
        self.extracted += other.extracted
        self.correct += other.correct
        self.missed.extend(other.missed)
        self.spurious.extend(other.spurious)


def _score_items(
    cls: str,
    file: str,
    golden: Sequence[str],
    optional: Sequence[str],
    entities: Sequence[Entity],
) -> Score:
    score = Score(cls)
    gold = [(item, alternatives(item)) for item in golden]
    opt = [alternatives(item) for item in optional]
    for item, alts in gold:
        score.golden += 1
        if any(e.matches(alts) for e in entities):
            score.found += 1
        else:
            score.missed.append((file, display(item)))
    for entity in entities:
        if any(entity.matches(alts) for _, alts in gold):
            score.extracted += 1
            score.correct += 1
        elif any(entity.matches(alts) for alts in opt):
            continue
        else:
            score.extracted += 1
            score.spurious.append((file, entity.pref_label))
    return score


def _edge_matches(edge: tuple[Entity, Entity], pair: tuple[frozenset[str], frozenset[str]]) -> bool:
    return edge[0].matches(pair[0]) and edge[1].matches(pair[1])


def _score_ladder(
    file: str,
    golden: Sequence[tuple[str, str]],
    optional: Sequence[tuple[str, str]],
    edges: Sequence[tuple[Entity, Entity]],
) -> Score:
    score = Score("ladder")
    gold = [((a, b), (alternatives(a), alternatives(b))) for a, b in golden]
    opt = [(alternatives(a), alternatives(b)) for a, b in optional]
    for (a, b), pair in gold:
        score.golden += 1
        if any(_edge_matches(edge, pair) for edge in edges):
            score.found += 1
        else:
            score.missed.append((file, f"{display(a)} -> {display(b)}"))
    for edge in edges:
        if any(_edge_matches(edge, pair) for _, pair in gold):
            score.extracted += 1
            score.correct += 1
        elif any(_edge_matches(edge, pair) for pair in opt):
            continue
        else:
            score.extracted += 1
            score.spurious.append((file, f"{edge[0].pref_label} -> {edge[1].pref_label}"))
    return score


def _score_salaries(file: str, golden: frozenset[int], extracted: Iterable[int]) -> Score:
    got = set(extracted)
    return Score(
        "salary_figures",
        golden=len(golden),
        found=len(golden & got),
        extracted=len(got),
        correct=len(golden & got),
        missed=[(file, f"{v:,}") for v in sorted(golden - got)],
        spurious=[(file, f"{v:,}") for v in sorted(got - golden)],
    )


def score_document(golden: Golden, extracted: Extracted) -> dict[str, Score]:
    """Score one document in every class.

    Returns
    -------
    dict of str to Score
        One score per class in :data:`CLASSES`.
    """
    file = golden.file
    scores: dict[str, Score] = {}
    scores["primary_role"] = _score_items(
        "primary_role", file, [golden.primary_role], [], extracted.primary.get(file, [])
    )
    for cls in ENTITY_CLASSES:
        scores[cls] = _score_items(
            cls,
            file,
            golden.items[cls],
            golden.optional.get(cls, ()),
            extracted.of(file, cls),
        )
    scores["salary_figures"] = _score_salaries(
        file, golden.salary_figures, extracted.salaries.get(file, set())
    )
    scores["ladder"] = _score_ladder(
        file, golden.ladder, golden.optional.get("ladder", ()), extracted.ladder.get(file, [])
    )
    return scores


def score_corpus(goldens: Iterable[Golden], extracted: Extracted) -> dict[str, Score]:
    """Sum the per-document scores of several documents, class by class.

    Returns
    -------
    dict of str to Score
        One summed score per class in :data:`CLASSES`; misses and spurious items keep their file.
    """
    totals = {cls: Score(cls) for cls in CLASSES}
    for golden in goldens:
        for cls, score in score_document(golden, extracted).items():
            totals[cls].add(score)
    return totals


def format_table(scores: Mapping[str, Score]) -> str:
    """Return a fixed-width table of precision and recall per class (and a micro-average row)."""
    header = f"{'class':<16}{'golden':>8}{'found':>8}{'extracted':>11}{'correct':>9}"
    header += f"{'precision':>11}{'recall':>8}"
    lines = [header, "-" * len(header)]
    overall = Score("all")
    for cls in CLASSES:
        s = scores[cls]
        overall.add(s)
        lines.append(
            f"{cls:<16}{s.golden:>8}{s.found:>8}{s.extracted:>11}{s.correct:>9}"
            f"{s.precision:>11.3f}{s.recall:>8.3f}"
        )
    lines.append("-" * len(header))
    s = overall
    lines.append(
        f"{'all':<16}{s.golden:>8}{s.found:>8}{s.extracted:>11}{s.correct:>9}"
        f"{s.precision:>11.3f}{s.recall:>8.3f}"
    )
    return "\n".join(lines)


def format_details(scores: Mapping[str, Score]) -> str:
    """Return every missed golden item and spurious extraction, per class, with its document."""
    lines = []
    for cls in CLASSES:
        s = scores[cls]
        if not (s.missed or s.spurious):
            continue
        lines.append(f"[{cls}]")
        lines.extend(f"  missed    {file}: {label}" for file, label in sorted(s.missed))
        lines.extend(f"  spurious  {file}: {label}" for file, label in sorted(s.spurious))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the per-class precision/recall table of a build against the goldens of a folder.

    Returns
    -------
    int
        The exit status: 0, or 2 when an argument is wrong or a document is missing from the build.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("build_dir", type=Path, help="a build folder (mlkg build --out DIR)")
    parser.add_argument("docs_dir", type=Path, help="the documents that were built")
    parser.add_argument(
        "--details", action="store_true", help="also list every missed and spurious item"
    )
    parser.add_argument(
        "--golden-dir", type=Path, default=GOLDEN_DIR, help="where the golden JSON files are"
    )
    args = parser.parse_args(argv)
    if not args.docs_dir.is_dir():
        print(f"error: {args.docs_dir} is not a folder", file=sys.stderr)
        return 2
    try:
        goldens = load_goldens(args.docs_dir, args.golden_dir)
        extracted = read_build(args.build_dir)
    except Exception as exc:  # a script's top level: report any failure as one line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not goldens:
        print(f"error: no golden file names a document in {args.docs_dir}", file=sys.stderr)
        return 2
    absent = sorted(g.file for g in goldens if g.file not in extracted.files)
    print(f"{len(goldens)} documents with goldens in {args.docs_dir}")
    scores = score_corpus(goldens, extracted)
    print(format_table(scores))
    if args.details:
        print()
        print(format_details(scores))
    if absent:
        print(f"error: not in the build: {', '.join(absent)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
