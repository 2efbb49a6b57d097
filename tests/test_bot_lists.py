"""Consistent lists (issue 12): one line format per report, items with a capital, /tasks and
/shortcomings grouped by unit with near-duplicates merged and paged with buttons."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from bot.render import capitalise, group_items, list_line, merge_items, render_hit
from storage import NewReport
from storage.models import SearchHit, SectionItem
from summariser import clean_text
from summariser.models import Item, Summary
from tests.bot_harness import USER, BotHarness, buttons, seed_text, store_report

LINE = re.compile(r"^#(\d+) · [^·\n]+( · [^·\n]+)? · (ngày họp|nhận) \d\d/\d\d/\d{4}$")


async def add_summary(h: BotHarness, text: str, summary: Summary) -> int:
    assert h.repo is not None
    report, _ = await h.repo.add_report(NewReport(scope=USER, chat_id=USER, user_id=USER, text=clean_text(text)))
    await h.repo.save_summary(report.id, summary)
    return report.id



def test_capitalise_first_letter_only() -> None:
    assert capitalise("  tăng cường công tác GPMB") == "Tăng cường công tác GPMB"
    assert capitalise("đẩy nhanh tiến độ") == "Đẩy nhanh tiến độ"
    assert capitalise("- ủy ban nhân dân") == "- Ủy ban nhân dân"
    assert capitalise("3 xã đạt chuẩn") == "3 xã đạt chuẩn"  # a number first stays as written


def test_list_line_marks_which_date() -> None:
    with_meeting = list_line(4, "huyện Gia Lộc", "Hội nghị BCH", date(2024, 3, 5), datetime(2024, 3, 9, 10))
    assert with_meeting == "<code>#4</code> · huyện Gia Lộc · Hội nghị BCH · ngày họp 05/03/2024"
    received = list_line(5, None, None, None, datetime(2024, 3, 9, 10))
    assert "nhận 09/03/2024" in received and "ngày họp" not in received and "không rõ đơn vị" in received
    assert "&lt;b&gt;" in list_line(6, "<b>x", None, None, datetime(2024, 1, 1))  # escaped


def test_hit_shows_the_sentence_when_given() -> None:
    hit = SearchHit(report_id=3, title=None, unit="xã Đức Chính", meeting_date=date(2024, 2, 1),
                    received_at=datetime(2024, 2, 3), snippet="… \x02Đức Chính\x03 …", rank=0.0,
                    sentence="Xã \x02Đức Chính\x03 hoàn thành <100% kế hoạch.")
    text = render_hit(1, hit)
    assert "ngày họp 01/02/2024" in text and "<b>Đức Chính</b>" in text and "&lt;100%" in text
    assert "…" not in text  # the sentence, not the snippet
    no_sentence = render_hit(1, hit.model_copy(update={"sentence": ""}))
    assert "… <b>Đức Chính</b> …" in no_sentence


def test_near_duplicates_merge_within_a_unit_only() -> None:
    def item(rid: int, unit: str, text: str) -> SectionItem:
        return SectionItem(report_id=rid, unit=unit, meeting_date=None, received_at=datetime(2024, 1, rid),
                           section="tasks", text=text)

    items = [
        item(1, "huyện A", "đẩy nhanh tiến độ giải phóng mặt bằng các dự án trọng điểm"),
        item(2, "huyện A", "Đẩy nhanh tiến độ giải phóng mặt bằng các dự án trọng điểm."),
        item(3, "huyện B", "đẩy nhanh tiến độ giải phóng mặt bằng các dự án trọng điểm"),
        item(4, "huyện A", "Tổ chức tốt lễ hội mùa xuân"),
    ]
    merged = merge_items(items)
    assert [(unit, [i.report_id for i in entry]) for unit, entry in merged] == [
        ("huyện A", [1, 2]), ("huyện A", [4]), ("huyện B", [3])
    ]
    blocks = group_items(items)
    assert "(2 lần)" in blocks[0] and "#1, #2" in blocks[0] and blocks[0].count("•") == 1
    assert all("• Đẩy" in b or "• Tổ" in b for b in blocks)
    assert sum("<b>huyện A</b>" in b for b in blocks) == 1


async def test_latest_and_unit_use_one_line_format(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        dated = await add_summary(h, seed_text(0), Summary(unit="huyện Gia Lộc", meeting="Hội nghị BCH Đảng bộ",
                                                           date=date(2024, 3, 5)))
        undated = await add_summary(h, seed_text(1), Summary(unit="huyện Gia Lộc"))
        [latest] = await h.ask(USER, USER, "/latest")
        lines = [ln for ln in latest.split("\n") if ln.startswith("#")]
        assert len(lines) == 2 and all(LINE.match(ln) for ln in lines), lines
        by_id = {int(LINE.match(ln).group(1)): ln for ln in lines}  # type: ignore[union-attr]
        assert by_id[dated].endswith("ngày họp 05/03/2024") and "Hội nghị BCH Đảng bộ" in by_id[dated]
        assert " · nhận " in by_id[undated]
        unit_reply = "\n".join(await h.ask(USER, USER, "/unit Gia Lộc"))
        assert f"#{dated} · huyện Gia Lộc · Hội nghị BCH Đảng bộ · ngày họp 05/03/2024" in unit_reply
        assert "nhận " in unit_reply


def long_sentences(i: int) -> list[str]:
    """Distinct sentences of a seed (no two near-duplicates), long enough that 60 need pages."""
    found = [s.strip() for s in re.split(r"(?<=[.;:])\s+|\n", seed_text(i)) if 80 <= len(s.strip()) <= 300]
    return list(dict.fromkeys(found))


async def test_tasks_grouped_merged_and_paged(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        repeated = "tiếp tục đẩy nhanh tiến độ giải phóng mặt bằng dự án đường vành đai"
        ids = []
        for i in range(3):
            tasks = [Item(text=repeated if i < 2 else repeated + " phía Bắc")]
            tasks += [Item(text=sentence) for sentence in long_sentences(i)[:20]]
            ids.append(await add_summary(h, seed_text(i), Summary(unit="huyện Gia Lộc", tasks=tasks)))
        [first] = await h.ask(USER, USER, "/tasks")
        assert "Nhiệm vụ thời gian tới" in first and "trang 1/" in first
        assert "Tiếp tục đẩy nhanh tiến độ giải phóng mặt bằng dự án đường vành đai (3 lần)" in first
        assert f"#{ids[0]}, #{ids[1]}, #{ids[2]}" in first
        assert first.count("• Tiếp tục đẩy nhanh") == 1
        starts = [ln[2] for ln in first.split("\n") if ln.startswith("• ") and ln[2].isalpha()]
        assert starts and all(ch.isupper() for ch in starts)
        message = h.emu.messages(USER)[-1]
        [nxt] = [b for b in buttons(message) if b["text"].startswith("Trang sau")]
        await h.press(USER, USER, message["message_id"], nxt["callback_data"])
        edited = h.emu.messages(USER)[-1]
        assert edited["message_id"] == message["message_id"] and "trang 2/" in edited["text"]
        assert "Tiếp tục đẩy nhanh" not in edited["text"]
        [none] = await h.ask(USER, USER, "/shortcomings")
        assert "Chưa có hạn chế, tồn tại" in none


async def test_search_hits_use_the_list_line(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        await store_report(h, USER, seed_text(0))
        [reply] = await h.ask(USER, USER, "/search nghị quyết")
        assert re.search(r"^1\. #\d+ · .+ · (ngày họp|nhận) \d\d/\d\d/\d{4}$", reply, re.M), reply


def test_digest_items_start_with_a_capital() -> None:

    from bot.digests.content import Digest, ItemGroup, UnitEntry
    from bot.digests.messages import render_digest

    group = ItemGroup(text="đẩy nhanh giải ngân vốn đầu tư công", report_id=1, units=["huyện A", "huyện B"],
                      source_count=2, report_ids=[1, 2], mentions=2)
    digest = Digest(scope=1, start=datetime(2024, 5, 1, tzinfo=UTC),
                    end=datetime(2024, 5, 8, tzinfo=UTC), report_count=2, unit_count=2,
                    units=[UnitEntry(name="huyện A", report_ids=[1], headline="ước thu ngân sách đạt kế hoạch")],
                    issues=[group], tasks=[group])
    text = "\n".join(render_digest(digest, UTC))
    assert "• Đẩy nhanh giải ngân" in text and "đẩy nhanh giải ngân" not in text
    assert "— Ước thu ngân sách" in text
