"""Sending HTML replies and the inline keyboards attached to them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_html(
    bot: Bot,
    chat_id: int,
    messages: list[str] | str,
    keyboard: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send one or more HTML messages in order; the keyboard goes on the last one."""
    if isinstance(messages, str):
        messages = [messages]
    last: Message | None = None
    for i, text in enumerate(messages):
        markup = keyboard if i == len(messages) - 1 else None
        last = await bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
        )
    return last


async def edit_html(message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Edit a message; "message is not modified" (pressing the same page twice) is not an error."""
    try:
        await message.edit_text(
            text, parse_mode=ParseMode.HTML, reply_markup=keyboard, link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def safe_chat_action(bot: Bot, chat_id: int, action: str) -> None:
    try:
        await bot.send_chat_action(chat_id, action)
    except TelegramError as exc:
        log.debug("chat action failed: %s", exc)


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int, action: str = "typing", after: float = 0.4) -> AsyncIterator[None]:
    """Show "typing…" while slow work runs: only if it lasts longer than `after` seconds (most
    reports are done sooner, and a chat action is one more API call), renewed every 4.5 s since
    Telegram clears it after 5 s."""

    async def keep() -> None:
        await asyncio.sleep(after)
        while True:
            await safe_chat_action(bot, chat_id, action)
            await asyncio.sleep(4.5)

    task = asyncio.create_task(keep())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def report_keyboard(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Toàn văn", callback_data=f"full:{report_id}:0"),
                InlineKeyboardButton("Xuất Word", callback_data=f"docx:{report_id}"),
                InlineKeyboardButton("Xóa", callback_data=f"del:{report_id}"),
            ]
        ]
    )


def confirm_delete_keyboard(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Xóa hẳn", callback_data=f"delok:{report_id}"),
                InlineKeyboardButton("Hủy", callback_data=f"delno:{report_id}"),
            ]
        ]
    )


def pager_keyboard(prefix: str, page: int, pages: int, extra: list[InlineKeyboardButton] | None = None
                   ) -> InlineKeyboardMarkup | None:
    """◀ / ▶ buttons for page `page` (0-based) of `pages`; `prefix` + page number is the data."""
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀ Trang trước", callback_data=f"{prefix}{page - 1}"))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton("Trang sau ▶", callback_data=f"{prefix}{page + 1}"))
    rows = [r for r in ([extra] if extra else []) + [nav] if r]
    return InlineKeyboardMarkup(rows) if rows else None
