"""Case-insensitive patterns that run fast: lower-case the text once, match a lower-case pattern.

Python's `re.IGNORECASE` on Vietnamese text is several times slower than a plain pattern, and the
cue patterns run on every sentence. `str.lower()` keeps the length of Vietnamese text, so match
offsets are offsets into the original text (a character whose lower case is longer is left as is).

Most of the cost of a cue pattern is finding out which of its alternatives can match at all. Within
one report (`begin`), the folded report is scanned once for every literal that some alternative
requires; a search given the offset of its text in the report (`at=`) then looks the literals up
by position instead of testing each one with `in`, and slices the folded report instead of folding
the text again. Without `at` (or when the text is not at `at`) patterns work as before.
"""

from __future__ import annotations

import re
import re._parser as _parser  # type: ignore[import-not-found]  # (no stub: CPython's own module)
from collections.abc import Iterator
from functools import cache, lru_cache
from itertools import pairwise
from typing import Final

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


_MEMO: Final[dict[tuple[object, str], re.Match[str] | None]] = {}


class _Report:
    """The report being summarised (see `begin`): its text, its fold, and folded spans of it by
    (start, length) with the text object they were checked against (a sentence is asked by a dozen
    patterns, each with the same `text` object). `number` counts reports, so that what a pattern
    remembers about one (`CI.scope`) is not used for the next. (One object, not module variables:
    compiled, its fields are read directly instead of looked up by name.)"""

    def __init__(self) -> None:
        self.clean = ""
        self.full = ""
        self.number = 0
        self.slices: dict[tuple[int, int], tuple[str, str]] = {}


_NOW: Final = _Report()


def reset() -> None:
    """Forget folded texts and memoised searches: called once per report (timings stay per report)."""
    _folded.cache_clear()
    _MEMO.clear()
    _NOW.slices.clear()
    _NOW.clean = _NOW.full = ""
    _NOW.number += 1


def begin(cleaned: str) -> None:
    """Start a report: `at=` offsets given to the patterns index into `cleaned`."""
    reset()
    _NOW.clean = cleaned
    _NOW.full = fold(cleaned)


def _located(text: str, at: int | None) -> tuple[str, int]:
    """The folded text, and its offset in the current report (-1 when unknown)."""
    if at is not None and at >= 0:
        key = (at, len(text))
        now = _NOW
        known = now.slices.get(key)
        if known is not None and known[0] is text:
            return known[1], at
        if now.clean.startswith(text, at):
            low = now.full[at: at + len(text)]
            now.slices[key] = (text, low)
            return low, at
    return _folded(text), -1


def folded(text: str, at: int | None = None) -> str:
    """`fold(text)`; a slice of the report's lower-cased copy when `text` starts at `at` in it."""
    return _located(text, at)[0]


def _lower_pattern(pattern: str) -> str:
    return "".join(
        part if part.startswith("\\") else part.lower() for part in _ESCAPE_OR_TEXT.findall(pattern)
    )


_SPECIAL = set("()[]{}?*+|^$.")


def _walk(pattern: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, group depth after it) for each character of `pattern` from `start` that
    is structure: escapes and the insides of [...] classes are stepped over."""
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
        else:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            yield i, ch, depth
        i += 1


def _top_level_alternatives(pattern: str) -> list[str]:
    bounds = [-1, *(i for i, ch, depth in _walk(pattern) if ch == "|" and depth == 0), len(pattern)]
    return [pattern[a + 1 : b] for a, b in pairwise(bounds)]


def _group_end(pattern: str, start: int) -> int:
    """Index just after the group that opens at `start`."""
    for i, ch, depth in _walk(pattern, start):
        if ch == ")" and depth == 0:
            return i + 1
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


def _fewest(literals: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The same condition with fewer look-ups: a literal holding another of the set adds nothing
    ("tham dự" is in the text only if "dự" is)."""
    if literals is None:
        return None
    return tuple(lit for lit in literals if not any(o != lit and o in lit for o in literals))


_ANYWHERE, _BOUNDARY, _ANCHORED = 0, 1, 2  # where an alternative may start


_UNBOUNDED = -1


@cache
def _width(pattern: str) -> int:
    """The longest a match of `pattern` can be, or `_UNBOUNDED` (measured on first use, not at import)."""
    longest = _parser.parse(pattern).getwidth()[1]
    return longest if longest < 10_000 else _UNBOUNDED


