"""Documents end to end over the emulator: an official .docx (header block, I./II./III. headings, a
table), a PDF, a photo and an image file (OCR), a scanned PDF; each becomes a stored report and a
summary reply. The stored text is the document's text, so every figure shown is in it, and the
summary's spans index into it. Where Tesseract is missing, the reply says how to enable it."""

from __future__ import annotations

import html
import io
import os
import re
from pathlib import Path
from typing import Any

import docx
import matplotlib
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

import documents
import documents.ocr
from bot.render import OCR_NOTICE
from documents.isolated import Extractor
from storage import NewReport, Repository
from storage.models import StoredReport
from summariser import clean_text
from tests.bot_harness import USER, BotHarness, buttons
from tests.bot_readers import NO_OCR

FONTS = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
DEJAVU = os.path.join(FONTS, "DejaVuSans.ttf")
DEJAVU_BOLD = os.path.join(FONTS, "DejaVuSans-Bold.ttf")
HEADINGS = ("Kết quả nổi bật", "Hạn chế, tồn tại", "Nhiệm vụ thời gian tới")
OCR_WAIT = 90.0  # Tesseract on a shared 2-core machine: seconds of waiting allowed, not asserted

HEADER_LEFT = ["ĐẢNG BỘ TỈNH HẢI DƯƠNG", "HUYỆN ỦY GIA LỘC", "Số 215-BC/HU"]
HEADER_RIGHT = ["ĐẢNG CỘNG SẢN VIỆT NAM", "Gia Lộc, ngày 05 tháng 10 năm 2024"]
TITLE = ["BÁO CÁO", "Kết quả thực hiện nhiệm vụ chín tháng đầu năm và phương hướng, nhiệm vụ ba tháng cuối năm 2024"]
BODY: list[tuple[str, str]] = [  # (kind, text): "h" heading, "p" paragraph, "t" the table goes here
    ("h", "I. KẾT QUẢ ĐẠT ĐƯỢC"),
    ("h", "1. Về phát triển kinh tế"),
    ("p", "Tổng giá trị sản xuất ước đạt 8.245 tỷ đồng, tăng 7,8% so với cùng kỳ. Tổng thu ngân sách trên "
          "địa bàn đạt 412,6 tỷ đồng, bằng 86,3% dự toán năm; toàn huyện gieo trồng 9.870 ha lúa vụ mùa, năng "
          "suất bình quân đạt 58,2 tạ/ha."),
    ("h", "2. Về văn hóa - xã hội"),
    ("p", "Có thêm 3 xã đạt chuẩn nông thôn mới nâng cao; tỷ lệ hộ nghèo giảm còn 1,9%; tỷ lệ người dân "
          "tham gia bảo hiểm y tế đạt 93,5%."),
    ("t", ""),
    ("h", "II. HẠN CHẾ, TỒN TẠI"),
    ("p", "- Tiến độ giải phóng mặt bằng một số dự án trọng điểm còn chậm, ảnh hưởng đến giải ngân vốn."),
    ("p", "- Giải ngân vốn đầu tư công mới đạt 61% kế hoạch; một số xã thu ngân sách đạt thấp."),
    ("h", "III. NHIỆM VỤ TRỌNG TÂM BA THÁNG CUỐI NĂM"),
    ("p", "1. Tập trung các giải pháp thu ngân sách, phấn đấu hoàn thành vượt dự toán được giao."),
    ("p", "2. Đẩy nhanh tiến độ giải phóng mặt bằng, giải ngân vốn đầu tư công đạt trên 95% kế hoạch."),
]
TABLE = [["Chỉ tiêu", "Kế hoạch", "Thực hiện"], ["Thu ngân sách (tỷ đồng)", "478", "412,6"],
         ["Xã đạt chuẩn nông thôn mới nâng cao", "5", "3"]]
CLOSING = ["Nơi nhận:", "- Ban Thường vụ Tỉnh ủy,", "- Lưu Văn phòng Huyện ủy.", "T/M HUYỆN ỦY", "BÍ THƯ",
           "Nguyễn Văn Bình"]
# A phone photo of a short report (numbers kept few and large: they are what OCR is checked on)
PHOTO_LINES = [
    "BÁO CÁO KẾT QUẢ CÔNG TÁC THÁNG 11 NĂM 2024",
    "Kết quả: thu ngân sách của xã đạt 45 tỷ đồng, bằng 92% kế hoạch năm;",
    "hoàn thành sửa chữa 12 km đường giao thông nông thôn.",
    "Hạn chế: tiến độ giải phóng mặt bằng còn chậm, một số hộ chưa đồng thuận.",
    "Nhiệm vụ tháng 12: tập trung thu ngân sách, phấn đấu hoàn thành kế hoạch",
    "được giao; chuẩn bị tổng kết công tác năm của Đảng ủy xã.",
]


