"""One handler per command. Each one authorises first, reads only the caller's scope, and answers
something for every input (a usage line for a wrong or missing argument, never silence)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.access import Caller, ascii_int, authorise
from bot.config import Settings
from bot.export_docx import build_docx
from bot.ratelimit import SendOptions
from bot.render import (
    brief_message,
    cap_units,
    esc,
    figure_line,
    group_items,
    render_corrections,
    render_hit,
    render_summary,
    report_label,
    report_line,
    split_html,
    when_marked,
)
from bot.replies import (
    brief_keyboard,
    confirm_delete_keyboard,
    pager_keyboard,
    safe_chat_action,
    send_html,
)
from storage import Repository, StoredReport
from summariser.brief import shorten, utf16_len

log = logging.getLogger(__name__)

MAX_ID = 2**63 - 1
SEARCH_PAGE = 5
LATEST_DEFAULT, LATEST_MAX = 5, 20

# (command, description) for setMyCommands and /help; Vietnamese, as users see them.
COMMANDS: list[tuple[str, str]] = [
    ("start", "Bắt đầu sử dụng bot"),
    ("help", "Hướng dẫn sử dụng"),
    ("search", "Tìm báo cáo theo từ khóa"),
    ("latest", "Các báo cáo mới nhất"),
    ("report", "Xem tóm tắt báo cáo theo mã"),
    ("unit", "Báo cáo và số liệu của một đơn vị"),
    ("tasks", "Nhiệm vụ thời gian tới"),
    ("shortcomings", "Hạn chế, tồn tại"),
    ("export", "Xuất báo cáo tóm tắt ra tệp Word"),
    ("delete", "Xóa một báo cáo"),
    ("merge", "Ghép hai báo cáo của cùng một hội nghị"),
    ("set", "Sửa đơn vị, ngày họp hoặc kỳ báo cáo của một báo cáo"),
    ("approve", "Quản trị: duyệt người dùng"),
    ("block", "Quản trị: chặn người dùng"),
    ("users", "Quản trị: danh sách người dùng"),
]

USAGE = {
    "search": "Cách dùng: /search <từ khóa>, ví dụ: /search giải phóng mặt bằng",
    "latest": f"Cách dùng: /latest [n], n từ 1 đến {LATEST_MAX}, ví dụ: /latest 10",
    "report": "Cách dùng: /report <mã báo cáo>, ví dụ: /report 12",
    "unit": "Cách dùng: /unit <tên đơn vị>, ví dụ: /unit Gia Lộc",
    "tasks": "Cách dùng: /tasks [đơn vị], ví dụ: /tasks hoặc /tasks Gia Lộc",
    "shortcomings": "Cách dùng: /shortcomings [đơn vị], ví dụ: /shortcomings hoặc /shortcomings Gia Lộc",
    "export": "Cách dùng: /export <mã báo cáo>, ví dụ: /export 12",
    "delete": "Cách dùng: /delete <mã báo cáo>, ví dụ: /delete 12",
    "merge": "Cách dùng: /merge <mã báo cáo> <mã báo cáo>, ví dụ: /merge 6 7 (báo cáo 7 được ghép vào 6)",
    "set": "Cách dùng: /set <mã báo cáo> đơn vị|ngày|kỳ <giá trị>, ví dụ: /set 12 ngày 15/07/2026",
    "approve": "Cách dùng: /approve <id người dùng>, ví dụ: /approve 123456789",
    "block": "Cách dùng: /block <id người dùng>, ví dụ: /block 123456789",
    "users": "Cách dùng: /users (không cần tham số)",
}

ADMIN_ONLY = "Lệnh này chỉ dành cho quản trị viên."
NOT_FOUND = "Không tìm thấy báo cáo <code>#{id}</code>."
NO_DELETE_RIGHT = "Chỉ người gửi báo cáo hoặc quản trị viên mới được xóa báo cáo này."


def _repo(context: ContextTypes.DEFAULT_TYPE) -> Repository:
    return context.bot_data["repo"]


def _settings(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return context.bot_data["settings"]


def _arg_text(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or []).strip()


def parse_report_id(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The single "12" or "#12" argument; None when missing or malformed."""
    args = context.args or []
    digits = args[0].removeprefix("#") if len(args) == 1 else ""
    if not (0 < len(digits) <= 30 and digits.isascii() and digits.isdigit()):  # '²'/'①' are isdigit() too
        return None
    return int(digits)  # beyond SQLite's range: get_report finds nothing


