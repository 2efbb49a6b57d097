"""Reliability suite (issue 13, "Measured, and must hold"): the real bot under crashes, bombs and floods.

Every scenario starts the real `python -m bot` process (BOT_TOKEN set: long polling) against
`bot.emulator.BotAPIEmulator`, which runs in this process on 127.0.0.1 and stands for Telegram
(fault injection included: per-chat 429, 5xx on a share of calls, answers lost after a send). Each
scenario gets a fresh temporary database and emulator, and prints one row:

    tried       inputs the scenario sent (reports, messages, subscribers, bombs ...)
    lost        inputs that got no stored result / no reply / no digest
    duplicated  inputs stored or answered (or digests sent) more than once
    leaked      what got out that must not: error replies ("Có lỗi"), tracebacks or user text in the
                log, replies beyond the allowed one, "message is too long", peak RSS (MB) for the bombs
    bystander   p95 latency of another user's message while the scenario's trouble goes on
    target      the target of issue 13, then PASS/FAIL

Every wait is bounded in count and time; a scenario that cannot finish within its time limit
prints "timeout" for its row instead of hanging, and its bot process tree is killed.
`--quick` uses smaller sizes (the pytest part, tests/test_reliability.py, runs a few scenarios so).
The bot's process tree (the bot and its worker processes) is read from /proc; a bomb that pushes it
past HARD_CAP_MB is killed there, so the suite cannot take the machine down with it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import math
import os
import random
import re
import signal
import sqlite3
import sys
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.emulator import BotAPIEmulator  # noqa: E402

SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
ADMIN = 1000
HARD_CAP_MB = 2000.0  # a bomb past this is killed (the target is 400 MB)
ERROR_REPLY = "Có lỗi"


# ------------------------------------------------------------------------------------------- rows
@dataclass
class Row:
    name: str
    target: str
    tried: int = 0
    lost: int | None = None
    duplicated: int | None = None
    leaked: str = "-"
    bystander_p95: float | None = None  # seconds
    passed: bool | None = None
    status: str = "ok"  # ok | timeout | error
    notes: str = ""
    resent: int = 0  # of `duplicated`: a reply sent again after a restart, saying so
    in_doubt: int = 0  # replies a kill cut off while sending: may have gone out, not resent (logged)
    in_doubt_lost: int = 0  # of `in_doubt`: the chat never got it (the kill came before the request)

    def cells(self) -> list[str]:
        def num(value: int | None) -> str:
            return "-" if value is None else str(value)

        result = self.status if self.status != "ok" else "PASS" if self.passed else "FAIL"
        latency = "-" if self.bystander_p95 is None else (
            "no answer" if math.isinf(self.bystander_p95) else _ms(self.bystander_p95))
        if self.status != "ok":
            return [self.name, str(self.tried or "-"), "-", "-", "-", "-", self.target, result]
        return [self.name, str(self.tried), num(self.lost), num(self.duplicated), self.leaked, latency,
                self.target, result]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


HEADER = ["scenario", "tried", "lost", "dup", "leaked", "bystander p95", "target", "result"]
WIDTHS = [15, 6, 5, 4, 14, 14, 52, 7]


def format_row(cells: list[str]) -> str:
    return " ".join(c.ljust(w) if i in (0, 4, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, WIDTHS,
                                                                                                 strict=True)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


# ------------------------------------------------------------------------------- the bot process
def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """`root` and its live descendants (the summariser/extraction worker processes)."""
    children = _proc_children()
    tree, todo = [], [root]
    while todo and len(tree) < 10_000:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_mb(pids: list[int]) -> float:
    total_kib = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
                    break
    return total_kib / 1024


class BotProcess:
    """`python -m bot` against the emulator, on one database across restarts (one log per run)."""

    def __init__(self, emu: BotAPIEmulator, workdir: Path, **env: str) -> None:
        self.emu = emu
        self.workdir = workdir
        self.database = workdir / "bot.sqlite3"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        self.env.update(
            BOT_TOKEN=emu.token, BOT_API_BASE_URL=emu.base_url, BOT_API_FILE_URL=emu.base_file_url,
            BOT_DATABASE=str(self.database), BOT_ACCESS="open", BOT_ENGINE="extractive", BOT_LOG_LEVEL="INFO",
            PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost", PTB_TIMEDELTA="1", HF_HUB_OFFLINE="1",
        )
        self.env.update(env)
        self.proc: asyncio.subprocess.Process | None = None
        self.logs: list[Path] = []
        self._log_file: Any = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, timeout: float = 90.0) -> float:
        """Start and wait until it polls; returns the seconds that took."""
        log_path = self.workdir / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        self._log_file = log_path.open("wb")
        mark = len(self.emu.calls)
        started = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.workdir, env=self.env, stdout=self._log_file,
            stderr=self._log_file, stdin=asyncio.subprocess.DEVNULL,
        )
        while not any(method == "getUpdates" for method, _ in self.emu.calls[mark:]):
            if self.proc.returncode is not None or time.monotonic() - started > timeout:
                await self.kill()
                raise RuntimeError(f"the bot did not start polling (exit code {self.proc.returncode})")
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    def tree(self) -> list[int]:
        return process_tree(self.proc.pid) if self.running and self.proc is not None else []

    def rss_mb(self) -> float:
        return rss_mb(self.tree())

    async def kill(self) -> None:
        """kill -9 the bot and every process it started (as a supervisor's cgroup kill would)."""
        if self.proc is None:
            return
        for pid in self.tree():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(self.proc.wait(), 10)
        self._close_log()

    async def stop(self, timeout: float = 20.0) -> bool:
        """SIGINT (a graceful stop); killed after `timeout`. True if it stopped by itself."""
        if not self.running or self.proc is None:
            self._close_log()
            return True
        pids = self.tree()
        self.proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
            graceful = True
        except TimeoutError:
            graceful = False
        for pid in pids[1:]:  # workers left behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if not graceful:
            await self.kill()
        self._close_log()
        return graceful

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_text(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in self.logs if p.exists())

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the bot's database (after it stopped, or concurrently: WAL)."""
        if not self.database.exists():
            return []
        conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def reports_by_chat(self) -> Counter[int]:
        """Stored reports per chat (a report merged into another is not counted)."""
        try:
            rows = self.query("SELECT chat_id, COUNT(*) FROM reports WHERE merged_into IS NULL GROUP BY chat_id")
        except sqlite3.OperationalError:  # before the schema had merged_into
            rows = self.query("SELECT chat_id, COUNT(*) FROM reports GROUP BY chat_id")
        return Counter({int(chat): int(n) for chat, n in rows})


class Lab:
    """What one scenario uses: the emulator, its bot processes, a temp directory and the size mode."""

    def __init__(self, workdir: Path, quick: bool) -> None:
        self.workdir = workdir
        self.quick = quick
        self.emu = BotAPIEmulator()
        self.bots: list[BotProcess] = []

    def bot(self, **env: str) -> BotProcess:
        bot = BotProcess(self.emu, self.workdir, **env)
        self.bots.append(bot)
        return bot

    async def close(self) -> None:
        for bot in self.bots:
            with contextlib.suppress(Exception):
                await bot.kill() if not bot.running else await bot.stop(timeout=10)
        await self.emu.stop()


# ------------------------------------------------------------------------------------- helpers
def buttons(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b.get("callback_data", "") for row in rows for b in row]


def is_summary(message: dict[str, Any]) -> bool:
    """The message that carries a report's buttons (the summary reply)."""
    return any(data.startswith("full:") for data in buttons(message))


def text_of(message: dict[str, Any]) -> str:
    return message.get("text") or message.get("caption") or ""


def report_text(i: int, tag: str) -> str:
    """A distinct report (a seed with its own closing line), so none is a duplicate of another."""
    return SEEDS[i % len(SEEDS)] + f"\n(Bản gửi {tag}.)"


async def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


async def wait_done(emu: BotAPIEmulator, predicate: Callable[[], bool], quiet: float, timeout: float) -> bool:
    """Until `predicate` holds, or the bot made no call for `quiet` s (nothing more is coming),
    or `timeout`; True if the predicate held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline or emu.quiet_for() >= quiet:
            return predicate()
        await asyncio.sleep(0.1)
    return True


async def settle(emu: BotAPIEmulator, quiet: float, timeout: float) -> bool:
    """Wait until the bot made no call but getUpdates for `quiet` s (bounded by `timeout`)."""
    try:
        await emu.wait_idle(quiet=quiet, timeout=timeout)
        return True
    except TimeoutError:
        return False


async def latency_of_reply(emu: BotAPIEmulator, chat_id: int, user_id: int, text: str, timeout: float,
                           predicate: Callable[[dict[str, Any]], bool] = lambda m: True) -> float:
    """Send `text`, wait for a matching reply: seconds from the send to the emulator receiving the
    reply, or +inf when none came within `timeout`."""
    seen = emu.sent_count(chat_id)
    started = time.monotonic()
    emu.send_text(chat_id, user_id, text)
    deadline = started + timeout
    while time.monotonic() < deadline:
        if emu.sent_count(chat_id) > seen:
            for message in emu.messages(chat_id)[seen:]:
                if predicate(message):
                    return message["_sent_at"] - started
            seen = emu.sent_count(chat_id)
        await asyncio.sleep(0.02)
    return math.inf


def count_tracebacks(log: str) -> int:
    return log.count("Traceback (most recent call last)")


def error_replies(emu: BotAPIEmulator, chats: list[int]) -> int:
    return sum(1 for c in chats for m in emu.messages(c) if ERROR_REPLY in text_of(m))


async def make_due_digests(database: str | Path, chats: list[int]) -> None:
    """Subscribers whose daily digest fell due an hour ago (created 3 days ago), in the database
    before the bot starts: the bot's start-up catch-up then fans out to all of them."""
    from storage import Repository, Subscription

    now = datetime.now(UTC)
    due = (now - timedelta(hours=1)).strftime("%H:%M")
    repo = await Repository.open(database)
    try:
        for chat in chats:
            await repo.upsert_subscription(Subscription(chat_id=chat, cadence="daily", time_of_day=due,
                                                        timezone="UTC", created_at=now - timedelta(days=3)))
    finally:
        await repo.close()


def digest_counts(emu: BotAPIEmulator, chats: list[int]) -> tuple[list[int], list[int], int]:
    """(chats without a digest, chats that got one twice, messages sent) — a digest sent twice shows
    the same text twice in one chat."""
    unsent, twice, sent = [], [], 0
    for chat in chats:
        texts = [text_of(m) for m in emu.messages(chat)]
        sent += len(texts)
        if not texts:
            unsent.append(chat)
        elif max(Counter(texts).values()) > 1:
            twice.append(chat)
    return unsent, twice, sent


def digest_sends(emu: BotAPIEmulator, chats: list[int]) -> int:
    return sum(emu.sent_count(c) for c in chats)


# ------------------------------------------------------------------------------------- bombs
def docx_bomb(xml_bytes: int = 95 * 1024 * 1024) -> bytes:
    """A .docx whose word/document.xml is `xml_bytes` of `<w:p/>`, compressed ~111:1 (< 1 MB for
    95 MB): a 1 MiB block with sparse random whitespace, repeated; deflate's 32 KiB window does not
    see the repeats, so the ratio stays where the issue's 889 KB file had it."""
    rng = random.Random(13)
    parts = []
    for _ in range((1 << 20) // 6):
        parts.append("<w:p/>")
        if rng.random() < 0.018:
            parts.append(rng.choice((" ", "\n", "\t", "\r\n")))
    block = "".join(parts).encode()
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document {ns}><w:body>'.encode())
            written = 0
            while written < xml_bytes:
                member.write(block)
                written += len(block)
            member.write(b"</w:body></w:document>")
    return buffer.getvalue()


def pdf_bomb(pages: int = 300, repeats: int = 990_000) -> bytes:
    """`pages` pages sharing one FlateDecode content stream of "BT ET " x `repeats`."""
    content = zlib.compress(b"BT ET " * repeats, 9)
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        3: b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
    }
    for i in range(pages):
        objects[4 + i] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << >> >>"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in sorted(objects))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# ---------------------------------------------------------------------------------- scenarios
def time_arrivals(emu: BotAPIEmulator) -> dict[tuple[int, int], float]:
    """Wall-clock time at which the emulator took up each sendMessage (its handler entered: the
    request has reached "Telegram"), by (chat, message id); filled from now on."""
    arrivals: dict[tuple[int, int], float] = {}
    handle = emu._methods["sendmessage"]

    async def timed(params: dict[str, Any]) -> Any:
        at = time.time()
        result = await handle(params)
        if isinstance(result, dict):
            arrivals[(int(result["chat"]["id"]), int(result["message_id"]))] = at
        return result

    emu._methods["sendmessage"] = timed
    return arrivals


def reply_windows(bot: BotProcess, arrivals: dict[tuple[int, int], float]) -> tuple[list[float], list[float]]:
    """For each brief recorded 'sent' (by its message id): seconds from its 'sending' commit to the
    request reaching the emulator, and from there to the 'sent' commit (the bot's timestamps and
    the emulator's are the same machine's wall clock)."""
    before: list[float] = []
    after: list[float] = []
    for chat, message_id, attempted, replied in bot.query(
            "SELECT r.chat_id, p.message_id, p.attempted_at, p.replied_at FROM replies p "
            "JOIN reports r ON r.id = p.report_id WHERE p.state = 'sent' AND p.message_id IS NOT NULL"):
        at = arrivals.get((int(chat), int(message_id)))
        if at is None or not attempted or not replied:
            continue
        before.append(at - datetime.fromisoformat(attempted).timestamp())
        after.append(datetime.fromisoformat(replied).timestamp() - at)
    return before, after


def _windows(values: list[float]) -> str:
    if not values:
        return "-"
    return " / ".join(f"{v * 1000:.1f}" for v in (percentile(values, 50), percentile(values, 95), max(values))) + " ms"


async def sigkill_burst(lab: Lab) -> Row:
    """N private users send one report each within ~3 s; kill -9 mid-burst; restart on the same
    database. Every chat must end with one stored report and one summary reply; a reply the kill
    cut off while sending is not resent (at most once) and the restarted bot names it in its log."""
    n = 20 if lab.quick else 100
    span = 1.5 if lab.quick else 3.0
    row = Row("sigkill_burst", "0 lost, 0 duplicated (one row + one summary each)", tried=n)
    emu = lab.emu
    chats = [20_000 + i for i in range(n)]
    arrivals = time_arrivals(emu)
    bot = lab.bot()
    await bot.start()

    async def burst() -> None:
        for i, chat in enumerate(chats):
            emu.send_text(chat, chat, report_text(i, f"{chat}-{i}"))
            await asyncio.sleep(span / n)

    sender = asyncio.ensure_future(burst())
    await wait_until(lambda: len(emu.delivered_at) >= n // 2, span * 2)  # half fetched by the bot
    answered_before = sum(1 for c in chats if any(is_summary(m) for m in emu.messages(c)))
    await bot.kill()
    killed_at = len(emu.delivered_at)
    restart = await bot.start()
    await sender

    def all_answered() -> bool:
        return all(emu.sent_count(c) for c in chats) and all(
            any(is_summary(m) for m in emu.messages(c)) for c in chats)

    await wait_done(emu, all_answered, quiet=6.0, timeout=60 if lab.quick else 150)
    await settle(emu, quiet=3.0, timeout=30)
    await bot.stop()
    stored = bot.reports_by_chat()
    summaries = {c: sum(1 for m in emu.messages(c) if is_summary(m)) for c in chats}
    row.lost = sum(1 for c in chats if stored[c] == 0 or summaries[c] == 0)
    row.duplicated = sum(1 for c in chats if stored[c] > 1 or summaries[c] > 1)
    # At most once: a reply the kill cut off while sending ('sending' at restart) may have reached
    # Telegram and is not resent; the restarted bot names each in its log. It is lost only if the
    # kill came between the 'sending' commit and the request reaching Telegram.
    doubt = {int(chat): int(report) for report, chat in bot.query(
        "SELECT p.report_id, r.chat_id FROM replies p JOIN reports r ON r.id = p.report_id "
        "WHERE p.state = 'sending'")}
    restarted_log = bot.logs[-1].read_text(encoding="utf-8", errors="replace") if bot.logs else ""
    unlogged = [c for c, report in doubt.items()
                if not re.search(rf"report {report} in chat {c}\b.*may have gone out", restarted_log)]
    row.in_doubt = len(doubt)
    row.in_doubt_lost = sum(1 for c in doubt if summaries.get(c, 0) == 0)
    before, after = reply_windows(bot, arrivals)
    row.leaked = f"{error_replies(emu, chats)} err, {len(unlogged)} unlogged"
    row.passed = row.lost == 0 and row.duplicated == 0 and not unlogged
    # A reply sent again after the restart, with the notice "Bot vừa khởi động lại" (the at-least-once
    # behaviour before replies recorded 'sending' first): should be 0 now.
    row.resent = sum(1 for c in chats if stored[c] == 1 and summaries[c] == 2 and sum(
        1 for m in emu.messages(c) if is_summary(m) and "khởi động lại" in text_of(m)) == 1)
    odd = [f"{c}: {stored[c]} row(s), {summaries[c]} summar{'y' if summaries[c] == 1 else 'ies'}, "
           f"messages {[text_of(m)[:45] for m in emu.messages(c)]}" for c in chats if stored[c] != 1 or summaries[c] != 1]
    row.notes = (f"killed after {killed_at} of {n} updates were fetched ({answered_before} answered); restart "
                 f"took {restart:.1f} s; may have gone out, not resent: {row.in_doubt} (of them never reached "
                 f"the chat: {row.in_doubt_lost}; not named in the log: {len(unlogged)}); resent after the "
                 f"restart: {row.resent}; windows of the {len(before)} recorded briefs, p50 / p95 / max: "
                 f"'sending' committed -> request at Telegram {_windows(before)} (a kill here loses the reply), "
                 f"Telegram -> 'sent' committed {_windows(after)} (here: in doubt, not resent; before "
                 f"'sending' was recorded: sent twice); no stored row: {sum(1 for c in chats if stored[c] == 0)}, "
                 f"no summary: "
                 f"{sum(1 for c in chats if summaries[c] == 0)}" + (f"; {'; '.join(odd[:5])}" if odd else ""))
    return row


async def sigkill_digest(lab: Lab) -> Row:
    """N subscribers with a digest due; kill -9 while fanning out; restart. Nobody gets it twice,
    at most 2 chats never get it, and each of those is named in the log."""
    n = 60 if lab.quick else 400
    row = Row("sigkill_digest", "0 sent twice, <= 2 unsent, each unsent logged", tried=n)
    emu = lab.emu
    chats = [30_000 + i for i in range(n)]
    bot = lab.bot()
    await make_due_digests(bot.database, chats)
    await bot.start()
    reached = await wait_until(lambda: digest_sends(emu, chats) >= n * 0.4, 60 if lab.quick else 120)
    sent_before = digest_sends(emu, chats)
    await bot.kill()
    if not reached:
        row.notes = f"the fan-out never reached 40% ({sent_before} sent) before the kill; "
    restart = await bot.start()
    await wait_done(emu, lambda: all(emu.sent_count(c) for c in chats), quiet=6.0, timeout=40 if lab.quick else 90)
    await settle(emu, quiet=5.0, timeout=30)
    await bot.stop()
    unsent, twice, _ = digest_counts(emu, chats)
    log = bot.logs[-1].read_text(encoding="utf-8", errors="replace") if bot.logs else ""
    unlogged = [c for c in unsent if not re.search(rf"\b{c}\b", log)]
    row.lost = len(unsent)
    row.duplicated = len(twice)
    row.leaked = f"{len(unlogged)} unlogged"
    row.passed = not twice and len(unsent) <= 2 and not unlogged
    row.notes += (f"killed after {sent_before} of {n} digests were sent; restart took {restart:.1f} s; "
                  f"unsent {len(unsent)} (not named in the log: {len(unlogged)})")
    return row


async def _bomb(lab: Lab, name: str, file_name: str, content: bytes, bombs: int) -> Row:
    emu = lab.emu
    limit = 45.0 if lab.quick else 120.0
    row = Row(name, "RSS < 400 MB, text report meanwhile answered < 5 s", tried=bombs)
    bot = lab.bot()
    await bot.start()
    peak = 0.0
    capped = False
    stop_sampling = asyncio.Event()

    async def sample() -> None:
        nonlocal peak, capped
        while not stop_sampling.is_set():
            current = bot.rss_mb()
            peak = max(peak, current)
            if current > HARD_CAP_MB and not capped:
                capped = True
                await bot.kill()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_sampling.wait(), 0.1)

    sampler = asyncio.ensure_future(sample())
    bombers = [40_000 + i for i in range(bombs)]
    started = time.monotonic()
    fetched_before = sum(1 for m, _ in emu.calls if m == "getFile")
    for chat in bombers:
        emu.send_document(chat, chat, file_name, content)
    await wait_until(lambda: sum(1 for m, _ in emu.calls if m == "getFile") >= fetched_before + bombs, 20)
    await asyncio.sleep(1.0)  # the bombs are being read
    bystander = 40_900
    latency = await latency_of_reply(emu, bystander, bystander, report_text(0, "người gửi khác"),
                                     limit / 2, is_summary)
    await wait_until(lambda: all(emu.sent_count(c) for c in bombers) or not bot.running,
                     max(1.0, limit - (time.monotonic() - started)), step=0.2)
    stop_sampling.set()
    await sampler
    answers = [text_of(emu.messages(c)[-1])[:70] if emu.sent_count(c) else "" for c in bombers]
    bomb_time = time.monotonic() - started
    await bot.stop(timeout=15)
    row.lost = 0 if math.isfinite(latency) else 1
    row.duplicated = None
    row.leaked = f"{peak:.0f} MB" + (" KILLED" if capped else "")
    row.bystander_p95 = latency
    row.passed = peak < 400 and latency < 5.0 and not capped
    replied = sum(1 for a in answers if a)
    row.notes = (f"{len(content) / 1024:.0f} KB file x {bombs}; peak RSS of the bot's process tree {peak:.0f} MB"
                 f"{f' (killed at the {HARD_CAP_MB:.0f} MB cap)' if capped else ''}; bystander "
                 f"{'not answered within %.0f s' % (limit / 2) if not math.isfinite(latency) else _ms(latency)}; "
                 f"bombs answered {replied}/{bombs} within {bomb_time:.0f} s: {answers[0]!r}")
    return row


async def docx_bomb_scenario(lab: Lab) -> Row:
    size = (24 if lab.quick else 95) * 1024 * 1024
    return await _bomb(lab, "docx_bomb", "bao_cao.docx", docx_bomb(size), 1 if lab.quick else 3)


async def pdf_bomb_scenario(lab: Lab) -> Row:
    return await _bomb(lab, "pdf_bomb", "bao_cao.pdf", pdf_bomb(300, 990_000), 1 if lab.quick else 3)


async def per_chat_429(lab: Lab) -> Row:
    """One chat is under a 60 s per-chat 429; other chats' /help must be answered in < 2 s."""
    emu = lab.emu
    bound = 10.0 if lab.quick else 20.0
    row = Row("per_chat_429", "another chat's /help answered < 2 s", tried=5)
    bot = lab.bot()
    await bot.start()
    limited = 50_001
    await latency_of_reply(emu, limited, limited, "/help", 20)  # warm-up
    emu.rate_limit_chat(limited, 60)
    errors_before = len(emu.errors)
    emu.send_text(limited, limited, "/help")
    got_429 = await wait_until(lambda: any(e["status"] == 429 for e in emu.errors[errors_before:]), 10)
    latencies = []
    for i in range(5):
        chat = 50_100 + i
        latencies.append(await latency_of_reply(emu, chat, chat, "/help", bound))
    answered_limited = False
    if not lab.quick:  # the limited chat gets its answer once the 60 s are over
        answered_limited = await wait_until(lambda: emu.sent_count(limited) >= 2, 75, step=0.5)
    await bot.stop(timeout=15)
    finite = [x for x in latencies if math.isfinite(x)]
    row.lost = len(latencies) - len(finite)
    row.bystander_p95 = percentile(latencies, 95)
    row.passed = got_429 and row.lost == 0 and row.bystander_p95 < 2.0
    row.notes = (f"429 returned to the limited chat: {got_429}; other chats' /help: "
                 f"{', '.join(_ms(x) if math.isfinite(x) else f'>{bound:.0f} s' for x in latencies)}"
                 + ("" if lab.quick else f"; limited chat answered after the window: {answered_limited}"))
    return row


async def pending_flood(lab: Lab) -> Row:
    """600 messages from a pending user (BOT_ACCESS=approval): an approved user's /help < 2 s, and
    the pending user gets one reply."""
    emu = lab.emu
    n = 100 if lab.quick else 600
    row = Row("pending_flood", "approved /help < 2 s; pending user gets 1 reply", tried=n)
    bot = lab.bot(BOT_ACCESS="approval", BOT_ADMINS=str(ADMIN))
    approved, pending = 60_001, 60_999
    from storage import Repository

    repo = await Repository.open(bot.database)
    try:
        await repo.ensure_user(approved, "Nguyễn Văn A", "member")
    finally:
        await repo.close()
    await bot.start()
    await latency_of_reply(emu, approved, approved, "/help", 20)  # warm-up
    for i in range(n):
        emu.send_text(pending, pending, f"Xin chào, cho tôi xem báo cáo số {i}")
    latencies = []
    for _ in range(5):
        latencies.append(await latency_of_reply(emu, approved, approved, "/help", 20))
        await asyncio.sleep(0.5)
    window = 15.0 if lab.quick else 30.0  # replies to the pending user are counted until then
    await settle(emu, quiet=2.0, timeout=window)
    replies = emu.sent_count(pending)
    await bot.stop(timeout=15)
    row.lost = sum(1 for x in latencies if not math.isfinite(x))
    row.bystander_p95 = percentile(latencies, 95)
    row.leaked = f"{max(0, replies - 1)} extra"
    row.passed = row.lost == 0 and row.bystander_p95 < 2.0 and replies == 1
    row.notes = (f"replies to the pending user: {replies} (target 1; counted until the bot was quiet for 2 s or "
                 f"{window:.0f} s had passed); admin notifications: {emu.sent_count(ADMIN)}; "
                 f"approved /help: {', '.join(_ms(x) if math.isfinite(x) else '>20 s' for x in latencies)}")
    return row


async def lost_answers(lab: Lab) -> Row:
    """A digest fan-out while ~10% of sendMessage answers are lost after the send was performed
    (half dropped connections, half answers later than the client's read timeout)."""
    emu = lab.emu
    n = 40 if lab.quick else 200
    row = Row("lost_answers", "0 duplicate digests", tried=n)
    chats = [70_000 + i for i in range(n)]
    emu.lose_answers("sendMessage", share=0.05, mode="drop", seed=1)
    emu.lose_answers("sendMessage", share=0.053, mode="delay", delay=8.0, seed=2)
    bot = lab.bot()
    await make_due_digests(bot.database, chats)
    await bot.start()
    await wait_done(emu, lambda: all(emu.sent_count(c) for c in chats), quiet=10.0, timeout=40 if lab.quick else 90)
    await settle(emu, quiet=10.0, timeout=60)  # late answers (8 s) and whatever retries follow them
    await bot.stop(timeout=20)
    unsent, twice, _ = digest_counts(emu, chats)
    row.lost = len(unsent)
    row.duplicated = len(twice)
    row.passed = not twice
    kinds = Counter(x["mode"] for x in emu.lost_answers)
    row.notes = (f"answers lost: {kinds['drop']} dropped, {kinds['delay']} late; chats sent twice {len(twice)}; "
                 f"chats without the digest {len(unsent)}")
    return row


async def server_errors(lab: Lab) -> Row:
    """Reports while 6% of sendMessage calls get 500/502 (not performed): every reply arrives."""
    emu = lab.emu
    n = 30 if lab.quick else 300
    span = 3.0 if lab.quick else 15.0
    row = Row("server_errors", "0 replies lost", tried=n)
    chats = [80_000 + i for i in range(n)]
    emu.fail_share("sendMessage", 0.06, statuses=(500, 502), seed=3)
    bot = lab.bot()
    await bot.start()
    for i, chat in enumerate(chats):
        emu.send_text(chat, chat, report_text(i, f"{chat}"))
        await asyncio.sleep(span / n)
    await wait_done(emu, lambda: all(emu.sent_count(c) for c in chats) and all(
        any(is_summary(m) for m in emu.messages(c)) for c in chats), quiet=8.0, timeout=60 if lab.quick else 180)
    await settle(emu, quiet=3.0, timeout=30)
    await bot.stop()
    summaries = {c: sum(1 for m in emu.messages(c) if is_summary(m)) for c in chats}
    row.lost = sum(1 for c in chats if summaries[c] == 0)
    row.duplicated = sum(1 for c in chats if summaries[c] > 1)
    row.leaked = f"{error_replies(emu, chats)} err"
    row.passed = row.lost == 0
    failed = sum(1 for e in emu.errors if e["status"] in (500, 502))
    row.notes = f"{failed} sendMessage calls answered 500/502; chats without a summary {row.lost}"
    return row


def emoji_report(count: int = 1500) -> str:
    """Seed 0 with `count` "📈" spread over its words (each counts 2 UTF-16 units in Telegram)."""
    words = SEEDS[0].split(" ")
    per_word = math.ceil(count / len(words))
    out, left = [], count
    for word in words:
        take = min(per_word, left)
        out.append("📈" * take + word)
        left -= take
    return " ".join(out)


async def emoji(lab: Lab) -> Row:
    """A report with 1,500 "📈": its summary, /report and the full-text page are all sent."""
    emu = lab.emu
    row = Row("emoji", "answered: summary, /report, full text; no 'too long'", tried=3)
    bot = lab.bot()
    await bot.start()
    chat = 90_001
    emu.send_document(chat, chat, "bao_cao_emoji.txt", emoji_report().encode("utf-8"))
    got = await wait_until(lambda: any(is_summary(m) for m in emu.messages(chat)), 40)
    answered = int(got)
    report_id = full = None
    summary = next((m for m in emu.messages(chat) if is_summary(m)), None)
    if summary is not None:
        full = next(d for d in buttons(summary) if d.startswith("full:"))
        report_id = full.split(":")[1]
        seen = emu.sent_count(chat)
        latency = await latency_of_reply(emu, chat, chat, f"/report {report_id}", 20)
        answered += int(math.isfinite(latency) and all(ERROR_REPLY not in text_of(m)
                                                        for m in emu.messages(chat)[seen:]))
        await settle(emu, 0.5, 10)
        seen = emu.sent_count(chat)
        emu.press_button(chat, chat, summary["message_id"], full)
        answered += int(await wait_until(lambda: emu.sent_count(chat) > seen, 20))
    await settle(emu, 0.5, 10)
    await bot.stop()
    too_long = [e for e in emu.errors if "too long" in e["description"]]
    row.lost = 3 - answered
    row.leaked = f"{len(too_long)} too long"
    row.passed = answered == 3 and not too_long
    row.notes = f"report #{report_id}; answered {answered}/3; 'too long' errors: {len(too_long)}"
    return row


def forwarded_reports(count: int = 20) -> list[str]:
    """`count` different reports of the 5 seed units, each under 4,096 characters (one message),
    cut at a paragraph end and closed with a line of its own."""
    out = []
    for i in range(count):
        seed = SEEDS[i % len(SEEDS)]
        cut = seed[:3700]
        end = cut.rfind("\n")
        text = (cut[:end] if end > 1000 else cut).rstrip()
        out.append(f"{text}\n(Bản {i // len(SEEDS) + 1} chuyển tiếp từ Văn phòng, số {i + 1}.)")
    return out


async def forward_burst(lab: Lab) -> Row:
    """20 different reports of 5 units forwarded back to back by one user: 20 reports stored."""
    emu = lab.emu
    reports = forwarded_reports(20)
    row = Row("forward_burst", "20 reports stored", tried=len(reports))
    bot = lab.bot()
    await bot.start()
    chat = 91_001
    origin = {"type": "user", "sender_user": {"id": 555, "is_bot": False, "first_name": "Văn phòng Huyện ủy"}}
    for text in reports:
        emu.send_text(chat, chat, text, forward_origin=origin)
    # the first summary, then quiet for longer than the merge window (2 s): whatever was merged is done
    await wait_until(lambda: any(is_summary(m) for m in emu.messages(chat)), 40, step=0.25)
    await wait_until(lambda: sum(1 for m in emu.messages(chat) if is_summary(m)) >= len(reports), 5, step=0.25)
    await settle(emu, quiet=4.0, timeout=60)
    await bot.stop()
    stored = bot.reports_by_chat()[chat]
    summaries = sum(1 for m in emu.messages(chat) if is_summary(m))
    row.lost = max(0, len(reports) - stored)
    row.duplicated = max(0, stored - len(reports))
    row.leaked = f"{error_replies(emu, [chat])} err"
    row.passed = stored == len(reports)
    longest = bot.query("SELECT MAX(LENGTH(text)) FROM reports WHERE chat_id = ?", (chat,))
    row.notes = (f"stored {stored} report(s), {summaries} summary replies; longest stored text "
                 f"{(longest[0][0] if longest else 0) or 0:,} characters")
    return row


async def unicode_digits(lab: Lab) -> Row:
    """`/latest ²`, `/digest ①`, `/report ³`, a `dg:d:²` button and `appr:99999999999999999999`
    (an admin's): a usage line or an answered button each, no traceback in the log."""
    emu = lab.emu
    row = Row("unicode_digits", "usage line / answered button each, no traceback", tried=5)
    bot = lab.bot(BOT_ADMINS=str(ADMIN))
    await bot.start()
    chat = 92_001
    answered = 0
    for command in ("/latest ²", "/digest ①", "/report ³"):
        latency = await latency_of_reply(emu, chat, chat, command, 20)
        reply = text_of(emu.messages(chat)[-1]) if emu.sent_count(chat) else ""
        answered += int(math.isfinite(latency) and "Cách dùng" in reply and ERROR_REPLY not in reply)
    for user, data in ((chat, "dg:d:²"), (ADMIN, "appr:99999999999999999999")):
        update = emu.press_button(user, user, 999_999, data)
        query_id = update["callback_query"]["id"]
        answered += int(await wait_until(lambda q=query_id: any(
            m == "answerCallbackQuery" and str(p.get("callback_query_id")) == q for m, p in emu.calls), 20))
    await settle(emu, 1.0, 10)
    await bot.stop()
    log = bot.log_text()
    tracebacks = count_tracebacks(log)
    errors = len(re.findall(r"\b(ValueError|OverflowError)\b", log))
    row.lost = 5 - answered
    row.leaked = f"{tracebacks} tracebacks"
    row.passed = answered == 5 and tracebacks == 0 and errors == 0 and error_replies(emu, [chat, ADMIN]) == 0
    row.notes = f"answered {answered}/5; tracebacks {tracebacks}; ValueError/OverflowError in the log {errors}"
    return row


async def unparseable_update(lab: Lab) -> Row:
    """An update PTB cannot parse ("date": "x"), then /help: answered; the bad update's text is
    not logged; getUpdates is not called in a tight loop."""
    emu = lab.emu
    row = Row("unparseable", "the next update answered; no content in the log", tried=2)
    bot = lab.bot()
    await bot.start()
    marker = "NỘI-DUNG-RIÊNG-7f3a"
    polls_before = sum(1 for m, _ in emu.calls if m == "getUpdates")
    window_start = time.monotonic()
    emu.inject_update({"message": {"message_id": 777_777, "date": "x", "text": f"{marker} báo cáo",
                                   "chat": {"id": 93_001, "type": "private", "first_name": "A"},
                                   "from": {"id": 93_001, "is_bot": False, "first_name": "A"}}})
    await asyncio.sleep(0.5)
    latency = await latency_of_reply(emu, 93_002, 93_002, "/help", 15)
    await asyncio.sleep(1.0)
    polls = sum(1 for m, _ in emu.calls if m == "getUpdates") - polls_before
    window = time.monotonic() - window_start
    await bot.stop()
    log = bot.log_text()
    leaked = log.count(marker)
    row.lost = 0 if math.isfinite(latency) else 1
    row.leaked = f"{leaked} in log"
    row.bystander_p95 = latency
    row.passed = math.isfinite(latency) and leaked == 0 and polls < 100
    row.notes = (f"/help after the bad update: {_ms(latency) if math.isfinite(latency) else 'never'}; "
                 f"getUpdates calls in the {window:.1f} s after: {polls}; "
                 f"the update's text in the log {leaked}x; log {len(log.encode()):,} bytes")
    return row


ScenarioFunc = Callable[[Lab], Awaitable[Row]]
SCENARIOS: dict[str, tuple[ScenarioFunc, float, float]] = {  # name: (function, time limit quick, full)
    "sigkill_burst": (sigkill_burst, 150, 300),
    "sigkill_digest": (sigkill_digest, 150, 300),
    "docx_bomb": (docx_bomb_scenario, 100, 200),
    "pdf_bomb": (pdf_bomb_scenario, 100, 200),
    "per_chat_429": (per_chat_429, 100, 200),
    "pending_flood": (pending_flood, 120, 240),
    "lost_answers": (lost_answers, 150, 240),
    "server_errors": (server_errors, 120, 300),
    "emoji": (emoji, 100, 120),
    "forward_burst": (forward_burst, 100, 120),
    "unicode_digits": (unicode_digits, 100, 120),
    "unparseable": (unparseable_update, 100, 120),
}
TARGETS = {  # for a row that timed out
    "sigkill_burst": "0 lost, 0 duplicated", "sigkill_digest": "0 sent twice, <= 2 unsent, logged",
    "docx_bomb": "RSS < 400 MB, bystander < 5 s", "pdf_bomb": "RSS < 400 MB, bystander < 5 s",
    "per_chat_429": "other chat < 2 s", "pending_flood": "approved < 2 s, 1 reply", "lost_answers": "0 duplicates",
    "server_errors": "0 replies lost", "emoji": "answered", "forward_burst": "20 reports",
    "unicode_digits": "usage, no traceback", "unparseable": "next update answered",
}


async def run_scenario(name: str, quick: bool = False) -> Row:
    """One scenario in its own temp directory and emulator; "timeout"/"error" rows instead of raising."""
    func, quick_limit, full_limit = SCENARIOS[name]
    with tempfile.TemporaryDirectory(prefix=f"reliability-{name}-") as tmp:
        lab = Lab(Path(tmp), quick)
        await lab.emu.start()
        try:
            return await asyncio.wait_for(func(lab), quick_limit if quick else full_limit)
        except TimeoutError:
            return Row(name, TARGETS[name], status="timeout",
                       notes=f"did not finish within {quick_limit if quick else full_limit:.0f} s")
        except Exception as exc:
            tail = lab.bots[-1].log_text().strip().splitlines()[-6:] if lab.bots else []
            return Row(name, TARGETS[name], status="error",
                       notes="\n".join([f"{type(exc).__name__}: {exc}; the bot's log ends:", *tail]))
        finally:
            await lab.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (what tests/test_reliability.py runs)")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",")] if args.only else list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    print(f"bench/reliability.py{' --quick' if args.quick else ''}: the real `python -m bot` against the Bot API "
          f"emulator on 127.0.0.1; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print(format_row(HEADER))
    rows = []
    for name in names:
        started = time.monotonic()
        row = asyncio.run(run_scenario(name, args.quick))
        rows.append(row)
        print(format_row(row.cells()), flush=True)
        print(f"{'':16}{row.notes.splitlines()[0] if row.notes else ''} [{time.monotonic() - started:.0f} s]",
              flush=True)
        for line in row.notes.splitlines()[1:]:
            print(f"{'':18}{line}")
    passed = sum(1 for r in rows if r.status == "ok" and r.passed)
    print(f"{passed}/{len(rows)} scenarios meet their target")
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
