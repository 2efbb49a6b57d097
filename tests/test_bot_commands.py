"""Every command with good and bad arguments, the command menu, and the report buttons."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import docx

from storage import NewReport
from summariser import clean_text
from summariser.models import Figure, Item, Summary
from tests.bot_harness import ADMIN, USER, BotHarness, buttons, seed_text, store_report

USAGE = "Cách dùng:"


async def add_summarised(h: BotHarness, scope: int, text: str, summary: Summary, user_id: int | None = None) -> int:
    """A stored report with a known summary, so the lookups' grouping and rendering can be checked."""
    assert h.repo is not None
    report, _ = await h.repo.add_report(
        NewReport(scope=scope, chat_id=scope, user_id=user_id or scope, text=clean_text(text))
    )
    await h.repo.save_summary(report.id, summary)
    return report.id


def gia_loc(day: int, revenue: str, task: str, shortcoming: str) -> Summary:
    return Summary(
        unit="huyện Gia Lộc",
        date=date(2024, day, 5),
        period=f"tháng {day} năm 2024",
        results=[Item(text=f"Thu ngân sách đạt {revenue}")],
        shortcomings=[Item(text=shortcoming)],
        tasks=[Item(text=task)],
        figures=[Figure(text=revenue, label="thu ngân sách", section="results")],
    )


