"""bot.extract: what the bot takes, how it says so, and reading through `documents.read` (files built
on the fly; the readers' own cases are tested in tests/test_documents_*.py)."""

from __future__ import annotations

import contextlib
import io
import random
import re

import docx
import matplotlib
import pytest
from fpdf import FPDF

import documents
from bot.extract import (
    MAX_FILE_BYTES,
    ExtractError,
    accepted_name,
    is_image,
    read_file,
    too_large_message,
    unsupported_message,
)
from documents.errors import ReadError

VI = (
    "BÁO CÁO kết quả thực hiện nhiệm vụ quý III năm 2024 của Ủy ban nhân dân xã.\n"
    "Tổng thu ngân sách đạt 12,5 tỷ đồng, bằng 104% dự toán; giải ngân vốn đầu tư công đạt 78%.\n"
    "Hạn chế: tiến độ giải phóng mặt bằng còn chậm; đường liên thôn xuống cấp."
)
DEJAVU = matplotlib.get_data_path() + "/fonts/ttf/DejaVuSans.ttf"
_VI_CHARS = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.I)


def _fails(file_name: str, content: bytes, **kwargs: int) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_file(file_name, content, **kwargs)
    error = info.value
    assert _VI_CHARS.search(error.vi), error.vi  # a Vietnamese sentence, with diacritics
    assert "\n" not in error.vi and error.en
    return error


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Báo cáo tình hình kinh tế - xã hội", level=1)
    document.add_paragraph("I. Kết quả đạt được")
    table = document.add_table(rows=3, cols=3)
    rows = [("Chỉ tiêu", "Kế hoạch", "Thực hiện"), ("Thu ngân sách (tỷ đồng)", "12", "12,5"),
            ("Tỷ lệ hộ nghèo", "3%", "2,1%")]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("II. Hạn chế, tồn tại")
    document.add_paragraph("Giải phóng mặt bằng còn chậm.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=DEJAVU)
    pdf.set_font("DejaVu", size=12)
    for body in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, body)
    return bytes(pdf.output())


# ------------------------------------------------------------------------------------ what is accepted
@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("bao_cao.docx", None, "bao_cao.docx"),
        ("Báo cáo.docx ", None, "Báo cáo.docx"),  # trailing space from a phone: still a .docx
        ("x.docx ", "application/octet-stream", "x.docx"),  # issue 13: refused before
        ("bao_cao.docx\u00a0", None, "bao_cao.docx"),  # a no-break space
        ("bao_cao.pdf\u200b", None, "bao_cao.pdf"),  # a zero-width space
        ("bao_cao.docx.", None, "bao_cao.docx"),  # Windows drops a trailing dot; clients may not
        ("bao_cao.docx\t\n", None, "bao_cao.docx"),
        ("  scan.PDF", "application/pdf", "scan.PDF"),
        ("bao_cao.TXT", "text/plain", "bao_cao.TXT"),
        ("trang.htm", None, "trang.htm"),
        ("IMG_2041.jpeg", "image/jpeg", "IMG_2041.jpeg"),
        ("anh.webp", None, "anh.webp"),
        ("IMG_2041", "image/jpeg", "IMG_2041.jpg"),  # no extension: the MIME type says what it is
        (None, "application/pdf", "tep.pdf"),
        ("khong_duoi", None, None),
        ("bang.xlsx", None, None),
        ("bang.xlsx", "application/octet-stream", None),
        ("bao_cao.doc", "application/msword", None),
        ("bao_cao.doc", "application/pdf", None),  # a .doc is refused whatever the client claims
        ("virus.exe", "application/x-msdownload", None),
    ],
)
def test_accepted_name(name: str | None, mime: str | None, expected: str | None) -> None:
    assert accepted_name(name, mime) == expected


def test_images_are_told_apart() -> None:
    assert is_image("a.JPG") and is_image("a.png ") and is_image("scan.tiff")
    assert not is_image("a.pdf") and not is_image("jpg") and not is_image("a.jpg.docx")


def test_replies_escape_the_name_and_say_what_is_taken() -> None:
    message = unsupported_message("<b>x</b>.xlsx")
    assert "«&lt;b&gt;x&lt;/b&gt;.xlsx»" in message
    for kind in (".docx", ".pdf", ".txt", "ảnh"):
        assert kind in message
    big = too_large_message("lớn & nặng.pdf", 25 * 1024 * 1024)
    assert "«lớn &amp; nặng.pdf»" in big and "25,0 MB" in big and f"{MAX_FILE_BYTES // 2**20} MB" in big


