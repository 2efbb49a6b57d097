"""Two bot replicas in webhook mode on one PostgreSQL database, one of them SIGKILLed half-way.

The emulator stands for Telegram's Bot API (the replicas send their replies to it); this script
stands for Telegram's webhook delivery and for the reverse proxy: it POSTs every update to the
replicas round robin, and an update a replica did not answer with 200 (refused connection,
reset, 5xx) goes to the other one, again and again until one takes it, as Telegram retries and
Caddy fails over.

Part 1, reports: `--users` x `--reports`; half-way through, replica 1 is SIGKILLed (no clean-up
at all) and restarted `--down` seconds later. Checked: every report stored once (0 lost, 0
duplicated: rows per text in the database), every user answered with a summary of each report,
how many briefs went out twice, how many POSTs needed a retry.

Part 2, split pastes (`--pastes`, 0 skips it): that many users each send a report over 4,096
characters as a client sends it (cut at the last space before 4,096 UTF-16 units: 2 or 3
pieces), piece i of user u POSTed to replica (u + i) % 2, so consecutive pieces always reach
different replicas. Checked: reports stored per paste (must be 1), first replies edited into
the answer to the joined report, pieces lost (not in the paste's stored report).

Part 3, a digest (`--subscribers`, 0 skips it): both replicas restarted with that many daily
digests due; the leader (replica 1, holding the advisory lock) is SIGKILLed once `--digest-kill`
of them are sent, while users keep sending reports to both replicas. Checked: 0 digests sent
twice, the rest sent by the new leader (how long after the kill), chats left without one.

Both parts: the most Bot API calls with a chat_id (what Telegram's ~30 msg/s counts) the
emulator received within any 1 s, over both replicas together. Usage:
  .venv/bin/python bench/replicas.py [--users 50] [--reports 10] [--subscribers 1000] [--pg ADMIN_URL]
Without --pg a throw-away local cluster (storage.local_pg) is started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from bench.reliability import make_due_digests  # noqa: E402  (Repository.open takes a URL too)
from bot.emulator import BotAPIEmulator  # noqa: E402
from storage import local_pg  # noqa: E402

SECRET = "bench-replicas-secret"
SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fresh_database(admin_url: str, name: str) -> str:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


class Replica:
    def __init__(self, index: int, emu: BotAPIEmulator, url: str, workdir: Path, log_level: str = "WARNING",
                 merge_window: float = 2.0) -> None:
        self.index = index
        self.port = free_port()
        self.workdir = workdir / f"replica{index}"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        self.env.update(
            PYTHONPATH=str(ROOT), BOT_TOKEN=emu.token, BOT_API_BASE_URL=emu.base_url,
            BOT_API_FILE_URL=emu.base_file_url, BOT_ACCESS="open", BOT_DATABASE=url,
            BOT_WEBHOOK_URL=f"http://127.0.0.1:{self.port}/hook", BOT_WEBHOOK_LISTEN=f"127.0.0.1:{self.port}",
            BOT_WEBHOOK_SECRET=SECRET, BOT_MERGE_WINDOW=f"{merge_window:g}", BOT_LOG_LEVEL=log_level,
            BOT_REPLICA_NAME=f"replica{index}",
        )
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        log = open(self.workdir / f"log{self.starts}.txt", "wb")  # noqa: SIM115 (the child keeps it)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.workdir, env=self.env, stdin=asyncio.subprocess.DEVNULL,
            stdout=log, stderr=log,
        )

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 60) -> None:
        """Up when a POST without the secret gets its 403."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.post(f"http://127.0.0.1:{self.port}/hook", json={}) as r:
                    if r.status == 403:
                        return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"replica {self.index} did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def deliver(session: aiohttp.ClientSession, replicas: list[Replica], update: dict, first: int,
                  stats: Counter[str]) -> None:
    """Telegram + the proxy: POST until a replica answers 200, starting with `first`."""
    attempt = 0
    while True:
        replica = replicas[(first + attempt) % len(replicas)]
        try:
            async with session.post(
                f"http://127.0.0.1:{replica.port}/hook", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=aiohttp.ClientTimeout(total=30),
            ) as r:
                if r.status == 200:
                    stats["delivered"] += 1
                    return
                stats[f"http {r.status}"] += 1
        except (aiohttp.ClientError, OSError, TimeoutError):
            stats["refused/reset"] += 1
        attempt += 1
        stats["retries"] += 1
        await asyncio.sleep(min(1.0, 0.05 * attempt))


