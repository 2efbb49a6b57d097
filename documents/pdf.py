"""PDF -> `Document`: the text layer laid out again as paragraphs, tables and a two-column header.

A PDF only knows glyphs at positions, so a report comes out of a naive extractor one *printed line*
at a time ("...đạt 8.458.730" / "triệu đồng, đạt 77,9%..."), with running headers and page numbers
in the middle of sentences. This module rebuilds what the layout says (wrapped lines joined, page
furniture dropped, ruled tables as tables, bold and centred lines marked) and leaves the meaning of
headings and the header block to `documents.structure.build`.

PDFs come from strangers. Everything that protects the process runs before pdfminer interprets a
page (size, %%EOF, encryption, page count, and the decoded size, token count and text objects of
every page's content with the forms it draws, bounded by pypdf's decompression limits) and while it
does (characters, and a CPU budget per page and per file). Pages without a text layer are scans:
they go to `documents.ocr`.

The layout half (`Word`, `Line`, `PageLayout`, `assemble`) works on positioned words from any source;
`documents.ocr` feeds it Tesseract's words so scans are laid out by the same rules.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from documents.errors import ReadError
from documents.models import Block, Document

__all__ = [
    "MAX_PDF_BYTES",
    "MAX_PDF_PAGES",
    "OCR_WARNING",
    "Line",
    "PageLayout",
    "Word",
    "assemble",
    "group_lines",
    "read_pdf",
]

log = logging.getLogger(__name__)

MAX_PDF_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
MAX_PDF_PAGES = 300
# Per page, counting a form XObject once per use. A dense text page is 10-50 KB and ~3,000 tokens;
# pdfminer spends ~4 us per token, so these bound one page to a couple of seconds.
MAX_PAGE_CONTENT_BYTES = 4_000_000
MAX_PAGE_TOKENS = 400_000
MAX_PAGE_TEXT_OBJECTS = 20_000  # BT ... ET; a generator writing one per word stays far below
MAX_PAGE_CHARS = 40_000  # an A4 page in 6 pt type holds ~15,000
# The whole file: the 300 pages sharing one stream of "BT ET" x 990,000 is 1.8 G tokens here.
MAX_DOC_CONTENT_BYTES = 60_000_000
MAX_DOC_TOKENS = 4_000_000
MAX_DOC_CHARS = 1_500_000
MAX_FORM_DEPTH = 12
MAX_CMAP_SPAN = 2_000_000  # code points a font's ToUnicode/Encoding ranges expand to (pdfminer loops)
MAX_FONT_FILE_BYTES = 16_000_000
MAX_TABLE_EDGES = 3_000  # ruled-table search is quadratic in edges: skip it on drawings
PAGE_CPU_SECONDS = 15.0
DOC_CPU_SECONDS = 120.0
MIN_PAGE_LETTERS = 20  # fewer on a page with an image: a scan (or a photo of one) -> OCR

_BROKEN = "Tệp PDF bị hỏng, không đọc được."
_ENCRYPTED = "Tệp PDF được đặt mật khẩu, không đọc được; vui lòng gửi bản không đặt mật khẩu."
_COMPLEX = "Tệp PDF quá phức tạp (trang {page}), không xử lý được; vui lòng gửi bản .docx hoặc bản PDF in lại."
OCR_WARNING = ("Văn bản được nhận dạng từ ảnh (OCR): có thể sai chữ hoặc sai số, "
                "cần đối chiếu các số liệu với bản gốc.")


class _TooComplex(Exception):
    """A page over one of the budgets; turned into ReadError by read_pdf."""

    def __init__(self, page: int, what: str) -> None:
        super().__init__(f"page {page}: {what}")
        self.page = page
        self.what = what


# ============================================================================================ layout
_BOLD_FONT = re.compile(r"bold|black|heavy|demi|semibold|,b$", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_LOWER_START = re.compile(r"^[\"'“‘(\[]*(?:[^\W\d_]|\d)")
_CID = re.compile(r"\(cid:\d+\)")
_BULLET = re.compile(r"^(?:[-–—+•*·▪►➢○●◦✓❖]\s*\S|[-+]\S)")
_NUMBERING = re.compile(
    r"^[IVXLC]{1,6}\.\s|^(?:\d{1,2}(?:\.\d{1,2}){0,3}|[a-zđA-ZĐ])[.)]\s"
    r"|^\d{1,2}(?:\.\d{1,2}){1,3}\s"
    r"|^(?:Phần|Chương|Mục|Điều)\s+(?:thứ\s+[^\W\d_]+|[IVXLC]{1,6}|\d{1,3})\b",
)
_HARD_END = re.compile(r"[.!?…](?:[\"'”’)\]»]*)$")
_SOFT_END = re.compile(r"[;:](?:[\"'”’)\]»]*)$")
_DECORATION = re.compile(r"^[\s*_\-–—=.•~·…/\\|]+$")
_PAGE_NUMBER = re.compile(
    r"^[\s\-–—.·]*(?:(?:trang|page|tr\.)\s*)?\d{1,4}(?:\s*(?:/|trên|of)\s*\d{1,4})?[\s\-–—.·]*$",
    re.IGNORECASE,
)
_CLOSING_START = re.compile(r"^n[ơo]i\s+nh[ậa]n\b", re.IGNORECASE)
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
_FIRST_WORD = re.compile(r"^([^\W\d_]+)")
_SOFT_HYPHEN = "\u00ad"
_BODY_NAME = re.compile(
    r"^(?:ĐẢNG BỘ|ĐẢNG ỦY|ĐẢNG ĐOÀN|BAN CÁN SỰ|CHI BỘ|HUYỆN ỦY|TỈNH ỦY|THÀNH ỦY|QUẬN ỦY|THỊ ỦY|ỦY BAN|UBND|HĐND|"
    r"HỘI ĐỒNG|SỞ|BỘ|BAN|PHÒNG|CỤC|TỔNG CỤC|CHI CỤC|VĂN PHÒNG|TRƯỜNG|CÔNG AN|BỘ CHỈ HUY|MẶT TRẬN|ĐOÀN|"
    r"LIÊN ĐOÀN|HỘI|THANH TRA|TÒA ÁN|VIỆN KIỂM SÁT|KHO BẠC|NGÂN HÀNG|TRUNG TÂM|BỆNH VIỆN)\b"
)
_HEADER_GAP = 1.2  # in font sizes: a wider space cuts a header-block line into its two columns
_CLOSING_GAP = 1.5


@dataclass(slots=True)
class Word:
    """A word at its position: PDF points from pdfplumber, or pixels scaled to points for OCR."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False


