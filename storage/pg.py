"""PostgreSQL under the repository's SQL: a thin aiosqlite-shaped face over asyncpg.

The repository keeps ONE copy of its queries, written in the SQL that SQLite and PostgreSQL
share (qmark placeholders, `ON CONFLICT`, `RETURNING`, `NULLS LAST`); this module runs them on
PostgreSQL:
  * `?` -> `$n` (outside string literals), `INSERT OR IGNORE` -> `... ON CONFLICT DO NOTHING`;
  * parameters are coerced to the types the server inferred (SQLite compares an int with a text
    column; asyncpg refuses to send an int for a text parameter);
  * `BEGIN IMMEDIATE` -> `BEGIN` + a transaction-level advisory lock: write transactions are
    serialised across every process on the database, as SQLite serialises writers on a file.
    The repository relies on that (e.g. add_reports reads back the ids above the old MAX(id));
  * the few statements that are FTS5 (index rows, 'optimize') are replaced by their PostgreSQL
    twins (`_REWRITES`): the index is a tsvector per report built from `storage.abbreviations.terms`
    of the folded text, so both backends index exactly the same terms at the same positions;
  * constraint violations are raised as `sqlite3.IntegrityError` subclasses, so callers catch one
    type whatever the backend.
Dialect differences that are not one statement (JSON, bare columns, search) are branches in the
repository and `storage.search_pg`.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import asyncpg

from storage.abbreviations import terms
from storage.schema import FTS_DELETE, FTS_INSERT

WRITE_LOCK_KEY = 0x6869_6E67_0001  # pg_advisory_xact_lock key of write transactions
MAX_POSITION = 16383  # tsvector positions stop here (PostgreSQL clamps larger ones)
MAX_POSITIONS_PER_TERM = 256  # PostgreSQL keeps at most this many positions of one lexeme
INSERT_INDEX_ROW = (
    "INSERT INTO report_fts (rowid, scope_tag, doc, keys, truncated) VALUES ($1, $2, $3::tsvector, $4::tsvector, $5)"
)
BUCKET = 1024  # report ids per slice lexeme (storage.search_pg.plan)
GRAM = "~"  # what a gram lexeme of `keys` starts with (a term never does: letters and digits only)
COLUMN_GAP = 2  # positions left free between title, items and body: no phrase spans two columns
_STATEMENT_CACHE = 512
_TEXT_TYPES = {"text", "varchar", "bpchar", "name", "unknown"}
_INT_TYPES = {"int2", "int4", "int8"}


class IntegrityError(sqlite3.IntegrityError):
    """A constraint violation on PostgreSQL (callers catch sqlite3.IntegrityError for both)."""


class Cursor:
    """What the repository reads from aiosqlite's cursor after an execute."""

    def __init__(self, rowcount: int, rows: list[tuple[Any, ...]] | None = None) -> None:
        self.rowcount = rowcount
        self.lastrowid: int | None = None  # never set: use RETURNING
        self._rows = rows or []

    async def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class IndexRow(NamedTuple):
    """What report_fts holds of a report (tsvector literals)."""

    doc: str  # the terms, with positions and weights
    keys: str  # what the GIN index answers: the terms, the grams and the slice, no positions
    truncated: bool  # some positions of `doc` were dropped


def bucket(rowid: int) -> str:
    """The lexeme of the slice of report ids holding `rowid` (never a term: terms are letters and
    digits only)."""
    return f"#{rowid // BUCKET}"