def report_text(user: int, n: int, chat0: int = 10_000) -> str:
    return f"{SEEDS[(user + n) % len(SEEDS)]}\n\nBáo cáo số {n + 1} của đơn vị {chat0 + user} (mã {chat0 * 100 + user * 1000 + n})."


def report_code(user: int, n: int, chat0: int = 10_000) -> int:
    return chat0 * 100 + user * 1000 + n


def quiet_for(emu: BotAPIEmulator) -> float:
    """Seconds since the replicas' last Bot API call (the emulator's own quiet_for and wait_idle
    also wait for getUpdates to fetch every update, which webhook mode never does)."""
    return time.monotonic() - (emu.call_times[-1][0] if emu.call_times else 0.0)


async def quiet(emu: BotAPIEmulator, seconds: float, timeout: float) -> None:
    """Until the replicas made no Bot API call for `seconds`, or `timeout`."""
    deadline = time.monotonic() + timeout
    while quiet_for(emu) < seconds and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


def briefs(emu: BotAPIEmulator, chat: int) -> Counter[int]:
    """Report id -> how many briefs (messages with the report's Word button) the chat got."""
    found: Counter[int] = Counter()
    for m in emu.messages(chat):
        for row in (m.get("reply_markup") or {}).get("inline_keyboard", []):
            for b in row:
                hit = re.fullmatch(r"docx:(\d+)", b.get("callback_data", ""))
                if hit:
                    found[int(hit.group(1))] += 1
    return found


@dataclass
class Result:
    """What a part measured; `ok` whether it met the issue's targets."""

    lines: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    ok: bool = True

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)


async def send_reports(emu: BotAPIEmulator, session: aiohttp.ClientSession, replicas: list[Replica],
                       users: int, reports: int, stats: Counter[str], *, chat0: int, patience: float,
                       on_sent: Any = None) -> None:
    """Each user sends its reports one after the other, the next once the last is answered (or
    after `patience` s, as people do)."""
    sent = 0

    async def user(u: int) -> None:
        nonlocal sent
        chat = chat0 + u
        for n in range(reports):
            update = emu.send_text(chat, chat, report_text(u, n, chat0))
            await deliver(session, replicas, update, update["update_id"] % len(replicas), stats)
            sent += 1
            if on_sent is not None:
                on_sent(sent)
            with contextlib.suppress(TimeoutError):
                await emu.wait_for_messages(chat, n + 1, timeout=patience)

    await asyncio.gather(*(user(u) for u in range(users)))


async def check_reports(emu: BotAPIEmulator, url: str, users: int, reports: int, *, chat0: int,
                        settle: float) -> tuple[int, int, int, int, int, dict[int, Counter[int]]]:
    """(lost, duplicated, users not answered for every report, briefs sent twice, inbox rows
    left 'new', briefs per user), once every user is answered or after `settle` s."""
    deadline = time.monotonic() + settle
    answered: dict[int, Counter[int]] = {}
    while True:
        answered = {u: briefs(emu, chat0 + u) for u in range(users)}
        if all(len(ids) >= reports for ids in answered.values()) or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.5)
    await quiet(emu, 2.0, timeout=30)  # late duplicates would come now
    answered = {u: briefs(emu, chat0 + u) for u in range(users)}
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT text FROM reports WHERE chat_id >= $1 AND chat_id < $2", chat0, chat0 + users)
        inbox_left = await conn.fetchval("SELECT count(*) FROM inbox WHERE state = 'new'")
    finally:
        await conn.close()
    # each text ends with its own code (the stored text is the cleaned one, not byte-equal)
    expected = {report_code(u, n, chat0) for u in range(users) for n in range(reports)}
    stored = Counter(int(m.group(1)) for r in rows for m in [re.search(r"\(mã (\d+)\)", r["text"])] if m)
    lost = len(expected - set(stored))
    duplicated = sum(c - 1 for c in stored.values() if c > 1)
    unanswered = sum(1 for ids in answered.values() if len(ids) < reports)
    twice = sum(c - 1 for ids in answered.values() for c in ids.values() if c > 1)
    return lost, duplicated, unanswered, twice, int(inbox_left), answered