# ------------------------------------------------------------------------------------ reading
def test_docx_is_read_with_its_structure_whatever_trailing_spaces() -> None:
    doc = read_file("bao_cao.docx  ", _docx())
    kinds = [b.kind for b in doc.blocks]
    assert "heading" in kinds and "table" in kinds
    [table] = [b for b in doc.blocks if b.kind == "table"]
    assert table.rows[1] == ["Thu ngân sách (tỷ đồng)", "12", "12,5"]
    assert "Thu ngân sách (tỷ đồng) | 12 | 12,5" in doc.text().split("\n")
    assert doc.text().index("Kết quả đạt được") < doc.text().index("Hạn chế, tồn tại")
    assert not doc.ocr


@pytest.mark.parametrize("encode", [lambda t: t.encode("utf-8"), lambda t: t.encode("utf-16"),
                                    lambda t: t.encode("utf-8-sig")], ids=["utf8", "utf16", "utf8-bom"])
def test_txt(encode: object) -> None:
    doc = read_file("bao_cao.txt", encode(VI))  # type: ignore[operator]
    assert " ".join(doc.text().split()) == " ".join(VI.split())


def test_pdf_text_layer() -> None:
    text = read_file("bao_cao.pdf", _pdf([VI, "Trang hai: nhiệm vụ quý IV."])).text()
    assert "Tổng thu ngân sách đạt 12,5 tỷ đồng, bằng 104% dự toán" in re.sub(r"\s+", " ", text)
    assert text.index("quý III") < text.index("Trang hai")


def test_refusals_in_vietnamese() -> None:
    assert "rỗng" in _fails("a.txt", b"").vi
    assert "20 MB" in _fails("a.txt", b"a" * (MAX_FILE_BYTES + 1)).vi
    assert "1.000" in _fails("a.txt", ("ạ" * 1001).encode(), max_chars=1000).vi
    assert ".docx" in _fails("bao_cao.doc", b"\xd0\xcf\x11\xe0" + bytes(600)).vi
    _fails("rac.docx", random.Random(1).randbytes(4000))
    _fails("rac.pdf", b"%PDF-1.7\n" + random.Random(2).randbytes(4000) + b"\n%%EOF\n")


def test_a_reader_bug_becomes_a_read_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes, filename: str, *, max_chars: int = 500_000) -> documents.Document:
        raise IndexError("list index out of range")

    monkeypatch.setattr(documents, "read", broken)
    error = _fails("bao_cao.docx", _docx())
    assert ".docx" in error.vi and "IndexError" in error.en
    assert ExtractError is ReadError  # the old name still catches it


def test_mutated_files_never_raise_anything_else() -> None:
    """Random byte damage to real files: a Document or ReadError, never another exception (and
    without the adapter's safety net: documents.read itself keeps that promise)."""
    rng = random.Random(4)
    for name, original in (("a.docx", _docx()), ("a.pdf", _pdf([VI]))):
        for _ in range(25):
            damaged = bytearray(original)
            for _ in range(rng.randint(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            with contextlib.suppress(ReadError):
                assert isinstance(documents.read(bytes(damaged), name), documents.Document)


def test_read_timeout_and_the_too_complex_reply() -> None:
    """Images and PDFs (maybe scans, read by OCR) get the longer wall clock; a worker's limit is
    answered as too complex or too large, never as a damaged file."""
    from bot.config import Settings
    from bot.extract import read_error_message, read_timeout
    from documents.isolated import TOO_COMPLEX

    settings = Settings(_env_file=None, extract_timeout=30, ocr_timeout=200)  # type: ignore[call-arg]
    assert [read_timeout(n, settings) for n in ("a.jpg", "scan.PDF ", "a.docx", "a.txt")] == [200, 200, 30, 30]
    too = read_error_message("<x>.docx", ReadError(TOO_COMPLEX, "worker died"))
    assert "«&lt;x&gt;.docx»" in too and "quá phức tạp" in too and "hỏng" not in too
    damaged = read_error_message("a.docx", ReadError("Tệp Word bị hỏng, không đọc được.", "bad zip"))
    assert "bị hỏng" in damaged and "quá phức tạp" not in damaged
