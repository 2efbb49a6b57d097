"""Inline button presses. Callback data comes back from the client and may be forged or stale, so
every press re-authorises the caller and looks reports up in the caller's own scope only."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes, filters

from bot.access import Caller, ascii_int, authorise
from bot.commands import (
    ADMIN_ONLY,
    FIELD_BY_LABEL,
    FIELDS,
    LIST_SEP,
    NO_DELETE_RIGHT,
    PROMPT_RE,
    SEARCH_PAGE,
    ask_delete,
    ask_field,
    corrected,
    get_report,
    may_delete,
    recall_search,
    search_page,
    section_page,
    send_brief,
    send_docx,
    send_report,
    set_field,
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
from bot.replies import edit_or_send, pager_keyboard, send_html
from storage import Repository
from summariser.brief import shorten, utf16_len

log = logging.getLogger(__name__)


def _signed(text: str) -> int | None:
    """An id that may be negative (a group chat's), ASCII digits only, within SQLite's range."""
    value = ascii_int(text[1:], 1) if text.startswith("-") else ascii_int(text)
    return None if value is None else (-value if text.startswith("-") else value)

# Everything this module answers; other packages (digests) use their own prefixes.
PATTERN = r"^(full|fp|docx|del|delok|delno|rep|s|sec|appr|blk|fix|fi|fm|fd|fb|fs|sum|sp|fg):"
GONE = "Không tìm thấy báo cáo (có thể đã bị xóa)."
STALE = "Nút này không còn hiệu lực."
PAGE_CHARS = 3000


def text_pages(text: str, limit: int = PAGE_CHARS) -> list[str]:
    """The cleaned text as escaped pages that fit a message even when escaping lengthens them."""
    pages: list[str] = []
    for page in split_plain(text, limit):
        escaped = esc(page)
        if utf16_len(escaped) > 3900 and limit > 200:  # Telegram counts UTF-16 units ("📈" is 2)
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
    if edit:
        await edit_or_send(context.bot, caller.chat_id, query.message, text, keyboard)
    else:
        await send_html(context.bot, caller.chat_id, text, keyboard)


async def _show(context: ContextTypes.DEFAULT_TYPE, caller: Caller, query: CallbackQuery, text: str,
                keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message; a message the bot can no longer edit (too old, deleted) gets
    a new one instead, so the press is never lost."""
    await edit_or_send(context.bot, caller.chat_id, query.message, text, keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every press is answered (else the client shows a spinner until it gives up): by the action,
    by a short note for stale or garbled data, or, when the action fails, before the error goes
    on to the error handler."""
    query = update.callback_query
    if query is None:
        return
    if not query.data:
        await _answer(query, STALE)
        return
    caller = await authorise(update, context)
    if caller is None:
        return  # authorise told them why (and answered the query)
    try:
        await _on_button(query, context, caller)
    except Exception:
        await _answer(query, "Có lỗi khi xử lý nút này. Vui lòng thử lại sau.")  # no-op if already answered
        raise


async def on_unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Registered last: callback data no handler knows (an old build's button, a forged one)."""
    query = update.callback_query
    if query is not None:
        await _answer(query, f"{STALE} Vui lòng gõ lại lệnh.")
        log.info("callback data no handler matches: %r", (query.data or "")[:64])


async def _on_button(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, caller: Caller) -> None:
    assert query.data is not None
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
            await send_brief(context.bot, caller.chat_id, report, context.bot_data["repo"])
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
        remembered = await recall_search(context, args[0])
        if remembered is None or remembered[0] != caller.scope:
            await _answer(query, "Kết quả tìm kiếm đã hết hạn; vui lòng tìm lại bằng /search.", alert=True)
            return
        offset = min(int(args[1]), 10_000) * SEARCH_PAGE
        text, keyboard = await search_page(context, caller, remembered[1], offset)
        await _answer(query)
        await _show(context, caller, query, text, keyboard)
        return
    if action == "sec" and len(args) == 2 and ascii_int(args[1], 0, 10_000) is not None:
        remembered = await recall_search(context, args[0])
        if remembered is None or remembered[0] != caller.scope:
            await _answer(query, "Danh sách đã hết hạn; vui lòng gõ lại lệnh.", alert=True)
            return
        section, _, unit = remembered[1].partition(LIST_SEP)
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
    if action in ("fix", "fi", "fm", "fd", "fb", "fs"):
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
    await _answer(query, STALE, alert=True)
    log.info("unknown callback data %r", query.data[:64])


# --- corrections (issue 12) ----------------------------------------------------------------------

VOTES = {"1": 1, "-1": -1}
FIXED = "Đã sửa; bản tóm tắt mới ở dưới."


ITEM_BUTTONS = 90  # Telegram takes at most 100 buttons in a keyboard; the field row needs 3


def item_keyboard(report_id: int, choices: list[tuple[str, int, str]]) -> InlineKeyboardMarkup:
    """One button per item, labelled as the list labels it (K1, H2, N3), six to a row, then the
    row that sets the report's unit, meeting date or period."""
    buttons = [
        InlineKeyboardButton(label, callback_data=f"fi:{report_id}:{SECTION_CODES[section]}:{index}")
        for section, index, label in choices[:ITEM_BUTTONS]
    ]
    rows = [buttons[i : i + 6] for i in range(0, len(buttons), 6)]
    rows.append([
        InlineKeyboardButton("🏛 Đơn vị", callback_data=f"fs:{report_id}:u"),
        InlineKeyboardButton("📅 Ngày họp", callback_data=f"fs:{report_id}:d"),
        InlineKeyboardButton("🗓 Kỳ báo cáo", callback_data=f"fs:{report_id}:p"),
    ])
    return InlineKeyboardMarkup(rows)


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
            await _answer(query, STALE, alert=True)
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
    if action == "fix":  # the ✏️ menu: the items (move / drop), then unit, date, period
        await _answer(query)
        await send_html(context.bot, caller.chat_id, render_item_choices(report.id, shown.summary),
                        item_keyboard(report.id, item_choices(shown.summary)))
        return
    if action == "fs":
        code = args[1] if len(args) == 2 and args[1] in FIELDS else None
        if code is None:
            await _answer(query, STALE, alert=True)
            return
        await _answer(query, f"Nhập {FIELDS[code][1]} mới ở ô trả lời.")
        await ask_field(context.bot, caller.chat_id, shown, code)
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
                    f"{esc(shorten(capitalise(items[index].text), 3000))}\n\nChuyển sang phần nào, hay bỏ mục này?",
                    action_keyboard(report.id, section, index))
        return
    target = CODE_SECTIONS.get(args[3]) if action == "fm" and len(args) == 4 else None
    if action == "fm" and (target is None or target == section):
        await _answer(query, STALE, alert=True)
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
    await _show(context, caller, query, f"✅ {esc(shorten(capitalise(items[index].text), 300))} — {done}.")
    await send_report(context.bot, caller.chat_id, report, repo)


# --- the official's reply to a unit / date / period prompt ---------------------------------------


class _PromptReply(filters.MessageFilter):
    """A text that answers one of the bot's ✏️ prompts (`PROMPT_RE` on the replied-to message):
    it is a correction, never a report (so it is matched before the report handler)."""

    def filter(self, message: Message) -> bool:
        prompt = message.reply_to_message
        return bool(prompt is not None and prompt.from_user is not None and prompt.from_user.is_bot
                    and PROMPT_RE.match(prompt.text or ""))


FIELD_REPLY = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & _PromptReply()


async def on_field_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Set the unit / meeting date / period the prompt names from the reply's text. Stateless: the
    report id and the field are read from the prompt itself; the caller is authorised and the
    report looked up in their scope, as for every other fix."""
    from bot.ingest import get_ingestor, on_text  # (bot.ingest imports the commands this module uses)

    message = update.effective_message
    if message is None or message.reply_to_message is None or message.text is None:
        return
    prompt = message.reply_to_message
    if prompt.from_user is None or prompt.from_user.id != context.bot.id:
        await on_text(update, context)  # another bot's look-alike prompt: an ordinary message
        return
    try:
        caller = await authorise(update, context)
        found = PROMPT_RE.match(prompt.text or "")
        if caller is None or found is None:
            return
        report_id = ascii_int(found.group(2), 1)
        report = await get_report(context, caller, report_id) if report_id else None
        if report is None:
            await send_html(context.bot, caller.chat_id, esc(GONE))
            return
        await set_field(context.bot, context.bot_data["repo"], caller, report, FIELD_BY_LABEL[found.group(1)],
                        message.text)
    finally:  # the inbox keeps every text message until it is handled; this one is
        await get_ingestor(context).done(message.chat_id, [message.message_id])
