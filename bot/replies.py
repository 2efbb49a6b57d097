"""Sending HTML replies and the inline keyboards attached to them; a report's reply at most once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.ratelimit import ChatRateLimiter, SendOptions, may_have_been_sent

if TYPE_CHECKING:
    from storage import Repository

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_html(
    bot: Bot,
    chat_id: int,
    messages: list[str] | str,
    keyboard: InlineKeyboardMarkup | None = None,
    options: SendOptions | None = None,
) -> Message | None:
    """Send one or more HTML messages in order; the keyboard goes on the last one. `options`
    (the limiter's `rate_limit_args`) go with the first: from it on, the reply may have gone out."""
    if isinstance(messages, str):
        messages = [messages]
    last: Message | None = None
    for i, text in enumerate(messages):
        markup = keyboard if i == len(messages) - 1 else None
        extra = {"rate_limit_args": options} if options is not None and i == 0 else {}
        last = await bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW, **extra
        )
    return last


async def reply_once(bot: Bot, repo: Repository, report_id: int, chat_id: int,
                     send: Callable[[SendOptions | None], Awaitable[Message | None]]) -> Message | None:
    """Send the reply to report `report_id` (`send`, given the options to send its first message
    with) at most once across crashes: the Bot API has no idempotency key, so a crash between
    Telegram taking a reply and our record of it cannot be told from a crash just before the
    request. 'sending' is recorded right before the request is written (by the app's limiter,
    after every wait: the window in which a crash loses the reply is that commit -> the request),
    'sent' with Telegram's message id after the answer. A refusal Telegram did not act on goes
    back to 'unsent' (sent again at start-up) and is raised; a lost answer (the reply may have
    gone out) is recorded and logged and None returned: neither resent nor followed by "Có lỗi"."""
    started = False

    async def before() -> None:
        nonlocal started
        await repo.reply_sending(report_id)
        started = True

    async def refused() -> None:  # the limiter waits, then tries again: until then nothing went out
        await repo.reply_refused(report_id, "refused by Telegram (429/5xx/no connection); trying again")

    paced = isinstance(getattr(bot, "rate_limiter", None), ChatRateLimiter)
    if not paced:  # no limiter to call `before` after its waits: as close to the request as we get
        await before()
    try:
        message = await send(SendOptions(before_send=before, refused=refused) if paced else None)
    except TelegramError as exc:
        if not started:
            raise
        if may_have_been_sent(exc):
            note = f"answer lost ({type(exc).__name__}): may have gone out, not resent"
            await repo.reply_in_doubt(report_id, note)
            log.warning("reply to report %s in chat %s: %s", report_id, chat_id, note)
            return None
        await repo.reply_refused(report_id, f"{type(exc).__name__}: {exc}")
        raise
    # (anything else once started, a cancellation included, leaves 'sending': it may have gone out)
    if message is not None:
        await repo.mark_replied(report_id, message.message_id)
    return message


GONE_EDITS = ("message to edit not found", "message can't be edited", "message_id_invalid")


async def edit_html(message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None) -> bool:
    """Edit a message in place. "Message is not modified" (the same button pressed twice) is
    done; a message that cannot be edited any more (deleted, too old) returns False so the caller
    sends a fresh one: a button on an old message must still do its work, never raise."""
    try:
        await message.edit_text(
            text, parse_mode=ParseMode.HTML, reply_markup=keyboard, link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        said = str(exc).lower()
        if "not modified" in said:
            return True
        if any(gone in said for gone in GONE_EDITS):
            log.info("message %s cannot be edited (%s); sending a new one", message.message_id, exc)
            return False
        raise
    return True


async def edit_or_send(bot: Bot, chat_id: int, message: object, text: str,
                       keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Replace the message a button was pressed on; when it cannot be edited (an inaccessible
    message of an old query, a deleted one) the same content goes out as a new message."""
    if not (isinstance(message, Message) and await edit_html(message, text, keyboard)):
        await send_html(bot, chat_id, text, keyboard)


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


def brief_keyboard(report_id: int, up: int = 0, down: int = 0) -> InlineKeyboardMarkup:
    """The buttons under a brief (and under the full summary sent after a fix): the full summary
    (paged), the figures, the source text, Word, delete (it asks first), and the corrections row
    (✏️ fix an item or the unit/date/period, 👍/👎 with the tally so far)."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("📄 Tóm tắt đầy đủ", callback_data=f"sum:{report_id}:0"),
                InlineKeyboardButton("📊 Số liệu", callback_data=f"fg:{report_id}"),
            ],
            [
                InlineKeyboardButton("📜 Văn bản gốc", callback_data=f"full:{report_id}:0"),
                InlineKeyboardButton("📝 Word", callback_data=f"docx:{report_id}"),
                InlineKeyboardButton("🗑 Xóa", callback_data=f"del:{report_id}"),
            ],
            [
                InlineKeyboardButton("✏️ Sửa", callback_data=f"fix:{report_id}"),
                InlineKeyboardButton(f"👍 {up}" if up else "👍", callback_data=f"fb:{report_id}:1"),
                InlineKeyboardButton(f"👎 {down}" if down else "👎", callback_data=f"fb:{report_id}:-1"),
            ],
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