def tesseract_missing() -> str | None:
    return documents.ocr.available()


needs_ocr = pytest.mark.skipif(tesseract_missing() is not None,
                               reason=f"Tesseract with Vietnamese data is not installed here: {tesseract_missing()}")


# --------------------------------------------------------------------------------- building documents
def make_official_docx() -> bytes:
    """A report laid out as offices write them: the two-column header as a borderless table, bold
    numbered headings, a figures table, "Nơi nhận" and the signature."""
    document = docx.Document()
    header = document.add_table(rows=len(HEADER_LEFT), cols=2)
    for i, line in enumerate(HEADER_LEFT):
        header.cell(i, 0).text = line
        header.cell(i, 1).text = HEADER_RIGHT[i] if i < len(HEADER_RIGHT) else ""
    for line in TITLE:
        document.add_paragraph().add_run(line).bold = True
    for kind, text in BODY:
        if kind == "t":
            table = document.add_table(rows=len(TABLE), cols=3)
            table.style = "Table Grid"
            for r, row in enumerate(TABLE):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        elif kind == "h":
            document.add_paragraph().add_run(text).bold = True
        else:
            document.add_paragraph(text)
    for line in CLOSING:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=DEJAVU)
    pdf.add_font("DejaVu", style="B", fname=DEJAVU_BOLD)
    pdf.add_page()
    for left, right in zip(HEADER_LEFT, [*HEADER_RIGHT, ""], strict=True):
        pdf.set_font("DejaVu", size=11)
        pdf.cell(85, 6, left, align="C")
        pdf.cell(0, 6, right, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 13)
    for line in TITLE:
        pdf.multi_cell(0, 7, line, align="C", new_x="LMARGIN", new_y="NEXT")
    for kind, text in BODY:
        if kind == "t":
            pdf.set_font("DejaVu", size=11)
            with pdf.table() as table:
                for row in TABLE:
                    cells = table.row()
                    for value in row:
                        cells.cell(value)
            continue
        pdf.set_font("DejaVu", "B" if kind == "h" else "", 12)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=11)
    for line in CLOSING:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_photo(width: int = 1700) -> Image.Image:
    """A page photographed straight on: black DejaVu text on white, large enough for Tesseract."""
    font = ImageFont.truetype(DEJAVU, 34)
    image = Image.new("RGB", (width, 110 + 62 * len(PHOTO_LINES)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(PHOTO_LINES):
        draw.text((60, 50 + 62 * i), line, font=font, fill="black")
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def scanned_pdf() -> bytes:
    """An image-only PDF (what a scanner sends): no text layer at all."""
    buffer = io.BytesIO()
    make_photo().save(buffer, "PDF", resolution=200)
    return buffer.getvalue()


# --------------------------------------------------------------------------------- checks
def _numbers_shown_are_in_source(message: dict[str, Any], report: StoredReport) -> None:
    raw = message["_raw_text"]
    bullets = [line for line in raw.split("\n") if line.startswith("• ")]
    assert bullets, raw
    for line in bullets:
        for number in re.findall(r"\d[\d.,/%]*", html.unescape(re.sub(r"<[^>]+>", "", line))):
            assert number.rstrip(".,") in report.text, number


def _spans_index_into_stored_text(report: StoredReport) -> None:
    """Digests read a figure's context through its span: it must point at the figure in report.text."""
    assert report.summary is not None
    spanned = [f for f in report.summary.figures if f.source is not None]
    for fig in spanned:
        assert fig.source is not None
        assert report.text[fig.source.start:fig.source.end] == fig.text, fig
    for section in ("results", "shortcomings", "tasks"):
        for item in report.summary.section(section):  # type: ignore[arg-type]
            for span in item.source:
                assert 0 <= span.start < span.end <= len(report.text)


async def _file_report(h: BotHarness, name: str, content: bytes, *, timeout: float = 20.0
                       ) -> tuple[dict[str, Any], StoredReport]:
    h.emu.send_document(USER, USER, name, content)
    message = await h.summary_message(USER, timeout=timeout)
    [report] = await h.repo.latest(USER, 1)
    return message, report


# --------------------------------------------------------------------------------- files
async def test_official_docx_is_stored_as_its_text_and_summarised_with_structure(tmp_path: Path) -> None:
    content = make_official_docx()
    doc = documents.read(content, "bao_cao.docx")
    async with BotHarness(tmp_path) as h:
        message, report = await _file_report(h, "Báo cáo 215.docx ", content)  # trailing space: accepted
        assert report.source_kind == "document" and report.file_name == "Báo cáo 215.docx"
        assert report.text == clean_text(doc.text())  # the Document's text, header and closing included
        lines = report.text.split("\n")
        assert "Chỉ tiêu | Kế hoạch | Thực hiện" in lines and "Thu ngân sách (tỷ đồng) | 478 | 412,6" in lines
        assert any(line.endswith("HẠN CHẾ, TỒN TẠI") for line in lines)
        raw = message["_raw_text"]
        for heading in HEADINGS:
            assert f"<b>{heading}</b>" in raw
        assert "«Báo cáo 215.docx»" in message["text"]
        assert report.summary is not None
        assert report.summary.results and report.summary.shortcomings and report.summary.tasks
        assert not any("Nơi nhận" in it.text or "Nguyễn Văn Bình" in it.text
                       for s in ("results", "shortcomings", "tasks") for it in report.summary.section(s))
        _numbers_shown_are_in_source(message, report)
        _spans_index_into_stored_text(report)
        assert OCR_NOTICE not in h.all_text(USER)  # a Word file is not OCR'd


async def test_pdf_with_text_layer(tmp_path: Path) -> None:
    content = make_pdf()
    async with BotHarness(tmp_path) as h:
        message, report = await _file_report(h, "bao-cao.pdf", content)
        assert report.file_name == "bao-cao.pdf"
        assert report.text == clean_text(documents.read(content, "bao-cao.pdf").text())
        # a paragraph wrapped over several lines of the page is one line of the report again
        assert any("Tổng giá trị sản xuất ước đạt 8.245 tỷ đồng, tăng 7,8% so với cùng kỳ." in line
                   for line in report.text.split("\n"))
        assert "<b>Kết quả nổi bật</b>" in message["_raw_text"]
        _numbers_shown_are_in_source(message, report)
        _spans_index_into_stored_text(report)


# --------------------------------------------------------------------------------- images
def _ocr_words_found(report: StoredReport) -> None:
    folded = " ".join(report.text.split()).lower()
    for words in ("thu ngân sách", "giải phóng mặt bằng", "45 tỷ đồng", "92%"):
        assert words in folded, (words, report.text)


@needs_ocr
async def test_photo_largest_size_is_ocred_stored_and_summarised_with_notice(tmp_path: Path) -> None:
    page = make_photo()
    thumbnail = page.resize((page.width // 10, page.height // 10))  # unreadable: must not be the one read
    async with BotHarness(tmp_path) as h:
        update = h.emu.send_photo(USER, USER, [png(thumbnail), png(page)])
        message = await h.summary_message(USER, timeout=OCR_WAIT)
        [report] = await h.repo.latest(USER, 1)
        assert report.source_kind == "document" and report.file_name == "ảnh chụp"
        _ocr_words_found(report)
        text = h.all_text(USER)
        assert "nhận dạng từ ảnh" in text and "đối chiếu" in text  # from Document.warnings or OCR_NOTICE
        assert "⚠️" in text
        _numbers_shown_are_in_source(message, report)
        downloaded = [p["file_id"] for m, p in h.emu.calls if m == "getFile"]
        assert downloaded == [update["message"]["photo"][1]["file_id"]]  # the page, not the thumbnail


@needs_ocr
async def test_image_sent_as_file_is_ocred(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        message, report = await _file_report(h, "Ảnh báo cáo.PNG", png(make_photo()), timeout=OCR_WAIT)
        assert report.file_name == "Ảnh báo cáo.PNG"
        _ocr_words_found(report)
        assert "nhận dạng từ ảnh" in h.all_text(USER)
        _numbers_shown_are_in_source(message, report)


@needs_ocr
async def test_scanned_pdf_is_ocred_with_notice(tmp_path: Path) -> None:
    async with BotHarness(tmp_path) as h:
        message, report = await _file_report(h, "ban_quet.pdf", scanned_pdf(), timeout=OCR_WAIT)
        _ocr_words_found(report)
        assert "nhận dạng từ ảnh" in h.all_text(USER)
        _numbers_shown_are_in_source(message, report)


async def test_photo_without_tesseract_says_how_to_enable_it(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    how = NO_OCR
    monkeypatch.setattr(documents.ocr, "available", lambda: how)
    # files are read in worker processes: they are told the same (this process's patch is not theirs)
    with Extractor(1, light_workers=0, reader="tests.bot_readers:without_ocr") as ex:
        await _photo_and_scan_refused(tmp_path, ex, how)


async def _photo_and_scan_refused(tmp_path: Path, extractor: Extractor, how: str) -> None:
    async with BotHarness(tmp_path) as h:
        h.app.bot_data["extractor"] = extractor
        h.emu.send_photo(USER, USER, [png(make_photo())])
        [reply] = await h.emu.wait_for_messages(USER, 1)
        assert how in reply["text"] and "ảnh" in reply["text"]
        h.emu.send_document(USER, USER, "trang1.jpg", png(make_photo()))
        messages = await h.emu.wait_for_messages(USER, 2)
        assert how in messages[1]["text"] and "trang1.jpg" in messages[1]["text"]
        await h.emu.wait_idle(quiet=0.3)
        assert not [m for m, _ in h.emu.calls if m == "getFile"]  # nothing downloaded in vain
        # a scanned PDF is only known to be a scan once read: the reader's refusal says the same
        h.emu.send_document(USER, USER, "ban_quet.pdf", scanned_pdf())
        messages = await h.emu.wait_for_messages(USER, 3)
        assert how in messages[2]["text"] and "ban_quet.pdf" in messages[2]["text"]
        await h.emu.wait_idle(quiet=0.3)
        assert len(h.emu.messages(USER)) == 3 and not any(buttons(m) for m in h.emu.messages(USER))
        assert await h.repo.latest(USER, 5) == []


async def test_photo_in_group_is_not_answered_when_it_cannot_be_read(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents.ocr, "available", lambda: "Cài Tesseract.")
    group = -100777
    async with BotHarness(tmp_path) as h:
        h.emu.send_photo(group, USER, [png(make_photo())], chat_type="group")
        await h.emu.wait_idle(quiet=0.4)
        assert h.emu.messages(group) == []
        assert await h.repo.latest(group, 5) == []


@needs_ocr
async def test_album_of_photographed_pages_is_one_report(tmp_path: Path) -> None:
    """Two photos of one page's halves in one media group: one report, read in message order."""
    page = make_photo()
    top = page.crop((0, 0, page.width, 50 + 62 * 3))
    bottom = page.crop((0, 50 + 62 * 3 - 10, page.width, page.height))
    async with BotHarness(tmp_path, merge_window=0.5) as h:
        h.emu.send_photo(USER, USER, [png(top)], media_group_id="trang")
        h.emu.send_photo(USER, USER, [png(bottom)], media_group_id="trang")
        await h.summary_message(USER, timeout=OCR_WAIT)
        await h.emu.wait_idle(quiet=0.8, timeout=OCR_WAIT)
        [report] = await h.repo.latest(USER, 5)
        _ocr_words_found(report)
        text = " ".join(report.text.split())
        assert text.index("45 tỷ đồng") < text.index("giải phóng mặt bằng")
        assert len(h.report_ids(USER)) == 1
        assert "nhận dạng từ ảnh" in h.all_text(USER)


async def test_pending_official_report_is_completed_from_its_stored_text(tmp_path: Path) -> None:
    """A crash after storing: at start-up the stored text is read again (documents.read_text finds
    the header block and headings in it) and summarised; spans index into the stored text."""
    stored = clean_text(documents.read(make_official_docx(), "bao_cao.docx").text())
    repo = await Repository.open(tmp_path / "bot.sqlite3")
    try:
        report, _ = await repo.add_report(NewReport(scope=USER, chat_id=USER, user_id=USER, source_kind="document",
                                                    file_name="bao_cao.docx", text=stored))
        async with BotHarness(tmp_path, repo=repo) as h:
            message = await h.summary_message(USER)
            assert any("khởi động lại" in t for t in h.texts(USER))
            done = await repo.get_report(USER, report.id)
            assert done is not None and done.state == "summarised" and done.summary is not None
            assert done.text == stored
            assert done.summary.unit is not None and "Gia Lộc" in done.summary.unit  # from the header block
            assert done.summary.results and done.summary.shortcomings and done.summary.tasks
            _numbers_shown_are_in_source(message, done)
            _spans_index_into_stored_text(done)
    finally:
        await repo.close()


def test_reader_warnings_rendered_escaped_once_under_the_header() -> None:
    from datetime import UTC, datetime

    from bot.ingest import reader_warnings
    from bot.render import render_summary, render_warnings
    from summariser import Summary

    doc = documents.Document(ocr=True, warnings=["trang 3 <không> đọc được", "trang 3 <không> đọc được"])
    warnings = reader_warnings(doc)
    assert warnings[0] == OCR_NOTICE and len(warnings) == 3  # OCR'd text always says so
    assert render_warnings(warnings).count("trang 3 &lt;không&gt; đọc được") == 1
    report = StoredReport(id=7, scope=1, chat_id=1, user_id=1, sha256="x", received_at=datetime.now(UTC),
                          source_kind="document", text="t", state="summarised", summary=Summary())
    [first] = render_summary(report, warnings=warnings)
    assert first.index("Mã báo cáo") < first.index("⚠️") < first.index("Kết quả nổi bật")
    assert "⚠️" not in render_summary(report)[0]
    assert reader_warnings(documents.Document(warnings=["x"])) == ["x"]
