"""The extractor's lexical cues, read from ``ontology/cues.toml`` (data, not code)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mlkg.errors import VocabularyError
from mlkg.resources import ontology_dir

CUES_FILE = "cues.toml"


def words_pattern(words: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """Return a case-insensitive regex matching any of ``words`` on word boundaries.

    Examples
    --------
    >>> bool(words_pattern(["at least"]).search("At least a PhD"))
    True
    """
    return _words_pattern(tuple(words))


@lru_cache(maxsize=4096)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(w) for w in words), key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class Cues:
    """Compiled cues; ``raw`` is the parsed TOML."""

    raw: dict[str, Any]
    digest: str

    def words(self, section: str, key: str) -> list[str]:
        """Return the word list ``[section] key`` of the cue file."""
        value = self.raw.get(section, {}).get(key, [])
        return [str(v) for v in value]

    def pattern(self, section: str, key: str) -> re.Pattern[str]:
        """Return the compiled word pattern for ``[section] key``."""
        return _pattern(self, section, key)


@lru_cache(maxsize=256)
def _pattern(cues: Cues, section: str, key: str) -> re.Pattern[str]:
    return words_pattern(cues.words(section, key) or ["\x00never\x00"])


def load_cues(path: Path | None = None) -> Cues:
    """Return the cues read from ``path`` (default: the bundled ``cues.toml``)."""
    return _load(str(path or ontology_dir() / CUES_FILE))


@lru_cache(maxsize=4)
def _load(path_text: str) -> Cues:
    import hashlib

    try:
        data = Path(path_text).read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VocabularyError(f"cannot read the extraction cues {path_text}: {exc}") from exc
    return Cues(raw=raw, digest=hashlib.sha256(data).hexdigest())
