"""Turning what users send (text, forwards, files, photos, links) into stored, summarised reports.

Everything becomes a `documents.Document` first (pasted text via `documents.read_text`, files and
photos via `documents.read`, pages via `documents.html.read_html`): what is stored is its text
(`Document.text()`, cleaned), so every figure a summary shows can be found in the stored report, OCR'd
text included; what is summarised is the Document, so the structure the file had is kept.
Long reports arrive in pieces (Telegram clients split text at 4096 characters, mid-word; a forwarded
series arrives as several messages; an album of files or photographed pages shares a media group), so
pieces are buffered per sender and flushed once no new piece has arrived for `settings.merge_window`
seconds; pieces of one text are joined with `documents.text.join_parts` (a space where a sentence was
cut), whole files with a line break.
The report is stored before it is summarised, and reading and summarising run in an executor so the
event loop keeps answering other users; reports left unsummarised by a crash are completed at start-up
from their stored text.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
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
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, ExtBot

import documents
from bot.access import Caller, authorise
from bot.config import Settings
from bot.extract import (
    MAX_FILE_BYTES,
    accepted_name,
    is_image,
    read_file,
    too_large_message,
    unsupported_message,
)
from bot.fetch import FetchError, fetch_document, find_url
from bot.render import OCR_NOTICE, esc, fmt_int, render_summary
from bot.replies import report_keyboard, send_html, typing
from documents import Document
from documents.errors import ReadError
from documents.text import join_parts
from storage import NewReport, Repository, StoredReport
from storage.models import SourceKind
from storage.repository import InboxEntry
from summariser import Item, Rejection, Span, Summary, check_report, clean_text

log = logging.getLogger(__name__)
T = TypeVar("T")

ACCEPTS = (
    "Bot nhận báo cáo hội nghị (kết quả, hạn chế, nhiệm vụ) dưới dạng tin nhắn văn bản, tin chuyển tiếp, "
    "tệp .docx, .pdf, .txt, ảnh chụp văn bản hoặc đường link bài viết. Gõ /help để xem các lệnh tra cứu."
)
PHOTO_NAME = "ảnh chụp"  # what a photo message is called in the summary's "Nguồn:" line


@dataclass
class Part:
    """One message of a batch: a text message (`doc` None) or a file or photo already read."""

    message_id: int
    text: str
    kind: SourceKind = "text"
    origin: str | None = None
    file_name: str | None = None
    doc: Document | None = None
    piece: bool = True  # a piece of one text cut by transport (a message, a photographed page), not a file


@dataclass
class Batch:
    """Pieces from one sender (or one media group) waiting to become one report."""

    chat_id: int
    user_id: int
    scope: int
    private: bool
    parts: list[Part] = field(default_factory=list)
    timer: asyncio.Task[None] | None = None


def inbox_entry(raw: dict[str, Any], update: Update) -> InboxEntry | None:
    """What the inbox keeps of an update: new text messages (not commands), files and photos."""
    message = update.message
    if message is None or message.from_user is None:
        return None
    origin = origin_name(message)
    base = {"update_id": update.update_id, "chat_id": message.chat_id, "message_id": message.message_id,
            "user_id": message.from_user.id, "forward_origin": origin, "sent_at": message.date,
            "update_json": json.dumps(raw, ensure_ascii=False)}
    if message.text:
        if message.text.startswith("/"):
            return None
        return InboxEntry(kind="text", text=message.text, file_id=None, file_name=None, file_size=None, **base)
    if message.document is not None:
        d = message.document
        return InboxEntry(kind="document", text=message.caption, file_id=d.file_id, file_name=d.file_name,
                          file_size=d.file_size, **base)
    if message.photo:
        p = max(message.photo, key=lambda x: (x.width * x.height, x.file_size or 0))
        return InboxEntry(kind="photo", text=message.caption, file_id=p.file_id, file_name=None,
                          file_size=p.file_size, **base)
    return None


class IntakeBot(ExtBot):  # type: ignore[type-arg]
    """The bot whose `get_updates` makes polling crash-safe and unparseable updates harmless.

    PTB's Updater puts a fetched batch on an unbounded queue and confirms it to Telegram with the
    next getUpdates offset right away, whatever `concurrent_updates` says: a report held only in
    memory is lost on a crash. So the batch is written to the inbox here, before `get_updates`
    returns (hence before the next call can confirm it). An update PTB cannot parse becomes an
    empty Update with its id (the offset moves past it; no handler matches) and is logged without
    its content; an update already in the inbox (redelivered after a crash, replayed from there)
    is emptied the same way so it is not handled twice."""

    _intake_repo: Repository | None = None  # set by bot.app once the repository is open (frozen object: "_" name)

    async def get_updates(  # type: ignore[override]
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: Any = None,
        allowed_updates: Any = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: Any = None,
    ) -> tuple[Update, ...]:
        data: dict[str, Any] = {"timeout": timeout, "offset": offset, "limit": limit,
                                "allowed_updates": allowed_updates}
        base = read_timeout if isinstance(read_timeout, (int, float)) else (self._request[0].read_timeout or 0)
        wait = timeout.total_seconds() if hasattr(timeout, "total_seconds") else (timeout or 0)
        result = await self._post("getUpdates", data, read_timeout=base + wait, write_timeout=write_timeout,
                                  connect_timeout=connect_timeout, pool_timeout=pool_timeout,
                                  api_kwargs=api_kwargs)
        return await self.intake(result if isinstance(result, list) else [])

    async def intake(self, result: list[Any]) -> tuple[Update, ...]:
        """Updates as Telegram sent them (a getUpdates batch, or one webhook POST: bot.webhook
        answers 200 only after this returns), parsed and their report messages in the inbox."""
        updates: list[Update] = []
        entries: list[tuple[int, InboxEntry]] = []
        for raw in result:
            raw_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(raw_id, int) or isinstance(raw_id, bool):
                log.warning("skipping an update without a usable update_id")
                continue
            try:
                update = Update.de_json(raw, self)
                entry = inbox_entry(raw, update)
            except Exception as exc:
                log.warning("skipping update %d that cannot be parsed (%s)", raw_id, type(exc).__name__)
                update, entry = Update(update_id=raw_id), None
            if entry is not None:
                entries.append((len(updates), entry))
            self.insert_callback_data(update)
            updates.append(update)
        if entries and self._intake_repo is not None:
            fresh = await self._intake_repo.inbox_add([e for _, e in entries])
            for (i, _), new in zip(entries, fresh, strict=True):
                if not new:
                    updates[i] = Update(update_id=updates[i].update_id)
        return tuple(updates)


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


def _clean_and_check(text: str) -> tuple[str, Rejection | None]:
    cleaned = clean_text(text) if "\x00" not in text else ""
    return cleaned, check_report(text, cleaned=cleaned)


def _prepare(source: Document | str) -> tuple[Document | None, str, Rejection | None]:
    """(document, cleaned text to store, why it is not a report) in one trip to a worker.

    Pasted text is checked as received (control characters included) before `read_text` sees it;
    then the document's text, which is what is stored and summarised, is cleaned once and checked."""
    if isinstance(source, str):
        _cleaned, rejection = _clean_and_check(source)
        if rejection is not None:
            return None, "", rejection
        source = documents.read_text(source)
    cleaned, rejection = _clean_and_check(source.text())
    return source, cleaned, rejection


