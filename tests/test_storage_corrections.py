"""Corrections and feedback: applying fixes to a summary, storing them (schema v4), merging two
reports, and exporting corrected reports as gold that the shared scorer reads."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

import aiosqlite
import pytest

from storage import NewReport, Repository
from storage.corrections import apply_corrections, find_item, item_key
from storage.export_corrections import gold_summary, main
from storage.models import Correction
from storage.schema import MIGRATIONS, SCHEMA_VERSION, register_functions
from summariser import clean_text, summarise
from summariser.models import Figure, Item, Span, Summary
from tests.pg_support import pg_index_is_rebuilt
from tests.test_storage_migrations import make_v1_database
from tests.test_storage_search import index_instances

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
SCORER = ROOT.parent / "shared" / "eval" / "score.py"


def seed(i: int) -> str:
    return clean_text(SEEDS[i].read_text(encoding="utf-8"))


@pytest.fixture
async def repo(db_url: str) -> AsyncIterator[Repository]:
    repository = await Repository.open(db_url)
    yield repository
    await repository.close()


def fix(
    kind: str,
    section: str | None = None,
    text: str | None = None,
    value: str | None = None,
    index: int | None = None,
) -> Correction:
    """A correction of report 1 (validated like every stored one)."""
    return Correction(
        report_id=1, scope=1, kind=kind, section=section, item_text=text, value=value, index=index
    )


def texts(summary: Summary, section: str) -> list[str]:
    return [item.text for item in summary.section(section)]  # type: ignore[arg-type]


SAMPLE = Summary(
    unit="huyện Gia Lộc",
    results=[
        Item(text="Tổng thu ngân sách đạt 120 tỷ đồng", source=[Span(start=0, end=34)]),
        Item(text="An ninh chính trị được giữ vững", source=[Span(start=40, end=71)]),
    ],
    shortcomings=[Item(text="Tiến độ giải phóng mặt bằng còn chậm", source=[Span(start=80, end=116)])],
    tasks=[Item(text="Phấn đấu thu ngân sách đạt 150 tỷ đồng", source=[Span(start=120, end=158)])],
    figures=[
        Figure(text="120 tỷ đồng", section="results", source=Span(start=23, end=34)),
        Figure(text="150 tỷ đồng", section="tasks", source=Span(start=147, end=158)),
    ],
)


# --- apply_corrections (pure) ----------------------------------------------------------------


def test_move_and_drop_follow_the_text_not_the_position() -> None:
    corrections = [
        fix("move", "results", "An ninh chính trị được giữ vững", "shortcomings", index=1),
        fix("drop", "tasks", "Phấn đấu thu ngân sách đạt 150 tỷ đồng", index=0),
    ]
    # a re-summary: results in the other order, one item more, other spacing and case
    later = SAMPLE.model_copy(deep=True)
    later.results = [
        Item(text="an ninh   chính trị được giữ vững."),
        Item(text="Số hộ nghèo giảm còn 2,1%"),
        SAMPLE.results[0],
    ]
    for summary in (SAMPLE, later):
        fixed = apply_corrections(summary, corrections)
        assert not any("an ninh" in t.lower() for t in texts(fixed, "results"))
        assert item_key_in("An ninh chính trị được giữ vững", texts(fixed, "shortcomings"))
        assert texts(fixed, "tasks") == []
        assert "Tổng thu ngân sách đạt 120 tỷ đồng" in texts(fixed, "results")
    # the summary given is not changed
    assert texts(SAMPLE, "results")[1] == "An ninh chính trị được giữ vững" and len(SAMPLE.tasks) == 1


def item_key_in(text: str, items: list[str]) -> bool:
    return item_key(text) in {item_key(t) for t in items}


def test_figures_follow_a_moved_item_and_go_with_a_dropped_one() -> None:
    fixed = apply_corrections(
        SAMPLE,
        [
            fix("move", "results", "Tổng thu ngân sách đạt 120 tỷ đồng", "tasks"),
            fix("drop", "tasks", "Phấn đấu thu ngân sách đạt 150 tỷ đồng"),
        ],
    )
    assert [(f.text, f.section) for f in fixed.figures] == [("120 tỷ đồng", "tasks")]
    assert texts(fixed, "tasks") == ["Tổng thu ngân sách đạt 120 tỷ đồng"]  # appended at the end


def test_a_duplicate_text_is_found_nearest_its_index() -> None:
    same = "Tăng cường công tác kiểm tra, giám sát"
    summary = Summary(tasks=[Item(text=same), Item(text="Khác hẳn"), Item(text=same)])
    fixed = apply_corrections(summary, [fix("move", "tasks", same, "results", index=2)])
    assert texts(fixed, "tasks") == [same, "Khác hẳn"]
    assert find_item({"results": [], "shortcomings": [], "tasks": summary.tasks}, "tasks", same, 0) == (
        "tasks",
        0,
    )


def test_a_reworded_item_is_matched_only_when_close() -> None:
    recorded = "Tiến độ giải phóng mặt bằng một số dự án trọng điểm còn chậm"
    close = Summary(
        shortcomings=[Item(text="Tiến độ giải phóng mặt bằng một số dự án trọng điểm của huyện còn chậm")]
    )
    far = Summary(shortcomings=[Item(text="Tiến độ xây dựng nông thôn mới còn chậm")])
    dropped = fix("drop", "shortcomings", recorded)
    assert texts(apply_corrections(close, [dropped]), "shortcomings") == []
    assert texts(apply_corrections(far, [dropped]), "shortcomings") == texts(far, "shortcomings")


def test_an_item_already_where_it_was_moved_stays_put() -> None:
    later = Summary(shortcomings=[Item(text="An ninh chính trị được giữ vững")], results=[Item(text="Khác")])
    fixed = apply_corrections(
        later, [fix("move", "results", "An ninh chính trị được giữ vững", "shortcomings")]
    )
    assert texts(fixed, "shortcomings") == ["An ninh chính trị được giữ vững"] and texts(
        fixed, "results"
    ) == ["Khác"]


def test_metadata_corrections_set_and_clear() -> None:
    fixed = apply_corrections(
        SAMPLE,
        [
            fix("set_unit", value="xã Gia Tân"),
            fix("set_date", value="2024-05-29"),
            fix("set_period", value="6 tháng đầu năm 2024"),
            fix("merge", value="7"),
        ],
    )
    assert (fixed.unit, fixed.date, fixed.period) == ("xã Gia Tân", date(2024, 5, 29), "6 tháng đầu năm 2024")
    assert texts(fixed, "results") == texts(SAMPLE, "results")
    cleared = apply_corrections(fixed, [fix("set_unit"), fix("set_date"), fix("set_period")])
    assert (cleared.unit, cleared.date, cleared.period) == (None, None, None)


@pytest.mark.parametrize(
    ("kind", "section", "text", "value"),
    [
        ("move", "results", "Một việc", None),
        ("move", "results", "Một việc", "other"),
        ("drop", None, "Một việc", None),
        ("drop", "tasks", "", None),
        ("set_date", None, None, "29/5/2024"),
        ("merge", None, None, None),
        ("merge", None, None, "²"),
    ],
)
def test_incomplete_corrections_are_refused(
    kind: str, section: str | None, text: str | None, value: str | None
) -> None:
    with pytest.raises(ValueError):
        fix(kind, section, text, value)


# --- repository ------------------------------------------------------------------------------


async def stored(repo: Repository, text: str, scope: int = -10) -> int:
    report, _ = await repo.add_report(NewReport(scope=scope, chat_id=scope, user_id=5, text=text))
    await repo.save_summary(report.id, summarise(text))
    return report.id


async def test_add_correction_by_position_records_the_text_seen(repo: Repository) -> None:
    rid = await stored(repo, seed(0))
    summary = (await repo.get_report(-10, rid)).summary  # type: ignore[union-attr]
    assert summary is not None and len(summary.results) >= 3
    first, second = summary.results[0].text, summary.results[1].text
    moved = await repo.add_correction(rid, -10, 5, "move", section="results", index=0, value="tasks")
    assert moved.id is not None and moved.item_text == first and moved.created_at is not None
    # the bot shows the corrected summary: index 0 of results is now what was index 1
    dropped = await repo.add_correction(rid, -10, 6, "drop", section="results", index=0)
    assert dropped.item_text == second
    listed = await repo.corrections(rid, -10)
    assert [(c.kind, c.user_id, c.item_text) for c in listed] == [("move", 5, first), ("drop", 6, second)]
    shown = await repo.corrected_summary(rid, -10)
    assert shown is not None and texts(shown, "tasks")[-1] == first
    assert first not in texts(shown, "results") and second not in texts(shown, "results")
    with pytest.raises(IndexError):
        await repo.add_correction(rid, -10, 5, "drop", section="shortcomings", index=99)


async def test_corrections_are_scope_checked(repo: Repository) -> None:
    rid = await stored(repo, seed(0))
    with pytest.raises(KeyError):
        await repo.add_correction(rid, -11, 5, "set_unit", value="huyện Khác")
    await repo.add_correction(rid, -10, 5, "set_unit", value="huyện Gia Lộc")
    assert await repo.corrections(rid, -11) == []
    assert await repo.corrected_summary(rid, -11) is None
    assert len(await repo.corrections(rid, -10)) == 1
    with pytest.raises(ValueError):  # refused before anything is stored
        await repo.add_correction(rid, -10, 5, "set_date", value="hôm qua")
    assert len(await repo.corrections(rid, -10)) == 1


async def test_unit_date_and_period_corrections_reach_the_lists(repo: Repository) -> None:
    """/latest, /unit, search lines and digests read the report's own columns: a corrected unit,
    date or period must show there too, not only in the summary."""
    rid = await stored(repo, seed(0))
    await repo.add_correction(rid, -10, 5, "set_unit", value="xã Gia Tân")
    await repo.add_correction(rid, -10, 5, "set_date", value="2024-05-29")
    await repo.add_correction(rid, -10, 5, "set_period", value="5 tháng đầu năm 2024")
    report = await repo.get_report(-10, rid)
    assert report is not None
    assert (report.unit, report.meeting_date) == ("xã Gia Tân", date(2024, 5, 29))
    [period] = await repo._rows("SELECT period FROM reports WHERE id = ?", (rid,))
    assert period[0] == "5 tháng đầu năm 2024"
    assert [r.id for r in await repo.by_unit(-10, "gia tan")] == [rid]
    assert await repo.by_unit(-10, "gia loc") == []
    await repo.add_correction(rid, -10, 5, "set_date")  # cleared
    report = await repo.get_report(-10, rid)
    assert report is not None and report.meeting_date is None


async def test_feedback_one_vote_per_user_changeable(repo: Repository) -> None:
    rid = await stored(repo, seed(0))
    tally = await repo.set_feedback(rid, -10, 5, 1)
    assert (tally.up, tally.down, tally.of(5), tally.of(6)) == (1, 0, 1, 0)
    await repo.set_feedback(rid, -10, 6, 1)
    tally = await repo.set_feedback(rid, -10, 5, -1)  # changed, not added
    assert (tally.up, tally.down, tally.of(5)) == (1, 1, -1)
    assert len(tally.votes) == 2
    tally = await repo.set_feedback(rid, -10, 6, 0)  # withdrawn
    assert (tally.up, tally.down) == (0, 1)
    assert (await repo.feedback(rid, -11)).votes == []
    with pytest.raises(KeyError):
        await repo.set_feedback(rid, -11, 5, 1)
    with pytest.raises(ValueError):
        await repo.set_feedback(rid, -10, 5, 2)
    assert await repo.delete_report(-10, rid)
    assert (await repo.feedback(rid, -10)).votes == []


async def test_merge_reports(tmp_path: Path, repo: Repository) -> None:
    from documents.text import join_parts

    a, b = seed(0), seed(1)
    first, second = await stored(repo, a), await stored(repo, b)
    other_scope = await stored(repo, seed(2), scope=-20)
    with pytest.raises(KeyError):
        await repo.merge_reports(first, other_scope, -10, 5)
    with pytest.raises(ValueError):
        await repo.merge_reports(first, first, -10, 5)
    merged = await repo.merge_reports(first, second, -10, 5)
    assert merged.id == first and merged.text == join_parts([a, b]) and merged.text.startswith(a.strip())
    assert merged.state == "received" and [r.id for r in await repo.pending_reports()] == [first]
    kept = await repo.get_report(-10, second)
    assert kept is not None and kept.text == b  # kept for the record
    # ... but no longer listed: a digest must not count the second half twice
    assert second not in [r.id for r in await repo.latest(-10, 10)]
    assert first in [r.id for r in await repo.latest(-10, 10)]
    assert await repo._rows("SELECT merged_into FROM reports WHERE id = ?", (second,)) == [(first,)]
    (record,) = await repo.corrections(first, -10)
    assert (record.kind, record.value, record.user_id) == ("merge", str(second), 5)
    with pytest.raises(ValueError, match="already merged"):
        await repo.merge_reports(first, second, -10, 5)
    # the first report's text in the index is the joined one: words only the second had find it
    only_second = sorted({w for w in b.split() if w.isalpha()} - {w.strip(".,;:") for w in a.split()})
    probe = max(only_second, key=len)
    assert first in [h.report_id for h in (await repo.search(-10, probe)).hits]
    # sending the joined text again is a duplicate of the first report
    _, created = await repo.add_report(NewReport(scope=-10, chat_id=-10, text=merged.text))
    assert not created
    # the caller re-summarises
    await repo.save_summary(first, summarise(merged.text))
    again = await repo.get_report(-10, first)
    assert again is not None and again.state == "summarised"
    if repo.backend == "sqlite":
        kept_terms, rebuilt = index_instances(tmp_path / "db.sqlite3")
        assert kept_terms == rebuilt
    else:
        assert await pg_index_is_rebuilt(repo)
    # deleting the first leaves the second, no longer merged into anything
    assert await repo.delete_report(-10, first)
    assert await repo._rows("SELECT merged_into FROM reports WHERE id = ?", (second,)) == [(None,)]
    assert await repo._rows("SELECT count(*) FROM corrections") == [(0,)]


# --- schema v4 from a real v3 database ---------------------------------------------------------


async def make_v3_database(path: Path) -> dict[str, int]:
    """A v1 database (as v1 wrote it) taken to v3 by the released v2 and v3 steps."""
    ids = make_v1_database(path)
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await register_functions(conn)
        for version, step in enumerate(MIGRATIONS[:3], start=1):
            if version > 1:
                await step(conn)
                await conn.execute(f"PRAGMA user_version = {version}")
    return ids


async def test_v3_database_upgrades_to_v4(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    ids = await make_v3_database(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 3
        assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'corrections'").fetchone() == (0,)
    assert SCHEMA_VERSION >= 4
    async with await Repository.open(path) as repo:
        done = await repo.get_report(-10, ids["done"])
        assert done is not None and done.summary is not None and done.unit == "huyện Gia Lộc"
        assert [h.report_id for h in (await repo.search(-10, "khuoi luong")).hits] == [ids["done"]]
        fixed = await repo.add_correction(
            ids["done"],
            -10,
            5,
            "move",
            section="tasks",
            index=0,
            value="results",
            at=datetime(2024, 2, 1, tzinfo=UTC),
        )
        assert fixed.item_text == "Cấp nước sạch cho bản Khuổi Luông"
        shown = await repo.corrected_summary(ids["done"], -10)
        assert shown is not None and texts(shown, "results") == ["Cấp nước sạch cho bản Khuổi Luông"]
        assert (await repo.set_feedback(ids["done"], -10, 5, 1)).up == 1
        merged = await repo.merge_reports(ids["done"], ids["pending"], -10, 5)
        assert merged.state == "received"
        assert await repo.corrected_report_ids() == [(-10, ids["done"])]
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        created = raw.execute("SELECT created_at FROM corrections ORDER BY id").fetchone()[0]
        assert created == "2024-02-01T00:00:00.000000Z"
    kept, rebuilt = index_instances(path)
    assert kept and kept == rebuilt


# --- export in the gold format ------------------------------------------------------------------


def load_scorer() -> ModuleType:
    if not SCORER.exists():
        pytest.skip(f"the shared scorer is not at {SCORER}")
    spec = importlib.util.spec_from_file_location("shared_eval_score", SCORER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mean_f1(row: dict) -> float:
    f1s = []
    for section in ("results", "shortcomings", "tasks"):
        cell = row[section]
        recall = cell["found"] / cell["gold"] if cell["gold"] else 1.0
        precision = cell["supported"] / cell["pred"] if cell["pred"] else (1.0 if not cell["gold"] else 0.0)
        f1s.append(2 * recall * precision / (recall + precision) if recall + precision else 0.0)
    return sum(f1s) / len(f1s)


async def test_export_is_gold_the_scorer_accepts(tmp_path: Path) -> None:
    score = load_scorer()
    db = tmp_path / "bot.sqlite3"
    text = seed(0)
    async with await Repository.open(db) as repo:
        rid = await stored(repo, text)
        untouched = await stored(repo, seed(3))
        summary = (await repo.get_report(-10, rid)).summary  # type: ignore[union-attr]
        assert summary is not None and summary.results and summary.shortcomings
        # the result holding a figure goes to tasks; a shortcoming is dropped
        with_figure = next(
            i for i, item in enumerate(summary.results) if any(f.text in item.text for f in summary.figures)
        )
        moved = summary.results[with_figure].text
        dropped = summary.shortcomings[0].text
        await repo.add_correction(rid, -10, 5, "move", section="results", index=with_figure, value="tasks")
        await repo.add_correction(rid, -10, 6, "drop", section="shortcomings", index=0)
        corrected = await repo.corrected_summary(rid, -10)
        assert corrected is not None
    out = tmp_path / "corrections.jsonl"
    assert await asyncio.to_thread(main, ["--db", str(db), "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1  # the untouched report is not exported
    gold = json.loads(lines[0])
    assert gold["report_id"] == rid != untouched and gold["source"] == text
    assert moved in gold["tasks"] and moved not in gold["results"]
    assert dropped not in gold["shortcomings"]
    assert [c["who"] for c in gold["corrections"]] == [5, 6]
    assert [c["what"]["kind"] for c in gold["corrections"]] == ["move", "drop"]
    assert gold["corrections"][0]["what"]["value"] == "tasks"
    assert all(f["text"] in text and set(f) == {"text", "what"} for f in gold["figures"])
    moved_figures = [f for f in corrected.figures if f.text in moved]
    assert moved_figures and all(f.section == "tasks" for f in moved_figures)

    row = score.score_document(gold, gold_summary(corrected), text)
    assert mean_f1(row) == 1.0
    assert row["figures"]["found"] == row["figures"]["gold"] > 0
    assert all(row["meta"].values()) and row["numbers"]["unsupported"] == 0
    assert row["tasks"]["found"] == row["tasks"]["gold"] == len(corrected.tasks)
    # the uncorrected summary does not score 1.0 against it: the moved item is misplaced
    before = score.score_document(gold, gold_summary(summary), text)
    assert mean_f1(before) < 1.0 and before["tasks"]["misplaced"] >= 1


async def test_export_command_line(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    async with await Repository.open(db) as repo:
        rid = await stored(repo, seed(0))
        await repo.add_correction(rid, -10, 5, "set_period", value="9 tháng đầu năm 2023")
    done = subprocess.run(
        [sys.executable, "-m", "storage.export_corrections", "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    record = json.loads(line)
    assert record["period"] == "9 tháng đầu năm 2023"
    assert record["corrections"][0]["what"] == {"kind": "set_period", "value": "9 tháng đầu năm 2023"}
    assert "Đã xuất 1" in done.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "storage.export_corrections", "--db", str(tmp_path / "none.sqlite3")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and not (tmp_path / "none.sqlite3").exists()
