"""Telegram HTML for summaries and lists.

Every piece of report text goes through `esc` before any tag is added; tags are only ever added
by this module. Messages are packed from whole blocks (items) so a split never cuts an item in
two unless the item alone is longer than a message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import date, datetime

from storage.models import Correction, SearchHit, SectionItem, StoredReport
from summariser.brief import LIMIT as BRIEF_LIMIT
from summariser.brief import SEPARATOR, make_brief, shorten, utf16_len
from summariser.brief import capitalise as brief_capitalise
from summariser.models import Figure, Item, Summary

MESSAGE_LIMIT = 4096
SECTION_TITLES = {
    "results": "Kết quả nổi bật",
    "shortcomings": "Hạn chế, tồn tại",
    "tasks": "Nhiệm vụ thời gian tới",
}
SECTION_MISSING = {
    "results": "Báo cáo không nêu kết quả nổi bật.",
    "shortcomings": "Báo cáo không nêu hạn chế, tồn tại.",
    "tasks": "Báo cáo không nêu nhiệm vụ thời gian tới.",
}
SOURCE_LABELS = {"text": "tin nhắn", "forward": "tin chuyển tiếp", "document": "tệp", "url": "đường link"}
STATE_LABELS = {"received": "đang xử lý", "summarised": "đã tóm tắt", "failed": "tóm tắt lỗi"}


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=False)


def fmt_int(n: int) -> str:
    """12345 -> "12.345" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def fmt_date(value: date | datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


# --- splitting ---------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"<[^>]*>|&[#\w]+;|[^<&]+|[<&]", re.S)
_TAG_RE = re.compile(r"<(/?)([a-zA-Z0-9-]+)[^>]*>")


def _fit(text: str, room: int) -> int:
    """The largest `i` with `text[:i]` within `room` UTF-16 units (Telegram's count: an emoji
    outside the BMP counts 2); slicing at `i` never splits a surrogate pair (str holds code points)."""
    lo, hi = 0, min(len(text), max(room, 0))  # utf16_len(text[:lo]) <= room always
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if utf16_len(text[:mid]) <= room else (lo, mid - 1)
    return lo


def _split_long_line(line: str, limit: int) -> list[str]:
    """Split one over-long HTML line without cutting a tag or an entity; tags open at a cut are
    closed and reopened, so each piece is valid HTML on its own. Lengths in UTF-16 units."""
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag as written)
    current = base = ""  # base: the tags reopened at the start of the current piece
    size = utf16_len

    def close_len() -> int:
        return sum(len(name) + 3 for name, _ in stack)

    def has_text() -> bool:  # more than the tags reopened: a piece of "<b></b>" says nothing
        return bool(_TAG_RE.sub("", current))

    def flush() -> None:
        nonlocal current, base
        pieces.append(current + "".join(f"</{name}>" for name, _ in reversed(stack)))
        base = current = "".join(tag for _, tag in stack)

    for match in _TOKEN_RE.finditer(line):
        token = match.group(0)
        tag = _TAG_RE.fullmatch(token)
        if tag and tag.group(1):  # closing tag: already reserved in close_len()
            current += token
            if stack and stack[-1][0] == tag.group(2).lower():
                stack.pop()
            continue
        if tag or (token.startswith("&") and len(token) > 1):
            extra = len(tag.group(2)) + 3 if tag else 0
            if size(current) + size(token) + close_len() + extra > limit and has_text():
                flush()
            current += token
            if tag:
                stack.append((tag.group(2).lower(), token))
            continue
        text = token
        while text:
            room = limit - size(current) - close_len()
            if size(text) <= room:
                current += text
                break
            fit = _fit(text, room)
            cut = text.rfind(" ", 0, fit + 1) if fit > 0 else -1
            if cut <= 0:
                if has_text():
                    flush()
                    continue
                cut = max(fit, 1)  # a single word longer than a message
            current += text[:cut]
            text = text[cut:].lstrip(" ")
            flush()
    if has_text():
        pieces.append(current + "".join(f"</{name}>" for name, _ in reversed(stack)))
    return pieces


