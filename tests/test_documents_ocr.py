"""documents.ocr: pages rendered here with Pillow (DejaVu, Vietnamese text), read through Tesseract.

Tests that need Tesseract and its `vie` data skip with a reason when they are missing (CI installs
them); the bounds (image bombs, OCR not installed) are checked without running it.
"""

from __future__ import annotations

import difflib
import io
import re
import shutil
import struct
import zlib
from typing import Any

import matplotlib
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from documents import ocr
from documents.errors import ReadError
from documents.models import Document
from documents.ocr import read_image
from documents.pdf import OCR_WARNING, read_pdf

FONTS = matplotlib.get_data_path() + "/fonts/ttf/"
MISSING = ocr.available()
needs_tesseract = pytest.mark.skipif(MISSING is not None, reason=f"Tesseract with Vietnamese data missing: {MISSING}")

HEADING = "I. KẾT QUẢ ĐẠT ĐƯỢC"
PARAGRAPHS = [
    "Tổng giá trị sản xuất ước đạt 8.458.730 triệu đồng, đạt 77,9% kế hoạch năm, tăng 12,6% so với cùng kỳ; "
    "thu ngân sách nhà nước trên địa bàn đạt 398.512 triệu đồng, các chỉ tiêu chủ yếu cơ bản đạt tiến độ.",
    "Công tác xây dựng Đảng và hệ thống chính trị tiếp tục được quan tâm; toàn huyện kết nạp 186 đảng viên mới, "
    "đạt 93% kế hoạch; an ninh chính trị, trật tự an toàn xã hội cơ bản ổn định.",
]


def page_image(paragraphs: list[str], *, heading: str | None = HEADING, width: int = 1700, size: int = 34) -> Image.Image:
    """A page as a 200 dpi scan would show it: a bold heading, justified-width paragraphs with a
    first-line indent, so wrapped lines must be joined again."""
    regular = ImageFont.truetype(FONTS + "DejaVuSans.ttf", size)
    bold = ImageFont.truetype(FONTS + "DejaVuSans-Bold.ttf", size)
    margin, pitch = 140, int(size * 1.6)
    lines: list[tuple[str, Any, int]] = []
    if heading:
        lines.append((heading, bold, margin))
    for text in paragraphs:
        words, current, x0 = text.split(), "", margin + 3 * size
        for word in words:
            trial = f"{current} {word}".strip()
            if regular.getlength(trial) > width - margin - x0:
                lines.append((current, regular, x0))
                current, x0 = word, margin
            else:
                current = trial
        lines.append((current, regular, x0))
    image = Image.new("L", (width, margin * 2 + pitch * (len(lines) + 2)), 255)
    draw = ImageDraw.Draw(image)
    y = margin
    for text, font, x in lines:
        draw.text((x, y), text, font=font, fill=0)
        y += pitch
    return image


