"""Inline button presses. Callback data comes back from the client and may be forged or stale, so
every press re-authorises the caller and looks reports up in the caller's own scope only."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.access import Caller, ascii_int, authorise
from bot.commands import (
    ADMIN_ONLY,
    NO_DELETE_RIGHT,
    SEARCH_PAGE,
    ask_delete,
    corrected,
    get_report,
    may_delete,
    recall_search,
    search_page,
    section_page,
    send_docx,
    send_report,
    set_user_role,
)
from bot.render import (
    CODE_SECTIONS,
    SECTION_CODES,
    SECTION_SHORT,
    capitalise,
    esc,
    item_choices,
    render_figures,
    render_item_choices,
    split_plain,
    summary_page,
)
from bot.replies import edit_html, pager_keyboard, send_html
from storage import Repository

log = logging.getLogger(__name__)


def _signed(text: str) -> int | None:
    """An id that may be negative (a group chat's), ASCII digits only, within SQLite's range."""
    value = ascii_int(text[1:], 1) if text.startswith("-") else ascii_int(text)
    return None if value is None else (-value if text.startswith("-") else value)

# Everything this module answers; other packages (digests) use their own prefixes.
PATTERN = r"^(full|fp|docx|del|delok|delno|rep|s|sec|appr|blk|fix|fi|fm|fd|fb|sum|sp|fg):"
GONE = "Không tìm thấy báo cáo (có thể đã bị xóa)."
PAGE_CHARS = 3000


def text_pages(text: str, limit: int = PAGE_CHARS) -> list[str]:
    """The cleaned text as escaped pages that fit a message even when escaping lengthens them."""
    pages: list[str] = []
    for page in split_plain(text, limit):
        escaped = esc(page)
        if len(escaped) > 3900 and limit > 200:
            pages.extend(text_pages(page, limit // 2))
        else:
            pages.append(escaped)
    return pages


async def _answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:  # an old query (>15 min) cannot be answered; nothing to do
        log.debug("answerCallbackQuery failed: %s", exc)


async def _full_text(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, caller: Caller,
                     report_id: int, page: int, edit: bool) -> None:
    report = await get_report(context, caller, report_id)
    if report is None:
        await _answer(query, GONE, alert=True)
        return
    pages = text_pages(report.text)
    page = max(0, min(page, len(pages) - 1))
    text = f"<b>Toàn văn báo cáo #{report.id}</b> — trang {page + 1}/{len(pages)}\n\n{pages[page]}"
    keyboard = pager_keyboard(f"fp:{report.id}:", page, len(pages))
    await _answer(query)
    if edit and isinstance(query.message, Message):
        await edit_html(query.message, text, keyboard)
    else:
        await send_html(context.bot, caller.chat_id, text, keyboard)


async def _show(context: ContextTypes.DEFAULT_TYPE, caller: Caller, query: CallbackQuery, text: str,
                keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message; a message the bot can no longer edit gets a new one instead."""
    if isinstance(query.message, Message):
        await edit_html(query.message, text, keyboard)
    else:
        await send_html(context.bot, caller.chat_id, text, keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or not query.data:
        return
    caller = await authorise(update, context)
    if caller is None:
        return  # authorise told them why
    action, _, rest = query.data.partition(":")
    args = rest.split(":")
    # (ASCII digits in SQLite's range: "appr:99999999999999999999" raised OverflowError)
    numbers = [n for a in args if (n := _signed(a)) is not None]

    if action in ("full", "fp") and len(numbers) == 2:
        await _full_text(query, context, caller, numbers[0], numbers[1], edit=action == "fp")
        return
    if action in ("docx", "del", "delok", "delno", "rep") and len(numbers) == 1:
        report = await get_report(context, caller, numbers[0]) if numbers[0] > 0 else None
        if report is None:
            await _answer(query, GONE, alert=True)
            return
        if action == "rep":
            await _answer(query)
            await send_report(context.bot, caller.chat_id, report, context.bot_data["repo"])
        elif action == "docx":
            await _answer(query, "Đang tạo tệp Word…")
            await send_docx(context.bot, caller.chat_id, await corrected(context.bot_data["repo"], report))
        elif not may_delete(caller, report):
            await _answer(query, NO_DELETE_RIGHT, alert=True)
        elif action == "del":
            await _answer(query)
            await ask_delete(context.bot, caller.chat_id, report)
        elif action == "delno":
            await _answer(query, "Đã hủy.")
            await _show(context, caller, query, f"Đã hủy; báo cáo <code>#{report.id}</code> vẫn được giữ.")
        else:
            repo: Repository = context.bot_data["repo"]
            deleted = await repo.delete_report(caller.scope, report.id)
            await _answer(query, "Đã xóa." if deleted else GONE)
            if deleted:
                await _show(context, caller, query, f"Đã xóa báo cáo <code>#{report.id}</code>.")
        return
    if action == "s" and len(args) == 2 and ascii_int(args[1], 0, 10_000) is not None:
        remembered = recall_search(context, args[0])
        if remembered is None or remembered[0] != caller.scope:
            await _answer(query, "Kết quả tìm kiếm đã hết hạn; vui lòng tìm lại bằng /search.", alert=True)
            return
        offset = min(int(args[1]), 10_000) * SEARCH_PAGE
        text, keyboard = await search_page(context, caller, remembered[1], offset)
        await _answer(query)
        await _show(context, caller, query, text, keyboard)
        return
    if action == "sec" and len(args) == 2 and ascii_int(args[1], 0, 10_000) is not None:
        remembered = recall_search(context, args[0])
        if remembered is None or remembered[0] != caller.scope:
            await _answer(query, "Danh sách đã hết hạn; vui lòng gõ lại lệnh.", alert=True)
            return
        section, _, unit = remembered[1].partition("\x00")
        text, keyboard = await section_page(context, caller, section, unit or None, min(int(args[1]), 10_000))
        await _answer(query)
        await _show(context, caller, query, text, keyboard)
        return
    if action in ("sum", "sp", "fg") and len(numbers) == (1 if action == "fg" else 2):
        report = await get_report(context, caller, numbers[0]) if numbers[0] > 0 else None
        if report is None:
            await _answer(query, GONE, alert=True)
            return
        shown = await corrected(context.bot_data["repo"], report)
        await _answer(query)
        if action == "fg":
            await send_html(context.bot, caller.chat_id, render_figures(shown))
            return
        text, page, pages = summary_page(shown, min(numbers[1], 10_000))
        keyboard = pager_keyboard(f"sp:{report.id}:", page, pages)
        if action == "sp":  # turning a page edits the page in place
            await _show(context, caller, query, text, keyboard)
        else:
            await send_html(context.bot, caller.chat_id, text, keyboard)
        return
    if action in ("fix", "fi", "fm", "fd", "fb"):
        await _correction(query, context, caller, action, args)
        return
    if action in ("appr", "blk") and len(numbers) == 1:
        if not caller.is_admin:
            await _answer(query, ADMIN_ONLY, alert=True)
            return
        result = await set_user_role(context, caller, numbers[0], "member" if action == "appr" else "blocked")
        await _answer(query)
        await _show(context, caller, query, result)
        return
    await _answer(query, "Nút này không còn hiệu lực.", alert=True)
    log.info("unknown callback data %r", esc(query.data))


# --- corrections (issue 12) ----------------------------------------------------------------------

VOTES = {"1": 1, "-1": -1}
FIXED = "Đã sửa; bản tóm tắt mới ở dưới."


def item_keyboard(report_id: int, choices: list[tuple[str, int, str]]) -> InlineKeyboardMarkup:
    """One button per item, labelled as the list labels it (K1, H2, N3), six to a row."""
    buttons = [
        InlineKeyboardButton(label, callback_data=f"fi:{report_id}:{SECTION_CODES[section]}:{index}")
        for section, index, label in choices
    ]
    return InlineKeyboardMarkup([buttons[i : i + 6] for i in range(0, len(buttons), 6)])


def action_keyboard(report_id: int, section: str, index: int) -> InlineKeyboardMarkup:
    """Move the chosen item to either other section, or drop it."""
    code = SECTION_CODES[section]
    moves = [
        InlineKeyboardButton(f"→ {SECTION_SHORT[target]}", callback_data=f"fm:{report_id}:{code}:{index}:{tcode}")
        for target, tcode in SECTION_CODES.items()
        if target != section
    ]
    drop = InlineKeyboardButton("🗑 Bỏ mục này", callback_data=f"fd:{report_id}:{code}:{index}")
    return InlineKeyboardMarkup([moves, [drop]])


async def _correction(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, caller: Caller,
                      action: str, args: list[str]) -> None:
    """fix:<id> lists the items; fi:<id>:<s>:<i> offers moves and drop; fm/fd record the fix and send
    the corrected summary; fb:<id>:<±1> is a vote. Positions refer to the corrected summary shown."""
    repo: Repository = context.bot_data["repo"]
    report_id = (ascii_int(args[0]) or 0) if args else 0
    report = await get_report(context, caller, report_id) if report_id > 0 else None
    if report is None:
        await _answer(query, GONE, alert=True)
        return
    if action == "fb":
        vote = VOTES.get(args[1]) if len(args) == 2 else None
        if vote is None:
            await _answer(query, "Nút này không còn hiệu lực.", alert=True)
            return
        previous = (await repo.feedback(report.id, caller.scope)).of(caller.user_id)
        vote = 0 if previous == vote else vote  # pressing the same vote again withdraws it
        tally = await repo.set_feedback(report.id, caller.scope, caller.user_id, vote)
        said = {1: "Cảm ơn, đã ghi nhận 👍.", -1: "Cảm ơn, đã ghi nhận 👎.", 0: "Đã bỏ đánh giá."}[vote]
        await _answer(query, f"{said} (👍 {tally.up} · 👎 {tally.down})")
        return
    shown = await corrected(repo, report)
    if shown.summary is None:
        await _answer(query, "Báo cáo chưa có bản tóm tắt để sửa.", alert=True)
        return
    if action == "fix":
        choices = item_choices(shown.summary)
        if not choices:
            await _answer(query, "Bản tóm tắt không có mục nào để sửa.", alert=True)
            return
        await _answer(query)
        await send_html(context.bot, caller.chat_id, render_item_choices(report.id, shown.summary),
                        item_keyboard(report.id, choices))
        return
    section = CODE_SECTIONS.get(args[1]) if len(args) >= 3 else None
    index = ascii_int(args[2], 0, 9_999) if section else None
    index = -1 if index is None else index
    items = shown.summary.section(section) if section else []  # type: ignore[arg-type]
    if section is None or not 0 <= index < len(items):
        await _answer(query, "Mục này đã thay đổi; vui lòng mở lại danh sách sửa.", alert=True)
        return
    if action == "fi":
        await _answer(query)
        await _show(context, caller, query,
                    f"Mục {SECTION_CODES[section].upper()}{index + 1} ({SECTION_SHORT[section]}):\n"
                    f"{esc(capitalise(items[index].text))}\n\nChuyển sang phần nào, hay bỏ mục này?",
                    action_keyboard(report.id, section, index))
        return
    target = CODE_SECTIONS.get(args[3]) if action == "fm" and len(args) == 4 else None
    if action == "fm" and (target is None or target == section):
        await _answer(query, "Nút này không còn hiệu lực.", alert=True)
        return
    try:
        await repo.add_correction(
            report.id, caller.scope, caller.user_id, "move" if action == "fm" else "drop",
            section=section, index=index, value=target,  # type: ignore[arg-type]
        )
    except (KeyError, IndexError, ValueError) as exc:
        log.info("correction of #%s refused: %s", report.id, exc)
        await _answer(query, "Không sửa được mục này; vui lòng mở lại danh sách sửa.", alert=True)
        return
    await _answer(query, FIXED)
    done = f"đã chuyển sang {SECTION_SHORT[target]}" if target else "đã bỏ"
    await _show(context, caller, query, f"✅ {esc(capitalise(items[index].text))[:300]} — {done}.")
    await send_report(context.bot, caller.chat_id, report, repo)
