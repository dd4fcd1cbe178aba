"""Find and read source documents, and split them into sections, blocks and sentences.

A :class:`Document` holds the cleaned text of one file (BOM removed, line endings normalised to
``\\n``, control characters, ANSI escapes and bidirectional overrides removed); every offset mlkg
records refers to that text. :func:`parse_blocks` splits the text into headings, bullets and
paragraphs by layout, not by a list of known headings.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from mlkg.errors import DocumentError

#: File endings read as documents when a folder is given.
DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".text", ".rst")
#: Default size cap for one document, in bytes.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MANIFEST = "manifest.json"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
# C0/C1 controls except tab and newline, bidi overrides/isolates, zero-width no-break space.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class Document:
    """One source document: a stable id, where it came from, and its cleaned text."""

    id: str
    path: Path
    text: str
    sha256: str
    title: str = ""
    origin: str = ""
    primary_role_hint: str = ""

    @property
    def file_name(self) -> str:
        """The file's name, made printable."""
        return printable_name(self.path.name)


class Block(NamedTuple):
    """A heading, bullet or paragraph of a document, with the heading it sits under.

    Blocks and sentences are named tuples (immutable like frozen dataclasses, and several times
    quicker to make: a document has thousands of them).
    """

    kind: str  # "heading" | "bullet" | "paragraph" | "label"
    text: str
    start: int
    end: int
    section: str = ""
    label: str = ""  # a bullet ending with ':' that introduces the following bullets
    marker: str = ""  # the bullet marker ("-", "*", "1.", ...)


class Sentence(NamedTuple):
    """A sentence (or a whole bullet) with its offsets and the block it belongs to."""

    text: str
    start: int
    end: int
    block: Block


@dataclass
class ReadReport:
    """The documents read from some paths and the files skipped, each with a reason."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, same as file)


def printable_name(path: Path | str) -> str:
    """Return a path as text that is safe to print (undecodable bytes and controls escaped).

    Examples
    --------
    >>> printable_name("a\\x1b[31mb.txt")
    'a\\\\x1b[31mb.txt'
    """
    text = os.fsdecode(os.fspath(path))
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def clean_text(text: str) -> str:
    """Return ``text`` with line endings normalised and unsafe characters removed.

    Removes ANSI escape sequences, C0/C1 control characters (but tab and newline), bidirectional
    overrides and byte-order marks, and normalises to Unicode NFC.

    Examples
    --------
    >>> clean_text("\\ufeffA\\r\\nB\\x1b[1m!\\u202e")
    'A\\nB!'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


# Control characters other than tab, newline, carriage return and form feed.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def decode_bytes(data: bytes) -> tuple[str, str | None]:
    """Decode file bytes to text; return ``(text, note)`` where ``note`` says what was assumed.

    UTF-8 (with or without BOM) and UTF-16 with BOM are decoded as such; other bytes that are not
    UTF-8 are decoded as Windows-1252/Latin-1 with a note. Raises :class:`DocumentError` for data
    that looks binary.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "decoded as UTF-16"
        except UnicodeDecodeError as exc:
            raise DocumentError("invalid UTF-16 text") from exc
    sample = data[:65536]
    if sample.count(b"\x00") > max(1, len(sample) // 100):
        raise DocumentError("binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8")
        note = None
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        note = "not UTF-8: decoded as Windows-1252/Latin-1"
    head = text[:65536]
    controls = len(_CONTROLS.findall(head))
    if controls > max(8, len(head) // 20):
        raise DocumentError("binary file (control bytes), not text")
    return text, note


def read_document(
    path: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES, meta: dict[str, str] | None = None
) -> tuple[Document, str | None]:
    """Read one file into a :class:`Document`; return it with a note on its decoding (or None).

    Raises :class:`DocumentError` naming the problem for anything that is not a usable text file:
    missing, not a regular file (folder, pipe, device), over ``max_bytes``, binary, or empty.
    """
    name = printable_name(path)
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise DocumentError(f"{name}: no such file") from exc
    except OSError as exc:
        raise DocumentError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise DocumentError(f"{name}: {kind}, not a document")
    if info.st_size > max_bytes:
        raise DocumentError(
            f"{name}: {info.st_size:,} bytes is over the {max_bytes:,}-byte limit (--max-bytes)"
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise DocumentError(f"{name}: over the {max_bytes:,}-byte limit (--max-bytes)")
    try:
        raw, note = decode_bytes(data)
    except DocumentError as exc:
        raise DocumentError(f"{name}: {exc}") from exc
    text = clean_text(raw)
    if not text.strip():
        raise DocumentError(f"{name}: empty (no text)")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    meta = meta or {}
    document = Document(
        id=digest[:16],
        path=path,
        text=text,
        sha256=digest,
        title=meta.get("title", ""),
        origin=meta.get("origin", ""),
        primary_role_hint=meta.get("primary_role", ""),
    )
    return document, note


def _load_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """Return a folder's manifest entries by file name ({} when there is none or it is broken)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return {}
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    items = entries.get("documents", entries) if isinstance(entries, dict) else entries
    if not isinstance(items, list):
        return {}
    return {
        str(e["file"]): {k: str(v) for k, v in e.items()}
        for e in items
        if isinstance(e, dict) and "file" in e
    }