def summarise_document(engine: Any, doc: Document, title: str | None, stored: str) -> Summary:
    """The one call into the summariser, with the structure the document has.

    The summariser cleans a structured document block by block and leaves its header block and
    closing out, so its spans index into `cleaned_source(doc)`; they are moved onto `stored` (the
    cleaned `doc.text()`, what is kept and searched) so they index into the report as stored."""
    from summariser.pipeline import cleaned_source

    summary: Summary = engine.summarise(doc, title=title)
    return rebase_spans(summary, cleaned_source(doc), stored)


def summarise_stored(engine: Any, text: str, title: str | None) -> Summary:
    """A stored report summarised again (start-up completion): its structure re-read from its text."""
    return summarise_document(engine, documents.read_text(text), title, text)


def rebase_spans(summary: Summary, source: str, stored: str) -> Summary:
    """`summary` with its item and figure spans moved from `source` onto `stored`.

    Lines of `source` are found in `stored` in order (each is a cleaned line of the document, and
    `stored` holds the same lines with the header block and closing around them); a span outside
    any found line is looked up by its text, and dropped when that text is not in `stored`."""
    if source == stored:
        return summary
    lines: list[tuple[int, int, int]] = []  # (start in source, end in source, start in stored)
    offset = at = 0
    for line in source.split("\n"):
        if line.strip():
            found = stored.find(line, at)
            if found >= 0:
                lines.append((offset, offset + len(line), found))
                at = found + len(line)
        offset += len(line) + 1
    starts = [start for start, _, _ in lines]

    def move(span: Span) -> Span | None:
        i = bisect.bisect_right(starts, span.start) - 1
        if i >= 0 and span.end <= lines[i][1]:
            shift = lines[i][2] - lines[i][0]
            return Span(start=span.start + shift, end=span.end + shift)
        piece = source[span.start:span.end]
        found = stored.find(piece) if piece else -1
        return Span(start=found, end=found + len(piece)) if found >= 0 else None

    def items(section: list[Item]) -> list[Item]:
        return [it.model_copy(update={"source": [m for m in map(move, it.source) if m is not None]})
                for it in section]

    figures = [f.model_copy(update={"source": move(f.source) if f.source is not None else None})
               for f in summary.figures]
    return summary.model_copy(update={"results": items(summary.results), "tasks": items(summary.tasks),
                                      "shortcomings": items(summary.shortcomings), "figures": figures})


