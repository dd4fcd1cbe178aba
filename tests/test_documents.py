"""Reading documents (every bad input of HARDENING.md) and splitting them by layout."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlkg.documents import (
    Block,
    ReadReport,
    clean_text,
    decode_bytes,
    parse_blocks,
    printable_name,
    read_document,
    read_documents,
    split_sentences,
)
from mlkg.errors import DocumentError

GOOD = "Data Scientist\n\nData Scientists use Python and SQL every day.\n"


def skipped_by_name(report: ReadReport) -> dict[str, str]:
    """Return the skipped files of a report by file name (the report names whole paths)."""
    return {Path(f).name: r for f, r in report.skipped}


def write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` (text as UTF-8) and return the path."""
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- decoding ----------------------------------------------------------------------------------


def test_utf8_bom_is_accepted_and_stripped(tmp_path: Path) -> None:
    document, note = read_document(write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + GOOD.encode()))
    assert note is None
    assert not document.text.startswith("\ufeff")
    assert document.text == GOOD


def test_utf16_with_bom_is_decoded(tmp_path: Path) -> None:
    path = write(tmp_path / "u16.txt", GOOD.encode("utf-16"))
    document, note = read_document(path)
    assert document.text == GOOD
    assert note is not None and "UTF-16" in note


def test_utf16_big_endian_with_bom_is_decoded() -> None:
    text, _ = decode_bytes(b"\xfe\xff" + "Héllo".encode("utf-16-be"))
    assert text == "Héllo"


def test_latin1_is_decoded_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.txt", "Data Scientist\n\nCafé résumé naïve.\n".encode("latin-1"))
    document, note = read_document(path)
    assert "Café résumé naïve." in document.text
    assert note is not None and "not UTF-8" in note
    report = read_documents([path])
    assert [d.path for d in report.documents] == [path]
    assert any(f.endswith("latin.txt") and "warning" in r for f, r in report.skipped)


def test_random_binary_is_refused(tmp_path: Path) -> None:
    data = bytes(range(256)) * 64
    with pytest.raises(DocumentError, match="binary"):
        read_document(write(tmp_path / "blob.txt", data))
    report = read_documents([tmp_path])
    assert report.documents == []
    assert [Path(f).name for f, _ in report.skipped] == ["blob.txt"]


def test_random_binary_without_nul_is_refused() -> None:
    data = bytes(b for b in range(1, 32) if b not in (9, 10, 13)) * 200
    with pytest.raises(DocumentError, match="binary"):
        decode_bytes(data)


def test_a_single_embedded_nul_is_removed(tmp_path: Path) -> None:
    path = write(tmp_path / "nul.txt", GOOD.replace("Python", "Pyt\x00hon"))
    document, _ = read_document(path)
    assert "\x00" not in document.text
    assert "Python" in document.text


def test_control_characters_ansi_and_rtl_overrides_are_stripped(tmp_path: Path) -> None:
    hostile = (
        "Data \x1b[31mScientist\x1b[0m\x07\n\nUses \u202ePython\u202c and \x1b]0;title\x07SQL.\n"
    )
    document, _ = read_document(write(tmp_path / "ctrl.txt", hostile))
    assert document.text == "Data Scientist\n\nUses Python and SQL.\n"
    for char in document.text:
        assert char in "\n\t" or char.isprintable()


def test_clean_text_normalises_line_endings_and_nfc() -> None:
    assert clean_text("a\r\nb\rc") == "a\nb\nc"
    assert clean_text("e\u0301") == "\u00e9"


@pytest.mark.parametrize("content", [b"", b"   \n\t\n  \r\n", b"\xef\xbb\xbf", b"\x1b[0m\n"])
def test_empty_or_whitespace_only_file_is_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(DocumentError, match="empty"):
        read_document(write(tmp_path / "empty.txt", content))


def test_file_over_max_bytes_is_refused_naming_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "big.txt", GOOD * 20)
    with pytest.raises(DocumentError, match=r"big\.txt.*1,000-byte limit"):
        read_document(path, max_bytes=1000)
    report = read_documents([tmp_path], max_bytes=1000)
    assert report.documents == []
    assert "1,000-byte limit" in report.skipped[0][1]