def tsvector(title: str | None, folded_body: str | None, items: str | None, *, rowid: int) -> IndexRow:
    """The index row of a report: `doc`, its terms at their positions; `keys`, what the GIN index
    looks up: the terms, the grams (runs of two and three adjacent terms within a column) and
    the report's slice of ids; and whether `doc` was truncated (positions past MAX_POSITION or a
    term with more than MAX_POSITIONS_PER_TERM occurrences; the terms are all there, some
    without positions: phrase checks of such a report are done in Python, see
    storage.search_pg).

    Weights in `doc`: title A, items B, body D (ts_rank's stand-in for bm25's column weights).

    Why grams: a phrase of two or three words is then one lexeme the GIN index answers exactly,
    with no positions compared (PostgreSQL's phrase match rereads every candidate's tsvector:
    ~0.3 s for "chuyển đổi số" at 100,000 reports, measured), and a longer phrase reads
    positions only in the reports holding all its triples. Why two columns: `doc` is what is
    read row by row (walking the newest reports, ranking, checking positions), 5 KB a report;
    `keys` (~25 KB) only by the index, so that reading rows never pays for the grams. A
    query's GIN part is one tsquery over `keys`, so the planner has no other index condition
    to start from and check the rest row by row (a `keys` check is a 25 KB read). A gram is
    written GRAM + its terms ("~chuyen doi so"): a prefix query ('so':*) never expands into
    the grams that begin with its word.

    The slice, `bucket(rowid)`, BUCKET report ids: the index finds the newest matches of a
    common phrase by looking at the newest slices only, as FTS5 reads its doclists newest
    first (see storage.search_pg.plan)."""
    positions: dict[str, list[str]] = {}
    grams: set[str] = set()
    truncated = False
    at = 0
    for text, weight in ((title, "A"), (items, "B"), (folded_body, "")):
        if not text:
            continue
        before: tuple[str, ...] = ()  # the two terms before this one in this column
        for term in terms(text):
            at += 1
            found = positions.setdefault(term, [])  # past the limits: the term, without a position
            if at <= MAX_POSITION and len(found) < MAX_POSITIONS_PER_TERM:
                found.append(f"{at}{weight}")
            else:
                truncated = True
            if before:
                grams.add(f"{before[-1]} {term}")
                if len(before) == 2:
                    grams.add(f"{before[0]} {before[1]} {term}")
            before = (*before[-1:], term)
        at += COLUMN_GAP
    doc = " ".join(f"'{t}':{','.join(p)}" if p else f"'{t}'" for t, p in positions.items())
    keys = " ".join(f"'{k}'" for k in [*positions, *(GRAM + g for g in grams), bucket(rowid)])
    return IndexRow(doc, keys, truncated)


def _fts_insert(params: Sequence[Any]) -> tuple[Any, ...]:
    rowid, tag, title, body, items = params
    return rowid, tag, *tsvector(title, body, items, rowid=rowid)


_REWRITES: dict[str, tuple[str, Callable[[Sequence[Any]], Sequence[Any]]]] = {
    FTS_INSERT: (
        INSERT_INDEX_ROW,
        _fts_insert,
    ),
    FTS_DELETE: ("DELETE FROM report_fts WHERE rowid = $1", lambda p: (p[0],)),
    # FTS5's merge into one segment; here: the GIN index's pending entries (which every lookup
    # scans until autovacuum merges them) into the index, and the statistics search plans by
    "INSERT INTO report_fts (report_fts) VALUES ('optimize')": (
        "ANALYZE report_fts; SELECT gin_clean_pending_list(CAST('report_fts_keys' AS regclass))",
        lambda p: (),
    ),
}

_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO", re.IGNORECASE)


# `? IS [NOT] NULL`: PostgreSQL cannot tell the parameter's type from that alone (SQLite needs
# none); as text it takes any value (`_coerce` sends numbers as their text).
_NULL_TEST = re.compile(r"(?<![\w'])\?(\s+IS\s+(?:NOT\s+)?NULL)", re.IGNORECASE)


def translate(sql: str) -> str:
    """The repository's SQL in PostgreSQL's spelling (placeholders, INSERT OR IGNORE, untyped
    null tests)."""
    ignore = bool(_OR_IGNORE.match(sql))
    if ignore:
        sql = _OR_IGNORE.sub("INSERT INTO", sql, count=1)
    sql = _NULL_TEST.sub(r"CAST(? AS TEXT)\1", sql)
    out: list[str] = []
    n = 0
    quoted = False
    for ch in sql:
        if ch == "'":
            quoted = not quoted
        if ch == "?" and not quoted:
            n += 1
            out.append(f"${n}")
        else:
            out.append(ch)
    text = "".join(out)
    return text + " ON CONFLICT DO NOTHING" if ignore else text