def reader_warnings(doc: Document) -> list[str]:
    """What the user must know about how the text was read: the reader's warnings, and for OCR'd
    text always that the figures must be checked against the original."""
    warnings = [w for w in doc.warnings if w.strip()]
    if doc.ocr and not any("OCR" in w or "nhận dạng" in w.lower() for w in warnings):
        warnings.insert(0, OCR_NOTICE)
    return warnings


def merge_parts(parts: list[Part]) -> Document | str:
    """A batch as one input: a lone file's or photo's Document as it is; otherwise the joined text
    (pieces of one text joined where they were cut, whole files one after another), to be read as
    pasted text, with the OCR flag and warnings of its files kept by `_with_flags`."""
    if len(parts) == 1 and parts[0].doc is not None:
        return parts[0].doc
    texts = [p.doc.text() if p.doc is not None else p.text for p in parts]
    return join_parts(texts) if all(p.piece for p in parts) else "\n".join(texts)


def _with_flags(doc: Document, parts: list[Part]) -> Document:
    read = [p.doc for p in parts if p.doc is not None]
    if not read or len(parts) == 1:  # a lone file's Document already carries its flags
        return doc
    warnings = list(dict.fromkeys(w for d in read for w in d.warnings))
    return doc.model_copy(update={"ocr": any(d.ocr for d in read), "warnings": warnings})


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

    # --- inbox ---------------------------------------------------------------------------------
    async def done(self, chat_id: int, message_ids: list[int], report_id: int | None = None) -> None:
        """Mark inbox rows handled; a failure here only means the message is handled again at start-up."""
        try:
            await self.repo.inbox_done(chat_id, message_ids, report_id)
        except Exception:
            log.exception("marking inbox rows of chat %s done failed", chat_id)

    async def replay_inbox(self, entries: list[InboxEntry]) -> int:
        """Handle again what a crash left in the inbox (written, confirmed to Telegram, never
        handled), through the same handlers, oldest first. `entries` are read before polling
        starts: a row this process writes itself is already being handled and must not be
        handled a second time."""
        for entry in entries:
            try:
                update = Update.de_json(json.loads(entry.update_json), self.app.bot)
                await self.app.process_update(update)
            except Exception:
                log.exception("replaying inbox message %s of chat %s failed", entry.message_id, entry.chat_id)
                await self.done(entry.chat_id, [entry.message_id])
        if entries:
            log.info("replayed %d inbox message(s) left by a restart", len(entries))
        return len(entries)

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
        await self.handle_input(
            batch.chat_id,
            batch.user_id,
            batch.scope,
            merge_parts(parts),
            kind=kind,
            origin=origin,
            file_name=", ".join(dict.fromkeys(names)) if names else None,
            private=batch.private,
            always_answer=any(p.doc is not None and not p.piece for p in parts),
            parts=parts,
            inbox_ids=[p.message_id for p in parts],
        )

    async def run_cpu(self, call: Callable[[], T]) -> T:
        """Run CPU-bound work (reading, checking, summarising) off the event loop: in the worker
        processes when configured (BOT_WORKERS), else in the default thread pool."""
        pool = self.app.bot_data.get("executor")
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except BrokenProcessPool:
            log.error("a worker process died; starting a new pool")
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
        """A pasted text (read with `documents.read_text`) as one report; see `handle_input`."""
        return await self.handle_input(chat_id, user_id, scope, text, kind=kind, origin=origin,
                                       file_name=file_name, url=url, title=title, private=private,
                                       always_answer=kind in ("document", "url"))

    async def handle_input(
        self,
        chat_id: int,
        user_id: int | None,
        scope: int,
        source: Document | str,
        *,
        kind: SourceKind = "text",
        origin: str | None = None,
        file_name: str | None = None,
        url: str | None = None,
        title: str | None = None,
        private: bool = True,
        always_answer: bool = False,
        parts: list[Part] | None = None,
        inbox_ids: list[int] | None = None,
    ) -> StoredReport | None:
        """Check, store, summarise and answer one report (a Document, or pasted text to read).
        Never raises: failures are told to the user. A text that is not a report is answered in
        private chats, and everywhere when `always_answer` (a file or link was sent to the bot on
        purpose; in groups, casual chatter and snapshots are not answered). The inbox rows of
        `inbox_ids` are marked done once the report is stored (then start-up completion owns it)
        or once it has been answered otherwise."""
        try:
            return await self._handle_input(chat_id, user_id, scope, source, kind=kind, origin=origin,
                                            file_name=file_name, url=url, title=title, private=private,
                                            always_answer=always_answer, parts=parts, inbox_ids=inbox_ids)
        finally:
            if inbox_ids:
                await self.done(chat_id, inbox_ids)

    async def _handle_input(
        self,
        chat_id: int,
        user_id: int | None,
        scope: int,
        source: Document | str,
        *,
        kind: SourceKind,
        origin: str | None,
        file_name: str | None,
        url: str | None,
        title: str | None,
        private: bool,
        always_answer: bool,
        parts: list[Part] | None,
        inbox_ids: list[int] | None,
    ) -> StoredReport | None:
        bot = self.app.bot
        try:
            limit = self.settings.max_report_chars
            size = len(source) if isinstance(source, str) else None
            if size is not None and size > limit:
                await send_html(bot, chat_id, _too_long(size, limit))
                return None
            doc, cleaned, rejection = await self.run_cpu(partial(_prepare, source))
            if doc is not None and parts is not None:
                doc = _with_flags(doc, parts)
            if doc is not None and rejection is None and len(cleaned) > limit:
                await send_html(bot, chat_id, _too_long(len(cleaned), limit))
                return None
            if rejection is not None or doc is None:
                if private or always_answer:
                    why = rejection.vi if rejection is not None else "Không có nội dung."
                    await send_html(bot, chat_id, f"{esc(why)}\n{esc(ACCEPTS)}")
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
                    title=title or doc.title,
                    text=cleaned,
                )
            )
            if inbox_ids:
                await self.done(chat_id, inbox_ids, report.id)
            if not created:
                if report.summary is not None and report.state == "summarised":
                    note = f"Báo cáo này đã được gửi trước đây (mã <code>#{report.id}</code>); đây là bản tóm tắt đã có."
                    await send_html(bot, chat_id, [note, *render_summary(report, warnings=reader_warnings(doc))],
                                    report_keyboard(report.id))
                    return report
                if report.state == "received":
                    await send_html(
                        bot, chat_id, f"Báo cáo này đã được nhận (mã <code>#{report.id}</code>) và đang được tóm tắt."
                    )
                    return report
                # failed before: try again
            return await self.summarise_and_reply(report, chat_id, doc=doc)
        except ReadError as exc:  # a paste or an album the reader refuses (e.g. too long once joined)
            log.info("cannot read a report from chat %s: %s", chat_id, exc.en)
            if private or always_answer:
                with contextlib.suppress(TelegramError):
                    await send_html(bot, chat_id, esc(exc.vi))
            return None
        except Exception:
            log.exception("processing a report from chat %s failed", chat_id)
            with contextlib.suppress(TelegramError):
                await send_html(bot, chat_id, "Có lỗi khi xử lý báo cáo. Vui lòng thử lại sau ít phút.")
            return None

    async def summarise_and_reply(
        self, report: StoredReport, chat_id: int, notice: str | None = None, *, doc: Document | None = None
    ) -> StoredReport | None:
        """Summarise a stored report off the event loop, save it and send the summary.

        `doc` is the report as read (its structure and the reader's warnings); without it (start-up
        completion) the stored text is read again with `documents.read_text`."""
        bot = self.app.bot
        engine = self.app.bot_data["engine"]
        if doc is not None:
            call = partial(summarise_document, engine, doc, report.title, report.text)
        else:
            call = partial(summarise_stored, engine, report.text, report.title)
        try:
            async with typing(bot, chat_id):
                summary = await self.run_cpu(call)
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
        messages = render_summary(stored, warnings=reader_warnings(doc) if doc is not None else ())
        if notice:
            messages = [notice, *messages]
        # (the summary's own buttons: Word, source, ✏️ corrections, 👍/👎)
        from bot.commands import summary_keyboard  # (bot.commands imports this module's users, not it)

        await send_html(bot, chat_id, messages, summary_keyboard(stored.id))
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