async def reports_part(emu: BotAPIEmulator, session: aiohttp.ClientSession, replicas: list[Replica], url: str,
                       args: argparse.Namespace) -> Result:
    result = Result()
    stats: Counter[str] = Counter()
    total = args.users * args.reports
    kill_at = int(total * args.kill_after)
    t0 = time.monotonic()
    restart: list[asyncio.Task[None]] = []
    calls_before = len(emu.call_times)

    async def restart_later() -> None:
        await asyncio.sleep(args.down)
        await replicas[0].start()
        await replicas[0].ready(session)
        result.say(f"replica 1 back after {time.monotonic() - t0:.1f} s")

    def on_sent(sent: int) -> None:
        if sent == kill_at:
            replicas[0].kill()
            result.say(f"replica 1 SIGKILLed after {sent} reports ({time.monotonic() - t0:.1f} s)")
            restart.append(asyncio.create_task(restart_later()))

    await send_reports(emu, session, replicas, args.users, args.reports, stats, chat0=10_000,
                       patience=args.patience, on_sent=on_sent)
    for task in restart:
        await task
    lost, duplicated, unanswered, twice, inbox_left, answered = await check_reports(
        emu, url, args.users, args.reports, chat0=10_000, settle=args.settle)
    elapsed = time.monotonic() - t0
    peak = emu.max_rate(since=calls_before)
    result.say(f"{total} reports from {args.users} users in {elapsed:.1f} s; POSTs: {dict(stats)}")
    result.say(f"stored {total - lost + duplicated}; lost {lost}; duplicated {duplicated}; users not answered for "
               f"every report {unanswered}; briefs sent twice {twice}; inbox rows left 'new' {inbox_left}")
    result.say(f"most Bot API calls with a chat_id in any 1 s, both replicas: {peak} ({busiest(emu, calls_before)})")
    for u, ids in answered.items():
        if len(ids) < args.reports:
            texts = [(m.get("text") or "")[:70].replace("\n", " ") for m in emu.messages(10_000 + u)]
            result.say(f"  user {u}: {len(ids)} summaries; the bot's messages: {texts}")
    result.figures.update(lost=lost, duplicated=duplicated, unanswered=unanswered, twice=twice, peak=peak)
    result.ok = lost == 0 and duplicated == 0 and unanswered == 0 and peak <= 30
    return result


UNITS = ("Gia Xuyên", "Yết Kiêu", "Thống Nhất", "Đức Xương", "Hoàng Diệu", "Quang Minh", "Phạm Trấn", "Nhật Tân",
         "Toàn Thắng", "Lê Lợi", "Hồng Hưng", "Đoàn Thượng", "Tân Tiến", "Gia Khánh", "Gia Tân", "Liên Hồng")


def paste_text(user: int, units: int) -> str:
    """An official report of `units` communes (a paragraph of ~600 characters each) with its header
    block, unique to `user`: 8 units make ~5,000 characters (2 pieces), 16 ~9,700 (3 pieces)."""
    def paragraph(k: int) -> str:
        i = user * 17 + k
        return (f"{k + 1}. Xã {UNITS[k % len(UNITS)]}: tổng giá trị sản xuất đạt {120 + 7 * i}.{100 + 13 * k} triệu "
                f"đồng, tăng {5 + i % 4},{i % 10}% so với cùng kỳ; thu ngân sách đạt {30 + i},{k % 9} tỷ đồng, bằng "
                f"{60 + i % 30}% dự toán; giải ngân vốn đầu tư công đạt {70 + i % 25}% kế hoạch; hoàn thành "
                f"{2 + i % 5} công trình nông thôn mới kiểu mẫu. Hạn chế: tiến độ giải phóng mặt bằng dự án đường "
                f"trục xã còn chậm, còn {3 + i % 6} hộ chưa bàn giao mặt bằng. Nhiệm vụ thời gian tới: hoàn thành "
                f"{95 + i % 5}% kế hoạch thu ngân sách và bàn giao mặt bằng trước ngày {10 + i % 18}/{8 + i % 4}; "
                f"công tác xây dựng Đảng: kết nạp {4 + i % 7} đảng viên mới, giải quyết việc làm cho {150 + 11 * i} "
                f"lao động; quốc phòng - an ninh được giữ vững với {12 + i % 8} thanh niên nhập ngũ.")

    return (f"ĐẢNG BỘ HUYỆN GIA LỘC\nHUYỆN ỦY\nSố {200 + user}-BC/HU\nGia Lộc, ngày 05 tháng 10 năm 2024\nBÁO CÁO\n"
            f"Kết quả thực hiện nhiệm vụ chín tháng đầu năm 2024 (cụm xã số {user + 1})\nI. KẾT QUẢ ĐẠT ĐƯỢC\n"
            + "\n".join(paragraph(k) for k in range(units))
            + "\nII. NHIỆM VỤ BA THÁNG CUỐI NĂM\n1. Tập trung thu ngân sách, phấn đấu hoàn thành vượt dự toán được giao."
            f"\n2. Đẩy nhanh giải ngân vốn đầu tư công, bảo đảm đạt trên 95% kế hoạch (mã {90_000 + user}).")