async def test_command_menu_registered_in_vietnamese(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        [params] = [p for m, p in h.emu.calls if m == "setMyCommands"]
        commands = {c["command"]: c["description"] for c in params["commands"]}
        for name in ("start", "help", "search", "latest", "report", "unit", "tasks", "shortcomings",
                     "export", "delete", "approve", "block", "users"):
            assert name in commands
        assert commands["search"] == "Tìm báo cáo theo từ khóa"
        assert commands["shortcomings"] == "Hạn chế, tồn tại"


async def test_command_menu_failure_is_not_fatal(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, start=False) as h:
        h.emu.fail_next("setMyCommands", 500)
        await h.start_app()
        replies = await h.ask(USER, USER, "/help")
        assert "/search" in replies[0]


async def test_start_help_and_unknown_command(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        [start] = await h.ask(USER, USER, "/start")
        assert "Xin chào" in start and "/latest" in start
        [help_text] = await h.ask(USER, USER, "/help")
        assert "/search <từ khóa>" in help_text and "/approve" not in help_text
        [admin_help] = await h.ask(ADMIN, ADMIN, "/help")
        assert "/approve" in admin_help and "/users" in admin_help
        [unknown] = await h.ask(USER, USER, "/khonglenhnay abc")
        assert "/help" in unknown


async def test_search_with_and_without_diacritics(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        for i in range(5):
            await store_report(h, USER, seed_text(i))
        [with_marks] = await h.ask(USER, USER, "/search giải phóng mặt bằng")
        [without] = await h.ask(USER, USER, "/search giai phong mat bang")
        # three reports write the phrase, a fourth only "GPMB" (found through the abbreviation table)
        assert "4 báo cáo" in with_marks and "4 báo cáo" in without
        raw = h.emu.messages(USER)[-1]["_raw_text"]
        assert "<b>" in raw  # the matched words in bold
        ids = [b["callback_data"] for b in buttons(h.emu.messages(USER)[-1]) if b["callback_data"].startswith("rep:")]
        assert len(ids) == 4
        # a hit button opens that report's summary
        opened = await h.press(USER, USER, h.emu.messages(USER)[-1]["message_id"], ids[0])
        assert any("Kết quả nổi bật" in t for t in opened)


async def test_search_paging_and_bad_input(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        for i in range(7):
            await store_report(h, USER, seed_text(i % 5) + f"\nPhụ lục số {i}: kế hoạch đầu tư công năm 2024.")
        [first] = await h.ask(USER, USER, "/search đầu tư công")
        assert "7 báo cáo" in first and "trang 1/2" in first
        message = h.emu.messages(USER)[-1]
        [nxt] = [b for b in buttons(message) if b["text"].startswith("Trang sau")]
        await h.press(USER, USER, message["message_id"], nxt["callback_data"])
        edited = h.emu.messages(USER)[-1]
        assert edited["message_id"] == message["message_id"] and "trang 2/2" in edited["text"]
        assert "6." in edited["text"] and "7." in edited["text"]
        [usage] = await h.ask(USER, USER, "/search")
        assert usage.startswith(USAGE)
        [odd] = await h.ask(USER, USER, '/search "giải-phóng" AND (OR* NEAR')
        assert "Không tìm thấy" in odd or "báo cáo" in odd
        [none] = await h.ask(USER, USER, "/search xyzabcqwe")
        assert "Không tìm thấy báo cáo nào khớp «xyzabcqwe»" in none


async def test_latest_good_and_bad_arguments(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        [empty] = await h.ask(USER, USER, "/latest")
        assert "Chưa có báo cáo" in empty
        ids = [(await store_report(h, USER, seed_text(i))).id for i in range(3)]
        [three] = await h.ask(USER, USER, "/latest")
        assert all(f"#{i}" in three for i in ids)
        [two] = await h.ask(USER, USER, "/latest 2")
        assert f"#{ids[2]}" in two and f"#{ids[1]}" in two and f"#{ids[0]}" not in two
        for bad in ("/latest abc", "/latest 0", "/latest 100", "/latest 1 2", "/latest -3"):
            [reply] = await h.ask(USER, USER, bad)
            assert reply.startswith(USAGE), bad


async def test_report_good_and_bad_arguments(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        report = await store_report(h, USER, seed_text(0))
        shown = await h.ask(USER, USER, f"/report {report.id}")
        assert any("Kết quả nổi bật" in t and f"#{report.id}" in t for t in shown)
        shown = await h.ask(USER, USER, f"/report #{report.id}")
        assert any(f"#{report.id}" in t for t in shown)
        for bad in ("/report", "/report abc", "/report 1 2", "/report -1"):
            [reply] = await h.ask(USER, USER, bad)
            assert reply.startswith(USAGE), bad
        for missing in ("/report 999", "/report 99999999999999999999999"):
            [reply] = await h.ask(USER, USER, missing)
            assert reply.startswith("Không tìm thấy báo cáo"), missing


async def test_unit_reports_and_figures_over_time(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        a = await add_summarised(h, USER, seed_text(0), gia_loc(3, "1.200 tỷ đồng", "Làm đường", "Chậm GPMB"))
        b = await add_summarised(h, USER, seed_text(1), gia_loc(6, "2.450 tỷ đồng", "Xây trường", "Thiếu vốn"))
        await add_summarised(h, USER, seed_text(2), Summary(unit="huyện Chi Lăng"))
        replies = await h.ask(USER, USER, "/unit gia loc")
        text = "\n".join(replies)
        assert "huyện Gia Lộc" in text and "2 báo cáo" in text and "Chi Lăng" not in text
        assert "Số liệu qua các kỳ" in text
        # chronological: March before June, each figure with its label and report id
        assert text.index("1.200 tỷ đồng") < text.index("2.450 tỷ đồng")
        assert "thu ngân sách: 1.200 tỷ đồng" in text and f"#{a}" in text and f"#{b}" in text
        assert "<b>2.450 tỷ đồng</b>" in h.emu.messages(USER)[-1]["_raw_text"]
        [usage] = await h.ask(USER, USER, "/unit")
        assert usage.startswith(USAGE)
        [none] = await h.ask(USER, USER, "/unit Hoàng Sa")
        assert "Không tìm thấy báo cáo nào của đơn vị «Hoàng Sa»" in none


async def test_tasks_and_shortcomings_grouped_by_unit(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        [empty] = await h.ask(USER, USER, "/tasks")
        assert "Chưa có nhiệm vụ" in empty
        a = await add_summarised(h, USER, seed_text(0), gia_loc(3, "1 tỷ đồng", "Làm đường liên xã", "Chậm GPMB"))
        b = await add_summarised(
            h, USER, seed_text(2),
            Summary(unit="huyện Chi Lăng", tasks=[Item(text="Trồng rừng <mới>")],
                    shortcomings=[Item(text="Thu ngân sách thấp")]),
        )
        [tasks] = await h.ask(USER, USER, "/tasks")
        assert "huyện Gia Lộc\n• Làm đường liên xã #" + str(a) in tasks
        assert "huyện Chi Lăng\n• Trồng rừng <mới> #" + str(b) in tasks
        assert "&lt;mới&gt;" in h.emu.messages(USER)[-1]["_raw_text"]
        [short] = await h.ask(USER, USER, "/shortcomings")
        assert f"Chậm GPMB #{a}" in short and f"Thu ngân sách thấp #{b}" in short
        [only] = await h.ask(USER, USER, "/shortcomings chi lang")
        assert "Thu ngân sách thấp" in only and "Chậm GPMB" not in only
        [none] = await h.ask(USER, USER, "/tasks Hoàng Sa")
        assert "Chưa có nhiệm vụ" in none and "Hoàng Sa" in none


async def test_export_good_and_bad_arguments(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        rid = await add_summarised(h, USER, seed_text(0), gia_loc(3, "1.200 tỷ đồng", "Làm đường", "Chậm GPMB"))
        await h.ask(USER, USER, f"/export {rid}")
        [(name, content)] = h.emu.documents(USER)
        assert name == f"bao-cao-tom-tat-{rid}.docx"
        body = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
        assert "BÁO CÁO TÓM TẮT" in body and "Thu ngân sách đạt 1.200 tỷ đồng" in body and "Làm đường" in body
        for bad in ("/export", "/export x1", "/export 1 2"):
            [reply] = await h.ask(USER, USER, bad)
            assert reply.startswith(USAGE), bad
        [missing] = await h.ask(USER, USER, "/export 4242")
        assert missing.startswith("Không tìm thấy")
        assert len(h.emu.documents(USER)) == 1


async def test_delete_with_confirmation_and_bad_arguments(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        report = await store_report(h, USER, seed_text(0))
        for bad in ("/delete", "/delete abc"):
            [reply] = await h.ask(USER, USER, bad)
            assert reply.startswith(USAGE), bad
        [missing] = await h.ask(USER, USER, "/delete 777")
        assert missing.startswith("Không tìm thấy")
        [question] = await h.ask(USER, USER, f"/delete {report.id}")
        assert "Xóa báo cáo" in question
        confirm = h.emu.messages(USER)[-1]
        labels = {b["text"]: b["callback_data"] for b in buttons(confirm)}
        await h.press(USER, USER, confirm["message_id"], labels["Hủy"])
        assert await h.repo.get_report(USER, report.id) is not None
        await h.press(USER, USER, confirm["message_id"], labels["Xóa hẳn"])
        assert await h.repo.get_report(USER, report.id) is None
        assert "Đã xóa báo cáo" in h.emu.messages(USER)[-1]["text"]
        [gone] = await h.ask(USER, USER, f"/report {report.id}")
        assert gone.startswith("Không tìm thấy")


async def test_full_text_button_pages_by_editing(tmp_path: Path) -> None:
    long_text = "\n".join(seed_text(i) for i in range(5))  # ~27,000 characters
    async with BotHarness(tmp_path) as h:
        message = await h.submit(USER, USER, long_text)
        [report] = await h.repo.latest(USER, 1)
        await h.press(USER, USER, message["message_id"], f"full:{report.id}:0")
        page = h.emu.messages(USER)[-1]
        assert "trang 1/" in page["text"]
        total = int(page["text"].split("trang 1/")[1].split()[0])
        assert total >= 8
        seen = [page["text"]]
        for _ in range(total - 1):
            [nxt] = [b for b in buttons(h.emu.messages(USER)[-1]) if b["text"].startswith("Trang sau")]
            await h.press(USER, USER, page["message_id"], nxt["callback_data"])
            edited = h.emu.messages(USER)[-1]
            assert edited["message_id"] == page["message_id"]
            seen.append(edited["text"])
        assert f"trang {total}/{total}" in seen[-1]
        assert not [b for b in buttons(h.emu.messages(USER)[-1]) if b["text"].startswith("Trang sau")]
        body = " ".join(t.split("\n\n", 1)[1] for t in seen)
        assert body.split() == report.text.split()  # every word of the cleaned text, in order


async def test_word_and_delete_buttons(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        message = await h.submit(USER, USER, seed_text(0))
        data = {b["text"]: b["callback_data"] for b in buttons(message)}
        await h.press(USER, USER, message["message_id"], data["📝 Word"])
        [(name, content)] = h.emu.documents(USER)
        assert name.endswith(".docx") and content[:2] == b"PK"
        await h.press(USER, USER, message["message_id"], data["🗑 Xóa"])
        confirm = h.emu.messages(USER)[-1]
        [ok] = [b["callback_data"] for b in buttons(confirm) if b["text"] == "Xóa hẳn"]
        await h.press(USER, USER, confirm["message_id"], ok)
        assert await h.repo.latest(USER, 5) == []
        # pressing the old summary's buttons now shows nothing
        before = len(h.emu.messages(USER))
        await h.press(USER, USER, message["message_id"], data["📜 Văn bản gốc"])
        assert len(h.emu.messages(USER)) == before
        answers = [p for m, p in h.emu.calls if m == "answerCallbackQuery"]
        assert "Không tìm thấy báo cáo" in answers[-1].get("text", "")
