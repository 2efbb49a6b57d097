"""Turning what users send (text, forwards, files, photos, links) into stored, summarised reports.

Everything becomes a `documents.Document` first (pasted text via `documents.read_text`, files and
photos via `documents.read` in the bounded worker processes of `documents.isolated.Extractor`, pages
via `documents.html.read_html`): what is stored is its text (`Document.text()`, cleaned), so every
figure a summary shows can be found in the stored report, OCR'd text included; what is summarised
is the Document, so the structure the file had is kept.

A text message is answered at once (no merge window to wait out). Long reports arrive in pieces
(Telegram clients split text near 4,096 characters, mid-word; a long channel post forwarded arrives
as several messages): a message that continues the sender's previous one (`bot.pieces.continues`:
same forward origin, a few seconds apart, the earlier one cut by the client or stopping
mid-sentence, the new one opening no report of its own) is stored, merged into the previous report
(`Repository.merge_reports`, so one report remains) and the reply already sent is edited into the
reply to the joined report. An album of files or photographed pages shares a media group and is
buffered until all its pieces are read; its pieces are joined with `documents.text.join_parts` (a
space where a sentence was cut), whole files with a line break.

The report is stored before it is summarised; summarising runs in an executor (threads or the
summariser's processes) and files are read in the Extractor's own processes, so a file never holds up
a text report. Reports left unsummarised by a crash are completed at start-up from their stored text.
"""

from __future__ import annotations

