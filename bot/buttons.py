"""Inline button presses. Callback data comes back from the client and may be forged or stale, so
every press re-authorises the caller and looks reports up in the caller's own scope only."""

from __future__ import annotations

import logging
import re

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.access import Caller, authorise
from bot.commands import (
    ADMIN_ONLY,
    NO_DELETE_RIGHT,
    SEARCH_PAGE,
    ask_delete,
    get_report,
    may_delete,
    recall_search,
    search_page,
    send_docx,
    send_report,
    set_user_role,
)
from bot.render import esc, split_plain
from bot.replies import edit_html, pager_keyboard, send_html
from storage import Repository

log = logging.getLogger(__name__)

# Everything this module answers; other packages (digests) use their own prefixes.
PATTERN = r"^(full|fp|docx|del|delok|delno|rep|s|appr|blk):"
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
    numbers = [int(a) for a in args if re.fullmatch(r"-?\d{1,20}", a)]

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
            await send_report(context.bot, caller.chat_id, report)
        elif action == "docx":
            await _answer(query, "Đang tạo tệp Word…")
            await send_docx(context.bot, caller.chat_id, report)
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
    if action == "s" and len(args) == 2 and args[1].isdigit():
        remembered = recall_search(context, args[0])
        if remembered is None or remembered[0] != caller.scope:
            await _answer(query, "Kết quả tìm kiếm đã hết hạn; vui lòng tìm lại bằng /search.", alert=True)
            return
        offset = min(int(args[1]), 10_000) * SEARCH_PAGE
        text, keyboard = await search_page(context, caller, remembered[1], offset)
        await _answer(query)
        await _show(context, caller, query, text, keyboard)
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
