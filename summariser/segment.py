"""Paragraphs, sentences and clauses as character spans of the cleaned text.

Every piece keeps its (start, end) offsets so an item can be traced back to where it came from.
Sentence ends are found without line breaks too (crawled text runs paragraphs together).
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from summariser.normalise import UPPER

# Words whose trailing full stop does not end a sentence.
_ABBREVIATIONS: Final = {
    "tp", "t.ư", "tw", "ts", "ths", "th.s", "pgs", "gs", "bs", "ks", "ls", "p", "q", "tt", "v.v", "st",
    "mr", "ms", "đ/c", "đc", "th", "nxb", "vd", "tr", "no",
}
# (a mark, then more: a pattern led by a character class is searched for that class only)
_SENTENCE_END: Final = re.compile(rf"([.!?…][.!?…]*)([\"”’)\]]*)\s+(?=[\"“‘(\[]?[{UPPER}\d])")
# The same for a paragraph without "!", "?" or "…": led by a plain character, searched several times faster.
_STOP_END: Final = re.compile(rf"(\.\.*)([\"”’)\]]*)\s+(?=[\"“‘(\[]?[{UPPER}\d])")
_BULLET: Final = re.compile(r"^(?:[-–—+•*·●▪►✓]\s*|\(?\d{1,2}[.)]\s+|\(?[a-zđ][.)]\s+|[IVXLC]{1,5}[.)]\s+)")


class Piece(NamedTuple):
    """A span of the cleaned text (a tuple: a report makes a few hundred of them)."""

    start: int
    end: int
    text: str


def paragraphs(text: str) -> list[Piece]:
    """One paragraph per line of the cleaned text."""
    out: list[Piece] = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            body = line.strip()
            out.append(Piece(pos + lead, pos + lead + len(body), body))
        pos += len(line) + 1
    return out


def _ends_sentence(text: str, stop_at: int, spaces_only: bool = False) -> bool:
    """False when the full stop at `stop_at` closes an abbreviation ("TP.", "T.Ư.").

    `spaces_only`: " " is the only white space in `text` (so the word starts after the last one)."""
    if text[stop_at] != ".":
        return True
    if spaces_only:
        start = text.rfind(" ", 0, stop_at) + 1
    else:
        start = stop_at
        while start > 0 and not text[start - 1].isspace():
            start -= 1
    word = text[start:stop_at].lower().strip("(\"“")
    if word in _ABBREVIATIONS:
        return False
    return not (len(word) == 1 and word.isalpha())


def sentences(par: Piece) -> list[Piece]:
    """Split a paragraph at sentence ends followed by a capital (or a digit)."""
    out: list[Piece] = []
    text = par.text
    start = 0
    spaces_only: bool | None = None  # " " is the only white space (other white space is not printable)
    ends = _SENTENCE_END if "…" in text or "?" in text or "!" in text else _STOP_END
    for m in ends.finditer(text):
        stop = m.start(1)
        if text[stop] == ".":  # (only a full stop may close an abbreviation instead)
            if spaces_only is None:
                spaces_only = text.isprintable()
            if not _ends_sentence(text, stop, spaces_only):
                continue
        end = m.end(2)
        out.append(_piece(par, start, end))  # (never blank: it holds the stop)
        start = m.end()
    if text[start:].strip():
        out.append(_piece(par, start, len(text)))
    return out


def _piece(par: Piece, start: int, end: int) -> Piece:
    chunk = par.text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk) - len(chunk.rstrip())
    s, e = start + lead, end - trail
    return Piece(par.start + s, par.start + e, par.text[s:e])


def sub_piece(p: Piece, start: int, end: int) -> Piece:
    """The part [start, end) of a piece (offsets relative to the piece), trimmed of spaces."""
    chunk = p.text[start:end]
    if chunk and not chunk[0].isspace() and not chunk[-1].isspace():
        return Piece(p.start + start, p.start + end, chunk)  # nothing to trim
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk) - len(chunk.rstrip())
    s, e = start + lead, max(start + lead, end - trail)
    return Piece(p.start + s, p.start + e, p.text[s:e])


_MARK_RES: Final = {";": re.compile(r";"), ":": re.compile(r":(?=\s)"), ";:": re.compile(r";|:(?=\s)"),
             ":;": re.compile(r";|:(?=\s)")}
_NESTING: Final = re.compile(r"[(\[\]“”\"]")
_STRUCTURE: Final = {marks: re.compile(r"[()\[\]“”\"" + re.escape(marks) + "]") for marks in _MARK_RES}


def top_level_marks(text: str, marks: str) -> list[int]:
    """Positions of the marks that are not inside brackets or quotes."""
    if (marks not in text) if len(marks) == 1 else not any(m in text for m in marks):
        return []
    if not _NESTING.search(text):
        return [m.start() for m in _MARK_RES[marks].finditer(text)]
    depth = 0
    quoted = False
    out = []
    for m in _STRUCTURE[marks].finditer(text):  # (the other characters change nothing below)
        i = m.start()
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        elif ch == "“":
            quoted = True
        elif ch == "”":
            quoted = False
        elif ch == "\"":
            quoted = not quoted
        elif ch in marks and not depth and not quoted:
            if ch == ":" and (i + 1 >= len(text) or not text[i + 1].isspace()):
                continue  # "14:30", "Ảnh:X"
            out.append(i)
    return out


def split_at(p: Piece, cuts: list[int]) -> list[Piece]:
    """Pieces between the cut positions (the marks themselves are dropped)."""
    out = []
    prev = 0
    for c in [*cuts, len(p.text)]:
        part = sub_piece(p, prev, c)
        if part.text:
            out.append(part)
        prev = c + 1
    return out


def strip_bullet(p: Piece) -> Piece:
    m = _BULLET.match(p.text)
    return sub_piece(p, m.end(), len(p.text)) if m else p
