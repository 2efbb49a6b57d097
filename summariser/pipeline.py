"""The extractive pipeline: cleaned text -> sections, figures, metadata, warnings.

Pure and rule-based (regular expressions only): a 5 KB report takes about a millisecond, and no
Vietnamese NLP library is imported. Every item and figure text is a slice of `clean_text(text)`,
so every number shown is written in the report exactly so.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from summariser import compress, fastre, learned, metadata
from summariser.boilerplate import strip_boilerplate
from summariser.figures import find_figures, parse_number
from summariser.models import Rejection, Summary
from summariser.normalise import normalise
from summariser.sections import Draft, layout
from summariser.segment import Piece
from summariser.units import Structured, Unit, from_document
from summariser.validate import check

if TYPE_CHECKING:
    from documents.models import Document, HeaderBlock

ENGINE_VERSION: Final = "2.0"  # 2: sections from the learned model (summariser.learned)

WARN_NO_SHORTCOMINGS: Final = "Báo cáo không nêu hạn chế, tồn tại."
WARN_NO_TASKS: Final = "Báo cáo không nêu nhiệm vụ thời gian tới."
WARN_NO_RESULTS: Final = "Không tìm thấy kết quả cụ thể trong báo cáo."
WARN_TRUNCATED: Final = "Văn bản có vẻ bị cắt cụt (kết thúc giữa chừng); bản tóm tắt có thể thiếu."
_FUNCTION_WORDS: Final = ("và", "của", "các", "những", "với", "trong", "để", "cho", "là", "được", "đã", "sẽ", "về",
                          "tại", "từ", "theo", "như", "có", "nhằm", "đến", "bằng")


def _function_end(line: str) -> bool:
    r"""`re.search(r"(?:\b(?:và|của|...|bằng)|[,;:])\s*(?:…|\.\.\.)$", line)` for a line without a line
    break, read from its end: an ellipsis right after a mark or a function word that starts a word."""
    for ellipsis in ("…", "..."):
        if not line.endswith(ellipsis):
            continue
        core = line[: len(line) - len(ellipsis)].rstrip()
        if core.endswith((",", ";", ":")):
            return True
        for word in _FUNCTION_WORDS:
            if core.endswith(word):
                before = core[len(core) - len(word) - 1: len(core) - len(word)]
                if not before or not (before.isalnum() or before == "_"):
                    return True
    return False
_CONTINUED: Final = re.compile(r"\((?:còn nữa|còn tiếp|kỳ sau|tiếp theo)\)\s*$|\[\s*\.\.\.\s*\]\s*$", re.IGNORECASE)


@lru_cache(maxsize=8)
def clean_text(text: str) -> str:
    """Normalise (NFC, tone placement, whitespace) and strip web boilerplate.

    Deterministic and idempotent: `Item.source` spans of `summarise(text)` index into
    `clean_text(text)`. Memoised because callers chain clean -> check -> summarise on one text.
    """
    return strip_boilerplate(normalise(text))


def check_report(text: str, *, cleaned: str | None = None) -> Rejection | None:
    """None when `text` looks like a Vietnamese meeting report, else why not (Vietnamese and English).

    `cleaned`: `clean_text(text)` when the caller has it (the bot cleans once, then checks)."""
    if cleaned is None:
        cleaned = clean_text(text) if text and "\x00" not in text else ""
    return check(text, cleaned)


def _item(spans: list[tuple[int, int]], text: str) -> dict[str, object]:
    """An `Item` as the data `Summary.model_validate` takes (one validation for the whole summary)."""
    return {"text": text, "source": [{"start": a, "end": b} for a, b in spans]}


def _truncated(cleaned: str) -> bool:
    last = cleaned.rstrip().rsplit("\n", 1)[-1].strip()
    if not last:
        return False
    # (each pattern can only match the end of the line: tried only when the line ends so)
    if last.endswith((")", "]")) and _CONTINUED.search(last):
        return True
    if _function_end(last):
        return True
    return len(last.split(None, 7)) >= 8 and not last.endswith((".", "!", "?", "…", '"', "”", ")", "»"))


def _structured(source: str | Document) -> Structured:
    """The summariser's input. Plain text (and a web page or a paste without a header block) is
    cleaned whole, as crawled text needs; a file's Document block by block, with its structure."""
    if isinstance(source, str):
        return Structured(clean_text(source), [])
    if source.header is None and source.source in ("text", "html"):
        return Structured(clean_text(source.text()), [], warnings=list(source.warnings))
    return from_document(source)


