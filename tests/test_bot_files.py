"""Files and links end to end: .txt/.docx/.pdf/.html reports, hostile files, the 20 MB cap, a page
served by a local HTTP server, and a private address refused by default (official documents,
photos and scans: tests/test_bot_documents.py)."""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import docx
import matplotlib
from aiohttp import web
from fpdf import FPDF

from documents.isolated import Extractor
from summariser import clean_text
from tests.bot_harness import OTHER, USER, BotHarness, seed_text

HEADINGS = ("Kết quả nổi bật", "Hạn chế, tồn tại", "Nhiệm vụ thời gian tới")
DEJAVU = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")


def make_docx(text: str) -> bytes:
    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", fname=DEJAVU)
    pdf.set_font("DejaVu", size=11)
    for line in text.split("\n"):
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def _summary_for_file(h: BotHarness, name: str, content: bytes) -> dict:
    h.emu.send_document(USER, USER, name, content)
    return await h.summary_message(USER)


def _words(text: str) -> list[str]:
    return clean_text(text).split()


async def test_txt_utf8_and_utf16_files(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        message = await _summary_for_file(h, "bao_cao.txt", seed_text(0).encode("utf-8"))
        assert all(f"<b>{x}</b>" in message["_raw_text"] for x in HEADINGS)
        [report] = await h.repo.latest(USER, 1)
        assert report.source_kind == "document" and report.file_name == "bao_cao.txt"
        assert _words(report.text) == _words(seed_text(0))
        before = len(h.emu.messages(USER))
        h.emu.send_document(USER, USER, "utf16.txt", seed_text(2).encode("utf-16"))
        await h.summary_message(USER, after=before)
        assert len(await h.repo.latest(USER, 10)) == 2


async def test_docx_file(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        message = await _summary_for_file(h, "Báo cáo hội nghị.docx", make_docx(seed_text(1)))
        assert "«Báo cáo hội nghị.docx»" in message["text"]
        [report] = await h.repo.latest(USER, 1)
        assert _words(report.text) == _words(seed_text(1))


async def test_pdf_file(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        await _summary_for_file(h, "bao-cao.pdf", make_pdf(seed_text(4)))
        [report] = await h.repo.latest(USER, 1)
        assert report.file_name == "bao-cao.pdf"
        # PDF text extraction may re-flow lines; the words are what matters
        assert _words(report.text)[:40] == _words(seed_text(4))[:40]


async def test_html_file(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        message = await _summary_for_file(h, "bai_viet.html", article_html(seed_text(0)).encode("utf-8"))
        [report] = await h.repo.latest(USER, 1)
        assert "Gia Lộc" in report.text and "Bản quyền" not in report.text and "Trang chủ" not in report.text
        assert "«bai_viet.html»" in message["text"]


async def test_hostile_files_answered_clearly_and_nothing_stored(tmp_path: Path) -> None:
    cases = [
        ("trong.txt", b"", "rỗng"),
        ("rac.pdf", os.urandom(4000), "PDF"),
        ("rac.docx", os.urandom(4000), "Word"),
        ("bang.xlsx", b"PK\x03\x04" + os.urandom(500), ".docx, .pdf, .txt"),
        ("anh.jpg", b"\xff\xd8\xff\xe0" + os.urandom(500), "đọc được"),  # broken image, or no OCR here
        ("lon.txt", ("Báo cáo tình hình kinh tế xã hội huyện. " * 140_000).encode(), "quá dài"),
    ]
    async with BotHarness(tmp_path) as h:
        for name, content, expected in cases:
            before = len(h.emu.messages(USER))
            h.emu.send_document(USER, USER, name, content)
            messages = await h.emu.wait_for_messages(USER, before + 1, timeout=20)
            reply = messages[before]["text"]
            assert expected.lower() in reply.lower(), (name, reply)
            assert name in reply
        await h.emu.wait_idle(quiet=0.3)
        assert await h.repo.latest(USER, 10) == []
        assert len(h.emu.messages(USER)) == len(cases)  # exactly one answer each


async def test_file_over_20_mb_refused_before_download(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        h.emu.inject_update(
            {
                "message": {
                    "message_id": 9001,
                    "date": int(time.time()),
                    "chat": {"id": USER, "type": "private", "first_name": "A"},
                    "from": {"id": USER, "is_bot": False, "first_name": "A"},
                    "document": {
                        "file_id": "BIGFILE",
                        "file_unique_id": "UBIG",
                        "file_name": "bao_cao_lon.pdf",
                        "mime_type": "application/pdf",
                        "file_size": 25 * 1024 * 1024,
                    },
                }
            }
        )
        [message] = await h.emu.wait_for_messages(USER, 1)
        assert "quá lớn" in message["text"] and "20 MB" in message["text"]
        assert not [c for c, _ in h.emu.calls if c == "getFile"]


@asynccontextmanager
async def article_server(html_page: str) -> AsyncIterator[tuple[str, list[str]]]:
    hits: list[str] = []

    async def page(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text=html_page, content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/tin-tuc/hoi-nghi-bch.html", hits
    finally:
        await runner.cleanup()


def article_html(text: str) -> str:
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n") if line.strip())
    return (
        "<html><head><meta charset='utf-8'><title>Hội nghị Ban Chấp hành Đảng bộ huyện</title></head><body>"
        "<nav><a href='/'>Trang chủ</a> | <a href='/tin'>Tin tức</a></nav>"
        f"<article><h1>Hội nghị Ban Chấp hành Đảng bộ huyện</h1>{paragraphs}</article>"
        "<footer>Bản quyền thuộc Cổng thông tin điện tử huyện</footer></body></html>"
    )


async def test_url_served_locally_is_fetched_and_summarised(tmp_path: Path) -> None:
    async with article_server(article_html(seed_text(0))) as (url, hits), BotHarness(
        tmp_path, fetch_private_urls=True
    ) as h:
        message = await h.submit(USER, USER, url)
        assert hits == ["/tin-tuc/hoi-nghi-bch.html"]
        [report] = await h.repo.latest(USER, 1)
        assert report.source_kind == "url" and report.url == url
        assert "Gia Lộc" in report.text and "Bản quyền" not in report.text
        assert url in message["text"]


async def test_private_url_refused_by_default(tmp_path: Path) -> None:
    async with article_server(article_html(seed_text(0))) as (url, hits), BotHarness(tmp_path) as h:
        replies = await h.ask(USER, USER, url)
        assert len(replies) == 1
        assert replies[0].startswith("Không lấy được nội dung từ đường link")
        assert "nội bộ" in replies[0]
        assert hits == []  # never connected
        assert await h.repo.latest(USER, 10) == []


async def test_album_of_files_is_one_report(tmp_path: Path) -> None:
    text = seed_text(1)
    half = len(text) // 2
    cut = text.index("\n", half)
    async with BotHarness(tmp_path) as h:
        for i, part in enumerate((text[:cut], text[cut + 1 :])):
            update = h.emu.send_document(USER, USER, f"phan_{i + 1}.txt", part.encode("utf-8"))
            update["message"]["media_group_id"] = "album-1"  # queued, not yet delivered
        await h.summary_message(USER)
        await h.emu.wait_idle(quiet=0.6)
        [report] = await h.repo.latest(USER, 5)
        assert report.file_name == "phan_1.txt, phan_2.txt"
        assert _words(report.text) == _words(text)
        assert len(h.report_ids(USER)) == 1


# --- bounded extraction (issue 13, defects 2, 3 and 12) ---------------------------------------------
async def test_a_name_with_a_trailing_space_is_read(tmp_path: Path) -> None:
    """"x.docx " as phones send it (and a no-break space, Windows' trailing dot): read as a .docx."""
    async with BotHarness(tmp_path) as h:
        for i, name in enumerate(("Báo cáo 9 tháng.docx ", "bao_cao.docx\u00a0", "bao_cao_2.docx.")):
            before = len(h.emu.messages(USER))
            h.emu.send_document(USER, USER, name, make_docx(seed_text(i)), mime_type="application/octet-stream")
            await h.summary_message(USER, after=before, timeout=30)
        reports = await h.repo.latest(USER, 5)
        assert sorted(r.file_name for r in reports) == ["Báo cáo 9 tháng.docx", "bao_cao.docx", "bao_cao_2.docx."]
        assert all(r.source_kind == "document" and r.state == "summarised" for r in reports)


async def test_a_text_report_is_answered_while_a_file_is_stuck_in_its_worker(tmp_path: Path) -> None:
    """Files are read in the Extractor's own processes, the summariser runs elsewhere: a file that
    never finishes holds up no text report. (The file's worker is killed when the test closes it.)"""
    pid_file = tmp_path / "worker.pid"
    with Extractor(1, light_workers=0, reader="tests.isolated_helpers:by_name") as extractor:
        async with BotHarness(tmp_path) as h:
            h.app.bot_data["extractor"] = extractor
            h.emu.send_document(USER, USER, "sleep.docx", str(pid_file).encode())
            for _ in range(600):  # the worker took the file (spawning it takes a few seconds)
                if pid_file.exists() and pid_file.read_text():
                    break
                await asyncio.sleep(0.05)
            worker = int(pid_file.read_text())
            before = len(h.emu.messages(OTHER))
            message = await h.submit(OTHER, OTHER, seed_text(0))
            assert buttons_of(message) and len(h.emu.messages(OTHER)) == before + 1
            assert h.emu.messages(USER) == []  # the file is still in its worker, unanswered
            os.kill(worker, 0)  # (alive)
            [report] = await h.repo.latest(OTHER, 1)
            assert report.state == "summarised"
            extractor.close()  # the stuck file: its reader is told the server could not read it
            reply = await h.wait_for(USER, lambda t: "sleep.docx" in t, timeout=30)
            assert "thử lại" in reply[-1]["text"]


async def test_a_file_beyond_the_cpu_limit_is_too_complex_not_damaged_and_the_worker_replaced(tmp_path: Path) -> None:
    with Extractor(1, light_workers=0, cpu_seconds=1, reader="tests.isolated_helpers:by_name") as extractor:
        async with BotHarness(tmp_path) as h:
            h.app.bot_data["extractor"] = extractor
            h.emu.send_document(USER, USER, "spin.docx", make_docx("x"))
            [reply] = await h.emu.wait_for_messages(USER, 1, timeout=60)
            assert "«spin.docx»" in reply["text"] and "quá phức tạp" in reply["text"] and "hỏng" not in reply["text"]
            await h.emu.wait_idle(quiet=0.3)
            pids = extractor.worker_pids()
            assert pids == []  # killed, not yet replaced: the next file starts a new worker
            h.emu.send_document(USER, USER, "bao_cao.docx", make_docx(seed_text(0)))
            await h.summary_message(USER, timeout=60)
            assert extractor.worker_pids() and h.repo is not None
            [report] = await h.repo.latest(USER, 1)
            assert report.file_name == "bao_cao.docx"


async def test_an_album_waits_for_a_piece_read_slower_than_the_window(tmp_path: Path) -> None:
    """Album pieces are read in worker processes and finish in any order: the album is flushed only
    once every announced piece is in, however long past the merge window that is."""
    text = seed_text(1)
    cut = text.index("\n", len(text) // 2)
    with Extractor(2, light_workers=0, reader="tests.bot_readers:slow_by_name") as extractor:
        async with BotHarness(tmp_path, merge_window=0.3) as h:
            h.app.bot_data["extractor"] = extractor
            names = ("phan_1.txt", "slow25_phan_2.txt")  # the second one 2.5 s, far over the 0.3 s window
            for name, part in zip(names, (text[:cut], text[cut + 1 :]), strict=True):
                update = h.emu.send_document(USER, USER, name, part.encode("utf-8"))
                update["message"]["media_group_id"] = "album-slow"
            await h.summary_message(USER, timeout=60)
            await h.emu.wait_idle(quiet=0.8, timeout=30)
            [report] = await h.repo.latest(USER, 5)
            assert report.file_name == "phan_1.txt, slow25_phan_2.txt"
            assert _words(report.text) == _words(text)


def buttons_of(message: dict) -> list[str]:
    return [b.get("callback_data", "") for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row]