def client_split(text: str, limit: int = 4096) -> list[str]:
    """What a desktop client sends for a long paste: pieces up to the last space before `limit`
    UTF-16 units (tests/test_bot_pieces.py cuts the same way)."""
    from bot.pieces import utf16_len

    pieces = []
    while utf16_len(text) > limit:
        at = text.rfind(" ", 0, limit)
        while utf16_len(text[:at]) > limit:  # (an emoji before the cut: count units, not characters)
            at = text.rfind(" ", 0, at)
        pieces.append(text[:at])
        text = text[at + 1 :]
    return [*pieces, text]


def _words(text: str) -> str:
    return " ".join(text.split())


async def pastes_part(emu: BotAPIEmulator, session: aiohttp.ClientSession, replicas: list[Replica], url: str,
                      args: argparse.Namespace) -> Result:
    """Part 2 (see the module docstring): every user's pieces POSTed one after the other (each once
    the last got its 200, as Telegram delivers a chat's updates), the users all at once."""
    from bot.pieces import continues

    result = Result()
    stats: Counter[str] = Counter()
    chat0 = 30_000
    pastes = [client_split(paste_text(u, 16 if u % 2 == 0 else 8)) for u in range(args.pastes)]
    for pieces in pastes:  # the bench measures the replicas: the pieces must be continuations by the rules
        assert 2 <= len(pieces) <= 3 and all(continues(x, y) for x, y in itertools.pairwise(pieces)), len(pieces)
    calls_before = len(emu.call_times)
    t0 = time.monotonic()

    async def user(u: int) -> None:
        updates = [emu.send_text(chat0 + u, chat0 + u, piece) for piece in pastes[u]]
        for i, update in enumerate(updates):
            await deliver(session, replicas, update, (u + i) % len(replicas), stats)

    await asyncio.gather(*(user(u) for u in range(args.pastes)))
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline and not all(briefs(emu, chat0 + u) for u in range(args.pastes)):
        await asyncio.sleep(0.2)
    await quiet(emu, 3.0, timeout=60)  # the joins (edits) come after the first briefs
    elapsed = time.monotonic() - t0
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT chat_id, id, text FROM reports WHERE chat_id >= $1 AND chat_id < $2 "
                                "AND merged_into IS NULL", chat0, chat0 + args.pastes)
        inbox_left = await conn.fetchval("SELECT count(*) FROM inbox WHERE state = 'new'")
    finally:
        await conn.close()
    stored: dict[int, list[tuple[int, str]]] = {}
    for r in rows:
        stored.setdefault(r["chat_id"] - chat0, []).append((r["id"], _words(r["text"])))
    per_paste = Counter(len(stored.get(u, [])) for u in range(args.pastes))
    lost = edited = extra = 0
    for u, pieces in enumerate(pastes):
        texts = [t for _, t in stored.get(u, [])]
        lost += sum(1 for p in pieces if not any(" ".join(p.split()[:6]) in t for t in texts))
        messages = emu.messages(chat0 + u)
        ids = briefs(emu, chat0 + u)
        extra += max(0, sum(ids.values()) - 1)
        reports = stored.get(u, [])
        if len(reports) == 1 and messages and ids.get(reports[0][0]) and messages[0].get("edit_date") is not None \
                and f"docx:{reports[0][0]}" in str(messages[0].get("reply_markup")):
            edited += 1
    n = args.pastes
    pieces_sent = sum(len(p) for p in pastes)
    result.say(f"{n} split pastes ({pieces_sent} pieces, {sum(1 for p in pastes if len(p) == 3)} of 3 and "
               f"{sum(1 for p in pastes if len(p) == 2)} of 2), round robin to both replicas, in {elapsed:.1f} s; "
               f"POSTs: {dict(stats)}")
    result.say(f"reports stored per paste: {dict(sorted(per_paste.items()))} (pastes with exactly 1: {per_paste[1]} of {n}); "
               f"first replies edited into the joined report's: {edited} of {n}; pieces lost {lost}; "
               f"briefs beyond one per paste {extra}; inbox rows left 'new' {inbox_left}")
    peak = emu.max_rate(since=calls_before)
    result.say(f"most Bot API calls with a chat_id in any 1 s, both replicas: {peak}")
    result.figures.update(pastes=n, one_report=per_paste[1], edited=edited, pieces_lost=lost, extra_briefs=extra,
                          paste_peak=peak)
    result.ok = per_paste[1] == n and edited == n and lost == 0 and extra == 0 and peak <= 30
    return result


