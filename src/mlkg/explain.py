"""Every fact about a role, grouped with the sentences and documents it comes from.

Built on the named query ``evidence`` (``examples/queries/evidence.rq``), so ``mlkg explain``
and ``mlkg query evidence --param role=...`` always agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_PREFIX = "https://w3id.org/mlkg/ontology#"


def explain_role(
    role: str, *, graph_dir: Path | str | None = None, store_url: str | None = None
) -> list[dict[str, Any]]:
    """Return the facts about ``role`` (label, altLabel or IRI), each with its evidence.

    Each item is ``{"predicate", "object", "object_iri", "evidence": [{"text", "file",
    "section", "start", "end"}]}``, sorted by predicate then object label.
    """
    from mlkg.errors import QueryError
    from mlkg.queries import run
    from mlkg.store import connect

    graph = connect(graph_dir, store_url)
    try:
        rows = run(graph, "evidence", role=role)
    except QueryError as exc:  # the query's parameter is the command's argument here
        raise QueryError(str(exc).replace("--param role", "ROLE").replace("--param", "")) from exc
    facts: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        predicate = str(row["predicate"])
        predicate = predicate[len(_PREFIX) :] if predicate.startswith(_PREFIX) else predicate
        obj = str(row["object"])
        label = str(row.get("objectLabel") or obj)
        entry = facts.setdefault(
            (predicate, obj),
            {"predicate": predicate, "object": label, "object_iri": obj, "evidence": []},
        )
        entry["evidence"].append(
            {
                "text": str(row["sentence"]),
                "file": str(row.get("file") or ""),
                "section": str(row.get("section") or ""),
                "start": _as_int(row.get("start")),
                "end": _as_int(row.get("end")),
            }
        )
    return sorted(facts.values(), key=lambda f: (f["predicate"], f["object"].lower()))


def _as_int(value: Any) -> int | None:
    """Return an RDF literal as an int, or None."""
    return None if value is None else int(str(value))
