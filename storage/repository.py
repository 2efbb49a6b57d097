"""Async repository over SQLite (aiosqlite) or PostgreSQL (asyncpg). The contract the bot
codes against.

Every read of report data takes the caller's `scope`; nothing crosses scopes.

Concurrency: one writer connection whose transactions (BEGIN IMMEDIATE) are serialised by an
asyncio.Lock, and one reader connection (WAL lets it read while the writer writes). A second
process on the same file waits on busy_timeout instead of failing.
Times are stored in UTC; naive datetimes given to the repository are taken as UTC.

PostgreSQL (`Repository.open("postgresql://...")`) runs the same queries through `storage.pg`
(placeholders, types and the FTS5 statements translated there; write transactions serialised
across processes by an advisory lock, as SQLite serialises writers on the file). The few places
where the dialects differ branch on `self._pg`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from storage import search as fts
from storage import search_pg
from storage.backend import parse_target
from storage.corrections import apply_corrections, item_at
from storage.folding import chunk_terms, fold_cached, lookup_key, words_sha256
from storage.models import (
    ITEM_KINDS,
    Correction,
    CorrectionKind,
    Delivery,
    Feedback,
    FeedbackTally,
    ItemSection,
    NewReport,
    ReplyAttempt,
    Role,
    SearchHit,
    SearchPage,
    SectionItem,
    SenderTail,
    StoredReport,
    Subscription,
    UnitCount,
    User,
)
from storage.schema import (
    FTS_DELETE,
    FTS_INSERT,
    fts_row,
    items_text,
    migrate,
    migrate_pg,
    register_functions,
)
from summariser.models import Summary

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 30_000
WRITER_CACHE_KIB = 20_000  # page cache of the writer connection
_MAX_PARAMS = 500  # per IN (...) list
_MAX_CHUNKS = 1_000_000  # remembered text chunks (memory bound)
_SECTIONS = ("results", "shortcomings", "tasks")

_REPORT_COLUMNS = """
    r.id, r.scope, r.chat_id, r.user_id, r.sha256, r.received_at, r.source_kind, r.forward_origin,
    r.file_name, r.url, COALESCE(r.title, r.summary_title), r.text, r.state, r.error,
    s.summary_json, s.engine, s.engine_version, s.created_at, r.unit, r.meeting_date
"""
_REPORT_FROM = "reports r LEFT JOIN summaries s ON s.id = r.summary_id"


UNREPLIED_WINDOW = timedelta(days=2)
# seconds since the epoch on the database's clock: every replica compares leases on one clock
_NOW_SQLITE = "((julianday('now') - 2440587.5) * 86400.0)"
_NOW_PG = "extract(epoch FROM clock_timestamp())::float8"


@dataclass(frozen=True)
class Orphans:
    """Work of replicas whose lease ran out, now this replica's (`Repository.take_over`): inbox
    rows never handled, reports stored but not summarised, summarised but not answered."""

    inbox: list[InboxEntry]
    pending: list[StoredReport]
    unreplied: list[StoredReport]  # how old a summarised report may be to get its lost reply at start-up
    in_doubt: list[ReplyAttempt] = field(default_factory=list)  # replies cut off while being sent


def _ts(value: datetime | None = None) -> str:
    """UTC text that sorts chronologically."""
    value = value or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _like(key: str) -> str:
    """A LIKE pattern matching `key` anywhere (with ESCAPE '\\')."""
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _set_wal(conn: aiosqlite.Connection) -> None:
    """WAL mode, waiting for another opener of the same file: the switch needs the file to itself
    and SQLite answers "database is locked" at once instead of calling the busy handler (two
    processes starting together on a loaded machine: seen in CI)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)


def _meeting_of(summary_json: str | None) -> str | None:
    """The meeting a stored summary names ("Hội nghị Ban Chấp hành … lần thứ 24"), for list lines."""
    if not summary_json:
        return None
    try:
        meeting = json.loads(summary_json).get("meeting")
    except (ValueError, AttributeError):
        return None
    return meeting if isinstance(meeting, str) and meeting else None


def _report(row: Sequence[Any]) -> StoredReport:
    summary = Summary.model_validate_json(row[14]) if row[14] else None
    return StoredReport(
        id=row[0],
        scope=row[1],
        chat_id=row[2],
        user_id=row[3],
        sha256=row[4],
        received_at=_dt(row[5]),
        source_kind=row[6],
        forward_origin=row[7],
        file_name=row[8],
        url=row[9],
        title=row[10],
        text=row[11],
        state=row[12],
        error=row[13],
        summary=summary,
        engine=row[15],
        engine_version=row[16],
        summarised_at=_dt(row[17]),
        listed=(row[18], date.fromisoformat(row[19]) if row[19] else None) if summary is not None else None,
    )


def _user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        role=row[1],
        display_name=row[2],
        default_unit=row[3],
        language=row[4],
        created_at=_dt(row[5]),
    )


def _subscription(row: Sequence[Any]) -> Subscription:
    return Subscription(
        chat_id=row[0],
        cadence=row[1],
        weekday=row[2],
        time_of_day=row[3],
        timezone=row[4],
        active=bool(row[5]),
        skip_empty=bool(row[6]),
        created_at=_dt(row[7]),
    )


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        chat_id=row[0], period_key=row[1], state=row[2], claimed_at=_dt(row[3]), sent_at=_dt(row[4]), note=row[5]
    )


def _reply(row: Sequence[Any]) -> ReplyAttempt:
    return ReplyAttempt(report_id=row[0], chat_id=row[1], state=row[2], attempted_at=_dt(row[3]),
                        replied_at=_dt(row[4]), message_id=row[5], note=row[6])


async def _connect(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA foreign_keys = ON")
    await register_functions(conn)
    return conn


@dataclass(frozen=True)
class InboxEntry:
    """One incoming report message as the intake wrote it (see schema v5 and bot.ingest.IntakeBot)."""

    update_id: int
    chat_id: int
    message_id: int
    user_id: int | None
    kind: str  # 'text' | 'document' | 'photo'
    text: str | None
    file_id: str | None
    file_name: str | None
    file_size: int | None
    forward_origin: str | None
    sent_at: datetime
    update_json: str
    state: str = "new"
    report_id: int | None = None


_INBOX_COLUMNS = ("update_id, chat_id, message_id, user_id, kind, text, file_id, file_name, file_size, "
                  "forward_origin, sent_at, update_json, state, report_id")


def _inbox_entry(row: Sequence[Any]) -> InboxEntry:
    return InboxEntry(*row[:10], _dt(row[10]) or datetime.now(UTC), *row[11:])


class _WriteLock:
    """The writer connection's lock, FIFO, with an express lane. Recording something that already
    happened outside the database (a reply Telegram accepted) goes before queued work: a crash in
    a burst of fifty reports otherwise finds it unwritten behind their transactions and the reply
    is sent a second time."""

    def __init__(self) -> None:
        self._locked = False
        self._express: deque[asyncio.Future[None]] = deque()
        self._queue: deque[asyncio.Future[None]] = deque()

    async def acquire(self, express: bool = False) -> None:
        if not self._locked and not self._express and not self._queue:
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._express if express else self._queue).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted just as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    (self._express if express else self._queue).remove(waiter)
            raise

    def release(self) -> None:
        for lane in (self._express, self._queue):
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # ownership passes on; the lock stays taken
                    return
        self._locked = False

    @asynccontextmanager
    async def hold(self, express: bool = False) -> AsyncIterator[None]:
        await self.acquire(express)
        try:
            yield
        finally:
            self.release()