import asyncio
import atexit
import bisect
import contextlib
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from telegram import (
    Chat,
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
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes, ExtBot

import documents
from bot.access import Caller, authorise
from bot.config import Settings
from bot.extract import (
    MAX_FILE_BYTES,
    accepted_name,
    is_image,
    read_error_message,
    read_timeout,
    too_large_message,
    unsupported_message,
)
from bot.fetch import FetchError, fetch_document, find_url
from bot.pieces import continues, utf16_len
from bot.render import OCR_NOTICE, esc, fmt_int
from bot.replies import reply_once, send_html, typing
from documents import Document
from documents.errors import ReadError
from documents.isolated import Extractor
from documents.text import join_parts
from storage import NewReport, Repository, StoredReport
from storage.models import ReplyAttempt, SenderTail, SourceKind
from storage.repository import InboxEntry
from summariser import Item, Rejection, Span, Summary, check_report, clean_text

log = logging.getLogger(__name__)
T = TypeVar("T")

ACCEPTS = (
    "Bot nhận báo cáo hội nghị (kết quả, hạn chế, nhiệm vụ) dưới dạng tin nhắn văn bản, tin chuyển tiếp, "
    "tệp .docx, .pdf, .txt, ảnh chụp văn bản hoặc đường link bài viết. Gõ /help để xem các lệnh tra cứu."
)
PHOTO_NAME = "ảnh chụp"  # what a photo message is called in the summary's "Nguồn:" line
MAX_JOINED = 64  # messages joined into one report at most (with `max_report_chars`, the merge's size cap)
Tail = SenderTail  # the sender's last text report, in the database (any replica may get the next piece)
PEER_WAIT = 10.0  # seconds a piece waits for an earlier piece of its sender that another replica holds
PEER_POLL = 0.1  # seconds between two looks at that piece (longer than the lock's poll: the holder gets in)
CLIENT_PIECE = 3_800  # UTF-16 units: a text this long may be the first piece of a client's split
PRUNE_EVERY = 24 * 3600.0  # seconds between two prunings of the inbox


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
    reading: int = 0  # pieces of the album still being read: the batch waits for them


@dataclass
class ReplyLog:
    """The messages one report's answer consists of (`sent`), and with `edit` the messages of an
    earlier answer that this one overwrites, in order (`IntakeBot.send_message`)."""

    edit: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    failed: bool = False


# Set around the handling of one text report: whatever sends its answer (the brief, a refusal)
# is recorded, or turned into edits of the answer to the piece it continues. A context variable,
# so the function that renders the first reply is the one used for the joined report too.
_REPLY: ContextVar[ReplyLog | None] = ContextVar("reply_log", default=None)
# what an edit takes as well (`rate_limit_args`: a reply's 'sending' record is written before an edit too)
_EDITABLE = frozenset({"parse_mode", "reply_markup", "link_preview_options", "rate_limit_args"})


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

    async def send_message(self, chat_id: int | str, text: str, *args: Any, **kwargs: Any) -> Message:  # type: ignore[override]
        """`ExtBot.send_message`, except inside a `ReplyLog` with messages to overwrite: then the
        earlier answer's next message is edited instead (kept message id); an edit that fails
        falls back to a new message, and so do all later ones of this answer."""
        reply = _REPLY.get()
        if reply is not None and reply.edit and not reply.failed and not args and set(kwargs) <= _EDITABLE:
            target = reply.edit.pop(0)
            try:
                edited = await self.edit_message_text(text, chat_id=chat_id, message_id=target, **kwargs)
            except BadRequest as exc:
                if "not modified" in str(exc).lower():  # the joined report's answer reads the same
                    reply.sent.append(target)
                    kept = Message(message_id=target, date=datetime.now(UTC), chat=Chat(id=int(chat_id), type="private"))
                    kept.set_bot(self)
                    return kept
                log.info("editing message %s in chat %s failed (%s): sending a new one", target, chat_id, exc)
                reply.failed = True
            except TelegramError as exc:
                log.info("editing message %s in chat %s failed (%s): sending a new one", target, chat_id, exc)
                reply.failed = True
            else:
                if isinstance(edited, Message):
                    reply.sent.append(edited.message_id)
                    return edited
                reply.failed = True
        message: Message = await super().send_message(chat_id, text, *args, **kwargs)
        if reply is not None:
            reply.sent.append(message.message_id)
        return message


def make_process_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes for the summariser ("forkserver": never fork a process that has threads)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


def warm_worker() -> int:
    """Import the summariser in a worker before the first report arrives."""
    clean_text("Khởi động.")
    return os.getpid()


_EXTRACTORS: dict[tuple[int, int, int, float], Extractor] = {}


def shared_extractor(settings: Settings) -> Extractor:
    """The file readers' worker processes for these limits, one set per process (separate from the
    summariser's pool). Its workers start with the first file and stop when the process exits; an
    application built again in the same process (tests, a restart in place) reuses them."""
    key = (settings.extract_workers, settings.extract_memory_mb, settings.extract_light_workers,
           settings.extract_cpu_seconds)
    extractor = _EXTRACTORS.get(key)
    if extractor is None:
        if not _EXTRACTORS:
            atexit.register(_close_extractors)
        extractor = _EXTRACTORS[key] = Extractor(
            settings.extract_workers, light_workers=settings.extract_light_workers,
            memory_bytes=settings.extract_memory_mb << 20, cpu_seconds=settings.extract_cpu_seconds)
    return extractor


def _close_extractors() -> None:
    for extractor in _EXTRACTORS.values():
        extractor.close()
    _EXTRACTORS.clear()


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


def _read_piece(text: str) -> str:
    """A continuation's text as it is stored: read like a paste and cleaned, never refused on its
    own (the end of a long paste is rarely a report by itself)."""
    return clean_text(documents.read_text(text).text()) if "\x00" not in text else ""


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
    """Per-application ingest state: album buffers, the per-sender order of text messages, and
    the tasks turning them into reports. Each sender's last text report (to join a continuation
    to) is in the database (`Repository.get_tail` / `put_tail`), and the per-sender order holds
    across replicas (`in_order`): the pieces of one split paste may reach different replicas."""

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self.app = application
        self.batches: dict[tuple[Any, ...], Batch] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self._order: dict[tuple[Any, ...], tuple[asyncio.Lock, list[int]]] = {}
        self._pruner: asyncio.Task[None] | None = None

    @property
    def settings(self) -> Settings:
        return self.app.bot_data["settings"]

    @property
    def repo(self) -> Repository:
        return self.app.bot_data["repo"]

    @property
    def extractor(self) -> Extractor:
        """The bounded worker processes that read files and photos (`bot.app` puts them in bot_data)."""
        found: Extractor | None = self.app.bot_data.get("extractor")
        if found is None:
            found = self.app.bot_data["extractor"] = shared_extractor(self.settings)
        return found

    # --- task bookkeeping ----------------------------------------------------------------------
    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, timeout: float = 30.0) -> None:
        """Flush every buffer now and wait for the reports being processed (at shutdown)."""
        if self._pruner is not None:
            self._pruner.cancel()
            self._pruner = None
        for key in list(self.batches):
            batch = self.batches.pop(key)
            if batch.timer is not None:
                batch.timer.cancel()
            if batch.parts:
                self.spawn(self._process_batch(batch))
        pending = [t for t in self.tasks if not t.done() and t is not asyncio.current_task()]
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()

    # --- inbox ---------------------------------------------------------------------------------
    def start_pruning(self) -> None:
        """Delete old done inbox rows now and then once a day (its own task, not `spawn`ed: the
        drain at shutdown must not wait for it)."""
        if self._pruner is None or self._pruner.done():
            self._pruner = asyncio.create_task(self._prune_daily())

    async def prune_inbox(self) -> int:
        """Inbox rows done more than `inbox_keep_days` ago, deleted (bounded per call); never a 'new' row."""
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.inbox_keep_days)
        try:
            removed = await self.repo.inbox_prune(cutoff)
        except Exception:
            log.exception("pruning the inbox failed")
            return 0
        if removed:
            log.info("deleted %d inbox row(s) done before %s", removed, cutoff.isoformat(timespec="seconds"))
        return removed

    async def _prune_daily(self) -> None:
        while True:
            await self.prune_inbox()
            await asyncio.sleep(PRUNE_EVERY)

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

    # --- albums --------------------------------------------------------------------------------
    def _batch(self, key: tuple[Any, ...], caller: Caller, private: bool) -> Batch:
        batch = self.batches.get(key)
        if batch is None:
            batch = self.batches[key] = Batch(caller.chat_id, caller.user_id, caller.scope, private)
        return batch

    def expect(self, key: tuple[Any, ...], caller: Caller, private: bool) -> None:
        """A piece of an album is being read: the album is not flushed before it is in (reading
        in the worker processes takes longer than the window, and pieces finish in any order)."""
        batch = self._batch(key, caller, private)
        batch.reading += 1
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None

    def add_part(self, key: tuple[Any, ...], caller: Caller, private: bool, part: Part | None, *,
                 expected: bool = False) -> None:
        """A piece of an album, read (None: it could not be read and was answered); `expected`:
        announced by `expect`. The album is flushed `merge_window` seconds after its last piece is in."""
        batch = self._batch(key, caller, private)
        if expected:
            batch.reading = max(0, batch.reading - 1)
        if part is not None:
            batch.parts.append(part)
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        if batch.reading == 0:
            batch.timer = self.spawn(self._after_window(key, batch))

    async def _after_window(self, key: tuple[Any, ...], batch: Batch) -> None:
        await asyncio.sleep(self.settings.merge_window)
        if self.batches.get(key) is batch and batch.reading == 0:
            del self.batches[key]
            batch.timer = None
            if batch.parts:
                await self._process_batch(batch)

    # --- text: answered at once, continuations joined ------------------------------------------
    @contextlib.asynccontextmanager
    async def in_order(self, key: tuple[Any, ...], message: Message | None = None) -> Any:
        """One sender's text messages handled one after another, in the order they arrived, on
        every replica: a continuation must find the report it continues already stored and answered.

        In this process an asyncio lock (a handler enters this before its first await, so the lock's
        queue is the arrival order). Across replicas (PostgreSQL) the sender's advisory lock
        (`Repository.lock_sender`), taken next; then, for `message`, a look at the inbox: while an
        earlier text message of the sender is still 'new' there, owned by another live replica,
        that replica has it and has not handled it yet (the two pieces of a paste went to two
        replicas and this one came first). The lock is let go and taken again `PEER_POLL` s later,
        up to `PEER_WAIT` s: the other replica takes it meanwhile, stores and answers the earlier
        piece and saves the sender's tail before letting go, so this piece then finds the tail and
        joins. Simple and correct as long as a chat's updates are delivered in order (each POST is
        answered once its inbox row is written, as Telegram and the proxy do): the earlier row is
        in the inbox before the later message is handled. An earlier piece whose replica died is not
        waited for (taken over, it is handled later as a report of its own). With no merge window
        nothing joins, and only the in-process order is kept."""
        entry = self._order.get(key)
        if entry is None:
            entry = self._order[key] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                sender = _tail_name(key)
                # (no window, nothing joins: the order across replicas does not matter then)
                held = self.settings.merge_window > 0 and await self._lock_sender(sender)
                deadline = time.monotonic() + PEER_WAIT
                while held and message is not None and message.from_user is not None \
                        and time.monotonic() < deadline and await self._peer_has_earlier(message):
                    await self.repo.unlock_sender(sender)
                    await asyncio.sleep(PEER_POLL)
                    held = await self._lock_sender(sender)
                try:
                    yield
                finally:
                    if held:
                        await self.repo.unlock_sender(sender)
        finally:
            users[0] -= 1
            if users[0] == 0 and self._order.get(key) is entry:
                del self._order[key]

    async def _lock_sender(self, sender: str) -> bool:
        try:
            return await self.repo.lock_sender(sender)
        except Exception:
            log.exception("taking the sender's lock failed: going on unordered")
            return False

    async def _peer_has_earlier(self, message: Message) -> bool:
        assert message.from_user is not None
        try:
            return await self.repo.inbox_waiting_before(message.chat_id, message.from_user.id, message.message_id)
        except Exception:
            log.exception("looking for an earlier piece in the inbox failed")
            return False

    async def _tail(self, key: tuple[Any, ...], origin: str | None, message_id: int, date: float,
                    text: str) -> Tail | None:
        """The sender's last report when `text` continues it (same origin, within the window, under
        the caps, `bot.pieces.continues`), else None."""
        window = self.settings.merge_window
        if window <= 0:
            return None
        try:
            tail = await self.repo.get_tail(_tail_name(key))
        except Exception:
            log.exception("reading the sender's last report failed: not joined")
            return None
        if tail is None:
            return None
        # Telegram's dates are whole seconds: one more absorbs the rounding
        if tail.origin != origin or not 0 <= date - tail.date <= window + 1 or message_id < tail.message_id:
            return None
        if tail.chars + len(text) > self.settings.max_report_chars or tail.pieces >= MAX_JOINED:
            return None
        return tail if continues(tail.texts[-1], text) else None

    async def would_continue(self, key: tuple[Any, ...], message: Message) -> bool:
        """Whether this text message would join the sender's last report (then a link in it is text)."""
        text = message.text or ""
        found = await self._tail(key, origin_name(message), message.message_id, message.date.timestamp(), text)
        return found is not None

    async def _remember(self, key: tuple[Any, ...], tail: Tail) -> None:
        """Save the sender's tail for whichever replica gets the next piece (kept a minute past the window)."""
        try:
            await self.repo.put_tail(_tail_name(key), tail, timedelta(seconds=self.settings.merge_window + 60))
        except Exception:
            log.exception("saving the sender's last report failed: a continuation will not join it")

    async def _forget(self, key: tuple[Any, ...]) -> None:
        try:
            await self.repo.drop_tail(_tail_name(key))
        except Exception:
            log.exception("forgetting the sender's last report failed")

    async def take_text(self, key: tuple[Any, ...], caller: Caller, private: bool, part: Part, date: float) -> None:
        """A text message: joined to the sender's last report when it continues it, else a report
        of its own; answered at once either way. The inbox row is done once stored or answered."""
        tail = await self._tail(key, part.origin, part.message_id, date, part.text)
        if tail is not None:
            if tail.report_id is None:
                await self._answer_text(key, caller, private, part, date, tail)
                return
            try:
                if await self._join(key, caller, part, date, tail):
                    return
            except Exception:  # (a stored piece left 'received' is completed at start-up)
                log.exception("joining message %s of chat %s to report %s failed", part.message_id,
                              caller.chat_id, tail.report_id)
                await self._forget(key)
                await self.done(caller.chat_id, [part.message_id])
                with contextlib.suppress(TelegramError):
                    await send_html(self.app.bot, caller.chat_id,
                                    "Có lỗi khi xử lý báo cáo. Vui lòng thử lại sau ít phút.")
                return
        await self._answer_text(key, caller, private, part, date, None)

    async def _answer_text(self, key: tuple[Any, ...], caller: Caller, private: bool, part: Part, date: float,
                           tail: Tail | None) -> None:
        """The text (after the unstored pieces of `tail`, whose answer it overwrites) as one report."""
        texts = [*tail.texts, part.text] if tail is not None else [part.text]
        reply = ReplyLog(edit=list(tail.reply) if tail is not None else [])
        token = _REPLY.set(reply)
        try:
            report = await self.handle_input(
                caller.chat_id, caller.user_id, caller.scope, join_parts(texts) if len(texts) > 1 else part.text,
                kind=part.kind, origin=part.origin, private=private, inbox_ids=[part.message_id],
            )
        finally:
            _REPLY.reset(token)
        await self._drop_leftovers(caller.chat_id, reply)
        if report is not None:
            await self._remember(key, Tail(report_id=report.id, origin=part.origin, texts=[part.text],
                                           message_id=part.message_id, date=date, chars=sum(map(len, texts)),
                                           reply=reply.sent, pieces=len(texts)))
        elif utf16_len(part.text) >= CLIENT_PIECE:
            # a first piece of a long paste may be refused alone: its continuation is read with it
            await self._remember(key, Tail(report_id=None, origin=part.origin, texts=texts,
                                           message_id=part.message_id, date=date, chars=sum(map(len, texts)),
                                           reply=reply.sent, pieces=len(texts)))
        else:
            await self._forget(key)

    async def _join(self, key: tuple[Any, ...], caller: Caller, part: Part, date: float, tail: Tail) -> bool:
        """Store the piece, merge it into the report it continues (one report remains, the piece
        kept for the record as merged into it), summarise the whole and overwrite the answer.
        False when it cannot be joined (not readable, already stored, the report gone): the caller
        then handles it as a report of its own."""
        assert tail.report_id is not None
        chat_id = caller.chat_id
        cleaned = await self.run_cpu(partial(_read_piece, part.text))
        if not cleaned:
            return False
        piece, created = await self.repo.add_report(NewReport(
            scope=caller.scope, chat_id=chat_id, user_id=caller.user_id, source_kind=part.kind,
            forward_origin=part.origin, text=cleaned))
        if not created:
            return False
        try:
            merged = await self.repo.merge_reports(tail.report_id, piece.id, caller.scope, caller.user_id)
        except (KeyError, ValueError) as exc:  # deleted or merged meanwhile, or the whole is a report already
            log.info("piece %s of chat %s not joined to report %s: %r", piece.id, chat_id, tail.report_id, exc)
            await self.done(chat_id, [part.message_id], piece.id)
            await self._forget(key)
            await self.summarise_and_reply(piece, chat_id)
            return True
        await self.done(chat_id, [part.message_id], merged.id)
        log.info("message %s of chat %s joined to report %s", part.message_id, chat_id, merged.id)
        reply = ReplyLog(edit=list(tail.reply))
        token = _REPLY.set(reply)
        try:
            await self.summarise_and_reply(merged, chat_id)
        finally:
            _REPLY.reset(token)
        await self._drop_leftovers(chat_id, reply)
        await self._remember(key, Tail(report_id=merged.id, origin=part.origin, texts=[part.text],
                                       message_id=part.message_id, date=date, chars=tail.chars + len(part.text),
                                       reply=reply.sent, pieces=tail.pieces + 1))
        return True

    async def _drop_leftovers(self, chat_id: int, reply: ReplyLog) -> None:
        """Messages of the earlier answer the new one did not need (it is shorter): deleted."""
        if reply.failed:
            return
        for message_id in reply.edit:
            with contextlib.suppress(TelegramError):
                await self.app.bot.delete_message(chat_id, message_id)
        reply.edit.clear()

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
                ),
                inbox=inbox_ids or (),
            )
            if inbox_ids:
                await self.done(chat_id, inbox_ids, report.id)
            if not created:
                if report.summary is not None and report.state == "summarised":
                    if inbox_ids and await self._answered_already(report, chat_id, inbox_ids):
                        return report
                    note = f"Báo cáo này đã được gửi trước đây (mã <code>#{report.id}</code>); đây là bản tóm tắt đã có."
                    await self.reply_brief(report, chat_id, notice=note, warnings=reader_warnings(doc))
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

    async def _answered_already(self, report: StoredReport, chat_id: int, inbox_ids: list[int]) -> bool:
        """The message is the report's own, handled again after a crash (it was in the inbox before
        the report was stored: the kill came between the two), and the report's reply went out or
        may have (start-up sent it, or it was 'sending'): a second brief would be a duplicate. A
        report sent again later, or one whose reply never started, is answered as before."""
        reply = await self.repo.get_reply(report.id)
        if reply is None or reply.state == "unsent":
            return False
        if not await self.repo.inbox_arrived_before(chat_id, inbox_ids, report.received_at):
            return False
        log.info("message(s) %s of chat %s are report %s's own, its reply %s: not answered again",
                 inbox_ids, chat_id, report.id, "sent" if reply.state == "sent" else "may have gone out")
        return True

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
        # the brief (one phone screen) with its buttons: full summary, figures, source, Word, ✏️, 👍/👎
        await self.reply_brief(stored, chat_id, notice=notice, warnings=reader_warnings(doc) if doc is not None else ())
        return stored

    async def reply_brief(self, report: StoredReport, chat_id: int, *, notice: str | None = None,
                          warnings: Iterable[str] = ()) -> Message | None:
        """The report's reply, its brief, at most once across crashes (`bot.replies.reply_once`);
        None when it was not sent or may have gone out without an answer (recorded and logged)."""
        from bot.commands import send_brief  # (bot.commands imports this module's users, not it)

        bot = self.app.bot
        return await reply_once(bot, self.repo, report.id, chat_id, lambda options: send_brief(
            bot, chat_id, report, self.repo, warnings=warnings, notice=notice, options=options))

    async def complete_pending(self, pending: list[StoredReport] | None = None,
                               unreplied: list[StoredReport] | None = None,
                               in_doubt: list[ReplyAttempt] | None = None) -> int:
        """After a crash: summarise the reports left in state `received`, and send the brief of those
        summarised whose reply never started (or was refused), telling their chats. Replies a crash
        left 'sending' may have reached their chats: logged and recorded, not sent again. The lists
        are read before polling starts (`bot.app.post_init`): this process's own work is not taken."""
        pending = await self.repo.pending_reports() if pending is None else pending
        unreplied = await self.repo.unreplied_reports() if unreplied is None else unreplied
        in_doubt = await self.repo.replies_in_doubt() if in_doubt is None else in_doubt
        await self.record_in_doubt(in_doubt)
        done = 0
        for report in pending:
            try:
                notice = (
                    f"Bot vừa khởi động lại và đã hoàn tất tóm tắt báo cáo <code>#{report.id}</code> "
                    "gửi trước đó."
                )
                if await self.summarise_and_reply(report, report.chat_id, notice) is not None:
                    done += 1
            except Exception:
                log.exception("completing pending report %s failed", report.id)
        for report in unreplied:
            try:
                notice = (f"Bot vừa khởi động lại; đây là bản tóm tắt báo cáo <code>#{report.id}</code> "
                          "gửi trước đó (chưa kịp gửi trả lời).")
                if await self.reply_brief(report, report.chat_id, notice=notice) is not None:
                    done += 1
            except Exception:
                log.exception("sending the lost reply of report %s failed", report.id)
        if done:
            log.info("completed %d pending or unanswered report(s) at start-up", done)
        return done

    async def record_in_doubt(self, in_doubt: list[ReplyAttempt]) -> None:
        """Replies the last process was sending when it stopped: Telegram may have taken them (no
        idempotency key tells), so at most once: each named in the log (report and chat, no
        content) and its row noted, not sent again."""
        for attempt in in_doubt:
            log.warning("reply to report %s in chat %s was being sent when the bot stopped (at %s): "
                        "it may have gone out, not resent", attempt.report_id, attempt.chat_id,
                        attempt.attempted_at.isoformat(timespec="milliseconds"))
            await self.repo.reply_in_doubt(attempt.report_id, "the bot stopped during the send: may have gone out, "
                                                              "not resent")
        if in_doubt:
            log.warning("%d reply(ies) in doubt after a restart, not resent", len(in_doubt))


