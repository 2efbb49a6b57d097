"""PostgreSQL beside SQLite: the same terms indexed, the same hits for the same queries, phrases
deep inside long reports, and two processes writing one database at once."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import NewReport, Repository
from storage.models import SearchPage
from summariser import summarise
from tests.pg_support import fresh_database, server_url

T0 = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
DEV = sorted((ROOT.parent / "shared" / "eval" / "dev").glob("*.txt"))
FIXED_QUERIES = [
    "giai phong mat bang", "giải phóng mặt bằng", '"giải phóng mặt bằng"', "GPMB", "Đảng bộ", "dang bo",
    "nông thôn mới", '"nong thon moi"', "huyen uy", "Huyện ủy", "hoà", "hòa", "uỷ ban", "ủy ban",
    "kinh te xa hoi", "KT-XH", "ANTT", "an ninh trật tự", "Gia L", "t", "ch", "năm 2024", "6 tháng",
    '"tháng đầu năm"', "đạt 100%", "ke hoach", "«chính trị»", "giải-phóng", "1.234", "xã Đức Chính",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    found = [p.read_text(encoding="utf-8") for p in [*SEEDS, *DEV]]
    assert len(found) >= 5
    return found


@pytest.fixture
async def pair(tmp_path: Path, texts: list[str]) -> AsyncIterator[tuple[Repository, Repository]]:
    async with _pair(tmp_path, texts) as repos:
        yield repos


@contextlib.asynccontextmanager
async def _pair(tmp_path: Path, texts: list[str]) -> AsyncIterator[tuple[Repository, Repository]]:
    """The same reports, in the same order (so the same ids), on SQLite and on PostgreSQL."""
    server_url()
    async with fresh_database() as url:
        lite = await Repository.open(str(tmp_path / "db.sqlite3"))
        pg = await Repository.open(url)
        try:
            for repo in (lite, pg):
                stored = await repo.add_reports(
                    NewReport(scope=1 + i % 2, chat_id=1, text=t, title=f"Báo cáo {i}",
                              received_at=T0 + timedelta(minutes=i))
                    for i, t in enumerate(texts)
                )
                # half of them summarised: titles and items are indexed too
                await repo.save_summaries([(r.id, summarise(r.text)) for r, _ in stored[::2]])
            yield lite, pg
        finally:
            await lite.close()
            await pg.close()


def _queries(texts: list[str], n: int) -> list[str]:
    """Words, runs of words (as typed and quoted) and prefixes taken from the texts themselves."""
    rng = random.Random(14)
    out = []
    for _ in range(n):
        words = re.findall(r"\w+", rng.choice(texts))
        if not words:
            continue
        start = rng.randrange(len(words))
        run = words[start : start + rng.choice([1, 2, 3])]
        kind = rng.choice(["plain", "quoted", "prefix", "lower"])
        text = " ".join(run)
        if kind == "quoted":
            text = f'"{text}"'
        elif kind == "prefix":
            text = text[: max(1, len(text) - 2)]
        elif kind == "lower":
            text = text.lower()
        out.append(text)
    return out


def _hits(page: SearchPage) -> tuple[set[int], int, bool]:
    return {h.report_id for h in page.hits}, page.total, page.capped


async def test_same_hits_on_both_backends(pair: tuple[Repository, Repository], texts: list[str]) -> None:
    lite, pg = pair
    queries = FIXED_QUERIES + _queries(texts, 150)
    differ = []
    nonempty = 0
    for scope in (1, 2):
        for query in queries:
            a = await lite.search(scope, query, limit=500)
            b = await pg.search(scope, query, limit=500)
            nonempty += bool(a.hits)
            if _hits(a) != _hits(b):
                differ.append((scope, query, _hits(a), _hits(b)))
            elif a.hits:  # the same sentence is shown (cut from the same text by the same code)
                sentences = {h.report_id: h.sentence for h in a.hits}
                assert all(sentences[h.report_id] == h.sentence for h in b.hits), query
    assert differ == []
    assert nonempty > len(queries)  # the comparison is not over empty pages


@pytest.mark.parametrize("forced", ["walk", "rarest group, the others checked", "newest slice first"])
async def test_every_plan_finds_the_same_hits(
    tmp_path: Path, texts: list[str], forced: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever way storage.search_pg.plan picks (from statistics a test database does not have),
    the hits are SQLite's."""
    import storage.pg
    from storage import search_pg

    def forced_plan(stats: object, tag: str, groups: tuple) -> search_pg.Plan:
        if forced == "walk":
            return search_pg.Plan(True)
        if forced == "newest slice first":  # a sliver of the ids: the older ones are read after
            return search_pg.Plan(False, tuple(groups), (), 0.001)
        return search_pg.Plan(False, tuple(groups[:1]), tuple(groups[1:]))

    monkeypatch.setattr(search_pg, "plan", forced_plan)
    for module in (storage.pg, search_pg):
        monkeypatch.setattr(module, "BUCKET", 2)  # slices of two ids: several in a small database
    differ = []
    async with _pair(tmp_path, texts) as (lite, pg):
        for scope in (1, 2):
            for query in FIXED_QUERIES + _queries(texts, 60):
                a, b = await lite.search(scope, query, limit=500), await pg.search(scope, query, limit=500)
                if _hits(a) != _hits(b):
                    differ.append((scope, query, _hits(a), _hits(b)))
    assert differ == []


