"""Commands /subscribe, /unsubscribe, /settings, /digest and the /settings buttons.

Every handler first calls `bot.access.authorise` (which has already told the user why when it
returns None); button presses are re-authorised, since callback data is just text from the client.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.access import ascii_int, authorise
from bot.digests.jobs import get_service
from bot.digests.schedule import DAY_NAMES_VI, Slot, describe
from bot.digests.similarity import fold
from bot.replies import edit_or_send
from storage import Repository, Subscription

log = logging.getLogger(__name__)

USAGE_SUBSCRIBE = (
    "Cách dùng: /subscribe [weekly|daily] [thứ hai … chủ nhật | t2 … cn] [HH:MM]\n"
    "Ví dụ: /subscribe weekly thứ hai 07:30 · /subscribe daily 17:00"
)
USAGE_DIGEST = "Cách dùng: /digest [số ngày, từ 1 đến 31] — mặc định là 7 ngày qua."
USAGE_NO_ARGS = "Lệnh {cmd} không cần tham số. Cách dùng: {cmd}"
NOT_SUBSCRIBED = "Bạn chưa đăng ký bản tin. Đăng ký: /subscribe (mặc định: hằng tuần, thứ Hai lúc 07:30)."

# Folded day names, two-word ones first. Index = weekday (0 = Monday).
_DAYS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("thu hai", "thu 2", "thu2", "t2", "mon", "monday"),
        ("thu ba", "thu 3", "thu3", "t3", "tue", "tuesday"),
        ("thu tu", "thu 4", "thu4", "t4", "wed", "wednesday"),
        ("thu nam", "thu 5", "thu5", "t5", "thu", "thursday"),
        ("thu sau", "thu 6", "thu6", "t6", "fri", "friday"),
        ("thu bay", "thu 7", "thu7", "t7", "sat", "saturday"),
        ("chu nhat", "cn", "sun", "sunday"),
    )
):
    for _name in _names:
        _DAYS[_name] = _i
_CADENCES = {
    "weekly": "weekly",
    "tuan": "weekly",
    "hang tuan": "weekly",
    "daily": "daily",
    "ngay": "daily",
    "hang ngay": "daily",
}
_TIME_RE = re.compile(r"^([0-9]{1,2})(?::([0-9]{2})|h([0-9]{2})?)$")
PRESET_TIMES = ("06:00", "07:00", "07:30", "08:00", "12:00", "17:00")
SHORT_DAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


class ArgumentError(ValueError):
    pass


def parse_subscribe_args(args: list[str]) -> dict[str, object]:
    """Fields given on the command line: cadence, weekday, time_of_day (any of them)."""
    words = fold(" ".join(args)).split()
    out: dict[str, object] = {}
    i = 0

    def put(field: str, value: object) -> None:
        if field in out:
            raise ArgumentError(f"{field} given twice")
        out[field] = value

    while i < len(words):
        pair = " ".join(words[i : i + 2])
        if len(words) > i + 1 and pair in _DAYS:
            put("weekday", _DAYS[pair])
            i += 2
        elif len(words) > i + 1 and pair in _CADENCES:
            put("cadence", _CADENCES[pair])
            i += 2
        elif words[i] in _CADENCES:
            put("cadence", _CADENCES[words[i]])
            i += 1
        elif words[i] in _DAYS:
            put("weekday", _DAYS[words[i]])
            i += 1
        elif match := _TIME_RE.match(words[i]):
            hour, minute = int(match.group(1)), int(match.group(2) or match.group(3) or 0)
            if hour > 23 or minute > 59:
                raise ArgumentError(f"bad time {words[i]!r}")
            put("time_of_day", f"{hour:02d}:{minute:02d}")
            i += 1
        else:
            raise ArgumentError(f"unknown word {words[i]!r}")
    if out.get("cadence") == "daily" and "weekday" in out:
        raise ArgumentError("a daily digest has no day of the week")
    return out


def _tz(context: ContextTypes.DEFAULT_TYPE) -> ZoneInfo:
    tz = context.bot_data.get("tz")
    if isinstance(tz, ZoneInfo):
        return tz
    settings = context.bot_data.get("settings")
    return ZoneInfo(getattr(settings, "timezone", "Asia/Ho_Chi_Minh"))


def _next_run_text(sub: Subscription, now: datetime) -> str:
    when = Slot.of(sub).next_after(now)
    return f"{DAY_NAMES_VI[when.weekday()]}, {when:%d/%m/%Y} lúc {when:%H:%M}"


def settings_text(sub: Subscription | None, now: datetime) -> str:
    if sub is None:
        return "⚙️ <b>Bản tin định kỳ</b>\n" + NOT_SUBSCRIBED
    lines = ["⚙️ <b>Bản tin định kỳ</b>"]
    lines.append("Trạng thái: " + ("<b>đang bật</b>" if sub.active else "<b>đã tắt</b>"))
    lines.append(f"Lịch gửi: {describe(sub)}")
    empty = "không gửi gì" if sub.skip_empty else "gửi một dòng thông báo"
    lines.append(f"Kỳ không có báo cáo: {empty}")
    if sub.active:
        lines.append(f"Lần gửi tới: {_next_run_text(sub, now)}")
    lines.append("Đổi bằng các nút dưới đây; giờ khác: /subscribe HH:MM (ví dụ /subscribe 08:15).")
    return "\n".join(lines)


def settings_keyboard(sub: Subscription | None) -> InlineKeyboardMarkup:
    def mark(label: str, on: bool) -> str:
        return f"✓ {label}" if on else label

    if sub is None:
        return InlineKeyboardMarkup([[InlineKeyboardButton("🔔 Đăng ký (mặc định)", callback_data="dg:s")]])
    rows = [
        [
            InlineKeyboardButton(mark("Hằng tuần", sub.cadence == "weekly"), callback_data="dg:c:weekly"),
            InlineKeyboardButton(mark("Hằng ngày", sub.cadence == "daily"), callback_data="dg:c:daily"),
        ]
    ]
    if sub.cadence == "weekly":
        days = [
            InlineKeyboardButton(mark(name, sub.weekday == i), callback_data=f"dg:d:{i}")
            for i, name in enumerate(SHORT_DAYS)
        ]
        rows += [days[:4], days[4:]]
    times = [
        InlineKeyboardButton(mark(t, sub.time_of_day == t), callback_data=f"dg:t:{t.replace(':', '')}")
        for t in PRESET_TIMES
    ]
    rows += [times[:3], times[3:]]
    skip_label = "Kỳ trống: không gửi" if sub.skip_empty else "Kỳ trống: gửi thông báo"
    rows.append(
        [InlineKeyboardButton(f"🔁 {skip_label}", callback_data=f"dg:e:{0 if sub.skip_empty else 1}")]
    )
    if sub.active:
        rows.append([InlineKeyboardButton("🔕 Hủy đăng ký", callback_data="dg:u")])
    else:
        rows.append([InlineKeyboardButton("🔔 Bật lại", callback_data="dg:s")])
    return InlineKeyboardMarkup(rows)


async def _reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def _save(context: ContextTypes.DEFAULT_TYPE, sub: Subscription) -> Subscription:
    repo: Repository = context.bot_data["repo"]
    saved = await repo.upsert_subscription(sub)
    service = get_service(context.application)
    service.subscription_changed(saved)
    await service.rebuild_schedule()
    return saved


async def cmd_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    try:
        given = parse_subscribe_args(list(context.args or []))
    except ArgumentError:
        await _reply(update, USAGE_SUBSCRIBE)
        return
    repo: Repository = context.bot_data["repo"]
    tz = _tz(context)
    current = await repo.get_subscription(caller.chat_id)
    base = current or Subscription(chat_id=caller.chat_id, timezone=str(tz.key))
    sub = await _save(context, base.model_copy(update={"active": True, **given}))
    now = get_service(context.application).now()
    await _reply(
        update,
        f"✅ Đã đăng ký bản tin {describe(sub)}.\nLần gửi tới: {_next_run_text(sub, now)}.\n"
        "Xem và đổi lịch: /settings · Hủy: /unsubscribe",
    )


async def cmd_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    if context.args:
        await _reply(update, USAGE_NO_ARGS.format(cmd="/unsubscribe"))
        return
    repo: Repository = context.bot_data["repo"]
    current = await repo.get_subscription(caller.chat_id)
    if current is None or not current.active:
        await _reply(update, NOT_SUBSCRIBED)
        return
    await repo.deactivate_subscription(caller.chat_id)
    await get_service(context.application).rebuild_schedule()
    await _reply(update, "🔕 Đã hủy đăng ký bản tin. Đăng ký lại: /subscribe")


async def cmd_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    if context.args:
        await _reply(update, USAGE_NO_ARGS.format(cmd="/settings"))
        return
    repo: Repository = context.bot_data["repo"]
    sub = await repo.get_subscription(caller.chat_id)
    now = get_service(context.application).now()
    await _reply(update, settings_text(sub, now), settings_keyboard(sub))


async def cmd_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = await authorise(update, context)
    if caller is None:
        return
    args = list(context.args or [])
    days = 7
    if args:
        parsed = ascii_int(args[0], 1, 31) if len(args) == 1 else None
        if parsed is None:
            await _reply(update, USAGE_DIGEST)
            return
        days = parsed
    service = get_service(context.application)
    await service.send_now(caller.chat_id, caller.scope, days=days, tz=_tz(context))


def _apply_button(sub: Subscription | None, data: str, chat_id: int, tz: ZoneInfo) -> Subscription | None:
    """The subscription after a /settings button press; None if the data is not ours/valid."""
    parts = data.split(":")
    base = sub or Subscription(chat_id=chat_id, timezone=str(tz.key))
    match parts:
        case ["dg", "s"]:
            return base.model_copy(update={"active": True})
        case ["dg", "u"] if sub is not None:
            return sub.model_copy(update={"active": False})
        case ["dg", "c", ("weekly" | "daily") as cadence] if sub is not None:
            return sub.model_copy(update={"cadence": cadence})
        case ["dg", "d", day] if sub is not None and ascii_int(day, 0, 6) is not None:
            return sub.model_copy(update={"weekday": int(day), "cadence": "weekly"})
        case ["dg", "t", hhmm] if sub is not None and len(hhmm) == 4 and ascii_int(hhmm) is not None:
            text = f"{hhmm[:2]}:{hhmm[2:]}"
            if text not in PRESET_TIMES:
                return None
            return sub.model_copy(update={"time_of_day": text})
        case ["dg", "e", ("0" | "1") as flag] if sub is not None:
            return sub.model_copy(update={"skip_empty": flag == "1"})
    return None


async def on_settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    caller = await authorise(update, context)
    if caller is None:
        return
    repo: Repository = context.bot_data["repo"]
    current = await repo.get_subscription(caller.chat_id)
    changed = _apply_button(current, query.data or "", caller.chat_id, _tz(context))
    if changed is None:
        await query.answer("Nút này không còn hiệu lực. Gõ /settings để xem lại.")
        return
    sub = await _save(context, changed)
    now = get_service(context.application).now()
    await query.answer("Đã lưu.")
    # (an old message: inaccessible or deleted, the settings go out as a new message)
    await edit_or_send(context.bot, caller.chat_id, query.message, settings_text(sub, now), settings_keyboard(sub))