def _split_block(block: str, limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for line in block.split("\n"):
        parts = [line] if utf16_len(line) <= limit else _split_long_line(line, limit)
        for part in parts:
            candidate = f"{current}\n{part}" if current else part
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    out.append(current)
                current = part
    if current:
        out.append(current)
    return out


def split_html(blocks: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pack blocks (joined by newlines) into messages of at most `limit` UTF-16 units (Telegram's
    count), splitting only between blocks; a block longer than the limit is split on line
    boundaries (and an over-long line between words, tags kept balanced). The raw HTML is
    counted, which is never less than what Telegram counts once the tags are parsed."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if not block:
            continue
        if utf16_len(block) > limit:
            if current:
                messages.append(current)
                current = ""
            pieces = _split_block(block, limit)
            messages.extend(pieces[:-1])
            current = pieces[-1] if pieces else ""
            continue
        candidate = f"{current}\n{block}" if current else block
        if utf16_len(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def split_plain(text: str, limit: int) -> list[str]:
    """Plain text into pages of at most `limit` UTF-16 units on line (then word) boundaries; escape
    each page afterwards (escaping lengthens the text, so callers leave headroom)."""
    pages: list[str] = []
    current = ""
    for line in text.split("\n"):
        while utf16_len(line) > limit:
            fit = max(_fit(line, limit), 1)
            cut = line.rfind(" ", 0, fit)
            cut = cut if cut > fit // 2 else fit
            head, line = line[:cut], line[cut:].lstrip(" ")
            if current:
                pages.append(current)
                current = ""
            pages.append(head)
        candidate = f"{current}\n{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
        else:
            pages.append(current)
            current = line
    if current.strip():
        pages.append(current)
    return pages or [""]


# --- figures -----------------------------------------------------------------------------------


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def bold_figures(text: str, figures: Iterable[str]) -> str:
    """Escape `text` and wrap in <b> exactly the substrings equal to a figure's text (longest first,
    never overlapping, never inside a longer number or word)."""
    spans: list[tuple[int, int]] = []
    for fig in sorted({f for f in figures if f and f.strip()}, key=len, reverse=True):
        start = 0
        while (pos := text.find(fig, start)) != -1:
            end = pos + len(fig)
            start = pos + 1
            before = text[pos - 1] if pos > 0 else ""
            after = text[end] if end < len(text) else ""
            if (before and _is_word_char(before) and _is_word_char(fig[0])) or (
                after and _is_word_char(after) and _is_word_char(fig[-1])
            ):
                continue
            if any(pos < e and end > s for s, e in spans):
                continue
            spans.append((pos, end))
    spans.sort()
    out: list[str] = []
    last = 0
    for s, e in spans:
        out.append(esc(text[last:s]))
        out.append(f"<b>{esc(text[s:e])}</b>")
        last = e
    out.append(esc(text[last:]))
    return "".join(out)


def _figure_texts(summary: Summary) -> list[str]:
    return [f.text for f in summary.figures if f.text]


def render_item(item: Item, figures: list[str]) -> str:
    return "• " + bold_figures(capitalise(item.text), figures)


# --- summaries ---------------------------------------------------------------------------------


def report_label(report: StoredReport) -> str:
    """Short plain-text name of a report: unit, else title, else the first words of the text."""
    s = report.summary
    for candidate in (s.unit if s else None, report.title, s.title if s else None):
        if candidate:
            return candidate
    first = report.text.strip().split("\n", 1)[0]
    return first[:60] + ("…" if len(first) > 60 else "")


HEADER_CAP = 300  # UTF-16 units of a header line: a title, never a page


def render_header(report: StoredReport) -> str:
    s = report.summary
    title = (s.title if s and s.title else None) or report.title or "Tóm tắt báo cáo"
    lines = [f"📋 <b>{esc(shorten(title, HEADER_CAP))}</b>"]  # (a link's <title> may be 3,000 emoji)
    lines.append(f"Đơn vị: {esc(shorten(s.unit, HEADER_CAP)) if s and s.unit else '<i>không nêu</i>'}")
    if s and s.meeting:
        lines.append(f"Hội nghị: {esc(shorten(s.meeting, HEADER_CAP))}")
    if s and s.date:
        lines.append(f"Ngày: {fmt_date(s.date)}")
    if s and s.period:
        lines.append(f"Kỳ báo cáo: {esc(shorten(s.period, HEADER_CAP))}")
    lines.append(f"Nguồn: {source_label(report)}")
    lines.append(f"Mã báo cáo: <code>#{report.id}</code>")
    return "\n".join(lines)


def summary_blocks(report: StoredReport) -> list[str]:
    blocks = [render_header(report)]
    s = report.summary
    if s is None:
        state = STATE_LABELS.get(report.state, report.state)
        blocks.append(f"\n<i>Chưa có bản tóm tắt ({esc(state)}).</i>")
        return blocks
    figures = _figure_texts(s)
    for section, title in SECTION_TITLES.items():
        items = s.section(section)  # type: ignore[arg-type]
        heading = f"\n<b>{title}</b>"
        if not items:
            blocks.append(f"{heading}\n<i>{SECTION_MISSING[section]}</i>")
            continue
        for i, item in enumerate(items):
            rendered = render_item(item, figures)
            blocks.append(f"{heading}\n{rendered}" if i == 0 else rendered)
    return blocks


def render_summary(report: StoredReport, limit: int = MESSAGE_LIMIT, warnings: Iterable[str] = ()) -> list[str]:
    """The summary reply, split on item boundaries into messages under the limit; `warnings` (the
    reader's, e.g. that the text was recognised from an image) go right under the header, where the
    reader of the summary looks before trusting its figures."""
    blocks = summary_blocks(report)
    notice = render_warnings(warnings)
    if notice:
        blocks.insert(1, notice)
    return split_html(blocks, limit)


OCR_NOTICE = "Văn bản được nhận dạng từ ảnh (OCR); vui lòng đối chiếu số liệu với bản gốc."


def render_warnings(warnings: Iterable[str]) -> str:
    """One "⚠️" line per distinct warning, escaped (the text comes from the document readers)."""
    seen = list(dict.fromkeys(w.strip() for w in warnings if w and w.strip()))
    return "\n".join(f"⚠️ <i>{esc(w)}</i>" for w in seen)


# --- lists -------------------------------------------------------------------------------------


def capitalise(text: str) -> str:
    """An item as lists show it: stripped, its first letter upper-cased (summariser.brief's rule,
    the same in the brief, the lists and Word)."""
    return brief_capitalise(text.strip())


def when_marked(meeting_date: date | None, received_at: date | datetime | None) -> str:
    """The meeting date marked "ngày họp"; only when it is unknown the received date, marked "nhận",
    so a reader never mistakes one for the other."""
    if meeting_date:
        return f"ngày họp {fmt_date(meeting_date)}"
    if received_at:
        return f"nhận {fmt_date(received_at)}"
    return ""


def list_line(report_id: int, unit: str | None, meeting: str | None, meeting_date: date | None,
              received_at: date | datetime | None) -> str:
    """The one line format of a report in every list: `#id · unit · meeting · ngày họp dd/mm/yyyy`."""
    parts = [f"<code>#{report_id}</code>", esc(unit) if unit else "<i>không rõ đơn vị</i>"]
    if meeting:
        parts.append(esc(meeting))
    when = when_marked(meeting_date, received_at)
    if when:
        parts.append(when)
    return " · ".join(parts)


def report_line(report: StoredReport) -> str:
    s = report.summary
    meeting = (s.meeting if s else None) or (None if s and s.unit else report.title)
    state = "" if report.state == "summarised" else f" <i>({esc(STATE_LABELS.get(report.state, ''))})</i>"
    return list_line(report.id, report.unit, meeting, report.meeting_date, report.received_at) + state


def marked_snippet(snippet: str) -> str:
    """\\x02..\\x03 match markers into <b>..</b>, after escaping; unbalanced markers are closed."""
    out: list[str] = []
    open_ = False
    for part in re.split(r"([\x02\x03])", snippet):
        if part == "\x02":
            if not open_:
                out.append("<b>")
                open_ = True
        elif part == "\x03":
            if open_:
                out.append("</b>")
                open_ = False
        else:
            out.append(esc(part.replace("\n", " ")))
    if open_:
        out.append("</b>")
    return "".join(out)


def render_hit(n: int, hit: SearchHit) -> str:
    """A hit in the list format, then the report's sentence holding the query (the snippet when the
    repository gave no sentence)."""
    meeting = hit.meeting_name or (None if hit.unit else hit.title)  # as report_line names it
    line = list_line(hit.report_id, hit.unit, meeting, hit.meeting_date, hit.received_at)
    sentence = getattr(hit, "sentence", "")  # a storage without sentences gives the snippet only
    return f"{n}. {line}\n   {marked_snippet(sentence or hit.snippet)}"


NEAR_DUPLICATE = 0.8  # share of syllables (of the longer item) two items must share to be one line


def _syllables(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def near_duplicate(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / max(len(a), len(b)) >= NEAR_DUPLICATE


def merge_items(items: list[SectionItem]) -> list[tuple[str, list[SectionItem]]]:
    """(unit, [items]) groups in first-seen order, near-duplicates (the same task repeated by several
    reports or twice in one) folded into one entry whose first item is the one shown."""
    groups: dict[str, list[list[SectionItem]]] = {}
    keys: dict[str, list[set[str]]] = {}
    for it in items:
        unit = it.unit or "Không rõ đơn vị"
        words = _syllables(it.text)
        entries, seen = groups.setdefault(unit, []), keys.setdefault(unit, [])
        for i, other in enumerate(seen):
            if near_duplicate(words, other):
                entries[i].append(it)
                break
        else:
            entries.append([it])
            seen.append(words)
    return [(unit, entry) for unit, entries in groups.items() for entry in entries]


def merged_line(entry: list[SectionItem]) -> str:
    """One line for an item and its repeats: the count and the report ids when it came back."""
    ids = list(dict.fromkeys(it.report_id for it in entry))
    refs = ", ".join(f"#{i}" for i in ids)
    count = f" <i>({len(entry)} lần)</i>" if len(entry) > 1 else ""
    return f"• {esc(capitalise(entry[0].text))}{count} <code>{refs}</code>"


def group_items(items: list[SectionItem]) -> list[str]:
    """Items grouped by unit (units in first-seen order), near-duplicates merged, each with its ids."""
    blocks: list[str] = []
    last_unit = None
    for unit, entry in merge_items(items):
        line = merged_line(entry)
        blocks.append(f"\n<b>{esc(unit)}</b>\n{line}" if unit != last_unit else line)
        last_unit = unit
    return blocks


def figure_line(fig: Figure) -> str:
    label = f"{esc(fig.label)}: " if fig.label else ""
    return f"{label}<b>{esc(fig.text)}</b>"


# --- corrections -------------------------------------------------------------------------------

SECTION_CODES = {"results": "k", "shortcomings": "h", "tasks": "n"}  # callback data: one letter
CODE_SECTIONS = {code: name for name, code in SECTION_CODES.items()}
SECTION_SHORT = {"results": "Kết quả", "shortcomings": "Hạn chế", "tasks": "Nhiệm vụ"}


def item_choices(summary: Summary) -> list[tuple[str, int, str]]:
    """(section, index, label like "K2") of every item, in the order the summary shows them; the
    label is what the official sees both in the list and on the button."""
    out: list[tuple[str, int, str]] = []
    for section in SECTION_TITLES:
        for i, _ in enumerate(summary.section(section)):  # type: ignore[arg-type]
            out.append((section, i, f"{SECTION_CODES[section].upper()}{i + 1}"))
    return out


CHOICE_CAP = 200  # UTF-16 units an item shows in the ✏️ list: enough to recognise it


def render_item_choices(report_id: int, summary: Summary) -> str:
    """The items numbered as their buttons are, so the official picks the one to fix."""
    lines = [f"✏️ <b>Sửa tóm tắt #{report_id}</b>: chọn mục cần chuyển sang phần khác hoặc bỏ đi; "
             "hoặc sửa đơn vị, ngày họp, kỳ báo cáo bằng các nút cuối."]
    room = (MESSAGE_LIMIT - 600) // max(1, len(item_choices(summary)))  # every item listed, one message
    cap = max(40, min(CHOICE_CAP, room))
    for section, title in SECTION_TITLES.items():
        items = summary.section(section)  # type: ignore[arg-type]
        if not items:
            continue
        lines.append(f"\n<b>{title}</b>")
        code = SECTION_CODES[section].upper()
        lines += [f"{code}{i + 1}. {esc(shorten(capitalise(it.text), cap))}" for i, it in enumerate(items)]
    return split_html(lines)[0]


def _short(text: str | None, n: int = 80) -> str:
    text = (text or "").strip()
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


def correction_line(fix: Correction) -> str:
    """Who fixed what and when, in one line of the report's record."""
    when = fix.created_at.strftime("%d/%m/%Y %H:%M") if fix.created_at else ""
    who = f"người dùng <code>{fix.user_id}</code>" if fix.user_id is not None else "không rõ người sửa"
    item = f"«{esc(_short(fix.item_text))}»"
    if fix.kind == "move":
        what = f"chuyển {item} từ {SECTION_SHORT.get(fix.section or '', '?')} sang {SECTION_SHORT.get(fix.value or '', '?')}"
    elif fix.kind == "drop":
        what = f"bỏ {item} khỏi {SECTION_SHORT.get(fix.section or '', '?')}"
    elif fix.kind == "merge":
        what = f"ghép báo cáo <code>#{esc(fix.value)}</code> vào báo cáo này"
    else:
        field = {"set_unit": "đơn vị", "set_date": "ngày họp", "set_period": "kỳ báo cáo"}[fix.kind]
        value = fix.value
        if fix.kind == "set_date" and value:
            value = fmt_date(date.fromisoformat(value))
        what = f"đặt {field}: {esc(_short(value)) if value else '<i>(xóa)</i>'}"
    return f"• {when} · {who}: {what}"


def render_corrections(corrections: list[Correction]) -> str:
    """The block under a summary listing every correction made to it (empty when none)."""
    if not corrections:
        return ""
    return "\n<b>Chỉnh sửa của cán bộ</b>\n" + "\n".join(correction_line(c) for c in corrections)


# --- figures view and the summary paged (buttons under the brief) -------------------------------

FIGURE_KINDS = {"actual": "thực hiện", "plan": "kế hoạch", "target": "mục tiêu", "growth": "tăng trưởng",
                "share": "so với kế hoạch"}


def render_figures(report: StoredReport) -> str:
    """Every figure of the (corrected) summary with its label, kind and period, so an official can
    tell a result from a target before quoting it."""
    s = report.summary
    figures = s.figures if s else []
    head = f"📊 <b>Số liệu của báo cáo #{report.id}</b>"
    if not figures:
        return f"{head}\n<i>Báo cáo không nêu số liệu.</i>"
    lines = [head]
    for fig in figures:
        notes = [FIGURE_KINDS[fig.kind]] if fig.kind in FIGURE_KINDS else []
        if fig.period:
            notes.append(esc(fig.period))
        tail = f" <i>({', '.join(notes)})</i>" if notes else ""
        lines.append(f"• {figure_line(fig)}{tail}")
    return "\n".join(split_html(lines)[0:1])


def summary_page(report: StoredReport, page: int, limit: int = 3800) -> tuple[str, int, int]:
    """Page `page` (clamped) of the full summary, pages of at most `limit` characters; returns the
    page's HTML, its index and the number of pages (for the ◀ / ▶ buttons)."""
    pages = render_summary(report, limit)
    page = max(0, min(page, len(pages) - 1))
    return pages[page], page, len(pages)


# --- the brief: the first reply to a report (issue 12 part 1) -----------------------------------

WARNING_CAP = 200  # units per warning line: a reader's warning is a sentence, never a page
WARNINGS_MAX = 6
BRIEF_TITLE = "Tóm tắt báo cáo"


def plain_len(html_text: str) -> int:
    """What Telegram counts of an HTML message: UTF-16 units of the text once tags are parsed
    and entities unescaped (only this module adds tags, so a tag is always `<...>`)."""
    return utf16_len(html.unescape(re.sub(r"<[^>]*>", "", html_text)))


def brief_warnings(report: StoredReport, warnings: Iterable[str] = ()) -> list[str]:
    """The reader's warnings (OCR, pages skipped) then the summary's own (a section the report does
    not have, a text that ends mid-sentence), each once and each one short line."""
    own = report.summary.warnings if report.summary is not None else []
    seen = list(dict.fromkeys(w.strip() for w in [*warnings, *own] if w and w.strip()))
    return [shorten(" ".join(w.split()), WARNING_CAP) for w in seen[:WARNINGS_MAX]]


def cap_units(text: str, cap: int) -> str:
    """`text` within `cap` UTF-16 units, cut anywhere (a file name or link has no word to keep whole)."""
    if utf16_len(text) <= cap:
        return text
    text = text[: cap - 1]  # code points: never half of a surrogate pair
    while utf16_len(text) > cap - 1:
        text = text[:-1]
    return text + "…"


def source_label(report: StoredReport) -> str:
    """Where the report came from, escaped: "tệp «x.docx»", "tin chuyển tiếp từ …", the link."""
    source = SOURCE_LABELS.get(report.source_kind, report.source_kind)
    if report.forward_origin:
        source += f" từ {esc(cap_units(report.forward_origin, 80))}"
    if report.file_name:
        source += f" «{esc(cap_units(report.file_name, 100))}»"
    if report.url:
        source += f" {esc(cap_units(report.url, 200))}"
    return source


def _brief_head(report: StoredReport, title: str) -> str:
    title = title or shorten(" ".join((report.title or "").split()), 120) or BRIEF_TITLE
    return f"📋 <b>{esc(title)}</b>\nMã báo cáo: <code>#{report.id}</code> · Nguồn: {source_label(report)}"


def brief_message(report: StoredReport, warnings: Iterable[str] = (), notice: str | None = None) -> str:
    """The first reply to a report, and what /report shows first: one message an official reads on
    a phone screen. Title line, report id, then the brief's results (figures in bold),
    shortcomings and tasks, each with "+N mục khác"; `notice` (HTML already) before the title,
    the warnings under it, where the reader looks before trusting the figures.

    Its whole rendered text, warnings and notice included, is at most `BRIEF_LIMIT` (1,200) UTF-16
    units (the brief's items give way to them: a warning is what the reader must see first). The
    buttons (`bot.commands.brief_keyboard`) open the rest."""
    notes = render_warnings(brief_warnings(report, warnings))
    s = report.summary
    if s is None:
        state = STATE_LABELS.get(report.state, report.state)
        blocks = [_brief_head(report, ""), f"<i>Chưa có bản tóm tắt ({esc(state)}).</i>"]
    else:
        figures = _figure_texts(s)
        extra = (plain_len(notes) + 1 if notes else 0) + (plain_len(notice) + 2 if notice else 0)
        limit = BRIEF_LIMIT - plain_len(_brief_head(report, "")) - 2 - extra  # a first guess, checked below
        for _ in range(4):
            brief = make_brief(s, limit=max(limit, 200), text=report.text)
            blocks = [_brief_head(report, SEPARATOR.join(brief.title_parts()))]
            for sec in brief.sections:
                rows = [f"<b>{esc(sec.heading)}</b>"]
                rows += ["• " + bold_figures(it.text, figures) for it in sec.items]
                if sec.left_out:
                    rows.append(f"<i>+{sec.left_out} mục khác</i>")
                blocks.append("\n".join(rows))
            over = plain_len("\n\n".join(blocks)) + extra - BRIEF_LIMIT
            if over <= 0 or limit <= 200:
                break
            limit -= over
    if notes:
        blocks[0] += "\n" + notes
    body = "\n\n".join(blocks)
    return f"{notice}\n\n{body}" if notice else body
