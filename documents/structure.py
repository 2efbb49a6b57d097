"""The layout logic every reader shares: blocks in reading order -> a `Document`.

Readers (text, .docx, .html, .pdf, OCR) only know lines, tables and a few hints (bold, a Word
heading style, a list level). What the layout *says* is decided here, once, for all of them:
the header block of an administrative document (Nghị định 30/2020/NĐ-CP, Hướng dẫn 36-HD/VPTW),
headings with their numbering and level, phone-style labels ("Kết quả:"), list items, tables, and
the closing ("Nơi nhận", signature). Sections (results / shortcomings / tasks) are NOT decided here:
that is the summariser's job, and a reader that guessed them would hide its guesses in the layout.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from documents.models import Block, Document, HeaderBlock, SourceKind

__all__ = ["build", "clean_line", "guess_header_rows", "is_capitals"]

# ------------------------------------------------------------------------------------------ text bits
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = re.compile(r"\s+")
_COLUMN_GAP = re.compile(r"\t+|[ \u00a0]{3,}")
_DECOR = re.compile(r"^[\s\-–—_*=~.·•○◦+#]+$")


def clean_line(text: str) -> str:
    """NFC, no zero-width characters, one space between words: how every block text is stored."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    return _SPACES.sub(" ", text).strip()