async def test_same_terms_indexed(pair: tuple[Repository, Repository], tmp_path: Path) -> None:
    """Per report, the terms PostgreSQL holds are those FTS5 holds (title, body and items), and its
    grams are the runs of two and three terms FTS5 holds next to each other in one column."""
    from storage.pg import GRAM, bucket

    _, pg = pair
    raw = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        raw.execute("CREATE VIRTUAL TABLE temp.inst USING fts5vocab(main, report_fts, 'instance')")
        fts5: dict[int, set[str]] = {}
        at: dict[tuple[int, str, int], str] = {}  # (report, column, offset) -> term
        for term, doc, col, offset in raw.execute(
            "SELECT term, doc, col, offset FROM temp.inst WHERE col != 'scope_tag'"
        ):
            fts5.setdefault(doc, set()).add(term)
            at[(doc, col, offset)] = term
    finally:
        raw.close()
    runs: dict[int, set[str]] = {}
    for (doc, col, offset), term in at.items():
        second = at.get((doc, col, offset + 1))
        if second is not None:
            runs.setdefault(doc, set()).add(f"{term} {second}")
            third = at.get((doc, col, offset + 2))
            if third is not None:
                runs[doc].add(f"{term} {second} {third}")
    rows = await pg._rows("SELECT rowid, tsvector_to_array(doc), tsvector_to_array(keys) FROM report_fts")
    assert {rowid: set(terms) for rowid, terms, _ in rows} == fts5
    # what the index looks up: the terms, the runs ('~' first) and the report's slice of ids
    expected = {rowid: fts5[rowid] | {GRAM + r for r in runs.get(rowid, ())} | {bucket(rowid)} for rowid, _, _ in rows}
    assert {rowid: set(keys) for rowid, _, keys in rows} == expected
    assert any(GRAM + "giai phong mat" in keys for _, _, keys in rows)


async def test_unit_and_section_queries_agree(pair: tuple[Repository, Repository]) -> None:
    lite, pg = pair
    for scope in (1, 2):
        assert await lite.unit_counts(scope) == await pg.unit_counts(scope)
        for section in ("results", "shortcomings", "tasks"):
            assert await lite.section_items(scope, section) == await pg.section_items(scope, section)
        assert [r.id for r in await lite.latest(scope, 50)] == [r.id for r in await pg.latest(scope, 50)]


