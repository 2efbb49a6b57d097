"""documents.isolated: files read in worker processes bounded in memory, CPU and time (issue 13).

Misbehaving readers come from tests/isolated_helpers.py (named by dotted path, resolved in the
worker). Timing is only asserted generously (the timeout plus 10 s); the machine is shared.
"""

from __future__ import annotations

import asyncio
import io
import os
import resource
import time
from pathlib import Path

import docx
import pytest

import documents
from documents.errors import ReadError
from documents.isolated import TOO_COMPLEX, Extractor, _is_light, read_isolated
from tests import isolated_helpers as helpers

HELPERS = "tests.isolated_helpers"
TEXT = ("ĐẢNG BỘ HUYỆN YÊN ĐỊNH\nBÁO CÁO\nKết quả thực hiện nhiệm vụ quý III năm 2023\n\n"
        "I. KẾT QUẢ ĐẠT ĐƯỢC\n1. Kinh tế\nTổng giá trị sản xuất đạt 1.250 tỷ đồng, tăng 8,5% so với cùng kỳ.\n"
        "II. NHIỆM VỤ QUÝ IV\nTập trung thu ngân sách, phấn đấu đạt 100% dự toán.\n").encode()


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("BÁO CÁO KẾT QUẢ QUÝ III", level=1)
    document.add_paragraph("Tổng giá trị sản xuất đạt 1.250 tỷ đồng, tăng 8,5% so với cùng kỳ.")
    document.add_heading("Nhiệm vụ quý IV", level=2)
    document.add_paragraph("Phấn đấu thu ngân sách đạt 100% dự toán.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Chỉ tiêu", "Kết quả"
    table.cell(1, 0).text, table.cell(1, 1).text = "Thu ngân sách", "812 tỷ đồng"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _alive(pid: int) -> bool:
    """True while the process exists (a zombie counts: it is not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _running(pid: int) -> bool:
    """True while the process exists and is no zombie (an orphan's reaping is up to init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------------ normal files
async def test_docx_and_text_read_in_a_worker_equal_the_direct_read() -> None:
    data = _docx_bytes()
    with Extractor(2) as extractor:
        isolated_docx = await extractor.read(data, "bao_cao.docx")
        isolated_text = await extractor.read(TEXT, "bao_cao.txt")
        pids = extractor.worker_pids()
    assert isolated_docx == documents.read(data, "bao_cao.docx")
    assert isolated_docx.source == "docx" and any(b.kind == "table" for b in isolated_docx.blocks)
    assert isolated_text == documents.read(TEXT, "bao_cao.txt")
    assert "1.250 tỷ đồng" in isolated_text.text()
    assert pids and os.getpid() not in pids  # it really ran elsewhere


async def test_a_readers_own_error_passes_through_unchanged() -> None:
    """Guards inside the readers keep their own message; the worker survives them."""
    with Extractor(1) as extractor:
        with pytest.raises(ReadError) as empty:
            await extractor.read(b"   \n ", "rong.txt")
        with pytest.raises(ReadError) as legacy:
            await extractor.read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "cu.doc")
        pid = extractor.worker_pids()
        assert (await extractor.read(TEXT, "a.txt")).blocks
        assert extractor.worker_pids() == pid
    assert empty.value.vi == "Tệp rỗng, không có nội dung." and empty.value.en == "empty file"
    assert ".doc" in legacy.value.vi and legacy.value.vi != TOO_COMPLEX


async def test_a_reader_bug_is_a_read_error_and_the_worker_stays() -> None:
    with Extractor(1, reader=f"{HELPERS}:raise_value_error") as extractor:
        with pytest.raises(ReadError) as caught:
            await extractor.read(TEXT, "a.txt")
        first = extractor.worker_pids()
        with pytest.raises(ReadError):
            await extractor.read(TEXT, "a.txt")
        assert extractor.worker_pids() == first
    assert "ValueError" in caught.value.en and caught.value.vi


# ------------------------------------------------------------------------------------------ limits
@pytest.mark.parametrize("reader", ["allocate_3gb", "grow_until_refused"])
async def test_memory_beyond_the_limit_is_too_complex_and_the_next_file_is_read(reader: str) -> None:
    with Extractor(1, memory_bytes=512 << 20, reader=f"{HELPERS}:by_name") as extractor:
        extractor.reader = f"{HELPERS}:{reader}"
        with pytest.raises(ReadError) as caught:
            await extractor.read(TEXT, "a.txt")
        assert caught.value.vi == TOO_COMPLEX
        assert extractor.worker_pids() == []  # replaced: a new one starts with the next file
        extractor.reader = f"{HELPERS}:by_name"
        assert await extractor.read(TEXT, "a.txt") == documents.read(TEXT, "a.txt")


async def test_cpu_limit_kills_a_spinning_worker_and_the_pool_recovers() -> None:
    with Extractor(1, cpu_seconds=2, reader=f"{HELPERS}:by_name") as extractor:
        started = time.monotonic()
        with pytest.raises(ReadError) as caught:
            await extractor.read(b"x", "spin.bin", timeout=120)
        assert time.monotonic() - started < 120  # the CPU limit, not the timeout, ended it
        assert caught.value.vi == TOO_COMPLEX and "died" in caught.value.en
        assert await extractor.read(TEXT, "a.txt") == documents.read(TEXT, "a.txt")


async def test_timeout_kills_the_worker_and_returns_in_time(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with Extractor(1, reader=f"{HELPERS}:by_name") as extractor:
        started = time.monotonic()
        with pytest.raises(ReadError) as caught:
            await extractor.read(str(pid_file).encode(), "sleep.bin", timeout=5)
        assert time.monotonic() - started < 5 + 10
        pid = int(pid_file.read_text())
        assert not _alive(pid)  # killed and reaped, not left sleeping
        assert caught.value.vi == TOO_COMPLEX and "timed out" in caught.value.en
        assert await extractor.read(TEXT, "a.txt") == documents.read(TEXT, "a.txt")


async def test_timeout_also_kills_the_programs_the_worker_started(tmp_path: Path) -> None:
    """OCR runs Tesseract as a child: killing only the worker would leave it running."""
    pid_file = tmp_path / "pid"
    with Extractor(1, reader=f"{HELPERS}:by_name") as extractor, pytest.raises(ReadError):
        await extractor.read(str(pid_file).encode(), "child.bin", timeout=3)
    child = int(pid_file.read_text())
    for _ in range(100):  # SIGKILL is delivered at once, the state in /proc may lag a little
        if not _running(child):
            break
        await asyncio.sleep(0.05)
    assert not _running(child)


async def test_a_worker_that_dies_is_replaced() -> None:
    with Extractor(1, reader=f"{HELPERS}:by_name") as extractor:
        with pytest.raises(ReadError) as caught:
            await extractor.read(b"x", "die.bin")
        assert caught.value.vi == TOO_COMPLEX
        assert await extractor.read(TEXT, "a.txt") == documents.read(TEXT, "a.txt")


async def test_cancelled_read_kills_its_worker(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with Extractor(1, reader=f"{HELPERS}:by_name") as extractor:
        task = asyncio.create_task(extractor.read(str(pid_file).encode(), "sleep.bin", timeout=300))
        for _ in range(600):
            if pid_file.exists() and pid_file.read_text():
                break
            await asyncio.sleep(0.05)
        pid = int(pid_file.read_text())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not _alive(pid)
        assert await extractor.read(TEXT, "a.txt") == documents.read(TEXT, "a.txt")


async def test_a_bomb_does_not_fail_a_bystander_in_the_other_worker() -> None:
    """One pool per worker: a worker's death fails only its own file (a shared
    ProcessPoolExecutor fails every future in flight when one worker dies)."""
    with Extractor(2, cpu_seconds=2, reader=f"{HELPERS}:by_name") as extractor:
        await asyncio.gather(extractor.read(TEXT, "warm.txt"), extractor.read(TEXT, "warm.txt"))
        spin = asyncio.create_task(extractor.read(b"x", "spin.bin", timeout=120))
        dying = asyncio.create_task(extractor.read(b"x", "die.bin"))
        bystanders = [await extractor.read(TEXT, f"{i}.txt") for i in range(3)]
        results = await asyncio.gather(spin, dying, return_exceptions=True)
    assert all(b == documents.read(TEXT, "a.txt") for b in bystanders)
    assert all(isinstance(r, ReadError) and r.vi == TOO_COMPLEX for r in results)


async def test_plain_text_is_answered_while_every_general_worker_is_busy(tmp_path: Path) -> None:
    """The measured failure: bombs held the shared workers and a .txt report waited (72 s here,
    300 s before issue 13). The plain-text lane answers it at once."""
    pid_file = tmp_path / "pid"
    with Extractor(1, reader=f"{HELPERS}:by_name") as extractor:
        busy = asyncio.create_task(extractor.read(str(pid_file).encode(), "sleep.bin", timeout=300))
        for _ in range(600):
            if pid_file.exists() and pid_file.read_text():
                break
            await asyncio.sleep(0.05)
        text = await extractor.read(TEXT, "bao_cao.txt")
        assert not busy.done()  # the general worker really was taken all along
        busy.cancel()
        with pytest.raises(asyncio.CancelledError):
            await busy
    assert text == documents.read(TEXT, "bao_cao.txt")


def test_only_real_plain_text_takes_the_light_lane() -> None:
    assert _is_light(TEXT, "bao_cao.txt") and _is_light(TEXT, "Bao cao.TXT. ")
    assert not _is_light(TEXT, "bao_cao.docx")
    assert not _is_light(helpers.pdf_bomb(pages=1, repeat=10), "bao_cao.txt")  # a PDF renamed .txt
    assert not _is_light(b"PK\x03\x04" + b"\0" * 40, "bao_cao.txt")
    assert not _is_light(b"\n<html><body>x</body></html>", "trang.txt")


async def test_more_files_than_workers_wait_for_a_free_one() -> None:
    with Extractor(2) as extractor:
        read = await asyncio.gather(*(extractor.read(TEXT, f"{i}.txt") for i in range(6)))
        assert len(extractor.worker_pids()) <= 3  # two general workers and the plain-text lane
    assert all(d == documents.read(TEXT, "a.txt") for d in read)


# ------------------------------------------------------------------------------------------ bombs
async def test_the_measured_bombs_are_refused_and_this_process_stays_small() -> None:
    """The 95 MB `<w:p/>` .docx and the shared BT/ET PDF, through the real readers (their guards)
    and through unguarded parsers (only the worker's limits stop those)."""
    docx_bomb, pdf_bomb = helpers.docx_bomb(), helpers.pdf_bomb()
    assert len(docx_bomb) < 2 << 20 and len(pdf_bomb) < 200 << 10  # small on the wire
    before = _peak_rss_mb()
    with Extractor(2, memory_bytes=1 << 30, cpu_seconds=3) as extractor:
        for data, name in ((docx_bomb, "bom.docx"), (pdf_bomb, "bom.pdf")):
            with pytest.raises(ReadError):
                await extractor.read(data, name, timeout=60)
        extractor.reader = f"{HELPERS}:raw_docx"
        with pytest.raises(ReadError) as unguarded_docx:
            await extractor.read(docx_bomb, "bom.docx", timeout=60)
        extractor.reader = f"{HELPERS}:raw_pdf_text"
        with pytest.raises(ReadError) as unguarded_pdf:
            await extractor.read(pdf_bomb, "bom.pdf", timeout=60)
        extractor.reader = "documents.reader:read"
        assert await extractor.read(TEXT, "a.txt") == documents.read(TEXT, "a.txt")
    assert unguarded_docx.value.vi == TOO_COMPLEX and unguarded_pdf.value.vi == TOO_COMPLEX
    assert _peak_rss_mb() - before < 100  # the child held the tree; this process never did
    children_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert children_peak_mb < 1100  # bounded by the 1 GB address-space limit


# ------------------------------------------------------------------------------------------ sync, close
def test_read_isolated_for_the_cli() -> None:
    assert read_isolated(TEXT, "a.txt") == documents.read(TEXT, "a.txt")
    with pytest.raises(ReadError) as caught:
        read_isolated(TEXT, "a.txt", memory_bytes=512 << 20, reader=f"{HELPERS}:allocate_3gb")
    assert caught.value.vi == TOO_COMPLEX


async def test_close_stops_the_workers_and_refuses_later_reads() -> None:
    extractor = Extractor(2)
    await asyncio.gather(extractor.read(TEXT, "a.txt"), extractor.read(TEXT, "b.txt"))
    pids = extractor.worker_pids()
    extractor.close()
    assert pids and not any(_alive(pid) for pid in pids)
    with pytest.raises(ReadError):
        await extractor.read(TEXT, "a.txt")


_KILLED_PARENT = """
import asyncio
from documents.isolated import Extractor

async def main() -> None:
    extractor = Extractor(1, light_workers=1)
    await extractor.read("Thu ngân sách đạt 95% dự toán.".encode(), "a.txt")
    print(extractor.worker_pids()[0], flush=True)
    await asyncio.sleep(300)

asyncio.run(main())
"""


def test_workers_end_when_the_bot_is_killed() -> None:
    """A `kill -9` of the bot must not leave its file readers behind (each restart would add some)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    bot = subprocess.Popen([sys.executable, "-c", _KILLED_PARENT], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert bot.stdout is not None
        worker = int(bot.stdout.readline())
        assert _running(worker)
    finally:
        bot.kill()
        bot.wait()
    deadline = time.monotonic() + 20
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(worker)