def _too_long(size: int, limit: int) -> str:
    return (f"Báo cáo quá dài ({fmt_int(size)} ký tự); bot chỉ nhận tối đa {fmt_int(limit)} ký tự. "
            "Vui lòng gửi phần nội dung chính của báo cáo.")


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
    ingest = get_ingestor(context)
    handed = False
    try:
        caller = await authorise(update, context)
        if caller is None:
            return
        private = message.chat.type == ChatType.PRIVATE
        key = _sender_key(message, caller.user_id)
        url = find_url(message.text)
        if url and not ingest.has_batch(key) and message.forward_origin is None:
            ingest.spawn(handle_url(ingest, caller, url, private, message.message_id))
            handed = True
            return
        origin = origin_name(message)
        part = Part(message.message_id, message.text, "forward" if origin else "text", origin)
        ingest.add_part(key, caller, private, part)
        handed = True  # the batch marks it done once stored or answered
    finally:
        if not handed:
            await ingest.done(message.chat_id, [message.message_id])


async def handle_url(ingest: Ingestor, caller: Caller, url: str, private: bool, message_id: int | None = None) -> None:
    """A link: fetched, read and handled as one report; its inbox row is done once that is over."""
    inbox = [message_id] if message_id is not None else None
    try:
        await _handle_url(ingest, caller, url, private, inbox)
    finally:
        if inbox:
            await ingest.done(caller.chat_id, inbox)


