"""The fast part of the reliability suite (bench/reliability.py, issue 13): a few scenarios in quick
mode, each against the real `python -m bot` process and the Bot API emulator on 127.0.0.1.

Asserts the outcome targets only (lost, duplicated, stored, answered, leaked); the latency targets
are printed by `make reliability`, never asserted here (this machine is slow and shared).
"""

from __future__ import annotations

import asyncio
import io
import os
import zipfile
from pathlib import Path

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent
rel = load_script("bench_reliability", ROOT / "bench" / "reliability.py")


def _explain(row: object) -> str:
    return f"{rel.format_row(row.cells())}\n{row.notes}"  # type: ignore[attr-defined]


# --- scenarios against the real bot process ------------------------------------------------------
async def test_sigkill_in_a_small_burst_loses_nothing_and_stores_each_report_once() -> None:
    """Each report stored once, each reply sent at most once: a reply the kill cut off while
    sending may have reached Telegram (no idempotency key tells) and is not resent but named in
    the restarted bot's log; a chat without a reply can only be one of those (the kill between the
    'sending' commit and the request), never a silent loss."""
    row = await rel.run_scenario("sigkill_burst", quick=True)
    assert row.status == "ok", _explain(row)
    assert row.tried == 20
    assert row.duplicated == 0 and row.resent == 0, _explain(row)
    assert row.lost == row.in_doubt_lost <= row.in_doubt <= 3, _explain(row)
    assert row.leaked == "0 err, 0 unlogged", _explain(row)


async def test_twenty_forwarded_reports_are_twenty_reports() -> None:
    row = await rel.run_scenario("forward_burst", quick=True)
    assert row.status == "ok", _explain(row)
    assert (row.lost, row.duplicated) == (0, 0), _explain(row)


async def test_unicode_digits_get_usage_lines_and_no_traceback() -> None:
    row = await rel.run_scenario("unicode_digits", quick=True)
    assert row.status == "ok", _explain(row)
    assert row.lost == 0 and row.leaked == "0 tracebacks", _explain(row)
    assert row.passed, _explain(row)


async def test_an_unparseable_update_does_not_deafen_the_bot() -> None:
    row = await rel.run_scenario("unparseable", quick=True)
    assert row.status == "ok", _explain(row)
    assert row.lost == 0 and row.leaked == "0 in log", _explain(row)
    assert row.passed, _explain(row)


async def test_a_report_with_1500_emoji_is_answered() -> None:
    row = await rel.run_scenario("emoji", quick=True)
    assert row.status == "ok", _explain(row)
    assert row.lost == 0 and row.leaked == "0 too long", _explain(row)


# --- the suite's own machinery ---------------------------------------------------------------------
async def test_a_scenario_that_cannot_finish_prints_timeout(monkeypatch: object) -> None:
    async def hangs(lab: object) -> object:
        await asyncio.sleep(3600)
        raise AssertionError("not reached")

    monkeypatch.setitem(rel.SCENARIOS, "unparseable", (hangs, 0.3, 0.3))  # type: ignore[attr-defined]
    row = await asyncio.wait_for(rel.run_scenario("unparseable", quick=True), 20)
    assert row.status == "timeout"
    assert row.cells()[-1] == "timeout"


def test_docx_bomb_declares_a_huge_document_xml_at_a_modest_ratio() -> None:
    size = 12 * 1024 * 1024
    data = rel.docx_bomb(size)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("word/document.xml")
        assert {"[Content_Types].xml", "_rels/.rels"} <= set(archive.namelist())
        head = archive.open(info).read(200)
    assert size <= info.file_size < size + 2 * 1024 * 1024
    assert 80 < info.file_size / info.compress_size < 150  # like the 889 KB file (111), not 1000
    assert b"<w:body><w:p/>" in head
    assert len(data) < 1024 * 1024 * size / (95 * 1024 * 1024)  # < 1 MB at full size


def test_pdf_bomb_is_300_pages_sharing_one_stream() -> None:
    from pypdf import PdfReader

    data = rel.pdf_bomb(300, 1000)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 300
    contents = {page.get("/Contents").idnum for page in reader.pages}  # type: ignore[union-attr]
    assert len(contents) == 1
    assert reader.pages[0].get_contents().get_data() == b"BT ET " * 1000  # type: ignore[union-attr]
    assert len(rel.pdf_bomb(300, 990_000)) < 100_000


def test_process_tree_and_rss_are_read_from_proc() -> None:
    tree = rel.process_tree(os.getpid())
    assert tree[0] == os.getpid()
    assert 10 < rel.rss_mb([os.getpid()]) < 100_000
    assert rel.rss_mb([2**22 + 12345]) == 0  # a pid that does not exist counts nothing


def test_emoji_report_and_forwarded_reports_are_what_the_scenarios_claim() -> None:
    assert rel.emoji_report().count("📈") == 1500
    reports = rel.forwarded_reports(20)
    assert len(set(reports)) == 20
    assert all(len(r) <= 4096 for r in reports)
    assert rel.percentile([1.0, 2.0, 3.0, 4.0], 95) == 4.0
