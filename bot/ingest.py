"""Turning what users send (text, forwards, files, links) into stored, summarised reports.

Long reports arrive in pieces (Telegram clients split text at 4096 characters; a forwarded series
arrives as several messages; an album of files shares a media group), so text is buffered per
sender and flushed once no new piece has arrived for `settings.merge_window` seconds.
The report is stored before it is summarised, and summarising runs in an executor so the event
loop keeps answering other users; reports left unsummarised by a crash are completed at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from telegram import (
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.access import Caller, authorise
from bot.config import Settings
from bot.extract import MAX_FILE_BYTES, ExtractError, extract_document
from bot.fetch import FetchError, fetch_article, find_url
from bot.render import esc, fmt_int, render_summary
from bot.replies import report_keyboard, send_html, typing
from storage import NewReport, Repository, StoredReport
from storage.models import SourceKind
from summariser import Rejection, check_report, clean_text

log = logging.getLogger(__name__)
T = TypeVar("T")

ACCEPTS = (
    "Bot nhận báo cáo hội nghị (kết quả, hạn chế, nhiệm vụ) dưới dạng tin nhắn văn bản, tin chuyển tiếp, "
    "tệp .docx, .pdf, .txt hoặc đường link bài viết. Gõ /help để xem các lệnh tra cứu."
)
SUPPORTED_EXTENSIONS = (".txt", ".docx", ".pdf")


@dataclass
class Part:
    message_id: int
    text: str
    kind: SourceKind = "text"
    origin: str | None = None
    file_name: str | None = None


@dataclass
class Batch:
    """Pieces from one sender (or one media group) waiting to become one report."""

    chat_id: int
    user_id: int
    scope: int
    private: bool
    parts: list[Part] = field(default_factory=list)
    timer: asyncio.Task[None] | None = None


def make_process_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes for the summariser ("forkserver": never fork a process that has threads)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


def warm_worker() -> int:
    """Import the summariser in a worker before the first report arrives."""
    clean_text("Khởi động.")
    return os.getpid()


def origin_name(message: Message) -> str | None:
    """Who a forwarded message came from: the channel or chat title, or the user's name."""
    origin = message.forward_origin
    if origin is None:
        return None
    name: str | None = None
    if isinstance(origin, MessageOriginUser):
        name = origin.sender_user.full_name
    elif isinstance(origin, MessageOriginHiddenUser):
        name = origin.sender_user_name
    elif isinstance(origin, MessageOriginChannel):
        name = origin.chat.title or origin.chat.username
    elif isinstance(origin, MessageOriginChat):
        name = origin.sender_chat.title or origin.sender_chat.username
    signature = getattr(origin, "author_signature", None)
    if name and signature:
        name = f"{name} ({signature})"
    return name or "không rõ"


def _prepare(text: str) -> tuple[str, Rejection | None]:
    """Clean once; the check sees the text as received (control characters included) and its cleaning."""
    cleaned = clean_text(text) if "\x00" not in text else ""
    return cleaned, check_report(text, cleaned=cleaned)