class Line:
    """Words on one baseline, left to right."""

    __slots__ = ("bold", "bottom", "page", "size", "text", "top", "words", "x0", "x1")

    def __init__(self, words: Sequence[Word], page: int) -> None:
        self.words = sorted(words, key=lambda w: w.x0)
        self.page = page
        self.x0 = min(w.x0 for w in self.words)
        self.x1 = max(w.x1 for w in self.words)
        self.top = min(w.top for w in self.words)
        self.bottom = max(w.bottom for w in self.words)
        self.size = statistics.median(w.size for w in self.words) or 1.0
        letters = [w for w in self.words if _LETTER.search(w.text)] or self.words  # "2022" alone: its font
        self.bold = all(w.bold for w in letters)
        self.text = _words_text(self.words)

    def segments(self, gap: float) -> list[list[Word]]:
        """The line cut where the space between two words is wider than `gap` sizes."""
        parts: list[list[Word]] = [[self.words[0]]]
        for prev, word in itertools.pairwise(self.words):
            if word.x0 - prev.x1 > gap * max(prev.size, word.size):
                parts.append([])
            parts[-1].append(word)
        return parts

    def __repr__(self) -> str:
        return f"Line(p{self.page} {self.x0:.0f}-{self.x1:.0f} @{self.top:.0f}: {self.text!r})"


def _words_text(words: Sequence[Word]) -> str:
    out: list[str] = []
    prev: Word | None = None
    for w in words:
        if prev is not None:
            # two runs of one word split by a change of font have no space between them
            out.append("" if w.x0 - prev.x1 < 0.08 * max(w.size, prev.size) else " ")
        out.append(w.text)
        prev = w
    return "".join(out)


def group_lines(words: Iterable[Word], page: int) -> list[Line]:
    """Words into lines: a word belongs to the line its vertical extent mostly overlaps."""
    lines: list[list[Word]] = []
    spans: list[tuple[float, float]] = []
    for w in sorted(words, key=lambda w: ((w.top + w.bottom) / 2, w.x0)):
        if spans:
            top, bottom = spans[-1]
            overlap = min(bottom, w.bottom) - max(top, w.top)
            if overlap >= 0.5 * min(bottom - top, w.bottom - w.top):
                lines[-1].append(w)
                spans[-1] = (min(top, w.top), max(bottom, w.bottom))
                continue
        lines.append([w])
        spans.append((w.top, w.bottom))
    return [Line(ws, page) for ws in lines]


@dataclass
class Table:
    """A ruled table found on a page: its top edge places it among the lines."""

    top: float
    bottom: float
    rows: list[list[str]]


@dataclass
class PageLayout:
    """One page's lines (and tables) in one unit system; `gap_slack` in sizes for paragraph gaps."""

    number: int
    width: float
    height: float
    lines: list[Line]
    tables: list[Table] = field(default_factory=list)
    ocr: bool = False
    gap_slack: float = 0.35  # OCR boxes include diacritics: its vertical gaps are noisier
    left: float = 0.0
    right: float = 0.0
    line_gap: float = 0.0
    indented: bool = False  # paragraphs start with a first-line indent: a line at the margin continues


class _Zone:
    """Lines of a two-column area (header block, Nơi nhận + signature) re-emitted column by column."""

    def __init__(self, left: list[Line], right: list[Line], *, header: bool) -> None:
        self.left = left
        self.right = right
        self.header = header


def assemble(pages: list[PageLayout]) -> list[Block]:
    """Positioned lines of every page -> paragraph and table blocks in reading order."""
    _drop_furniture(pages)
    doc_left, doc_right = _margins([ln for p in pages for ln in p.lines])
    for page in pages:
        page.lines = [ln for ln in page.lines if not _DECORATION.match(ln.text)]
        if page.ocr:
            _unruled_tables(page)
        if len(page.lines) >= 8:
            page.left, page.right = _margins(page.lines)
        else:
            page.left, page.right = doc_left, doc_right
        page.line_gap = _typical_gap(page.lines)
    indented = _indent_style(pages)
    for page in pages:
        page.indented = indented
    out = _Builder()
    first = next((p for p in pages if p.lines), None)
    for page in pages:
        lines = page.lines
        items: list[tuple[float, object]] = []
        start = 0
        if page is first:
            zone, start = _header_zone(page)
            if zone is not None:
                items.append((lines[0].top if lines else 0.0, zone))
        end = len(lines)
        closing = _closing_zone(page, start)
        if closing is not None:
            zone, end = closing
            items.append((lines[end].top, zone))
        items += [(ln.top, ln) for ln in lines[start:end]]
        items += [(t.top, t) for t in page.tables]
        items.sort(key=lambda item: item[0])
        for _, item in items:
            if isinstance(item, Line):
                out.add_line(item, page)
            elif isinstance(item, Table):
                out.add_table(item, page.number)
            elif isinstance(item, _Zone):
                out.flush()
                for column in (item.left, item.right):
                    width = max((ln.x1 - ln.x0 for ln in column), default=0.0) if item.header else None
                    for ln in column:
                        out.add_line(ln, page, zone=True, column_width=width)
                    out.flush()
    out.flush()
    return out.blocks


