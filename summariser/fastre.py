"""Case-insensitive cue patterns: lower-case the text once, match a lower-case pattern.

Python's `re.IGNORECASE` on Vietnamese text is several times slower than a plain pattern, and the
cue patterns run on every sentence. `str.lower()` keeps the length of Vietnamese text, so match
offsets are offsets into the original text (a character whose lower case is longer is left as is).
Within one report (`begin`), a text given with its offset in the report (`at=`) is read from the
report's lower-cased copy instead of being lower-cased again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

_ESCAPE_OR_TEXT = re.compile(r"\\.|[^\\]+", re.DOTALL)


def fold(text: str) -> str:
    """Lower case with the same length as `text`."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    return fold(text)


class _Report:
    """The report being summarised (see `begin`): its text and its lower-cased copy."""

    def __init__(self) -> None:
        self.clean = ""
        self.full = ""


_NOW = _Report()


def reset() -> None:
    """Forget the current report and the folded texts (called once per report)."""
    _folded.cache_clear()
    _NOW.clean = _NOW.full = ""


def begin(cleaned: str) -> None:
    """Start a report: `at=` offsets given to the patterns index into `cleaned`."""
    reset()
    _NOW.clean = cleaned
    _NOW.full = fold(cleaned)


def folded(text: str, at: int | None = None) -> str:
    """`fold(text)`; a slice of the report's lower-cased copy when `text` starts at `at` in it."""
    if at is not None and at >= 0 and _NOW.clean.startswith(text, at):
        return _NOW.full[at: at + len(text)]
    return _folded(text)


def _lower_pattern(pattern: str) -> str:
    """The pattern with its literal text lower-cased (escapes such as \\D and \\W kept)."""
    return "".join(
        part if part.startswith("\\") else part.lower() for part in _ESCAPE_OR_TEXT.findall(pattern)
    )


class CI:
    """A compiled case-insensitive pattern; `.re` is the underlying lower-case pattern."""

    __slots__ = ("pattern", "re")

    def __init__(self, pattern: str) -> None:
        self.pattern = _lower_pattern(pattern)
        self.re = re.compile(self.pattern)

    def search(self, text: str, pos: int = 0, endpos: int | None = None, *,
               at: int | None = None) -> re.Match[str] | None:
        low = folded(text, at)
        return self.re.search(low, pos) if endpos is None else self.re.search(low, pos, endpos)

    def match(self, text: str, pos: int = 0, *, at: int | None = None) -> re.Match[str] | None:
        return self.re.match(folded(text, at), pos)

    def fullmatch(self, text: str, *, at: int | None = None) -> re.Match[str] | None:
        return self.re.fullmatch(folded(text, at))

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None, *,
                 at: int | None = None) -> Iterator[re.Match[str]]:
        low = folded(text, at)
        return self.re.finditer(low, pos) if endpos is None else self.re.finditer(low, pos, endpos)


class Guarded:
    """A case-insensitive pattern whose matches must start a word and must not follow certain words
    ("theo yêu cầu" is no request): the words before a match are checked in Python, which reads
    more plainly than a row of look-behinds."""

    __slots__ = ("inner", "not_after")

    def __init__(self, pattern: str, not_after: tuple[str, ...]) -> None:
        self.inner = CI(pattern)
        self.not_after = tuple(fold(w).rstrip() + " " for w in not_after)

    def _ok(self, low: str, m: re.Match[str]) -> bool:
        start = m.start()
        if start and low[start - 1].isalnum():
            return False
        before = low[max(0, start - 12): start]
        return not before.endswith(self.not_after)

    def finditer(self, text: str, *, at: int | None = None) -> Iterator[re.Match[str]]:
        low = folded(text, at)
        return (m for m in self.inner.re.finditer(low) if self._ok(low, m))

    def search(self, text: str, *, at: int | None = None) -> re.Match[str] | None:
        return next(iter(self.finditer(text, at=at)), None)


def ci(pattern: str) -> CI:
    return CI(pattern)