class Ingestor:
    """Per-application ingest state: merge buffers and the tasks turning them into reports."""

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self.app = application
        self.batches: dict[tuple[Any, ...], Batch] = {}
        self.tasks: set[asyncio.Task[Any]] = set()

    @property
    def settings(self) -> Settings:
        return self.app.bot_data["settings"]

    @property
    def repo(self) -> Repository:
        return self.app.bot_data["repo"]

    # --- task bookkeeping ----------------------------------------------------------------------
    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, timeout: float = 30.0) -> None:
        """Flush every buffer now and wait for the reports being processed (at shutdown)."""
        for key in list(self.batches):
            batch = self.batches.pop(key)
            if batch.timer is not None:
                batch.timer.cancel()
            self.spawn(self._process_batch(batch))
        pending = [t for t in self.tasks if not t.done() and t is not asyncio.current_task()]
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()

    # --- merge buffer --------------------------------------------------------------------------
    def add_part(self, key: tuple[Any, ...], caller: Caller, private: bool, part: Part) -> None:
        batch = self.batches.get(key)
        if batch is None:
            batch = Batch(caller.chat_id, caller.user_id, caller.scope, private)
            self.batches[key] = batch
        batch.parts.append(part)
        if batch.timer is not None:
            batch.timer.cancel()
        batch.timer = self.spawn(self._after_window(key, batch))

    def has_batch(self, key: tuple[Any, ...]) -> bool:
        return key in self.batches

    async def _after_window(self, key: tuple[Any, ...], batch: Batch) -> None:
        await asyncio.sleep(self.settings.merge_window)
        if self.batches.get(key) is batch:
            del self.batches[key]
            batch.timer = None
            await self._process_batch(batch)

    async def _process_batch(self, batch: Batch) -> None:
        parts = sorted(batch.parts, key=lambda p: p.message_id)
        kinds = {p.kind for p in parts}
        kind: SourceKind = "document" if "document" in kinds else "forward" if "forward" in kinds else "text"
        origin = next((p.origin for p in parts if p.origin), None)
        names = [p.file_name for p in parts if p.file_name]
        await self.handle_text(
            batch.chat_id,
            batch.user_id,
            batch.scope,
            "\n".join(p.text for p in parts),
            kind=kind,
            origin=origin,
            file_name=", ".join(names) if names else None,
            private=batch.private,
        )

    async def run_cpu(self, call: Callable[[], T]) -> T:
        """Run CPU-bound summariser work off the event loop: in the worker processes when
        configured (BOT_WORKERS), else in the default thread pool."""
        pool = self.app.bot_data.get("executor")
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except BrokenProcessPool:
            log.error("a summariser worker process died; starting a new pool")
            self.app.bot_data["executor"] = make_process_pool(self.settings.workers)
            raise

    # --- the report path -----------------------------------------------------------------------
    async def handle_text(
        self,
        chat_id: int,
        user_id: int | None,
        scope: int,
        text: str,
        *,
        kind: SourceKind = "text",
        origin: str | None = None,
        file_name: str | None = None,
        url: str | None = None,
        title: str | None = None,
        private: bool = True,
    ) -> StoredReport | None:
        """Check, store, summarise and answer one report. Never raises: failures are told to the user."""
        bot = self.app.bot
        try:
            limit = self.settings.max_report_chars
            if len(text) > limit:
                await send_html(
                    bot,
                    chat_id,
                    f"Báo cáo quá dài ({fmt_int(len(text))} ký tự); bot chỉ nhận tối đa {fmt_int(limit)} ký tự. "
                    "Vui lòng gửi phần nội dung chính của báo cáo.",
                )
                return None
            cleaned, rejection = await self.run_cpu(partial(_prepare, text))
            if rejection is not None:
                # In groups casual chatter is not answered; files and links always are.
                if private or kind in ("document", "url"):
                    await send_html(bot, chat_id, f"{esc(rejection.vi)}\n{esc(ACCEPTS)}")
                return None
            report, created = await self.repo.add_report(
                NewReport(
                    scope=scope,
                    chat_id=chat_id,
                    user_id=user_id,
                    source_kind=kind,
                    forward_origin=origin,
                    file_name=file_name,
                    url=url,
                    title=title,
                    text=cleaned,
                )
            )
            if not created:
                if report.summary is not None and report.state == "summarised":
                    note = f"Báo cáo này đã được gửi trước đây (mã <code>#{report.id}</code>); đây là bản tóm tắt đã có."
                    await send_html(bot, chat_id, [note, *render_summary(report)], report_keyboard(report.id))
                    return report
                if report.state == "received":
                    await send_html(
                        bot, chat_id, f"Báo cáo này đã được nhận (mã <code>#{report.id}</code>) và đang được tóm tắt."
                    )
                    return report
                # failed before: try again
            return await self.summarise_and_reply(report, chat_id)
        except Exception:
            log.exception("processing a report from chat %s failed", chat_id)
            with contextlib.suppress(TelegramError):
                await send_html(bot, chat_id, "Có lỗi khi xử lý báo cáo. Vui lòng thử lại sau ít phút.")
            return None

    async def summarise_and_reply(
        self, report: StoredReport, chat_id: int, notice: str | None = None
    ) -> StoredReport | None:
        """Summarise a stored report off the event loop, save it and send the summary."""
        bot = self.app.bot
        engine = self.app.bot_data["engine"]
        try:
            async with typing(bot, chat_id):
                summary = await self.run_cpu(partial(engine.summarise, report.text, title=report.title))
        except Exception as exc:
            log.exception("summarising report %s failed", report.id)
            await self.repo.mark_failed(report.id, f"{type(exc).__name__}: {exc}"[:500])
            await send_html(
                bot,
                chat_id,
                f"Đã lưu báo cáo (mã <code>#{report.id}</code>) nhưng chưa tóm tắt được do lỗi của bộ tóm tắt. "
                "Quản trị viên có thể xem lại; bạn có thể gửi lại báo cáo sau.",
            )
            return None
        await self.repo.save_summary(report.id, summary)
        stored = await self.repo.get_report(report.scope, report.id)
        if stored is None:  # deleted meanwhile
            return None
        messages = render_summary(stored)
        if notice:
            messages = [notice, *messages]
        await send_html(bot, chat_id, messages, report_keyboard(stored.id))
        return stored

    async def complete_pending(self) -> int:
        """Summarise reports a crash left in state `received`, telling their chats."""
        done = 0
        for report in await self.repo.pending_reports():
            try:
                notice = (
                    f"Bot vừa khởi động lại và đã hoàn tất tóm tắt báo cáo <code>#{report.id}</code> "
                    "gửi trước đó."
                )
                if await self.summarise_and_reply(report, report.chat_id, notice) is not None:
                    done += 1
            except Exception:
                log.exception("completing pending report %s failed", report.id)
        if done:
            log.info("completed %d pending report(s) at start-up", done)
        return done


