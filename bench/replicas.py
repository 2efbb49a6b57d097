"""Two bot replicas in webhook mode on one PostgreSQL database, one of them SIGKILLed half-way.

The emulator stands for Telegram's Bot API (the replicas send their replies to it); this script
stands for Telegram's webhook delivery and for the reverse proxy: it POSTs every update to the
replicas round robin, and an update a replica did not answer with 200 (refused connection,
reset, 5xx) goes to the other one, again and again until one takes it, as Telegram retries and
Caddy fails over. Half-way through, replica 1 is SIGKILLed (no clean-up at all) and restarted a
few seconds later.

Checked at the end: every report stored once (0 lost, 0 duplicated: rows per text in the
database), every user answered with a summary of each of their reports, and how many POSTs
needed a retry. Usage:
  .venv/bin/python bench/replicas.py [--users 50] [--reports 10] [--pg ADMIN_URL] [--kill-after 0.5]
Without --pg a throw-away local cluster (storage.local_pg) is started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

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
    def __init__(self, index: int, emu: BotAPIEmulator, url: str, workdir: Path) -> None:
        self.index = index
        self.port = free_port()
        self.workdir = workdir / f"replica{index}"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        self.env.update(
            PYTHONPATH=str(ROOT), BOT_TOKEN=emu.token, BOT_API_BASE_URL=emu.base_url,
            BOT_API_FILE_URL=emu.base_file_url, BOT_ACCESS="open", BOT_DATABASE=url,
            BOT_WEBHOOK_URL=f"http://127.0.0.1:{self.port}/hook", BOT_WEBHOOK_LISTEN=f"127.0.0.1:{self.port}",
            BOT_WEBHOOK_SECRET=SECRET, BOT_MERGE_WINDOW="0", BOT_LOG_LEVEL="WARNING",
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


def report_text(user: int, n: int) -> str:
    return f"{SEEDS[(user + n) % len(SEEDS)]}\n\nBáo cáo số {n + 1} của đơn vị {user} (mã {user * 1000 + n})."


async def main_async(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    cluster = None
    admin = args.pg
    if not admin:
        cluster = Path(tempfile.mkdtemp(prefix="bench-replicas-pg-"))
        admin = local_pg.start(cluster, fast=True)
    replicas: list[Replica] = []
    try:
        url = await fresh_database(admin, "bench_replicas")
        async with BotAPIEmulator() as emu, aiohttp.ClientSession() as session:
            replicas = [Replica(i, emu, url, tmp) for i in (1, 2)]
            await replicas[0].start()  # one first: it creates the schema (the other would wait on the lock)
            await replicas[0].ready(session)
            await replicas[1].start()
            await replicas[1].ready(session)
            stats: Counter[str] = Counter()
            total = args.users * args.reports
            kill_at = int(total * args.kill_after)
            sent = 0
            t0 = time.monotonic()
            restart: asyncio.Task[None] | None = None

            async def restart_later() -> None:
                await asyncio.sleep(args.down)
                await replicas[0].start()
                await replicas[0].ready(session)
                print(f"replica 1 back after {time.monotonic() - t0:.1f} s")

            async def user(u: int) -> None:
                nonlocal sent, restart
                chat = 10_000 + u
                for n in range(args.reports):
                    update = emu.send_text(chat, chat, report_text(u, n))
                    await deliver(session, replicas, update, update["update_id"] % 2, stats)
                    sent += 1
                    if sent == kill_at:
                        replicas[0].kill()
                        print(f"replica 1 SIGKILLed after {sent} reports ({time.monotonic() - t0:.1f} s)")
                        restart = asyncio.create_task(restart_later())
                    # the next report once this one is answered, or after a while (as people do)
                    with contextlib.suppress(TimeoutError):
                        await emu.wait_for_messages(chat, n + 1, timeout=args.patience)

            await asyncio.gather(*(user(u) for u in range(args.users)))
            if restart is not None:
                await restart
            # every user answered: a summary (with its buttons) for each of their reports
            deadline = time.monotonic() + args.settle
            answered: dict[int, set[int]] = {}
            while time.monotonic() < deadline:
                answered = {}
                for u in range(args.users):
                    ids = set()
                    for m in emu.messages(10_000 + u):
                        for row in (m.get("reply_markup") or {}).get("inline_keyboard", []):
                            for b in row:
                                found = re.fullmatch(r"docx:(\d+)", b.get("callback_data", ""))
                                if found:
                                    ids.add(int(found.group(1)))
                    answered[u] = ids
                if all(len(ids) >= args.reports for ids in answered.values()):
                    break
                await asyncio.sleep(0.5)
            elapsed = time.monotonic() - t0
            conn = await asyncpg.connect(url)
            try:
                rows = await conn.fetch("SELECT chat_id, text FROM reports")
                inbox_left = await conn.fetchval("SELECT count(*) FROM inbox WHERE state = 'new'")
            finally:
                await conn.close()
            # each text ends with its own code (the stored text is the cleaned one, not byte-equal)
            expected = {u * 1000 + n for u in range(args.users) for n in range(args.reports)}
            stored = Counter(int(m.group(1)) for r in rows for m in [re.search(r"\(mã (\d+)\)", r["text"])] if m)
            lost = len(expected - set(stored))
            duplicated = sum(c - 1 for c in stored.values() if c > 1)
            unanswered = sum(1 for ids in answered.values() if len(ids) < args.reports)
            print(f"{total} reports from {args.users} users in {elapsed:.1f} s; POSTs: {dict(stats)}")
            print(f"stored {len(rows)}; lost {lost}; duplicated {duplicated}; users not answered for every "
                  f"report {unanswered}; inbox rows left 'new' {inbox_left}")
            for u, ids in answered.items():
                if len(ids) < args.reports:
                    texts = [(m.get("text") or "")[:70].replace("\n", " ") for m in emu.messages(10_000 + u)]
                    print(f"  user {u}: {len(ids)} summaries; the bot's messages: {texts}")
            ok = lost == 0 and duplicated == 0 and unanswered == 0
            print("OK" if ok else "FAILED")
            return 0 if ok else 1
    finally:
        for replica in replicas:
            await replica.stop()
        if cluster is not None:
            local_pg.stop(cluster)
            shutil.rmtree(cluster, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--reports", type=int, default=10, help="reports per user")
    parser.add_argument("--pg", help="admin URL of a PostgreSQL server (default: a throw-away cluster)")
    parser.add_argument("--kill-after", type=float, default=0.5, help="share of reports sent before the kill")
    parser.add_argument("--down", type=float, default=3.0, help="seconds replica 1 stays down")
    parser.add_argument("--patience", type=float, default=20.0, help="seconds a user waits for an answer")
    parser.add_argument("--settle", type=float, default=120.0, help="seconds to wait for the last answers")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