class _Builder:
    """Joins lines into paragraphs; tables and zone columns cut paragraphs."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.lines: list[tuple[Line, PageLayout]] = []
        self.zone = False
        self.last_table: Block | None = None

    def add_line(self, line: Line, page: PageLayout, *, zone: bool = False, column_width: float | None = None) -> None:
        if self.lines and (zone != self.zone or not _continues(self.lines[-1], (line, page), zone, column_width)):
            self.flush()
        self.zone = zone
        self.lines.append((line, page))
        self.last_table = None

    def add_table(self, table: Table, page_number: int) -> None:
        self.flush()
        prev = self.last_table
        if prev is not None and prev.rows and len(prev.rows[0]) == len(table.rows[0]):
            # a table continued on the next page, often with its header row repeated
            rows = table.rows[1:] if table.rows[0] == prev.rows[0] else table.rows
            prev.rows.extend(rows)
            return
        block = Block(kind="table", rows=table.rows, header_rows=1, page=page_number)
        self.blocks.append(block)
        self.last_table = block

    def flush(self) -> None:
        if not self.lines:
            return
        text = self.lines[0][0].text
        for line, _ in self.lines[1:]:
            text = join_wrapped(text, line.text)
        text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", text).strip())
        if text:
            bold = all(ln.bold or _emphasised(ln, pg) for ln, pg in self.lines)
            self.blocks.append(Block(kind="paragraph", text=text, bold=bold, page=self.lines[0][0].page))
        self.lines = []


def _starts_lower(text: str) -> bool:
    """Lower case or a figure: what a wrapped sentence continues with (numbering aside)."""
    m = _LOWER_START.match(text)
    if m is None:
        return False
    ch = m.group(0)[-1]
    return ch.isdigit() or ch.islower()


def _caps(text: str) -> bool:
    letters = _LETTER.findall(text)
    return len(letters) >= 2 and all(not c.islower() for c in letters)


def _centred(line: Line, page: PageLayout) -> bool:
    if page.right <= page.left:
        return False
    centre = (page.left + page.right) / 2
    s = line.size
    return (abs((line.x0 + line.x1) / 2 - centre) <= 2 * s and line.x0 - page.left > 2 * s
            and page.right - line.x1 > 2 * s)


def _emphasised(line: Line, page: PageLayout) -> bool:
    """Centred or all-capitals short lines read as headings even in a regular font."""
    return len(line.words) <= 20 and (_caps(line.text) or _centred(line, page))


def _at_margin(line: Line, page: PageLayout) -> bool:
    return abs(line.x0 - page.left) <= 1.0 * line.size


def _full(line: Line, page: PageLayout) -> bool:
    """Ends near the right margin: the line was wrapped, not ended."""
    return line.x1 >= page.right - 8 * line.size


def _caps_line(text: str) -> bool:
    """All capitals in two words or more: a heading or a name; a lone acronym ("OCOP;") that a
    paragraph wrapped onto its own line is not."""
    return _caps(text) and sum(1 for w in text.split() if _LETTER.search(w)) >= 2


def _symmetric(line: Line, page: PageLayout) -> bool:
    return page.right > page.left and abs((line.x0 + line.x1) / 2 - (page.left + page.right) / 2) <= 2 * line.size


def _continues(prev_item: tuple[Line, PageLayout], item: tuple[Line, PageLayout], zone: bool,
               column_width: float | None = None) -> bool:
    """Whether `line` continues the paragraph `prev` ends. Never after a bullet, numbering, a change
    of weight or size, a bigger gap, or a heading in capitals. A line that did not end a sentence
    continues when the next starts at the left margin (and it filled its width) or in lower case;
    after a sentence end only when paragraphs of this file start indented (a line back at the
    margin is then a wrapped one). Centred lines join when the one above filled the width."""
    prev, prev_page = prev_item
    line, page = item
    text = line.text
    if _BULLET.match(text) or _NUMBERING.match(text):
        return False
    if prev.bold != line.bold or abs(prev.size - line.size) > 0.15 * max(prev.size, line.size):
        return False
    if zone:  # a column of the header block or of the signature
        if _caps(prev.text) and _caps(text):
            # one name wrapped in its header column ("ỦY BAN NHÂN DÂN HUYỆN" / "TĨNH GIA"), not
            # two names ("ĐẢNG BỘ TỈNH" / "HUYỆN ỦY": a body's name starts the second); in a
            # signature block capitals lines are always separate ("T/M ..." / "BÍ THƯ")
            return (column_width is not None and prev.x1 - prev.x0 >= 0.8 * column_width  # "...TP." / "HCM"
                    and (not _BODY_NAME.match(text) or prev.text.endswith((" VÀ", ","))))
        return not _caps(prev.text) and not _caps(text) and _starts_lower(text)
    if _caps_line(prev.text):
        return False
    if _caps_line(text) and not (_full(prev, prev_page) and _at_margin(line, page) and not _HARD_END.search(prev.text)):
        return False  # a heading in capitals; unless a full line wrapped onto acronyms ("MTTQ TP;")
    lower = _starts_lower(text)
    if prev_page is page:
        gap = line.top - prev.bottom
        if gap < -0.5 * line.size or gap > page.line_gap + page.gap_slack * line.size:
            return False  # a bigger gap (or a line above the previous one: another column)
    if (_centred(line, page) or (_symmetric(line, page) and not _at_margin(line, page))) and _symmetric(
            prev, prev_page):
        # centred text (a subject, "(Tại hội nghị ...)"): a line that filled the width was wrapped
        if _full(prev, prev_page) and not _HARD_END.search(prev.text):
            return True
        return lower
    at_margin = _at_margin(line, page)
    if _HARD_END.search(prev.text):
        return at_margin and _full(prev, prev_page) and (lower or page.indented)
    if _SOFT_END.search(prev.text):
        return lower and at_margin
    return (at_margin and (_full(prev, prev_page) or lower)) or lower


def join_wrapped(text: str, nxt: str) -> str:
    """Two printed lines of one paragraph as one text; a hyphen at the break is undone only where
    it split a word (a fragment that is no Vietnamese syllable), kept where it joins two words."""
    if text.endswith(_SOFT_HYPHEN):
        return text[:-1] + nxt
    m = _HYPHEN_END.search(text)
    if m is not None and not text.endswith(" -"):
        first = _FIRST_WORD.match(nxt)
        if first is not None and first.group(1)[0].islower():
            left, right = m.group(1), first.group(1)
            if not (_syllable(left) and _syllable(right)):
                return text[:-1] + nxt  # "inter-" / "national", "triể-" / "n"
        return text + nxt  # "kinh tế-" / "xã hội", "Covid-" / "19", "Mác-" / "Lênin"
    return f"{text} {nxt}"


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"(?:[aăâeêioôơuưy]{1,3})"
    r"(?:ch|ng|nh|[cmnpt])?$"
)


def _syllable(word: str) -> bool:
    """Whether `word` has the shape of one Vietnamese syllable (onset, vowels, final consonant)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return bool(_SYLLABLE.match(base))