def _walk(folder: Path, report: ReadReport) -> Iterator[Path]:
    """Yield document files under ``folder`` in sorted order, skipping links that leave it."""
    root = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        for dirname in list(dirnames):
            sub = here / dirname
            if sub.is_symlink():
                dirnames.remove(dirname)
                report.skipped.append(
                    (printable_name(sub), "symbolic link to a folder: not followed")
                )
            elif dirname.startswith("."):
                dirnames.remove(dirname)
        for filename in sorted(filenames):
            candidate = here / filename
            if not filename.lower().endswith(DOCUMENT_SUFFIXES) or filename == MANIFEST:
                continue
            if candidate.is_symlink():
                try:
                    target = candidate.resolve(strict=True)
                except (OSError, RuntimeError):
                    report.skipped.append((printable_name(candidate), "broken or looping link"))
                    continue
                if not target.is_relative_to(root):
                    report.skipped.append(
                        (printable_name(candidate), "link leaves the input folder: not followed")
                    )
                    continue
            yield candidate


def read_documents(paths: Iterable[Path], *, max_bytes: int = MAX_DOCUMENT_BYTES) -> ReadReport:
    """Read every document under ``paths`` (files or folders); return a :class:`ReadReport`.

    Unusable files are listed in ``skipped`` with the reason; documents with the same cleaned
    text (a CRLF copy, say) are read once and listed in ``duplicates``. Raises
    :class:`DocumentError` when a path given does not exist.
    """
    report = ReadReport()
    seen: dict[str, str] = {}
    for given in paths:
        given = Path(given)
        if not given.exists() and not given.is_symlink():
            raise DocumentError(f"{printable_name(given)}: no such file or folder")
        if given.is_dir():
            manifest = _load_manifest(given)
            files: Iterable[Path] = _walk(given, report)
        else:
            manifest = _load_manifest(given.parent)
            files = [given]
        for file in files:
            try:
                document, note = read_document(
                    file, max_bytes=max_bytes, meta=manifest.get(file.name)
                )
            except DocumentError as exc:
                report.skipped.append((printable_name(file), str(exc).split(": ", 1)[-1]))
                continue
            if document.sha256 in seen:
                report.duplicates.append((document.file_name, seen[document.sha256]))
                continue
            seen[document.sha256] = document.file_name
            if note:
                report.skipped.append((document.file_name, f"read with a warning: {note}"))
            report.documents.append(document)
    return report


# --- layout ---------------------------------------------------------------------------------