def busiest(emu: BotAPIEmulator, since: int) -> str:
    """What the busiest second held: calls per method, and to digest subscribers (chats >= 50,000)."""
    calls = emu.busiest(since=since)
    methods = Counter(m for _, m, _ in calls)
    digests = sum(1 for _, m, c in calls if m == "sendMessage" and isinstance(c, int) and c >= 50_000)
    return ", ".join(f"{m} {n}" for m, n in methods.most_common()) + f"; digests {digests}"


async def digest_part(emu: BotAPIEmulator, session: aiohttp.ClientSession, replicas: list[Replica], url: str,
                      args: argparse.Namespace) -> Result:
    result = Result()
    n = args.subscribers
    chats = [50_000 + i for i in range(n)]
    stopping = time.monotonic()
    for replica in replicas:
        await replica.stop()
    result.say(f"both replicas stopped (SIGTERM) in {time.monotonic() - stopping:.1f} s")
    await make_due_digests(url, chats)
    calls_before = len(emu.call_times)
    t0 = time.monotonic()
    await replicas[0].start()  # the leader: it takes the lease first and fans out at once
    await replicas[0].ready(session)
    await replicas[1].start()
    await replicas[1].ready(session)

    def sent() -> int:
        return sum(1 for c in chats if emu.sent_count(c))

    stats: Counter[str] = Counter()
    load = asyncio.create_task(send_reports(emu, session, replicas, args.digest_users, args.digest_reports, stats,
                                            chat0=20_000, patience=args.patience))
    while sent() < n * args.digest_kill and time.monotonic() - t0 < 300:
        await asyncio.sleep(0.02)
    replicas[0].kill()
    killed_at = time.monotonic()
    before = sent()
    result.say(f"leader (replica 1) SIGKILLed after {before} of {n} digests ({killed_at - t0:.1f} s)")

    async def restart_later() -> None:
        await asyncio.sleep(args.digest_down)
        await replicas[0].start()
        await replicas[0].ready(session)

    restart = asyncio.create_task(restart_later())
    deadline = time.monotonic() + args.settle
    # until every chat has its digest, or nothing more comes (a digest in flight at the kill is
    # never resent: it may have gone out), or `settle`
    while sent() < n and time.monotonic() < deadline and not (restart.done() and quiet_for(emu) > 5):
        await asyncio.sleep(0.2)
    await restart
    await load
    await quiet(emu, 3.0, timeout=60)
    after = sorted(m["_sent_at"] for c in chats for m in emu.messages(c) if m["_sent_at"] > killed_at + 0.5)
    texts = {c: [m.get("text") or m.get("caption") or "" for m in emu.messages(c)] for c in chats}
    twice = sum(1 for t in texts.values() if t and max(Counter(t).values()) > 1)
    unsent = [c for c, t in texts.items() if not t]
    first_new = after[0] - killed_at if after else float("nan")
    last_new = after[-1] - killed_at if after else float("nan")
    peak = emu.max_rate(since=calls_before)
    lost, duplicated, unanswered, _twice, _left, _ = await check_reports(
        emu, url, args.digest_users, args.digest_reports, chat0=20_000, settle=30)
    result.say(f"digests: {n - len(unsent)} of {n} chats got theirs; sent twice {twice}; unsent {len(unsent)}"
               + (f" {unsent[:10]}" if unsent else ""))
    result.say(f"the new leader's first digest {first_new:.1f} s after the kill, its last {last_new:.1f} s after "
               f"({len(after)} digest messages after the kill; grace window {args.grace_hours:g} h)")
    result.say(f"reports meanwhile: {args.digest_users * args.digest_reports}, lost {lost}, duplicated {duplicated}, "
               f"users not answered {unanswered}")
    result.say(f"most Bot API calls with a chat_id in any 1 s, both replicas: {peak} ({busiest(emu, calls_before)})")
    result.figures.update(digest_twice=twice, digest_unsent=len(unsent), first_new=first_new, last_new=last_new,
                          digest_peak=peak)
    # 'sending' at the kill (may have gone out) are logged, never resent: at most a couple stay unsent
    result.ok = twice == 0 and len(unsent) <= 2 and peak <= 30 and lost == 0 and duplicated == 0
    return result


