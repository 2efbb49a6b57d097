"""extract_document on files built on the fly: real, legacy-encoded, broken and hostile."""

from __future__ import annotations

import contextlib
import io
import random
import re
import unicodedata
import zipfile

import docx
import matplotlib
import pytest
from fpdf import FPDF

from bot import extract
from bot.extract import MAX_FILE_BYTES, ExtractError, extract_document

VI = (
    "BÁO CÁO kết quả thực hiện nhiệm vụ quý III năm 2024 của Ủy ban nhân dân xã.\n"
    "Tổng thu ngân sách đạt 12,5 tỷ đồng, bằng 104% dự toán; giải ngân vốn đầu tư công đạt 78%.\n"
    "Hạn chế: tiến độ giải phóng mặt bằng còn chậm; đường liên thôn xuống cấp."
)
DEJAVU = matplotlib.get_data_path() + "/fonts/ttf/DejaVuSans.ttf"
_VI_CHARS = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.I)


def _fails(file_name: str, content: bytes, **kwargs: int) -> ExtractError:
    with pytest.raises(ExtractError) as info:
        extract_document(file_name, content, **kwargs)
    error = info.value
    assert _VI_CHARS.search(error.vi), error.vi  # a Vietnamese sentence, with diacritics
    assert "\n" not in error.vi and error.en
    return error


# ------------------------------------------------------------------------------------------------ .txt
def _cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters precomposed, tone marks as combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
            out += (base + "".join(c for c in decomposed if c in tones)).encode("cp1258")
    return bytes(out)


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: t.encode("utf-8-sig"),
        lambda t: t.encode("utf-16"),  # BOM, native order
        lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
        lambda t: t.encode("utf-16-le"),  # no BOM: found by where the NUL bytes are
        lambda t: t.encode("utf-16-be"),
        _cp1258,
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16be-bom", "utf16le-nobom", "utf16be-nobom", "cp1258"],
)
def test_txt_encodings(encode: object) -> None:
    content = encode(VI)  # type: ignore[operator]
    assert extract_document("bao_cao.TXT", content) == VI


def test_cp1258_really_uses_combining_marks() -> None:
    raw = _cp1258("Thế giới")
    assert raw.startswith(b"Th\xea\xec")  # ê then a combining acute: NFC makes it "ế" again
    text = extract_document("a.txt", raw)
    assert text == "Thế giới" and len(text) == 8


def test_txt_newlines_and_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Ủy ban\r\nnhân dân\rxã")
    assert extract_document("a.txt", decomposed.encode()) == "Ủy ban\nnhân dân\nxã"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("virus.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 20),  # an .exe header
        ("anh.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
        ("rac.txt", random.Random(1).randbytes(4000).replace(b"\x00", b"\x01")),
        ("nul.txt", "Báo cáo".encode() + b"\x00\x00" + " tiếp theo của báo cáo".encode()),
        ("latin.txt", "Ceci n'est pas un rapport: déjà vu, garçon, œuvre, naïve ÿ".encode("cp1252")),
    ],
)
def test_binary_or_unknown_text_is_refused(name: str, content: bytes) -> None:
    _fails(name, content)


def test_empty_too_big_and_too_long() -> None:
    assert "rỗng" in _fails("a.txt", b"").vi
    _fails("a.txt", b" \n\t ")
    assert "20 MB" in _fails("a.txt", b"a" * (MAX_FILE_BYTES + 1)).vi
    assert "1.000" in _fails("a.txt", ("ạ" * 1001).encode(), max_chars=1000).vi
    assert extract_document("a.txt", ("ạ" * 1000).encode(), max_chars=1000) == "ạ" * 1000


@pytest.mark.parametrize("name", ["bang.xlsx", "anh.png", "khong_duoi", "bao_cao.doc", "trang.html"])
def test_unsupported_types(name: str) -> None:
    error = _fails(name, b"noi dung bat ky")
    assert ".docx" in error.vi