async def _handle_url(ingest: Ingestor, caller: Caller, url: str, private: bool, inbox: list[int] | None) -> None:
    bot = ingest.app.bot
    try:
        async with typing(bot, caller.chat_id):
            doc = await fetch_document(url, allow_private=ingest.settings.fetch_private_urls)
    except FetchError as exc:
        await send_html(bot, caller.chat_id, f"Không lấy được nội dung từ đường link: {esc(exc.vi)}")
        return
    except Exception:
        log.exception("fetching %s failed", url)
        await send_html(bot, caller.chat_id, "Không lấy được nội dung từ đường link do lỗi không xác định.")
        return
    await ingest.handle_input(
        caller.chat_id, caller.user_id, caller.scope, doc, kind="url", url=url, title=doc.title, private=private,
        always_answer=True, inbox_ids=inbox,
    )


def ocr_missing() -> str | None:
    """None when images can be read; else the sentence saying how to enable OCR (for the reply)."""
    from documents.ocr import available  # looked up at each call: installing Tesseract needs no restart

    return available()


async def _read_upload(
    context: ContextTypes.DEFAULT_TYPE, ingest: Ingestor, caller: Caller, file_id: str, name: str, shown: str,
    *, quiet: bool,
) -> Document | None:
    """Download a file or photo and read it off the loop; every failure is answered (unless `quiet`)
    and ends in None."""
    bot = context.bot
    if is_image(name):
        missing = await asyncio.to_thread(ocr_missing)
        if missing is not None:
            log.warning("an image arrived but OCR is not available: %s", missing)
            if not quiet:
                await send_html(bot, caller.chat_id, f"Chưa đọc được chữ trong «{esc(shown)}»: {esc(missing)}")
            return None
    try:
        async with typing(bot, caller.chat_id):
            file = await bot.get_file(file_id)
            content = bytes(await file.download_as_bytearray())
            return await ingest.run_cpu(
                partial(read_file, name, content, max_chars=ingest.settings.max_report_chars)
            )
    except TelegramError as exc:
        log.warning("download of %s failed: %s", shown, exc)
        if not quiet:
            await send_html(bot, caller.chat_id, f"Không tải được tệp «{esc(shown)}» từ Telegram. Vui lòng gửi lại.")
    except ReadError as exc:
        log.info("cannot read %s: %s", shown, exc.en)
        if not quiet:
            await send_html(bot, caller.chat_id, f"Không đọc được tệp «{esc(shown)}»: {esc(exc.vi)}")
    except BrokenProcessPool:
        if not quiet:
            await send_html(bot, caller.chat_id, f"Không đọc được tệp «{esc(shown)}» do lỗi khi xử lý. Vui lòng gửi lại.")
    return None