def _raw_line(text: str) -> str:
    """Like clean_line but keeps tabs and wide gaps: two header columns pasted on one line."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH).replace("\u00a0", " ")
    return text.strip()


def is_capitals(text: str) -> bool:
    """All cased letters upper case (at least four of them): "KẾT QUẢ ĐẠT ĐƯỢC", not "UBND tỉnh"."""
    cased = [c for c in text if c.isalpha() and c.lower() != c.upper()]
    return len(cased) >= 4 and sum(c.isupper() for c in cased) >= 0.95 * len(cased)


def _words(text: str) -> int:
    return len(text.split())


_OLD_TONES = {"OÀ": "ÒA", "OÁ": "ÓA", "OẢ": "ỎA", "OÃ": "ÕA", "OẠ": "ỌA", "UỲ": "ÙY", "UÝ": "ÚY",
              "UỶ": "ỦY", "UỸ": "ŨY", "UỴ": "ỤY", "OÈ": "ÒE", "OÉ": "ÓE", "OẺ": "ỎE", "OẼ": "ÕE", "OẸ": "ỌE"}
_OLD_TONES_RE = re.compile("|".join(_OLD_TONES))


def _fold(text: str) -> str:
    """Upper case with the modern tone placement ("HOÀ" -> "HÒA", "UỶ" -> "ỦY"), for comparisons only."""
    return _OLD_TONES_RE.sub(lambda m: _OLD_TONES[m.group(0)], clean_line(text).upper())


# ------------------------------------------------------------------------------------------ numbering
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}


def _is_roman(s: str) -> bool:
    """Strict Roman numerals up to 89 ("IIII" and "VX" are not numbering)."""
    total, previous = 0, 0
    for ch in reversed(s):
        value = _ROMAN_VALUES[ch]
        total += -value if value < previous else value
        previous = max(previous, value)
    return 0 < total < 90 and _to_roman(total) == s


def _to_roman(n: int) -> str:
    out = []
    for value, letters in ((50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


_ORDINALS = r"nhất|hai|ba|tư|bốn|năm|sáu|bảy|tám|chín|mười"
_PART_RE = re.compile(
    rf"^(?P<num>(?:phần|chương|mục)\s+(?:thứ\s+(?:{_ORDINALS})|(?-i:[IVXL]{{1,6}})|\d{{1,2}}))(?!\w)"
    r"\s*[:.\-–—]?\s*(?P<rest>.*)$", re.IGNORECASE)
_ROMAN_RE = re.compile(r"^(?P<num>(?P<r>[IVXL]{1,6})\s*[.):\-–—])(?!\w)\s*(?P<rest>.*)$")
_CAPITAL_RE = re.compile(r"^(?P<num>[A-H]\s*[.)])\s+(?P<rest>\S.*)$")
_ARABIC_RE = re.compile(
    r"^(?P<num>\(\d{1,2}\)|\d{1,2}(?:\.\d{1,2})*[.)]|\d{1,2}(?:\.\d{1,2})+)(?!\d)\s*(?P<rest>.*)$")
_LETTER_RE = re.compile(r"^(?P<num>\([a-zđ]\)|[a-zđ]\s*\)|[a-zđ]\.)(?!\w)\s*(?P<rest>.*)$")
_BULLETS = "-–—+•*·●○■□▪►➢❖✓◦‣⁃\uf0b7\uf0a7\uf0d8\uf076\uf0fc"
_BULLET_RE = re.compile(rf"^(?P<b>[{re.escape(_BULLETS)}])(?P<gap>\s*)(?P<rest>.*)$")
_DASHES = "-–—⁃"


@dataclass
class _Numbered:
    kind: str  # "part" (Phần thứ nhất), "roman", "capital" (A.), "arabic", "letter" (a)
    numbering: str
    rest: str
    depth: int = 1  # arabic: how many numbers ("1.1." -> 2)


def _numbered(text: str) -> _Numbered | None:
    """The numbering a heading or numbered item starts with, as written; None for plain text."""
    m = _PART_RE.match(text)
    if m:
        return _Numbered("part", clean_line(m.group("num")), m.group("rest").strip())
    m = _ROMAN_RE.match(text)
    if m and _is_roman(m.group("r")):
        return _Numbered("roman", clean_line(m.group("num")), m.group("rest").strip())
    m = _CAPITAL_RE.match(text)
    if m and _starts_upper(m.group("rest")):
        return _Numbered("capital", clean_line(m.group("num")), m.group("rest").strip())
    m = _ARABIC_RE.match(text)
    if m:
        num = m.group("num")
        return _Numbered("arabic", num, m.group("rest").strip(), depth=len(re.findall(r"\d+", num)))
    m = _LETTER_RE.match(text)
    if m:
        return _Numbered("letter", clean_line(m.group("num")), m.group("rest").strip())
    return None


def _starts_upper(text: str) -> bool:
    """A heading's or item's text starts with a capital (or a quote, bracket or digit before one)."""
    for ch in text:
        if ch.isalpha():
            return ch.isupper()
        if ch.isdigit():
            return True
        if ch not in "\"'“‘«([*":
            return False
    return False


# ------------------------------------------------------------------------------------------ header block
_NATIONAL_RE = re.compile(r"^(ĐẢNG CỘNG SẢN VIỆT NAM|CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM)\b")
_MOTTO_RE = re.compile(r"độc\s*lập\s*[-–—]+\s*tự\s*do\s*[-–—]+\s*hạnh\s*phúc", re.IGNORECASE)
_CODE = r"[A-ZĐ][A-ZĐ0-9]*(?:\s*[-/.&]\s*[A-ZĐ0-9][A-ZĐa-zđ0-9]*)*"
_NUMBER_RE = re.compile(rf"^(?i:số)\s*[:.]?\s*(?P<code>[0-9 ]{{0,12}}(?:/\s*\d{{4}})?\s*[-/]?\s*{_CODE})$")
_BARE_NUMBER_RE = re.compile(rf"^(?P<code>(?:\d{{1,5}}(?:/\d{{4}})?\s*[-/]|/)\s*{_CODE})$")
_NUMBER_PREFIX_RE = re.compile(
    rf"^(?P<head>(?i:số)\s*[:.]?\s*[0-9 ]{{0,12}}(?:/\s*\d{{4}})?\s*[-/]?\s*{_CODE})\s+(?P<tail>\S.*)$")
_DATE = (r"(?:ngày\s*[\d.…_ ]*\s*tháng\s*[\d.…_ ]*\s*năm\s*[\d.…_ ]*"
         r"|ngày\s*\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4}|tháng\s*\d{1,2}\s*năm\s*\d{4})")
_PLACE_DATE_RE = re.compile(rf"^(?:[^\W\d_][^,;:]{{0,40}},\s*{_DATE}|ngày\s*[\d.…_ ]*\s*tháng\s*[\d.…_ ]*\s*năm"
                            r"\s*[\d.…_ ]*)$", re.IGNORECASE)
_DATE_IN_LINE_RE = re.compile(rf",\s*{_DATE}\s*$", re.IGNORECASE)
_DOC_TYPES = ("BÁO CÁO", "THÔNG BÁO", "NGHỊ QUYẾT", "KẾT LUẬN", "TỜ TRÌNH", "BIÊN BẢN", "CHỈ THỊ",
              "KẾ HOẠCH", "QUYẾT ĐỊNH", "HƯỚNG DẪN", "QUY ĐỊNH", "CHƯƠNG TRÌNH", "ĐỀ ÁN", "PHƯƠNG ÁN",
              "CÔNG VĂN", "DIỄN VĂN", "THÔNG TRI", "QUY CHẾ", "ĐỀ CƯƠNG", "THÔNG CÁO", "TÓM TẮT")
_DOC_TYPE_RE = re.compile(rf"^(?P<type>{'|'.join(_DOC_TYPES)})(?=\s|$)\s*(?P<rest>.*)$")
_VV_RE = re.compile(r"^(?:V/v|V/V|v/v|Về việc)\b\s*:?\s*", re.UNICODE)
_ORG_CONTINUES = ("NHÂN DÂN", "ĐẢNG BỘ", "ĐẢNG ỦY", "CHẤP HÀNH", "VIỆT NAM", "THƯỜNG VỤ", "TỔ QUỐC")
_PLACE_WORDS_RE = re.compile(r"^(HUYỆN|TỈNH|XÃ|THÀNH PHỐ|THỊ XÃ|QUẬN|PHƯỜNG|THỊ TRẤN|TP\.?)\s+(?!ỦY\b)")
_KINH_GUI_RE = re.compile(r"^kính\s+gửi\b", re.IGNORECASE)
_STRONG = ("national", "number", "place_date")
_SINGLE = ("national", "number", "place_date", "doc_type")


def _classify_header_segment(text: str, raw: str | None = None) -> tuple[str, str] | None:
    """(field, text) when one segment of a top line is a header line; None when it is not."""
    if not text:
        return None
    folded = _fold(text)
    if _DECOR.match(text):
        return "decor", text
    if _NATIONAL_RE.match(folded):
        return "national", text
    if _MOTTO_RE.fullmatch(text.strip(" .")):
        return "motto", text
    m = _NUMBER_RE.match(text) or _BARE_NUMBER_RE.match(text)
    if m and re.search(r"[-/]", m.group("code")):
        return "number", clean_line(m.group("code"))
    if _PLACE_DATE_RE.match(text) and not _mixed_place(text):
        return "place_date", (raw or text).strip()
    if _VV_RE.match(text):
        return "vv", text
    if _doc_type(text) is not None:
        return "doc_type", text
    if is_capitals(text) and _words(text) <= 30 and len(text) <= 220 and _numbered(text) is None \
            and not text.endswith((":", ".")) and _column_cut(text) is None:
        return "org", text
    return None


def _mixed_place(text: str) -> bool:
    """Capitals then title case before ", ngày": an issuer and a place pasted together, to be cut."""
    words = text.split(",", 1)[0].split()
    seen_caps = False
    for word in words:
        if len(word) >= 2 and word.isupper() and word.rstrip(".") not in ("TP", "TX", "TT"):
            seen_caps = True
        elif seen_caps and any(c.islower() for c in word):
            return True  # "HUYỆN ỦY YÊN ĐỊNH Yên Định": capitals, then the place in title case
    return False


def _doc_type(text: str) -> tuple[str, str] | None:
    """("BÁO CÁO", rest) for a document-type line; the rest, if any, is the start of the subject."""
    m = _DOC_TYPE_RE.match(text)
    if m and not text.endswith(".") and (not m.group("rest") or _starts_upper(m.group("rest"))):
        return m.group("type"), m.group("rest").strip(" :.-–")
    if _fold(text) in _DOC_TYPES:
        return text, ""
    return None


def _header_segments(line: str) -> list[tuple[str, str]] | None:
    """A top line as header segments: whole, or split where two columns were pasted onto one line."""
    line = line.strip()
    whole = _classify_header_segment(clean_line(line), line)
    if whole is not None:
        return [whole]
    parts = [p for p in _COLUMN_GAP.split(line) if p.strip()]
    if len(parts) > 1:
        out: list[tuple[str, str]] = []
        for part in parts:
            got = _header_segments(part)
            if got is None:
                break
            out += got
        else:
            return out
    text = clean_line(line)
    cut = _column_cut(text)
    if cut is not None:
        left, right = _header_segments(text[:cut]), _header_segments(text[cut:])
        if left is not None and right is not None:
            return left + right
    return None


def _column_cut(text: str) -> int | None:
    """Where the right column starts in a line that lost its gap ("HUYỆN ỦY X ĐẢNG CỘNG SẢN VIỆT NAM")."""
    folded = _fold(text)
    for pattern in (r"ĐẢNG CỘNG SẢN VIỆT NAM", r"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"):
        i = folded.find(pattern)
        if i > 0:
            return i
    m = _MOTTO_RE.search(text)
    if m and m.start() > 0 and not _NATIONAL_RE.match(folded):
        return m.start()
    m = _NUMBER_PREFIX_RE.match(text)
    if m:
        return m.start("tail")
    m = _DATE_IN_LINE_RE.search(text)
    if m:  # the place is the title-case words before ", ngày": "HUYỆN ỦY YÊN ĐỊNH Yên Định, ngày ..."
        words = text[: m.start()].split(" ")
        start = len(words)
        while start > 0 and len(words) - start < 5 and words[start - 1][:1].isupper() \
                and any(c.islower() for c in words[start - 1]):
            start -= 1
        if 0 < start < len(words):
            return len(" ".join(words[:start])) + 1
    return None


# ------------------------------------------------------------------------------------------ closing
_SIGNER_PREFIX_RE = re.compile(r"^(T/M|T\.M\.|TM\.|TM\s|KT\.|KT\s|K\.T\.|Q\.|TL\.|T/L|TUQ\.|T\.U\.Q\.)\s*[^\W\d_]")
_ROLES = ("BÍ THƯ", "CHỦ TỊCH", "GIÁM ĐỐC", "TỔNG GIÁM ĐỐC", "TRƯỞNG BAN", "TRƯỞNG PHÒNG", "TRƯỞNG ĐOÀN",
          "CHÁNH VĂN PHÒNG", "CHÁNH THANH TRA", "CỤC TRƯỞNG", "VỤ TRƯỞNG", "BỘ TRƯỞNG", "THỨ TRƯỞNG",
          "THỦ TRƯỞNG", "HIỆU TRƯỞNG", "VIỆN TRƯỞNG", "CHÁNH ÁN", "CHỦ NHIỆM", "THƯ KÝ", "CHỦ TỌA",
          "CHỦ TRÌ", "NGƯỜI BÁO CÁO", "NGƯỜI LẬP", "NGƯỜI LẬP BIỂU", "TRƯỞNG CÔNG AN", "TRƯỞNG THÔN",
          "ỦY VIÊN", "TỔNG BIÊN TẬP", "CHỈ HUY TRƯỞNG", "CHÍNH ỦY", "TƯ LỆNH", "THỦ TƯỚNG")
_ROLE_RE = re.compile(rf"^(PHÓ\s+)?({'|'.join(_ROLES)})(\s|$)")
_SIGNED_RE = re.compile(r"^\(\s*(đã\s+)?(ký|chữ\s+ký)\b[^()]*\)$|^đã\s+ký\.?$", re.IGNORECASE)
_NOI_NHAN_RE = re.compile(r"^nơi\s+nhận\b", re.IGNORECASE)
_APPENDIX_RE = re.compile(r"^(PHỤ LỤC|BIỂU\s+(SỐ|MẪU|TỔNG HỢP)|BẢNG\s+(SỐ|TỔNG HỢP))\b")


def _signature_kind(text: str) -> str | None:
    """"role" (T/M BAN THƯỜNG VỤ, PHÓ BÍ THƯ), "signed" ((Đã ký)), "name", "decor", or None."""
    if _DECOR.match(text):
        return "decor"
    folded = _fold(text)
    if _SIGNER_PREFIX_RE.match(folded) and (is_capitals(text) or _SIGNER_PREFIX_RE.match(text)) \
            and 2 <= _words(text) <= 12:
        return "role"
    if _ROLE_RE.match(folded) and _words(text) <= 10 and (is_capitals(text) or folded.strip() in _ROLES):
        return "role"
    if _SIGNED_RE.match(text):
        return "signed"
    words = text.split()
    if 2 <= len(words) <= 6 and len(text) <= 45 and not any(c.isdigit() for c in text) \
            and all(w[:1].isupper() and w.replace("-", "").isalpha() for w in words):
        return "name"
    return None


# ------------------------------------------------------------------------------------------ labels
_LABEL_ALONE_RE = re.compile(r"^(?P<label>[^:]{1,80}):$")
_LABEL_REST_RE = re.compile(r"^(?P<label>[^:]{1,70}:)\s+(?P<rest>\S.*)$")
_LABEL_CUES_RE = re.compile(
    r"^(\*\s*)?(về\s+)?(những\s+|các\s+|một\s+số\s+)?(kết quả|tồn tại|hạn chế|khó khăn|vướng mắc|yếu kém|"
    r"thiếu sót|nguyên nhân|nhiệm vụ|phương hướng|giải pháp|kiến nghị|đề xuất|đề nghị|ưu điểm|nhược điểm|"
    r"thuận lợi|mục tiêu|chỉ tiêu|tình hình|bài học|kế hoạch|biện pháp|trọng tâm|định hướng|lĩnh vực|"
    r"đánh giá|nhận xét|kết luận|thành tựu|công việc|việc cần làm|tồn đọng|hoạt động)\b", re.IGNORECASE)
_SPEECH_END_RE = re.compile(
    r"\b(cho biết|nhấn mạnh|khẳng định|phát biểu|cho rằng|nói|chia sẻ|như sau|sau đây|bao gồm|gồm|gồm có|"
    r"cụ thể|cụ thể là|là|đó là|thông tin|yêu cầu|chỉ đạo|lưu ý|nêu rõ|cho hay|bày tỏ|nhận định|"
    r"thông báo|trình bày|đề nghị|kết luận|báo cáo|ghi nhận|khẳng định rằng|mong muốn)\s*$", re.IGNORECASE)
_NOT_LABELS_RE = re.compile(r"^(cụ thể|trong đó|ví dụ|đồng thời|ngoài ra|theo đó|tuy nhiên|tóm lại|"
                            r"kính gửi|nơi nhận|số|điện thoại|email|địa chỉ|fax|website|nguồn|ảnh)\b", re.IGNORECASE)


def _label(text: str) -> tuple[str, str] | None:
    """(label with its colon, rest) for a phone-style label line: "Kết quả:", "Tồn tại: chưa …"."""
    m = _LABEL_ALONE_RE.match(text)
    if m:
        label = m.group("label").strip()
        if _label_words_ok(label) and not (_words(label) >= 3 and _SPEECH_END_RE.search(label)):
            return text, ""
        return None
    m = _LABEL_REST_RE.match(text)
    if m and _LABEL_CUES_RE.match(m.group("label")) and _label_words_ok(m.group("label")[:-1]) \
            and not _SPEECH_END_RE.search(m.group("label")[:-1]):
        return m.group("label").strip(), m.group("rest").strip()
    return None


def _label_words_ok(label: str) -> bool:
    return (1 <= _words(label) <= 9 and _starts_upper(label.lstrip("* ")) and not re.search(r"[.;!?]", label)
            and not _NOT_LABELS_RE.match(label.lstrip("* ")))


# ------------------------------------------------------------------------------------------ items
@dataclass
class _Item:
    """One line (or table) on its way to a block, with the hints the reader gave."""

    kind: str  # "line" | "table"
    text: str = ""
    raw: str = ""
    given: str = "paragraph"  # the reader's kind: paragraph | heading | list_item
    level: int = 0
    numbering: str | None = None
    bold: bool = False
    page: int | None = None
    rows: list[list[str]] = field(default_factory=list)
    header_rows: int = 0


def _items(blocks: list[Block]) -> list[_Item]:
    items: list[_Item] = []
    for b in blocks:
        if b.kind == "table":
            rows = [[unicodedata.normalize("NFC", c or "") for c in row] for row in b.rows]
            if any(c.strip() for row in rows for c in row):
                items.append(_Item("table", rows=rows, header_rows=b.header_rows, page=b.page))
            continue
        text = b.text or ""
        lines = [text.replace("\n", " ")] if b.kind != "paragraph" else text.splitlines()
        for line in lines:
            raw = _raw_line(line)
            cleaned = clean_line(raw)
            if cleaned:
                items.append(_Item("line", cleaned, raw, b.kind, b.level, b.numbering, b.bold, b.page))
    return items


def _cell_lines(cell: str, *, raw: bool = False) -> list[str]:
    return [c for c in ((_raw_line(x) if raw else clean_line(x)) for x in cell.splitlines()) if clean_line(c)]


def _table_columns(rows: list[list[str]], *, raw: bool = False) -> list[str]:
    """The lines of a layout table, column by column (left column first: issuer, then national line)."""
    width = max((len(r) for r in rows), default=0)
    out: list[str] = []
    for col in range(width):
        for row in rows:
            if col < len(row):
                out += _cell_lines(row[col], raw=raw)
    return out


# ------------------------------------------------------------------------------------------ header scan
@dataclass
class _HeaderScan:
    fields: dict[str, list[str]] = field(default_factory=dict)
    end: int = 0  # index of the first item after the header

    def add(self, kind: str, text: str) -> None:
        self.fields.setdefault(kind, []).append(text)

    def valid(self) -> bool:
        """A document type, or a national line / number / date with one more field: news has neither."""
        kinds = {k for k in self.fields if k != "decor"}
        if "doc_type" in kinds:
            return True
        return any(k in kinds for k in _STRONG) and len(kinds) >= 2


def _header_table(rows: list[list[str]]) -> list[tuple[str, str]] | None:
    """A small table at the top whose cells are header lines (the two-column header of Word files)."""
    if len(rows) > 6 or max((len(r) for r in rows), default=0) > 3:
        return None
    segments: list[tuple[str, str]] = []
    for line in _table_columns(rows, raw=True):  # raw: "ngày     tháng" keeps its blanks
        got = _header_segments(line)
        if got is None:
            return None
        segments += got
    kinds = {k for k, _ in segments}
    return segments if any(k in kinds for k in _STRONG) and len(kinds - {"decor"}) >= 2 else None


def _scan_header(items: list[_Item], start: int) -> _HeaderScan:
    scan = _HeaderScan(end=start)
    i = start
    while i < len(items):
        item = items[i]
        if item.kind == "table":
            segments = _header_table(item.rows) if not scan.fields.get("doc_type") else None
            if segments is None:
                break
        else:
            segments = _header_segments(item.raw) if item.given != "list_item" else None
            if segments is None:
                break
        kinds = [k for k, _ in segments]
        if any(k in _SINGLE and (k in scan.fields or kinds.count(k) > 1) for k in kinds):
            break  # a second number or date is body text: the header never holds two
        groups = list(scan.fields.get("org", []))
        for kind, text in segments:
            if kind == "org":
                _add_org(groups, text)
        if len(groups) > 2:
            break  # a superior and an issuer: more capitals are the body's
        for kind, text in segments:
            if kind == "doc_type":
                doc_type, rest = _doc_type(text) or (text, "")
                scan.add("doc_type", doc_type)
                if rest:
                    scan.add("subject", rest)
            elif kind == "org":
                _add_org(scan.fields.setdefault("org", []), text)
            else:
                scan.add(kind, text)
        i += 1
        scan.end = i
        if scan.fields.get("doc_type"):
            i = _scan_subject(items, i, scan)
            scan.end = i
            break
    return scan


def _scan_subject(items: list[_Item], i: int, scan: _HeaderScan) -> int:
    """The subject lines after "BÁO CÁO": up to the first heading, item or body paragraph."""
    subject = scan.fields.setdefault("subject", [])
    taken = 0
    while i < len(items) and taken < 4:
        item = items[i]
        if item.kind == "table" or item.given == "list_item":
            break
        text = item.text
        if _DECOR.match(text):
            i += 1
            if subject:
                break
            continue
        if _numbered(text) or _BULLET_RE.match(text) or _label(text) or _KINH_GUI_RE.match(text) \
                or text.endswith((":", ";")) or len(text) > 300 or _NOI_NHAN_RE.match(text):
            break
        if text.endswith(".") and not text.endswith("..."):
            break
        if subject and not _continues_subject(subject[-1], text, items[i - 1], item):
            break
        subject.append(text)
        taken += 1
        i += 1
    while i < len(items) and items[i].kind == "line" and _DECOR.match(items[i].text):
        i += 1
    if not subject:
        del scan.fields["subject"]
    return i


_CONNECTORS = ("và", "của", "về", "trong", "đến", "với", "tại", "năm", "các", "cho", "theo", "giai đoạn")


def _continues_subject(previous: str, text: str, prev_item: _Item, item: _Item) -> bool:
    if text[:1].islower() or text.startswith("("):
        return True
    if previous.endswith((",", "-", "–")) or previous.lower().endswith(_CONNECTORS):
        return True
    return prev_item.bold and item.bold and is_capitals(previous) == is_capitals(text)


def _header(items: list[_Item]) -> tuple[HeaderBlock | None, int, int]:
    """(header, first item of it, first item after it); (None, 0, 0) when the text has none."""
    first = next((n for n, it in enumerate(items) if it.kind == "table" or not _DECOR.match(it.text)), len(items))
    for start in (first, first + 1):  # one line may precede the header (a page title, "Mẫu số 01")
        if start >= len(items) or (start > first and (items[first].kind != "line"
                                                      or _header_segments(items[first].raw))):
            break  # a line before the header is not a header line itself
        scan = _scan_header(items, start)
        if scan.valid() and (start == first or any(k in scan.fields for k in _STRONG)):
            return _header_block(scan), start, scan.end
    return None, 0, 0


def _add_org(groups: list[str], org: str) -> None:
    """"ỦY BAN NHÂN DÂN" + "HUYỆN YÊN ĐỊNH" is one name on two lines; other capitals start a new name."""
    if groups and _PLACE_WORDS_RE.match(_fold(org)) and _fold(groups[-1]).endswith(_ORG_CONTINUES):
        groups[-1] = f"{groups[-1]} {org}"
    else:
        groups.append(org)


def _header_block(scan: _HeaderScan) -> HeaderBlock:
    f = scan.fields
    orgs = f.get("org", [])
    national = " ".join(f.get("national", []) + f.get("motto", [])) or None
    subject = " ".join(f.get("subject", []) + f.get("vv", [])) or None
    return HeaderBlock(
        superior=" ".join(orgs[:-1]) or None,
        issuer=orgs[-1] if orgs else None,
        number=f["number"][0] if f.get("number") else None,
        national=national,
        place_date=f["place_date"][0] if f.get("place_date") else None,
        doc_type=f["doc_type"][0] if f.get("doc_type") else None,
        subject=subject,
    )


# ------------------------------------------------------------------------------------------ closing scan
def _closing_table(rows: list[list[str]]) -> bool:
    """The borderless table at the end of Word files: "Nơi nhận" on the left, the signature right."""
    lines = _table_columns(rows)
    if any(_NOI_NHAN_RE.match(line) for line in lines):
        return True
    kinds = [_signature_kind(line) for line in lines]
    return bool(lines) and all(kinds) and "role" in kinds


def _expand_closing_tables(items: list[_Item]) -> list[_Item]:
    out: list[_Item] = []
    for n, item in enumerate(items):
        if item.kind == "table" and n >= len(items) // 2 and len(item.rows) <= 8 and _closing_table(item.rows):
            out += [_Item("line", line, line, page=item.page) for line in _table_columns(item.rows)]
        else:
            out.append(item)
    return out


def _closing(items: list[_Item]) -> tuple[list[_Item], list[str]]:
    """Split off "Nơi nhận" and the signature; an appendix (PHỤ LỤC) or a table after them stays a block."""
    items = _expand_closing_tables(items)
    lines = [(n, it) for n, it in enumerate(items) if it.kind == "line"]
    start = next((n for n, it in lines if n > 0 and _NOI_NHAN_RE.match(it.text)), None)
    if start is not None:
        while start > 1 and items[start - 1].kind == "line" and _signature_kind(items[start - 1].text) in (
                "role", "signed", "decor"):
            start -= 1
    else:
        start = _trailing_signature(items)
    if start is None:
        return items, []
    body, closing = items[:start], []
    resumed = False
    for item in items[start:]:
        if not resumed and item.kind == "line" and not _APPENDIX_RE.match(_fold(item.text)):
            if item.given == "list_item" and item.numbering:
                closing.append(f"{item.numbering} {item.text}")  # Word numbering: "- Như trên;"
            elif not _DECOR.match(item.text):
                closing.append(item.text)
            continue
        resumed = True
        body.append(item)
    return body, closing


def _trailing_signature(items: list[_Item]) -> int | None:
    """Index of a signature block at the very end ("TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH / (Đã ký) / Name")."""
    n = len(items)
    kinds: list[str] = []
    while n > 1 and items[n - 1].kind == "line":
        kind = _signature_kind(items[n - 1].text)
        if kind is None or kinds[-3:] == ["name"] * 3:
            break
        kinds.append(kind)
        n -= 1
    while kinds and kinds[-1] in ("name", "decor"):  # the block starts with a role, never a bare name
        kinds.pop()
        n += 1
    return n if any(k in ("role", "signed") for k in kinds) else None


# ------------------------------------------------------------------------------------------ body
@dataclass
class _State:
    blocks: list[Block] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)  # bullet symbols open in the current list
    last_heading: Block | None = None
    last_structural: int = 0  # level of the last numbered or capitals heading
    arabic: int = 0  # level of the last arabic-numbered heading under the current level-1 heading

    def heading(self, text: str, level: int, item: _Item, numbering: str | None = None, *,
                label: bool = False, structural: bool = True) -> None:
        block = Block(kind="heading", text=text, level=max(level, 1), numbering=numbering, label=label,
                      bold=item.bold, page=item.page)
        self.blocks.append(block)
        self.last_heading = block
        self.bullets = []
        if structural:
            self.last_structural = block.level
        if block.level == 1:
            self.arabic = 0

    def paragraph(self, text: str, item: _Item) -> None:
        self.blocks.append(Block(kind="paragraph", text=text, bold=item.bold, page=item.page))

    def item(self, text: str, numbering: str | None, level: int, item: _Item) -> None:
        self.blocks.append(Block(kind="list_item", text=text, numbering=numbering, level=max(level, 1),
                                 bold=item.bold, page=item.page))


def _bullet_key(symbol: str) -> str:
    return "-" if symbol in _DASHES else symbol


def _bullet(text: str) -> tuple[str, str] | None:
    m = _BULLET_RE.match(text)
    if not m:
        return None
    rest = m.group("rest").strip()
    if not rest or _DECOR.match(rest):
        return None
    if not m.group("gap") and not (rest[0].isalpha() or rest[0] in "\"'“‘«("):
        return None  # "-5% so với cùng kỳ", "+12 hộ": a signed figure, not a bullet
    return m.group("b"), rest


def _numbered_level(num: _Numbered, state: _State) -> int:
    if num.kind in ("part", "roman", "capital"):
        return 1
    if num.kind == "arabic":
        return num.depth + 1
    return max(3, state.arabic + 1)


def _heading_like(rest: str, bold: bool) -> bool:
    """A numbered line is a heading unless it reads as a sentence (long, or ending in "." with figures)."""
    if is_capitals(rest):
        return True
    words = _words(rest)
    if rest.endswith(";"):
        return False
    if rest.endswith(".") and not rest.endswith("..."):
        return words <= 8 and not any(c.isdigit() for c in rest)
    return words <= (30 if bold else 25)


def _body(items: list[_Item]) -> list[Block]:
    state = _State()
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if item.kind == "table":
            rows = [[clean_line(c) for c in row] for row in item.rows]  # a cell's lines joined by spaces
            state.blocks.append(Block(kind="table", rows=rows, header_rows=min(item.header_rows, len(rows)),
                                      page=item.page))
            continue
        text = item.text
        if item.given == "list_item" and (item.numbering or not _DECOR.match(text)):
            _given_item(item, state)  # Word numbered it: an item, even with "*" for text
            continue
        if _DECOR.match(text):
            continue
        num = _numbered(text) if not _KINH_GUI_RE.match(text) else None
        if num is not None and (num.rest == "" or _starts_upper(num.rest)):
            following = items[i] if i < len(items) else None
            if num.rest == "" and following is not None and following.kind == "line" \
                    and following.given != "list_item" and _numbered(following.text) is None \
                    and _heading_like(following.text, following.bold):
                num.rest = following.text  # "PHẦN THỨ NHẤT" / "KẾT QUẢ ĐẠT ĐƯỢC" on the next line
                i += 1
            _numbered_line(num, item, state)
            continue
        if item.given == "heading":
            level = item.level or (state.last_heading.level + 1 if state.last_heading else 1)
            state.heading(text, min(level, 9), item, item.numbering)
            continue
        bullet = _bullet(text)
        if bullet is not None:
            symbol, rest = bullet
            key = _bullet_key(symbol)
            if key in state.bullets:
                del state.bullets[state.bullets.index(key) + 1:]
            else:
                state.bullets.append(key)
            state.item(rest, symbol, len(state.bullets), item)
            continue
        label = None if _KINH_GUI_RE.match(text) else _label(text)
        if label is not None:
            state.heading(label[0], 2, item, label=True, structural=False)
            if label[1]:
                state.paragraph(label[1], item)
            continue
        last = i >= len(items)
        if not last and is_capitals(text) and _words(text) >= 2 and _words(text) <= 20 and len(text) <= 160 \
                and not text.endswith((".", ",", ";", "|")):
            state.heading(text, 1, item)
            continue
        if not last and item.bold and _words(text) <= 20 and len(text) <= 150 and not text.endswith((".", ",", ";")):
            level = 1 if state.last_heading is None else min(state.last_structural + 1, 3) if \
                state.last_structural else state.last_heading.level
            state.heading(text, level, item, structural=False)
            continue
        state.paragraph(text, item)
    return state.blocks


def _given_item(item: _Item, state: _State) -> None:
    """A list item the reader knew (Word numbering): its level as given, a typed bullet taken off."""
    text, numbering = item.text, item.numbering
    bullet = _bullet(text)
    if bullet is not None and numbering is None:
        numbering, text = bullet
    state.item(text, numbering, item.level or 1, item)


def _numbered_line(num: _Numbered, item: _Item, state: _State) -> None:
    level = item.level if item.given == "heading" and item.level else _numbered_level(num, state)
    rest = num.rest
    if item.given != "heading":
        m = _LABEL_REST_RE.match(rest)
        if m and _words(m.group("rest")) >= 6 and _words(m.group("label")) <= 10:
            _numbered_heading(num, m.group("label"), level, item, state)  # "1. Về kinh tế: tổng giá trị …"
            state.paragraph(m.group("rest").strip(), item)
            return
        if not _heading_like(rest, item.bold):
            state.item(rest, num.numbering, 1, item)
            return
    _numbered_heading(num, rest, level, item, state)


def _numbered_heading(num: _Numbered, text: str, level: int, item: _Item, state: _State) -> None:
    state.heading(text, level, item, num.numbering)
    if num.kind == "arabic":
        state.arabic = level


# ------------------------------------------------------------------------------------------ entry point
def build(blocks: list[Block], *, source: SourceKind, title: str | None = None) -> Document:
    """A `Document` from paragraph/table blocks in reading order (with bold, heading and list hints).

    The header block is looked for at the top, the closing at the end; what lies between becomes
    headings, labels, list items, paragraphs and tables. Nothing is invented: plain news text stays
    paragraphs and has no header block.
    """
    items = _items(blocks)
    header, start, end = _header(items)
    body, closing = _closing(items[:start] + items[end:])
    doc_title = clean_line(title) if title else None
    return Document(blocks=_body(body), header=header, closing=closing, title=doc_title or None,
                    source=source)


def guess_header_rows(rows: list[list[str]]) -> int:
    """1 when the first row has no digits and a later row has some (labels over figures), else 0."""
    if len(rows) < 2 or any(c.isdigit() for cell in rows[0] for c in cell):
        return 0
    return 1 if any(c.isdigit() for row in rows[1:] for cell in row for c in cell) else 0