# ------------------------------------------------------------------------------------------------ .docx
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
    merged = document.add_table(rows=1, cols=3)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Ô gộp"
    merged.cell(0, 2).text = "Ghi chú"
    document.add_paragraph("II. Hạn chế, tồn tại")
    document.add_paragraph("")  # empty paragraphs are dropped
    document.add_paragraph("Giải phóng mặt bằng còn chậm.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_tables_in_document_order() -> None:
    text = extract_document("bao_cao.docx", _docx())
    assert text.split("\n") == [
        "Báo cáo tình hình kinh tế - xã hội",
        "I. Kết quả đạt được",
        "Chỉ tiêu | Kế hoạch | Thực hiện",
        "Thu ngân sách (tỷ đồng) | 12 | 12,5",
        "Tỷ lệ hộ nghèo | 3% | 2,1%",
        "Ô gộp | Ghi chú",  # the merged cell once
        "II. Hạn chế, tồn tại",
        "Giải phóng mặt bằng còn chậm.",
    ]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_CT = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def test_zip_bombs_refused_before_python_docx_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setattr(docx, "Document", lambda *a, **k: opened.append(a))
    ratio_bomb = _zip({"[Content_Types].xml": _CT, "word/document.xml": b"<w/>",
                       "word/media/x.bin": bytes(30 * 1024 * 1024)})
    assert len(ratio_bomb) < 200_000
    assert "zip bomb" in _fails("bomb.docx", ratio_bomb).en
    many = _zip({"[Content_Types].xml": _CT, "word/document.xml": b"<w/>",
                 **{f"word/m{i}.xml": b"x" for i in range(extract.MAX_ZIP_MEMBERS + 1)}})
    assert "zip bomb" in _fails("many.docx", many).en
    monkeypatch.setattr(extract, "MAX_ZIP_UNCOMPRESSED", 1024 * 1024)
    incompressible = _zip({"[Content_Types].xml": _CT, "word/document.xml": b"<w/>",
                           "word/media/photo.jpg": random.Random(2).randbytes(1024 * 1024 + 1)})
    assert "zip bomb" in _fails("big.docx", incompressible).en
    assert opened == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("anh.docx", b"\x89PNG\r\n\x1a\n" + bytes(100)),
        ("chuong_trinh.docx", b"MZ\x90\x00" + bytes(200)),
        ("bang_tinh.docx", _zip({"[Content_Types].xml": _CT, "xl/workbook.xml": b"<x/>"})),
        ("cut.docx", _docx()[:3000]),
        ("xml_hong.docx", _zip({"[Content_Types].xml": _CT, "word/document.xml": b"<w:document><not xml"})),
    ],
)
def test_broken_or_renamed_docx(name: str, content: bytes) -> None:
    _fails(name, content)


# ------------------------------------------------------------------------------------------------ .pdf
def _pdf(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=DEJAVU)
    pdf.set_font("DejaVu", size=12)
    for body in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, body)
    return bytes(pdf.output())


def test_pdf_text_layer() -> None:
    text = extract_document("bao_cao.pdf", _pdf([VI, "Trang hai: nhiệm vụ quý IV."]))
    assert "Tổng thu ngân sách đạt 12,5 tỷ đồng, bằng 104% dự toán" in re.sub(r"\s+", " ", text)
    assert "giải phóng mặt bằng" in text
    assert text.index("quý III") < text.index("Trang hai")
    assert unicodedata.is_normalized("NFC", text)


def test_pdf_without_text_layer_says_no_ocr() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    error = _fails("scan.pdf", bytes(pdf.output()))
    assert "OCR" in error.vi and "không hỗ trợ" in error.vi


def test_pdf_truncated_corrupt_encrypted_and_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    good = _pdf([VI])
    _fails("cut.pdf", good[: len(good) // 2])
    _fails("noheader.pdf", b"xin chao" + good[8:])
    garbage = b"%PDF-1.7\n" + random.Random(3).randbytes(5000) + b"\n%%EOF\n"
    _fails("garbage.pdf", garbage)
    pdf = FPDF()
    pdf.set_encryption(owner_password="chu", user_password="mat-khau")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="secret")
    assert "mật khẩu" in _fails("khoa.pdf", bytes(pdf.output())).vi
    monkeypatch.setattr(extract, "MAX_PDF_PAGES", 2)
    assert "trang" in _fails("dai.pdf", _pdf(["một", "hai", "ba"])).vi
    assert "quá dài" in _fails("dai.pdf", _pdf([VI]), max_chars=50).vi


def test_mutated_files_never_raise_anything_else() -> None:
    """Random byte damage to real files: either text or ExtractError, never another exception."""
    rng = random.Random(4)
    for name, original in (("a.docx", _docx()), ("a.pdf", _pdf([VI]))):
        for _ in range(25):
            damaged = bytearray(original)
            for _ in range(rng.randint(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            with contextlib.suppress(ExtractError):
                assert isinstance(extract_document(name, bytes(damaged)), str)
