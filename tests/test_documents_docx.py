"""documents.docx.read_docx: Word files built here with python-docx (and raw XML where Word writes what
python-docx cannot: automatic numbering, header rows, tracked changes, zip bombs)."""

from __future__ import annotations

import io
import random
import tracemalloc
import zipfile
from collections.abc import Callable

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

import documents
from documents.docx import MAX_ELEMENTS, read_docx
from documents.errors import ReadError
from documents.models import Document


def save(d: docx.document.Document) -> bytes:
    buffer = io.BytesIO()
    d.save(buffer)
    return buffer.getvalue()


def shape(doc: Document) -> list[tuple[str, int, str | None, str]]:
    return [(b.kind, b.level, b.numbering, b.text) for b in doc.blocks]


def bold_paragraph(d: docx.document.Document, text: str) -> None:
    d.add_paragraph().add_run(text).bold = True


def fill(table: docx.table.Table, rows: list[tuple[str, ...]]) -> None:
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            table.cell(i, j).text = value


# ------------------------------------------------------------------------------------------ structure
def test_heading_and_list_styles_and_a_table_in_body_order() -> None:
    d = docx.Document()
    d.add_paragraph("Thực hiện kế hoạch năm, Ủy ban nhân dân huyện báo cáo như sau.")
    d.add_heading("I. KẾT QUẢ ĐẠT ĐƯỢC", level=1)
    d.add_heading("Về kinh tế", level=2)
    d.add_paragraph("Nông nghiệp phát triển ổn định", style="List Bullet")
    d.add_paragraph("Lúa đạt 120.000 tấn", style="List Bullet 2")
    fill(d.add_table(rows=3, cols=3), [("Chỉ tiêu", "Kế hoạch", "Thực hiện"), ("Thu ngân sách (tỷ đồng)", "12", "12,5"),
                                       ("Tỷ lệ hộ nghèo", "3%", "2,1%")])
    d.add_heading("II. HẠN CHẾ, TỒN TẠI", level=1)
    d.add_paragraph("Giải phóng mặt bằng còn chậm.")
    d.add_paragraph("Bước một", style="List Number")
    d.add_paragraph("Bước hai", style="List Number")
    doc = read_docx(save(d))
    assert doc.source == "docx"
    assert shape(doc) == [
        ("paragraph", 0, None, "Thực hiện kế hoạch năm, Ủy ban nhân dân huyện báo cáo như sau."),
        ("heading", 1, "I.", "KẾT QUẢ ĐẠT ĐƯỢC"), ("heading", 2, None, "Về kinh tế"),
        ("list_item", 1, "-", "Nông nghiệp phát triển ổn định"), ("list_item", 2, "+", "Lúa đạt 120.000 tấn"),
        ("table", 0, None, ""), ("heading", 1, "II.", "HẠN CHẾ, TỒN TẠI"),
        ("paragraph", 0, None, "Giải phóng mặt bằng còn chậm."),
        ("list_item", 1, "1.", "Bước một"), ("list_item", 1, "2.", "Bước hai")]
    table = doc.blocks[5]
    assert table.rows[1] == ["Thu ngân sách (tỷ đồng)", "12", "12,5"] and table.header_rows == 1
    assert "Tỷ lệ hộ nghèo | 3% | 2,1%" in doc.text()


def test_bold_numbered_and_bold_short_paragraphs_are_headings() -> None:
    d = docx.Document()
    bold_paragraph(d, "1. Về kinh tế")
    d.add_paragraph("Tổng giá trị sản xuất tăng 12,6%.")
    bold_paragraph(d, "Những tồn tại, hạn chế")
    d.add_paragraph("Còn chậm.")
    bold_paragraph(d, "Hội nghị đã thống nhất thông qua nghị quyết với sự đồng thuận cao của các đại biểu.")
    d.add_paragraph("Hết.")
    doc = read_docx(save(d))
    assert [(b.kind, b.numbering, b.bold) for b in doc.blocks] == [
        ("heading", "1.", True), ("paragraph", None, False), ("heading", None, True), ("paragraph", None, False),
        ("paragraph", None, True), ("paragraph", None, False)]


def test_a_paragraph_partly_bold_is_not_bold() -> None:
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("Kết quả nổi bật").bold = True
    p.add_run(" của năm")
    d.add_paragraph("Tiếp theo.")
    assert read_docx(save(d)).blocks[0].kind == "paragraph"


_NUMBERING = """<w:abstractNum {ns} w:abstractNumId="90">
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1."/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/></w:lvl>
  <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2.%3."/></w:lvl>
  <w:lvl w:ilvl="3"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%4)"/></w:lvl>
</w:abstractNum>"""


def _numbered(d: docx.document.Document, text: str, ilvl: int, num_id: str = "90", *, bold: bool = True) -> None:
    p = d.add_paragraph()
    p.add_run(text).bold = bold
    p._p.get_or_add_pPr().append(parse_xml(
        f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))