async def test_a_phrase_deep_inside_a_long_report_is_found() -> None:
    """Past 16,383 words (and past 256 uses of a word) PostgreSQL's tsvector keeps no positions:
    such a report's phrases are checked on its text."""
    filler = " ".join(f"từ{i} và" for i in range(9000))  # 18,000 words; 'và' 9,000 times
    long_text = f"Mở đầu. {filler}. Cuối cùng là giải phóng mặt bằng và xây dựng nông thôn mới."
    async with fresh_database() as url, await Repository.open(url) as repo:
        (stored, _), (short, _) = await repo.add_reports(
            [NewReport(scope=1, chat_id=1, text=long_text), NewReport(scope=1, chat_id=1, text="mặt bằng giải phóng")]
        )
        assert await repo._rows("SELECT truncated FROM report_fts WHERE rowid = ?", (stored.id,)) == [(True,)]
        assert {h.report_id for h in (await repo.search(1, '"giải phóng mặt bằng"')).hits} == {stored.id}
        assert {h.report_id for h in (await repo.search(1, '"và xây dựng"')).hits} == {stored.id}
        # the long report holds the words, not these phrases
        assert {h.report_id for h in (await repo.search(1, '"bằng giải phóng"')).hits} == {short.id}
        assert (await repo.search(1, '"phóng và xây"')).total == 0
        assert {h.report_id for h in (await repo.search(1, "giải phóng mặt bằng")).hits} == {stored.id, short.id}


async def test_an_index_of_pairs_gets_the_grams_on_upgrade(texts: list[str]) -> None:
    """A database indexed before `keys` (pairs of adjacent terms inside `doc`, GIN on `doc`)
    upgrades to the index a fresh insert builds, and finds the same reports."""
    from storage.schema import PG_MIGRATIONS, PG_SEARCH_KEYS_DDL
    from tests.pg_support import pg_index_is_rebuilt

    version = PG_MIGRATIONS.index(PG_SEARCH_KEYS_DDL) + 1
    queries = ['"giải phóng mặt bằng"', "nông thôn mới", '"kinh tế - xã hội"', "xã Đức Chính", "GPMB"]
    async with fresh_database() as url:
        async with await Repository.open(url) as repo:
            await repo.add_reports(NewReport(scope=1, chat_id=1, text=t) for t in texts)
            before = [_hits(await repo.search(1, q, limit=500)) for q in queries]
            # the index as the step before wrote it: the pairs in doc, GIN on doc, no keys column
            await repo._rows(
                "UPDATE report_fts SET doc = doc || array_to_tsvector(ARRAY(SELECT substr(k, 2) FROM "
                "unnest(tsvector_to_array(keys)) AS k WHERE array_length(string_to_array(k, ' '), 1) = 2))"
            )
            await repo._rows("ALTER TABLE report_fts DROP COLUMN keys")
            await repo._rows("CREATE INDEX report_fts_doc ON report_fts USING gin (doc)")
            await repo._rows("DELETE FROM schema_version WHERE version >= ?", (version,))
            assert await repo._rows("SELECT count(*) FROM report_fts WHERE strpos(CAST(doc AS text), ' ') > 0")
        async with await Repository.open(url) as repo:
            assert await pg_index_is_rebuilt(repo)
            assert [_hits(await repo.search(1, q, limit=500)) for q in queries] == before
            assert any(total for _, total, _ in before)


async def test_two_processes_write_one_database_at_once() -> None:
    """Two repositories (two bot replicas) adding reports at once: every report once, each
    duplicate found, ids as the repository reads them back (writes are serialised across
    connections by the advisory lock)."""
    async with fresh_database() as url:
        a, b = await Repository.open(url), await Repository.open(url)
        try:
            async def add(repo: Repository, i: int) -> tuple[int, bool]:
                stored, created = await repo.add_report(
                    NewReport(scope=1, chat_id=1, text=f"Báo cáo số {i % 30} của xã Tân Lập")
                )
                return stored.id, created

            results = await asyncio.gather(*(add(a if i % 2 else b, i) for i in range(60)))
            assert sum(created for _, created in results) == 30
            by_text: dict[int, set[int]] = {}
            for i, (rid, _) in enumerate(results):
                by_text.setdefault(i % 30, set()).add(rid)
            assert all(len(ids) == 1 for ids in by_text.values())
            assert len({next(iter(ids)) for ids in by_text.values()}) == 30
            for i in range(30):
                report = await a.get_report(1, next(iter(by_text[i])))
                assert report is not None and report.text == f"Báo cáo số {i} của xã Tân Lập"
        finally:
            await a.close()
            await b.close()