def _start(low: str, literals: tuple[str, ...], width: int) -> int:
    """Where a match needing one of `literals` may start at the earliest (-1: none can).

    A match of at most `width` characters holds a literal, so it starts no earlier than `width`
    characters before the end of the first literal found: the regex engine is spared the positions
    before (a group or an optional word first keeps it from skipping to the literal itself).
    """
    first = -1
    for lit in literals:
        i = low.find(lit)
        if i >= 0 and (first < 0 or i + len(lit) < first):
            first = i + len(lit)
    if first < 0 or width == _UNBOUNDED:
        return first if first < 0 else 0
    return max(0, first - width)


def _first(part: re.Pattern[str], low: str, where: int, pos: int) -> re.Match[str] | None:
    """First match of `part` from `pos`; at a word start only (`_BOUNDARY`) or at 0 only (`_ANCHORED`)."""
    if where == _ANCHORED:
        return part.match(low)
    m = part.search(low, pos)
    while m and where and m.start() and low[m.start() - 1].isalnum():
        m = part.search(low, m.start() + 1)
    return m


def _implied(gated: list[tuple[int, tuple[str, ...]]]) -> list[tuple[int, tuple[str, ...], int]]:
    """The gated alternatives, shortest literals first, each with the bit of an earlier one-literal
    alternative whose literal is inside all of its literals ("chậm" in "còn chậm"): when that one is
    absent from a text, so are these, and they need no look-up."""
    ordered = sorted(gated, key=lambda g: min(map(len, g[1])))
    out: list[tuple[int, tuple[str, ...], int]] = []
    for i, (bit, literals) in enumerate(ordered):
        requires = 0
        for other_bit, other in ordered[:i]:
            if len(other) == 1 and all(other[0] in lit and other[0] != lit for lit in literals):
                requires = other_bit
                break
        out.append((bit, literals, requires))
    return out


