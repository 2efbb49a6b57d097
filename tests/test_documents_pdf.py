"""documents.pdf: PDFs built here with fpdf2 (DejaVu fonts from matplotlib) or written by hand.

Layout: wrapped and hyphenated lines, page furniture, the two-column header, ruled tables, bold
headings. Guards: encrypted, truncated, not a PDF, too many pages, and hostile content (the shared
`BT ET` stream, forms drawn many times, CMap ranges) refused before pdfminer interprets it.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable
from typing import Any

import matplotlib
import pdfplumber
import pytest
from fpdf import FPDF

from documents import pdf as pdfmod
from documents.errors import ReadError
from documents.models import Document
from documents.pdf import join_wrapped, read_pdf

FONTS = matplotlib.get_data_path() + "/fonts/ttf/"

PARAGRAPHS = [
    "Ngày 05/10/2023, Ban Chấp hành Đảng bộ huyện tổ chức Hội nghị lần thứ 24 để đánh giá kết quả thực hiện "
    "nhiệm vụ chính trị 9 tháng đầu năm 2023 và bàn các giải pháp thực hiện nhiệm vụ trọng tâm 3 tháng cuối năm.",
    "Tổng giá trị sản xuất ước đạt 8.458.730 triệu đồng, đạt 77,9% kế hoạch năm, tăng 12,6% so với cùng kỳ; "
    "thu ngân sách nhà nước trên địa bàn đạt 398.512 triệu đồng; các chỉ tiêu chủ yếu cơ bản đạt tiến độ kế hoạch "
    "năm và tăng so với cùng kỳ năm 2022; công tác giải phóng mặt bằng các công trình trọng điểm được tập trung "
    "chỉ đạo quyết liệt.",
    "Công tác xây dựng Đảng và hệ thống chính trị tiếp tục được quan tâm; toàn huyện kết nạp 186 đảng viên mới, "
    "đạt 93% kế hoạch; công tác kiểm tra, giám sát được thực hiện nghiêm túc, đúng quy định; an ninh chính trị, "
    "trật tự an toàn xã hội cơ bản ổn định, không để xảy ra điểm nóng.",
    "Tiến độ giải ngân vốn đầu tư công còn chậm, mới đạt 61,2% kế hoạch; một số dự án trọng điểm vướng mắc về "
    "mặt bằng chưa được tháo gỡ dứt điểm; tình trạng vi phạm trong quản lý, sử dụng đất đai vẫn còn xảy ra ở "
    "một số xã.",
    "Tập trung chỉ đạo hoàn thành các chỉ tiêu kinh tế - xã hội năm 2023; đẩy nhanh tiến độ giải ngân vốn đầu "
    "tư công, phấn đấu đến ngày 31/12/2023 đạt trên 95% kế hoạch; tăng cường quản lý nhà nước về đất đai, xử lý "
    "dứt điểm các vi phạm; chuẩn bị tốt các điều kiện tổ chức Tết Nguyên đán an toàn, tiết kiệm.",
]
TABLE = [
    ["TT", "Chỉ tiêu", "Kế hoạch", "Thực hiện"],
    ["1", "Tổng giá trị sản xuất (triệu đồng)", "10.858.000", "8.458.730"],
    ["2", "Thu ngân sách (triệu đồng)", "450.000", "398.512"],
]


# ---------------------------------------------------------------------------------------- builders
class _Report(FPDF):
    """A4, DejaVu; optional running header (page 2 on) and page-number footer."""

    def __init__(self, running: str | None = None, footer: Callable[[int], str] | None = None) -> None:
        super().__init__(format="A4")
        self.running = running
        self.footer_text = footer
        self.set_margins(25, 20, 20)
        self.set_auto_page_break(True, 22)
        self.add_font("DejaVu", "", FONTS + "DejaVuSans.ttf")
        self.add_font("DejaVu", "B", FONTS + "DejaVuSans-Bold.ttf")
        self.set_font("DejaVu", size=11)

    def header(self) -> None:
        if self.running and self.page_no() > 1:
            self.set_font("DejaVu", size=8)
            self.set_xy(25, 8)
            self.cell(0, 5, self.running, align="R")
            self.set_xy(25, 22)
            self.set_font("DejaVu", size=11)

    def footer(self) -> None:
        if self.footer_text is not None:
            self.set_y(-14)
            self.set_font("DejaVu", size=9)
            self.cell(0, 5, self.footer_text(self.page_no()), align="C")
            self.set_font("DejaVu", size=11)


def _header_block(pdf: _Report) -> None:
    """Issuer on the left, national line on the right, on shared baselines."""

    def col(x: float, w: float, y: float, text: str, bold: bool = False) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", 10)
        pdf.set_xy(x, y)
        pdf.cell(w, 5, text, align="C")

    col(20, 75, 20, "ĐẢNG BỘ TỈNH HẢI DƯƠNG")
    col(95, 100, 20, "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True)
    col(20, 75, 25, "HUYỆN ỦY GIA LỘC", bold=True)
    col(20, 75, 30, "*")
    col(20, 75, 35, "Số 215-BC/HU")
    col(95, 100, 35, "Gia Lộc, ngày 05 tháng 10 năm 2023")
    pdf.set_xy(25, 48)
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 7, "BÁO CÁO", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 6, "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023, phương hướng nhiệm vụ trọng tâm "
                   "3 tháng cuối năm 2023", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _paragraph(pdf: _Report, text: str) -> None:
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, "        " + text, align="J", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def _heading(pdf: _Report, text: str) -> None:
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 6, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _table(pdf: _Report, rows: list[list[str]]) -> None:
    pdf.set_font("DejaVu", "", 10)
    with pdf.table(col_widths=(10, 60, 30, 30)) as table:
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(value)
    pdf.ln(3)


def _closing(pdf: _Report) -> None:
    y = pdf.get_y() + 6
    if y > 230:
        pdf.add_page()
        y = 30
    pdf.set_font("DejaVu", "B", 10)
    pdf.set_xy(25, y)
    pdf.cell(70, 5, "Nơi nhận:")
    pdf.set_xy(110, y)
    pdf.cell(80, 5, "T/M BAN THƯỜNG VỤ", align="C")
    pdf.set_font("DejaVu", "", 9)
    pdf.set_xy(25, y + 5)
    pdf.cell(70, 5, "- Ban Thường vụ Tỉnh ủy,")
    pdf.set_font("DejaVu", "B", 10)
    pdf.set_xy(110, y + 5)
    pdf.cell(80, 5, "PHÓ BÍ THƯ", align="C")
    pdf.set_font("DejaVu", "", 9)
    pdf.set_xy(25, y + 10)
    pdf.cell(70, 5, "- Lưu Văn phòng Huyện ủy.")
    pdf.set_font("DejaVu", "B", 10)
    pdf.set_xy(110, y + 25)
    pdf.cell(80, 5, "Nguyễn Văn An", align="C")


def report_pdf(*, repeat: int = 1, running: str | None = "Báo cáo số 215-BC/HU",
               footer: Callable[[int], str] | None = lambda n: f"Trang {n}", encrypt: tuple[str, str] | None = None
               ) -> bytes:
    """An official report: header block, two numbered sections, a ruled table, the closing."""
    pdf = _Report(running, footer)
    if encrypt is not None:
        pdf.set_encryption(owner_password=encrypt[0], user_password=encrypt[1])
    pdf.add_page()
    _header_block(pdf)
    _heading(pdf, "I. KẾT QUẢ ĐẠT ĐƯỢC")
    for _ in range(repeat):
        for text in PARAGRAPHS[:3]:
            _paragraph(pdf, text)
    _table(pdf, TABLE)
    _heading(pdf, "II. NHIỆM VỤ TRỌNG TÂM")
    for _ in range(repeat):
        for text in PARAGRAPHS[3:]:
            _paragraph(pdf, text)
    _closing(pdf)
    return bytes(pdf.output())


def justified(pdf: FPDF, y: float, text: str, *, full: bool = True, x: float = 25, width: float = 160) -> None:
    """One printed line, words spread to the full width as a word processor justifies them."""
    words = text.split()
    widths = [pdf.get_string_width(w) for w in words]
    gap = (width - sum(widths)) / (len(words) - 1) if full and len(words) > 1 else pdf.get_string_width(" ")
    for word, w in zip(words, widths, strict=True):
        pdf.set_xy(x, y)
        pdf.cell(text=word)
        x += w + gap


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from object bodies (object n is objects[n-1]; 1 is the catalog), with a valid xref."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    packed = zlib.compress(data, 9)
    return b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n" % (len(packed), extra) + packed + b"\nendstream"


def shared_stream_pdf(pages: int, content: bytes, resources: bytes = b"<< >>", extra: list[bytes] | None = None) -> bytes:
    """`pages` pages that all draw object 3 (one compressed content stream)."""
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
               _stream(content)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources " + resources
                + b" /Contents 3 0 R >>"] * pages
    return raw_pdf(objects + (extra or []))


def lines_of(doc: Document) -> list[str]:
    return [re.sub(r"\s+", " ", line).strip() for line in doc.text().split("\n")]


@pytest.fixture(scope="module")
def report() -> Document:
    return read_pdf(report_pdf(repeat=4))


# ------------------------------------------------------------------------------------------ layout
def test_built_report_really_wraps_and_spans_pages() -> None:
    """The fixture is worth testing against: pdfplumber sees printed lines, not paragraphs."""
    with pdfplumber.open(io.BytesIO(report_pdf(repeat=4))) as doc:
        assert len(doc.pages) >= 3
        first = doc.pages[0].extract_text()
    assert "8.458.730" in first
    assert not any(text in first.split("\n") for text in PARAGRAPHS)


def test_wrapped_lines_are_joined_into_paragraphs(report: Document) -> None:
    lines = lines_of(report)
    for text in PARAGRAPHS:
        assert lines.count(text) == 4, text[:40]  # each of the four copies is one block, intact
    assert report.source == "pdf" and report.ocr is False


def test_paragraph_across_a_page_break_is_one_block(report: Document) -> None:
    pages = {b.page for b in report.blocks}
    assert len(pages) >= 3
    body = [b for b in report.blocks if b.kind == "paragraph" and b.text in PARAGRAPHS]
    assert len(body) == 20
    # some paragraph started on one page and finished on the next: it is still whole (asserted
    # above) and the block is placed on the page where it starts
    assert {b.page for b in body} >= {1, 2}


def test_running_header_footer_and_page_numbers_are_dropped(report: Document) -> None:
    text = report.text()
    assert "Báo cáo số 215-BC/HU" not in text
    assert not re.search(r"(?m)^Trang \d+$", text)
    assert "Trang" not in text


@pytest.mark.parametrize("footer", [lambda n: f"- {n} -", lambda n: f"Trang {n}/3", lambda n: str(n)])
def test_page_number_styles(footer: Callable[[int], str]) -> None:
    doc = read_pdf(report_pdf(repeat=2, running=None, footer=footer))
    assert not [line for line in lines_of(doc) if re.fullmatch(r"[-\s]*(Trang )?\d+(/\d+)?[-\s]*", line)]
    assert lines_of(doc).count(PARAGRAPHS[1]) == 2


def test_two_page_running_header_seen_once_is_dropped() -> None:
    doc = read_pdf(report_pdf(repeat=2, footer=None))
    assert len({b.page for b in doc.blocks}) == 2
    assert "Báo cáo số 215-BC/HU" not in doc.text()
    for text in PARAGRAPHS:
        assert text in lines_of(doc)


def test_two_column_header_left_column_then_right(report: Document) -> None:
    header = report.header
    assert header is not None
    assert header.superior == "ĐẢNG BỘ TỈNH HẢI DƯƠNG"
    assert header.issuer == "HUYỆN ỦY GIA LỘC"
    assert header.national == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert header.place_date == "Gia Lộc, ngày 05 tháng 10 năm 2023"
    assert header.number is not None and "215-BC/HU" in header.number
    assert header.doc_type == "BÁO CÁO"
    assert header.subject == ("Kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023, phương hướng nhiệm vụ trọng tâm "
                              "3 tháng cuối năm 2023")
    assert "DƯƠNG ĐẢNG" not in report.text() and "HU Gia Lộc" not in report.text()


def _blocks_given_to_build(monkeypatch: pytest.MonkeyPatch, data: bytes) -> list[Any]:
    """The blocks read_pdf hands to build, before build interprets them."""
    import documents.structure as structure

    seen: list[Any] = []

    def capture(blocks: list[Any], **_: Any) -> Document:
        seen.extend(blocks)
        return Document(blocks=blocks)

    monkeypatch.setattr(structure, "build", capture)
    read_pdf(data)
    return seen


def test_header_columns_reach_build_in_column_order(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _blocks_given_to_build(monkeypatch, report_pdf())
    texts = [b.text for b in seen[:6]]
    assert texts == ["ĐẢNG BỘ TỈNH HẢI DƯƠNG", "HUYỆN ỦY GIA LỘC", "Số 215-BC/HU", "ĐẢNG CỘNG SẢN VIỆT NAM",
                     "Gia Lộc, ngày 05 tháng 10 năm 2023", "BÁO CÁO"]
    assert all(b.bold for b in seen[:2]) and seen[3].bold and seen[5].bold
    closing = [b.text for b in seen[-6:]]
    assert closing == ["Nơi nhận:", "- Ban Thường vụ Tỉnh ủy,", "- Lưu Văn phòng Huyện ủy.", "T/M BAN THƯỜNG VỤ",
                       "PHÓ BÍ THƯ", "Nguyễn Văn An"]


def test_ruled_table_is_a_table_block_not_paragraphs(report: Document) -> None:
    tables = [b for b in report.blocks if b.kind == "table"]
    assert len(tables) == 1
    assert tables[0].rows == TABLE
    assert tables[0].header_rows == 1
    assert not [b for b in report.blocks if b.kind != "table" and "10.858.000" in b.text]
    assert report.text().count("10.858.000") == 1


def test_bold_headings_are_passed_on(report: Document) -> None:
    headings = [b for b in report.blocks if b.kind == "heading"]
    assert [(b.numbering, b.text) for b in headings] == [("I.", "KẾT QUẢ ĐẠT ĐƯỢC"), ("II.", "NHIỆM VỤ TRỌNG TÂM")]
    assert all(b.bold for b in headings)
    assert not any(b.bold for b in report.blocks if b.kind == "paragraph" and b.text in PARAGRAPHS)


def test_closing_is_not_body(report: Document) -> None:
    assert report.closing[0] == "Nơi nhận:"
    assert "Nguyễn Văn An" in report.closing
    assert not any("Nơi nhận" in b.text for b in report.blocks)


def _lines_pdf(lines: list[tuple[str, bool]], *, bold_first: bool = False, centred_caps: str | None = None) -> bytes:
    pdf = _Report(None, None)
    pdf.add_page()
    y = 30.0
    if centred_caps:
        pdf.set_xy(25, y)
        pdf.cell(160, 6, centred_caps, align="C")
        y += 9
    for i, (text, full) in enumerate(lines):
        pdf.set_font("DejaVu", "B" if bold_first and i == 0 else "", 11)
        justified(pdf, y, text, full=full)
        y += 6
    return bytes(pdf.output())


def test_hyphenated_line_ends() -> None:
    doc = read_pdf(_lines_pdf([
        ("Tổng giá trị sản xuất của toàn huyện ước đạt kết quả tốt, công tác phát-", True),
        ("triển kinh tế được chú trọng; nhiều dự án hợp tác inter-", True),
        ("national tiếp tục được triển khai, tình hình kinh tế-", True),
        ("xã hội ổn định; phòng chống dịch Covid-", True),
        ("19 hiệu quả; tỷ lệ hộ nghèo giảm, việc triể-", True),
        ("n khai các chương trình mục tiêu đạt 77,9% kế hoạch năm.", False),
    ]))
    assert lines_of(doc) == [
        "Tổng giá trị sản xuất của toàn huyện ước đạt kết quả tốt, công tác phát-triển kinh tế được chú trọng; "
        "nhiều dự án hợp tác international tiếp tục được triển khai, tình hình kinh tế-xã hội ổn định; phòng chống "
        "dịch Covid-19 hiệu quả; tỷ lệ hộ nghèo giảm, việc triển khai các chương trình mục tiêu đạt 77,9% kế hoạch năm."
    ]


def test_join_wrapped_rules() -> None:
    assert join_wrapped("đạt", "8.458.730 triệu đồng") == "đạt 8.458.730 triệu đồng"
    assert join_wrapped("inter-", "national") == "international"  # a word cut in two
    assert join_wrapped("triể-", "n khai") == "triển khai"
    assert join_wrapped("phát-", "triển") == "phát-triển"  # two whole syllables: the hyphen was written
    assert join_wrapped("Mác-", "Lênin") == "Mác-Lênin"
    assert join_wrapped("giai đoạn 2021 -", "2025") == "giai đoạn 2021 - 2025"  # a dash, not a hyphen
    assert join_wrapped("trườ\u00ad", "ng học") == "trường học"  # a soft hyphen is always a break


def test_sentence_end_and_bullets_start_new_blocks() -> None:
    doc = read_pdf(_lines_pdf([
        ("Hội nghị thống nhất giao Ban Thường vụ Huyện ủy chỉ đạo thực hiện các nhiệm vụ sau:", False),
        ("- Đẩy nhanh tiến độ giải ngân vốn đầu tư công, phấn đấu đạt trên 95% kế hoạch năm", True),
        ("được giao;", False),
        ("- Tăng cường quản lý đất đai, xử lý dứt điểm các vi phạm.", False),
        ("Các xã, thị trấn triển khai thực hiện nghiêm túc.", False),
    ]))
    assert lines_of(doc) == [
        "Hội nghị thống nhất giao Ban Thường vụ Huyện ủy chỉ đạo thực hiện các nhiệm vụ sau:",
        "- Đẩy nhanh tiến độ giải ngân vốn đầu tư công, phấn đấu đạt trên 95% kế hoạch năm được giao;",
        "- Tăng cường quản lý đất đai, xử lý dứt điểm các vi phạm.",
        "Các xã, thị trấn triển khai thực hiện nghiêm túc.",
    ]
    assert [b.kind for b in doc.blocks][1:3] == ["list_item", "list_item"]


def test_bold_and_centred_capitals_lines_marked_bold(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _blocks_given_to_build(monkeypatch, _lines_pdf(
        [("Về phát triển kinh tế", False), ("Sản xuất nông nghiệp được mùa, năng suất lúa đạt 62 tạ/ha.", False)],
        bold_first=True, centred_caps="KẾT QUẢ CHỦ YẾU"))
    assert [(b.text, b.bold) for b in seen] == [
        ("KẾT QUẢ CHỦ YẾU", True),  # regular type, but centred capitals
        ("Về phát triển kinh tế", True),
        ("Sản xuất nông nghiệp được mùa, năng suất lúa đạt 62 tạ/ha.", False),
    ]


# ------------------------------------------------------------------------------------------ guards
def _vi(exc: pytest.ExceptionInfo[ReadError]) -> str:
    return exc.value.vi


def test_encrypted_pdf_refused() -> None:
    with pytest.raises(ReadError) as exc:
        read_pdf(report_pdf(encrypt=("chu-so-huu", "mat-khau")))
    assert "mật khẩu" in _vi(exc)


def test_pdf_with_owner_password_only_is_read() -> None:
    doc = read_pdf(report_pdf(encrypt=("chu-so-huu", "")))
    assert PARAGRAPHS[1] in lines_of(doc)


def test_truncated_pdf_refused() -> None:
    data = report_pdf()
    with pytest.raises(ReadError) as exc:
        read_pdf(data[: len(data) // 2])
    assert "không đầy đủ" in _vi(exc)


def test_not_a_pdf_refused() -> None:
    with pytest.raises(ReadError) as exc:
        read_pdf(b"PK\x03\x04 this is a zip, not a PDF %%EOF")
    assert "không phải là PDF" in _vi(exc)


def test_damaged_pdf_refused_not_crashed() -> None:
    data = report_pdf()
    start = data.index(b"stream", 2000) + 20
    damaged = data[:start] + b"\x00garbage" * 400 + data[start + 3200:]
    try:
        doc = read_pdf(damaged)
    except ReadError as exc:
        assert exc.vi
    else:
        assert isinstance(doc, Document)


def test_too_large_refused() -> None:
    with pytest.raises(ReadError) as exc:
        read_pdf(b"%PDF-1.4\n" + b"0" * (pdfmod.MAX_PDF_BYTES + 1) + b"%%EOF")
    assert "quá lớn" in _vi(exc)


def test_too_many_pages_refused() -> None:
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>"
    count = pdfmod.MAX_PDF_PAGES + 1
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    data = raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
                    *[page] * count])
    with pytest.raises(ReadError) as exc:
        read_pdf(data)
    assert "quá dài" in _vi(exc)


def test_shared_bt_et_stream_bomb_refused_structurally() -> None:
    """300 pages drawing one FlateDecode stream of `BT ET` x 990,000 (a 55 KB file): pypdf took 271 s
    of CPU on it. Refused from the decoded size before any page is interpreted."""
    data = shared_stream_pdf(300, b"BT ET\n" * 990_000)
    assert len(data) < 60_000
    with pytest.raises(ReadError) as exc:
        read_pdf(data)
    assert _vi(exc).startswith("Tệp PDF quá phức tạp")
    assert "content bytes" in exc.value.en or "one stream" in exc.value.en


def test_text_objects_bound_per_page() -> None:
    data = shared_stream_pdf(1, b"BT ET " * (pdfmod.MAX_PAGE_TEXT_OBJECTS + 1))
    with pytest.raises(ReadError) as exc:
        read_pdf(data)
    assert "text objects" in exc.value.en


def test_whole_file_token_budget() -> None:
    """Each page under the per-page bound, the file far over its total (the stream is shared)."""
    per_page = pdfmod.MAX_PAGE_TOKENS // 2
    data = shared_stream_pdf(200, b"q Q\n" * (per_page // 2))
    with pytest.raises(ReadError) as exc:
        read_pdf(data)
    assert "file up to page" in exc.value.en


def test_form_drawn_many_times_counts_every_use() -> None:
    """A small page drawing a small form 5,000 times: the cost is the form's times its uses."""
    form = _stream(b"BT ET " * 100, b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] ")
    data = shared_stream_pdf(1, b"/F1 Do\n" * 5_000, resources=b"<< /XObject << /F1 5 0 R >> >>", extra=[form])
    with pytest.raises(ReadError) as exc:
        read_pdf(data)
    assert "quá phức tạp" in _vi(exc)