def _too_long(size: int, limit: int) -> str:
    return (f"Báo cáo quá dài ({fmt_int(size)} ký tự); bot chỉ nhận tối đa {fmt_int(limit)} ký tự. "
            "Vui lòng gửi phần nội dung chính của báo cáo.")


def get_ingestor(context: ContextTypes.DEFAULT_TYPE) -> Ingestor:
    return context.bot_data["ingest"]


def _tail_name(key: tuple[Any, ...]) -> str:
    """A sender key as the database keeps it ("sender:chat:user")."""
    return ":".join(str(part) for part in key)


def _sender_key(message: Message, user_id: int) -> tuple[Any, ...]:
    if message.media_group_id:
        return ("album", message.chat_id, message.media_group_id)
    return ("sender", message.chat_id, user_id)


async def _handed_or_done(context: ContextTypes.DEFAULT_TYPE, message: Message,
                          handle: Callable[[], Awaitable[bool]]) -> None:
    """Run a handler's body; unless it handed the message on (True: an album or a report path now
    owns its inbox row), the row is done once the body is over, however it ended."""
    handed = False
    try:
        handed = await handle()
    finally:
        if not handed:
            await get_ingestor(context).done(message.chat_id, [message.message_id])


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message or a forwarded post: a report, answered at once (joined to the sender's last
    report when it continues it), or a link."""
    message = update.effective_message
    if message is None or not message.text:
        return
    ingest = get_ingestor(context)
    sender = message.from_user.id if message.from_user is not None else 0
    # (entered before the first await: the sender's messages keep their arrival order)
    async with ingest.in_order(_sender_key(message, sender), message):
        await _handed_or_done(context, message, lambda: _on_text(update, context, message))


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> bool:
    assert message.text is not None
    caller = await authorise(update, context)
    if caller is None:
        return False
    ingest = get_ingestor(context)
    private = message.chat.type == ChatType.PRIVATE
    key = _sender_key(message, caller.user_id)
    url = find_url(message.text)
    if url and message.forward_origin is None and not await ingest.would_continue(key, message):
        ingest.spawn(handle_url(ingest, caller, url, private, message.message_id))
        return True
    origin = origin_name(message)
    part = Part(message.message_id, message.text, "forward" if origin else "text", origin)
    await ingest.take_text(key, caller, private, part, message.date.timestamp())
    return True  # take_text marks it done once stored or answered


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
    """Download a file or photo and read it in the Extractor's bounded worker processes (never in
    this process, never in the summariser's pool); every failure is answered (unless `quiet`) and
    ends in None."""
    bot = context.bot
    if is_image(name):
        missing = await asyncio.to_thread(ocr_missing)
        if missing is not None:
            log.warning("an image arrived but OCR is not available: %s", missing)
            if not quiet:
                await send_html(bot, caller.chat_id, f"Chưa đọc được chữ trong «{esc(shown)}»: {esc(missing)}")
            return None
    settings = ingest.settings
    try:
        async with typing(bot, caller.chat_id):
            file = await bot.get_file(file_id)
            content = bytes(await file.download_as_bytearray())
            return await ingest.extractor.read(content, name, timeout=read_timeout(name, settings),
                                               max_chars=settings.max_report_chars)
    except TelegramError as exc:
        log.warning("download of %s failed: %s", shown, exc)
        if not quiet:
            await send_html(bot, caller.chat_id, f"Không tải được tệp «{esc(shown)}» từ Telegram. Vui lòng gửi lại.")
    except ReadError as exc:
        log.info("cannot read %s: %s", shown, exc.en)
        if not quiet:
            await send_html(bot, caller.chat_id, read_error_message(shown, exc))
    return None


async def _read_and_take(
    message: Message, context: ContextTypes.DEFAULT_TYPE, caller: Caller, file_id: str, name: str, shown: str, *,
    piece: bool, private: bool, always_answer: bool,
) -> bool:
    """Read a file or photo and make it a report of its own, or a piece of its album (True: the
    album owns the inbox row; it is flushed only once every piece announced is read)."""
    ingest = get_ingestor(context)
    album = _sender_key(message, caller.user_id) if message.media_group_id else None
    if album is not None:
        ingest.expect(album, caller, private)
    doc: Document | None = None
    try:
        doc = await _read_upload(context, ingest, caller, file_id, name, shown, quiet=not always_answer and not private)
    finally:
        if album is not None:
            part = None if doc is None else Part(message.message_id, doc.text(), "document", origin_name(message),
                                                 shown, doc=doc, piece=piece)
            ingest.add_part(album, caller, private, part, expected=True)
    if doc is None or album is not None:
        return doc is not None
    caption = (message.caption or "").strip()
    await ingest.handle_input(
        caller.chat_id,
        caller.user_id,
        caller.scope,
        doc,
        kind="document",
        origin=origin_name(message),
        file_name=shown,
        title=caption[:200] or None,
        private=private,
        always_answer=always_answer,
        inbox_ids=[message.message_id],
    )
    return False


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file: checked by name and size before download, read in a bounded worker (images by OCR),
    then one report (or a piece of one when several files come as an album)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    await _handed_or_done(context, message, lambda: _on_document(update, context, message))


async def _on_document(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> bool:
    assert message.document is not None
    caller = await authorise(update, context)
    if caller is None:
        return False
    file = message.document
    shown = (file.file_name or "").strip() or "tep"
    name = accepted_name(file.file_name, file.mime_type)
    if name is None:
        await send_html(context.bot, caller.chat_id, unsupported_message(shown))
        return False
    if file.file_size is not None and file.file_size > MAX_FILE_BYTES:
        await send_html(context.bot, caller.chat_id, too_large_message(shown, file.file_size))
        return False
    # a page photographed and sent as a file is a piece of a text, like a photo
    return await _read_and_take(message, context, caller, file.file_id, name, shown, piece=is_image(name),
                                private=message.chat.type == ChatType.PRIVATE, always_answer=True)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (Telegram's compressed image; the largest size is read): OCR'd, stored and summarised
    like a file, the reply saying the text was recognised from an image. In groups a photo that
    is not a report (or cannot be read) gets no answer: people share pictures there."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    await _handed_or_done(context, message, lambda: _on_photo(update, context, message))


async def _on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> bool:
    caller = await authorise(update, context)
    if caller is None:
        return False
    private = message.chat.type == ChatType.PRIVATE
    photo = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
    if photo.file_size is not None and photo.file_size > MAX_FILE_BYTES:
        if private:
            await send_html(context.bot, caller.chat_id, too_large_message(PHOTO_NAME, photo.file_size))
        return False
    return await _read_and_take(message, context, caller, photo.file_id, "photo.jpg", PHOTO_NAME, piece=True,
                                private=private, always_answer=False)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice, video...: say what the bot takes (private chats only)."""
    message = update.effective_message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return
    if await authorise(update, context) is None:
        return
    await send_html(context.bot, message.chat_id, esc(ACCEPTS))