def cleaned_source(source: str | Document) -> str:
    """The text the items of `summarise(source)` are slices of (their `source` spans index into it)."""
    return _structured(source).text


_DATE_LINE: Final = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})|(\d{1,2})/(\d{1,2})/(\d{4})",
                               re.IGNORECASE)


def _header_date(header: HeaderBlock) -> dt.date | None:
    """The date of the place-and-date line; None for the blank form ("ngày   tháng   năm 2023")."""
    m = _DATE_LINE.search(header.place_date or "")
    if not m:
        return None
    d, mo, y = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
    try:
        return dt.date(int(y), int(mo), int(d))
    except ValueError:
        return None


def _header_unit(header: HeaderBlock) -> str | None:
    """The issuing body's unit, never its superior's ("ĐẢNG BỘ TỈNH THANH HÓA / HUYỆN ỦY YÊN ĐỊNH"
    is huyện Yên Định); a sector body with no place level is the unit itself ("Cục Thuế Hưng Yên")."""
    if not header.issuer:
        return None
    issuer = " ".join(header.issuer.split())
    if header.superior and not _ORGAN_START.match(issuer):
        # a name wrapped over two lines ("BỘ NÔNG NGHIỆP VÀ PHÁT" / "TRIỂN NÔNG THÔN") is one issuer
        issuer = " ".join(header.superior.split()) + " " + issuer
    readable = metadata.readable_title(issuer)
    place = metadata.find_unit(readable, [], readable)
    if place and metadata.sector_led(readable) and readable.find(place) > 0:
        # a sector body of a place is the unit, not the place ("CÔNG AN TỈNH SÓC TRĂNG")
        return readable[: readable.find(place)] + place
    return place or _cased_name(issuer)


_ORGAN_START: Final = re.compile(
    r"(?:BỘ|SỞ|CỤC|TỔNG CỤC|CHI CỤC|ỦY BAN|UỶ BAN|UBND|HĐND|HỘI ĐỒNG|HUYỆN ỦY|HUYỆN UỶ|TỈNH ỦY|TỈNH UỶ|THÀNH ỦY|"
    r"THÀNH UỶ|THỊ ỦY|THỊ UỶ|QUẬN ỦY|QUẬN UỶ|ĐẢNG ỦY|ĐẢNG UỶ|ĐẢNG BỘ|BAN|CÔNG AN|VĂN PHÒNG|PHÒNG|TRƯỜNG|"
    r"BỘ TƯ LỆNH|BỘ CHỈ HUY|SƯ ĐOÀN|QUÂN KHU|CHI BỘ|MẶT TRẬN|LIÊN ĐOÀN|HỘI|ĐOÀN|KHO BẠC|NGÂN HÀNG|BẢO HIỂM|"
    r"VIỆN|TÒA ÁN|THANH TRA|TẬP ĐOÀN|TỔNG CÔNG TY|CÔNG TY|TRUNG TÂM|CHÍNH PHỦ|NGÀNH)\b", re.IGNORECASE)


_VOWELS: Final = "AĂÂEÊIOÔƠUƯYÁÀẢÃẠẮẰẲẴẶẤẦẨẪẬÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ"
# One Vietnamese syllable in capitals: an initial consonant (cluster), vowels, a final consonant. A
# word that is none ("ATGT", "BĐBP", "VH-TT&DL") is an abbreviation and keeps its capitals.
_SYLLABLE: Final = re.compile(
    rf"(?:NGH|CH|GH|GI|KH|NG|NH|PH|QU|TH|TR|[BCDĐGHKLMNPQRSTVX])?[{_VOWELS}]+(?:CH|NG|NH|[CMNPT])?")


