"""Access control for every command and button: approval flow, blocked users, the allowlist,
group scopes, and forged/stale callback data from another scope. An unauthorised chat must
never receive report text; asserted on what the emulator recorded for that chat."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.access import MSG_BLOCKED, MSG_PENDING, MSG_PENDING_NEW
from storage import Repository
from tests.bot_harness import ADMIN, OTHER, USER, BotHarness, buttons, seed_text, store_report

MARKER = "MẬTMÃ7731"
SECRET_REPORT = (
    seed_text(0)
    + f"\nKết quả nổi bật: thu ngân sách mã {MARKER} đạt 99,9% dự toán, tăng 15% so với cùng kỳ."
)
STRANGER = 3001
GROUP = -100777


def commands_for(report_id: int, with_report: bool = True) -> list[str]:
    return [
        "/start", "/search gia loc", "/search ngân sách", "/latest", "/latest 3", f"/report {report_id}",
        "/unit gia loc", "/tasks", "/tasks gia loc", "/shortcomings", "/shortcomings gia loc",
        f"/export {report_id}", f"/delete {report_id}", f"/approve {STRANGER}", f"/block {USER}", "/users",
        "/digest", *([SECRET_REPORT[:300]] if with_report else []),
    ]


def button_data(report_id: int, search_key: str) -> list[str]:
    return [
        f"full:{report_id}:0", f"fp:{report_id}:1", f"docx:{report_id}", f"del:{report_id}",
        f"delok:{report_id}", f"delno:{report_id}", f"rep:{report_id}", f"s:{search_key}:0",
        f"s:{search_key}:1", f"appr:{STRANGER}", f"blk:{USER}",
    ]


def leaked(h: BotHarness, chat_id: int, report: Any) -> list[str]:
    """Every piece of report data found in what the chat received (messages, files, toasts)."""
    unit = report.summary.unit if report.summary and report.summary.unit else "huyện Gia Lộc"
    needles = [MARKER, unit, report.text[:60], "Kết quả nổi bật", "99,9%"]
    found = []
    for message in h.emu.messages(chat_id):
        text = (message.get("text") or "") + (message.get("caption") or "")
        found += [n for n in needles if n in text]
    for method, params in h.emu.calls:
        if method == "answerCallbackQuery":
            found += [n for n in needles if n in str(params.get("text", ""))]
    if h.emu.documents(chat_id):
        found.append("a document")
    return found


async def owner_search_key(h: BotHarness) -> str:
    await h.ask(USER, USER, "/search gia loc")
    data = [b["callback_data"] for b in buttons(h.emu.messages(USER)[-1])]
    await store_report(h, USER, seed_text(1))  # more hits, so a second page exists
    return next((d.split(":")[1] for d in data if d.startswith("s:")), "0000000000")


async def attack(h: BotHarness, chat_id: int, user_id: int, report_id: int, key: str, *,
                 with_report: bool = True, **kw: Any) -> None:
    """Every command and every button aimed at `report_id`; unless `with_report` is off (an
    authorised user of another scope would get their own copy summarised), also the report itself."""
    for command in commands_for(report_id, with_report):
        h.emu.send_text(chat_id, user_id, command, **kw)
    for data in button_data(report_id, key):
        h.emu.press_button(chat_id, user_id, 10_000, data)
    # quiet for longer than a private chat's 1 s pace: replies beyond its burst come 1 s apart
    await h.emu.wait_idle(quiet=1.5, timeout=60)


async def assert_untouched(h: BotHarness, report_id: int) -> None:
    assert h.repo is not None
    assert await h.repo.get_report(USER, report_id) is not None
    stranger = await h.repo.get_user(STRANGER)
    assert stranger is None or stranger.role != "member"
    owner = await h.repo.get_user(USER)
    assert owner is not None and owner.role != "blocked"


async def test_approval_mode_pending_user_gets_nothing(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, access="approval") as h:
        await h.repo.ensure_user(USER, "Chủ báo cáo", "member")
        report = await store_report(h, USER, SECRET_REPORT)
        key = await owner_search_key(h)
        await attack(h, STRANGER, STRANGER, report.id, key)
        assert leaked(h, STRANGER, report) == []
        texts = h.texts(STRANGER)
        # one notice for the whole attack (at most one per 10 minutes), every button answered
        assert len(texts) == 1 and "chờ quản trị viên duyệt" in texts[0]
        answered = [p for m, p in h.emu.calls if m == "answerCallbackQuery"]
        assert len(answered) >= len(button_data(report.id, key))
        assert await h.repo.latest(STRANGER, 5) == []  # nothing stored from the pending user
        await assert_untouched(h, report.id)


async def test_approval_flow_admin_buttons(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, access="approval") as h:
        [notice] = await h.ask(STRANGER, STRANGER, "/start", first_name="Lê Thị C")
        assert "chờ quản trị viên duyệt" in notice
        [request] = [m for m in h.emu.messages(ADMIN) if "Người dùng mới" in m["text"]]
        assert "Lê Thị C" in request["text"] and str(STRANGER) in request["text"]
        data = {b["text"]: b["callback_data"] for b in buttons(request)}
        assert set(data) == {"✅ Duyệt", "⛔ Chặn"}
        # a second message does not notify admins again, nor get a second notice so soon
        assert await h.ask(STRANGER, STRANGER, "/latest", expect=0) == []
        assert len([m for m in h.emu.messages(ADMIN) if "Người dùng mới" in m["text"]]) == 1
        # a non-admin pressing the admin's button changes nothing
        await h.repo.ensure_user(USER, None, "member")
        await h.press(USER, USER, 10_000, data["✅ Duyệt"])
        assert (await h.repo.get_user(STRANGER)).role == "pending"
        await h.press(ADMIN, ADMIN, request["message_id"], data["✅ Duyệt"])
        assert (await h.repo.get_user(STRANGER)).role == "member"
        assert "Đã duyệt" in h.emu.messages(ADMIN)[-1]["text"]
        assert any("đã được duyệt" in t for t in h.texts(STRANGER))
        await h.submit(STRANGER, STRANGER, seed_text(2))
        assert len(await h.repo.latest(STRANGER, 5)) == 1


async def test_blocked_user_gets_nothing(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, access="open") as h:
        report = await store_report(h, USER, SECRET_REPORT)
        key = await owner_search_key(h)
        [done] = await h.ask(ADMIN, ADMIN, f"/block {STRANGER}")
        assert "Đã chặn" in done
        await attack(h, STRANGER, STRANGER, report.id, key)
        assert leaked(h, STRANGER, report) == []
        assert "bị khóa" in h.texts(STRANGER)[0]
        await assert_untouched(h, report.id)
        assert (await h.repo.get_user(STRANGER)).role == "blocked"


async def test_allowlist_mode(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, access="allowlist", allowed=[USER, GROUP]) as h:
        report = await store_report(h, USER, SECRET_REPORT)
        key = await owner_search_key(h)
        await attack(h, STRANGER, STRANGER, report.id, key)
        assert leaked(h, STRANGER, report) == []
        assert "chưa được mở" in h.texts(STRANGER)[0]
        await assert_untouched(h, report.id)
        # a listed user works; so does anyone in a listed group, with the group as the scope
        [latest] = await h.ask(USER, USER, "/latest")
        assert f"#{report.id}" in latest
        await h.submit(GROUP, STRANGER, seed_text(3), chat_type="group")
        [group_report] = await h.repo.latest(GROUP, 5)
        assert group_report.scope == GROUP and group_report.user_id == STRANGER


async def test_other_scope_member_cannot_reach_report(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, access="open") as h:
        report = await store_report(h, USER, SECRET_REPORT)
        key = await owner_search_key(h)
        await attack(h, OTHER, OTHER, report.id, key, with_report=False)
        assert leaked(h, OTHER, report) == []
        texts = h.texts(OTHER)
        assert any(t.startswith(f"Không tìm thấy báo cáo #{report.id}") for t in texts)
        assert any("Chưa có báo cáo nào" in t for t in texts)
        assert any("chỉ dành cho quản trị viên" in t for t in texts)
        answers = [p.get("text", "") for m, p in h.emu.calls if m == "answerCallbackQuery"]
        assert any("hết hạn" in a for a in answers)  # another scope's search key shows nothing
        await assert_untouched(h, report.id)


async def test_group_is_the_scope_and_delete_needs_owner_or_admin(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, access="open") as h:
        message = await h.submit(GROUP, USER, seed_text(0), chat_type="group")
        [report] = await h.repo.latest(GROUP, 1)
        assert report.scope == GROUP
        # another member of the group reads it; the same person in a private chat does not
        [in_group] = await h.ask(GROUP, OTHER, "/latest", chat_type="group")
        assert f"#{report.id}" in in_group
        [private] = await h.ask(OTHER, OTHER, "/latest")
        assert "Chưa có báo cáo" in private
        # only the sender or an admin may delete
        [refused] = await h.ask(GROUP, OTHER, f"/delete {report.id}", chat_type="group")
        assert "Chỉ người gửi" in refused
        await h.press(GROUP, OTHER, message["message_id"], f"delok:{report.id}")
        assert await h.repo.get_report(GROUP, report.id) is not None
        [asked] = await h.ask(GROUP, ADMIN, f"/delete {report.id}", chat_type="group")
        assert "Xóa báo cáo" in asked
        await h.press(GROUP, ADMIN, h.emu.messages(GROUP)[-1]["message_id"], f"delok:{report.id}")
        assert await h.repo.get_report(GROUP, report.id) is None


async def test_admin_commands(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, access="approval") as h:
        await h.ask(STRANGER, STRANGER, "/start", first_name="Phạm D")
        [users] = await h.ask(ADMIN, ADMIN, "/users")
        assert "Chờ duyệt" in users and str(STRANGER) in users and "Quản trị viên" in users
        for bad in ("/approve", "/approve abc", "/block", "/block 1 2", "/users extra"):
            [reply] = await h.ask(ADMIN, ADMIN, bad)
            assert reply.startswith("Cách dùng:"), bad
        [self_block] = await h.ask(ADMIN, ADMIN, f"/block {ADMIN}")
        assert "Không thể chặn" in self_block
        [ok] = await h.ask(ADMIN, ADMIN, f"/approve {STRANGER}")
        assert "Đã duyệt" in ok
        [not_admin] = await h.ask(STRANGER, STRANGER, "/users")
        assert "chỉ dành cho quản trị viên" in not_admin
        [again] = await h.ask(ADMIN, ADMIN, f"/block {STRANGER}")
        assert "Đã chặn" in again
        assert (await h.repo.get_user(STRANGER)).role == "blocked"


async def test_known_users_refreshed_only_when_something_changed(tmp_path: Path) -> None:
    """Known users are read, not rewritten, on every update; a new name, an allowlisted pending
    user and a configured admin stored with another role are still brought up to date."""
    async with BotHarness(tmp_path, access="allowlist", allowed=[USER]) as h:
        await h.repo.ensure_user(USER, None, "pending")
        await h.repo.ensure_user(ADMIN, None, "member")
        await h.ask(USER, USER, "/latest", first_name="Nguyễn Văn A")
        user = await h.repo.get_user(USER)
        assert (user.role, user.display_name) == ("member", "Nguyễn Văn A")
        await h.ask(USER, USER, "/latest", first_name="Trần Thị B")
        assert (await h.repo.get_user(USER)).display_name == "Trần Thị B"
        [users] = await h.ask(ADMIN, ADMIN, "/users")
        assert "Quản trị viên" in users
        assert (await h.repo.get_user(ADMIN)).role == "admin"
        await h.repo.set_role(USER, "blocked")  # a block takes effect on the very next update
        [refused] = await h.ask(USER, USER, "/latest", first_name="Trần Thị B")
        assert "bị khóa" in refused


async def test_a_pending_user_flooding_the_bot_gets_one_reply_across_restarts(tmp_path: Path) -> None:
    """Defect 6: 600 messages from an unapproved user got 600 replies, and an approved user's
    /help waited 18 s behind them. Now one reply per 10 minutes, remembered across a restart."""
    repo = await Repository.open(tmp_path / "bot.sqlite3")
    try:
        async with BotHarness(tmp_path, access="approval", repo=repo) as h:
            await repo.ensure_user(USER, "Đã duyệt", "member")
            for i in range(600):
                h.emu.send_text(STRANGER, STRANGER, "/latest" if i % 2 else f"báo cáo số {i}")
            loop = asyncio.get_running_loop()
            asked = loop.time()
            help_reply = await h.ask(USER, USER, "/help")
            waited = loop.time() - asked
            await h.emu.wait_idle(quiet=0.5, timeout=120)
            assert help_reply and waited < 20  # answered meanwhile (the reliability suite times it)
            assert h.texts(STRANGER) == [MSG_PENDING_NEW]
            notices = [m for m in h.emu.messages(ADMIN) if "Người dùng mới" in m["text"]]
            assert len(notices) == 1
        async with BotHarness(tmp_path, access="approval", repo=repo) as h:  # a restart
            assert await h.ask(STRANGER, STRANGER, "/latest", expect=0) == []
            assert h.texts(STRANGER) == []
        # ten minutes later (the stored time moved back), one more notice
        await set_refused_at(tmp_path / "bot.sqlite3", STRANGER, datetime.now(UTC) - timedelta(minutes=11))
        async with BotHarness(tmp_path, access="approval", repo=repo) as h:
            assert await h.ask(STRANGER, STRANGER, "/latest") == [MSG_PENDING]
            assert await h.ask(STRANGER, STRANGER, "/latest", expect=0) == []
    finally:
        await repo.close()


async def set_refused_at(path: Path, target: int, when: datetime) -> None:
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE refusals SET replied_at = ? WHERE target_id = ?",
            (when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), target),
        )


async def test_a_blocked_user_is_told_once_but_every_button_press_is_answered(tmp_path: Path) -> None:
    async with BotHarness(tmp_path, access="open") as h:
        await h.repo.ensure_user(STRANGER, "x", "member")
        await h.repo.set_role(STRANGER, "blocked")
        for _ in range(20):
            h.emu.send_text(STRANGER, STRANGER, "/latest")
        for _ in range(5):
            h.emu.press_button(STRANGER, STRANGER, 10_000, "rep:1")
        await h.emu.wait_idle(quiet=0.5, timeout=30)
        assert h.texts(STRANGER) == [MSG_BLOCKED]
        toasts = [p for m, p in h.emu.calls if m == "answerCallbackQuery"]
        assert len(toasts) == 5 and all("bị khóa" in str(p.get("text")) for p in toasts)


async def test_an_approved_group_is_a_shared_room_its_members_private_chats_stay_closed(tmp_path: Path) -> None:
    """Decided (issue 13, defect 12): approving a group lets everyone in it use the bot there, in
    the group's scope, pending members included. Everything the bot sends for a group command goes
    to the group itself, which they all read anyway; Word exports too. The same pending person in
    a private chat is refused and sees none of the group's reports."""
    async with BotHarness(tmp_path, access="approval") as h:
        await h.ask(GROUP, STRANGER, "/latest", chat_type="group")  # not let in yet: one refusal
        assert h.repo is not None and await h.repo.latest(GROUP, 5) == []
        [ok] = await h.ask(ADMIN, ADMIN, f"/approve {GROUP}")
        assert str(GROUP) in ok
        await h.submit(GROUP, STRANGER, SECRET_REPORT, chat_type="group")
        [report] = await h.repo.latest(GROUP, 5)
        assert report.scope == GROUP and (await h.repo.get_user(STRANGER)).role == "pending"  # type: ignore[union-attr]
        [listed] = await h.ask(GROUP, STRANGER, "/latest", chat_type="group")
        assert f"#{report.id}" in listed
        before = len(h.emu.documents(GROUP))
        await h.ask(GROUP, STRANGER, f"/export {report.id}", chat_type="group")
        await h.emu.wait_idle(quiet=0.5, timeout=20)
        assert len(h.emu.documents(GROUP)) == before + 1  # the Word file went to the group
        await attack(h, STRANGER, STRANGER, report.id, "k")  # the same person, privately
        assert leaked(h, STRANGER, report) == []
        assert h.emu.documents(STRANGER) == []
