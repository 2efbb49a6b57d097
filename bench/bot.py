"""End-to-end latency of the bot through the Bot API emulator.

N simulated users (default 20) send the seed reports concurrently; each user waits for the reply
to one report before sending the next. Latency = update queued in the emulator -> the summary
message received by the emulator (python-telegram-bot's real HTTP path, long polling, the
repository on disk, the extractive summariser in an executor). Prints p50/p95/max and reports/s,
the Bot API calls per report and the CPU each process spent per report.

What runs where: the bot is `python -m bot` (the real polling entry point) in its own process,
as in production; the emulator (standing for Telegram's servers, which never share the bot's
machine, let alone its event loop) and the simulated users run in this bench process, so their
JSON and HTTP work is not charged to the bot's interpreter. Both share this machine's cores.
`--in-process` puts the bot in the bench's event loop instead (the older, pessimistic setup).

Scenarios: text messages and .txt documents (read in the bot's Extractor worker processes), each
as a burst (users send again the moment a summary arrives: saturation) and paced (--think: users
read a summary before sending the next, as people do). The bot runs with its default settings
(BOT_MERGE_WINDOW included: a text report is answered at once; the window only says how far apart a
continuation of it may come, issue 13) unless --merge-window is given.
Target: p95 < 150 ms at 20 concurrent users, paced; the bench prints whether it is met.

The bot keeps Telegram's overall flood limit (~30 messages/s across chats: PTB's AIORateLimiter),
so a burst of N users sending back to back cannot get more than ~30 summaries/s once the
limiter's initial allowance of 30 is spent; by Little's law their mean latency then tends to
N / 30 s (667 ms for 20 users), however fast the bot is.
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
from collections import Counter
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
PROFILE: str | None = None  # cProfile output path for the bot process (set from --profile)
BOT_PIDS: list[int] = []  # the bot process (for its CPU time)
SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
TARGET_P95_MS = 150.0  # issue 13: message -> summary, default settings, 20 users
VERDICTS: list[str] = []  # one line per paced scenario, printed at the end


def _proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and its live descendants (the summariser worker
    processes when BOT_WORKERS is set), from Linux /proc."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _proc_stat(int(entry.name))) is not None:
            stats[int(entry.name)] = fields
            parents[int(entry.name)] = int(fields[1])
    total = 0.0
    for pid, fields in stats.items():
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            total += sum(int(x) for x in fields[11:13]) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def wait_summary(emu: BotAPIEmulator, chat_id: int, seen: int, timeout: float = 60.0) -> dict:
    """The first message after `seen` that carries the report buttons (the summary)."""
    deadline = time.monotonic() + timeout
    while True:
        # wakes on the bot's calls but copies the chat's messages only when a new one arrived
        messages = await emu.wait_for_messages(chat_id, seen + 1, max(0.0, deadline - time.monotonic()))
        for message in messages[seen:]:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if any(b.get("callback_data", "").startswith("full:") for row in rows for b in row):
                return message
            if "Có lỗi" in (message.get("text") or ""):
                raise RuntimeError(f"bot error for chat {chat_id}: {message.get('text')}")
        seen = len(messages)


async def user(emu: BotAPIEmulator, chat_id: int, reports: int, mode: str, offset: int,
               think: float = 0.0) -> list[tuple[float, float]]:
    """One official: send a report, wait for its summary, read it for ~`think` s, send the next.
    Returns (latency, of which waiting to be fetched by getUpdates) per report, in seconds."""
    rng = random.Random(chat_id)
    latencies = []
    for i in range(reports):
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        text = SEEDS[(offset + i) % len(SEEDS)] + f"\n(Bản gửi {chat_id}-{i})"  # distinct: no duplicates
        seen = len(emu.messages(chat_id))
        start = time.monotonic()
        if mode == "text":
            update = emu.send_text(chat_id, chat_id, text)
        else:
            update = emu.send_document(chat_id, chat_id, f"bao_cao_{i}.txt", text.encode("utf-8"))
        message = await wait_summary(emu, chat_id, seen)
        latencies.append((message["_sent_at"] - start, emu.delivered_at[update["update_id"]] - start))
    return latencies


@contextlib.asynccontextmanager
async def bot_in_process(emu: BotAPIEmulator, tmp: str, merge_window: float | None) -> AsyncIterator[None]:
    repo = await Repository.open(Path(tmp) / "bench.sqlite3")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=emu.token,
        bot_api_base_url=emu.base_url,
        bot_api_file_url=emu.base_file_url,
        database=str(Path(tmp) / "bench.sqlite3"),
        access="open",
        engine="extractive",
        workers=WORKERS,
        **({} if merge_window is None else {"merge_window": merge_window}),
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
async def bot_process(emu: BotAPIEmulator, tmp: str, merge_window: float | None) -> AsyncIterator[None]:
    """`python -m bot` with BOT_TOKEN set (the real polling entry point), in its own process: the
    emulator's work then does not share the bot's interpreter, as with the real Telegram."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        BOT_TOKEN=emu.token, BOT_API_BASE_URL=emu.base_url, BOT_API_FILE_URL=emu.base_file_url,
        BOT_DATABASE=str(Path(tmp) / "bench.sqlite3"), BOT_ACCESS="open", BOT_ENGINE="extractive",
        BOT_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), BOT_WORKERS=str(WORKERS),
    )
    if merge_window is not None:
        env["BOT_MERGE_WINDOW"] = str(merge_window)
    log_path = Path(tmp) / "bot.log"
    log_file = log_path.open("wb")
    profile = ["-m", "cProfile", "-o", str(Path(PROFILE).resolve())] if PROFILE else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *profile, "-m", "bot", cwd=tmp, env=env, stdout=log_file, stderr=log_file
    )
    BOT_PIDS[:] = [proc.pid]
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