def parse_user_id(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    args = context.args or []
    if len(args) != 1:
        return None
    return ascii_int(args[0], -MAX_ID, MAX_ID)


async def usage(update: Update, name: str) -> None:
    if update.effective_message is not None:
        await send_html(update.get_bot(), update.effective_message.chat_id, esc(USAGE[name]))


async def get_report(context: ContextTypes.DEFAULT_TYPE, caller: Caller, report_id: int) -> StoredReport | None:
    """A report of the caller's scope only (ids beyond SQLite's range simply do not exist)."""
    if report_id > MAX_ID:
        return None
    return await _repo(context).get_report(caller.scope, report_id)


def may_delete(caller: Caller, report: StoredReport) -> bool:
    return caller.is_admin or (report.user_id is not None and report.user_id == caller.user_id)


# --- shared actions (commands and buttons) -------------------------------------------------------


async def corrected(repo: Repository, report: StoredReport) -> StoredReport:
    """The report as the officials corrected it (its summary with every correction applied)."""
    if report.summary is None:
        return report
    summary = await repo.corrected_summary(report.id, report.scope)
    return report.model_copy(update={"summary": summary}) if summary is not None else report


async def send_report(bot: Bot, chat_id: int, report: StoredReport, repo: Repository | None = None,
                      *, with_corrections: bool = False) -> None:
    """The summary as corrected, with the buttons; `with_corrections` appends the record of who
    changed what (/report shows it, so a fix is never silent)."""
    up = down = 0
    blocks_extra = ""
    if repo is not None:
        report = await corrected(repo, report)
        tally = await repo.feedback(report.id, report.scope)
        up, down = tally.up, tally.down
        if with_corrections:
            blocks_extra = render_corrections(await repo.corrections(report.id, report.scope))
    messages = render_summary(report)
    if blocks_extra:
        messages = split_html([*messages, blocks_extra])
    await send_html(bot, chat_id, messages, brief_keyboard(report.id, up, down))


CORRECTIONS_SHOWN = 8  # the newest fixes listed under a brief; the older ones are counted


async def send_brief(bot: Bot, chat_id: int, report: StoredReport, repo: Repository | None = None, *,
                     warnings: Iterable[str] = (), notice: str | None = None,
                     with_corrections: bool = False, options: SendOptions | None = None) -> Message | None:
    """The first reply to a report (and /report): the brief of the corrected summary with its
    buttons; `with_corrections` adds the record of who changed what (so a fix is never silent),
    the newest `CORRECTIONS_SHOWN` of them, so the message stays well under Telegram's limit.
    `options`: the limiter's, for the first message (`bot.replies.reply_once`)."""
    up = down = 0
    record = ""
    if repo is not None:
        report = await corrected(repo, report)
        tally = await repo.feedback(report.id, report.scope)
        up, down = tally.up, tally.down
        if with_corrections:
            fixes = await repo.corrections(report.id, report.scope)
            record = render_corrections(fixes[-CORRECTIONS_SHOWN:])
            if len(fixes) > CORRECTIONS_SHOWN:
                record += f"\n<i>… và {len(fixes) - CORRECTIONS_SHOWN} chỉnh sửa trước đó.</i>"
    text = brief_message(report, warnings, notice)
    messages = split_html([text, record]) if record else [text]
    return await send_html(bot, chat_id, messages, brief_keyboard(report.id, up, down), options)


async def send_docx(bot: Bot, chat_id: int, report: StoredReport) -> None:
    await safe_chat_action(bot, chat_id, ChatAction.UPLOAD_DOCUMENT)
    data = await asyncio.get_running_loop().run_in_executor(None, build_docx, report)
    await bot.send_document(
        chat_id,
        InputFile(data, filename=f"bao-cao-tom-tat-{report.id}.docx"),
        caption=cap_units(f"Báo cáo tóm tắt #{report.id} — {report_label(report)}", 1000),  # UTF-16 units
    )


async def ask_delete(bot: Bot, chat_id: int, report: StoredReport) -> None:
    await send_html(
        bot,
        chat_id,
        f"Xóa báo cáo <code>#{report.id}</code> ({esc(report_label(report))})? Thao tác này không hoàn tác được.",
        confirm_delete_keyboard(report.id),
    )


LIST_SEP = "\x1f"  # between a list's section and unit in a remembered key (PostgreSQL text holds no NUL)


async def remember_search(context: ContextTypes.DEFAULT_TYPE, scope: int, query: str) -> str:
    """A short key for (scope, query) to put in callback data (which is limited to 64 bytes),
    kept in the database: the next-page button may reach another replica."""
    key = hashlib.sha1(f"{scope}\x00{query}".encode()).hexdigest()[:10]
    await _repo(context).remember_search(key, scope, query)
    return key


async def recall_search(context: ContextTypes.DEFAULT_TYPE, key: str) -> tuple[int, str] | None:
    return await _repo(context).recall_search(key)


async def search_page(
    context: ContextTypes.DEFAULT_TYPE, caller: Caller, query: str, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await _repo(context).search(caller.scope, query, limit=SEARCH_PAGE, offset=offset)
    if page.total == 0 or not page.hits:
        return f"Không tìm thấy báo cáo nào khớp «{esc(query)}».", None
    pages = (page.total + SEARCH_PAGE - 1) // SEARCH_PAGE
    current = offset // SEARCH_PAGE
    lines = [f"🔎 Kết quả tìm «{esc(query)}»: {page.total} báo cáo (trang {current + 1}/{pages})"]
    lines += [render_hit(offset + i + 1, hit) for i, hit in enumerate(page.hits)]
    key = await remember_search(context, caller.scope, query)
    open_buttons = [
        InlineKeyboardButton(f"#{hit.report_id}", callback_data=f"rep:{hit.report_id}") for hit in page.hits
    ]
    keyboard = pager_keyboard(f"s:{key}:", current, pages, extra=open_buttons)
    text = "\n\n".join(lines)
    if utf16_len(text) > 4096:  # snippets are short, but never send what Telegram refuses (UTF-16 units)
        text = split_html(lines, 4096)[0]
    return text, keyboard


# --- commands ------------------------------------------------------------------------------------


def help_text(context: ContextTypes.DEFAULT_TYPE, is_admin: bool) -> str:
    lines = [
        "<b>Bot tóm tắt báo cáo hội nghị</b>",
        "Gửi báo cáo dưới dạng tin nhắn, tin chuyển tiếp, tệp .docx, .pdf, .txt hoặc đường link bài viết. "
        "Bot lưu lại và tóm tắt thành: kết quả nổi bật (kèm số liệu), hạn chế, tồn tại và nhiệm vụ thời gian tới. "
        "Báo cáo dài gửi thành nhiều tin liên tiếp sẽ được ghép lại thành một.",
        "",
        "<b>Tra cứu</b>",
    ]
    admin = {"approve", "block", "users"}
    for name, desc in COMMANDS:
        if name in ("start", "help") or name in admin:
            continue
        usage_hint = USAGE.get(name, "").removeprefix("Cách dùng: ").split(",")[0]
        lines.append(f"{esc(usage_hint or '/' + name)} — {esc(desc)}")
    extra: list[tuple[str, str]] = context.bot_data.get("extra_commands", [])
    if extra:
        lines += ["", "<b>Bản tin tổng hợp</b>"]
        lines += [f"/{esc(name)} — {esc(desc)}" for name, desc in extra]
    if is_admin:
        lines += ["", "<b>Quản trị</b>"]
        lines += [
            f"{esc(USAGE[name].removeprefix('Cách dùng: ').split(',')[0])} — {esc(desc)}"
            for name, desc in COMMANDS
            if name in admin
        ]
    return "\n".join(lines)


async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    intro = (
        "Xin chào! Hãy gửi báo cáo hội nghị (tin nhắn, tệp hoặc đường link), bot sẽ tóm tắt ngay.\n\n"
    )
    await send_html(context.bot, caller.chat_id, intro + help_text(context, caller.is_admin))


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Help reveals no data, so it is answered even before approval."""
    if update.effective_message is None:
        return
    is_admin = False
    user = update.effective_user
    if user is not None:
        stored = await _repo(context).get_user(user.id)
        is_admin = user.id in _settings(context).admins or (stored is not None and stored.role == "admin")
    await send_html(context.bot, update.effective_message.chat_id, help_text(context, is_admin))


async def cmd_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    query = _arg_text(context)[:200]
    if not query:
        await usage(update, "search")
        return
    text, keyboard = await search_page(context, caller, query, 0)
    await send_html(context.bot, caller.chat_id, text, keyboard)


async def cmd_latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    args = context.args or []
    n = LATEST_DEFAULT
    if args:
        parsed = ascii_int(args[0], 1, LATEST_MAX) if len(args) == 1 else None
        if parsed is None:
            await usage(update, "latest")
            return
        n = parsed
    reports = await _repo(context).latest(caller.scope, n)
    if not reports:
        await send_html(context.bot, caller.chat_id, "Chưa có báo cáo nào. Hãy gửi báo cáo đầu tiên cho bot.")
        return
    blocks = [f"<b>{len(reports)} báo cáo mới nhất</b>"] + [report_line(r) for r in reports]
    buttons = [InlineKeyboardButton(f"#{r.id}", callback_data=f"rep:{r.id}") for r in reports]
    keyboard = InlineKeyboardMarkup([buttons[i : i + 5] for i in range(0, len(buttons), 5)])
    await send_html(context.bot, caller.chat_id, split_html(blocks), keyboard)


async def _report_argument(
    update: Update, context: ContextTypes.DEFAULT_TYPE, command: str
) -> tuple[Caller, StoredReport] | None:
    """The caller and the report named by `/<command> <id>` in the caller's scope; None once the
    user has been told why not (not allowed, usage, not found)."""
    caller = await authorise(update, context)
    if caller is None:
        return None
    report_id = parse_report_id(context)
    if report_id is None:
        await usage(update, command)
        return None
    report = await get_report(context, caller, report_id)
    if report is None:
        await send_html(context.bot, caller.chat_id, NOT_FOUND.format(id=report_id))
        return None
    return caller, report


async def cmd_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = await _report_argument(update, context, "report")
    if found is None:
        return
    caller, report = found
    await send_brief(context.bot, caller.chat_id, report, _repo(context), with_corrections=True)


async def cmd_unit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    query = _arg_text(context)[:200]
    if not query:
        await usage(update, "unit")
        return
    reports = await _repo(context).by_unit(caller.scope, query, limit=20)
    if not reports:
        await send_html(context.bot, caller.chat_id, f"Không tìm thấy báo cáo nào của đơn vị «{esc(query)}».")
        return
    groups: dict[str, list[StoredReport]] = {}
    for r in reports:
        groups.setdefault(r.unit or query, []).append(r)
    blocks: list[str] = []
    for unit, unit_reports in groups.items():
        blocks.append(f"🏛 <b>{esc(unit)}</b>: {len(unit_reports)} báo cáo")
        blocks += [report_line(r) for r in unit_reports]
        blocks.append("\n<b>Số liệu qua các kỳ</b>")
        chronological = sorted(unit_reports, key=lambda r: (r.meeting_date or r.received_at.date(), r.id))
        for r in chronological:
            figures = [f for f in (r.summary.figures if r.summary else []) if f.section in ("results", "other")]
            when = when_marked(r.meeting_date, r.received_at)
            period = f" · {esc(r.summary.period)}" if r.summary and r.summary.period else ""
            head = f"<i>{when}{period}</i> <code>#{r.id}</code>"
            if not figures:
                blocks.append(f"{head}\n• <i>không có số liệu</i>")
                continue
            lines = [f"• {figure_line(f)}" for f in figures[:12]]
            more = f"\n• <i>… và {len(figures) - 12} số liệu khác (/report {r.id})</i>" if len(figures) > 12 else ""
            blocks.append(head + "\n" + "\n".join(lines) + more)
        blocks.append("")
    await send_html(context.bot, caller.chat_id, split_html(blocks))


SECTION_PAGE_CHARS = 3500  # a page of /tasks or /shortcomings, leaving room for the title line


async def section_page(
    context: ContextTypes.DEFAULT_TYPE, caller: Caller, section: str, unit: str | None, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /tasks or /shortcomings (grouped by unit, near-duplicates merged) and its pager."""
    items = await _repo(context).section_items(caller.scope, section, unit_query=unit, limit=300)  # type: ignore[arg-type]
    what = "nhiệm vụ thời gian tới" if section == "tasks" else "hạn chế, tồn tại"
    where = f" của đơn vị «{esc(unit)}»" if unit else ""
    if not items:
        return f"Chưa có {what} nào trong các báo cáo{where}.", None
    title = "📌 <b>Nhiệm vụ thời gian tới</b>" if section == "tasks" else "⚠️ <b>Hạn chế, tồn tại</b>"
    reports = len({it.report_id for it in items})
    pages = split_html(group_items(items), SECTION_PAGE_CHARS)
    page = max(0, min(page, len(pages) - 1))
    counter = f" (trang {page + 1}/{len(pages)})" if len(pages) > 1 else ""
    head = f"{title}{where} — {len(items)} mục từ {reports} báo cáo{counter}"
    key = await remember_search(context, caller.scope, f"{section}{LIST_SEP}{unit or ''}")
    return f"{head}\n{pages[page]}", pager_keyboard(f"sec:{key}:", page, len(pages))


async def _section_command(update: Update, context: ContextTypes.DEFAULT_TYPE, section: str) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    unit = _arg_text(context)[:200] or None
    text, keyboard = await section_page(context, caller, section, unit, 0)
    await send_html(context.bot, caller.chat_id, text, keyboard)


async def cmd_tasks(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _section_command(update, context, "tasks")


async def cmd_shortcomings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _section_command(update, context, "shortcomings")


async def cmd_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = await _report_argument(update, context, "export")
    if found is None:
        return
    caller, report = found
    await send_docx(context.bot, caller.chat_id, await corrected(_repo(context), report))


async def cmd_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = await _report_argument(update, context, "delete")
    if found is None:
        return
    caller, report = found
    if not may_delete(caller, report):
        await send_html(context.bot, caller.chat_id, NO_DELETE_RIGHT)
        return
    await ask_delete(context.bot, caller.chat_id, report)


# --- merging (issue 12) --------------------------------------------------------------------------


def parse_two_ids(context: ContextTypes.DEFAULT_TYPE) -> tuple[int, int] | None:
    """`/merge 6 7` or `/merge #6 #7`: two report ids, else None."""
    args = context.args or []
    if len(args) != 2:
        return None
    digits = [a.removeprefix("#") for a in args]
    if not all(d.isascii() and d.isdigit() and len(d) <= 19 for d in digits):  # ASCII only: not '²'
        return None
    first, second = int(digits[0]), int(digits[1])
    return (first, second) if 0 < first <= MAX_ID and 0 < second <= MAX_ID else None


async def cmd_merge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Join a report sent in two pieces: the second's text goes after the first's and the first is
    summarised again by the engine, as a new report is, so its metadata come from the whole text."""
    caller = await authorise(update, context)
    if caller is None:
        return
    ids = parse_two_ids(context)
    if ids is None:
        await usage(update, "merge")
        return
    first_id, second_id = ids
    if first_id == second_id:
        await send_html(context.bot, caller.chat_id, "Không thể ghép một báo cáo với chính nó.")
        return
    reports = [await get_report(context, caller, i) for i in ids]
    for report_id, report in zip(ids, reports, strict=True):
        if report is None:
            await send_html(context.bot, caller.chat_id, NOT_FOUND.format(id=report_id))
            return
        if not may_delete(caller, report):
            await send_html(
                context.bot, caller.chat_id,
                f"Chỉ người gửi hoặc quản trị viên mới được ghép báo cáo <code>#{report_id}</code>.",
            )
            return
    try:
        merged = await _repo(context).merge_reports(first_id, second_id, caller.scope, caller.user_id)
    except KeyError as exc:
        await send_html(context.bot, caller.chat_id, NOT_FOUND.format(id=exc.args[0]))
        return
    except ValueError as exc:
        log.info("merge %s+%s refused: %s", first_id, second_id, exc)
        await send_html(
            context.bot, caller.chat_id,
            f"Không ghép được <code>#{first_id}</code> và <code>#{second_id}</code>: một trong hai đã được "
            "ghép trước đó, hoặc văn bản ghép đã có trong một báo cáo khác.",
        )
        return
    from bot.ingest import get_ingestor  # ingest imports the renderers this module uses

    notice = (
        f"Đã ghép báo cáo <code>#{second_id}</code> vào <code>#{first_id}</code>; "
        "đang tóm tắt lại toàn bộ văn bản."
    )
    await get_ingestor(context).summarise_and_reply(merged, caller.chat_id, notice)


# --- unit / date / period (issue 12 part 5) ------------------------------------------------------

# field code (callback data) -> (correction kind, what the official reads)
FIELDS: dict[str, tuple[str, str]] = {
    "u": ("set_unit", "đơn vị"),
    "d": ("set_date", "ngày họp"),
    "p": ("set_period", "kỳ báo cáo"),
}
FIELD_BY_LABEL = {label: code for code, (_, label) in FIELDS.items()}
FIELD_VALUE_CAP = 200  # UTF-16 units: a unit or period is a name, never a paragraph
CLEAR = "-"
# The prompt's first line names the field and the report: the official's reply to it is parsed
# from the replied-to message alone (no per-process memory, so a restart in between is harmless).
PROMPT_RE = re.compile(r"\A✏️ Sửa (đơn vị|ngày họp|kỳ báo cáo) của báo cáo #([0-9]{1,19})(?![0-9])")
_DATE_RE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")  # ASCII digits only: not '²' or '١'
# `/set 12 ngày 15/07/2026`: the field word, with or without diacritics, then the value
_SET_RE = re.compile(
    r"(?P<field>đơn vị|don vi|unit|ngày họp|ngay hop|ngày|ngay|date|kỳ báo cáo|ky bao cao|kỳ|ky|period)"
    r"(?:\s+(?P<value>.*))?",
    re.IGNORECASE | re.DOTALL,
)
_SET_FIELDS = {"đơn vị": "u", "don vi": "u", "unit": "u", "ngày họp": "d", "ngay hop": "d", "ngày": "d",
               "ngay": "d", "date": "d", "kỳ báo cáo": "p", "ky bao cao": "p", "kỳ": "p", "ky": "p", "period": "p"}
DATE_USAGE = "cần một ngày có thật, dạng dd/mm/yyyy bằng chữ số (ví dụ 15/07/2026)."


def parse_meeting_date(text: str) -> date | None:
    """dd/mm/yyyy in ASCII digits, a real calendar day between 1900 and 2100; None otherwise."""
    found = _DATE_RE.fullmatch(text.strip())
    if found is None:
        return None
    day, month, year = (int(g) for g in found.groups())
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_field_value(code: str, raw: str) -> tuple[str | None, str | None]:
    """(value to store, None) or (None, the Vietnamese reason). "-" clears the field (value None,
    no reason). A date is stored as YYYY-MM-DD, a unit or period as typed, spaces collapsed."""
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    label = FIELDS[code][1]
    if text == CLEAR:
        return None, None
    if code == "d":
        day = parse_meeting_date(text)
        if day is None:
            return None, f"Ngày họp không hợp lệ: «{shorten(text, 40)}» — {DATE_USAGE}"
        return day.isoformat(), None
    if not any(ch.isalnum() for ch in text):
        return None, f"Chưa nhận được {label}; vui lòng nhập {label} mới hoặc «-» để xóa."
    if utf16_len(text) > FIELD_VALUE_CAP:
        return None, f"{label.capitalize()} dài quá {FIELD_VALUE_CAP} ký tự; vui lòng nhập ngắn gọn hơn."
    return text, None


def _current(report: StoredReport, code: str) -> str:
    s = report.summary
    value = None
    if s is not None:
        value = {"u": s.unit, "d": s.date.strftime("%d/%m/%Y") if s.date else None, "p": s.period}[code]
    return esc(shorten(value, 120)) if value else "<i>chưa có</i>"


def field_prompt(report: StoredReport, code: str, problem: str | None = None) -> tuple[str, ForceReply]:
    """The prompt whose reply sets the field: its first line is what `PROMPT_RE` reads back;
    `problem` (escaped here) says why the last answer was refused. `report`: as corrected."""
    label = FIELDS[code][1]
    form = ", dạng dd/mm/yyyy (ví dụ 15/07/2026)" if code == "d" else ""
    how = f"Trả lời tin nhắn này bằng {label} mới{form}; gửi «-» để xóa."
    lines = [f"✏️ Sửa {label} của báo cáo <code>#{report.id}</code>", f"Hiện tại: {_current(report, code)}."]
    if problem:
        lines.append(f"⚠️ {esc(problem)}")
    lines.append(esc(how))
    placeholder = {"u": "Ví dụ: huyện Gia Lộc", "d": "dd/mm/yyyy", "p": "Ví dụ: 6 tháng đầu năm 2024"}[code]
    return "\n".join(lines), ForceReply(input_field_placeholder=placeholder)


async def ask_field(bot: Bot, chat_id: int, report: StoredReport, code: str, problem: str | None = None) -> None:
    text, markup = field_prompt(report, code, problem)
    await bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup)


async def set_field(bot: Bot, repo: Repository, caller: Caller, report: StoredReport, code: str, raw: str) -> None:
    """Store the official's unit/date/period as a correction (who and when, like every fix), then
    show the corrected brief; a value that does not parse gets the reason and the prompt again."""
    value, problem = parse_field_value(code, raw)
    if problem is not None:
        await ask_field(bot, caller.chat_id, await corrected(repo, report), code, problem)
        return
    kind, label = FIELDS[code]
    try:
        await repo.add_correction(report.id, caller.scope, caller.user_id, kind, value=value)  # type: ignore[arg-type]
    except (KeyError, ValueError) as exc:
        log.info("setting %s of #%s refused: %s", kind, report.id, exc)
        await send_html(bot, caller.chat_id, NOT_FOUND.format(id=report.id))
        return
    shown = date.fromisoformat(value).strftime("%d/%m/%Y") if code == "d" and value else value
    what = f"{label} mới: {esc(shown)}" if shown else f"đã xóa {label}"
    notice = f"✅ Đã sửa báo cáo <code>#{report.id}</code> — {what}."
    await send_brief(bot, caller.chat_id, report, repo, notice=notice)


async def cmd_set(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/set <id> đơn vị|ngày|kỳ <giá trị>`; without a value, the prompt the ✏️ buttons send."""
    caller = await authorise(update, context)
    if caller is None:
        return
    args = context.args or []
    report_id = ascii_int(args[0].removeprefix("#"), 1, MAX_ID) if args else None
    found = _SET_RE.fullmatch(unicodedata.normalize("NFC", " ".join(args[1:]))) if report_id else None
    if report_id is None or found is None:
        await usage(update, "set")
        return
    report = await get_report(context, caller, report_id)
    if report is None:
        await send_html(context.bot, caller.chat_id, NOT_FOUND.format(id=report_id))
        return
    code = _SET_FIELDS[found.group("field").lower()]
    if not (found.group("value") or "").strip():
        await ask_field(context.bot, caller.chat_id, await corrected(_repo(context), report), code)
        return
    await set_field(context.bot, _repo(context), caller, report, code, found.group("value"))


# --- admin ---------------------------------------------------------------------------------------


async def set_user_role(context: ContextTypes.DEFAULT_TYPE, caller: Caller, user_id: int, role: str) -> str:
    """Approve (member) or block a user or a group chat; the answer for the admin, as HTML."""
    settings = _settings(context)
    repo = _repo(context)
    if role == "blocked" and (user_id in settings.admins or user_id == caller.user_id):
        return "Không thể chặn quản trị viên hoặc chính mình."
    stored, _ = await repo.ensure_user(user_id, None, "pending")
    if role == "member" and (stored.role == "admin" or user_id in settings.admins):
        return f"<code>{user_id}</code> đã là quản trị viên."
    updated = await repo.set_role(user_id, role)  # type: ignore[arg-type]
    name = esc((updated or stored).display_name or "")
    label = f"<code>{user_id}</code>{' ' + name if name else ''}"
    if role == "member":
        if user_id > 0:
            try:
                await context.bot.send_message(
                    user_id, "Tài khoản của bạn đã được duyệt. Gõ /help để xem cách sử dụng bot."
                )
            except TelegramError as exc:
                log.info("could not tell user %s about approval: %s", user_id, exc)
        return f"Đã duyệt {label}."
    return f"Đã chặn {label}."


async def _admin_role_command(update: Update, context: ContextTypes.DEFAULT_TYPE, name: str, role: str) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    if not caller.is_admin:
        await send_html(context.bot, caller.chat_id, ADMIN_ONLY)
        return
    user_id = parse_user_id(context)
    if user_id is None:
        await usage(update, name)
        return
    await send_html(context.bot, caller.chat_id, await set_user_role(context, caller, user_id, role))


async def cmd_approve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _admin_role_command(update, context, "approve", "member")


async def cmd_block(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _admin_role_command(update, context, "block", "blocked")


ROLE_TITLES = {"pending": "Chờ duyệt", "admin": "Quản trị viên", "member": "Thành viên", "blocked": "Bị chặn"}


async def cmd_users(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    if not caller.is_admin:
        await send_html(context.bot, caller.chat_id, ADMIN_ONLY)
        return
    if context.args:
        await usage(update, "users")
        return
    users = await _repo(context).list_users()
    blocks: list[str] = [f"<b>Người dùng</b>: {len(users)}"]
    for role, title in ROLE_TITLES.items():
        group = [u for u in users if u.role == role]
        if not group:
            continue
        lines = [f"\n<b>{title}</b> ({len(group)})"]
        lines += [f"• <code>{u.id}</code> {esc(u.display_name or '')}".rstrip() for u in group]
        blocks.append(lines[0] + "\n" + lines[1])
        blocks += lines[2:]
    await send_html(context.bot, caller.chat_id, split_html(blocks))


async def cmd_unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message: Message | None = update.effective_message
    if message is None:
        return
    await send_html(context.bot, message.chat_id, "Lệnh không có trong danh sách. Gõ /help để xem các lệnh của bot.")


HANDLERS: dict[str, Any] = {
    "start": cmd_start,
    "help": cmd_help,
    "search": cmd_search,
    "latest": cmd_latest,
    "report": cmd_report,
    "unit": cmd_unit,
    "tasks": cmd_tasks,
    "shortcomings": cmd_shortcomings,
    "export": cmd_export,
    "delete": cmd_delete,
    "merge": cmd_merge,
    "set": cmd_set,
    "approve": cmd_approve,
    "block": cmd_block,
    "users": cmd_users,
}