def _indent_style(pages: Sequence[PageLayout]) -> bool:
    """Whether this document starts its paragraphs indented: look at the lines after a line that
    surely ended one (a sentence end well before the right margin)."""
    indented = flush = 0
    for page in pages:
        for prev, line in itertools.pairwise(page.lines):
            if _HARD_END.search(prev.text) and not _full(prev, page) and _at_margin(prev, page):
                if _BULLET.match(line.text) or _NUMBERING.match(line.text) or _caps(line.text):
                    continue
                if line.x0 - page.left > 1.5 * line.size and line.x1 >= page.right - 2 * line.size:
                    indented += 1
                elif _at_margin(line, page):
                    flush += 1
    return indented >= 3 and indented >= 4 * flush


def _margins(lines: Sequence[Line]) -> tuple[float, float]:
    """The left edge most lines start at and the right edge most full lines end at."""
    if not lines:
        return 0.0, 0.0
    need = max(2, len(lines) // 5)
    size = statistics.median(ln.size for ln in lines)
    xs = sorted(ln.x0 for ln in lines)
    left = next((x for x in xs if sum(1 for y in xs if abs(y - x) <= 0.5 * size) >= need), xs[0])
    ends = sorted((ln.x1 for ln in lines), reverse=True)
    right = next((x for x in ends if sum(1 for y in ends if abs(y - x) <= 1.0 * size) >= need), ends[0])
    return left, max(right, left)


def _typical_gap(lines: Sequence[Line]) -> float:
    gaps = [b.top - a.bottom for a, b in itertools.pairwise(lines)
            if abs(a.size - b.size) <= 0.15 * a.size and -0.5 * a.size <= b.top - a.bottom <= 3 * a.size]
    return statistics.median(gaps) if gaps else 0.3 * (statistics.median(ln.size for ln in lines) if lines else 10)


def _unruled_tables(page: PageLayout) -> None:
    """OCR sees no rules: runs of two or more lines cut into three or more cells by wide gaps are a
    table (columns from the row with the most cells; a wrapped cell's line joins the row above)."""
    lines = page.lines
    split = [ln.segments(2.0) for ln in lines]
    keep: list[Line] = []
    i = 0
    while i < len(lines):
        j = i
        rows: list[list[list[Word]]] = []
        while j < len(lines):
            if len(split[j]) >= 3:
                rows.append(split[j])
            elif rows and j + 1 < len(lines) and len(split[j + 1]) >= 3 and len(split[j]) < 3:
                rows[-1] = rows[-1] + split[j]  # a wrapped cell: its words join the row above
            else:
                break
            j += 1
        if len(rows) >= 2:
            page.tables.append(Table(lines[i].top, lines[j - 1].bottom, _cells(rows)))
            i = j
        else:
            keep.append(lines[i])
            i += 1
    page.lines = keep


def _cells(rows: list[list[list[Word]]]) -> list[list[str]]:
    widest = max(rows, key=len)
    columns = [(seg[0].x0, seg[-1].x1) for seg in widest]
    out: list[list[str]] = []
    for row in rows:
        cells: list[list[Word]] = [[] for _ in columns]
        for seg in row:
            x0, x1 = seg[0].x0, seg[-1].x1
            best = max(range(len(columns)), key=lambda k: (min(x1, columns[k][1]) - max(x0, columns[k][0]),
                                                            -abs((x0 + x1) / 2 - sum(columns[k]) / 2)))
            cells[best].extend(seg)
        out.append([unicodedata.normalize("NFC", _words_text(sorted(c, key=lambda w: (w.top, w.x0))))
                    if c else "" for c in cells])
    return out


def _furniture_key(line: Line) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line.text.strip().lower()))


