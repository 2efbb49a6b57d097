"""`python -m storage.migrate_to_pg SQLITE_PATH POSTGRES_URL`: move a SQLite database into an
empty PostgreSQL database, without loss, and show that nothing was lost.

The SQLite file is opened as the bot opens it (so an older schema is first upgraded in place, as
the bot would on its next start); the PostgreSQL database gets the same schema version. Every
table is copied with its ids (identity sequences moved past them), in one transaction: a failure
leaves the target empty. The search index is rebuilt from the copied reports (storage.pg). Then
both sides are read back: the row count of every table, and a SHA-256 over every report's id and
text (in id order), printed side by side. Exit 0 when all agree, 1 when anything differs, 2 for
a bad argument (a missing file, a target that already holds data).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storage.backend import DatabaseConfigError, check_target, parse_target
from storage.folding import fold
from storage.repository import Repository
from storage.schema import fts_row

# Parents before children (foreign keys); tables not named here are copied after these.
ORDER = ["users", "chat_scopes", "subscriptions", "reports", "summaries", "corrections", "feedback",
         "deliveries", "inbox", "search_terms"]
SKIP = {"report_fts", "schema_version"}  # the index is rebuilt; the version is the target's own
BATCH = 2_000


async def _sqlite_tables(lite: Repository) -> list[str]:
    rows = await lite._rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'report_fts%'"
    )
    names = [r[0] for r in rows if r[0] not in SKIP]
    return [t for t in ORDER if t in names] + sorted(t for t in names if t not in ORDER)


async def _columns(lite: Repository, pg: Any, table: str) -> list[str]:
    """The columns both sides have (a column only one side has would be a schema mismatch:
    the versions are checked first, so there is none)."""
    lite_columns = [r[1] for r in await lite._rows(f"PRAGMA table_info({table})")]
    pg_columns = {
        r["column_name"]
        for r in await pg.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = $1", table)
    }
    missing = [c for c in lite_columns if c not in pg_columns]
    if missing:
        raise RuntimeError(f"{table}: PostgreSQL lacks columns {missing}")
    return lite_columns


async def _copy_table(lite: Repository, pg: Any, table: str, columns: list[str]) -> int:
    """Copy in batches (rowid order; reports.merged_into is set afterwards: it may point ahead)."""
    select = ", ".join(columns)
    copied = 0
    last: Any = None
    try:  # WITHOUT ROWID tables (feedback, search_terms) are paged by all their columns
        await lite._rows(f"SELECT rowid FROM {table} LIMIT 1")
        key: str | None = "rowid"
    except sqlite3.OperationalError:
        key = None
    offset = 0
    while True:
        if key:
            where = "" if last is None else f" WHERE {key} > ?"
            rows = await lite._rows(
                f"SELECT {key}, {select} FROM {table}{where} ORDER BY {key} LIMIT ?",
                ((last, BATCH) if last is not None else (BATCH,)),
            )
            if not rows:
                break
            last = rows[-1][0]
            records = [tuple(r[1:]) for r in rows]
        else:
            rows = await lite._rows(
                f"SELECT {select} FROM {table} ORDER BY {select} LIMIT ? OFFSET ?", (BATCH, offset)
            )
            if not rows:
                break
            offset += len(rows)
            records = [tuple(r) for r in rows]
        if table == "reports":
            at = columns.index("merged_into")
            records = [(*r[:at], None, *r[at + 1 :]) for r in records]
        await pg.copy_records_to_table(table, records=records, columns=columns)
        copied += len(records)
    return copied


async def _reindex(pg: Any) -> int:
    from storage.pg import INSERT_INDEX_ROW, tsvector

    done = 0
    last = 0
    while True:
        rows = await pg.fetch(
            "SELECT id, scope, title, summary_title, text, items_text FROM reports WHERE id > $1 ORDER BY id LIMIT $2",
            last, BATCH,
        )
        if not rows:
            return done
        records = []
        for r in rows:
            rowid, tag, title, body, items = fts_row(
                r["id"], r["scope"], r["title"], r["summary_title"], fold(r["text"]) or "", r["items_text"]
            )
            records.append((rowid, tag, *tsvector(title, body, items, rowid=rowid)))
        await pg.executemany(INSERT_INDEX_ROW, records)
        last = rows[-1]["id"]
        done += len(rows)


async def _text_checksum(rows_of: Any) -> tuple[int, str]:
    """(reports, SHA-256 over each report's id and the SHA-256 of its text, in id order)."""
    digest = hashlib.sha256()
    count, last = 0, 0
    while True:
        rows = await rows_of(last)
        if not rows:
            return count, digest.hexdigest()
        for rid, text in rows:
            digest.update(f"{rid}:{hashlib.sha256(text.encode('utf-8')).hexdigest()}\n".encode())
        count += len(rows)
        last = rows[-1][0]


async def migrate(sqlite_path: str, url: str, out: Any = sys.stdout) -> bool:
    """Copy, then compare; True when every count and the text checksum agree."""
    lite = await Repository.open(sqlite_path)
    target = await Repository.open(url)
    try:
        pg = target._writer.raw
        if await pg.fetchval("SELECT EXISTS (SELECT 1 FROM reports) OR EXISTS (SELECT 1 FROM users)"):
            raise DatabaseConfigError("the PostgreSQL database already holds data: give an empty one")
        tables = await _sqlite_tables(lite)
        async with pg.transaction():
            for table in tables:
                await _copy_table(lite, pg, table, await _columns(lite, pg, table))
            # merged_into may point at a later report: set once all reports are there
            merged = await lite._rows("SELECT id, merged_into FROM reports WHERE merged_into IS NOT NULL")
            await pg.executemany("UPDATE reports SET merged_into = $2 WHERE id = $1", merged)
            await _reindex(pg)
            identities = await pg.fetch(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE is_identity = 'YES' AND table_schema = current_schema()"
            )
            for table, column in identities:  # the next id follows the copied ones
                await pg.execute(
                    f"SELECT setval(pg_get_serial_sequence($1, $2), "
                    f"GREATEST((SELECT COALESCE(MAX({column}), 0) FROM {table}), 1))",
                    table, column,
                )
        ok = True
        print(f"{'table':<16}{'sqlite':>12}{'postgresql':>12}", file=out)
        for table in tables:
            a = (await lite._rows(f"SELECT count(*) FROM {table}"))[0][0]
            b = await pg.fetchval(f"SELECT count(*) FROM {table}")
            ok &= a == b
            print(f"{table:<16}{a:>12}{b:>12}{'' if a == b else '  DIFFERENT'}", file=out)
        indexed = await pg.fetchval("SELECT count(*) FROM report_fts")
        print(f"{'search index':<16}{'':>12}{indexed:>12}", file=out)
        lite_sum = await _text_checksum(
            lambda last: lite._rows("SELECT id, text FROM reports WHERE id > ? ORDER BY id LIMIT ?", (last, BATCH))
        )
        pg_sum = await _text_checksum(
            lambda last: pg.fetch("SELECT id, text FROM reports WHERE id > $1 ORDER BY id LIMIT $2", last, BATCH)
        )
        ok &= lite_sum == pg_sum and indexed == pg_sum[0]
        print(f"report texts sha256 sqlite     {lite_sum[1]} ({lite_sum[0]} reports)", file=out)
        print(f"report texts sha256 postgresql {pg_sum[1]} ({pg_sum[0]} reports)", file=out)
        print("OK: nothing lost" if ok else "DIFFERENT: see above", file=out)
        return ok
    finally:
        await target.close()
        await lite.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage.migrate_to_pg", description=__doc__.split("\n")[0])
    parser.add_argument("sqlite_path")
    parser.add_argument("postgres_url")
    args = parser.parse_args(argv)
    try:
        source = parse_target(args.sqlite_path)
        target = parse_target(args.postgres_url)
        if source.kind != "sqlite" or not Path(source.location).is_file():
            raise DatabaseConfigError(f"no SQLite database at {args.sqlite_path}")
        if target.kind != "postgresql":
            raise DatabaseConfigError("the target must be a postgresql:// URL")
        asyncio.run(check_target(target))
        return 0 if asyncio.run(migrate(source.location, target.location)) else 1
    except DatabaseConfigError as exc:
        print(f"migrate_to_pg: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