async def scenario(users: int, reports: int, mode: str, merge_window: float | None, think: float = 0.0,
                   separate: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        emu = BotAPIEmulator()
        await emu.start()
        runner = bot_process if separate else bot_in_process
        try:
            async with runner(emu, tmp, merge_window):
                await user(emu, 999_999, 2, mode, 0)  # warm-up (imports, caches); not counted
                bot_pid = BOT_PIDS[0] if separate else os.getpid()
                cpu0 = cpu_seconds(bot_pid), time.process_time()
                first_call = len(emu.calls)
                t0 = time.monotonic()
                results = await asyncio.gather(
                    *(user(emu, 10_000 + u, reports, mode, u, think) for u in range(users))
                )
                wall = time.monotonic() - t0
                bot_cpu, bench_cpu = cpu_seconds(bot_pid) - cpu0[0], time.process_time() - cpu0[1]
                calls = Counter(method for method, _ in emu.calls[first_call:])
        finally:
            await emu.stop()
    latencies = [x[0] * 1000 for r in results for x in r]
    fetch = [x[1] * 1000 for r in results for x in r]
    inside = [(x[0] - x[1]) * 1000 for r in results for x in r]
    window = "default" if merge_window is None else f"{merge_window:g} s"
    label = f"text, merge window {window}" if mode == "text" else "document (.txt)"
    label += f", think {think:g} s" if think else ", burst"
    label += "" if separate else " (in-process)"
    p95 = percentile(latencies, 95)
    print(
        f"{label:<48} users={users:<3} reports={len(latencies):<4} "
        f"p50={statistics.median(latencies):6.1f} ms  p95={p95:6.1f} ms  "
        f"max={max(latencies):6.1f} ms  reports/s={len(latencies) / wall:5.1f}"
    )
    if think:  # the target is for people reading their summaries; bursts are capped by the flood limit
        verdict = "met" if p95 < TARGET_P95_MS else "NOT met"
        VERDICTS.append(f"target p95 < {TARGET_P95_MS:.0f} ms from message to summary, {label}: "
                        f"p95 {p95:.1f} ms, {verdict}")
    n = len(latencies)
    print(f"{'':<48} of which queued -> fetched by getUpdates: p50={statistics.median(fetch):6.1f} ms "
          f"p95={percentile(fetch, 95):6.1f} ms; fetched -> summary sent: p50={statistics.median(inside):6.1f} ms "
          f"p95={percentile(inside, 95):6.1f} ms")
    per_report = ", ".join(f"{method} {count / n:.2f}" for method, count in sorted(calls.items()))
    print(f"{'':<48} Bot API calls per report: {per_report}")
    if separate:
        print(f"{'':<48} CPU per report: bot process {bot_cpu / n * 1000:5.1f} ms, "
              f"bench process (emulator + users) {bench_cpu / n * 1000:5.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--reports", type=int, default=5, help="reports per user (the seeds, in turn)")
    parser.add_argument("--merge-window", type=float, default=None,
                        help="BOT_MERGE_WINDOW for the bot (default: the bot's own default, 2 s)")
    parser.add_argument("--mode", choices=["text", "document", "both"], default="both")
    parser.add_argument("--workers", type=int, default=0,
                        help="BOT_WORKERS: summariser processes (0 = a thread in the bot process)")
    parser.add_argument("--in-process", action="store_true",
                        help="run the bot in the bench's process (default: `python -m bot` in its own)")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a user reads a summary before sending the next (paced runs)")
    parser.add_argument("--profile", metavar="PATH",
                        help="run the bot process under cProfile and write its stats to PATH (one scenario: "
                             "use with --mode and --think 0)")
    args = parser.parse_args()
    global WORKERS, PROFILE
    WORKERS, PROFILE = args.workers, args.profile
    logging.basicConfig(level=logging.WARNING)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    where = ("bot, emulator and users in the bench process (one event loop)" if args.in_process else
             "bot: `python -m bot` in its own process; emulator + simulated users: the bench process")
    print(f"bench/bot.py: {args.users} concurrent users x {args.reports} seed reports, extractive engine, "
          f"BOT_WORKERS={args.workers}; {where}; latency = update queued in the emulator -> summary "
          f"received by the emulator; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    modes = ["text", "document"] if args.mode == "both" else [args.mode]
    for mode in modes:  # burst: every user sends again as soon as answered (saturation)
        asyncio.run(scenario(args.users, args.reports, mode, args.merge_window, 0.0, not args.in_process))
    if args.think > 0:  # paced: people read the summary before sending the next report
        for mode in modes:
            asyncio.run(scenario(args.users, args.reports, mode, args.merge_window, args.think, not args.in_process))
    print(f"note: bursts are capped by Telegram's flood limit the bot keeps (30 messages/s after an allowance of "
          f"30): {args.users} users sending back to back for long wait about {args.users / 30 * 1000:.0f} ms "
          f"on average, however fast the bot is.")
    for line in VERDICTS:
        print(line)


if __name__ == "__main__":
    main()