async def _take_upload(
    message: Message, ingest: Ingestor, caller: Caller, doc: Document, name: str, *, piece: bool, private: bool,
    always_answer: bool,
) -> bool:
    """A file or photo read: a piece of an album (merged like text; True: the batch owns its inbox
    row), or a report of its own."""
    if message.media_group_id:
        part = Part(message.message_id, doc.text(), "document", origin_name(message), name, doc=doc, piece=piece)
        ingest.add_part(_sender_key(message, caller.user_id), caller, private, part)
        return True
    caption = (message.caption or "").strip()
    await ingest.handle_input(
        caller.chat_id,
        caller.user_id,
        caller.scope,
        doc,
        kind="document",
        origin=origin_name(message),
        file_name=name,
        title=caption[:200] or None,
        private=private,
        always_answer=always_answer,
        inbox_ids=[message.message_id],
    )
    return False


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file: checked by name and size before download, read off the loop (images by OCR), then one
    report (or a piece of one when several files come as an album)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    handed = False
    try:
        handed = await _on_document(update, context, message)
    finally:
        if not handed:
            await get_ingestor(context).done(message.chat_id, [message.message_id])


async def _on_document(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> bool:
    assert message.document is not None
    caller = await authorise(update, context)
    if caller is None:
        return False
    ingest = get_ingestor(context)
    file = message.document
    shown = (file.file_name or "").strip() or "tep"
    private = message.chat.type == ChatType.PRIVATE
    name = accepted_name(file.file_name, file.mime_type)
    if name is None:
        await send_html(context.bot, caller.chat_id, unsupported_message(shown))
        return False
    if file.file_size is not None and file.file_size > MAX_FILE_BYTES:
        await send_html(context.bot, caller.chat_id, too_large_message(shown, file.file_size))
        return False
    doc = await _read_upload(context, ingest, caller, file.file_id, name, shown, quiet=False)
    if doc is None:
        return False
    # a page photographed and sent as a file is a piece of a text, like a photo
    return await _take_upload(message, ingest, caller, doc, shown, piece=is_image(name), private=private,
                              always_answer=True)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (Telegram's compressed image; the largest size is read): OCR'd, stored and summarised
    like a file, the reply saying the text was recognised from an image. In groups a photo that
    is not a report (or cannot be read) gets no answer: people share pictures there."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    handed = False
    try:
        handed = await _on_photo(update, context, message)
    finally:
        if not handed:
            await get_ingestor(context).done(message.chat_id, [message.message_id])


async def _on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> bool:
    caller = await authorise(update, context)
    if caller is None:
        return False
    ingest = get_ingestor(context)
    private = message.chat.type == ChatType.PRIVATE
    photo = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
    if photo.file_size is not None and photo.file_size > MAX_FILE_BYTES:
        if private:
            await send_html(context.bot, caller.chat_id, too_large_message(PHOTO_NAME, photo.file_size))
        return False
    doc = await _read_upload(context, ingest, caller, photo.file_id, "photo.jpg", PHOTO_NAME, quiet=not private)
    if doc is None:
        return False
    return await _take_upload(message, ingest, caller, doc, PHOTO_NAME, piece=True, private=private,
                              always_answer=False)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice, video...: say what the bot takes (private chats only)."""
    message = update.effective_message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return
    if await authorise(update, context) is None:
        return
    await send_html(context.bot, message.chat_id, esc(ACCEPTS))