def _coerce(value: Any, type_name: str) -> Any:
    if value is None:
        return None
    if type_name in _TEXT_TYPES and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if type_name in _INT_TYPES:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            return int(value)
    if type_name in ("float4", "float8", "numeric") and isinstance(value, int):
        return float(value)
    return value


class Connection:
    """One asyncpg connection with aiosqlite's execute / execute_fetchall / executemany."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.raw = conn
        self._statements: OrderedDict[str, tuple[Any, list[str]]] = OrderedDict()
        self.in_transaction = False

    async def _prepared(self, sql: str) -> tuple[Any, list[str]]:
        found = self._statements.get(sql)
        if found is not None:
            self._statements.move_to_end(sql)
            return found
        statement = await self.raw.prepare(sql)
        found = (statement, [t.name for t in statement.get_parameters()])
        self._statements[sql] = found
        if len(self._statements) > _STATEMENT_CACHE:
            self._statements.popitem(last=False)
        return found

    def _plan(self, sql: str) -> tuple[str, Callable[[Sequence[Any]], Sequence[Any]] | None]:
        rewrite = _REWRITES.get(sql)
        if rewrite is not None:
            return rewrite
        return translate(sql), None

    async def _control(self, sql: str) -> bool:
        """Transaction statements; True when `sql` was one."""
        word = sql.strip().upper()
        if word == "BEGIN IMMEDIATE" or word == "BEGIN":
            await self.raw.execute("BEGIN")
            self.in_transaction = True
            await self.raw.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
            return True
        if word in ("COMMIT", "ROLLBACK"):
            self.in_transaction = False
            await self.raw.execute(word)
            return True
        return False

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if await self._control(sql):
            return Cursor(-1)
        text, mapper = self._plan(sql)
        if mapper is not None:
            params = mapper(params)
            if not text.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "SELECT")):
                await self.raw.execute(text)
                return Cursor(-1)
        statement, types = await self._prepared(text)
        args = [_coerce(v, t) for v, t in zip(params, types, strict=True)]
        try:
            rows = await statement.fetch(*args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(str(exc)) from exc
        status = statement.get_statusmsg() or ""
        tail = status.rsplit(" ", 1)[-1]
        count = int(tail) if tail.isdigit() else -1
        return Cursor(count, [tuple(r) for r in rows])

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await (await self.execute(sql, params)).fetchall()

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        text, mapper = self._plan(sql)
        rows = [mapper(p) if mapper else p for p in seq]
        if not rows:
            return
        statement, types = await self._prepared(text)
        try:
            await statement.executemany([[_coerce(v, t) for v, t in zip(p, types, strict=True)] for p in rows])
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(str(exc)) from exc

    async def close(self) -> None:
        await self.raw.close()


class Readers:
    """A few connections for reads (an asyncpg connection runs one query at a time): each call
    takes a free one. Reads run outside any transaction and see what has committed."""

    def __init__(self, connections: list[Connection]) -> None:
        self._all = connections
        self._free: asyncio.Queue[Connection] = asyncio.Queue()
        for conn in connections:
            self._free.put_nowait(conn)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = await self._free.get()
        try:
            return await conn.execute_fetchall(sql, params)
        finally:
            self._free.put_nowait(conn)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        conn = await self._free.get()
        try:
            return await conn.execute(sql, params)
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()


# Statements are prepared once per connection (`Connection._prepared`); after five runs
# PostgreSQL would switch to a generic plan, blind to the tsquery: it then walks every report
# newest first even for a rare word (~0.7 s at 100k reports, measured). A custom plan per run
# costs ~0.1-2 ms of planning. JIT compiles for "expensive" plans and only adds latency here.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan", "jit": "off"}


async def connect(url: str, readers: int = 2) -> tuple[Connection, Readers]:
    """The writer connection and the readers of a repository."""
    writer = Connection(await asyncpg.connect(url, server_settings=SERVER_SETTINGS))
    try:
        pool = [Connection(await asyncpg.connect(url, server_settings=SERVER_SETTINGS)) for _ in range(readers)]
    except BaseException:
        await writer.close()
        raise
    return writer, Readers(pool)
