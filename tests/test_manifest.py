"""The bundled corpus manifest: every document listed, hashes and ids recomputed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from mlkg.documents import MANIFEST, read_document
from mlkg.resources import corpus_dir

FIELDS = {"id", "file", "title", "primary_role", "sha256", "origin"}


def entries() -> list[dict[str, Any]]:
    """The manifest's document entries."""
    data = json.loads((corpus_dir() / MANIFEST).read_text(encoding="utf-8"))
    documents = data["documents"]
    assert isinstance(documents, list)
    return documents


def test_manifest_lists_every_bundled_document() -> None:
    files = sorted(p.name for p in corpus_dir().iterdir() if p.is_file() and p.name != MANIFEST)
    listed = sorted(e["file"] for e in entries())
    assert listed == files
    assert len(files) == 5


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e["file"])
def test_manifest_entry(entry: dict[str, Any]) -> None:
    assert set(entry) >= FIELDS
    assert all(isinstance(entry[k], str) and entry[k].strip() for k in FIELDS)
    assert entry["origin"] == "supplied by the project's user"
    path = corpus_dir() / entry["file"]
    document, note = read_document(path)
    assert note is None  # the bundled corpus is clean UTF-8
    assert entry["sha256"] == document.sha256
    assert entry["id"] == hashlib.sha256(document.text.encode("utf-8")).hexdigest()[:16]
    assert entry["id"] == document.id


def test_reading_the_folder_applies_the_manifest() -> None:
    from mlkg.documents import read_documents

    report = read_documents([corpus_dir()])
    assert report.skipped == [] and report.duplicates == []
    by_id = {d.id: d for d in report.documents}
    for entry in entries():
        document = by_id[entry["id"]]
        assert document.title == entry["title"]
        assert document.origin == entry["origin"]
        assert document.primary_role_hint == entry["primary_role"]


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e["file"])
def test_manifest_sha256_is_of_the_file(entry: dict[str, Any]) -> None:
    """The files are stored cleaned, so the hash of the bytes is the hash of the text."""
    data = (corpus_dir() / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_ids_are_unique() -> None:
    ids = [e["id"] for e in entries()]
    assert len(set(ids)) == len(ids)


def test_seed_build_names_the_manifest_roles(seed_build_dir: Path) -> None:
    from mlkg.build import read_summary

    summary = read_summary(seed_build_dir)
    built = {d["id"]: d for d in summary["documents"]}
    for entry in entries():
        assert built[entry["id"]]["title"] == entry["title"]
        assert built[entry["id"]]["primary_role"]
