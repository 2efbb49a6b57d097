"""End-to-end latency of the bot through the Bot API emulator.

N simulated users (default 20) send the seed reports concurrently; each user waits for the reply
to one report before sending the next. Latency = update queued in the emulator -> the summary
message received by the emulator (python-telegram-bot's real HTTP path, long polling, the
repository on disk, the extractive summariser in an executor). Prints p50/p95/max and reports/s.

Two scenarios: text messages (the merge window is a configured wait that every text report
pays before processing; it is set by --merge-window, default 0 to measure the processing path)
and .txt documents (no merge wait). Target: p95 < 150 ms at 20 concurrent users.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.app import build_application  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.emulator import BotAPIEmulator  # noqa: E402
from storage import Repository  # noqa: E402

WORKERS = 0  # BOT_WORKERS for the bot under test (set from --workers)
SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def wait_summary(emu: BotAPIEmulator, chat_id: int, seen: int, timeout: float = 60.0) -> dict:
    """The first message after `seen` that carries the report buttons (the summary)."""
    deadline = time.monotonic() + timeout
    while True:
        messages = emu.messages(chat_id)
        for message in messages[seen:]:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if any(b.get("callback_data", "").startswith("full:") for row in rows for b in row):
                return message
            if "Có lỗi" in (message.get("text") or ""):
                raise RuntimeError(f"bot error for chat {chat_id}: {message.get('text')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no summary for chat {chat_id}")
        await emu._wait_activity(0.05)  # wakes on every call the bot makes


async def user(emu: BotAPIEmulator, chat_id: int, reports: int, mode: str, offset: int,
               think: float = 0.0) -> list[float]:
    """One official: send a report, wait for its summary, read it for ~`think` s, send the next."""
    rng = random.Random(chat_id)
    latencies = []
    for i in range(reports):
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        text = SEEDS[(offset + i) % len(SEEDS)] + f"\n(Bản gửi {chat_id}-{i})"  # distinct: no duplicates
        seen = len(emu.messages(chat_id))
        start = time.monotonic()
        if mode == "text":
            emu.send_text(chat_id, chat_id, text)
        else:
            emu.send_document(chat_id, chat_id, f"bao_cao_{i}.txt", text.encode("utf-8"))
        message = await wait_summary(emu, chat_id, seen)
        latencies.append(message["_sent_at"] - start)
    return latencies


@contextlib.asynccontextmanager
async def bot_in_process(emu: BotAPIEmulator, tmp: str, merge_window: float) -> AsyncIterator[None]:
    repo = await Repository.open(Path(tmp) / "bench.sqlite3")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=emu.token,
        bot_api_base_url=emu.base_url,
        bot_api_file_url=emu.base_file_url,
        database=str(Path(tmp) / "bench.sqlite3"),
        access="open",
        merge_window=merge_window,
        engine="extractive",
        workers=WORKERS,
    )
    app = build_application(settings, repo=repo)
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()
        await app.post_stop(app)
        await app.shutdown()
        await repo.close()


@contextlib.asynccontextmanager
async def bot_process(emu: BotAPIEmulator, tmp: str, merge_window: float) -> AsyncIterator[None]:
    """`python -m bot` with BOT_TOKEN set (the real polling entry point), in its own process: the
    emulator's work then does not share the bot's interpreter, as with the real Telegram."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        BOT_TOKEN=emu.token, BOT_API_BASE_URL=emu.base_url, BOT_API_FILE_URL=emu.base_file_url,
        BOT_DATABASE=str(Path(tmp) / "bench.sqlite3"), BOT_ACCESS="open", BOT_ENGINE="extractive",
        BOT_MERGE_WINDOW=str(merge_window), BOT_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT),
        BOT_WORKERS=str(WORKERS),
    )
    log_path = Path(tmp) / "bot.log"
    log_file = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp, env=env, stdout=log_file, stderr=log_file
    )
    try:
        try:
            deadline = time.monotonic() + 60
            while not any(method == "getUpdates" for method, _ in emu.calls):
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bot process did not start polling")
                await asyncio.sleep(0.05)
            yield
        except Exception:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            print(f"--- bot process (exit code {proc.returncode}) log tail ---\n{tail}", file=sys.stderr)
            raise
    finally:
        log_file.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def scenario(users: int, reports: int, mode: str, merge_window: float, think: float = 0.0,
                   separate: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        emu = BotAPIEmulator()
        await emu.start()
        runner = bot_process if separate else bot_in_process
        try:
            async with runner(emu, tmp, merge_window):
                await user(emu, 999_999, 2, mode, 0)  # warm-up (imports, caches); not counted
                t0 = time.monotonic()
                results = await asyncio.gather(
                    *(user(emu, 10_000 + u, reports, mode, u, think) for u in range(users))
                )
                wall = time.monotonic() - t0
        finally:
            await emu.stop()
    latencies = [x * 1000 for r in results for x in r]
    label = f"text, merge window {merge_window:g} s" if mode == "text" else "document (.txt)"
    label += f", think {think:g} s" if think else ", burst"
    label += "" if separate else " (in-process)"
    print(
        f"{label:<40} users={users:<3} reports={len(latencies):<4} "
        f"p50={statistics.median(latencies):6.1f} ms  p95={percentile(latencies, 95):6.1f} ms  "
        f"max={max(latencies):6.1f} ms  reports/s={len(latencies) / wall:5.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--reports", type=int, default=5, help="reports per user (the seeds, in turn)")
    parser.add_argument("--merge-window", type=float, default=0.0)
    parser.add_argument("--mode", choices=["text", "document", "both"], default="both")
    parser.add_argument("--workers", type=int, default=0,
                        help="BOT_WORKERS: summariser processes (0 = a thread in the bot process)")
    parser.add_argument("--in-process", action="store_true",
                        help="run the bot in the bench's process (default: `python -m bot` in its own)")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a user reads a summary before sending the next (paced runs)")
    args = parser.parse_args()
    global WORKERS
    WORKERS = args.workers
    logging.basicConfig(level=logging.WARNING)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    where = "in the bench process" if args.in_process else "`python -m bot` in its own process"
    print(f"bench/bot.py: {args.users} concurrent users x {args.reports} seed reports, extractive engine, "
          f"BOT_WORKERS={args.workers}, bot {where}; latency = update queued -> summary received by the emulator")
    modes = ["text", "document"] if args.mode == "both" else [args.mode]
    for mode in modes:  # burst: every user sends again as soon as answered (saturation)
        asyncio.run(scenario(args.users, args.reports, mode, args.merge_window, 0.0, not args.in_process))
    if args.think > 0:  # paced: people read the summary before sending the next report
        for mode in modes:
            asyncio.run(scenario(args.users, args.reports, mode, args.merge_window, args.think, not args.in_process))
    if args.merge_window == 0 and "text" in modes:
        print("note: with the default BOT_MERGE_WINDOW (2 s) every text report waits that long "
              "before processing; documents and links do not wait.")


if __name__ == "__main__":
    main()
