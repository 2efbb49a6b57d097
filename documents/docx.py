"""Word (.docx) files -> `Document`, keeping what Word knows: headings, numbering, bold, tables.

python-docx opens the package; the body is then walked as XML in order (paragraphs, tables, content
controls, text boxes), because python-docx's own views flatten what matters here: automatic
numbering ("I.", "1.", "a)" exist only in numbering.xml), merged cells (repeated per grid column),
nested tables and tracked changes. The bounds run BEFORE python-docx sees the bytes: a .docx is a
zip, and 889 KB can declare 95 MB of `<w:p/>`.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from documents.errors import ReadError
from documents.models import Block, Document
from documents.structure import _to_roman, build

__all__ = ["MAX_ELEMENTS", "MAX_XML_BYTES", "check_docx", "read_docx"]

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 2_000
MAX_ZIP_UNCOMPRESSED = 100 * 1024 * 1024  # all members together, as declared in the zip directory
MAX_ZIP_RATIO = 200  # a large member compressed more than this is a bomb, not a document
_RATIO_MIN_SIZE = 5 * 1024 * 1024
MAX_XML_BYTES = 30 * 1024 * 1024  # one XML part (document.xml of a 300-page report is a few MB)
MAX_ELEMENTS = 2_000_000  # tags ('<') in all XML parts together; a long report has ~100k
_CHUNK = 1 << 20

_TOO_COMPLEX = ("Tệp quá phức tạp (quá nhiều thành phần), hệ thống không xử lý; vui lòng lưu lại "
                "thành tệp .docx đơn giản hơn hoặc .pdf.")
_DAMAGED = "Tệp Word bị hỏng, không đọc được."
_NOT_DOCX = "Tệp không phải là tài liệu Word (.docx) hợp lệ."

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_SKIP = {f"{W}pPr", f"{W}rPr", f"{W}del", f"{W}moveFrom", f"{W}instrText", f"{W}delText", f"{W}delInstrText",
         f"{MC}Fallback", f"{W}footnoteReference", f"{W}endnoteReference", f"{W}commentReference"}
_CONTAINERS = {f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}ins", f"{W}moveTo", f"{W}smartTag",
               f"{W}hyperlink", f"{W}fldSimple", f"{W}bdo", f"{W}dir", f"{MC}AlternateContent", f"{MC}Choice"}
_FALSE = ("0", "false", "off")


# ------------------------------------------------------------------------------------------ bounds
def check_docx(data: bytes) -> None:
    """Refuse what would exhaust memory or time, reading only the zip directory and counting tags.

    CPython's zipfile never inflates a member past its declared size (it fails the CRC instead), so
    the declared sizes bound what python-docx can inflate; the tag count bounds the element tree,
    and stops streaming as soon as the budget is spent.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"Tệp quá lớn (tối đa {MAX_FILE_BYTES // (1024 * 1024)} MB).",
                        f"file too large: {len(data)} bytes")
    if not data.startswith(b"PK\x03\x04"):
        raise ReadError(_NOT_DOCX, "not a zip file (.docx)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ReadError(_DAMAGED, f"bad zip: {exc}") from exc
    with archive:
        xml = [m for m in members if m.filename.endswith((".xml", ".rels"))]
        big = [m for m in xml if m.file_size > MAX_XML_BYTES]
        if big:  # first: 889 KB can declare a 95 MB document.xml that passes the ratio test below
            raise ReadError(_TOO_COMPLEX, f"{big[0].filename} declares {big[0].file_size} bytes")
        total = sum(m.file_size for m in members)
        bomb = len(members) > MAX_ZIP_MEMBERS or total > MAX_ZIP_UNCOMPRESSED or any(
            m.file_size > _RATIO_MIN_SIZE and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1)
            for m in members)
        if bomb:
            raise ReadError("Tệp .docx có cấu trúc bất thường (dung lượng giải nén quá lớn), không xử lý.",
                            f"zip bomb suspected: {len(members)} members, {total} bytes uncompressed")
        names = {m.filename for m in members}
        if "word/document.xml" not in names or "[Content_Types].xml" not in names:
            raise ReadError(_NOT_DOCX, "zip without word/document.xml")
        _count_tags(archive, xml)