def _cased_name(name: str) -> str:
    """An all-capitals body name as written in running text: "CỤC THUẾ HƯNG YÊN" -> "Cục Thuế Hưng Yên",
    abbreviations kept ("ỦY BAN ATGT QUỐC GIA" -> "Ủy Ban ATGT Quốc Gia")."""
    if any(c.islower() for c in name):
        return name
    return " ".join(w if not _SYLLABLE.fullmatch(w) else w.capitalize() for w in name.split())


_CELL_UNIT: Final = re.compile(r"\(([^()]{1,20})\)\s*$")
_BARE_NUMBER: Final = re.compile(r"^\s*(\d[\d.,]*)\s*$")


def _cell_figures(cell: str) -> list[tuple[int, int, str, float | None, str | None, str | None, str | None]]:
    """Figures of a table cell: those the text gives, or the cell's bare number (the column header
    says what it counts)."""
    found = [(f.start, f.end, f.text, f.value, f.unit, f.label, f.kind) for f in compress.figures_in(cell)]
    if len(found) == 1:
        start, end, _text, value, unit, label, kind = found[0]
        rest = cell[end:].strip()
        if not cell[:start].strip() and rest and len(rest.split()) <= 3 and not any(c.isdigit() for c in rest):
            # a value cell is the value and its unit ("6/137 DNNN", "99 nhóm"), whatever the unit word
            whole = cell.rstrip()
            return [(start, len(whole), whole[start:], value, unit or rest, label, kind)]
    if found:
        return found
    m = _BARE_NUMBER.match(cell)
    if not m or len(m.group(1).replace(".", "").replace(",", "")) > 15:
        return []
    return [(m.start(1), m.end(1), m.group(1), parse_number(m.group(1)), None, None, None)]


def _column_kind(column: str) -> str | None:
    """A table column's header says what its numbers are: "Kế hoạch", "Chỉ tiêu", "So với dự toán (%)"."""
    low = column.lower()
    if re.search(r"\b(?:so với|tỷ lệ|đạt)\b", low):
        return "share"
    if re.search(r"\b(?:chỉ tiêu|mục tiêu|phấn đấu)\b", low):
        return "target"
    if re.search(r"\b(?:kế hoạch|dự toán)\b", low):
        return "plan"
    if re.search(r"\b(?:tăng|giảm)\b", low):
        return "growth"
    return "actual" if low else None


def _table_figures(units: list[Unit], text: str) -> list[dict[str, object]]:
    """Figures of table rows with their row and column labels ("Thu ngân sách — Thực hiện").

    A row's label is its first cell with letters (not the STT column); a column's label is the
    header row's cell, whose "(tỷ đồng)" names the unit when the cell gives none."""
    out: list[dict[str, object]] = []
    header: list[str] = []
    table: int | None = None
    for u in units:
        if u.kind != "table_row":
            continue
        cells: list[tuple[int, str]] = []
        pos = 0
        for cell in u.text.split(" | "):
            cells.append((u.piece.start + pos, cell))
            pos += len(cell) + 3
        if u.table != table:
            table, header = u.table, []
            if u.header_row or not any(c.isdigit() for _, c in cells):
                header = [c for _, c in cells]
                continue
        if u.header_row:
            header = [c for _, c in cells]
            continue
        row_label = next((c.strip() for _, c in cells if re.search(r"[^\W\d_]{2}", c)
                          and not compress.has_figure(c)), None)
        numeric = [(i, start, found) for i, (start, c) in enumerate(cells)
                   if c.strip() != (row_label or "") and i > 0 and (found := _cell_figures(c))]
        for i, start, found in numeric:
            column = header[i].strip() if i < len(header) else ""
            m = _CELL_UNIT.search(column)
            label_col = _CELL_UNIT.sub("", column).strip()
            for f_start, f_end, text_, value, unit, f_label, f_kind in found:
                if unit is None and m:
                    unit = m.group(1).strip()
                label = row_label or f_label
                if label and label_col and len(numeric) > 1:
                    label = f"{label} — {label_col}"
                kind = f_kind or _column_kind(column)
                out.append({"text": text_, "value": value, "unit": unit, "label": label, "section": "results",
                            "kind": kind, "source": {"start": start + f_start, "end": start + f_end}})
    return out


