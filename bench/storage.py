"""Storage speed and size at 10k and 100k reports: insert rate, search latency, database size.

Synthetic reports are cut from the five seeds (paragraphs shuffled and mixed across seeds, unit
names, dates and figures varied) with hand-made Summary objects, so the figures do not depend on
the summariser. Most reports (80 %) sit in one scope and every query runs there: the worst case
for search. Targets: search p95 < 20 ms at 100k; inserts >= 1,000 reports/s in batches.

The queries include what search must get right (storage/search.py): a commune whose name folds
like common words ("Đức Chính": "giáo dục chính trị" folds the same, and 0.2 % of the reports
are the commune's), quoted phrases, abbreviations and expansions, and the worst case for a phrase
check: '"trị chính"', both words in every report, the phrase in none.

Usage: .venv/bin/python bench/storage.py [--n 10000 100000] [--batch 1000] [--rounds 5] [--keep DIR]
       [--reuse] [--no-optimize] [--backend sqlite postgresql] [--pg URL]
--reuse times the searches of a database kept before (--keep DIR) instead of building it.
--backend postgresql runs the same on PostgreSQL (a database per N on the server of --pg, an admin
URL; without it a throw-away local cluster, storage.local_pg); with both backends a side-by-side
table of the figures ends the run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import NewReport, Repository
from summariser.models import Item, Summary

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
SEED_UNITS = ["Gia Lộc", "Bình Gia", "Chi Lăng", "Lạng Giang"]
DISTRICTS = [
    "Gia Lộc", "Bình Gia", "Chi Lăng", "Lạng Giang", "Tân Yên", "Yên Thế", "Hiệp Hòa", "Việt Yên",
    "Lục Nam", "Lục Ngạn", "Sơn Động", "Yên Dũng", "Đình Lập", "Lộc Bình", "Cao Lộc", "Văn Lãng",
    "Tràng Định", "Bắc Sơn", "Hữu Lũng", "Văn Quan", "Thanh Hà", "Kinh Môn", "Nam Sách", "Ninh Giang",
    "Tứ Kỳ", "Cẩm Giàng", "Bình Giang", "Thanh Miện", "Kim Thành", "Đông Triều", "Hoành Bồ", "Ba Chẽ",
    "Đầm Hà", "Hải Hà", "Tiên Yên", "Bình Liêu", "Quảng Hà", "Mộc Châu", "Yên Châu", "Mai Sơn",
]  # fmt: skip
LEVELS = ["huyện", "xã", "thị trấn", "phường", "thị xã"]
PERIODS = ["tháng {m}/{y}", "quý {q} năm {y}", "6 tháng đầu năm {y}", "9 tháng năm {y}", "năm {y}"]
QUERIES = [
    "giải phóng mặt bằng",
    "giai phong mat bang",
    "giai phong mat b",
    "GPMB",
    "Đảng ủy",
    "dang uy",
    "xây dựng nông thôn mới",
    "xay dung nong thon moi",
    "thu ngân sách",
    "thu ngan sach",
    "chuyển đổi số",
    "chuyen doi so",
    "huyện Lục Ngạn",
    "huyen luc ngan",
    "cải cách hành chính",
    "cai cach hanh chinh",
    "an ninh trật tự",
    "an ninh trat tu",
    "sáp nhập đơn vị hành chính",
    "sap nhap don vi hanh chinh",
    "Tràng Định",
    "trang dinh",
    "hội nghị",
    "h",
    "báo cáo số 7777",
    "bao cao so 4711",
    # phrases, names and abbreviations (issue 12)
    "Đức Chính",
    "duc chinh",
    "xã Đức Chính",
    '"Đức Chính"',
    "UBND xã Đức Chính",
    '"giải phóng mặt bằng"',
    '"chính trị"',
    "“nông thôn mới”",
    '"trị chính"',
    "UBND",
    "ủy ban nhân dân",
    "KT-XH",
    "kinh tế - xã hội",
    "BCH",
    "HĐND",
    "QP-AN",
    "NSNN",
]
NAMED_SHARE = 0.002  # reports naming the commune "Đức Chính" (its own random stream)
MAIN_SCOPE = -1001
RECEIVED_EVERY_MIN = 15  # 100k reports over ~3 years: ~670 a week


def paragraphs() -> list[str]:
    out = []
    for path in SEEDS:
        for para in path.read_text(encoding="utf-8").split("\n"):
            para = " ".join(para.split())
            if len(para) > 60:
                out.append(para)
    return out


def sentences(paras: list[str]) -> list[str]:
    return [s.strip() for p in paras for s in re.split(r"(?<=[.;])\s+", p) if 30 < len(s.strip()) < 300]


class Corpus:
    """Deterministic synthetic reports."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.named = random.Random(seed + 1)  # a second stream: the other reports stay as they were
        self.paras = paragraphs()
        self.sentences = sentences(self.paras)
        self.units_re = re.compile("|".join(map(re.escape, SEED_UNITS)))

    def report(self, i: int, start: datetime) -> tuple[NewReport, Summary]:
        rng = self.rng
        district = rng.choice(DISTRICTS)
        unit = f"{rng.choice(LEVELS)} {district}"
        if self.named.random() < NAMED_SHARE:
            unit = "xã Đức Chính"
        meeting = date(2022, 1, 1) + timedelta(days=rng.randrange(4 * 365))
        y, m = meeting.year, meeting.month
        period = rng.choice(PERIODS).format(m=m, y=y, q=(m - 1) // 3 + 1)
        body = [self.units_re.sub(district, p) for p in rng.sample(self.paras, rng.randint(6, 14))]
        figures = f"Tổng thu ngân sách đạt {rng.randint(50, 120)},{rng.randint(0, 9)}% dự toán; {rng.randint(1, 30)}/{rng.randint(30, 40)} chỉ tiêu đạt và vượt."
        header = f"Ngày {meeting:%d/%m/%Y}, Ban Chấp hành Đảng bộ {unit} tổ chức hội nghị đánh giá {period} (báo cáo số {i})."
        text = "\n".join([header, figures, *body])
        scope = MAIN_SCOPE if rng.random() < 0.8 else -2000 - rng.randrange(20)
        new = NewReport(
            scope=scope,
            chat_id=scope,
            text=text,
            title=f"Hội nghị Ban Chấp hành Đảng bộ {unit} {period}",
            received_at=start + timedelta(minutes=RECEIVED_EVERY_MIN * i),
        )
        summary = Summary(
            unit=unit,
            date=meeting,
            period=period,
            results=[Item(text=s) for s in rng.sample(self.sentences, 4)],
            shortcomings=[Item(text=s) for s in rng.sample(self.sentences, 2)],
            tasks=[Item(text=s) for s in rng.sample(self.sentences, 4)],
            engine="bench",
            engine_version="1",
        )
        return new, summary


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def pg_database(admin_url: str, name: str) -> str:
    """A new database `name` (dropped first) on the server of `admin_url`; its URL."""
    import asyncpg

    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def pg_size(repo: Repository) -> int:
    return int((await repo._rows("SELECT pg_database_size(current_database())"))[0][0])


async def run(
    n: int, batch: int, rounds: int, directory: Path, optimize: bool = True, pg_admin: str | None = None
) -> dict[str, float]:
    """Build and time one database; the figures of the summary table."""
    path = directory / f"bench-{n}.sqlite3"
    for old in directory.glob(path.name + "*"):
        old.unlink()
    corpus = Corpus()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    target = await pg_database(pg_admin, f"bench_{n}") if pg_admin else str(path)
    repo = await Repository.open(target)
    insert_s = summary_s = 0.0
    text_bytes = 0
    for first in range(0, n, batch):
        pairs = [corpus.report(i, start) for i in range(first, min(n, first + batch))]
        text_bytes += sum(len(p[0].text.encode()) for p in pairs)
        t = time.perf_counter()
        added = await repo.add_reports([p[0] for p in pairs])
        insert_s += time.perf_counter() - t
        t = time.perf_counter()
        await repo.save_summaries(
            [(stored.id, p[1]) for (stored, created), p in zip(added, pairs, strict=True) if created]
        )
        summary_s += time.perf_counter() - t
    await repo.close()  # the last connection checkpoints and removes the WAL

    repo = await Repository.open(target)  # new connections; the OS cache is still warm
    size = await pg_size(repo) if pg_admin else size_of(path)
    main_reports = len(await repo.latest(MAIN_SCOPE, n))
    print(
        f"\n=== {repo.backend}: N = {n:,} reports ({main_reports:,} in the searched scope), "
        f"{text_bytes / 1e6:.0f} MB of text"
    )
    print(f"insert  (add_reports, batches of {batch}): {n / insert_s:,.0f} reports/s ({insert_s:.1f} s)")
    print(f"summary (save_summaries, same batches):   {n / summary_s:,.0f} reports/s ({summary_s:.1f} s)")
    print(f"insert + summary:                         {n / (insert_s + summary_s):,.0f} reports/s")
    print(f"database size: {size / 1e6:,.0f} MB ({size / n / 1024:.1f} KiB/report)")
    await lookup_latency(repo, start + timedelta(minutes=RECEIVED_EVERY_MIN * n // 2))
    figures = {"insert/s": n / insert_s, "insert+summary/s": n / (insert_s + summary_s), "MB": size / 1e6}
    figures["search p95 ms"] = await search_latency(repo, rounds, "as inserted")
    if optimize:
        t = time.perf_counter()
        await repo.optimize_index()
        print(f"optimize_index: {time.perf_counter() - t:.1f} s")
        figures["search p95 ms"] = await search_latency(repo, rounds, "after optimize_index")
    await repo.close()
    return figures


async def reuse(path: Path, rounds: int) -> None:
    """Search latency of a database built before (the OS cache warmed by one round first)."""
    repo = await Repository.open(path)
    print(f"\n=== {path}")
    await search_latency(repo, 1, "warm-up")
    await search_latency(repo, rounds, "kept database")
    await repo.close()


async def lookup_latency(repo: Repository, middle: datetime) -> None:
    """The other queries the bot runs, in the big scope."""
    week = (middle, middle + timedelta(days=7))
    calls = {
        "latest(5)": lambda: repo.latest(MAIN_SCOPE, 5),
        "get_report": lambda: repo.get_report(MAIN_SCOPE, 1),
        "by_unit('luc ngan', 20)": lambda: repo.by_unit(MAIN_SCOPE, "luc ngan"),
        "by_period('6 thang dau nam 2024')": lambda: repo.by_period(MAIN_SCOPE, "6 thang dau nam 2024"),
        "by_date_range(one month)": lambda: repo.by_date_range(
            MAIN_SCOPE, date(2024, 3, 1), date(2024, 3, 31)
        ),
        "received_between(one week)": lambda: repo.received_between(MAIN_SCOPE, *week),
        "section_items(tasks, one week)": lambda: repo.section_items(
            MAIN_SCOPE, "tasks", since=week[0], until=week[1]
        ),
        "unit_counts": lambda: repo.unit_counts(MAIN_SCOPE),
        "pending_reports": repo.pending_reports,
    }
    print("lookups (median of 5):")
    for name, call in calls.items():
        times, size = [], 0
        for _ in range(5):
            t = time.perf_counter()
            result = await call()
            times.append((time.perf_counter() - t) * 1000)
            size = len(result) if isinstance(result, list) else int(result is not None)
        print(f"    {name:36} {statistics.median(times):7.1f} ms  ({size} rows)")


async def search_latency(repo: Repository, rounds: int, label: str) -> float:
    latencies: dict[str, list[float]] = {q: [] for q in QUERIES}
    totals: dict[str, str] = {}
    for _ in range(rounds):
        for q in QUERIES:
            t = time.perf_counter()
            page = await repo.search(MAIN_SCOPE, q, limit=5)
            latencies[q].append((time.perf_counter() - t) * 1000)
            totals[q] = f"{page.total:,}{'+' if page.capped else ''}"
    every = [v for values in latencies.values() for v in values]
    print(
        f"search, {label} ({len(QUERIES)} queries x {rounds} rounds, page of 5 + total + snippets): "
        f"p50 {statistics.median(every):.1f} ms, p95 {pct(every, 0.95):.1f} ms, max {max(every):.1f} ms"
    )
    for q in QUERIES:
        print(f"    {q!r:32} matches {totals[q]:>7}  median {statistics.median(latencies[q]):6.1f} ms")
    return pct(every, 0.95)


def side_by_side(results: dict[tuple[str, int], dict[str, float]]) -> None:
    print("\n=== side by side")
    names = ["insert/s", "insert+summary/s", "search p95 ms", "MB"]
    print(f"{'backend':<12}{'N':>9}" + "".join(f"{name:>18}" for name in names))
    for (backend, n), figures in results.items():
        print(f"{backend:<12}{n:>9,}" + "".join(f"{figures[name]:>18,.1f}" for name in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000], help="report counts")
    parser.add_argument("--batch", type=int, default=1000, help="reports per add_reports call")
    parser.add_argument("--rounds", type=int, default=5, help="times each query is timed")
    parser.add_argument("--keep", type=Path, help="write the databases here (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="time the searches of a kept database")
    parser.add_argument("--no-optimize", action="store_true", help="stop before optimize_index")
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite"])
    parser.add_argument("--pg", help="admin URL of a PostgreSQL server (default: a throw-away local cluster)")
    args = parser.parse_args()
    if args.reuse:
        if not args.keep:
            parser.error("--reuse needs --keep DIR")
        for n in args.n:
            asyncio.run(reuse(args.keep / f"bench-{n}.sqlite3", args.rounds))
        return
    with tempfile.TemporaryDirectory(prefix="storage-bench-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        pg_admin = args.pg
        cluster = None
        if "postgresql" in args.backend and not pg_admin:
            from storage import local_pg

            cluster = Path(tempfile.mkdtemp(prefix="storage-bench-pg-"))  # the server's own (not tmp's 0700)
            pg_admin = local_pg.start(cluster)
        results: dict[tuple[str, int], dict[str, float]] = {}
        try:
            for n in args.n:
                for backend in args.backend:
                    results[(backend, n)] = asyncio.run(
                        run(n, args.batch, args.rounds, directory, not args.no_optimize,
                            pg_admin if backend == "postgresql" else None)
                    )
                    if not args.keep:
                        for old in directory.glob("bench-*"):
                            old.unlink()
        finally:
            if cluster is not None:
                from storage import local_pg

                local_pg.stop(cluster)
                shutil.rmtree(cluster, ignore_errors=True)
        side_by_side(results)


if __name__ == "__main__":
    main()
