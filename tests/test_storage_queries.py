"""Lookups by unit, date, period, time window; section items; unit counts; scope isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage import NewReport, Repository
from summariser.models import Item, Summary

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
T0 = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)  # a Monday, 08:00 in Hà Nội

# (seed, unit, meeting date, period, days after T0 received)
CORPUS = [
    (0, "huyện Gia Lộc", date(2023, 10, 5), "9 tháng năm 2023", 0),
    (1, "huyện Bình Gia", date(2023, 10, 9), "9 tháng năm 2023", 1),
    (2, "Huyện Chi Lăng", date(2024, 7, 2), "6 tháng đầu năm 2024", 2),
    (3, "huyện Lạng Giang", date(2024, 7, 18), "6 tháng đầu năm 2024", 8),
    (4, "HUYỆN GIA LỘC", date(2023, 8, 31), "tháng 8/2023", 9),
]


def make_summary(i: int, unit: str, day: date, period: str) -> Summary:
    return Summary(
        unit=unit,
        date=day,
        period=period,
        title=f"Hội nghị {unit}",
        results=[Item(text=f"Kết quả {i}: thu ngân sách đạt 77,9% dự toán")],
        shortcomings=[Item(text=f"Hạn chế {i}: giải phóng mặt bằng còn chậm")],
        tasks=[Item(text=f"Nhiệm vụ {i}.1: đẩy nhanh GPMB"), Item(text=f"Nhiệm vụ {i}.2: chuyển đổi số")],
    )


@dataclass
class Corpus:
    repo: Repository
    ids: dict[int, list[int]]  # scope -> report ids in CORPUS order


async def fill(repo: Repository, scope: int, rows: list[tuple[int, str, date, str, int]]) -> list[int]:
    ids = []
    for i, unit, day, period, offset in rows:
        stored, created = await repo.add_report(
            NewReport(
                scope=scope,
                chat_id=scope,
                text=SEEDS[i].read_text(encoding="utf-8"),
                received_at=T0 + timedelta(days=offset),
            )
        )
        assert created
        await repo.save_summary(stored.id, make_summary(i, unit, day, period))
        ids.append(stored.id)
    return ids


@pytest.fixture
async def corpus(db_url: str) -> AsyncIterator[Corpus]:
    repo = await Repository.open(db_url)
    ids = {1: await fill(repo, 1, CORPUS)}
    # A second scope with the same texts, units and items, received at the same times, plus one
    # more report: anything leaking from it shows up in ids or counts.
    ids[2] = await fill(repo, 2, CORPUS)
    extra, _ = await repo.add_report(
        NewReport(scope=2, chat_id=2, text="Báo cáo bổ sung của huyện Gia Lộc", received_at=T0)
    )
    await repo.save_summary(extra.id, make_summary(9, "huyện Gia Lộc", date(2023, 10, 6), "9 tháng năm 2023"))
    ids[2].append(extra.id)
    yield Corpus(repo, ids)
    await repo.close()


async def test_by_unit_accent_insensitive_newest_meeting_first(corpus: Corpus) -> None:
    ids = corpus.ids[1]
    found = await corpus.repo.by_unit(1, "gia loc")
    assert [r.id for r in found] == [ids[0], ids[4]]  # 2023-10-05, then 2023-08-31
    assert [r.id for r in await corpus.repo.by_unit(1, "Huyện GIA LỘC")] == [ids[0], ids[4]]
    assert [r.id for r in await corpus.repo.by_unit(1, "lang")] == [ids[3], ids[2]]  # Lạng Giang, Chi Lăng
    assert await corpus.repo.by_unit(1, "Hà Nội") == []
    assert await corpus.repo.by_unit(1, "  ") == []
    assert await corpus.repo.by_unit(1, "%") == []  # LIKE wildcards are literal
    assert len(await corpus.repo.by_unit(1, "huyen", limit=2)) == 2


async def test_by_date_range_inclusive_and_open_ended(corpus: Corpus) -> None:
    ids = corpus.ids[1]
    repo = corpus.repo
    found = await repo.by_date_range(1, date(2023, 10, 5), date(2023, 10, 9))
    assert [r.id for r in found] == [ids[1], ids[0]]
    assert [r.id for r in await repo.by_date_range(1, start=date(2024, 1, 1))] == [ids[3], ids[2]]
    assert [r.id for r in await repo.by_date_range(1, end=date(2023, 9, 1))] == [ids[4]]
    assert len(await repo.by_date_range(1)) == 5
    assert await repo.by_date_range(1, date(2025, 1, 1), date(2025, 12, 31)) == []


async def test_by_period_accent_insensitive_substring(corpus: Corpus) -> None:
    ids = corpus.ids[1]
    found = await corpus.repo.by_period(1, "6 thang dau nam 2024")
    assert [r.id for r in found] == [ids[3], ids[2]]
    assert {r.id for r in await corpus.repo.by_period(1, "9 THÁNG")} == {ids[0], ids[1]}
    assert [r.id for r in await corpus.repo.by_period(1, "tháng 8/2023")] == [ids[4]]
    assert await corpus.repo.by_period(1, "năm 2025") == []


async def test_received_between_half_open_and_only_summarised(corpus: Corpus) -> None:
    ids = corpus.ids[1]
    repo = corpus.repo
    week = await repo.received_between(1, T0, T0 + timedelta(days=7))
    assert [r.id for r in week] == ids[:3]  # oldest first; day 8 and 9 are outside
    # end is exclusive, start inclusive
    assert [r.id for r in await repo.received_between(1, T0 + timedelta(days=1), T0 + timedelta(days=2))] == [
        ids[1]
    ]
    pending, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text="Chưa tóm tắt", received_at=T0))
    assert pending.id not in [r.id for r in await repo.received_between(1, T0, T0 + timedelta(days=7))]
    # naive datetimes are UTC
    naive = await repo.received_between(
        1, T0.replace(tzinfo=None), (T0 + timedelta(days=1)).replace(tzinfo=None)
    )
    assert [r.id for r in naive] == [ids[0]]


async def test_section_items_window_unit_and_report_ids(corpus: Corpus) -> None:
    ids = corpus.ids[1]
    repo = corpus.repo
    tasks = await repo.section_items(1, "tasks", since=T0, until=T0 + timedelta(days=7))
    assert [(t.report_id, t.text) for t in tasks] == [
        (ids[0], "Nhiệm vụ 0.1: đẩy nhanh GPMB"),
        (ids[0], "Nhiệm vụ 0.2: chuyển đổi số"),
        (ids[1], "Nhiệm vụ 1.1: đẩy nhanh GPMB"),
        (ids[1], "Nhiệm vụ 1.2: chuyển đổi số"),
        (ids[2], "Nhiệm vụ 2.1: đẩy nhanh GPMB"),
        (ids[2], "Nhiệm vụ 2.2: chuyển đổi số"),
    ]
    assert tasks[0].unit == "huyện Gia Lộc" and tasks[0].meeting_date == date(2023, 10, 5)
    assert all(t.section == "tasks" for t in tasks)
    short = await repo.section_items(1, "shortcomings", unit_query="gia loc")
    assert [(s.report_id, s.text) for s in short] == [
        (ids[0], "Hạn chế 0: giải phóng mặt bằng còn chậm"),
        (ids[4], "Hạn chế 4: giải phóng mặt bằng còn chậm"),
    ]
    results = await repo.section_items(1, "results", since=T0 + timedelta(days=8))
    assert [r.report_id for r in results] == [ids[3], ids[4]]
    assert len(await repo.section_items(1, "tasks", limit=3)) == 3
    assert await repo.section_items(1, "tasks", unit_query="Hà Nội") == []
    with pytest.raises(ValueError):
        await repo.section_items(1, "other")  # type: ignore[arg-type]


async def test_section_items_come_from_the_newest_summary(corpus: Corpus) -> None:
    report_id = corpus.ids[1][0]
    await corpus.repo.save_summary(
        report_id, Summary(unit="huyện Gia Lộc", tasks=[Item(text="Nhiệm vụ mới")])
    )
    tasks = await corpus.repo.section_items(1, "tasks", until=T0 + timedelta(hours=1))
    assert [(t.report_id, t.text) for t in tasks] == [(report_id, "Nhiệm vụ mới")]


async def test_unit_counts_group_spellings(corpus: Corpus) -> None:
    counts = await corpus.repo.unit_counts(1)
    by_unit = {c.unit.lower(): c for c in counts}
    assert counts[0].reports == 2
    assert counts[0].unit in {"huyện Gia Lộc", "HUYỆN GIA LỘC"}
    assert counts[0].last_received == T0 + timedelta(days=9)
    assert sum(c.reports for c in counts) == 5
    assert by_unit["huyện chi lăng"].reports == 1
    assert await corpus.repo.unit_counts(3) == []


async def test_latest_and_pending(corpus: Corpus) -> None:
    assert [r.id for r in await corpus.repo.latest(1, 2)] == corpus.ids[1][::-1][:2]
    assert await corpus.repo.pending_reports() == []


# --- scope isolation: every query, with a second scope holding the same content -----------------

Query = Callable[[Repository, int], Awaitable[Any]]


def _report_ids(result: Any) -> set[int]:
    if result is None:
        return set()
    if hasattr(result, "hits"):
        return {h.report_id for h in result.hits}
    if isinstance(result, list):
        return {getattr(x, "report_id", None) or x.id for x in result}
    return {result.id}


QUERIES: dict[str, Query] = {
    "latest": lambda r, s: r.latest(s, 100),
    "by_unit": lambda r, s: r.by_unit(s, "gia loc"),
    "by_date_range": lambda r, s: r.by_date_range(s, date(2023, 1, 1), date(2024, 12, 31)),
    "by_period": lambda r, s: r.by_period(s, "9 thang"),
    "received_between": lambda r, s: r.received_between(s, T0 - timedelta(days=1), T0 + timedelta(days=30)),
    "section_items.tasks": lambda r, s: r.section_items(s, "tasks"),
    "section_items.shortcomings": lambda r, s: r.section_items(s, "shortcomings", unit_query="gia"),
    "section_items.results": lambda r, s: r.section_items(
        s, "results", since=T0, until=T0 + timedelta(days=30)
    ),
    "search.body": lambda r, s: r.search(s, "giai phong mat bang", limit=100),
    "search.items": lambda r, s: r.search(s, "nhiệm vụ", limit=100),
    "search.prefix": lambda r, s: r.search(s, "Gia L", limit=100),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_no_query_crosses_scopes(corpus: Corpus, name: str) -> None:
    for scope in (1, 2):
        result = await QUERIES[name](corpus.repo, scope)
        found = _report_ids(result)
        assert found, f"{name} found nothing in scope {scope}: the check would prove nothing"
        assert found <= set(corpus.ids[scope]), f"{name} leaked {found - set(corpus.ids[scope])}"
    assert _report_ids(await QUERIES[name](corpus.repo, 3)) == set()


async def test_search_total_and_unit_counts_do_not_cross_scopes(corpus: Corpus) -> None:
    repo = corpus.repo
    page1 = await repo.search(1, "Gia Lộc", limit=100)
    page2 = await repo.search(2, "Gia Lộc", limit=100)
    assert page2.total == page1.total + 1
    assert sum(c.reports for c in await repo.unit_counts(1)) == 5
    assert sum(c.reports for c in await repo.unit_counts(2)) == 6


async def test_get_and_delete_by_id_do_not_cross_scopes(corpus: Corpus) -> None:
    repo = corpus.repo
    other = corpus.ids[2][0]
    assert await repo.get_report(1, other) is None
    assert not await repo.delete_report(1, other)
    got = await repo.get_report(2, other)
    assert got is not None and got.scope == 2