async def test_constraint_errors_are_sqlite_integrity_errors() -> None:
    from storage import Subscription

    async with fresh_database() as url, await Repository.open(url) as repo:
        with pytest.raises(sqlite3.IntegrityError):
            await repo.upsert_subscription(
                Subscription(chat_id=1, cadence="weekly", weekday=9, time_of_day="08:00", timezone="UTC")
            )


async def test_replicas_opening_at_once_migrate_once() -> None:
    async with fresh_database() as url:
        repos = await asyncio.gather(*(Repository.open(url) for _ in range(3)))
        try:
            from storage.schema import SCHEMA_VERSION

            rows = await repos[0]._rows("SELECT version FROM schema_version ORDER BY version")
            assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
        finally:
            for repo in repos:
                await repo.close()


async def test_inbox_on_both_backends(any_repo: Repository) -> None:
    """The intake inbox (written before Telegram is answered) behaves the same on both."""
    from storage.repository import InboxEntry

    def entry(message_id: int) -> InboxEntry:
        return InboxEntry(
            update_id=message_id, chat_id=-100123456789, message_id=message_id, user_id=5, kind="text",
            text=f"báo cáo {message_id}", file_id=None, file_name=None, file_size=None, forward_origin=None,
            sent_at=T0, update_json="{}",
        )

    assert await any_repo.inbox_add([entry(1), entry(2), entry(1)]) == [True, True, False]
    assert await any_repo.inbox_add([entry(2)]) == [False]  # redelivered
    await any_repo.inbox_done(-100123456789, [1])  # answered, not a report
    await any_repo.inbox_done(-100123456789, [2], report_id=77)
    await any_repo.inbox_done(-100123456789, [1], report_id=78)  # a report id is recorded even when done
    assert await any_repo.inbox_pending() == []
    one = await any_repo.inbox_entry(-100123456789, 1)
    two = await any_repo.inbox_entry(-100123456789, 2)
    assert one is not None and (one.state, one.report_id, one.sent_at) == ("done", 78, T0)
    assert two is not None and (two.state, two.report_id, two.text) == ("done", 77, "báo cáo 2")
    assert await any_repo.inbox_add([entry(3)]) == [True]
    assert [e.message_id for e in await any_repo.inbox_pending()] == [3]


async def test_one_replica_holds_the_digest_lease_and_another_takes_over() -> None:
    async with fresh_database() as url:
        a, b = await Repository.open(url), await Repository.open(url)
        try:
            assert await a.hold_lease("digests") and await a.hold_lease("digests")  # kept
            assert not await b.hold_lease("digests")
            assert await b.hold_lease("other")  # leases are by name
            await a.close()  # the leader stops: its lease is free at once
            assert await b.hold_lease("digests")
        finally:
            await b.close()


async def test_a_killed_leader_frees_its_lease() -> None:
    """SIGKILL (no clean-up at all): the server sees the connection close and frees the lock."""
    import os
    import signal
    import sys

    async with fresh_database() as url:
        code = (
            "import asyncio, sys\n"
            "from storage import Repository\n"
            "async def main():\n"
            f"    repo = await Repository.open({url!r})\n"
            "    print(await repo.hold_lease('digests'), flush=True)\n"
            "    await asyncio.sleep(120)\n"
            "asyncio.run(main())\n"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
        )
        repo = await Repository.open(url)
        try:
            assert proc.stdout is not None
            assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"True"
            assert not await repo.hold_lease("digests")
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30  # the takeover bound
            while not await repo.hold_lease("digests"):
                assert loop.time() < deadline, "the lease was not freed within 30 s"
                await asyncio.sleep(0.2)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await repo.close()


async def test_sqlite_always_leads(tmp_path: Path) -> None:
    async with await Repository.open(str(tmp_path / "x.sqlite3")) as repo:
        assert await repo.hold_lease("digests")