def _count_tags(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    budget = MAX_ELEMENTS
    for member in sorted(members, key=lambda m: m.filename != "word/document.xml"):
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    budget -= chunk.count(b"<")
                    if budget < 0:
                        raise ReadError(_TOO_COMPLEX, f"more than {MAX_ELEMENTS} XML tags (in {member.filename})")
        except ReadError:
            raise
        except (zipfile.BadZipFile, RuntimeError, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise ReadError(_DAMAGED, f"cannot inflate {member.filename}: {exc!r}") from exc


# ------------------------------------------------------------------------------------------ styles
@dataclass
class _Style:
    kind: str
    name: str
    based_on: str | None
    bold: bool | None
    num: tuple[str, int | None] | None  # (numId, ilvl) from the style's paragraph properties
    outline: int | None


def _attr(el: Any, name: str = "val") -> str | None:
    if el is None:
        return None
    value = el.get(f"{W}{name}")
    return str(value) if value is not None else None


def _on(el: Any) -> bool | None:
    """A toggle property (<w:b/>, <w:b w:val="0"/>): True, False, or None when absent."""
    if el is None:
        return None
    return (_attr(el) or "true").lower() not in _FALSE


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _num_pr(ppr: Any) -> tuple[str, int | None] | None:
    numpr = ppr.find(f"{W}numPr") if ppr is not None else None
    if numpr is None:
        return None
    num_id = _attr(numpr.find(f"{W}numId"))
    return (num_id or "", _int(_attr(numpr.find(f"{W}ilvl"))))


class _Styles:
    def __init__(self, root: Any) -> None:
        self.styles: dict[str, _Style] = {}
        self.default_paragraph: str | None = None
        self.default_bold: bool | None = None
        if root is None:
            return
        defaults = root.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
        if defaults is not None:
            self.default_bold = _on(defaults.find(f"{W}b"))
        for st in root.iter(f"{W}style"):
            sid = _attr(st, "styleId")
            if not sid:
                continue
            ppr, rpr = st.find(f"{W}pPr"), st.find(f"{W}rPr")
            kind = _attr(st, "type") or "paragraph"
            self.styles[sid] = _Style(
                kind=kind, name=(_attr(st.find(f"{W}name")) or sid).strip().lower(),
                based_on=_attr(st.find(f"{W}basedOn")),
                bold=_on(rpr.find(f"{W}b")) if rpr is not None else None, num=_num_pr(ppr),
                outline=_int(_attr(ppr.find(f"{W}outlineLvl"))) if ppr is not None else None)
            if kind == "paragraph" and (_attr(st, "default") or "").lower() in ("1", "true", "on"):
                self.default_paragraph = sid

    def chain(self, sid: str | None) -> Iterator[_Style]:
        seen: set[str] = set()
        while sid and sid in self.styles and sid not in seen and len(seen) < 20:
            seen.add(sid)
            style = self.styles[sid]
            yield style
            sid = style.based_on

    def bold(self, sid: str | None) -> bool | None:
        return next((s.bold for s in self.chain(sid) if s.bold is not None), None)

    def num(self, sid: str | None) -> tuple[str, int | None] | None:
        return next((s.num for s in self.chain(sid) if s.num is not None), None)

    def outline(self, sid: str | None) -> int | None:
        return next((s.outline for s in self.chain(sid) if s.outline is not None), None)

    def name(self, sid: str | None) -> str:
        style = self.styles.get(sid or "")
        return style.name if style else ""


# ------------------------------------------------------------------------------------------ numbering
@dataclass
class _Level:
    fmt: str = "decimal"
    text: str = "%1."
    start: int = 1


def _format(n: int, fmt: str) -> str:
    if fmt in ("upperRoman", "lowerRoman"):
        roman = _to_roman(n) if 0 < n < 90 else str(n)
        return roman if fmt == "upperRoman" else roman.lower()
    if fmt in ("upperLetter", "lowerLetter"):
        letter = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else str(n)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "none":
        return ""
    return str(n)


_BULLET_BY_LEVEL = ("-", "+", "·")
_PLAIN_BULLETS = set("-–—+•*·●○■□▪►➢❖✓◦")


class _Numbering:
    """Word's automatic numbering, counted in document order ("I.", "1.", "1.1.", "a)", bullets)."""

    def __init__(self, root: Any) -> None:
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.nums: dict[str, tuple[str, dict[int, _Level], dict[int, int]]] = {}
        self.counters: dict[str, list[int | None]] = {}
        if root is None:
            return
        for an in root.iter(f"{W}abstractNum"):
            self.abstract[_attr(an, "abstractNumId") or ""] = self._levels(an)
        for num in root.iter(f"{W}num"):
            overrides: dict[int, _Level] = {}
            starts: dict[int, int] = {}
            for ov in num.iter(f"{W}lvlOverride"):
                ilvl = _int(_attr(ov, "ilvl"), 0) or 0
                start = _int(_attr(ov.find(f"{W}startOverride")))
                if start is not None:
                    starts[ilvl] = start
                lvl = ov.find(f"{W}lvl")
                if lvl is not None:
                    overrides[ilvl] = self._level(lvl)
            self.nums[_attr(num, "numId") or ""] = (_attr(num.find(f"{W}abstractNumId")) or "", overrides, starts)

    @staticmethod
    def _level(lvl: Any) -> _Level:
        return _Level(fmt=_attr(lvl.find(f"{W}numFmt")) or "decimal",
                      text=_attr(lvl.find(f"{W}lvlText")) if lvl.find(f"{W}lvlText") is not None else "%1.",
                      start=_int(_attr(lvl.find(f"{W}start")), 1) or 0)

    def _levels(self, an: Any) -> dict[int, _Level]:
        return {(_int(_attr(lvl, "ilvl"), 0) or 0): self._level(lvl) for lvl in an.iter(f"{W}lvl")}

    def level(self, num_id: str, ilvl: int) -> _Level | None:
        if num_id not in self.nums:
            return None
        abstract_id, overrides, starts = self.nums[num_id]
        lvl = overrides.get(ilvl) or self.abstract.get(abstract_id, {}).get(ilvl)
        if lvl is None:
            return None
        return _Level(lvl.fmt, lvl.text, starts.get(ilvl, lvl.start))

    def next(self, num_id: str, ilvl: int) -> tuple[str, bool] | None:
        """(the label Word shows, is a bullet) for the next paragraph of list num_id at level ilvl."""
        ilvl = min(max(ilvl, 0), 8)
        lvl = self.level(num_id, ilvl)
        if lvl is None:
            return None
        if lvl.fmt == "bullet":
            return lvl.text, True
        counts = self.counters.setdefault(num_id, [None] * 9)
        current = counts[ilvl]
        counts[ilvl] = lvl.start if current is None else current + 1
        for deeper in range(ilvl + 1, 9):
            counts[deeper] = None
        label = lvl.text
        for k in range(9, 0, -1):  # %10 does not exist; replace %9 before %1
            if f"%{k}" in label:
                other = self.level(num_id, k - 1) or _Level()
                value = counts[k - 1] if counts[k - 1] is not None else other.start
                label = label.replace(f"%{k}", _format(value or 0, other.fmt if k - 1 != ilvl else lvl.fmt))
        return label.strip(), False


# ------------------------------------------------------------------------------------------ body walk
@dataclass
class _Para:
    text: str
    bold: bool
    boxes: list[Any] = field(default_factory=list)


class _Reader:
    def __init__(self, document: Any) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        part = document.part
        self.body = document.element.body
        self.styles = _Styles(_related(part, RT.STYLES))
        self.numbering = _Numbering(_related(part, RT.NUMBERING))
        self.blocks: list[Block] = []

    def read(self) -> list[Block]:
        self._container(self.body)
        return self.blocks

    def _container(self, parent: Any) -> None:
        for el in _body_children(parent):
            if el.tag == f"{W}p":
                self._paragraph(el)
            else:
                rows, header_rows = self._table(el)
                if rows:
                    self.blocks.append(Block(kind="table", rows=rows, header_rows=header_rows))

    # ---------------------------------------------------------------------------- paragraphs
    def _paragraph(self, p: Any) -> None:
        ppr = p.find(f"{W}pPr")
        sid = _attr(ppr.find(f"{W}pStyle")) if ppr is not None else None
        sid = sid or self.styles.default_paragraph
        para = self._runs(p, sid)
        text = para.text.strip()
        if text:
            label, bullet = self._label(ppr, sid)
            name = self.styles.name(sid)
            level = _heading_level(name, ppr, self.styles.outline(sid))
            list_style = name.startswith(("list bullet", "list number"))  # not "List Paragraph": any numbering
            style_level = int(name[-1]) if list_style and name[-1].isdigit() else 1
            if level:
                self.blocks.append(Block(kind="heading", text=_prefix(label, text) if label and not bullet else text,
                                         level=level, bold=para.bold))
            elif label is not None and (bullet or list_style):
                level = max(self._ilvl(ppr, sid) + 1, style_level)
                self.blocks.append(Block(kind="list_item", text=text, level=level, bold=para.bold,
                                         numbering=_bullet_symbol(label, level - 1) if bullet else label))
            elif label is not None:  # "I.", "1." typed by Word: headings or items, as the text says
                self.blocks.append(Block(kind="paragraph", text=_prefix(label, text), bold=para.bold))
            elif list_style:
                self.blocks.append(Block(kind="list_item", text=text, bold=para.bold, level=style_level))
            else:
                self.blocks.append(Block(kind="paragraph", text=text, bold=para.bold))
        for box in para.boxes:  # text boxes follow the paragraph that anchors them
            self._container(box)

    def _num(self, ppr: Any, sid: str | None) -> tuple[str, int | None] | None:
        own = _num_pr(ppr)
        style = self.styles.num(sid)
        if own is None:
            return style
        if own[0] == "" and style is not None:  # only the level given: the list comes from the style
            return style[0], own[1]
        return own

    def _ilvl(self, ppr: Any, sid: str | None) -> int:
        num = self._num(ppr, sid)
        return (num[1] or 0) if num else 0

    def _label(self, ppr: Any, sid: str | None) -> tuple[str | None, bool]:
        num = self._num(ppr, sid)
        if num is None or num[0] in ("", "0"):
            return None, False
        got = self.numbering.next(num[0], num[1] or 0)
        if got is None:
            return None, False
        return got

    def _runs(self, p: Any, sid: str | None) -> _Para:
        texts: list[str] = []
        bolds: list[bool] = []
        boxes: list[Any] = []
        paragraph_bold = self.styles.bold(sid)

        def run(r: Any) -> None:
            rpr = r.find(f"{W}rPr")
            bold = _on(rpr.find(f"{W}b")) if rpr is not None else None
            if bold is None and rpr is not None:
                bold = self.styles.bold(_attr(rpr.find(f"{W}rStyle")))
            if bold is None:
                bold = paragraph_bold if paragraph_bold is not None else bool(self.styles.default_bold)
            parts: list[str] = []
            for child in r:
                tag = child.tag
                if tag == f"{W}t":
                    parts.append(child.text or "")
                elif tag in (f"{W}tab", f"{W}ptab"):
                    parts.append("\t")
                elif tag in (f"{W}br", f"{W}cr"):
                    parts.append("\n")
                elif tag == f"{W}noBreakHyphen":
                    parts.append("-")
                elif tag not in _SKIP:
                    boxes.extend(_text_boxes(child))
            text = "".join(parts)
            texts.append(text)
            if text.strip():
                bolds.append(bool(bold))

        def walk(el: Any) -> None:
            for child in el:
                tag = child.tag
                if tag == f"{W}r":
                    run(child)
                elif tag in _CONTAINERS:
                    walk(child)
                elif tag not in _SKIP:
                    boxes.extend(_text_boxes(child))

        walk(p)
        return _Para("".join(texts), bool(bolds) and all(bolds), boxes)

    # ---------------------------------------------------------------------------- tables
    def _table(self, tbl: Any) -> tuple[list[list[str]], int]:
        rows: list[list[str]] = []
        header_rows = 0
        leading = True
        for tr in _children(tbl, f"{W}tr"):
            trpr = tr.find(f"{W}trPr")
            is_header = trpr is not None and bool(_on(trpr.find(f"{W}tblHeader")))
            before = _int(_attr(trpr.find(f"{W}gridBefore"))) if trpr is not None else None
            row: list[str] = [""] * (before or 0)
            nested: list[list[str]] = []
            for tc in _children(tr, f"{W}tc"):
                tcpr = tc.find(f"{W}tcPr")
                span = max(_int(_attr(tcpr.find(f"{W}gridSpan")) if tcpr is not None else None, 1) or 1, 1)
                vmerge = tcpr.find(f"{W}vMerge") if tcpr is not None else None
                col = len(row)
                if vmerge is not None and (_attr(vmerge) or "continue") == "continue":
                    text = ""  # the value stands once, in the first row of the merge
                else:
                    text, inner = self._cell(tc)
                    nested += [[""] * col + r for r in inner]
                row += [text] + [""] * (span - 1)
            if any(c.strip() for c in row):
                rows.append(row)
                if leading and is_header:
                    header_rows += 1
            leading = leading and is_header
            rows += nested
        if header_rows == 0 and len(rows) >= 2:
            header_rows = 1
        return rows, header_rows

    def _cell(self, tc: Any) -> tuple[str, list[list[str]]]:
        """A cell's paragraphs (one per line, Word numbering kept) and the rows of tables inside it."""
        lines: list[str] = []
        inner: list[list[str]] = []
        for el in _body_children(tc):
            if el.tag == f"{W}p":
                ppr = el.find(f"{W}pPr")
                sid = _attr(ppr.find(f"{W}pStyle")) if ppr is not None else None
                sid = sid or self.styles.default_paragraph
                para = self._runs(el, sid)
                label, _bullet = self._label(ppr, sid)
                text = para.text.strip()
                if text or label:
                    lines.append(_prefix(label, text) if label else text)
                for box in para.boxes:
                    box_text = self._cell(box)[0]
                    if box_text:
                        lines.append(box_text)
            else:
                rows, _ = self._table(el)
                inner += rows
        return "\n".join(lines), inner


def _related(part: Any, reltype: str) -> Any:
    """The XML root of a related part (styles, numbering), None when the file has none."""
    try:
        return part.part_related_by(reltype).element
    except (KeyError, AttributeError, ValueError):
        return None


def _children(parent: Any, tag: str) -> Iterator[Any]:
    """Children with this tag, looking through content controls and custom XML wrappers."""
    for el in parent:
        if el.tag == tag:
            yield el
        elif el.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            yield from _children(el, tag)


def _body_children(parent: Any) -> Iterator[Any]:
    for el in parent:
        if el.tag in (f"{W}p", f"{W}tbl"):
            yield el
        elif el.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}ins", f"{W}moveTo"):
            yield from _body_children(el)


def _text_boxes(el: Any) -> list[Any]:
    """w:txbxContent inside a drawing, except the duplicate kept in mc:Fallback for old Word."""
    found: list[Any] = []
    stack = [el]
    while stack:
        node = stack.pop()
        for child in node:
            if child.tag == f"{MC}Fallback":
                continue
            if child.tag == f"{W}txbxContent":
                found.append(child)
            else:
                stack.append(child)
    return found


def _heading_level(name: str, ppr: Any, style_outline: int | None) -> int:
    """1..9 for Heading N / Title styles or an outline level; 0 for body text."""
    if name == "title":
        return 1
    if name.startswith("heading"):
        digits = name[len("heading"):].strip()
        if digits.isdigit() and 1 <= int(digits) <= 9:
            return int(digits)
    outline = _int(_attr(ppr.find(f"{W}outlineLvl"))) if ppr is not None else None
    outline = outline if outline is not None else style_outline
    return outline + 1 if outline is not None and 0 <= outline <= 8 else 0


def _prefix(label: str | None, text: str) -> str:
    return f"{label} {text}" if label else text


def _bullet_symbol(label: str, ilvl: int) -> str:
    """The bullet as a reader of plain text would type it (Word's Symbol-font glyphs are private use)."""
    symbol = label.strip()
    if len(symbol) == 1 and symbol in _PLAIN_BULLETS:
        return symbol
    return _BULLET_BY_LEVEL[min(ilvl, len(_BULLET_BY_LEVEL) - 1)]


# ------------------------------------------------------------------------------------------ entry point
def read_docx(data: bytes) -> Document:
    """The `Document` of a .docx file; ReadError for a damaged, hostile or non-Word file."""
    check_docx(data)
    import docx  # python-docx; imported here so the bot starts without paying for it

    try:
        document = docx.Document(io.BytesIO(data))
        return build(_Reader(document).read(), source="docx")
    except ReadError:
        raise
    except Exception as exc:  # a parser choking on hostile input must not crash the bot
        log.warning("docx failed: %r", exc)
        raise ReadError(_DAMAGED, f"cannot parse .docx: {exc!r}") from exc
