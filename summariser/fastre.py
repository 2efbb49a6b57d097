"""Case-insensitive patterns that run fast: lower-case the text once, match a lower-case pattern.

Python's `re.IGNORECASE` on Vietnamese text is several times slower than a plain pattern, and the
cue patterns run on every sentence. `str.lower()` keeps the length of Vietnamese text, so match
offsets are offsets into the original text (a character whose lower case is longer is left as is).
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


_MEMO: dict[tuple[int, str], re.Match[str] | None] = {}


def reset() -> None:
    """Forget folded texts and memoised searches: called once per report (timings stay per report)."""
    _folded.cache_clear()
    _MEMO.clear()


def _lower_pattern(pattern: str) -> str:
    return "".join(
        part if part.startswith("\\") else part.lower() for part in _ESCAPE_OR_TEXT.findall(pattern)
    )


_SPECIAL = set("()[]{}?*+|^$.")


def _top_level_alternatives(pattern: str) -> list[str]:
    out, depth, cur, i = [], 0, [], 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            cur.append(pattern[i: i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _group_end(pattern: str, start: int) -> int:
    """Index just after the group that opens at `start`."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(pattern)


def _required(alternative: str) -> tuple[str, ...] | None:
    """Plain texts one of which every match of `alternative` contains, or None when unknown."""
    runs: list[str] = []
    groups: list[tuple[int, int]] = []
    cur: list[str] = []
    i = 0
    while i < len(alternative):
        ch = alternative[i]
        nxt = alternative[i + 1] if i + 1 < len(alternative) else ""
        if ch == "\\":
            if nxt in ".-/()[]{}?*+|^$":
                cur.append(nxt)
            else:
                runs.append("".join(cur))
                cur = []
            i += 2
            continue
        if ch in "([":
            runs.append("".join(cur))
            cur = []
            end = _group_end(alternative, i) if ch == "(" else alternative.index("]", i + 1) + 1
            optional = (end < len(alternative) and alternative[end] in "?*") or alternative[end: end + 2] == "{0"
            if ch == "(" and not optional and not alternative.startswith(("(?=", "(?!", "(?<"), i):
                groups.append((i, end))
            i = end
            continue
        if ch == "{":
            if cur:
                cur.pop()
            runs.append("".join(cur))
            cur = []
            i = alternative.index("}", i) + 1
            continue
        if ch in "?*":
            if cur:
                cur.pop()
            runs.append("".join(cur))
            cur = []
        elif ch in "+|^$.)":
            runs.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    runs.append("".join(cur))
    best = max(runs, key=lambda r: len(r.strip()), default="")
    if len(best.strip()) >= 2:
        return (best,)
    for start, end in groups:
        inner = alternative[start + 1: end - 1]
        if inner.startswith("?:"):
            inner = inner[2:]
        elif inner.startswith("?P<"):
            inner = inner[inner.index(">") + 1:]
        options = [_required(a) for a in _top_level_alternatives(inner)]
        if all(o is not None for o in options):
            return tuple(lit for o in options for lit in o)  # type: ignore[union-attr]
    return None


def _first(part: re.Pattern[str], low: str, boundary: bool) -> re.Match[str] | None:
    """First match of `part`; with `boundary`, only one that starts a word."""
    m = part.search(low)
    while m and boundary and m.start() and low[m.start() - 1].isalnum():
        m = part.search(low, m.start() + 1)
    return m


class CI:
    """A compiled case-insensitive pattern; `.re` is the underlying lower-case pattern.

    A pattern made of alternatives is searched alternative by alternative, each only when the
    plain text it requires is in the input (`str.__contains__` is far faster than the regex engine
    trying every alternative at every position).
    """

    __slots__ = ("parts", "pattern", "re")

    def __init__(self, pattern: str) -> None:
        self.pattern = _lower_pattern(pattern)
        self.re = re.compile(self.pattern)
        alternatives = _top_level_alternatives(self.pattern)
        needs = [_required(a) for a in alternatives]
        self.parts: list[tuple[tuple[str, ...], re.Pattern[str], bool]] | None = None
        if len(alternatives) > 1 and all(n is not None for n in needs):
            # A leading \b hides the literal prefix from the regex engine: check it in Python instead.
            self.parts = [
                (n, re.compile(a[2:]), True) if a.startswith("\\b") else (n, re.compile(a), False)
                for n, a in zip(needs, alternatives, strict=True)
            ]  # type: ignore[misc]

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        low = _folded(text)
        if pos == 0 and endpos is None:
            key = (id(self), low)
            if key in _MEMO:
                return _MEMO[key]
            found = self._search(low)
            if len(_MEMO) < 50_000:
                _MEMO[key] = found
            return found
        return self.re.search(low, pos) if endpos is None else self.re.search(low, pos, endpos)

    def _search(self, low: str) -> re.Match[str] | None:
        if self.parts is None:
            return self.re.search(low)
        best = None
        for literals, part, boundary in self.parts:
            for lit in literals:
                if lit in low:
                    m = _first(part, low, boundary)
                    if m and (best is None or m.start() < best.start()):
                        best = m
                    break
        return best

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.re.match(_folded(text), pos)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.re.fullmatch(_folded(text))

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]:
        low = _folded(text)
        if self.parts is None or pos or endpos is not None:
            return self.re.finditer(low, pos) if endpos is None else self.re.finditer(low, pos, endpos)
        found: list[tuple[int, int, re.Match[str]]] = []
        for order, (literals, part, boundary) in enumerate(self.parts):
            for lit in literals:
                if lit in low:
                    found += [(m.start(), order, m) for m in part.finditer(low)
                              if not boundary or not m.start() or not low[m.start() - 1].isalnum()]
                    break
        found.sort(key=lambda f: (f[0], f[1]))
        out: list[re.Match[str]] = []
        end = -1
        for start, _, m in found:  # leftmost first, no overlaps: as the whole pattern would scan
            if start >= end:
                out.append(m)
                end = max(m.end(), start + 1)
        return iter(out)


class Guarded:
    """A case-insensitive pattern whose matches must not follow certain words ("theo yêu cầu").

    Python's regex engine cannot skip ahead to a literal behind a row of look-behinds; checking
    the words before a match in Python keeps the literal pre-filter of `CI`.
    """

    __slots__ = ("inner", "not_after")

    def __init__(self, pattern: str, not_after: tuple[str, ...]) -> None:
        if pattern.startswith("(?:") and _group_end(pattern, 0) == len(pattern):
            pattern = pattern[3:-1]  # one outer group: search its alternatives one by one
        self.inner = CI(pattern)
        self.not_after = tuple(fold(w).rstrip() + " " for w in not_after)

    def _ok(self, low: str, m: re.Match[str]) -> bool:
        start = m.start()
        if start and low[start - 1].isalnum():
            return False
        before = low[max(0, start - 12): start]
        return not before.endswith(self.not_after)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        low = _folded(text)
        return (m for m in self.inner.finditer(text) if self._ok(low, m))

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)


def ci(pattern: str) -> CI:
    return CI(pattern)
