"""Corrections from the chat (issue 12): move or drop an item with buttons, 👍/👎, /merge, and every
correction listed by /report. Over the emulator, against the real repository."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from storage import NewReport
from summariser import clean_text
from summariser.models import Item, Summary
from tests.bot_harness import OTHER, USER, BotHarness, buttons, seed_text, store_report

TASK = "Tập trung tháo gỡ vướng mắc trong giải phóng mặt bằng"


async def add_summary(h: BotHarness, text: str, summary: Summary, user_id: int = USER) -> int:
    assert h.repo is not None
    report, _ = await h.repo.add_report(NewReport(scope=USER, chat_id=USER, user_id=user_id, text=clean_text(text)))
    await h.repo.save_summary(report.id, summary)
    return report.id


def sample() -> Summary:
    return Summary(
        unit="huyện Gia Lộc",
        date=date(2024, 3, 5),
        results=[Item(text="Thu ngân sách đạt 312 tỷ đồng"), Item(text=TASK)],  # a task read as a result
        shortcomings=[Item(text="Tiến độ một số dự án còn chậm")],
        tasks=[Item(text="Hoàn thành kế hoạch đầu tư công")],
    )


def button(message: dict[str, Any], text: str) -> str:
    [found] = [b["callback_data"] for b in buttons(message) if b["text"] == text]
    return found


def section_of(text: str, item: str) -> str:
    """The section title the item is listed under in a rendered summary."""
    before = text[: text.index(item)]
    return max(("Kết quả nổi bật", "Hạn chế, tồn tại", "Nhiệm vụ thời gian tới"), key=before.rfind)


async def test_move_and_drop_an_item_then_report_lists_them(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        rid = await add_summary(h, seed_text(0), sample())
        await h.ask(USER, USER, f"/report {rid}")
        summary = h.emu.messages(USER)[-1]
        assert section_of(summary["text"], TASK) == "Kết quả nổi bật"
        [listing] = await h.press(USER, USER, summary["message_id"], button(summary, "✏️ Sửa"))
        assert f"K2. {TASK}" in listing and "H1." in listing and "N1." in listing
        choose = h.emu.messages(USER)[-1]
        await h.press(USER, USER, choose["message_id"], button(choose, "K2"))
        offer = h.emu.messages(USER)[-1]
        assert offer["message_id"] == choose["message_id"] and TASK in offer["text"]
        new = await h.press(USER, USER, offer["message_id"], button(offer, "→ Nhiệm vụ"))
        assert any("đã chuyển sang Nhiệm vụ" in m["text"] for m in h.emu.messages(USER) if m["message_id"] == offer["message_id"])
        [fixed] = [t for t in new if "Kết quả nổi bật" in t]
        assert section_of(fixed, TASK) == "Nhiệm vụ thời gian tới"
        # drop the shortcoming, from the fresh summary's buttons
        fresh = h.emu.messages(USER)[-1]
        await h.press(USER, USER, fresh["message_id"], button(fresh, "✏️ Sửa"))
        choose = h.emu.messages(USER)[-1]
        await h.press(USER, USER, choose["message_id"], button(choose, "H1"))
        offer = h.emu.messages(USER)[-1]
        new = await h.press(USER, USER, offer["message_id"], button(offer, "🗑 Bỏ mục này"))
        [fixed] = [t for t in new if "Kết quả nổi bật" in t]
        assert "Tiến độ một số dự án còn chậm" not in fixed and "Báo cáo không nêu hạn chế" in fixed
        assert h.repo is not None
        fixes = await h.repo.corrections(rid, USER)
        assert [(f.kind, f.section, f.value, f.user_id) for f in fixes] == [
            ("move", "results", "tasks", USER), ("drop", "shortcomings", None, USER)
        ]
        shown = "\n".join(await h.ask(USER, USER, f"/report {rid}"))
        assert "Chỉnh sửa của cán bộ" in shown
        assert f"chuyển «{TASK}» từ Kết quả sang Nhiệm vụ" in shown and "bỏ «Tiến độ một số dự án" in shown
        assert section_of(shown, TASK) == "Nhiệm vụ thời gian tới"


async def test_stale_item_button_is_refused(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        rid = await add_summary(h, seed_text(0), sample())
        await h.ask(USER, USER, f"/report {rid}")
        for data in (f"fd:{rid}:h:5", f"fm:{rid}:k:0:k", f"fi:{rid}:x:0", f"fd:{rid + 50}:k:0"):
            await h.press(USER, USER, h.emu.messages(USER)[-1]["message_id"], data)
        assert h.repo is not None
        assert await h.repo.corrections(rid, USER) == []
        alerts = [p for m, p in h.emu.calls if m == "answerCallbackQuery"][-4:]
        assert all(p.get("show_alert") in (True, "true", "True") for p in alerts), alerts


async def test_votes_are_stored_replaced_and_withdrawn(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        rid = await add_summary(h, seed_text(0), sample())
        await h.ask(USER, USER, f"/report {rid}")
        message = h.emu.messages(USER)[-1]
        assert h.repo is not None
        await h.press(USER, USER, message["message_id"], button(message, "👍"))
        assert (await h.repo.feedback(rid, USER)).of(USER) == 1
        await h.press(USER, USER, message["message_id"], button(message, "👎"))
        tally = await h.repo.feedback(rid, USER)
        assert (tally.up, tally.down) == (0, 1)
        await h.press(USER, USER, message["message_id"], f"fb:{rid}:-1")  # same vote again: withdrawn
        assert (await h.repo.feedback(rid, USER)).votes == []
        await h.press(USER, USER, message["message_id"], f"fb:{rid}:1")
        await h.ask(USER, USER, f"/report {rid}")
        assert any(b["text"] == "👍 1" for b in buttons(h.emu.messages(USER)[-1]))


async def test_merge_two_halves_resummarises_one_report(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        text = seed_text(0)
        cut = text.index("\n", len(text) // 2)
        first = await store_report(h, USER, text[:cut])
        second = await store_report(h, USER, text[cut:])
        for bad in ("/merge", f"/merge {first.id}", "/merge a b", f"/merge {first.id} {first.id}"):
            [reply] = await h.ask(USER, USER, bad)
            assert reply.startswith("Cách dùng:") or "chính nó" in reply, bad
        [missing] = await h.ask(USER, USER, f"/merge {first.id} 999")
        assert "Không tìm thấy báo cáo" in missing and "999" in missing
        [other] = await h.ask(OTHER, OTHER, f"/merge {first.id} {second.id}")
        assert "Không tìm thấy báo cáo" in other  # another user's scope sees nothing
        [reply] = await h.ask(USER, USER, f"/merge {first.id} {second.id}")  # the notice heads the brief
        assert reply.startswith(f"Đã ghép báo cáo #{second.id} vào #{first.id}")
        assert "Kết quả nổi bật" in reply and f"Mã báo cáo: #{first.id}" in reply
        assert h.repo is not None
        merged = await h.repo.get_report(USER, first.id)
        assert merged is not None and merged.state == "summarised" and len(merged.text) > len(first.text)
        assert "merge" in [c.kind for c in await h.repo.corrections(first.id, USER)]
        [latest] = await h.ask(USER, USER, "/latest")
        assert f"#{first.id}" in latest and f"#{second.id} " not in latest
        [again] = await h.ask(USER, USER, f"/merge {first.id} {second.id}")
        assert "Không ghép được" in again


async def test_full_summary_paged_and_figures_buttons(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        long = Summary(unit="huyện Gia Lộc", results=[Item(text=f"Kết quả số {i} " + "đạt khá " * 60)
                                                       for i in range(30)],
                       figures=[])
        rid = await add_summary(h, seed_text(0), long)
        await h.ask(USER, USER, f"/report {rid}")
        message = h.emu.messages(USER)[-1]
        [first] = await h.press(USER, USER, message["message_id"], f"sum:{rid}:0")
        assert "Kết quả số 0 " in first and "Kết quả số 29 " not in first
        page = h.emu.messages(USER)[-1]
        [nxt] = [b for b in buttons(page) if b["text"].startswith("Trang sau")]
        await h.press(USER, USER, page["message_id"], nxt["callback_data"])
        edited = h.emu.messages(USER)[-1]
        assert edited["message_id"] == page["message_id"] and "Kết quả số 0 " not in edited["text"]
        [figures] = await h.press(USER, USER, message["message_id"], f"fg:{rid}")
        assert "Số liệu của báo cáo" in figures and "không nêu số liệu" in figures
        await h.press(USER, USER, message["message_id"], f"fg:{rid + 99}")
        answer = [p for m, p in h.emu.calls if m == "answerCallbackQuery"][-1]
        assert "Không tìm thấy báo cáo" in str(answer.get("text")), answer


async def test_word_export_follows_the_corrections(tmp_path: Path) -> None:
    import io

    import docx

    async with BotHarness(tmp_path) as h:
        rid = await add_summary(h, seed_text(0), sample())
        assert h.repo is not None
        await h.repo.add_correction(rid, USER, USER, "drop", section="shortcomings", index=0)
        await h.ask(USER, USER, f"/export {rid}")
        await h.ask(USER, USER, f"/report {rid}")
        await h.press(USER, USER, h.emu.messages(USER)[-1]["message_id"], f"docx:{rid}")
        exported = h.emu.documents(USER)
        assert len(exported) == 2
        for _, content in exported:
            body = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
            assert "Thu ngân sách đạt 312 tỷ đồng" in body and "Tiến độ một số dự án còn chậm" not in body