def test_cmap_range_bomb_refused() -> None:
    ranges = b"\n".join(b"<0000> <FFFF> <0000>" for _ in range(100))
    cmap = _stream(b"begincmap\n100 beginbfrange\n" + ranges + b"\nendbfrange\nendcmap")
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>"
    data = shared_stream_pdf(1, b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET", resources=b"<< /Font << /F1 5 0 R >> >>",
                             extra=[font, cmap])
    with pytest.raises(ReadError) as exc:
        read_pdf(data)
    assert "CMap" in exc.value.en


def test_character_budget_enforced_while_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfmod, "MAX_PAGE_CHARS", 200)
    with pytest.raises(ReadError) as exc:
        read_pdf(report_pdf())
    assert "quá phức tạp" in _vi(exc) and "characters" in exc.value.en


def test_cpu_budget_enforced_while_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfmod, "PAGE_CPU_SECONDS", 0.0)
    with pytest.raises(ReadError) as exc:
        read_pdf(report_pdf())
    assert "CPU" in exc.value.en


def test_blank_pdf_has_no_text() -> None:
    pdf = _Report(None, None)
    pdf.add_page()
    with pytest.raises(ReadError) as exc:
        read_pdf(bytes(pdf.output()))
    assert "không có nội dung" in _vi(exc)

