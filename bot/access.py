"""Who may use the bot, and in which scope.

Every handler that reads or writes report data calls `authorise` first; callback buttons too
(a button is just data sent back by the client, so it is re-checked every time).

Refusals are rationed: a pending or blocked user (in a group: the group) is told why at most
once per `REFUSAL_INTERVAL` (10 minutes), so one unapproved user sending 600 messages gets one
reply instead of spending the bot's 30 messages/s on 600 (issue 13, defect 6). The last reply
time is kept in the database (`Repository.refusal_due`), so a restart does not start a new
round, with a bounded in-memory copy in front so a burst costs one write, not one per message.
A button press is always answered (a toast, not a message: the client spins until answered).
The admins are asked to approve a new user once, on first contact.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.render import esc
from storage import Repository, User

SQLITE_MAX = 2**63 - 1  # the largest id SQLite stores; a larger one raises OverflowError
_ASCII_INT = re.compile(r"-?[0-9]{1,19}")


def ascii_int(text: str, lo: int = 0, hi: int = SQLITE_MAX) -> int | None:
    """`text` as an integer in [lo, hi], or None. Only ASCII digits: `str.isdigit()` and `\\d`
    accept '²', '①' or '٣' (some of which `int()` then rejects or reads), and an id beyond
    SQLite's range raised OverflowError (issue 13, defect 10)."""
    if not _ASCII_INT.fullmatch(text):
        return None
    value = int(text)
    return value if lo <= value <= hi else None

log = logging.getLogger(__name__)

MSG_PENDING_NEW = (
    "Xin chào! Tài khoản của bạn đã được ghi nhận và đang chờ quản trị viên duyệt. "
    "Bot sẽ báo cho bạn khi được duyệt."
)
MSG_PENDING = "Tài khoản của bạn đang chờ quản trị viên duyệt; tạm thời bạn chưa thể gửi hoặc tra cứu báo cáo."
MSG_BLOCKED = "Tài khoản của bạn đã bị khóa quyền sử dụng bot. Vui lòng liên hệ quản trị viên."
MSG_NOT_ALLOWED = "Bot chưa được mở cho tài khoản hoặc nhóm này. Vui lòng liên hệ quản trị viên."

REFUSAL_INTERVAL = 600.0  # seconds between two refusals to the same user (or group)
_REFUSALS_KEY = "access_refusals"  # bot_data: target id -> time.monotonic() of the last refusal
_REFUSALS_MAX = 10_000  # targets remembered in memory (the database remembers the rest)


@dataclass
class Caller:
    user_id: int
    chat_id: int
    scope: int
    role: str
    is_admin: bool


def _display_name(update: Update) -> str | None:
    user = update.effective_user
    if user is None:
        return None
    name = user.full_name
    return f"{name} (@{user.username})" if user.username else name