def encoded(image: Image.Image, fmt: str, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def similarity(expected: str, got: str) -> float:
    def norm(s: str) -> str:
        return re.sub(r"\s+", " ", s).strip()

    return difflib.SequenceMatcher(None, norm(expected), norm(got), autojunk=False).ratio()


def best_line(doc: Document, expected: str) -> float:
    """How well the closest single line of the text matches a whole paragraph (1.0: identical)."""
    return max(similarity(expected, line) for line in doc.text().split("\n"))


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return page_image(PARAGRAPHS)


# ------------------------------------------------------------------------------------ availability
def test_available_tells_the_admin_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    message = ocr.available()
    assert message is not None and "apt-get install tesseract-ocr tesseract-ocr-vie" in message
    with pytest.raises(ReadError) as exc:
        read_image(encoded(page_image(PARAGRAPHS[:1]), "PNG"))
    assert exc.value.vi == message


def test_scanned_pdf_without_ocr_says_how_to_enable_it(monkeypatch: pytest.MonkeyPatch, page: Image.Image) -> None:
    monkeypatch.setattr(ocr, "available", lambda: "Cài Tesseract: apt-get install tesseract-ocr tesseract-ocr-vie")
    with pytest.raises(ReadError) as exc:
        read_pdf(encoded(page, "PDF", resolution=200))
    assert "bản quét" in exc.value.vi and "apt-get install tesseract-ocr" in exc.value.vi


# ------------------------------------------------------------------------------------------- bombs
def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` but holds (almost) no data: refused from the header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width,height", [(9_000, 9_000), (100_000, 100_000), (1, 70_000_000)])
def test_declared_pixel_bombs_refused(monkeypatch: pytest.MonkeyPatch, width: int, height: int) -> None:
    monkeypatch.setattr(ocr, "available", lambda: None)  # refused before Tesseract could be asked
    with pytest.raises(ReadError) as exc:
        read_image(_png_header_only(width, height))
    assert "quá lớn" in exc.value.vi


def test_real_64_megapixel_image_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "available", lambda: None)
    data = encoded(Image.new("1", (8_000, 8_000), 1), "PNG")  # compresses to a few KB
    assert len(data) < 200_000
    with pytest.raises(ReadError) as exc:
        read_image(data)
    assert "quá lớn" in exc.value.vi


@pytest.mark.parametrize("data", [b"not an image at all", b"%PDF-1.4 not an image %%EOF", b"\x89PNG\r\n\x1a\n\x00"])
def test_not_an_image_refused(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(ocr, "available", lambda: None)
    with pytest.raises(ReadError) as exc:
        read_image(data)
    assert "không phải ảnh" in exc.value.vi


# ---------------------------------------------------------------------------------------- Tesseract
@needs_tesseract
@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_read_image(page: Image.Image, fmt: str) -> None:
    doc = read_image(encoded(page, fmt, **({"lossless": True} if fmt == "WEBP" else {})))
    assert doc.ocr is True and doc.source == "ocr"
    assert doc.warnings[0] == OCR_WARNING and "số liệu" in OCR_WARNING
    for text in PARAGRAPHS:
        assert best_line(doc, text) >= 0.95, text[:40]  # wrapped lines joined into one paragraph
    assert "8.458.730" in doc.text() and "77,9%" in doc.text()
    heading = [b for b in doc.blocks if b.kind == "heading"]
    assert heading and heading[0].numbering == "I." and similarity("KẾT QUẢ ĐẠT ĐƯỢC", heading[0].text) >= 0.85


@needs_tesseract
def test_read_image_jpeg_turned_by_exif(page: Image.Image) -> None:
    """Phones store the sensor's orientation and a tag saying how to turn it (6: 90° clockwise)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(page.rotate(90, expand=True).convert("RGB"), "JPEG", quality=90, exif=exif.tobytes())
    doc = read_image(data)
    assert best_line(doc, PARAGRAPHS[0]) >= 0.9


@needs_tesseract
def test_read_multipage_tiff(page: Image.Image) -> None:
    second = page_image([PARAGRAPHS[1]], heading="II. NHIỆM VỤ TRỌNG TÂM")
    buf = io.BytesIO()
    page_image([PARAGRAPHS[0]]).save(buf, "TIFF", save_all=True, append_images=[second], compression="tiff_lzw")
    doc = read_image(buf.getvalue())
    assert {b.page for b in doc.blocks} == {1, 2}
    assert best_line(doc, PARAGRAPHS[1]) >= 0.95


@needs_tesseract
def test_scanned_pdf_is_recognised(page: Image.Image) -> None:
    doc = read_pdf(encoded(page, "PDF", resolution=200))
    assert doc.ocr is True and doc.source == "ocr"
    assert doc.warnings[0] == OCR_WARNING
    for text in PARAGRAPHS:
        assert best_line(doc, text) >= 0.95


@needs_tesseract
def test_mixed_pdf_recognises_only_the_scanned_page() -> None:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", FONTS + "DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    typed = "Văn bản này có lớp chữ: Hội nghị lần thứ 24 Ban Chấp hành Đảng bộ huyện khóa XXVI."
    pdf.multi_cell(0, 6, typed)
    pdf.add_page()
    pdf.image(page_image([PARAGRAPHS[0]]), x=0, y=0, w=210)
    doc = read_pdf(bytes(pdf.output()))
    assert doc.ocr is True and doc.source == "pdf"
    assert doc.warnings[0].startswith("Trang 2 ")
    assert typed in doc.text().split("\n")  # the text layer, exactly
    assert best_line(doc, PARAGRAPHS[0]) >= 0.95
    assert {b.page for b in doc.blocks} == {1, 2}


@needs_tesseract
def test_ocr_pdf_pages_gives_one_text_per_page(page: Image.Image) -> None:
    blank = Image.new("L", page.size, 255)
    buf = io.BytesIO()
    page.save(buf, "PDF", resolution=200, save_all=True, append_images=[blank])
    texts = ocr.ocr_pdf_pages(buf.getvalue(), [2, 1])
    assert len(texts) == 2 and texts[0] == ""
    assert max(similarity(PARAGRAPHS[1], line) for line in texts[1].split("\n")) >= 0.95


def test_exact_fixes_only() -> None:
    assert ocr.fix_text("ÐẢNG BỘ") == "ĐẢNG BỘ"  # the Icelandic eth never occurs in Vietnamese
    assert ocr.fix_text("Hu\u1ef3nh") == "Huỳnh"
    assert ocr.fix_text("thu\u0300") == "thù"  # NFC
    assert ocr.fix_text("8.458.73O") == "8.458.73O"  # a letter in a figure is not guessed


def table_image(rows: list[list[str | list[str]]], *, widths: tuple[int, ...] = (110, 760, 420), size: int = 32
                ) -> Image.Image:
    """A ruled table as a scan shows it: a line above it, then rows whose cells may hold two lines."""
    font = ImageFont.truetype(FONTS + "DejaVuSans.ttf", size)
    pitch, margin = int(size * 1.5), 140
    heights = [pitch * max(len(c) if isinstance(c, list) else 1 for c in row) + 20 for row in rows]
    image = Image.new("L", (margin * 2 + sum(widths), margin * 2 + 120 + sum(heights)), 255)
    draw = ImageDraw.Draw(image)
    draw.text((margin, margin), "Một số chỉ tiêu chủ yếu đạt được trong năm:", font=font, fill=0)
    top = margin + 100
    xs = [margin + sum(widths[:i]) for i in range(len(widths) + 1)]
    y = top
    for row, height in zip(rows, heights, strict=True):
        for x, cell in zip(xs, row, strict=False):
            for k, text in enumerate(cell if isinstance(cell, list) else [cell]):
                draw.text((x + 12, y + 10 + k * pitch), text, font=font, fill=0)
        draw.line((xs[0], y, xs[-1], y), fill=0, width=3)
        y += height
    draw.line((xs[0], y, xs[-1], y), fill=0, width=3)
    for x in xs:
        draw.line((x, top, x, y), fill=0, width=3)
    return image


@needs_tesseract
def test_ruled_table_in_a_scan_is_a_table_block() -> None:
    rows: list[list[str | list[str]]] = [
        ["TT", "Chỉ tiêu", "Kết quả"],
        ["1", "Tổng giá trị sản xuất", "8.458.730 triệu đồng"],
        ["2", ["Số doanh nghiệp giải thể, ngừng", "hoạt động trong quý I/2013"], "11 doanh nghiệp"],
        ["3", "Tỷ lệ hộ nghèo giảm", "37,5%"],
    ]
    doc = read_pdf(encoded(table_image(rows), "PDF", resolution=200))
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert len(tables) == 1 and tables[0].header_rows == 1
    got = tables[0].rows
    assert len(got) == 4 and all(len(r) == 3 for r in got)
    assert [r[2] for r in got] == ["Kết quả", "8.458.730 triệu đồng", "11 doanh nghiệp", "37,5%"]
    assert similarity("Số doanh nghiệp giải thể, ngừng hoạt động trong quý I/2013", got[2][1]) >= 0.95
    assert "|" not in doc.text().replace(" | ", "")  # the rules are not read as text
    assert "8.458.730" not in " ".join(b.text for b in doc.blocks if b.kind != "table")


def test_whole_file_ocr_budget(monkeypatch: pytest.MonkeyPatch, page: Image.Image) -> None:
    """30 pages that each stop just short of the page timeout must not hold a worker for an hour:
    once the file's budget is spent, the remaining pages are skipped (said in the error/warnings)."""
    monkeypatch.setattr(ocr, "available", lambda: None)
    monkeypatch.setattr(ocr, "TOTAL_TIMEOUT", 0.0)
    with pytest.raises(ReadError) as exc:
        read_image(encoded(page, "PNG"))
    assert "Hết thời gian" in exc.value.en
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) missing: scanned PDF pages cannot be rendered here")
    layouts = ocr.pdf_page_layouts(encoded(page, "PDF", resolution=200), [1], [(595.0, 842.0)])
    assert layouts == ["hết thời gian nhận dạng của tệp, bỏ qua."]