def test_word_automatic_numbering_is_counted() -> None:
    d = docx.Document()
    numbering = d.part.numbering_part.element
    numbering.insert(0, parse_xml(_NUMBERING.format(ns=nsdecls("w"))))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for text, ilvl in [("KẾT QUẢ ĐẠT ĐƯỢC", 0), ("Về kinh tế", 1), ("Nông nghiệp", 2), ("Trồng trọt", 3),
                       ("Chăn nuôi", 3), ("Công nghiệp", 2), ("Về xã hội", 1), ("HẠN CHẾ", 0), ("Về kinh tế", 1)]:
        _numbered(d, text, ilvl)
        d.add_paragraph("Nội dung chi tiết được trình bày tại đây.")
    heads = [(b.numbering, b.level, b.text) for b in read_docx(save(d)).blocks if b.kind == "heading"]
    assert heads == [("I.", 1, "KẾT QUẢ ĐẠT ĐƯỢC"), ("1.", 2, "Về kinh tế"), ("1.1.", 3, "Nông nghiệp"),
                     ("a)", 4, "Trồng trọt"), ("b)", 4, "Chăn nuôi"), ("1.2.", 3, "Công nghiệp"),
                     ("2.", 2, "Về xã hội"), ("II.", 1, "HẠN CHẾ"), ("1.", 2, "Về kinh tế")]


def test_merged_cells_give_the_value_once() -> None:
    d = docx.Document()
    t = d.add_table(rows=3, cols=3)
    fill(t, [("Chỉ tiêu", "Năm 2023", ""), ("", "Kế hoạch", "Thực hiện"), ("Thu ngân sách", "12", "12,5")])
    t.cell(0, 1).merge(t.cell(0, 2))  # gridSpan
    t.cell(0, 0).merge(t.cell(1, 0))  # vMerge
    doc = read_docx(save(d))
    assert doc.blocks[0].rows == [["Chỉ tiêu", "Năm 2023", ""], ["", "Kế hoạch", "Thực hiện"],
                                  ["Thu ngân sách", "12", "12,5"]]


def test_header_rows_marked_in_word_and_nested_tables_flattened() -> None:
    d = docx.Document()
    t = d.add_table(rows=4, cols=2)
    fill(t, [("Chỉ tiêu", "Kết quả"), ("", "(tỷ đồng)"), ("Thu ngân sách", "500"), ("Chi ngân sách", "")])
    for row in t.rows[:2]:
        row._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
    inner = t.cell(3, 1).add_table(rows=2, cols=2)
    fill(inner, [("Thường xuyên", "300"), ("Đầu tư", "150")])
    doc = read_docx(save(d))
    table = doc.blocks[0]
    assert table.header_rows == 2
    assert table.rows == [["Chỉ tiêu", "Kết quả"], ["", "(tỷ đồng)"], ["Thu ngân sách", "500"], ["Chi ngân sách", ""],
                          ["", "Thường xuyên", "300"], ["", "Đầu tư", "150"]]
    assert "Đầu tư | 150" in doc.text()


def test_two_column_header_table_and_closing_table() -> None:
    d = docx.Document()
    top = d.add_table(rows=1, cols=2)
    top.cell(0, 0).text = "ĐẢNG BỘ TỈNH THANH HÓA\nHUYỆN ỦY YÊN ĐỊNH\n*\nSố 215-BC/HU"
    right = top.cell(0, 1)
    right.text = "ĐẢNG CỘNG SẢN VIỆT NAM"
    right.add_paragraph("Yên Định, ngày 05 tháng 10 năm 2023")
    bold_paragraph(d, "BÁO CÁO")
    bold_paragraph(d, "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023")
    d.add_heading("I. KẾT QUẢ ĐẠT ĐƯỢC", level=1)
    d.add_paragraph("Tổng giá trị sản xuất ước đạt 8.458.730 triệu đồng.")
    end = d.add_table(rows=1, cols=2)
    end.cell(0, 0).text = "Nơi nhận:\n- Thường trực Tỉnh ủy;\n- Lưu VP."
    end.cell(0, 1).text = "T/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ\n\nNguyễn Văn An"
    doc = read_docx(save(d))
    h = doc.header
    assert h is not None
    assert (h.superior, h.issuer, h.number, h.national, h.place_date, h.doc_type, h.subject) == (
        "ĐẢNG BỘ TỈNH THANH HÓA", "HUYỆN ỦY YÊN ĐỊNH", "215-BC/HU", "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Yên Định, ngày 05 tháng 10 năm 2023", "BÁO CÁO", "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023")
    assert [b.kind for b in doc.blocks] == ["heading", "paragraph"]
    assert doc.closing == ["Nơi nhận:", "- Thường trực Tỉnh ủy;", "- Lưu VP.", "T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ",
                           "Nguyễn Văn An"]