async def _tell(update: Update, text: str) -> None:
    """Say why access is refused: a toast for a button, a reply for a message."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError as exc:
        log.warning("could not tell user about access: %s", exc)


async def _refusal_due(context: ContextTypes.DEFAULT_TYPE, target: int) -> tuple[bool, bool]:
    """(whether `target` may be told again, whether it was never told before): not within
    REFUSAL_INTERVAL by this process (memory, noted before any await so a burst of updates makes
    one check) nor, after a restart, by the last one (the database)."""
    recent: OrderedDict[int, float] = context.bot_data.setdefault(_REFUSALS_KEY, OrderedDict())
    now = time.monotonic()
    last = recent.get(target)
    if last is not None and now - last < REFUSAL_INTERVAL:
        return False, False
    recent[target] = now
    recent.move_to_end(target)
    while len(recent) > _REFUSALS_MAX:
        recent.popitem(last=False)
    repo: Repository = context.bot_data["repo"]
    try:
        first = not await repo.refused_before(target)
        return await repo.refusal_due(target, datetime.now(UTC), REFUSAL_INTERVAL), first
    except Exception:  # the reply is a courtesy: never fail the update over it
        log.exception("could not check when %s was last refused", target)
        return True, False


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, first_text: str | None = None) -> None:
    """`_tell`, rationed per user (private chat) or per group; button presses always answered.
    `first_text` instead of `text` for the first notice the target ever gets (the welcome): in a
    burst, whichever message is answered first carries it."""
    chat = update.effective_chat
    if update.callback_query is None and chat is not None:
        due, first = await _refusal_due(context, chat.id)
        if not due:
            return
        if first and first_text is not None:
            text = first_text
    await _tell(update, text)


async def notify_admins(context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    """Ask every admin to approve or block a new user (failures are logged: an admin may never
    have opened a chat with the bot)."""
    settings: Settings = context.bot_data["settings"]
    repo: Repository = context.bot_data["repo"]
    admin_ids = set(settings.admins) | {u.id for u in await repo.list_users("admin")}
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✅ Duyệt", callback_data=f"appr:{user.id}"),
                InlineKeyboardButton("⛔ Chặn", callback_data=f"blk:{user.id}"),
            ]
        ]
    )
    text = (
        f"Người dùng mới xin sử dụng bot: <b>{esc(user.display_name or 'không tên')}</b> "
        f"(id <code>{user.id}</code>).\nDuyệt bằng nút dưới đây hoặc /approve {user.id}, chặn bằng /block {user.id}."
    )
    for admin_id in sorted(admin_ids):
        try:
            await context.bot.send_message(admin_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        except TelegramError as exc:
            log.warning("could not notify admin %s about user %s: %s", admin_id, user.id, exc)


async def resolve_role(context: ContextTypes.DEFAULT_TYPE, user_id: int, name: str | None) -> tuple[User, bool]:
    """The sender's stored user, created on first contact with the role the access mode gives.

    Every update passes here, so a known user whose name and role need no change is only read
    (the reader connection; no write transaction queued behind other users' reports)."""
    settings: Settings = context.bot_data["settings"]
    repo: Repository = context.bot_data["repo"]
    is_admin = user_id in settings.admins
    welcome = is_admin or settings.access == "open" or user_id in settings.allowed
    known = await repo.get_user(user_id)
    if known is not None and (name is None or known.display_name == name):
        settled = known.role == "admin" if is_admin else not (welcome and known.role == "pending")
        if settled:
            return known, False
    if is_admin:
        user, created = await repo.ensure_user(user_id, name, "admin")
        if user.role != "admin":
            user = await repo.set_role(user_id, "admin") or user
        return user, created
    user, created = await repo.ensure_user(user_id, name, "member" if welcome else "pending")
    if user.role == "pending" and welcome:
        user = await repo.set_role(user_id, "member") or user
    return user, created


async def authorise(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Caller | None:
    """The caller (user, chat, scope, role) when they may use the bot; else None after telling them why.

    An approved (or listed) group is a shared room: anyone in it may use the bot there, pending
    members included, in the group's scope; every answer to a group command (Word exports too)
    goes to the group, which all its members read anyway. The same person's private chat is
    their own scope and stays closed until they are approved."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return None
    settings: Settings = context.bot_data["settings"]
    repo: Repository = context.bot_data["repo"]
    stored, created = await resolve_role(context, user.id, _display_name(update))
    group = chat.type != ChatType.PRIVATE

    if stored.role == "blocked":
        await _refuse(update, context, MSG_BLOCKED)
        return None
    chat_user = await repo.get_user(chat.id) if group else None
    if chat_user is not None and chat_user.role == "blocked":
        await _refuse(update, context, MSG_NOT_ALLOWED)
        return None

    ok = stored.role in ("member", "admin") or settings.access == "open"
    if not ok and group:
        ok = chat.id in settings.allowed or (chat_user is not None and chat_user.role in ("member", "admin"))
    if not ok:
        if settings.access == "approval":
            await _refuse(update, context, MSG_PENDING, first_text=MSG_PENDING_NEW)
            if created:
                await notify_admins(context, stored)
        else:
            await _refuse(update, context, MSG_NOT_ALLOWED)
        return None

    scope = await repo.scope_of_chat(chat.id)
    return Caller(
        user_id=user.id,
        chat_id=chat.id,
        scope=scope,
        role=stored.role,
        is_admin=stored.role == "admin" or user.id in settings.admins,
    )
