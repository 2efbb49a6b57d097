"""Paragraphs of the cleaned text with what the document says about them.

The summariser reads one cleaned text (every item is a slice of it, so every number shown is in the
source). A `Unit` is one of its paragraphs plus the structure a `documents.Document` knows: a heading
with its level, a list item, a table row, and the headings it stands under. Plain text gets the same
units from the shape of its lines, so reports pasted as text and sent as Word files feed the same
section decision (`summariser.sections`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from summariser.boilerplate import strip_boilerplate
from summariser.normalise import normalise
from summariser.segment import Piece, paragraphs

if TYPE_CHECKING:
    from documents.models import Document, HeaderBlock

UnitKind = Literal["title", "heading", "paragraph", "list_item", "table_row"]

# Numbering of a heading line in plain text: "I.", "II -", "1.", "1.1.", "a)", "Phần thứ nhất", "PHẦN I".
_NUMBERING: Final = re.compile(
    r"^(?:(?P<part>(?:Phần|PHẦN)\s+(?:thứ\s+\w+|THỨ\s+\w+|[IVX]+|\d+))[.:]?"
    r"|(?P<roman>[IVX]{1,4})\s*[.)/-]"
    r"|(?P<deep>\d{1,2}\.\d{1,2}(?:\.\d{1,2})?)\.?"
    r"|(?P<arabic>\d{1,2})\s*[.)/]"
    r"|(?P<letter>[a-zđ])\s*\))\s+"
)
_TERMINAL: Final = (".", "!", "?", "…", ";", '"', "”", ")")


@dataclass(slots=True)
class Unit:
    piece: Piece
    kind: UnitKind = "paragraph"
    level: int = 0
    label: bool = False  # a phone-style label ("Kết quả:", "Nhiệm vụ tháng 12:")
    numbering: str | None = None
    headings: tuple[Unit, ...] = ()  # the headings it stands under, outermost first
    table: int | None = None  # which table a row belongs to
    header_row: bool = False

    @property
    def text(self) -> str:
        return self.piece.text


@dataclass(slots=True)
class Structured:
    """A document turned into the summariser's input: cleaned text, its units, header facts."""

    text: str
    units: list[Unit]
    header: HeaderBlock | None = None
    title: str | None = None
    warnings: list[str] = field(default_factory=list)
    structured: bool = False  # the layout (a file's styles, numbering, header block) told the structure


def clean(text: str) -> str:
    return strip_boilerplate(normalise(text))


def heading_level(text: str) -> tuple[int, str | None]:
    """(level, numbering) of a heading-like line: 1 for "I."/"Phần…", 2 for "1.", 3 for "1.1."/"a)"."""
    m = _NUMBERING.match(text)
    if not m:
        return 0, None
    numbering = text[: m.end()].strip()
    if m.group("part") or m.group("roman"):
        return 1, numbering
    if m.group("arabic"):
        return 2, numbering
    return 3, numbering


def _is_heading_line(text: str) -> bool:
    """Plain text: a short line without a final stop, or a short label ending in ':'."""
    words = len(text.split())
    if text.endswith(":"):
        return words <= 15
    return words <= 15 and not text.endswith(_TERMINAL) and not text[:1].islower()


def _nest(units: list[Unit]) -> None:
    """Fill `headings`: a heading closes the ones at its level and below."""
    stack: list[Unit] = []
    for u in units:
        if u.kind == "heading":
            while stack and stack[-1].level >= u.level:
                stack.pop()
            u.headings = tuple(stack)
            stack.append(u)
        else:
            u.headings = tuple(stack)


def units_from_text(cleaned: str) -> list[Unit]:
    """Units of plain cleaned text: the first line a title when it reads as one, short unpunctuated
    lines headings (numbered ones at their level, others below the numbered), the rest paragraphs."""
    pars = paragraphs(cleaned)
    out: list[Unit] = []
    for i, p in enumerate(pars):
        level, numbering = heading_level(p.text)
        if i == 0 and len(pars) > 1 and len(p.text.split()) <= 40 and not p.text.endswith(_TERMINAL):
            out.append(Unit(p, "title"))
        elif len(pars) > 1 and _is_heading_line(p.text):
            out.append(Unit(p, "heading", level or 4, label=p.text.endswith(":"), numbering=numbering))
        elif p.text[:1] in "-–+•*·":
            out.append(Unit(p, "list_item", 2 if p.text[:1] == "+" else 1))
        else:
            out.append(Unit(p, "paragraph"))
    _nest(out)
    return out


def from_document(doc: Document) -> Structured:
    """The cleaned text of a Document's blocks (header block and closing left out: they produce no
    items) and one unit per line. Each block is cleaned on its own so a unit never spans two blocks."""
    lines: list[tuple[str, Unit]] = []
    tables = 0
    for b in doc.blocks:
        if b.kind == "table":
            tables += 1
            for r, row in enumerate(b.rows):
                cells = [" ".join(normalise(c).split()) for c in row]
                if any(cells):
                    lines.append((" | ".join(cells), Unit(Piece(0, 0, ""), "table_row", table=tables,
                                                          header_row=r < b.header_rows)))
            continue
        # (a heading is often in capitals, which web-page cleaning takes for a byline or signature)
        text = normalise(b.text) if b.kind == "heading" else clean(b.text)
        if not text.strip():
            continue
        for k, line in enumerate(t for t in text.split("\n") if t.strip()):
            if b.kind == "heading" and k == 0:
                shown = f"{b.numbering} {line.strip()}" if b.numbering else line.strip()
                unit = Unit(Piece(0, 0, ""), "heading", max(1, b.level), label=b.label, numbering=b.numbering)
            elif b.kind == "list_item":
                shown = line.strip()
                unit = Unit(Piece(0, 0, ""), "list_item", max(1, b.level), numbering=b.numbering)
            else:
                shown = line.strip()
                unit = Unit(Piece(0, 0, ""), "paragraph")
            lines.append((shown, unit))
    text = "\n".join(s for s, _ in lines)
    units: list[Unit] = []
    pos = 0
    for shown, unit in lines:
        unit.piece = Piece(pos, pos + len(shown), shown)
        units.append(unit)
        pos += len(shown) + 1
    _nest(units)
    title = None
    if doc.header is not None and doc.header.subject:
        title = " ".join(normalise(doc.header.subject).split())
    elif doc.title:
        title = " ".join(normalise(doc.title).split())
    structured = doc.header is not None or doc.source in ("docx", "pdf", "ocr") or any(
        b.kind == "heading" for b in doc.blocks)
    return Structured(text, units, doc.header, title, list(doc.warnings), structured)