def test_tracked_changes_content_controls_and_text_boxes() -> None:
    d = docx.Document()
    p = d.add_paragraph()
    p._p.append(parse_xml(f'<w:ins {nsdecls("w")} w:id="1" w:author="a"><w:r><w:t>Thu đạt 500 tỷ</w:t></w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="2" w:author="a"><w:r><w:delText> (cũ: 400 tỷ)</w:delText>'
                          "</w:r></w:del>"))
    p.add_run(" đồng.")
    body = d.element.body
    body.insert(len(body) - 1, parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtContent><w:p><w:r><w:t>Đoạn trong ô nội dung.</w:t></w:r></w:p>'
        "</w:sdtContent></w:sdt>"))
    q = d.add_paragraph("Đoạn có hộp chữ.")
    q.runs[0]._r.append(parse_xml(
        f'<w:pict {nsdecls("w")} xmlns:v="urn:schemas-microsoft-com:vml"><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>Chữ trong hộp.</w:t></w:r>'
        "</w:p></w:txbxContent></v:textbox></v:shape></w:pict>"))
    doc = read_docx(save(d))
    assert [b.text for b in doc.blocks] == ["Thu đạt 500 tỷ đồng.", "Đoạn trong ô nội dung.", "Đoạn có hộp chữ.",
                                            "Chữ trong hộp."]


def test_read_dispatches_docx() -> None:
    d = docx.Document()
    d.add_heading("Kết quả", level=1)
    d.add_paragraph("Thu đạt 500 tỷ đồng.")
    assert documents.read(save(d), "Báo cáo.docx ").blocks[0].kind == "heading"


# ------------------------------------------------------------------------------------------ hostile files
def _zip(members: dict[str, bytes], level: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_CONTENT_TYPES = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                  b'officedocument.wordprocessingml.document.main+xml"/></Types>')


def _document_xml(paragraphs: int) -> bytes:
    head = (b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
            b'main"><w:body>')
    return head + b"<w:p/>" * paragraphs + b"</w:body></w:document>"


@pytest.fixture
def no_python_docx(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """python-docx must never see a refused file: opening one would inflate and parse it all."""
    calls: list[int] = []

    def refuse(*_args: object, **_kwargs: object) -> None:
        calls.append(1)
        raise AssertionError("python-docx was called on a refused file")

    monkeypatch.setattr(docx, "Document", refuse)
    return lambda: len(calls)


def _refused(data: bytes) -> tuple[ReadError, int]:
    tracemalloc.start()
    try:
        with pytest.raises(ReadError) as info:
            read_docx(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, peak


def test_95_mb_of_empty_paragraphs_is_refused_from_the_zip_directory(no_python_docx: Callable[[], int]) -> None:
    data = _zip({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml": _document_xml(95 * 1024 * 1024 // 6)})
    assert len(data) < 1024 * 1024  # under a megabyte on the wire
    error, peak = _refused(data)
    assert "phức tạp" in error.vi and "hỏng" not in error.vi
    assert peak < 8 * 1024 * 1024  # document.xml was never inflated
    assert no_python_docx() == 0


def test_too_many_elements_under_the_size_bound_are_refused_while_streaming(
        no_python_docx: Callable[[], int]) -> None:
    n = MAX_ELEMENTS + 10  # tags <xy/> with random names: compressed only ~4x, so the ratio test passes them
    letters = random.Random(3).randbytes(2 * n).translate(bytes(97 + i % 16 for i in range(256)))
    body = bytearray(5 * n)
    body[0::5], body[1::5], body[2::5], body[3::5], body[4::5] = b"<" * n, letters[0::2], letters[1::2], b"/" * n, b">" * n
    data = _zip({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml": _document_xml(0) + bytes(body)}, level=1)
    error, peak = _refused(data)
    assert "phức tạp" in error.vi and "2000000" in error.en
    assert peak < 8 * 1024 * 1024  # counted in chunks, not inflated whole
    assert no_python_docx() == 0


def test_zip_bombs_and_broken_files(no_python_docx: Callable[[], int]) -> None:
    ratio = _zip({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml": _document_xml(10),
                  "word/media/image1.bin": b"\x00" * (20 * 1024 * 1024)})
    many = _zip({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml": _document_xml(1),
                 **{f"word/x{i}.bin": b"" for i in range(2_001)}}, level=1)
    cases = {
        "ratio": (ratio, "bất thường"),
        "members": (many, "bất thường"),
        "not a zip": (b"plain text, not a zip" * 10, "không phải"),
        "truncated": (_zip({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml": _document_xml(10)})[:-30],
                      "hỏng"),
        "no document.xml": (_zip({"[Content_Types].xml": _CONTENT_TYPES}), "không phải"),
        "too large": (b"PK\x03\x04" + b"\x00" * (20 * 1024 * 1024), "quá lớn"),
    }
    for label, (data, words) in cases.items():
        error, _ = _refused(data)
        assert words in error.vi, (label, error.vi)
    assert no_python_docx() == 0


def test_a_damaged_document_xml_is_a_read_error() -> None:
    d = save(docx.Document())
    with zipfile.ZipFile(io.BytesIO(d)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["word/document.xml"] = b"<w:document><w:body><w:p>unclosed"
    with pytest.raises(ReadError) as info:
        read_docx(_zip(members))
    assert "hỏng" in info.value.vi