def get_ingestor(context: ContextTypes.DEFAULT_TYPE) -> Ingestor:
    return context.bot_data["ingest"]


def _sender_key(message: Message, user_id: int) -> tuple[Any, ...]:
    if message.media_group_id:
        return ("album", message.chat_id, message.media_group_id)
    return ("sender", message.chat_id, user_id)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message or a forwarded post: a piece of a report (merged with its neighbours) or a link."""
    message = update.effective_message
    if message is None or not message.text:
        return
    caller = await authorise(update, context)
    if caller is None:
        return
    ingest = get_ingestor(context)
    private = message.chat.type == ChatType.PRIVATE
    key = _sender_key(message, caller.user_id)
    url = find_url(message.text)
    if url and not ingest.has_batch(key) and message.forward_origin is None:
        ingest.spawn(handle_url(ingest, caller, url, private))
        return
    origin = origin_name(message)
    part = Part(message.message_id, message.text, "forward" if origin else "text", origin)
    ingest.add_part(key, caller, private, part)


async def handle_url(ingest: Ingestor, caller: Caller, url: str, private: bool) -> None:
    bot = ingest.app.bot
    try:
        async with typing(bot, caller.chat_id):
            title, text = await fetch_article(url, allow_private=ingest.settings.fetch_private_urls)
    except FetchError as exc:
        await send_html(bot, caller.chat_id, f"Không lấy được nội dung từ đường link: {esc(exc.vi)}")
        return
    except Exception:
        log.exception("fetching %s failed", url)
        await send_html(bot, caller.chat_id, "Không lấy được nội dung từ đường link do lỗi không xác định.")
        return
    await ingest.handle_text(
        caller.chat_id, caller.user_id, caller.scope, text, kind="url", url=url, title=title, private=private
    )


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file: size-checked before download, text extracted off the loop, then one report (or a piece
    of one when several files come as an album)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    caller = await authorise(update, context)
    if caller is None:
        return
    ingest = get_ingestor(context)
    settings: Settings = context.bot_data["settings"]
    doc = message.document
    name = doc.file_name or "tep"
    private = message.chat.type == ChatType.PRIVATE
    if not name.lower().endswith(SUPPORTED_EXTENSIONS):
        await send_html(
            context.bot,
            caller.chat_id,
            f"Bot chưa đọc được tệp «{esc(name)}». Hãy gửi tệp .docx, .pdf hoặc .txt "
            "(tệp .doc cũ: mở bằng Word và lưu lại thành .docx).",
        )
        return
    if doc.file_size is not None and doc.file_size > MAX_FILE_BYTES:
        mb = f"{doc.file_size / (1024 * 1024):.1f}".replace(".", ",")
        await send_html(
            context.bot,
            caller.chat_id,
            f"Tệp «{esc(name)}» quá lớn ({mb} MB); bot chỉ nhận tệp tối đa 20 MB.",
        )
        return
    try:
        async with typing(context.bot, caller.chat_id):
            file = await context.bot.get_file(doc.file_id)
            content = bytes(await file.download_as_bytearray())
            text = await asyncio.get_running_loop().run_in_executor(
                None, partial(extract_document, name, content, max_chars=settings.max_report_chars)
            )
    except TelegramError as exc:
        log.warning("download of %s failed: %s", name, exc)
        await send_html(context.bot, caller.chat_id, f"Không tải được tệp «{esc(name)}» từ Telegram. Vui lòng gửi lại.")
        return
    except ExtractError as exc:
        await send_html(context.bot, caller.chat_id, f"Không đọc được tệp «{esc(name)}»: {esc(exc.vi)}")
        return
    if message.media_group_id:
        part = Part(message.message_id, text, "document", origin_name(message), name)
        ingest.add_part(_sender_key(message, caller.user_id), caller, private, part)
        return
    caption = (message.caption or "").strip()
    await ingest.handle_text(
        caller.chat_id,
        caller.user_id,
        caller.scope,
        text,
        kind="document",
        origin=origin_name(message),
        file_name=name,
        title=caption[:200] or None,
        private=private,
    )


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice...: say what the bot takes (private chats only)."""
    message = update.effective_message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return
    if await authorise(update, context) is None:
        return
    await send_html(context.bot, message.chat_id, esc(ACCEPTS))