class CI:
    """A compiled case-insensitive pattern; `.re` is the underlying lower-case pattern.

    A pattern made of alternatives is searched alternative by alternative, each only when the
    plain text it requires is in the input (`str.find` is far faster than the regex engine trying
    every alternative at every position), from shortly before that text. With `at=`, only the
    literals found in the enclosing text are looked for (see `_candidates`).
    """

    __slots__ = ("always", "gated", "parts", "pattern", "re", "scope", "whole")

    def __init__(self, pattern: str, *, prefilter: bool = False) -> None:
        self.pattern = _lower_pattern(pattern)
        self.re = re.compile(self.pattern)
        alternatives = _top_level_alternatives(self.pattern)
        if len(alternatives) > 1:
            needs = [_fewest(_required(a)) for a in alternatives]
        else:  # (needed only to pre-filter the whole pattern)
            needs = [_fewest(_required(alternatives[0])) if prefilter else None]
        # (literals, regex, where it may start, the regex's own text: its longest match is measured
        # on first use, see `_width`)
        self.parts: list[tuple[tuple[str, ...], re.Pattern[str], int, str]] | None = None
        if len(alternatives) > 1 and all(n is not None for n in needs):
            # A leading \b hides the literal prefix from the regex engine: check it in Python instead.
            # An alternative anchored at the start is tried there only.
            self.parts = []
            for n, a in zip(needs, alternatives, strict=True):
                where = _BOUNDARY if a.startswith("\\b") else _ANCHORED if a.startswith("^") else _ANYWHERE
                body = a[2:] if where == _BOUNDARY else a
                self.parts.append((n, re.compile(body), where, body))  # type: ignore[arg-type]
        elif len(alternatives) > 1:
            needs = [None]
        # One alternative with `prefilter`: tried only when one of its literals is in the text.
        self.whole: tuple[str, ...] | None = needs[0] if self.parts is None and prefilter else None
        # Alternatives looked up by literal (bit, literals), and those tried whatever the text
        # (anchored at its start: one attempt is cheaper than the look-ups).
        gated: list[tuple[int, tuple[str, ...]]] = []
        self.always = 0
        for bit, part in enumerate(self.parts or ()):
            if part[2] == _ANCHORED:
                self.always |= 1 << bit
            else:
                gated.append((1 << bit, part[0]))
        if self.whole:
            gated.append((1, self.whole))
        self.gated = _implied(gated)
        self.scope = (0, 0, 0, 0)  # (report, start, end, gated bits with a literal in that span)

    def _candidates(self, low: str, at: int) -> int:
        """Bits of the alternatives that may match `low`, which starts at `at` in the report.

        Clauses are searched after the sentence they are in: the literals found in the sentence are
        the only ones to look for in its clauses (a literal absent from a text is absent from its parts).
        """
        report, start, end, found = self.scope
        if report == _NOW.number and start <= at and at + len(low) <= end:
            return self.always | found
        # (one `in` per literal: compiled, this beats one regex finding them all, see bench/summariser.py)
        found = 0
        for bit, literals, requires in self.gated:
            if requires and not found & requires:
                continue  # a shorter literal inside every one of these is absent
            for lit in literals:
                if lit in low:
                    found |= bit
                    break
        self.scope = (_NOW.number, at, at + len(low), found)
        return self.always | found

    def search(self, text: str, pos: int = 0, endpos: int | None = None, *,
               at: int | None = None) -> re.Match[str] | None:
        """`at`: where `text` starts in the text given to `begin` (faster when it does)."""
        low, off = _located(text, at)
        if pos or endpos is not None:
            return self.re.search(low, pos) if endpos is None else self.re.search(low, pos, endpos)
        if off >= 0 and (self.always or self.gated):
            mask = self._candidates(low, off)
            return self._search(low, mask) if mask else None
        key = (self, low)  # (the pattern itself, not its id: a temporary one may die and its id be reused)
        if key in _MEMO:
            return _MEMO[key]
        found = self._search(low)
        if len(_MEMO) < 50_000:
            _MEMO[key] = found
        return found

    def _search(self, low: str, mask: int = -1) -> re.Match[str] | None:
        if self.parts is None:
            if self.whole is None:
                return self.re.search(low)
            begin = _start(low, self.whole, _width(self.pattern))
            return self.re.search(low, begin) if begin >= 0 else None
        best = None
        bit = 1
        for literals, part, where, body in self.parts:
            if mask & bit:
                if where == _ANCHORED:
                    m = part.match(low)
                else:
                    begin = _start(low, literals, _width(body))
                    m = _first(part, low, where, begin) if begin >= 0 else None
                if m and (best is None or m.start() < best.start()):
                    best = m
                    if not m.start():
                        break  # no later alternative can start earlier
            bit <<= 1
        return best

    def match(self, text: str, pos: int = 0, *, at: int | None = None) -> re.Match[str] | None:
        return self.re.match(_located(text, at)[0], pos)

    def fullmatch(self, text: str, *, at: int | None = None) -> re.Match[str] | None:
        return self.re.fullmatch(_located(text, at)[0])

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None, *,
                 at: int | None = None) -> Iterator[re.Match[str]]:
        low, off = _located(text, at)
        if pos or endpos is not None:
            return self.re.finditer(low, pos) if endpos is None else self.re.finditer(low, pos, endpos)
        mask = -1
        if off >= 0 and (self.always or self.gated):
            mask = self._candidates(low, off)
            if not mask:
                return iter(())
        if self.parts is None:
            if self.whole is None:
                return self.re.finditer(low)
            begin = _start(low, self.whole, _width(self.pattern))
            return self.re.finditer(low, begin) if begin >= 0 else iter(())
        found: list[tuple[int, int, re.Match[str]]] = []
        bit = 1
        for order, (literals, part, where, body) in enumerate(self.parts):
            if mask & bit:
                begin = 0 if where == _ANCHORED else _start(low, literals, _width(body))
                if begin >= 0:
                    found += [(m.start(), order, m) for m in part.finditer(low, begin)
                              if not where or not m.start() or (where == _BOUNDARY and not low[m.start() - 1].isalnum())]
            bit <<= 1
        if len(found) > 1:
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

    def __init__(self, pattern: str, not_after: tuple[str, ...], *, prefilter: bool = False) -> None:
        if pattern.startswith("(?:") and _group_end(pattern, 0) == len(pattern):
            pattern = pattern[3:-1]  # one outer group: search its alternatives one by one
        self.inner = CI(pattern, prefilter=prefilter)
        self.not_after = tuple(fold(w).rstrip() + " " for w in not_after)

    def _ok(self, low: str, m: re.Match[str]) -> bool:
        start = m.start()
        if start and low[start - 1].isalnum():
            return False
        before = low[max(0, start - 12): start]
        return not before.endswith(self.not_after)

    def finditer(self, text: str, *, at: int | None = None) -> Iterator[re.Match[str]]:
        low = _located(text, at)[0]
        return (m for m in self.inner.finditer(text, at=at) if self._ok(low, m))

    def search(self, text: str, *, at: int | None = None) -> re.Match[str] | None:
        low = _located(text, at)[0]
        for m in self.inner.finditer(text, at=at):
            if self._ok(low, m):
                return m
        return None


def ci(pattern: str, *, prefilter: bool = False) -> CI:
    """`prefilter`: a pattern of one alternative is tried only when a literal it needs is in the text."""
    return CI(pattern, prefilter=prefilter)