async def run(args: argparse.Namespace) -> list[Result]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    cluster = None
    admin = args.pg
    if not admin:
        cluster = Path(tempfile.mkdtemp(prefix="bench-replicas-pg-"))
        admin = local_pg.start(cluster, fast=True)
    replicas: list[Replica] = []
    results: list[Result] = []
    try:
        url = await fresh_database(admin, args.database)
        async with BotAPIEmulator() as emu, aiohttp.ClientSession() as session:
            try:
                replicas = [Replica(i, emu, url, tmp, args.log_level, args.merge_window) for i in (1, 2)]
                for replica in replicas:
                    replica.env["BOT_DIGEST_GRACE_HOURS"] = f"{args.grace_hours:g}"
                await replicas[0].start()  # one first: it creates the schema (the other would wait on the lock)
                await replicas[0].ready(session)
                await replicas[1].start()
                await replicas[1].ready(session)
                results.append(await reports_part(emu, session, replicas, url, args))
                if args.pastes:
                    results.append(await pastes_part(emu, session, replicas, url, args))
                if args.subscribers:
                    results.append(await digest_part(emu, session, replicas, url, args))
            finally:
                for replica in replicas:  # (before the emulator goes: they drain against it)
                    await replica.stop()
        return results
    finally:
        if cluster is not None:
            local_pg.stop(cluster)
            shutil.rmtree(cluster, ignore_errors=True)
        if args.keep:
            print(f"logs in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--reports", type=int, default=10, help="reports per user")
    p.add_argument("--pg", help="admin URL of a PostgreSQL server (default: a throw-away cluster)")
    p.add_argument("--database", default="bench_replicas", help="database created afresh on that server")
    p.add_argument("--kill-after", type=float, default=0.5, help="share of reports sent before the kill")
    p.add_argument("--down", type=float, default=3.0, help="seconds replica 1 stays down")
    p.add_argument("--patience", type=float, default=20.0, help="seconds a user waits for an answer")
    p.add_argument("--settle", type=float, default=120.0, help="seconds to wait for the last answers")
    p.add_argument("--pastes", type=int, default=20, help="users sending a split paste in part 2 (0: no part 2)")
    p.add_argument("--merge-window", type=float, default=2.0, help="BOT_MERGE_WINDOW of the replicas (the default)")
    p.add_argument("--subscribers", type=int, default=1000, help="digests due in part 3 (0: no part 3)")
    p.add_argument("--digest-kill", type=float, default=0.4, help="share of digests sent before the leader dies")
    p.add_argument("--digest-down", type=float, default=15.0,
                   help="seconds the killed leader stays down (past the standby's 10 s lease check: it takes over)")
    p.add_argument("--digest-users", type=int, default=20, help="users sending reports during the digest")
    p.add_argument("--digest-reports", type=int, default=3)
    p.add_argument("--grace-hours", type=float, default=24.0, help="BOT_DIGEST_GRACE_HOURS (printed)")
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--keep", action="store_true", help="keep the replicas' logs")
    return p


def main() -> int:
    results = asyncio.run(run(parser().parse_args()))
    ok = all(r.ok for r in results)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