def test_a_200_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # sparse: no disk used
        handle.truncate(200 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(DocumentError, match="52,428,800-byte limit"):
            read_document(path)
        report = read_documents([tmp_path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.documents == []
    assert "limit" in skipped_by_name(report)["huge.txt"]
    assert peak < 10 * 1024 * 1024


def test_a_file_growing_past_the_limit_after_stat_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "grow.txt", GOOD * 10)
    real_stat = Path.stat

    def small_stat(self: Path, **kwargs: bool) -> os.stat_result:
        result = real_stat(self, **kwargs)
        if self == path:
            values = list(result)
            values[6] = 10  # st_size: the file looked small when it was checked
            return os.stat_result(values)
        return result

    monkeypatch.setattr(Path, "stat", small_stat)
    with pytest.raises(DocumentError, match="100-byte limit"):
        read_document(path, max_bytes=100)


def test_a_single_very_long_line_is_read(tmp_path: Path) -> None:
    line = "Data Scientists use Python and SQL. " * 30_000  # about 1 MB, one line
    document, _ = read_document(write(tmp_path / "long.txt", line))
    assert document.text == line
    blocks = parse_blocks(document.text)
    assert len(blocks) == 1
    sentences = split_sentences(blocks[0])
    assert len(sentences) == 30_000
    assert all(document.text[s.start : s.end] == s.text for s in sentences[:50])


def test_duplicates_are_read_once_including_a_crlf_variant(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", GOOD)
    write(tmp_path / "b.txt", GOOD)
    write(tmp_path / "c.txt", GOOD.replace("\n", "\r\n"))
    report = read_documents([tmp_path])
    assert [d.path.name for d in report.documents] == ["a.txt"]
    assert sorted(report.duplicates) == [("b.txt", "a.txt"), ("c.txt", "a.txt")]


def test_the_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", GOOD)
    report = read_documents([path, tmp_path])
    assert len(report.documents) == 1


def _read_in_thread(paths: list[Path]) -> tuple[threading.Thread, dict[str, object]]:
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["report"] = read_documents(paths)
        except Exception as exc:  # pragma: no cover - reported by the assertion
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_a_named_pipe_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", GOOD)
    os.mkfifo(tmp_path / "pipe.txt")
    thread, result = _read_in_thread([tmp_path])
    thread.join(timeout=20)
    if thread.is_alive():  # unblock the reader so the test run can end
        with open(tmp_path / "pipe.txt", "wb"):
            pass
        pytest.fail("reading a folder holding a named pipe hung")
    report = result["report"]
    assert isinstance(report, ReadReport), result
    assert [d.path.name for d in report.documents] == ["good.txt"]
    assert "not a regular file" in skipped_by_name(report)["pipe.txt"]


def test_a_named_pipe_given_directly_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(DocumentError, match="not a regular file"):
        read_document(tmp_path / "pipe.txt")


def test_a_directory_named_like_a_document_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "x.txt").mkdir()
    write(tmp_path / "x.txt" / "inner.txt", GOOD)
    with pytest.raises(DocumentError, match="folder"):
        read_document(tmp_path / "x.txt")
    report = read_documents([tmp_path])
    assert [d.path.name for d in report.documents] == ["inner.txt"]


def test_a_symlink_loop_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", GOOD)
    os.symlink("loop2.txt", tmp_path / "loop1.txt")
    os.symlink("loop1.txt", tmp_path / "loop2.txt")
    os.symlink(".", tmp_path / "self")  # a folder link to itself
    report = read_documents([tmp_path])
    assert [d.path.name for d in report.documents] == ["good.txt"]
    skipped = skipped_by_name(report)
    assert "loop" in skipped["loop1.txt"] and "loop" in skipped["loop2.txt"]


def test_a_symlink_leaving_the_input_folder_is_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "secret.txt", GOOD.replace("SQL", "secrets"))
    inside = tmp_path / "in"
    inside.mkdir()
    write(inside / "good.txt", GOOD)
    os.symlink(outside, inside / "escape.txt")
    os.symlink(tmp_path, inside / "up")
    report = read_documents([inside])
    assert [d.path.name for d in report.documents] == ["good.txt"]
    assert "leaves the input folder" in skipped_by_name(report)["escape.txt"]
    assert all("secrets" not in d.text for d in report.documents)


def test_a_symlink_inside_the_folder_is_followed(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", GOOD)
    os.symlink("good.txt", tmp_path / "alias.txt")
    report = read_documents([tmp_path])
    assert len(report.documents) == 1
    assert report.duplicates == [("good.txt", "alias.txt")] or report.duplicates == [
        ("alias.txt", "good.txt")
    ]


def test_a_non_utf8_file_name_is_read_and_printable(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9-\x1b[31m.txt"
    with open(raw, "wb") as handle:
        handle.write(GOOD.encode())
    report = read_documents([tmp_path])
    assert len(report.documents) == 1
    name = report.documents[0].file_name
    assert name.isprintable()
    name.encode("utf-8")  # never a surrogate escape
    assert "caf\\udce9" in name or "caf\\xe9" in name


def test_a_bad_non_utf8_file_name_is_printable_in_the_message(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/bin\xff.txt"
    with open(raw, "wb") as handle:
        handle.write(b"\x00\x01\x02" * 100)
    report = read_documents([tmp_path])
    ((name, reason),) = report.skipped
    assert name.isprintable()
    assert "bin\\udcff.txt" in name or "bin\\xff.txt" in name
    name.encode("utf-8")
    assert "binary" in reason


def test_printable_name_escapes_controls() -> None:
    assert printable_name("a\nb\x1b.txt") == "a\\nb\\x1b.txt"


def test_a_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        read_documents([tmp_path / "missing"])
    with pytest.raises(DocumentError, match="no such file"):
        read_document(tmp_path / "missing.txt")


def test_an_empty_folder_gives_no_documents(tmp_path: Path) -> None:
    report = read_documents([tmp_path])
    assert report.documents == [] and report.skipped == [] and report.duplicates == []


def test_only_document_suffixes_are_read_from_folders(tmp_path: Path) -> None:
    write(tmp_path / "a.md", GOOD)
    write(tmp_path / "b.pdf", GOOD + "pdf")
    write(tmp_path / "c.py", GOOD + "py")
    assert [d.path.name for d in read_documents([tmp_path]).documents] == ["a.md"]


def test_document_id_is_the_sha256_prefix_of_the_cleaned_text(tmp_path: Path) -> None:
    import hashlib

    document, _ = read_document(write(tmp_path / "a.txt", GOOD.replace("\n", "\r\n")))
    digest = hashlib.sha256(GOOD.encode()).hexdigest()
    assert document.sha256 == digest and document.id == digest[:16]


# --- layout ------------------------------------------------------------------------------------


def kinds(text: str) -> list[tuple[str, str]]:
    """Return (kind, text) of each block of ``text``."""
    return [(b.kind, b.text) for b in parse_blocks(text)]


@pytest.mark.parametrize(
    "text",
    [
        "# Required Skills\nWe need Python.",
        "## Required Skills ##\nWe need Python.",
        "Required Skills\n===============\nWe need Python.",
        "Required Skills\n---------------\nWe need Python.",
        "Required Skills\nWe need Python.",
        "Required Skills:\nWe need Python.",
    ],
)
def test_headings_by_layout(text: str) -> None:
    blocks = parse_blocks(text)
    assert [(b.kind, b.text) for b in blocks] == [
        ("heading", "Required Skills"),
        ("paragraph", "We need Python."),
    ]
    assert blocks[1].section == "Required Skills"


def test_title_line_is_a_heading() -> None:
    blocks = parse_blocks("Title: Machine Learning Engineer\nBuilds models.")
    assert (blocks[0].kind, blocks[0].text) == ("heading", "Machine Learning Engineer")
    assert blocks[1].section == "Machine Learning Engineer"


def test_a_sentence_is_not_a_heading() -> None:
    assert kinds("We need Python.\nAnd SQL too.") == [
        ("paragraph", "We need Python.\nAnd SQL too.")
    ]


def test_a_long_line_is_not_a_heading() -> None:
    line = "This line has far too many words in it to be a heading of a section at all"
    assert kinds(f"{line}\nMore text.")[0][0] == "paragraph"


def test_label_bullets_group_the_following_bullets() -> None:
    blocks = parse_blocks("Skills\n- Languages:\n- Python\n- Go\n- Tools:\n- PyTorch")
    assert [(b.kind, b.text, b.label) for b in blocks] == [
        ("heading", "Skills", ""),
        ("label", "Languages:", "Languages"),
        ("bullet", "Python", "Languages"),
        ("bullet", "Go", "Languages"),
        ("label", "Tools:", "Tools"),
        ("bullet", "PyTorch", "Tools"),
    ]
    assert all(b.section == "Skills" for b in blocks)


@pytest.mark.parametrize("marker", ["-", "*", "•", "+", "1.", "2)", "a."])
def test_bullet_markers(marker: str) -> None:
    blocks = parse_blocks(f"Skills\n{marker} Python and SQL")
    assert (blocks[1].kind, blocks[1].text, blocks[1].marker) == (
        "bullet",
        "Python and SQL",
        marker,
    )


def test_sentences_split_on_punctuation_not_abbreviations() -> None:
    text = "A Ph.D. in CS, e.g. from MIT, helps. Dr. Smith agrees! Does it? Yes."
    (block,) = parse_blocks(text)
    assert [s.text for s in split_sentences(block)] == [
        "A Ph.D. in CS, e.g. from MIT, helps.",
        "Dr. Smith agrees!",
        "Does it?",
        "Yes.",
    ]


SAMPLE = (
    "\ufeffML Engineer\r\n============\r\n\r\n"
    "Title: Senior ML Engineer\n"
    "Overview\nML engineers ship models. They use PyTorch, e.g. daily.\n\n"
    "## Skills\n- Languages:\n  - Python (3.x)\n  * Go\n1. First step\n\n"
    "Salary: $100,000 - $120,000.   \n   trailing   \n"
)


def test_offsets_slice_the_text() -> None:
    text = clean_text(SAMPLE)
    blocks = parse_blocks(text)
    assert len(blocks) >= 8
    for block in blocks:
        assert text[block.start : block.end] == block.text
        for sentence in split_sentences(block):
            assert text[sentence.start : sentence.end] == sentence.text
            assert block.start <= sentence.start <= sentence.end <= block.end


def test_blocks_are_in_document_order() -> None:
    blocks = parse_blocks(clean_text(SAMPLE))
    starts = [b.start for b in blocks]
    assert starts == sorted(starts)


@pytest.mark.parametrize("text", [":", " : \nBody.", "::\nBody."])
def test_no_block_is_empty(text: str) -> None:
    assert all(b.text for b in parse_blocks(text))


def test_a_heading_is_one_sentence() -> None:
    block = Block("heading", "Skills. More. Words.", 0, 20)
    assert [s.text for s in split_sentences(block)] == ["Skills. More. Words."]


_PIECES = [
    *"abcXYZ019 .:;,!?-*#=•()$%\t\n\ré\u202e",
    "e.g.",
    "Ph.D.",
    "Title: ",
    "\n- ",
    "\n1. ",
    "\n## ",
    "\n===\n",
    "\x1b[",
    "Skills:",
    "Research Scientist",
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=120).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_parsing_never_crashes_and_offsets_always_slice(raw: str) -> None:
    text = clean_text(raw)
    for block in parse_blocks(text):
        assert text[block.start : block.end] == block.text
        for sentence in split_sentences(block):
            assert text[sentence.start : sentence.end] == sentence.text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parsing_arbitrary_unicode_never_crashes(raw: str) -> None:
    text = clean_text(raw)
    for block in parse_blocks(text):
        assert text[block.start : block.end] == block.text
        for sentence in split_sentences(block):
            assert text[sentence.start : sentence.end] == sentence.text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_decoding_any_bytes_returns_text_or_document_error(data: bytes) -> None:
    try:
        text, _ = decode_bytes(data)
    except DocumentError:
        return
    assert isinstance(text, str)


def _reference_split(text: str) -> list[str]:
    """split_sentences the plain way: a lookbehind for the stop, the whole candidate searched."""
    import re

    end = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
    abbreviations = re.compile(
        r"(?:\b(?:e\.g|i\.e|etc|vs|approx|incl|Dr|Mr|Ms|Mrs|Prof|Inc|Ltd|Co|St|No|Jr|Sr|U\.S"
        r"|Ph\.D|M\.S|B\.S|M\.Sc|B\.Sc)\.|\b[A-Z]\.)$"
    )
    pieces = []
    begin = 0
    for match in end.finditer(text):
        candidate = text[begin : match.start()].rstrip()
        if abbreviations.search(candidate) or len(candidate) < 3:
            continue
        pieces.append(text[begin : match.start()])
        begin = match.end()
    pieces.append(text[begin:])
    return [p.strip() for p in pieces if p.strip()]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *("Dr.", "e.g.", "approx.", "Ph.D.", "M.Sc.", "U.S.", "A.", "xDr.", "word", "It"),
                *(" ", "  ", "\n", ".", "!", "?", '"', "'", ")", "]", "(", "[", "1", "é", "x"),
            ]
        ),
        max_size=25,
    ).map("".join)
)
def test_sentence_splitting_agrees_with_the_plain_way(text: str) -> None:
    block = Block("paragraph", text, 0, len(text))
    assert [s.text for s in split_sentences(block)] == _reference_split(text)


@given(st.text(alphabet=st.characters(max_codepoint=0x3F), max_size=300))
@settings(max_examples=200, deadline=None)
def test_binary_verdict_counts_every_control_but_tab_newline_return_form_feed(text: str) -> None:
    from mlkg.documents import decode_bytes

    data = text.encode("utf-8")
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f")
    binary = data.count(b"\x00") > max(1, len(data) // 100) or controls > max(8, len(text) // 20)
    try:
        decode_bytes(data)
    except DocumentError:
        assert binary
    else:
        assert not binary