# One report at a time per process: a report's state lives in module globals (`fastre.begin`,
# `compress.reset`) and the CRF tagger is one object whose `set()` then `marginal()` another thread
# must not interleave (seen: "position N is out of range" with 20 reports in the bot's thread pool).
# Threads share one core through the GIL anyway; processes each have their own lock and tagger.
_ONE_REPORT = threading.Lock()


def summarise(source: str | Document, *, title: str | None = None) -> Summary:
    """Structured summary of one report (plain text or a `documents.Document`); never raises."""
    with _ONE_REPORT:
        return _summarise(source, title)


def _summarise(source: str | Document, title: str | None) -> Summary:
    compress.reset()
    st = _structured(source)
    cleaned = st.text
    fastre.begin(cleaned)  # offsets of pieces index into `cleaned`
    lay = layout(cleaned, st.units or None, structured=st.structured)
    if lay.parts:
        # the report names its parts ("II. HẠN CHẾ", "Nhiệm vụ tháng 12:"): its headings decide
        chosen = [(d.section, [(p.start, p.end) for p in d.sources], text, d.clause)
                  for d, text in _dedupe(lay.drafts)]
    else:
        # the section model learned from real reports decides (summariser.learned)
        chosen = [(section, spans, text, Piece(spans[0][0], spans[-1][1], cleaned[spans[0][0]: spans[-1][1]]))
                  for section, spans, text in _dedupe_items(learned.label(cleaned, st.units or None, lay=lay))]

    figures: list[dict[str, object]] = []  # `Figure`s, validated with the summary
    seen: set[tuple[int, int]] = set()
    for section, _, _, clause in chosen:
        # (the words before the clause can say it states a target: "Các chỉ tiêu chủ yếu gồm: …")
        for f in find_figures(clause.text, cleaned[max(0, clause.start - 400): clause.start]):
            key = (clause.start + f.start, clause.start + f.end)
            if key in seen:
                continue
            seen.add(key)
            figures.append({"text": f.text, "value": f.value, "unit": f.unit, "label": f.label,
                            "kind": f.kind, "period": f.period,
                            "section": section, "source": {"start": key[0], "end": key[1]}})
    for f in _table_figures(st.units, cleaned):
        src = f["source"]
        key = (src["start"], src["end"])  # type: ignore[index]
        if key not in seen:
            seen.add(key)
            figures.append(f)

    header = st.header
    raw_title = st.title if st.title else (lay.title.text if lay.title else None)
    title_text = metadata.readable_title(raw_title) if raw_title else None
    lead_text = ". ".join(([title_text] if title_text else []) + [p.text for p in lay.lead])
    whole = "\n".join(p.text for p in lay.content)
    year = metadata.infer_year(lead_text, whole)
    raw = source if isinstance(source, str) else source.text()
    lead_sentences = ([title_text] if title_text else []) + [p.text for p in lay.lead]
    dated_lead = lead_sentences if raw_title else ["", *lead_sentences]  # no title: the first sentence alone
    date = _header_date(header) if header is not None else None
    if date is None:
        published = metadata.publication_date(raw)
        date = metadata.find_date(dated_lead, year, None, whole, published)
        if date is None and isinstance(source, str):
            # a dateline the cleaning took for furniture (a sapo repeated as a caption); a year it does
            # not write comes from the publication line or the text, as for the lead
            dropped = metadata.dropped_top_lines(source, cleaned)
            if dropped:
                date = metadata.find_date(["", *dropped], year, None, whole, published)
    period_lead = lead_sentences
    if header is not None and header.subject and any(u.kind == "heading" for u in st.units):
        # an official document states what it covers in its subject line, the opening before its first
        # heading and its headings ("I. KẾT QUẢ … 6 THÁNG ĐẦU NĂM 2024"); the items and tables under the
        # headings date their own figures ("Năm 2012 có 429 DN …")
        stated: list[str] = []
        before_headings = True
        for u in st.units:
            if u.kind == "heading":
                before_headings = False
                stated.append(metadata.readable_title(u.text))
            elif u.kind == "paragraph" and before_headings:
                stated.append(u.text)
        period_lead = ([title_text] if title_text else []) + stated
    # a period written without its year ("9 tháng qua") is of the meeting's year
    period = metadata.find_period(period_lead, whole, date.year if date else year)
    lead_sentences = dated_lead
    body = metadata.find_body(lead_text)
    unit = _header_unit(header) if header is not None else None
    if unit is None:
        unit = metadata.find_organ([s for s in lead_sentences[:3] if s]) or metadata.find_unit(
            lead_text, [p.text for p in lay.content], ". ".join(lead_sentences[:2]))
    if unit is not None:
        unit = metadata.as_written(unit, raw)
    summary = Summary.model_validate({
        "unit": unit,
        "body": body,
        "meeting": metadata.find_meeting(lead_text, body, period),
        "title": title if title is not None else raw_title,
        "date": date,
        "period": period,
        "results": [_item(spans, text) for section, spans, text, _ in chosen if section == "results"],
        "shortcomings": [_item(spans, text) for section, spans, text, _ in chosen if section == "shortcomings"],
        "tasks": [_item(spans, text) for section, spans, text, _ in chosen if section == "tasks"],
        "figures": figures,
        "warnings": list(st.warnings),
        "engine": "extractive",
        "engine_version": ENGINE_VERSION,
    })
    if cleaned.strip():
        if not summary.results:
            summary.warnings.append(WARN_NO_RESULTS)
        if not summary.shortcomings:
            summary.warnings.append(WARN_NO_SHORTCOMINGS)
        if not summary.tasks:
            summary.warnings.append(WARN_NO_TASKS)
        if _truncated(cleaned):
            summary.warnings.append(WARN_TRUNCATED)
    return summary