class Repository:
    def __init__(self, writer: Any, reader: Any, *, pg: bool = False) -> None:
        """Use `Repository.open`. `writer` and `reader` are aiosqlite connections, or their
        storage.pg twins when `pg`."""
        self._writer = writer
        self._reader = reader
        self._pg = pg
        self._write_lock = _WriteLock()
        self.replica_id = uuid.uuid4().hex  # owner of the inbox rows written here (`join_replicas`)
        self._terms: set[str] | None = None  # search_terms already stored (skips re-inserting)
        self._chunks: set[str] = set()  # text chunks whose terms are stored

    @property
    def backend(self) -> str:
        return "postgresql" if self._pg else "sqlite"

    @classmethod
    async def open(cls, path: str | Path = "data/bot.sqlite3") -> Repository:
        """Open (creating the folder and file), set WAL/foreign keys/busy timeout, migrate.

        ":memory:" works too (one connection then serves reads and writes). A BOT_DATABASE
        value is accepted as it is: "sqlite:///path", or a postgresql:// URL (migrated too)."""
        if isinstance(path, str):
            target = parse_target(path)
            if target.kind == "postgresql":
                return await cls._open_pg(target.location)
            path = target.location
        memory = str(path) == ":memory:"
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(str(path))
        try:
            if not memory:
                await _set_wal(writer)
                await writer.execute("PRAGMA synchronous = NORMAL")
            # FTS5 segment writes and merges reread their pages: 20 MB instead of the default 2 MB
            # cut bulk insert time by ~6 % (bench/storage.py).
            await writer.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
            await migrate(writer)
            reader = writer if memory else await _connect(str(path))
            if reader is not writer:
                await reader.execute("PRAGMA query_only = 1")
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader)

    @classmethod
    async def _open_pg(cls, url: str) -> Repository:
        from storage import pg

        writer, readers = await pg.connect(url)
        try:
            await migrate_pg(writer.raw)
        except BaseException:
            await writer.close()
            await readers.close()
            raise
        repo = cls(writer, readers, pg=True)
        repo._lease_url = url
        return repo

    async def close(self) -> None:
        async with self._write_lock.hold():
            for extra in (self._lease_conn, self._budget_conn, self._order_conn):
                if extra is not None:
                    with contextlib.suppress(Exception):
                        await extra.close()
            self._lease_conn = self._budget_conn = self._order_conn = None
            if self._reader is not self._writer:
                await self._reader.close()
            await self._writer.close()

    # --- leases (one replica does a job) ----------------------------------------------------------
    _lease_conn: Any = None
    _lease_url: str | None = None
    _leases: set[str] = frozenset()  # type: ignore[assignment]  # held on _lease_conn
    _lease_lock: asyncio.Lock | None = None

    async def hold_lease(self, name: str) -> bool:
        """Whether this process holds the lease `name` (taking it when free): the replica that
        holds "digests" schedules and sends them. On PostgreSQL a session advisory lock on a
        connection of its own: when the holder dies its connection closes and the lock is free at
        once (a dead network: within the server's TCP keepalive); the others call this
        periodically and one of them takes over. On SQLite (one process per file) always True."""
        if not self._pg or self._lease_url is None:
            return True

        key = int.from_bytes(hashlib.sha256(f"lease:{name}".encode()).digest()[:8], "big", signed=True)
        if self._lease_lock is None:
            self._lease_lock = asyncio.Lock()
        async with self._lease_lock:  # one query at a time on the lease connection
            return await self._hold_lease(name, key)

    async def _hold_lease(self, name: str, key: int) -> bool:
        import asyncpg

        try:
            if self._lease_conn is None or self._lease_conn.is_closed():
                self._lease_conn = await asyncpg.connect(self._lease_url)
                self._leases = set()
            if name in self._leases:  # a session lock lasts as long as its connection
                await self._lease_conn.fetchval("SELECT 1")
                return True
            if await self._lease_conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                self._leases.add(name)
                return True
            return False
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            # the lease connection is gone: whatever it held is released; try again next time
            with contextlib.suppress(Exception):
                if self._lease_conn is not None:
                    self._lease_conn.terminate()
            self._lease_conn = None
            return False

    async def __aenter__(self) -> Repository:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def _write(self, express: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time on the writer connection (`express`: before queued ones)."""
        async with self._write_lock.hold(express):
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
                await asyncio.shield(self._writer.execute("COMMIT"))
            except BaseException:
                # Also when COMMIT itself failed: never leave the connection inside a transaction.
                with contextlib.suppress(sqlite3.Error, OSError, RuntimeError):
                    await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise

    async def _store_terms(
        self, conn: aiosqlite.Connection, texts: Iterable[Iterable[str]]
    ) -> tuple[set[str], set[str]]:
        """Add the index terms of texts, each given as its whitespace-separated chunks, to
        search_terms (inside the caller's write transaction). Returns (new chunks, new terms) to
        remember once the transaction has committed: chunks seen before by this repository are
        skipped (their terms are stored)."""
        if self._terms is None:
            self._terms = {row[0] for row in await conn.execute_fetchall("SELECT term FROM search_terms")}
        chunks: set[str] = set()
        for text in texts:
            chunks.update(text)
        chunks -= self._chunks
        terms: set[str] = set()
        for chunk in chunks:
            terms.update(chunk_terms(chunk))
        terms -= self._terms
        if terms:
            await conn.executemany(
                "INSERT OR IGNORE INTO search_terms (term) VALUES (?)", [(t,) for t in terms]
            )
        return chunks, terms

    def _remember_terms(self, stored: tuple[set[str], set[str]]) -> None:
        chunks, terms = stored
        if len(self._chunks) > _MAX_CHUNKS:
            self._chunks = set()
        self._chunks |= chunks
        if self._terms is not None:
            self._terms |= terms

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._reader.execute_fetchall(sql, params))

    async def _reports(self, where: str, params: Sequence[Any], order: str, limit: int, *,
                       merged: bool = False) -> list[StoredReport]:
        """`merged`: also a report merged into another (kept for the record, read by its id only)."""
        if not merged:
            where = f"({where}) AND r.merged_into IS NULL"
        # a negative limit is no limit (SQLite's LIMIT -1; PostgreSQL refuses it)
        rows = await self._rows(
            f"SELECT {_REPORT_COLUMNS} FROM {_REPORT_FROM} WHERE {where} ORDER BY {order}"
            + (" LIMIT ?" if limit >= 0 else ""),
            (*params, limit) if limit >= 0 else tuple(params),
        )
        return [_report(row) for row in rows]

    # --- reports -----------------------------------------------------------------------------
    async def add_report(self, new: NewReport, inbox: Sequence[int] = ()) -> tuple[StoredReport, bool]:
        """Store a report before summarising. Returns (report, created); a duplicate (same
        normalised-text sha256 in the scope) returns the existing report and False.

        `inbox`: the message ids (in `new.chat_id`) of the inbox rows it came from; a created
        report is linked to them in the same transaction, so a crash right after leaves the rows
        pointing at it and whoever takes them over completes it (`take_over`) instead of finding
        a report 'received' that nobody is summarising."""
        return (await self._add_reports_of([new], {0: list(inbox)} if inbox else {}))[0]

    async def add_reports(self, batch: Iterable[NewReport]) -> list[tuple[StoredReport, bool]]:
        """`add_report` for many reports in one transaction (bulk imports); same order as given.
        A duplicate within the batch returns the first one with created=False."""
        return await self._add_reports_of(list(batch), {})

    async def _add_reports_of(self, news: list[NewReport], inbox: dict[int, list[int]]) -> list[tuple[StoredReport, bool]]:
        if not news:
            return []
        # fold_cached: save_summary, which usually follows soon, refolds the text from the cache.
        folded = {new.text: fold_cached(new.text) or "" for new in news}
        # The folded words serve the hash and the search terms (splitting 6 KB twice cost more
        # than hashing); a folded chunk has the index terms of the original one.
        words = {text: value.split() for text, value in folded.items()}
        keys = [(new.scope, words_sha256(words[new.text])) for new in news]
        received = [_ts(new.received_at) for new in news]
        return await self._add_reports(news, keys, received, folded, words, inbox)

    async def _add_reports(
        self,
        news: list[NewReport],
        keys: list[tuple[int, str]],
        received: list[str],
        folded: dict[str, str],
        words: dict[str, list[str]],
        inbox: dict[int, list[int]],
    ) -> list[tuple[StoredReport, bool]]:
        async with self._write() as conn:
            # Under the write lock nobody else inserts: look up duplicates, then insert the rest.
            existing: dict[tuple[int, str], int] = {}
            by_scope: dict[int, list[str]] = {}
            for scope, sha in sorted(set(keys)):
                by_scope.setdefault(scope, []).append(sha)
            for scope, shas in by_scope.items():
                for start in range(0, len(shas), _MAX_PARAMS):
                    chunk = shas[start : start + _MAX_PARAMS]
                    for sha, report_id in await conn.execute_fetchall(
                        "SELECT sha256, id FROM reports "
                        f"WHERE scope = ? AND sha256 IN ({','.join('?' * len(chunk))})",
                        (scope, *chunk),
                    ):
                        existing[(scope, sha)] = report_id
            fresh: dict[tuple[int, str], int] = {}  # key -> index in `news`
            for index, key in enumerate(keys):
                if key not in existing and key not in fresh:
                    fresh[key] = index
            created: dict[tuple[int, str], int] = {}
            if fresh:
                (before,) = next(
                    iter(await conn.execute_fetchall("SELECT COALESCE(MAX(id), 0) FROM reports"))
                )
                await conn.executemany(
                    "INSERT INTO reports (scope, chat_id, user_id, sha256, received_at, source_kind, "
                    "forward_origin, file_name, url, title, text) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            new.scope,
                            new.chat_id,
                            new.user_id,
                            key[1],
                            received[index],
                            new.source_kind,
                            new.forward_origin,
                            new.file_name,
                            new.url,
                            new.title,
                            new.text,
                        )
                        for key, index in fresh.items()
                        for new in (news[index],)
                    ],
                )
                for scope, sha, report_id in await conn.execute_fetchall(
                    "SELECT scope, sha256, id FROM reports WHERE id > ?", (before,)
                ):
                    created[(scope, sha)] = report_id
                # The index rows, in one executemany (no trigger: see schema v3), by rising id.
                await conn.executemany(
                    FTS_INSERT,
                    sorted(
                        fts_row(created[key], new.scope, new.title, None, folded[new.text], None)
                        for key, index in fresh.items()
                        for new in (news[index],)
                    ),
                )
            for index, message_ids in inbox.items():
                key = keys[index]
                if fresh.get(key) == index and message_ids:
                    await conn.executemany(
                        "UPDATE inbox SET report_id = ? WHERE chat_id = ? AND message_id = ? AND state = 'new'",
                        [(created[key], news[index].chat_id, m) for m in message_ids])
            new_terms = await self._store_terms(
                conn,
                (
                    chunks
                    for index in fresh.values()
                    for chunks in ((news[index].title or "").split(), words[news[index].text])
                ),
            )
            old = {}
            if existing:
                wanted = sorted({existing[key] for key in keys if key in existing})
                old = {
                    report.id: report
                    for start in range(0, len(wanted), _MAX_PARAMS)
                    for report in map(
                        _report,
                        await conn.execute_fetchall(
                            f"SELECT {_REPORT_COLUMNS} FROM {_REPORT_FROM} WHERE r.id IN "
                            f"({','.join('?' * len(wanted[start : start + _MAX_PARAMS]))})",
                            wanted[start : start + _MAX_PARAMS],
                        ),
                    )
                }
        self._remember_terms(new_terms)
        results: list[tuple[StoredReport, bool]] = []
        made: dict[tuple[int, str], StoredReport] = {}
        for index, key in enumerate(keys):
            if key in existing:
                results.append((old[existing[key]], False))
            elif fresh[key] == index:
                new = news[index]
                made[key] = StoredReport(
                    id=created[key],
                    sha256=key[1],
                    received_at=_dt(received[index]),
                    state="received",
                    **new.model_dump(exclude={"received_at"}),
                )
                results.append((made[key], True))
            else:
                results.append((made[key], False))
        return results

    async def save_summary(self, report_id: int, summary: Summary) -> None:
        """Store a summary in its own transaction (engine/version from the Summary); the newest
        wins, older ones are kept. Marks the report summarised. KeyError if the report is gone."""
        await self.save_summaries([(report_id, summary)])

    async def save_summaries(self, batch: Iterable[tuple[int, Summary]]) -> None:
        """`save_summary` for many reports in one transaction (bulk re-summarising); all or
        nothing: KeyError (and nothing saved) if one report is gone."""
        now = _ts()
        rows = []
        texts: list[str | None] = []
        for report_id, summary in batch:
            summary_json = summary.model_dump_json()
            title, items = items_text(summary_json)
            texts += (title, items)
            rows.append((report_id, summary, summary_json, title, items))
        if not rows:
            return
        async with self._write() as conn:
            ids = sorted({row[0] for row in rows})
            # What the index holds for each report now (scope, title, summary_title, text,
            # items_text): its row is deleted with these values and inserted with the new ones.
            found: dict[int, tuple[int, str | None, str | None, str, str | None]] = {}
            for start in range(0, len(ids), _MAX_PARAMS):
                chunk = ids[start : start + _MAX_PARAMS]
                for rid, *indexed in await conn.execute_fetchall(
                    "SELECT id, scope, title, summary_title, text, items_text FROM reports "
                    f"WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ):
                    found[rid] = tuple(indexed)  # type: ignore[assignment]
            missing = [report_id for report_id in ids if report_id not in found]
            if missing:
                raise KeyError(missing[0])
            await conn.executemany(
                "INSERT INTO summaries (report_id, engine, engine_version, summary_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (rid, summary.engine, summary.engine_version, sjson, now)
                    for rid, summary, sjson, _, _ in rows
                ],
            )
            await conn.executemany(
                "UPDATE reports SET state = 'summarised', error = NULL, "
                "summary_id = (SELECT MAX(id) FROM summaries WHERE report_id = ?), unit = ?, "
                "unit_key = ?, meeting_date = ?, period = ?, period_key = ?, summary_title = ?, "
                "items_text = ? WHERE id = ?",
                [
                    (
                        rid,
                        summary.unit,
                        lookup_key(summary.unit),
                        summary.date.isoformat() if summary.date else None,
                        summary.period,
                        lookup_key(summary.period),
                        title,
                        items or None,
                        rid,
                    )
                    for rid, summary, _, title, items in rows
                ],
            )
            newest = {rid: (title, items or None) for rid, _, _, title, items in rows}  # last wins
            deletes, inserts = [], []
            for rid in ids:
                scope, title, old_title, text, old_items = found[rid]
                body = fold_cached(text) or ""
                deletes.append(fts_row(rid, scope, title, old_title, body, old_items))
                new_title, new_items = newest[rid]
                inserts.append(fts_row(rid, scope, title, new_title, body, new_items))
            await conn.executemany(FTS_DELETE, deletes)
            await conn.executemany(FTS_INSERT, inserts)
            new_terms = await self._store_terms(conn, ((text or "").split() for text in texts))
        self._remember_terms(new_terms)

    async def mark_failed(self, report_id: int, error: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                "UPDATE reports SET state = 'failed', error = ? WHERE id = ?", (error, report_id)
            )

    async def get_report(self, scope: int, report_id: int) -> StoredReport | None:
        found = await self._reports("r.scope = ? AND r.id = ?", (scope, report_id), "r.id", 1, merged=True)
        return found[0] if found else None

    async def delete_report(self, scope: int, report_id: int) -> bool:
        """Delete a report with its summaries and index entry."""
        async with self._write() as conn:
            cursor = await conn.execute("DELETE FROM reports WHERE scope = ? AND id = ?", (scope, report_id))
            return cursor.rowcount == 1

    async def latest(self, scope: int, n: int = 5) -> list[StoredReport]:
        """Newest received first."""
        return await self._reports("r.scope = ?", (scope,), "r.received_at DESC, r.id DESC", n)

    async def by_unit(self, scope: int, unit_query: str, limit: int = 20) -> list[StoredReport]:
        """Accent-insensitive match on the summary's unit ("gia loc" finds "huyện Gia Lộc"),
        newest meeting first."""
        key = lookup_key(unit_query)
        if not key:
            return []
        return await self._reports(
            # the subquery reads the compact (scope, unit_key, ...) index, not the rows
            "r.id IN (SELECT id FROM reports WHERE scope = ? AND unit_key LIKE ? ESCAPE '\\' "
            "ORDER BY meeting_date DESC NULLS LAST, received_at DESC, id DESC LIMIT ?)",
            (scope, _like(key), limit),
            "r.meeting_date DESC NULLS LAST, r.received_at DESC, r.id DESC",
            limit,
        )

    async def by_date_range(
        self, scope: int, start: date | None = None, end: date | None = None, limit: int = 100
    ) -> list[StoredReport]:
        """Reports whose meeting date lies in [start, end] (inclusive; None = open), newest
        meeting first. Reports without a meeting date are not listed."""
        return await self._reports(
            "r.scope = ? AND r.meeting_date IS NOT NULL AND r.meeting_date >= ? AND r.meeting_date <= ?",
            (scope, start.isoformat() if start else "", end.isoformat() if end else "9999-12-31"),
            "r.meeting_date DESC, r.received_at DESC, r.id DESC",
            limit,
        )

    async def by_period(self, scope: int, period_query: str, limit: int = 100) -> list[StoredReport]:
        """Reports whose period matches (accent-insensitive substring: "6 thang dau nam 2024"),
        newest meeting first."""
        key = lookup_key(period_query)
        if not key:
            return []
        return await self._reports(
            "r.id IN (SELECT id FROM reports WHERE scope = ? AND period_key LIKE ? ESCAPE '\\' "
            "ORDER BY meeting_date DESC NULLS LAST, received_at DESC, id DESC LIMIT ?)",
            (scope, _like(key), limit),
            "r.meeting_date DESC NULLS LAST, r.received_at DESC, r.id DESC",
            limit,
        )

    async def received_between(
        self, scope: int, start: datetime, end: datetime, limit: int = 10_000
    ) -> list[StoredReport]:
        """Summarised reports received in [start, end) (for digests), oldest first."""
        return await self._reports(
            "r.scope = ? AND r.state = 'summarised' AND r.received_at >= ? AND r.received_at < ?",
            (scope, _ts(start), _ts(end)),
            "r.received_at, r.id",
            limit,
        )

    async def section_items(
        self,
        scope: int,
        section: ItemSection,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        unit_query: str | None = None,
        limit: int = 500,
    ) -> list[SectionItem]:
        """Items of one section across the scope's reports received in [since, until), from the
        newest summary of each summarised report; oldest report first, items in summary order."""
        if section not in _SECTIONS:
            raise ValueError(f"unknown section {section!r}")
        where = ["r.scope = ?", "r.state = 'summarised'"]
        params: list[Any] = [scope]
        if since is not None:
            where.append("r.received_at >= ?")
            params.append(_ts(since))
        if until is not None:
            where.append("r.received_at < ?")
            params.append(_ts(until))
        if unit_query is not None:
            key = lookup_key(unit_query)
            if not key:
                return []
            where.append("r.unit_key LIKE ? ESCAPE '\\'")
            params.append(_like(key))
        if self._pg:
            items = (
                "j.value ->> 'text' FROM reports r JOIN summaries s ON s.id = r.summary_id, "
                f"jsonb_array_elements(CAST(s.summary_json AS jsonb) -> '{section}') WITH ORDINALITY j (value, key)"
            )
        else:
            items = (
                "json_extract(j.value, '$.text') FROM reports r JOIN summaries s ON s.id = r.summary_id, "
                f"json_each(s.summary_json, '$.{section}') j"
            )
        rows = await self._rows(
            f"SELECT r.id, r.unit, r.meeting_date, r.received_at, {items} "
            f"WHERE {' AND '.join(where)} AND r.merged_into IS NULL ORDER BY r.received_at, r.id, j.key LIMIT ?",
            (*params, limit),
        )
        return [
            SectionItem(
                report_id=row[0],
                unit=row[1],
                meeting_date=date.fromisoformat(row[2]) if row[2] else None,
                received_at=_dt(row[3]),
                section=section,
                text=row[4],
            )
            for row in rows
            if row[4]
        ]

    async def unit_counts(self, scope: int) -> list[UnitCount]:
        """Reports per unit (spellings that differ only in accents/case count as one; the newest
        spelling is shown), most reports first."""
        # SQLite takes a bare column from the row of MAX(); PostgreSQL says so explicitly
        unit = "(array_agg(unit ORDER BY received_at DESC))[1]" if self._pg else "unit"
        rows = await self._rows(
            f"SELECT {unit}, COUNT(*), MAX(received_at) FROM reports "
            "WHERE scope = ? AND unit_key IS NOT NULL GROUP BY unit_key ORDER BY COUNT(*) DESC, unit_key",
            (scope,),
        )
        return [UnitCount(unit=row[0], reports=row[1], last_received=_dt(row[2])) for row in rows]

    async def pending_reports(self) -> list[StoredReport]:
        """Reports in state `received` in every scope (to complete after a crash), oldest first."""
        return await self._reports("r.state = 'received'", (), "r.id", -1)

    # --- replies (at most once: 'sending' is written before the request) -------------------------
    async def _write_one(self, sql: str, params: Callable[[], Sequence[Any]]) -> None:
        """One statement as its own transaction (autocommit: one round trip to the writer's
        thread or server instead of BEGIN, the statement and COMMIT), before queued work (the
        express lane): for the reply records, which sit right before and after a request.
        `params` is called once the writer is ours, so a time in them is the commit's (to a
        round trip), not that of the wait for the writer."""
        async with self._write_lock.hold(express=True):
            await self._writer.execute(sql, params())

    async def reply_sending(self, report_id: int) -> None:
        """The report's reply is about to be written to Telegram: from here on it may reach the chat
        and a crash leaves it 'sending' (never resent). Called right before the request, after every
        wait: the time from this commit to the request is the one window in which a crash loses a
        reply, so it is one autocommit statement on the express lane. A reply recorded 'sent'
        stays so (a joined report's edit)."""
        await self._write_one(
            "INSERT INTO replies (report_id, state, attempted_at) VALUES (?, 'sending', ?) "
            "ON CONFLICT (report_id) DO UPDATE SET state = 'sending', attempted_at = excluded.attempted_at, "
            "note = NULL WHERE replies.state <> 'sent'",
            lambda: (report_id, _ts()))

    async def mark_replied(self, report_id: int, message_id: int | None = None) -> None:
        """The report's reply (its brief) reached its chat, as message `message_id`: not sent again
        at start-up. The first record is kept (a later brief of the same report changes nothing)."""

        def params() -> tuple[int, str, str, int | None]:
            now = _ts()
            return report_id, now, now, message_id

        await self._write_one(
            "INSERT INTO replies (report_id, state, attempted_at, replied_at, message_id) "
            "VALUES (?, 'sent', ?, ?, ?) "
            "ON CONFLICT (report_id) DO UPDATE SET state = 'sent', replied_at = excluded.replied_at, "
            "message_id = excluded.message_id, note = NULL WHERE replies.state <> 'sent'",
            params)

    async def reply_refused(self, report_id: int, note: str) -> None:
        """Telegram refused the reply without acting on it (a 4xx other than 429, a 5xx, no
        connection): back to 'unsent', so it is sent again (at start-up), `note` saying why."""
        await self._write_one("UPDATE replies SET state = 'unsent', note = ? WHERE report_id = ? AND state = 'sending'",
                              lambda: (note[:500], report_id))

    async def reply_in_doubt(self, report_id: int, note: str) -> None:
        """A 'sending' reply may have gone out and will not be resent: `note` records why (its
        answer was lost, or a crash came during the send), so nothing about it is silent."""
        await self._write_one("UPDATE replies SET note = ? WHERE report_id = ? AND state = 'sending'",
                              lambda: (note[:500], report_id))

    _REPLY_COLUMNS = "p.report_id, r.chat_id, p.state, p.attempted_at, p.replied_at, p.message_id, p.note"

    async def get_reply(self, report_id: int) -> ReplyAttempt | None:
        rows = await self._rows(f"SELECT {self._REPLY_COLUMNS} FROM replies p JOIN reports r ON r.id = p.report_id "
                                "WHERE p.report_id = ?", (report_id,))
        return _reply(rows[0]) if rows else None

    async def replies_in_doubt(self, within: timedelta = UNREPLIED_WINDOW) -> list[ReplyAttempt]:
        """Replies a crash left 'sending' (started within `within`, nothing recorded about them
        yet): each may have reached its chat, so start-up logs and records them instead of
        sending them again. Oldest first."""
        rows = await self._rows(
            f"SELECT {self._REPLY_COLUMNS} FROM replies p JOIN reports r ON r.id = p.report_id "
            "WHERE p.state = 'sending' AND p.note IS NULL AND p.attempted_at >= ? ORDER BY p.report_id",
            (_ts(datetime.now(UTC) - within),))
        return [_reply(row) for row in rows]

    async def unreplied_reports(self, within: timedelta = UNREPLIED_WINDOW) -> list[StoredReport]:
        """Summarised reports of the last `within` that came in through the inbox (a chat sent them)
        and whose reply was never started (a crash between saving the summary and sending it) or
        was refused by Telegram ('unsent'), oldest first. A reply left 'sending' may have gone out:
        not here (see `replies_in_doubt`). Older ones are left alone: after days the official has
        resent or forgotten the report, and a late brief would only confuse; reports stored
        otherwise (imports, tools) were never waiting for a reply."""
        since = _ts(datetime.now(UTC) - within)
        return await self._reports(
            "r.state = 'summarised' AND r.received_at >= ? "
            "AND EXISTS (SELECT 1 FROM inbox i WHERE i.report_id = r.id) "
            "AND NOT EXISTS (SELECT 1 FROM replies p WHERE p.report_id = r.id AND p.state <> 'unsent')",
            (since,), "r.id", -1)

    async def search(self, scope: int, query: str, limit: int = 5, offset: int = 0) -> SearchPage:
        """FTS5 over title, text and summary items; diacritics- and đ-insensitive; user input is
        never FTS syntax. Every word must match (the last as a prefix), "quoted words" as a
        phrase, an abbreviation or its expansion either way (storage.abbreviations).

        Reports holding the query's multi-word runs as phrases come first (those writing them
        with the diacritics typed before the others), then bm25 over the single words (title x4,
        summary items x2, text x1) among the newest `search.RANK_WINDOW`, then newest first;
        `total` stops counting at `search.COUNT_CAP` (then `capped`). Each hit carries the
        report's matching sentence. Why, and what it costs: storage/search.py."""
        parsed = fts.parse(query)
        if not parsed or limit <= 0:
            return SearchPage()
        plan = search_pg if self._pg else fts
        ranked, total, capped = await plan.ranked_ids(self._reader, scope, parsed, limit, max(offset, 0))
        ids = [rowid for rowid, _ in ranked]
        if not ids:
            return SearchPage(total=total, capped=capped)
        excerpts = await fts.excerpts(self._reader, scope, parsed, ids)
        info = {
            row[0]: row
            for row in await self._rows(
                "SELECT id, COALESCE(title, summary_title), unit, meeting_date, received_at, "
                "(SELECT s.summary_json FROM summaries s WHERE s.id = reports.summary_id) FROM reports "
                # `+scope`: look the ids up by primary key, not by walking the scope's index; a
                # report merged into another keeps its index row but is read by its id only
                f"WHERE +scope = ? AND id IN ({','.join('?' * len(ids))}) AND merged_into IS NULL",
                (scope, *ids),
            )
        }
        hits = []
        for report_id, rank in ranked:
            if report_id not in info:  # deleted meanwhile, or merged
                continue
            _, title, unit, meeting, received, summary_json = info[report_id]
            found = excerpts.get(report_id)
            hits.append(
                SearchHit(
                    report_id=report_id,
                    title=title,
                    unit=unit,
                    meeting_name=_meeting_of(summary_json),
                    meeting_date=date.fromisoformat(meeting) if meeting else None,
                    received_at=_dt(received),
                    snippet=found.snippet if found else "",
                    sentence=found.sentence if found else "",
                    rank=rank,
                )
            )
        return SearchPage(hits=hits, total=total, capped=capped)

    async def optimize_index(self) -> None:
        """Merge the search index into one segment (after a bulk import, or nightly): lookups
        then read one b-tree per term instead of one per segment. Takes seconds at 100k reports
        and holds the write lock meanwhile."""
        async with self._write() as conn:
            await conn.execute("INSERT INTO report_fts (report_fts) VALUES ('optimize')")
        if self._pg:  # there it was an ANALYZE: the search plans read the new statistics
            search_pg.forget_statistics(self._reader)

    # --- users and scopes ----------------------------------------------------------------------
    async def get_user(self, user_id: int) -> User | None:
        rows = await self._rows(
            "SELECT id, role, display_name, default_unit, language, created_at FROM users WHERE id = ?",
            (user_id,),
        )
        return _user(rows[0]) if rows else None

    async def ensure_user(self, user_id: int, display_name: str | None, role: Role) -> tuple[User, bool]:
        """Create with `role` when unknown (returns created=True); never changes an existing role.
        A known user's display name is refreshed when one is given."""
        async with self._write() as conn:
            cursor = await conn.execute(
                "INSERT INTO users (id, role, display_name, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (user_id, role, display_name, _ts()),
            )
            created = cursor.rowcount == 1
            if not created and display_name is not None:
                await conn.execute("UPDATE users SET display_name = ? WHERE id = ?", (display_name, user_id))
            rows = await conn.execute_fetchall(
                "SELECT id, role, display_name, default_unit, language, created_at FROM users WHERE id = ?",
                (user_id,),
            )
        return _user(next(iter(rows))), created

    async def set_role(self, user_id: int, role: Role) -> User | None:
        async with self._write() as conn:
            cursor = await conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))
            if cursor.rowcount != 1:
                return None
        return await self.get_user(user_id)

    async def list_users(self, role: Role | None = None) -> list[User]:
        """Oldest first."""
        sql = "SELECT id, role, display_name, default_unit, language, created_at FROM users"
        rows = await self._rows(
            sql + (" WHERE role = ?" if role else "") + " ORDER BY created_at, id", (role,) if role else ()
        )
        return [_user(row) for row in rows]

    async def update_user(self, user: User) -> None:
        """Display name, default unit, language (an unknown user is created with `user.role`)."""
        async with self._write() as conn:
            await conn.execute(
                "INSERT INTO users (id, role, display_name, default_unit, language, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, "
                "default_unit = excluded.default_unit, language = excluded.language",
                (
                    user.id,
                    user.role,
                    user.display_name,
                    user.default_unit,
                    user.language,
                    _ts(user.created_at),
                ),
            )

    async def scope_of_chat(self, chat_id: int) -> int:
        """The scope a chat's reports belong to: the chat itself unless joined to another."""
        rows = await self._rows("SELECT scope FROM chat_scopes WHERE chat_id = ?", (chat_id,))
        return rows[0][0] if rows else chat_id

    async def join_scope(self, chat_id: int, scope: int) -> None:
        """Admin: make `chat_id` share `scope` (an organisation scope). Reports already stored
        stay where they are; joining a chat to its own id makes it leave its shared scope. If `scope` is itself a
        chat joined elsewhere, its scope is used."""
        async with self._write() as conn:
            if scope == chat_id:  # leave the shared scope
                await conn.execute("DELETE FROM chat_scopes WHERE chat_id = ?", (chat_id,))
                return
            rows = await conn.execute_fetchall("SELECT scope FROM chat_scopes WHERE chat_id = ?", (scope,))
            target = next(iter(rows))[0] if rows else scope
            if target == chat_id:
                await conn.execute("DELETE FROM chat_scopes WHERE chat_id = ?", (chat_id,))
            else:
                await conn.execute(
                    "INSERT INTO chat_scopes (chat_id, scope) VALUES (?, ?) "
                    "ON CONFLICT (chat_id) DO UPDATE SET scope = excluded.scope",
                    (chat_id, target),
                )
            # Chats that were joined to `chat_id` follow it.
            await conn.execute("UPDATE chat_scopes SET scope = ? WHERE scope = ?", (target, chat_id))
            await conn.execute("DELETE FROM chat_scopes WHERE chat_id = scope")

    # --- subscriptions and deliveries ------------------------------------------------------------
    _SUB_COLUMNS = "chat_id, cadence, weekday, time_of_day, timezone, active, skip_empty, created_at"

    async def upsert_subscription(self, sub: Subscription) -> Subscription:
        """Create or replace a chat's subscription (its first created_at is kept)."""
        async with self._write() as conn:
            await conn.execute(
                f"INSERT INTO subscriptions ({self._SUB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET cadence = excluded.cadence, weekday = excluded.weekday, "
                "time_of_day = excluded.time_of_day, timezone = excluded.timezone, active = excluded.active, "
                "skip_empty = excluded.skip_empty",
                (
                    sub.chat_id,
                    sub.cadence,
                    sub.weekday,
                    sub.time_of_day,
                    sub.timezone,
                    int(sub.active),
                    int(sub.skip_empty),
                    _ts(sub.created_at),
                ),
            )
            rows = await conn.execute_fetchall(
                f"SELECT {self._SUB_COLUMNS} FROM subscriptions WHERE chat_id = ?", (sub.chat_id,)
            )
        return _subscription(next(iter(rows)))

    async def get_subscription(self, chat_id: int) -> Subscription | None:
        rows = await self._rows(
            f"SELECT {self._SUB_COLUMNS} FROM subscriptions WHERE chat_id = ?", (chat_id,)
        )
        return _subscription(rows[0]) if rows else None

    async def active_subscriptions(self) -> list[Subscription]:
        rows = await self._rows(
            f"SELECT {self._SUB_COLUMNS} FROM subscriptions WHERE active = 1 ORDER BY chat_id"
        )
        return [_subscription(row) for row in rows]

    async def deactivate_subscription(self, chat_id: int) -> None:
        async with self._write() as conn:
            await conn.execute("UPDATE subscriptions SET active = 0 WHERE chat_id = ?", (chat_id,))

    async def claim_delivery(self, chat_id: int, period_key: str, owner: str | None = None) -> bool:
        """Take (chat, period) for a send that has not started: state 'claimed'. False when a row
        exists (sent, possibly sent, or claimed by this owner), so nothing is sent twice. With an
        `owner`, a row left 'claimed' by another owner is taken over: only one bot process runs
        per database, so that owner is gone, and a 'claimed' row means nothing went out."""
        async with self._write() as conn:
            cursor = await conn.execute(
                "INSERT INTO deliveries (chat_id, period_key, state, claimed_at, owner) "
                "VALUES (?, ?, 'claimed', ?, ?) "
                "ON CONFLICT (chat_id, period_key) DO UPDATE SET owner = excluded.owner, "
                "claimed_at = excluded.claimed_at "
                "WHERE deliveries.state = 'claimed' AND excluded.owner IS NOT NULL "
                "AND (deliveries.owner IS NULL OR deliveries.owner <> excluded.owner)",  # (both backends)
                (chat_id, period_key, _ts(), owner),
            )
            return cursor.rowcount == 1

    async def mark_sending(self, chat_id: int, period_key: str, note: str | None = None) -> None:
        """The request is about to be written (or its fate is unknown, with a `note` saying why):
        from here on the digest may have reached the chat and is never sent again."""
        async with self._write() as conn:
            await conn.execute(
                "UPDATE deliveries SET state = 'sending', note = COALESCE(?, note) "
                "WHERE chat_id = ? AND period_key = ? AND state != 'sent'",
                (note, chat_id, period_key),
            )

    async def unmark_sending(self, chat_id: int, period_key: str) -> None:
        """Telegram refused the request before acting on it (429, 5xx): back to 'claimed', so a
        crash while waiting to try again leaves the chat to be resent."""
        async with self._write() as conn:
            await conn.execute(
                "UPDATE deliveries SET state = 'claimed', note = NULL "
                "WHERE chat_id = ? AND period_key = ? AND state = 'sending'",
                (chat_id, period_key),
            )

    async def mark_delivered(self, chat_id: int, period_key: str) -> None:
        """Record the send (also when no claim was made first)."""
        now = _ts()
        async with self._write() as conn:
            await conn.execute(
                "INSERT INTO deliveries (chat_id, period_key, state, claimed_at, sent_at) "
                "VALUES (?, ?, 'sent', ?, ?) "
                "ON CONFLICT (chat_id, period_key) DO UPDATE SET state = 'sent', sent_at = excluded.sent_at",
                (chat_id, period_key, now, now),
            )

    async def release_delivery(self, chat_id: int, period_key: str) -> None:
        """Drop a claim whose send failed for good with nothing sent (the caller knows), so a
        later run may try again. A delivery already marked sent is kept."""
        async with self._write() as conn:
            await conn.execute(
                "DELETE FROM deliveries WHERE chat_id = ? AND period_key = ? AND state IN ('claimed', 'sending')",
                (chat_id, period_key),
            )

    _DELIVERY_COLUMNS = "chat_id, period_key, state, claimed_at, sent_at, note"

    async def get_delivery(self, chat_id: int, period_key: str) -> Delivery | None:
        rows = await self._rows(
            f"SELECT {self._DELIVERY_COLUMNS} FROM deliveries WHERE chat_id = ? AND period_key = ?",
            (chat_id, period_key),
        )
        return _delivery(rows[0]) if rows else None

    async def deliveries(self, chat_id: int | None = None) -> list[Delivery]:
        """Oldest claim first."""
        sql = f"SELECT {self._DELIVERY_COLUMNS} FROM deliveries"
        if chat_id is None:
            rows = await self._rows(sql + " ORDER BY claimed_at, chat_id, period_key")
        else:
            rows = await self._rows(sql + " WHERE chat_id = ? ORDER BY claimed_at, period_key", (chat_id,))
        return [_delivery(row) for row in rows]

    async def refused_before(self, target_id: int) -> bool:
        """Whether `target_id` was ever told it may not use the bot (its first notice welcomes it)."""
        return bool(await self._rows("SELECT 1 FROM refusals WHERE target_id = ?", (target_id,)))

    async def refusal_due(self, target_id: int, now: datetime, interval: float) -> bool:
        """True, and `now` recorded, when `target_id` (a pending or blocked user, a group not let
        in) was not told it may not use the bot within the last `interval` seconds."""
        async with self._write() as conn:
            cursor = await conn.execute(
                "INSERT INTO refusals (target_id, replied_at) VALUES (?, ?) "
                "ON CONFLICT (target_id) DO UPDATE SET replied_at = excluded.replied_at "
                "WHERE refusals.replied_at <= ?",
                (target_id, _ts(now), _ts(now - timedelta(seconds=interval))),
            )
            return cursor.rowcount == 1

    # --- corrections and feedback ------------------------------------------------------------
    _CORRECTION_COLUMNS = (
        "c.id, c.report_id, c.scope, c.user_id, c.created_at, c.kind, c.section, c.item_index, "
        "c.item_text, c.value"
    )

    @staticmethod
    async def _corrections_of(conn: aiosqlite.Connection, report_id: int, scope: int) -> list[Correction]:
        rows = await conn.execute_fetchall(
            f"SELECT {Repository._CORRECTION_COLUMNS} FROM corrections c JOIN reports r ON r.id = c.report_id "
            "WHERE c.report_id = ? AND r.scope = ? ORDER BY c.id",
            (report_id, scope),
        )
        return [
            Correction(
                id=row[0],
                report_id=row[1],
                scope=row[2],
                user_id=row[3],
                created_at=_dt(row[4]),
                kind=row[5],
                section=row[6],
                index=row[7],
                item_text=row[8],
                value=row[9],
            )
            for row in rows
        ]

    @staticmethod
    async def _insert_correction(conn: aiosqlite.Connection, fix: Correction) -> Correction:
        rows = await conn.execute_fetchall(
            "INSERT INTO corrections (report_id, scope, user_id, created_at, kind, section, item_index, "
            "item_text, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                fix.report_id,
                fix.scope,
                fix.user_id,
                _ts(fix.created_at),
                fix.kind,
                fix.section,
                fix.index,
                fix.item_text,
                fix.value,
            ),
        )
        return fix.model_copy(update={"id": next(iter(rows))[0]})

    async def add_correction(
        self,
        report_id: int,
        scope: int,
        user_id: int | None,
        kind: CorrectionKind,
        *,
        section: ItemSection | None = None,
        index: int | None = None,
        item_text: str | None = None,
        value: str | None = None,
        at: datetime | None = None,
    ) -> Correction:
        """Record an official's fix of a report's summary (see storage.models.Correction).

        For move/drop the bot may give only the section and index of the item in the summary it
        showed (the corrected one, `corrected_summary`): its text is looked up here, in the same
        transaction, so the stored text is the one the official saw. KeyError when the report
        is not in `scope`; IndexError for an item that is not there; ValueError for a
        correction that could not be applied (no target section, no date)."""
        async with self._write() as conn:
            rows = await conn.execute_fetchall(
                "SELECT s.summary_json FROM reports r LEFT JOIN summaries s ON s.id = r.summary_id "
                "WHERE r.scope = ? AND r.id = ?",
                (scope, report_id),
            )
            if not rows:
                raise KeyError(report_id)
            if kind in ITEM_KINDS and item_text is None and section is not None and index is not None:
                (summary_json,) = next(iter(rows))
                if summary_json is None:
                    raise IndexError(f"report {report_id} has no summary")
                shown = apply_corrections(
                    Summary.model_validate_json(summary_json),
                    await self._corrections_of(conn, report_id, scope),
                )
                item_text = item_at(shown, section, index).text
            fix = Correction(
                report_id=report_id,
                scope=scope,
                user_id=user_id,
                created_at=_dt(_ts(at)),
                kind=kind,
                section=section,
                index=index,
                item_text=item_text,
                value=value,
            )
            stored = await self._insert_correction(conn, fix)
            # the lists (/latest, /unit, search lines, digests) read the report's own columns
            if kind == "set_unit":
                await conn.execute("UPDATE reports SET unit = ?, unit_key = ? WHERE id = ? AND merged_into IS NULL",
                                   (value or None, lookup_key(value or None), report_id))
            elif kind == "set_date":
                await conn.execute("UPDATE reports SET meeting_date = ? WHERE id = ?", (value or None, report_id))
            elif kind == "set_period":
                await conn.execute("UPDATE reports SET period = ?, period_key = ? WHERE id = ?",
                                   (value or None, lookup_key(value or None), report_id))
            return stored

    async def corrections(self, report_id: int, scope: int) -> list[Correction]:
        """A report's corrections, oldest first (the order apply_corrections wants); [] when the
        report is not in `scope`."""
        return await self._corrections_of(self._reader, report_id, scope)

    async def corrected_summary(self, report_id: int, scope: int) -> Summary | None:
        """The newest summary with the officials' corrections applied (what the bot shows)."""
        report = await self.get_report(scope, report_id)
        if report is None or report.summary is None:
            return None
        return apply_corrections(report.summary, await self.corrections(report_id, scope))

    async def corrected_report_ids(self) -> list[tuple[int, int]]:
        """(scope, report id) of every report with a correction, in every scope, oldest first;
        reports merged into another are left out (their text lives on in that one). For the
        export (storage.export_corrections), not for answering a chat."""
        rows = await self._rows(
            "SELECT r.scope, r.id FROM reports r WHERE r.merged_into IS NULL "
            "AND EXISTS (SELECT 1 FROM corrections c WHERE c.report_id = r.id) ORDER BY r.id"
        )
        return [(row[0], row[1]) for row in rows]

    async def set_feedback(self, report_id: int, scope: int, user_id: int, vote: int) -> FeedbackTally:
        """A user's 👍 (+1) or 👎 (-1) on a report; a new vote replaces their earlier one, 0
        withdraws it. Returns the report's tally. KeyError when the report is not in `scope`."""
        if vote not in (-1, 0, 1):
            raise ValueError(f"a vote is +1, -1 or 0, not {vote!r}")
        async with self._write() as conn:
            found = await conn.execute_fetchall(
                "SELECT 1 FROM reports WHERE scope = ? AND id = ?", (scope, report_id)
            )
            if not found:
                raise KeyError(report_id)
            if vote:
                await conn.execute(
                    "INSERT INTO feedback (report_id, user_id, vote, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (report_id, user_id) DO UPDATE SET vote = excluded.vote, "
                    "created_at = excluded.created_at",
                    (report_id, user_id, vote, _ts()),
                )
            else:
                await conn.execute(
                    "DELETE FROM feedback WHERE report_id = ? AND user_id = ?", (report_id, user_id)
                )
        return await self.feedback(report_id, scope)

    async def feedback(self, report_id: int, scope: int) -> FeedbackTally:
        """👍/👎 counts of a report and each vote, oldest first (empty when not in `scope`)."""
        rows = await self._rows(
            "SELECT f.report_id, f.user_id, f.vote, f.created_at FROM feedback f "
            "JOIN reports r ON r.id = f.report_id WHERE f.report_id = ? AND r.scope = ? "
            "ORDER BY f.created_at, f.user_id",
            (report_id, scope),
        )
        votes = [
            Feedback(report_id=row[0], user_id=row[1], vote=row[2], created_at=_dt(row[3])) for row in rows
        ]
        return FeedbackTally(
            up=sum(1 for v in votes if v.vote > 0), down=sum(1 for v in votes if v.vote < 0), votes=votes
        )

    async def merge_reports(
        self, first_id: int, second_id: int, scope: int, user: int | None
    ) -> StoredReport:
        """Make one report of two that are one meeting (a report sent in two pieces): the first
        gets the two texts joined (first, then second; `documents.text.join_parts` when it is
        there), the second is kept for the record with `merged_into` pointing at the first, and
        the merge is recorded as a correction of the first.

        The first goes back to state 'received': its summary is of half the text, and the
        caller re-summarises (after a crash, `pending_reports` lists it again); until then its
        old summary is still shown. KeyError when a report is not in `scope`; ValueError for a
        report merged with itself, one already merged, or when the joined text is already
        stored as another report of the scope."""
        if first_id == second_id:
            raise ValueError("a report cannot be merged with itself")
        async with self._write() as conn:
            found = {
                row[0]: row[1:]
                for row in await conn.execute_fetchall(
                    "SELECT id, title, summary_title, text, items_text, merged_into FROM reports "
                    "WHERE scope = ? AND id IN (?, ?)",
                    (scope, first_id, second_id),
                )
            }
            for report_id in (first_id, second_id):
                if report_id not in found:
                    raise KeyError(report_id)
                if found[report_id][4] is not None:
                    raise ValueError(f"report {report_id} is already merged into {found[report_id][4]}")
            title, summary_title, first_text, items, _ = found[first_id]
            text = _join_texts(first_text, found[second_id][2])
            folded = fold_cached(text) or ""
            words = folded.split()
            sha = words_sha256(words)
            clash = await conn.execute_fetchall(
                "SELECT id FROM reports WHERE scope = ? AND sha256 = ? AND id != ?", (scope, sha, first_id)
            )
            if clash:
                raise ValueError(f"the merged text is already report {next(iter(clash))[0]}")
            await conn.execute(
                FTS_DELETE,
                fts_row(first_id, scope, title, summary_title, fold_cached(first_text) or "", items),
            )
            await conn.execute(FTS_INSERT, fts_row(first_id, scope, title, summary_title, folded, items))
            await conn.execute(
                "UPDATE reports SET text = ?, sha256 = ?, state = 'received', error = NULL WHERE id = ?",
                (text, sha, first_id),
            )
            # (no unit key: the unit counts read their index alone and must not count the half twice)
            await conn.execute("UPDATE reports SET merged_into = ?, unit_key = NULL WHERE id = ?",
                               (first_id, second_id))
            new_terms = await self._store_terms(conn, [words])
            await self._insert_correction(
                conn,
                Correction(
                    report_id=first_id,
                    scope=scope,
                    user_id=user,
                    created_at=_dt(_ts()),
                    kind="merge",
                    value=str(second_id),
                ),
            )
        self._remember_terms(new_terms)
        merged = await self.get_report(scope, first_id)
        if merged is None:  # deleted right after the merge committed
            raise KeyError(first_id)
        return merged

    # --- replicas (who owns the inbox rows) -------------------------------------------------------
    @property
    def _now_sql(self) -> str:
        return _NOW_PG if self._pg else _NOW_SQLITE

    async def join_replicas(self, lease: float, name: str | None = None) -> str:
        """Start as a new replica (a fresh `replica_id`, its lease `lease` seconds from now); the
        inbox rows written from now on are its own. `name` (BOT_REPLICA_NAME) says it is the same
        replica started again: the lease of its earlier process ends at once, so its leftovers are
        taken over now instead of when that lease would have run out."""
        self.replica_id = uuid.uuid4().hex
        async with self._write(express=True) as conn:
            if name:
                await conn.execute(f"UPDATE replicas SET lease_until = 0 WHERE name = ? AND lease_until > {self._now_sql}",
                                   (name,))
            await conn.execute(
                f"INSERT INTO replicas (id, name, started_at, lease_until) VALUES (?, ?, {self._now_sql}, "
                f"{self._now_sql} + ?)", (self.replica_id, name, float(lease)))
        return self.replica_id

    async def renew_lease(self, lease: float) -> int:
        """Extend this replica's lease to `lease` seconds from now (the heartbeat); how many
        replicas hold a lease now, this one included. Rows of replicas gone for a day are deleted."""
        async with self._write(express=True) as conn:
            cursor = await conn.execute(f"UPDATE replicas SET lease_until = {self._now_sql} + ? WHERE id = ?",
                                        (float(lease), self.replica_id))
            if cursor.rowcount == 0:  # (deleted as long gone: this process was stuck for a day)
                await conn.execute(
                    f"INSERT INTO replicas (id, name, started_at, lease_until) VALUES (?, NULL, {self._now_sql}, "
                    f"{self._now_sql} + ?)", (self.replica_id, float(lease)))
            await conn.execute(f"DELETE FROM replicas WHERE lease_until < {self._now_sql} - 86400")
        return await self.live_replicas()

    async def live_replicas(self) -> int:
        rows = await self._rows(f"SELECT COUNT(*) FROM replicas WHERE lease_until > {self._now_sql}")
        return int(rows[0][0])

    async def leave_replicas(self) -> None:
        """End this replica's lease now (a clean stop): what it leaves is taken over at once."""
        async with self._write(express=True) as conn:
            await conn.execute("UPDATE replicas SET lease_until = 0 WHERE id = ?", (self.replica_id,))

    async def take_over(self, limit: int = 10_000) -> Orphans:
        """Make this replica the owner of the unfinished work of replicas whose lease has run out
        (a crash; this replica's own earlier process included) and return it: 'new' inbox rows,
        and the reports of done rows still unsummarised or unanswered. Claimed in one write
        transaction (serialised across replicas), so two replicas never take the same row.
        A live replica's rows are never taken: it is handling them.

        SQLite has one process per file: called at start-up, every row not written by this
        replica is a leftover, and so is every unfinished report (one without an inbox row too)."""
        if self._pg:
            dead = f"(owner IS NULL OR owner NOT IN (SELECT id FROM replicas WHERE lease_until > {_NOW_PG}))"
        else:
            dead = "(owner IS NULL OR owner <> ?)"
        dead_params: tuple[Any, ...] = () if self._pg else (self.replica_id,)
        # (row by row: the inbox is pruned to days, the reports are years)
        unfinished = ("(state = 'new' OR (report_id IS NOT NULL AND EXISTS (SELECT 1 FROM reports r "
                      "WHERE r.id = inbox.report_id AND (r.state = 'received' OR (r.state = 'summarised' "
                      "AND NOT EXISTS (SELECT 1 FROM replies p WHERE p.report_id = r.id AND (p.state = 'sent' "
                      "OR (p.state = 'sending' AND p.note IS NOT NULL))))))))")
        async with self._write() as conn:
            cursor = await conn.execute(
                f"UPDATE inbox SET owner = ? WHERE id IN (SELECT id FROM inbox WHERE {unfinished} AND {dead} "
                "ORDER BY id LIMIT ?) RETURNING id, state, report_id",
                (self.replica_id, *dead_params, max(0, limit)))
            claimed = await cursor.fetchall()
            # a 'new' row already linked to its stored report (the crash came before it was marked
            # done): the report is completed below; handling the message again would only answer
            # "being summarised"
            stored = sorted(row[0] for row in claimed if row[1] == "new" and row[2] is not None)
            for i in range(0, len(stored), _MAX_PARAMS):
                chunk = stored[i:i + _MAX_PARAMS]
                await conn.execute(f"UPDATE inbox SET state = 'done', done_at = ? WHERE id IN ({','.join('?' * len(chunk))})",
                                   (_ts(), *chunk))
        new_ids = sorted(row[0] for row in claimed if row[1] == "new" and row[2] is None)
        reports = {row[2] for row in claimed if row[2] is not None}
        inbox: list[InboxEntry] = []
        for i in range(0, len(new_ids), _MAX_PARAMS):
            chunk = new_ids[i:i + _MAX_PARAMS]
            rows = await self._rows(
                f"SELECT {_INBOX_COLUMNS} FROM inbox WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk)
            inbox += [_inbox_entry(row) for row in rows]
        if not self._pg:  # one process: reports without an inbox row are this one's leftovers too
            pending = await self.pending_reports()
            unreplied = await self.unreplied_reports()
            in_doubt = await self.replies_in_doubt()
        else:
            pending = [r for r in await self.pending_reports() if r.id in reports]
            unreplied = [r for r in await self.unreplied_reports() if r.id in reports]
            # (a live replica's reply being sent is not here: its inbox row is still that replica's)
            in_doubt = [a for a in await self.replies_in_doubt() if a.report_id in reports]
        return Orphans(inbox=inbox, pending=pending, unreplied=unreplied, in_doubt=in_doubt)

    # --- the overall send budget, shared by the replicas --------------------------------------------
    _budget_conn: Any = None
    _budget_lock: asyncio.Lock | None = None
    _budget_rows = 0
    _budget_failed_at = 0.0

    async def take_send_slot(self, rate: int, period: float) -> float:
        """One slot of the overall send budget that every replica on this database shares: 0.0
        when taken, else the seconds until one frees. `send_slots` holds `rate` rows, each the
        time of one grant; a grant takes the oldest row only if it is more than `period` old, so
        any `period` holds at most `rate` grants, whichever replica took them (a sliding window,
        on the database's clock). On its own connection: a grant never waits behind write
        transactions. On SQLite (one process) always 0.0: the limiter's own budget is the whole.
        When PostgreSQL cannot be reached the slot is granted (each replica then keeps only its
        own budget), with a warning at most once a minute."""
        if not self._pg or self._lease_url is None:
            return 0.0
        import asyncpg

        if self._budget_lock is None:
            self._budget_lock = asyncio.Lock()
        async with self._budget_lock:
            try:
                if self._budget_conn is None or self._budget_conn.is_closed():
                    self._budget_conn = await asyncpg.connect(self._lease_url)
                    self._budget_rows = 0
                if self._budget_rows < rate:
                    await self._budget_conn.execute(
                        "INSERT INTO send_slots (slot, granted_at) SELECT g, 0 FROM generate_series(0, $1 - 1) g "
                        "ON CONFLICT DO NOTHING", rate)
                    self._budget_rows = rate
                row = await self._budget_conn.fetchrow(
                    f"WITH now AS (SELECT {_NOW_PG} AS t), "
                    "pick AS (SELECT s.slot FROM send_slots s, now WHERE s.slot < $1 AND s.granted_at <= now.t - $2 "
                    "ORDER BY s.granted_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
                    "UPDATE send_slots s SET granted_at = (SELECT t FROM now) FROM pick WHERE s.slot = pick.slot "
                    "RETURNING s.slot, NULL::float8 AS wait", rate, float(period))
                if row is not None:
                    return 0.0
                wait = await self._budget_conn.fetchval(
                    f"SELECT min(granted_at) + $2 - {_NOW_PG} FROM send_slots WHERE slot < $1", rate, float(period))
                return max(0.002, float(wait or 0.0))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                with contextlib.suppress(Exception):
                    if self._budget_conn is not None:
                        self._budget_conn.terminate()
                self._budget_conn = None
                if time.monotonic() - self._budget_failed_at > 60:
                    self._budget_failed_at = time.monotonic()
                    log.warning("the shared send budget is unreachable (%s): this replica's own budget only", exc)
                return 0.0

    # --- search paging keys ------------------------------------------------------------------------
    async def remember_search(self, key: str, scope: int, query: str, keep: timedelta = timedelta(days=30)) -> None:
        """What a page button's `key` stands for, readable by every replica; keys unused for
        `keep` are deleted (an old message's button then says the search has expired)."""
        now = datetime.now(UTC)
        async with self._write() as conn:
            await conn.execute(
                "INSERT INTO searches (key, scope, query, used_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET scope = excluded.scope, query = excluded.query, "
                "used_at = excluded.used_at", (key, scope, query, _ts(now)))
            await conn.execute("DELETE FROM searches WHERE used_at < ?", (_ts(now - keep),))

    async def recall_search(self, key: str) -> tuple[int, str] | None:
        rows = await self._rows("SELECT scope, query FROM searches WHERE key = ?", (key,))
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    # --- inbox (durable intake) ------------------------------------------------------------------
    async def inbox_add(self, entries: Sequence[InboxEntry]) -> list[bool]:
        """Write incoming messages in one transaction, owned by this replica; per entry, whether it
        is new (False: the same chat and message id is already in the inbox, e.g. an update
        redelivered after a crash)."""
        if not entries:
            return []
        now = _ts()
        fresh: list[bool] = []
        async with self._write() as conn:
            for e in entries:
                cursor = await conn.execute(
                    "INSERT OR IGNORE INTO inbox (update_id, chat_id, message_id, user_id, kind, text, file_id, "
                    "file_name, file_size, forward_origin, sent_at, received_at, update_json, owner) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (e.update_id, e.chat_id, e.message_id, e.user_id, e.kind, e.text, e.file_id, e.file_name,
                     e.file_size, e.forward_origin, _ts(e.sent_at), now, e.update_json, self.replica_id),
                )
                fresh.append(cursor.rowcount == 1)
        return fresh

    async def inbox_done(self, chat_id: int, message_ids: Iterable[int], report_id: int | None = None) -> None:
        """Mark messages handled (stored as `report_id`, or answered / not a report): not replayed."""
        ids = list(message_ids)
        if not ids:
            return
        now = _ts()
        async with self._write() as conn:
            await conn.executemany(
                "UPDATE inbox SET state = 'done', done_at = ?, report_id = COALESCE(?, report_id) "
                "WHERE chat_id = ? AND message_id = ? AND (state = 'new' OR ? IS NOT NULL)",
                [(now, report_id, chat_id, m, report_id) for m in ids],
            )

    async def inbox_pending(self, limit: int = 10_000) -> list[InboxEntry]:
        """Messages written but never handled (a crash came first), oldest first."""
        rows = await self._rows(f"SELECT {_INBOX_COLUMNS} FROM inbox WHERE state = 'new' ORDER BY id LIMIT ?",
                                (max(0, limit),))
        return [_inbox_entry(row) for row in rows]

    async def inbox_prune(self, older_than: datetime, *, batch: int = 5_000, limit: int = 100_000) -> int:
        """Delete inbox rows done before `older_than` (stored or answered long ago: nothing will
        replay them), never a 'new' one. At most `limit` rows, `batch` per transaction so the writer
        is never held for long; returns how many were deleted."""
        cutoff = _ts(older_than)
        removed = 0
        while removed < limit:
            size = min(batch, limit - removed)
            async with self._write() as conn:
                cursor = await conn.execute(
                    "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE state = 'done' AND done_at < ? "
                    "ORDER BY id LIMIT ?)",
                    (cutoff, size),
                )
                deleted = max(0, cursor.rowcount)
            removed += deleted
            if deleted < size:
                break
        return removed

    async def inbox_arrived_before(self, chat_id: int, message_ids: Iterable[int], when: datetime) -> bool:
        """Whether every one of these inbox messages was written before `when` (the bot's clock
        for both): a message already in when a report was stored is that report's own message
        handled again after a crash, not the report sent once more."""
        ids = sorted(set(message_ids))
        if not ids:
            return False
        marks = ", ".join("?" for _ in ids)
        rows = await self._rows(f"SELECT COUNT(*) FROM inbox WHERE chat_id = ? AND message_id IN ({marks}) "
                                "AND received_at <= ?", (chat_id, *ids, _ts(when)))
        return int(rows[0][0]) == len(ids)

    async def inbox_entry(self, chat_id: int, message_id: int) -> InboxEntry | None:
        """The inbox row of one message (tests and the reliability suite check states with it)."""
        rows = await self._rows(f"SELECT {_INBOX_COLUMNS} FROM inbox WHERE chat_id = ? AND message_id = ?",
                                (chat_id, message_id))
        return _inbox_entry(rows[0]) if rows else None

    async def inbox_owner(self, chat_id: int, message_id: int) -> str | None:
        """The replica an inbox row belongs to (tests)."""
        rows = await self._rows("SELECT owner FROM inbox WHERE chat_id = ? AND message_id = ?", (chat_id, message_id))
        return rows[0][0] if rows else None

    async def inbox_waiting_before(self, chat_id: int, user_id: int, message_id: int) -> bool:
        """Whether an earlier text message of this sender is in the inbox, not handled yet, owned by
        another replica that is alive: the earlier piece of a split paste that went to the other
        replica (bot.ingest waits for it before deciding on this one). Never on SQLite: one process,
        whose own messages are handled in their order."""
        if not self._pg:
            return False
        rows = await self._rows(
            "SELECT 1 FROM inbox WHERE state = 'new' AND chat_id = ? AND user_id = ? AND message_id < ? "
            f"AND kind = 'text' AND owner <> ? AND owner IN (SELECT id FROM replicas WHERE lease_until > {_NOW_PG}) "
            "LIMIT 1", (chat_id, user_id, message_id, self.replica_id))
        return bool(rows)

    # --- sender tails (continuations joined across replicas) ------------------------------------------
    async def get_tail(self, sender: str) -> SenderTail | None:
        """The sender's last text report as `put_tail` saved it (any replica's), or None."""
        rows = await self._rows(
            "SELECT report_id, origin, texts, message_id, sent_at, chars, reply, pieces FROM sender_tails "
            "WHERE sender = ?", (sender,))
        if not rows:
            return None
        r = rows[0]
        return SenderTail(report_id=r[0], origin=r[1], texts=json.loads(r[2]), message_id=r[3], date=r[4],
                          chars=r[5], reply=json.loads(r[6]), pieces=r[7])

    async def put_tail(self, sender: str, tail: SenderTail, keep: timedelta) -> None:
        """Save the sender's tail (replacing the last one); tails saved more than `keep` ago are
        deleted in the same transaction (a continuation only joins within the merge window: the
        table holds the senders of the last minute or so, bounded)."""
        now = datetime.now(UTC)
        async with self._write() as conn:
            await conn.execute(
                "INSERT INTO sender_tails (sender, report_id, origin, texts, message_id, sent_at, chars, reply, "
                "pieces, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sender) DO UPDATE SET "
                "report_id = excluded.report_id, origin = excluded.origin, texts = excluded.texts, "
                "message_id = excluded.message_id, sent_at = excluded.sent_at, chars = excluded.chars, "
                "reply = excluded.reply, pieces = excluded.pieces, saved_at = excluded.saved_at",
                (sender, tail.report_id, tail.origin, json.dumps(tail.texts, ensure_ascii=False), tail.message_id,
                 float(tail.date), tail.chars, json.dumps(tail.reply), tail.pieces, _ts(now)))
            await conn.execute("DELETE FROM sender_tails WHERE saved_at < ?", (_ts(now - keep),))

    async def drop_tail(self, sender: str) -> None:
        """Forget the sender's tail (what follows is not joined to it)."""
        async with self._write() as conn:
            await conn.execute("DELETE FROM sender_tails WHERE sender = ?", (sender,))

    _order_conn: Any = None
    _order_lock: asyncio.Lock | None = None
    _order_held: set[int] = frozenset()  # type: ignore[assignment]  # keys held on _order_conn

    @staticmethod
    def _sender_key(sender: str) -> int:
        return int.from_bytes(hashlib.sha256(f"sender:{sender}".encode()).digest()[:8], "big", signed=True)

    async def lock_sender(self, sender: str, timeout: float = 30.0) -> bool:
        """Take the lock of one sender across replicas: on PostgreSQL a session advisory lock on
        a hash of `sender`, on a connection of its own (a holder that dies frees it at once).
        Polled with pg_try_advisory_lock, so one connection serves every sender and a wait never
        blocks it. False after `timeout` s (the holder is stuck) or when the database cannot be
        reached: the caller goes on unordered, as one replica alone would. On SQLite (one
        process) always True at once: the caller's in-process lock is the whole order. The
        caller holds at most one lock per sender (its in-process lock sees to that): a session
        lock is re-entrant."""
        if not self._pg or self._lease_url is None:
            return True
        import asyncpg

        key = self._sender_key(sender)
        if self._order_lock is None:
            self._order_lock = asyncio.Lock()
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            async with self._order_lock:  # one query at a time on the connection
                try:
                    if self._order_conn is None or self._order_conn.is_closed():
                        self._order_conn = await asyncpg.connect(self._lease_url)
                        self._order_held = set()
                    if await self._order_conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                        self._order_held.add(key)
                        return True
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("the senders' lock is unreachable (%s): going on unordered", exc)
                    with contextlib.suppress(Exception):
                        if self._order_conn is not None:
                            self._order_conn.terminate()
                    self._order_conn = None
                    return False
            if time.monotonic() >= deadline:
                log.warning("sender lock not taken within %.0f s: going on unordered", timeout)
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.02)

    async def open_sender_locks(self) -> None:
        """Connect the senders' lock connection now (at start-up), so the first messages after a
        start do not wait for it; a failure is only logged (`lock_sender` connects again)."""
        if not self._pg or self._lease_url is None:
            return
        import asyncpg

        if self._order_lock is None:
            self._order_lock = asyncio.Lock()
        async with self._order_lock:
            if self._order_conn is None or self._order_conn.is_closed():
                try:
                    self._order_conn = await asyncpg.connect(self._lease_url)
                    self._order_held = set()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("the senders' lock connection did not open (%s): opened on first use", exc)

    async def unlock_sender(self, sender: str) -> None:
        """Release what `lock_sender` took (nothing on SQLite; a lost connection released it already)."""
        key = self._sender_key(sender)
        if not self._pg or self._order_conn is None or key not in self._order_held:
            return
        assert self._order_lock is not None
        async with self._order_lock:
            self._order_held.discard(key)
            with contextlib.suppress(Exception):
                await self._order_conn.fetchval("SELECT pg_advisory_unlock($1)", key)


def _join_texts(first: str, second: str) -> str:
    """The texts of two reports as one: like the parts of one long paste when documents.text
    is there (it knows where a cut fell inside a sentence), else one after the other."""
    try:
        from documents.text import join_parts
    except ImportError:
        return first + "\n" + second
    return join_parts([first, second])
