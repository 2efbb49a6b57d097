"""The measured bombs read three at a time through `documents.isolated.Extractor`, with a plain
.txt report read meanwhile: what each costs the bot (issue 13).

    .venv/bin/python bench/extraction.py [--readers guarded,unguarded] [--copies 3] [--workers 2]
                                         [--memory-mb 1024] [--cpu 40] [--timeout 60]

`guarded` reads with `documents.read` (the readers' structural guards answer first); `unguarded`
reads .docx with bare python-docx and .pdf with bare pdfminer, so only the worker's memory and CPU
limits stop them. Per run it prints when each file answered (seconds from the start) and how, the
bystander's latency (alone first, then beside the bombs), and the peak RSS of this process and of
its reaped children (`RUSAGE_CHILDREN`: the largest worker so far, cumulative across runs).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from documents.errors import ReadError  # noqa: E402
from documents.isolated import Extractor  # noqa: E402
from tests.isolated_helpers import docx_bomb, pdf_bomb  # noqa: E402

READERS = {"guarded": "documents.reader:read", "unguarded": "tests.isolated_helpers:unguarded"}
BYSTANDER = ("BÁO CÁO\nKết quả thực hiện nhiệm vụ tháng 11 năm 2023\n\nI. KẾT QUẢ\n"
             "Thu ngân sách đạt 812 tỷ đồng, bằng 95% dự toán.\nII. NHIỆM VỤ THÁNG 12\n"
             "Phấn đấu hoàn thành 100% kế hoạch năm.\n").encode()


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


async def _timed(extractor: Extractor, data: bytes, name: str, timeout: float, t0: float) -> tuple[str, float, str]:
    try:
        doc = await extractor.read(data, name, timeout=timeout)
        how = f"ok ({len(doc.text())} chars)"
    except ReadError as exc:
        how = f"ReadError: {exc.en[:70]}"
    return name, time.monotonic() - t0, how


async def run(reader: str, copies: int, workers: int, memory_mb: int, cpu: float, timeout: float) -> None:
    """One round: warm the workers, time the bystander alone, then the bombs with the bystander."""
    bombs = [(docx_bomb(), f"bomb{i}.docx") for i in range(copies)]
    bombs += [(pdf_bomb(), f"bomb{i}.pdf") for i in range(copies)]
    with Extractor(workers, memory_bytes=memory_mb << 20, cpu_seconds=cpu, reader=READERS[reader]) as extractor:
        await asyncio.gather(*(extractor.read(BYSTANDER, "warm.txt") for _ in range(workers)))
        t0 = time.monotonic()
        await extractor.read(BYSTANDER, "alone.txt")
        alone = time.monotonic() - t0
        t0 = time.monotonic()
        tasks = [asyncio.create_task(_timed(extractor, data, name, timeout, t0)) for data, name in bombs]
        await asyncio.sleep(0.2)  # the bombs hold the workers (or queue for them) first
        sent = time.monotonic() - t0
        bystander = await _timed(extractor, BYSTANDER, "bystander.txt", timeout, t0)
        results = await asyncio.gather(*tasks)
    print(f"\n== {reader}: {copies} x docx bomb ({len(bombs[0][0]) // 1024} KB) + {copies} x pdf bomb "
          f"({len(bombs[-1][0]) // 1024} KB), {workers} workers, {memory_mb} MB, {cpu:g} s CPU, "
          f"timeout {timeout:g} s")
    for name, seconds, how in sorted(results, key=lambda r: r[1]):
        print(f"  {name:<14} answered at {seconds:6.1f} s  {how}")
    print(f"  bystander.txt  sent at {sent:.1f} s, answered at {bystander[1]:.1f} s: latency "
          f"{bystander[1] - sent:.2f} s (alone {alone:.2f} s)  {bystander[2]}")
    print(f"  peak RSS: this process {_peak_mb(resource.RUSAGE_SELF):.0f} MB, "
          f"largest child so far {_peak_mb(resource.RUSAGE_CHILDREN):.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", default="guarded,unguarded")
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--cpu", type=float, default=40.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    for reader in args.readers.split(","):
        asyncio.run(run(reader.strip(), args.copies, args.workers, args.memory_mb, args.cpu, args.timeout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