def _dedupe_items(found: list[tuple[str, list[tuple[int, int]], str]]) -> list[
        tuple[str, list[tuple[int, int]], str]]:
    """Drop an item whose text is already inside an earlier item of the same section."""
    out: list[tuple[str, list[tuple[int, int]], str]] = []
    seen: dict[str, list[str]] = {}
    for section, spans, text in found:
        key = text.lower()
        earlier = seen.setdefault(section, [])
        if any(key in o for o in earlier):
            continue
        earlier.append(key)
        out.append((section, spans, text))
    return out


def _lowered(d: Draft) -> str:
    """`d.text` lower-cased, from slices of the report's lower-cased copy (`fastre.begin`) rather than
    lower-casing each item again."""
    body = " ".join(fastre.folded(p.text, p.start) for p in d.spans)
    return f"{fastre.folded(d.prefix.text, d.prefix.start)}: {body}" if d.prefix else body


def _dedupe(drafts: list[Draft]) -> list[tuple[Draft, str]]:
    """Drop an item whose text is already inside an earlier item of the same section (each kept
    draft with its text, which is built once)."""
    out: list[tuple[Draft, str]] = []
    seen: dict[str, list[str]] = {}
    for d in drafts:
        text = d.text
        key = _lowered(d)
        earlier = seen.setdefault(d.section, [])
        if any(key in o for o in earlier):
            continue
        earlier.append(key)
        out.append((d, text))
    return out