def _drop_furniture(pages: list[PageLayout]) -> None:
    """Running headers/footers (same text, same place, most pages) and page numbers go."""
    candidates: list[tuple[PageLayout, Line, str]] = []
    for page in pages:
        lines = page.lines
        if not lines:
            continue
        for ln in {id(x): x for x in (*lines[:2], *lines[-2:])}.values():
            near_top = ln.bottom <= 0.15 * page.height
            near_bottom = ln.top >= 0.85 * page.height
            if near_top or near_bottom:
                candidates.append((page, ln, ("t" if near_top else "b") + _furniture_key(ln)))
    with_lines = sum(1 for p in pages if p.lines)
    needed = max(2, -(-with_lines * 1 // 2))  # at least half of the pages, and two
    groups: dict[str, list[tuple[PageLayout, Line]]] = {}
    for page, ln, key in candidates:
        groups.setdefault(key, []).append((page, ln))
    drop: set[int] = set()
    for members in groups.values():
        tops = sorted(ln.top for _, ln in members)
        size = statistics.median(ln.size for _, ln in members)
        centre = tops[len(tops) // 2]
        same_place = [(p, ln) for p, ln in members if abs(ln.top - centre) <= 2 * size]
        if len({p.number for p, _ in same_place}) >= needed:
            drop.update(id(ln) for _, ln in same_place)
    for _, ln, _ in candidates:
        if _PAGE_NUMBER.match(ln.text):
            drop.add(id(ln))
    for page in pages[1:]:
        # a running header seen once (a two-page file): small type, alone above the body of a
        # later page (the first page's top is the header block, also in small type: kept)
        lines = page.lines
        if len(lines) >= 3 and lines[0].bottom <= 0.12 * page.height:
            body = statistics.median(ln.size for ln in lines)
            if lines[0].size <= 0.85 * body and lines[1].top - lines[0].bottom > 1.5 * body:
                drop.add(id(lines[0]))
    for page in pages:
        page.lines = [ln for ln in page.lines if id(ln) not in drop]


def _column_lines(lines: Sequence[Line], gap: float, page: int) -> tuple[list[Line], list[Line]] | None:
    """Split lines of a two-column area: the left segment of a two-segment line goes left, the rest
    right; a one-segment line goes to the column whose centre it is nearest."""
    split = [ln.segments(gap) for ln in lines]
    lefts = [(s[0][0].x0 + s[0][-1].x1) / 2 for s in split if len(s) >= 2]
    rights = [(s[-1][0].x0 + s[-1][-1].x1) / 2 for s in split if len(s) >= 2]
    if not lefts:
        return None
    lc, rc = statistics.median(lefts), statistics.median(rights)
    left: list[Line] = []
    right: list[Line] = []
    for segs in split:
        # each piece to the column whose centre is nearer: "Hưng Yên, ngày    tháng    năm 2013"
        # (blanks left for the date) is cut by its gaps but stays in the right column
        sides: tuple[list[Word], list[Word]] = ([], [])
        for seg in segs:
            centre = (seg[0].x0 + seg[-1].x1) / 2
            sides[0 if abs(centre - lc) <= abs(centre - rc) else 1].extend(seg)
        for side, column in zip(sides, (left, right), strict=True):
            if side:
                column.append(Line(side, page))
    return left, right


def _header_zone(page: PageLayout) -> tuple[_Zone | None, int]:
    """The header block at the top of the first page: issuer on the left, national line on the
    right, on the same baselines. Ends at the first line centred on the page ("BÁO CÁO")."""
    lines = page.lines[:12]
    # centred column lines, not justified: even a narrow gap (a long national line) splits them
    if not any(len(ln.segments(_HEADER_GAP)) >= 2 for ln in lines[:3]):
        return None, 0
    split = [ln.segments(_HEADER_GAP) for ln in lines]
    lefts = [(s[0][0].x0 + s[0][-1].x1) / 2 for s in split if len(s) >= 2]
    rights = [(s[-1][0].x0 + s[-1][-1].x1) / 2 for s in split if len(s) >= 2]
    lc, rc = statistics.median(lefts), statistics.median(rights)
    mid = (page.left + page.right) / 2 if page.right > page.left else page.width / 2
    end = 0
    for segs in split:
        if len(segs) == 1:
            centre = (segs[0][0].x0 + segs[0][-1].x1) / 2
            if abs(centre - mid) < min(abs(centre - lc), abs(centre - rc)):
                break
        end += 1
    columns = _column_lines(page.lines[:end], _HEADER_GAP, page.number)
    if columns is None:
        return None, 0
    return _Zone(*columns, header=True), end


def _closing_zone(page: PageLayout, start: int) -> tuple[_Zone, int] | None:
    """From "Nơi nhận:" to the end of the page, when the signature block stands beside it."""
    for i in range(start, len(page.lines)):
        first = page.lines[i].segments(_CLOSING_GAP)[0]
        if _CLOSING_START.match(_words_text(first)):
            columns = _column_lines(page.lines[i:], _CLOSING_GAP, page.number)
            return (_Zone(*columns, header=False), i) if columns is not None else None
    return None


# ============================================================================================ reading
def read_pdf(data: bytes) -> Document:
    """A PDF report as a Document; scanned pages through OCR; ReadError for anything unreadable."""
    from documents.structure import build

    _check_bytes(data)
    started = time.thread_time()
    try:
        reader = _open_pypdf(data)
        count = _page_count(reader)
        _check_content(reader, count)
        try:
            pages, scanned, blank = _read_text_layer(data, count, started)
        except (ReadError, _TooComplex):
            raise
        except Exception as exc:  # pdfminer on a damaged file: say so, never crash the caller
            log.warning("pdfminer failed: %r", exc)
            raise ReadError(_BROKEN, f"pdfminer failed: {exc!r}") from exc
    except _TooComplex as exc:
        raise ReadError(_COMPLEX.format(page=exc.page), f"PDF over budget: {exc}") from exc
    warnings: list[str] = []
    ocr_used = False
    if scanned:
        ocr_used = _ocr_pages(data, pages, scanned, warnings)
    blocks = assemble(pages)
    if not blocks:
        if scanned:
            raise ReadError("Tệp PDF là bản quét nhưng không nhận dạng được chữ nào (ảnh mờ hoặc không có chữ).",
                            f"OCR found no text on {len(scanned)} scanned pages")
        raise ReadError("Tệp PDF không có nội dung văn bản.", f"no text in PDF ({blank} blank pages)")
    text_pages = {p.number for p in pages if p.lines and not p.ocr}
    all_ocr = ocr_used and not text_pages
    if ocr_used:
        if all_ocr:
            warnings.insert(0, OCR_WARNING)
        else:
            done = ", ".join(str(p.number) for p in pages if p.ocr)
            warnings.insert(0, f"Trang {done} được nhận dạng từ ảnh (OCR): cần đối chiếu số liệu trên các trang "
                               "này với bản gốc.")
    doc = build(blocks, source="ocr" if all_ocr else "pdf")
    doc.ocr = ocr_used
    doc.warnings = [*doc.warnings, *warnings]
    return doc


def _check_bytes(data: bytes) -> None:
    if len(data) > MAX_PDF_BYTES:
        raise ReadError(f"Tệp quá lớn (tối đa {MAX_PDF_BYTES // (1024 * 1024)} MB).", f"PDF of {len(data)} bytes")
    if b"%PDF-" not in data[:1024]:
        raise ReadError("Tệp không phải là PDF hợp lệ.", "no %PDF- header")
    if b"%%EOF" not in data[-2048:]:
        # parsers rebuild a truncated file and hand back part of the text: better to say so
        raise ReadError("Tệp PDF bị hỏng hoặc không đầy đủ, không đọc được.", "truncated PDF (no %%EOF)")


def _open_pypdf(data: bytes) -> Any:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise ReadError(_BROKEN, f"cannot open PDF: {exc!r}") from exc
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # an empty user password is common and harmless
        except Exception:
            opened = False
        if not opened:
            raise ReadError(_ENCRYPTED, "encrypted PDF")
    return reader


def _page_count(reader: Any) -> int:
    try:
        count = len(reader.pages)
    except Exception as exc:
        raise ReadError(_BROKEN, f"cannot read the page tree: {exc!r}") from exc
    if count == 0:
        raise ReadError("Tệp PDF không có trang nào.", "PDF without pages")
    if count > MAX_PDF_PAGES:
        raise ReadError(f"Tệp PDF quá dài (tối đa {MAX_PDF_PAGES} trang).", f"PDF with {count} pages")
    return count


# ---------------------------------------------------------------------------------------- budgets
_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do(?![^\s/\[\]()<>{}%])")
_RANGE = re.compile(rb"<([0-9A-Fa-f]{1,8})>\s*<([0-9A-Fa-f]{1,8})>")
_RANGE_SECTION = re.compile(rb"begin(?:bf|cid)range(.*?)end(?:bf|cid)range", re.DOTALL)


@dataclass(slots=True)
class _Cost:
    size: int = 0
    tokens: int = 0
    text_objects: int = 0

    def add(self, other: _Cost, times: int = 1) -> None:
        self.size += other.size * times
        self.tokens += other.tokens * times
        self.text_objects += other.text_objects * times


def _check_content(reader: Any, count: int) -> None:
    """Decoded size, tokens and text objects of each page (forms counted per use), fonts' CMaps:
    all before pdfminer interprets anything. pypdf decodes with its own output limits (75 MB)."""
    memo: dict[int, tuple[Any, _Cost]] = {}
    fonts: set[int] = set()
    total = _Cost()
    for number in range(1, count + 1):
        try:
            page = reader.pages[number - 1]
            cost = _Cost()
            contents = page.get("/Contents")
            streams = _stream_list(contents)
            resources = _resolve(page.get("/Resources"))
            _check_fonts(resources, fonts, number)
            for stream in streams:
                cost.add(_stream_cost(stream, resources, memo, fonts, number, 0, set()))
        except (_TooComplex, ReadError):
            raise
        except Exception as exc:
            if type(exc).__name__ == "LimitReachedError":
                raise ReadError(_COMPLEX.format(page=number), f"page {number}: decompression limit: {exc}") from exc
            raise ReadError(_BROKEN, f"page {number}: cannot read contents: {exc!r}") from exc
        for what, value, limit in (("content bytes", cost.size, MAX_PAGE_CONTENT_BYTES),
                                   ("tokens", cost.tokens, MAX_PAGE_TOKENS),
                                   ("text objects", cost.text_objects, MAX_PAGE_TEXT_OBJECTS)):
            if value > limit:
                raise ReadError(_COMPLEX.format(page=number), f"page {number}: {value} {what} > {limit}")
        total.add(cost)
        for what, value, limit in (("content bytes", total.size, MAX_DOC_CONTENT_BYTES),
                                   ("tokens", total.tokens, MAX_DOC_TOKENS)):
            if value > limit:
                raise ReadError(_COMPLEX.format(page=number), f"file up to page {number}: {value} {what} > {limit}")


def _resolve(obj: Any) -> Any:
    return obj.get_object() if obj is not None and hasattr(obj, "get_object") else obj


def _stream_list(contents: Any) -> list[Any]:
    contents = _resolve(contents)
    if contents is None:
        return []
    if isinstance(contents, list):
        return [s for s in (_resolve(c) for c in contents) if hasattr(s, "get_data")]
    return [contents] if hasattr(contents, "get_data") else []


def _stream_cost(stream: Any, resources: Any, memo: dict[int, tuple[Any, _Cost]], fonts: set[int], page: int,
                 depth: int, active: set[int]) -> _Cost:
    """Cost of interpreting `stream`, with every form it draws, as often as it draws it."""
    key = id(stream)
    if key in memo:
        return memo[key][1]
    if key in active:  # pdfminer refuses to re-enter a form it is drawing
        return _Cost()
    if depth > MAX_FORM_DEPTH:
        raise _TooComplex(page, "forms nested too deep")
    data = stream.get_data()
    cost = _Cost(len(data), len(data.split()) + sum(data.count(c) for c in (b"/", b"[", b"(", b"<")),
                 data.count(b"BT"))
    if cost.size > MAX_PAGE_CONTENT_BYTES:
        raise ReadError(_COMPLEX.format(page=page), f"page {page}: one stream of {cost.size} bytes")
    uses = Counter(m.group(1) for m in _DO.finditer(data)) if b"Do" in data else Counter()
    if uses:
        xobjects = _resolve(_resolve(resources).get("/XObject")) if resources is not None else None
        active.add(key)
        for name, times in uses.items():
            xobj = _resolve(xobjects.get("/" + name.decode("latin-1"))) if xobjects is not None else None
            if xobj is None or not hasattr(xobj, "get_data") or xobj.get("/Subtype") != "/Form":
                continue
            form_resources = _resolve(xobj.get("/Resources")) or resources
            _check_fonts(form_resources, fonts, page)
            sub = _stream_cost(xobj, form_resources, memo, fonts, page, depth + 1, active)
            cost.add(sub, times)
            if cost.tokens > MAX_PAGE_TOKENS or cost.size > MAX_PAGE_CONTENT_BYTES:
                raise ReadError(_COMPLEX.format(page=page), f"page {page}: forms drawn {times} times")
        active.discard(key)
    memo[key] = (stream, cost)
    return cost


def _check_fonts(resources: Any, seen: set[int], page: int) -> None:
    """pdfminer expands every range of a font's ToUnicode/Encoding CMap one code at a time."""
    resources = _resolve(resources)
    if resources is None or not hasattr(resources, "get"):
        return
    font_dict = _resolve(resources.get("/Font"))
    if font_dict is None or not hasattr(font_dict, "values"):
        return
    for font in font_dict.values():
        font = _resolve(font)
        if font is None or id(font) in seen or not hasattr(font, "get"):
            continue
        seen.add(id(font))
        descendants = _resolve(font.get("/DescendantFonts"))
        parts = [font, *(_resolve(d) for d in (descendants or []))]
        for part in parts:
            if part is None or not hasattr(part, "get"):
                continue
            for key in ("/ToUnicode", "/Encoding"):
                cmap = _resolve(part.get(key))
                if cmap is not None and hasattr(cmap, "get_data"):
                    _check_cmap(cmap.get_data(), page)
            descriptor = _resolve(part.get("/FontDescriptor"))
            if descriptor is not None and hasattr(descriptor, "get"):
                for key in ("/FontFile", "/FontFile2"):
                    file = _resolve(descriptor.get(key))
                    if file is not None and hasattr(file, "get_data") and len(file.get_data()) > MAX_FONT_FILE_BYTES:
                        raise ReadError(_COMPLEX.format(page=page), f"page {page}: font file too large")


def _check_cmap(data: bytes, page: int) -> None:
    span = 0
    for section in _RANGE_SECTION.finditer(data):
        for m in _RANGE.finditer(section.group(1)):
            span += max(0, int(m.group(2), 16) - int(m.group(1), 16) + 1)
    if span > MAX_CMAP_SPAN:
        raise ReadError(_COMPLEX.format(page=page), f"page {page}: CMap ranges span {span} codes")


# ------------------------------------------------------------------------------------ text layer
class _Guard:
    """Counts what pdfminer does on a page and stops it over a character or CPU budget."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.page_started = started
        self.page = 0
        self.chars = 0
        self.doc_chars = 0
        self.ticks = 0

    def start(self, page: int) -> None:
        self.page = page
        self.page_started = time.thread_time()
        self.chars = 0

    def char(self) -> None:
        self.chars += 1
        self.doc_chars += 1
        if self.chars > MAX_PAGE_CHARS or self.doc_chars > MAX_DOC_CHARS:
            raise _TooComplex(self.page, "too many characters")
        self.tick()

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks & 0x3FF == 0:
            self.check()

    def check(self) -> None:
        now = time.thread_time()
        if now - self.page_started > PAGE_CPU_SECONDS:
            raise _TooComplex(self.page, f"over {PAGE_CPU_SECONDS} s of CPU")
        if now - self.started > DOC_CPU_SECONDS:
            raise _TooComplex(self.page, f"file over {DOC_CPU_SECONDS} s of CPU")


def _guarded_classes() -> tuple[type, type]:
    """A pdfplumber device and a pdfminer interpreter that report to a `_Guard` (built lazily:
    importing pdfplumber costs ~0.3 s, not wanted at the bot's start)."""
    from pdfminer.pdfinterp import PDFPageInterpreter
    from pdfplumber.page import PDFPageAggregatorWithMarkedContent

    class Device(PDFPageAggregatorWithMarkedContent):  # type: ignore[misc]
        guard: _Guard

        def render_char(self, *args: Any, **kwargs: Any) -> float:
            self.guard.char()
            return float(super().render_char(*args, **kwargs))

        def paint_path(self, *args: Any, **kwargs: Any) -> None:
            self.guard.tick()
            super().paint_path(*args, **kwargs)

    class Interpreter(PDFPageInterpreter):  # type: ignore[misc]
        def _tick(self) -> None:
            self.device.guard.tick()

        def do_BT(self) -> None:
            self._tick()
            super().do_BT()

        def do_q(self) -> None:
            self._tick()
            super().do_q()

        # pdfminer pops as many operands as a do_* method has positional parameters: spell them out
        def do_cm(self, a: Any, b: Any, c: Any, d: Any, e: Any, f: Any) -> None:
            self._tick()
            super().do_cm(a, b, c, d, e, f)

        def do_Tf(self, fontid: Any, fontsize: Any) -> None:
            self._tick()
            super().do_Tf(fontid, fontsize)

        def do_Do(self, xobjid: Any) -> None:
            self.device.guard.check()
            super().do_Do(xobjid)

    return Device, Interpreter


def _read_text_layer(data: bytes, count: int, started: float) -> tuple[list[PageLayout], list[int], int]:
    """Every page's words (tables apart); pages with (almost) no letters but an image are scans."""
    import pdfplumber

    device_cls, interpreter_cls = _guarded_classes()
    guard = _Guard(started)
    pages: list[PageLayout] = []
    scanned: list[int] = []
    blank = 0
    with pdfplumber.open(io.BytesIO(data), password="") as pdf:
        for page in pdf.pages[:count]:
            guard.start(page.page_number)
            device = device_cls(pdf.rsrcmgr, pageno=page.page_number, laparams=pdf.laparams)
            device.guard = guard
            interpreter_cls(pdf.rsrcmgr, device).process_page(page.page_obj)
            page._layout = device.get_result()  # what pdfplumber's `layout` would compute, guarded
            layout = _page_layout(page)
            guard.check()
            letters = sum(len(_LETTER.findall(_CID.sub("", ln.text))) for ln in layout.lines)
            letters += sum(len(_LETTER.findall(c)) for t in layout.tables for r in t.rows for c in r)
            if letters < MIN_PAGE_LETTERS and (page.images or len(page.curves) > 200):
                scanned.append(page.page_number)
                layout.lines, layout.tables = [], []
            elif letters == 0:
                blank += 1
            pages.append(layout)
            page.close()
    return pages, scanned, blank


def _page_layout(page: Any) -> PageLayout:
    tables: list[Table] = []
    boxes: list[tuple[float, float, float, float]] = []
    if len(page.edges) <= MAX_TABLE_EDGES:
        for found in page.find_tables():
            rows = [[_cell(c) for c in row] for row in found.extract()]
            rows = [r for r in rows if any(r)]
            if len(rows) >= 2 and max(len(r) for r in rows) >= 2:
                x0, top, x1, bottom = found.bbox
                tables.append(Table(top, bottom, rows))
                boxes.append((x0, top, x1, bottom))
    words: list[Word] = []
    deduped = page.dedupe_chars(tolerance=1)
    for w in deduped.extract_words(x_tolerance=1.5, y_tolerance=2.5, keep_blank_chars=False,
                                    use_text_flow=False, extra_attrs=["fontname", "size"]):
        if not w.get("upright", True):
            continue  # rotated text: watermarks, stamps, margin notes
        cx, cy = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
        if any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes):
            continue
        text = unicodedata.normalize("NFC", w["text"])
        words.append(Word(text, float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"]),
                          float(w["size"]), bool(_BOLD_FONT.search(str(w.get("fontname", ""))))))
    return PageLayout(page.page_number, float(page.width), float(page.height), group_lines(words, page.page_number),
                      tables)


def _cell(value: str | None) -> str:
    if not value:
        return ""
    lines = [ln.strip() for ln in value.split("\n") if ln.strip()]
    if not lines:
        return ""
    text = lines[0]
    for ln in lines[1:]:
        text = join_wrapped(text, ln)
    return unicodedata.normalize("NFC", text)


def _ocr_pages(data: bytes, pages: list[PageLayout], scanned: list[int], warnings: list[str]) -> bool:
    """Lay out the scanned pages from OCR; True when at least one was recognised."""
    from documents import ocr

    missing = ocr.available()
    if missing is not None:
        if not any(p.lines or p.tables for p in pages):
            raise ReadError(f"Tệp PDF là bản quét (ảnh), chưa đọc được: {missing}", "scanned PDF, OCR unavailable")
        warnings.append(f"Trang {', '.join(map(str, scanned))} là ảnh quét, chưa đọc được: {missing}")
        return False
    todo = scanned[: ocr.MAX_OCR_PAGES]
    if len(scanned) > len(todo):
        warnings.append(f"Chỉ nhận dạng {len(todo)} trang quét đầu tiên; các trang sau bị bỏ qua.")
    by_number = {p.number: p for p in pages}
    recognised = ocr.pdf_page_layouts(data, todo, [(by_number[n].width, by_number[n].height) for n in todo])
    done = False
    for number, layout in zip(todo, recognised, strict=True):
        if isinstance(layout, str):
            warnings.append(f"Trang {number}: {layout}")
            continue
        page = by_number[number]
        page.lines, page.tables, page.ocr, page.gap_slack = layout.lines, layout.tables, True, layout.gap_slack
        done = done or bool(layout.lines)
    return done