_BULLET = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*•+▪‣◦–]|\d{1,2}[.)]|[a-z][.)])[ \t]+(?=\S)")
_MD_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.+?)[ \t#]*$")
_SETEXT = re.compile(r"^(=+|-+)[ \t]*$")
_KEY_VALUE = re.compile(r"^(?P<key>[A-Z][A-Za-z /&-]{0,30}):[ \t]+(?P<value>\S.*)$")
_TITLE_KEYS = {"title", "job title", "position", "role"}
# A sentence ends after . ! or ? (and a closing quote or bracket) where space and a capital or a
# digit follow. Group 1 is the break between the sentences; the stop itself comes first in the
# regex so that the regex engine can skip ahead to the next stop.
_SENTENCE_END = re.compile(r"[.!?]([\"')\]]?\s+)(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|approx|incl|Dr|Mr|Ms|Mrs|Prof|Inc|Ltd|Co|St|No|Jr|Sr|U\.S|Ph\.D|M\.S|B\.S|M\.Sc|B\.Sc)\.|\b[A-Z]\.)$"
)
# No abbreviation above is longer than this: only the end of a candidate sentence is searched.
_ABBREVIATION_MAX = 8


def _is_heading_line(line: str, next_line: str | None, alone: bool = False) -> bool:
    """Return True when a plain line reads as a heading: short, no final stop, content after.

    ``alone`` is true for a line with blank lines (or the start of the text) around it: such a
    line may be a heading even though no content follows directly.
    """
    text = line.strip()
    if not text or next_line is None or (not next_line.strip() and not alone):
        return False
    if len(text) > 80 or len(text.split()) > 10:
        return False
    if text.endswith((".", ",", ";", "!", "?")) and not text.endswith("..."):
        return False
    if _BULLET.match(line):
        return False
    first = text.lstrip("\"'(")[:1]
    return first.isupper() or first.isdigit()


def parse_blocks(text: str) -> list[Block]:
    """Split a document's text into headings, bullets and paragraphs; return them in order.

    Headings are found by layout: ``#`` lines, Setext underlines, ``Title:`` lines, a line ending
    with ``:``, and short lines with no final full stop followed by content. Each block records the
    nearest heading above it (``section``) and, for bullets, the nearest bullet that ends with a
    colon and so introduces a group (``label``).

    Examples
    --------
    >>> [b.kind for b in parse_blocks("Skills\\n- Python\\nSome text.")]
    ['heading', 'bullet', 'paragraph']
    """
    lines = text.split("\n")
    offsets = []
    position = 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    blocks: list[Block] = []
    section = ""
    label = ""
    paragraph: list[tuple[int, str]] = []

    def flush_paragraph() -> None:
        if not paragraph:
            return
        start = paragraph[0][0]
        last_start, last_line = paragraph[-1]
        end = last_start + len(last_line.rstrip())
        body = text[start:end]
        blocks.append(Block("paragraph", body, start, end, section, label))
        paragraph.clear()

    def add(kind: str, start: int, line_text: str, marker: str = "") -> None:
        stripped = line_text.strip()
        lead = line_text.find(stripped) if stripped else 0
        s = start + lead
        blocks.append(Block(kind, stripped, s, s + len(stripped), section, label, marker))

    index = 0
    while index < len(lines):
        line = lines[index]
        start = offsets[index]
        nxt = lines[index + 1] if index + 1 < len(lines) else None
        stripped = line.strip()
        if not stripped:
            flush_paragraph()
            index += 1
            continue
        # (each regex below is only tried where the character it needs is there)
        md = _MD_HEADING.match(stripped) if stripped[0] == "#" else None
        if md:
            flush_paragraph()
            section, label = md.group("text").strip(), ""
            heading_start = start + line.find(md.group("text"))
            blocks.append(
                Block("heading", section, heading_start, heading_start + len(section), section)
            )
            index += 1
            continue
        if (
            nxt is not None
            and nxt.startswith(("=", "-"))
            and _SETEXT.match(nxt)
            and stripped
            and not _BULLET.match(line)
        ):
            flush_paragraph()
            section, label = stripped, ""
            add("heading", start, line)
            index += 2
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush_paragraph()
            body = line[bullet.end() :]
            body_start = start + bullet.end()
            body_text = body.strip()
            if body_text.endswith(":") and len(body_text.split()) <= 8:
                label = body_text.rstrip(":").strip()
                blocks.append(
                    Block(
                        "label",
                        body_text,
                        body_start,
                        body_start + len(body_text),
                        section,
                        label,
                        bullet.group("marker"),
                    )
                )
            else:
                blocks.append(
                    Block(
                        "bullet",
                        body_text,
                        body_start,
                        body_start + len(body_text),
                        section,
                        label,
                        bullet.group("marker"),
                    )
                )
            index += 1
            continue
        key_value = _KEY_VALUE.match(stripped) if ":" in stripped else None
        if key_value and key_value.group("key").lower() in _TITLE_KEYS:
            flush_paragraph()
            value = key_value.group("value").strip()
            section, label = value, ""
            value_start = start + line.find(value)
            blocks.append(Block("heading", value, value_start, value_start + len(value), section))
            index += 1
            continue
        after_sentence = not paragraph or paragraph[-1][1].rstrip().endswith((".", ":", "!", "?"))
        alone = (
            not paragraph
            and (index == 0 or not lines[index - 1].strip())
            and nxt is not None
            and not nxt.strip()
            and len(stripped.split()) <= 8
        )
        if stripped.rstrip(":").strip() and (
            (stripped.endswith(":") and len(stripped.split()) <= 8 and not paragraph)
            or (after_sentence and _is_heading_line(line, nxt, alone))
        ):
            flush_paragraph()
            section, label = stripped.rstrip(":").strip(), ""
            add("heading", start, line.rstrip().rstrip(":") if stripped.endswith(":") else line)
            index += 1
            continue
        paragraph.append((start, line))
        index += 1
    flush_paragraph()
    return blocks


def split_sentences(block: Block) -> list[Sentence]:
    """Split a block into sentences with document offsets (a heading is one sentence).

    Examples
    --------
    >>> b = Block("paragraph", "A PhD, e.g. in CS. Then more.", 0, 29)
    >>> [s.text for s in split_sentences(b)]
    ['A PhD, e.g. in CS.', 'Then more.']
    """
    if block.kind in ("heading", "label"):
        return [Sentence(block.text, block.start, block.end, block)]
    sentences: list[Sentence] = []
    begin = 0
    text = block.text
    for match in _SENTENCE_END.finditer(text):
        stop = match.start(1)
        candidate = text[begin:stop].rstrip()
        if len(candidate) < 3 or _ABBREVIATIONS.search(
            candidate, max(0, len(candidate) - _ABBREVIATION_MAX)
        ):
            continue
        _append(sentences, block, begin, stop)
        begin = match.end()
    _append(sentences, block, begin, len(text))
    return sentences


def _append(sentences: list[Sentence], block: Block, begin: int, end: int) -> None:
    piece = block.text[begin:end]
    stripped = piece.strip()
    if not stripped:
        return
    offset = begin + piece.find(stripped)
    start = block.start + offset
    sentences.append(Sentence(stripped, start, start + len(stripped), block))
