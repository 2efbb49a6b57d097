"""documents.structure.build: header block, headings, labels, lists, closing from blocks in reading order.

Every document is built here from lines written for the test (no fixtures); the dev reports are only
read from ../shared/eval/dev to check that news text gains no header, closing or lost figure.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents.models import Block, Document
from documents.structure import build, clean_line
from documents.text import from_text

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "dev"


def P(text: str, *, bold: bool = False) -> Block:
    return Block(kind="paragraph", text=text, bold=bold)


def doc_of(*lines: str | Block) -> Document:
    return build([P(x) if isinstance(x, str) else x for x in lines], source="text")


def kinds(doc: Document) -> list[tuple[str, int, str | None, str]]:
    return [(b.kind, b.level, b.numbering, b.text) for b in doc.blocks]


PARTY_TOP = ["ĐẢNG BỘ TỈNH THANH HÓA", "ĐẢNG CỘNG SẢN VIỆT NAM", "HUYỆN ỦY YÊN ĐỊNH", "*",
             "Số 215-BC/HU", "Yên Định, ngày 05 tháng 10 năm 2023", "BÁO CÁO",
             "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023"]
BODY = ["Thực hiện Chương trình công tác, Ban Thường vụ Huyện ủy báo cáo như sau:", "I. KẾT QUẢ ĐẠT ĐƯỢC",
        "Tổng giá trị sản xuất ước đạt 8.458.730 triệu đồng, tăng 12,6%."]


# ------------------------------------------------------------------------------------------ header fields
def test_party_header_as_interleaved_lines() -> None:
    doc = doc_of(*PARTY_TOP, *BODY)
    h = doc.header
    assert h is not None
    assert (h.superior, h.issuer, h.number, h.national) == (
        "ĐẢNG BỘ TỈNH THANH HÓA", "HUYỆN ỦY YÊN ĐỊNH", "215-BC/HU", "ĐẢNG CỘNG SẢN VIỆT NAM")
    assert (h.place_date, h.doc_type) == ("Yên Định, ngày 05 tháng 10 năm 2023", "BÁO CÁO")
    assert h.subject == "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023"
    assert kinds(doc)[0] == ("paragraph", 0, None, BODY[0])  # the header lines are not blocks
    assert ("heading", 1, "I.", "KẾT QUẢ ĐẠT ĐƯỢC") in kinds(doc)


def test_state_header_with_motto_and_two_line_issuer() -> None:
    doc = doc_of("ỦY BAN NHÂN DÂN", "HUYỆN YÊN ĐỊNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Độc lập - Tự do - Hạnh phúc", "Số: 12/BC-UBND", "Yên Định, ngày 5 tháng 10 năm 2023",
                 "BÁO CÁO", "Tình hình kinh tế - xã hội quý III năm 2023", *BODY)
    h = doc.header
    assert h is not None
    assert h.superior is None and h.issuer == "ỦY BAN NHÂN DÂN HUYỆN YÊN ĐỊNH"
    assert h.number == "12/BC-UBND"  # without "Số:"
    assert h.national == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc"


def test_superior_and_issuer_of_a_department() -> None:
    h = doc_of("UBND TỈNH THANH HÓA", "SỞ TÀI CHÍNH", "Số: 88/BC-STC", "BÁO CÁO", "Sơ kết công tác 6 tháng",
               *BODY).header
    assert h is not None and (h.superior, h.issuer, h.number) == ("UBND TỈNH THANH HÓA", "SỞ TÀI CHÍNH", "88/BC-STC")
    assert h.subject == "Sơ kết công tác 6 tháng"


@pytest.mark.parametrize(("line", "number"), [("Số: 12/BC-UBND", "12/BC-UBND"), ("Số 215-BC/HU", "215-BC/HU"),
                                              ("215-BC/HU", "215-BC/HU"), ("SỐ: 05/2023/NQ-HĐND", "05/2023/NQ-HĐND"),
                                              ("Số:      /BC-UBND", "/BC-UBND")])
def test_number_forms(line: str, number: str) -> None:
    h = doc_of("HUYỆN ỦY YÊN ĐỊNH", line, "BÁO CÁO", "Kết quả tháng 9", *BODY).header
    assert h is not None and h.number == number


@pytest.mark.parametrize("national", ["ĐẢNG CỘNG SẢN VIỆT NAM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                                      "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
def test_national_line_forms(national: str) -> None:
    h = doc_of("HUYỆN ỦY YÊN ĐỊNH", national, "Yên Định, ngày 05 tháng 10 năm 2023", *BODY).header
    assert h is not None and h.national == national and h.issuer == "HUYỆN ỦY YÊN ĐỊNH"


@pytest.mark.parametrize("place_date", ["Yên Định, ngày 05 tháng 10 năm 2023", "Yên Định, ngày    tháng 10 năm 2023",
                                        "Hà Nội, ngày   tháng   năm 2024", "TP. Hồ Chí Minh, ngày 1 tháng 2 năm 2024"])
def test_place_and_date_forms(place_date: str) -> None:
    h = doc_of("SỞ TÀI CHÍNH", "Số: 1/BC-STC", place_date, "BÁO CÁO", "Tình hình thu chi", *BODY).header
    assert h is not None and h.place_date == place_date  # blanks kept as written


@pytest.mark.parametrize("doc_type", ["BÁO CÁO", "THÔNG BÁO", "NGHỊ QUYẾT", "KẾT LUẬN", "TỜ TRÌNH", "BIÊN BẢN"])
def test_document_types(doc_type: str) -> None:
    h = doc_of("HUYỆN ỦY YÊN ĐỊNH", "Số 1-BC/HU", doc_type, "Kết quả hội nghị lần thứ 24", *BODY).header
    assert h is not None and (h.doc_type, h.subject) == (doc_type, "Kết quả hội nghị lần thứ 24")


@pytest.mark.parametrize("subject", ["Kết quả thực hiện nhiệm vụ năm 2023", "Sơ kết 6 tháng đầu năm 2024",
                                     "Tình hình kinh tế - xã hội tháng 9"])
def test_subject_forms(subject: str) -> None:
    h = doc_of("BÁO CÁO", subject, *BODY).header
    assert h is not None and h.subject == subject and h.issuer is None


def test_subject_on_two_lines_stops_at_the_body() -> None:
    doc = doc_of("BÁO CÁO", "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm,", "phương hướng nhiệm vụ 3 tháng cuối năm 2023",
                 "Năm 2023, tình hình kinh tế tiếp tục phục hồi.", "I. KẾT QUẢ")
    assert doc.header is not None
    assert doc.header.subject == "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm, phương hướng nhiệm vụ 3 tháng cuối năm 2023"
    assert kinds(doc)[0] == ("paragraph", 0, None, "Năm 2023, tình hình kinh tế tiếp tục phục hồi.")


def test_vv_subject_of_an_official_letter() -> None:
    doc = doc_of("ỦY BAN NHÂN DÂN HUYỆN YÊN ĐỊNH", "Số: 123/UBND-VP", "V/v báo cáo kết quả giải ngân",
                 "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Yên Định, ngày 5 tháng 10 năm 2023",
                 "Kính gửi: Ủy ban nhân dân tỉnh Thanh Hóa", "Thực hiện Công văn số 12, UBND huyện báo cáo như sau:")
    h = doc.header
    assert h is not None and h.subject == "V/v báo cáo kết quả giải ngân" and h.doc_type is None
    assert kinds(doc)[0] == ("paragraph", 0, None, "Kính gửi: Ủy ban nhân dân tỉnh Thanh Hóa")  # no label


def test_two_column_header_as_a_table() -> None:
    table = Block(kind="table", rows=[["ĐẢNG BỘ TỈNH THANH HÓA\nHUYỆN ỦY YÊN ĐỊNH\n*\nSố 215-BC/HU",
                                       "ĐẢNG CỘNG SẢN VIỆT NAM\n\nYên Định, ngày 05 tháng 10 năm 2023"]])
    doc = doc_of(table, "BÁO CÁO", "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023", *BODY)
    assert doc.header == doc_of(*PARTY_TOP, *BODY).header
    assert all(b.kind != "table" for b in doc.blocks)


@pytest.mark.parametrize(("left", "right", "issuer", "place_date"), [
    ("ỦY BAN NHÂN DÂN QUẬN 1\nSố: 243/BC-UBND", "Quận 1, ngày     tháng     năm", "ỦY BAN NHÂN DÂN QUẬN 1",
     "Quận 1, ngày     tháng     năm"),
    ("HỘI ĐỒNG NHÂN DÂN TP. HCM\nSố: 72/BC-HĐND", "TP. HCM, ngày 07 tháng 12 năm 2018", "HỘI ĐỒNG NHÂN DÂN TP. HCM",
     "TP. HCM, ngày 07 tháng 12 năm 2018"),
])
def test_header_table_with_digits_and_capitals_in_the_place(left: str, right: str, issuer: str,
                                                            place_date: str) -> None:
    table = Block(kind="table", rows=[[left, f"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n{right}"]])
    h = doc_of(table, "BÁO CÁO", "Kết quả công tác 5 tháng", *BODY).header
    assert h is not None and (h.issuer, h.place_date) == (issuer, place_date)


def test_two_column_header_pasted_on_shared_lines() -> None:
    tabs = doc_of("ĐẢNG BỘ TỈNH THANH HÓA\t\tĐẢNG CỘNG SẢN VIỆT NAM", "HUYỆN ỦY YÊN ĐỊNH",
                  "Số 215-BC/HU            Yên Định, ngày 05 tháng 10 năm 2023", *PARTY_TOP[-2:], *BODY)
    glued = doc_of("ĐẢNG BỘ TỈNH THANH HÓA ĐẢNG CỘNG SẢN VIỆT NAM",
                   "HUYỆN ỦY YÊN ĐỊNH Yên Định, ngày 05 tháng 10 năm 2023", "Số 215-BC/HU", *PARTY_TOP[-2:], *BODY)
    expected = doc_of(*PARTY_TOP, *BODY).header
    assert tabs.header == expected and glued.header == expected


@pytest.mark.parametrize("lines", [
    ["Ngày 05/10/2023, Ban Chấp hành Đảng bộ huyện Gia Lộc tổ chức Hội nghị lần thứ 24",
     "Dự hội nghị có đồng chí Nguyễn Thị Ngọc Bích, Phó Chủ tịch Thường trực HĐND tỉnh."],
    ["THÀNH ỦY HÀ NỘI TỔNG KẾT 15 NĂM THỰC HIỆN NGHỊ QUYẾT", "Sáng 29-5, Thành ủy Hà Nội tổ chức hội nghị."],
    ["Hôm nay, ngày 5 tháng 10 năm 2023, tại hội trường UBND huyện đã diễn ra hội nghị.", "Số: 12 người dự."],
])
def test_news_text_has_no_header(lines: list[str]) -> None:
    doc = doc_of(*lines)
    assert doc.header is None
    assert doc.text().splitlines() == lines  # nothing dropped, nothing moved


# ------------------------------------------------------------------------------------------ headings
@pytest.mark.parametrize(("line", "level", "numbering", "text"), [
    ("I. KẾT QUẢ ĐẠT ĐƯỢC", 1, "I.", "KẾT QUẢ ĐẠT ĐƯỢC"),
    ("II. Hạn chế, tồn tại", 1, "II.", "Hạn chế, tồn tại"),
    ("IV - ĐỀ XUẤT, KIẾN NGHỊ", 1, "IV -", "ĐỀ XUẤT, KIẾN NGHỊ"),
    ("1. Về kinh tế", 2, "1.", "Về kinh tế"),
    ("2) Về văn hóa - xã hội", 2, "2)", "Về văn hóa - xã hội"),
    ("1.1. Sản xuất nông nghiệp", 3, "1.1.", "Sản xuất nông nghiệp"),
    ("2.3 Thu ngân sách", 3, "2.3", "Thu ngân sách"),
    ("a) Trồng trọt", 3, "a)", "Trồng trọt"),
    ("Phần thứ nhất: KẾT QUẢ THỰC HIỆN NHIỆM VỤ", 1, "Phần thứ nhất", "KẾT QUẢ THỰC HIỆN NHIỆM VỤ"),
    ("PHẦN THỨ HAI PHƯƠNG HƯỚNG, NHIỆM VỤ", 1, "PHẦN THỨ HAI", "PHƯƠNG HƯỚNG, NHIỆM VỤ"),
    ("PHẦN I. TÌNH HÌNH CHUNG", 1, "PHẦN I", "TÌNH HÌNH CHUNG"),
    ("A. KẾT QUẢ CÔNG TÁC", 1, "A.", "KẾT QUẢ CÔNG TÁC"),
    ("B. Nhiệm vụ trọng tâm", 1, "B.", "Nhiệm vụ trọng tâm"),
])
def test_numbered_headings(line: str, level: int, numbering: str, text: str) -> None:
    doc = doc_of(line, "Nội dung của phần này được trình bày dưới đây.")
    assert kinds(doc)[0] == ("heading", level, numbering, text)


def test_letter_heading_goes_below_a_third_level_number() -> None:
    doc = doc_of("I. KẾT QUẢ", "1.1. Nông nghiệp", "a) Trồng trọt", "Lúa đạt 120.000 tấn.", "II. HẠN CHẾ",
                 "a) Về kinh tế", "Còn chậm.")
    levels = [(b.numbering, b.level) for b in doc.blocks if b.kind == "heading"]
    assert levels == [("I.", 1), ("1.1.", 3), ("a)", 4), ("II.", 1), ("a)", 3)]


def test_numbering_alone_takes_the_next_line_as_its_text() -> None:
    doc = doc_of("PHẦN THỨ NHẤT", "KẾT QUẢ THỰC HIỆN NHIỆM VỤ", "I.", "Tình hình chung", "Năm nay khó khăn.")
    assert kinds(doc)[:2] == [("heading", 1, "PHẦN THỨ NHẤT", "KẾT QUẢ THỰC HIỆN NHIỆM VỤ"),
                              ("heading", 1, "I.", "Tình hình chung")]


def test_numbered_long_sentence_is_a_list_item() -> None:
    line = ("1. Tổng giá trị sản xuất ước đạt 8.458.730 triệu đồng, tăng 12,6% so với cùng kỳ, đạt 77,9% kế hoạch "
            "năm, các chỉ tiêu chủ yếu cơ bản đạt tiến độ.")
    doc = doc_of("I. KẾT QUẢ", line, "2. Thu ngân sách đạt 500 tỷ đồng.")
    assert [(b.kind, b.numbering) for b in doc.blocks] == [("heading", "I."), ("list_item", "1."),
                                                           ("list_item", "2.")]
    assert doc.blocks[1].text == line[3:]


def test_numbered_topic_with_colon_splits_heading_and_paragraph() -> None:
    doc = doc_of("1. Về kinh tế: tổng giá trị sản xuất ước đạt 8.458 tỷ đồng, tăng 12,6% so với cùng kỳ.")
    assert kinds(doc) == [("heading", 2, "1.", "Về kinh tế:"),
                          ("paragraph", 0, None, "tổng giá trị sản xuất ước đạt 8.458 tỷ đồng, tăng 12,6% so với cùng kỳ.")]


def test_capitals_and_bold_short_lines_are_headings() -> None:
    doc = doc_of("KẾT QUẢ ĐẠT ĐƯỢC", "Sản xuất ổn định.", P("Những tồn tại, hạn chế", bold=True), "Còn chậm.",
                 P("Đây là một đoạn in đậm nhưng là câu hoàn chỉnh.", bold=True), "Kết thúc.")
    assert [(b.kind, b.level) for b in doc.blocks] == [("heading", 1), ("paragraph", 0), ("heading", 2),
                                                       ("paragraph", 0), ("paragraph", 0), ("paragraph", 0)]
    assert doc.blocks[4].bold


def test_numbers_that_are_not_numbering_stay_text() -> None:
    lines = ["1.5 triệu người được hỗ trợ trong đợt này.", "2023 là năm bản lề của nhiệm kỳ.",
             "5 tháng đầu năm đã giảm tai nạn giao thông."]
    assert [b.kind for b in doc_of(*lines).blocks] == ["paragraph"] * 3


def test_given_heading_keeps_its_level_and_gives_up_its_numbering() -> None:
    doc = build([Block(kind="heading", text="II. HẠN CHẾ, TỒN TẠI", level=2), P("Còn chậm.")], source="docx")
    assert kinds(doc)[0] == ("heading", 2, "II.", "HẠN CHẾ, TỒN TẠI")
    assert doc.source == "docx"


# ------------------------------------------------------------------------------------------ labels
def test_phone_style_labels() -> None:
    doc = doc_of("Kết quả:", "Thu ngân sách đạt 500 tỷ đồng.", "Tồn tại, hạn chế:", "Còn chậm.",
                 "Nhiệm vụ tháng 12:", "- Hoàn thành kế hoạch.", "Phương hướng thời gian tới:", "Tập trung thu.")
    labels = [(b.text, b.level) for b in doc.blocks if b.kind == "heading" and b.label]
    assert labels == [("Kết quả:", 2), ("Tồn tại, hạn chế:", 2), ("Nhiệm vụ tháng 12:", 2),
                      ("Phương hướng thời gian tới:", 2)]


def test_label_with_content_on_the_same_line() -> None:
    doc = doc_of("Tồn tại: chưa hoàn thành chỉ tiêu thu ngân sách.")
    assert [(b.kind, b.label, b.text) for b in doc.blocks] == [
        ("heading", True, "Tồn tại:"), ("paragraph", False, "chưa hoàn thành chỉ tiêu thu ngân sách.")]


@pytest.mark.parametrize("line", ["Phó Thủ tướng Nguyễn Xuân Phúc nhấn mạnh:",
                                  "Ông Đinh La Thăng cho biết: 5 tháng đầu năm đã giảm tai nạn giao thông.",
                                  "Các chỉ tiêu chủ yếu gồm: GRDP tăng 8,3%, thu ngân sách đạt 100%.",
                                  "Đang online : 0"])
def test_speech_and_lists_are_not_labels(line: str) -> None:
    assert [b.kind for b in doc_of(line, "Câu tiếp theo của bài.").blocks] == ["paragraph", "paragraph"]


# ------------------------------------------------------------------------------------------ lists
def test_nested_lists() -> None:
    doc = doc_of("- Nông nghiệp phát triển ổn định:", "+ Lúa đạt 120.000 tấn;", "+ Chăn nuôi tăng 5%.",
                 "- Công nghiệp tăng 15%.", "• Dịch vụ phục hồi.", "–Thương mại tăng.")
    assert [(b.kind, b.level, b.numbering) for b in doc.blocks] == [
        ("list_item", 1, "-"), ("list_item", 2, "+"), ("list_item", 2, "+"), ("list_item", 1, "-"),
        ("list_item", 2, "•"), ("list_item", 1, "–")]
    assert doc.blocks[1].text == "Lúa đạt 120.000 tấn;"


def test_plus_without_a_dash_above_is_level_one_and_a_heading_closes_the_list() -> None:
    doc = doc_of("+ Thu ngân sách đạt 500 tỷ.", "- Hộ nghèo giảm.", "II. HẠN CHẾ", "+ Còn chậm.")
    assert [b.level for b in doc.blocks] == [1, 2, 1, 1]


def test_signed_figures_are_not_bullets() -> None:
    assert [b.kind for b in doc_of("-5% so với cùng kỳ năm trước.", "+12 hộ thoát nghèo.").blocks] == ["paragraph"] * 2


# ------------------------------------------------------------------------------------------ closing
def test_closing_from_noi_nhan() -> None:
    doc = doc_of(*BODY, "Nơi nhận:", "- Thường trực Tỉnh ủy (b/c);", "- Lưu VP.", "T/M BAN THƯỜNG VỤ",
                 "PHÓ BÍ THƯ", "(Đã ký)", "Nguyễn Văn An")
    assert doc.closing == ["Nơi nhận:", "- Thường trực Tỉnh ủy (b/c);", "- Lưu VP.", "T/M BAN THƯỜNG VỤ",
                           "PHÓ BÍ THƯ", "(Đã ký)", "Nguyễn Văn An"]
    assert [b.text for b in doc.blocks] == [BODY[0], "KẾT QUẢ ĐẠT ĐƯỢC", BODY[2]]


def test_signature_without_noi_nhan_and_signature_before_it() -> None:
    plain = doc_of(*BODY, "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Lê Văn Bình")
    assert plain.closing == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Lê Văn Bình"]
    before = doc_of(*BODY, "TM. BAN THƯỜNG VỤ", "BÍ THƯ", "Nơi nhận:", "- Lưu VP.", "Trần Văn Cường")
    assert before.closing[0] == "TM. BAN THƯỜNG VỤ" and len(before.blocks) == 3


def test_a_byline_is_not_a_closing() -> None:
    doc = doc_of("Hội nghị đã thống nhất các chỉ tiêu năm 2024.", "Minh Anh")
    assert doc.closing == [] and [b.text for b in doc.blocks][-1] == "Minh Anh"
    assert doc_of("Hội nghị thống nhất các chỉ tiêu.", "KTĐT").closing == []


def test_appendix_after_the_closing_is_kept() -> None:
    table = Block(kind="table", rows=[["Chỉ tiêu", "Kết quả"], ["Thu ngân sách", "500"]], header_rows=1)
    doc = doc_of(*BODY, "Nơi nhận:", "- Lưu VP.", "PHỤ LỤC", "Biểu số liệu kèm theo báo cáo", table)
    assert doc.closing == ["Nơi nhận:", "- Lưu VP."]
    assert [b.kind for b in doc.blocks][-3:] == ["heading", "paragraph", "table"]


def test_closing_table_at_the_end_of_a_word_file() -> None:
    table = Block(kind="table", rows=[["Nơi nhận:\n- Như trên;\n- Lưu VT.", "T/M BAN THƯỜNG VỤ\nBÍ THƯ\n\nLê Văn A"]])
    doc = doc_of(*BODY, table)
    assert doc.closing == ["Nơi nhận:", "- Như trên;", "- Lưu VT.", "T/M BAN THƯỜNG VỤ", "BÍ THƯ", "Lê Văn A"]
    assert all(b.kind != "table" for b in doc.blocks)


def test_tables_keep_rows_and_join_cell_lines() -> None:
    table = Block(kind="table", rows=[["Chỉ tiêu", "Kết quả\n(tỷ đồng)"], ["Thu ngân sách", "500"]], header_rows=1)
    doc = doc_of("Kết quả thu ngân sách như sau.", table, "Hết.")
    assert doc.blocks[1].rows == [["Chỉ tiêu", "Kết quả (tỷ đồng)"], ["Thu ngân sách", "500"]]
    assert doc.blocks[1].header_rows == 1


def test_multi_line_paragraph_blocks_are_split_into_lines() -> None:
    doc = build([P("I. KẾT QUẢ\nThu đạt 500 tỷ."), P("   ")], source="pdf")
    assert kinds(doc) == [("heading", 1, "I.", "KẾT QUẢ"), ("paragraph", 0, None, "Thu đạt 500 tỷ.")]


def test_title_passes_through() -> None:
    assert build([P("Nội dung.")], source="html", title="  Tiêu đề  bài báo ").title == "Tiêu đề bài báo"


# ------------------------------------------------------------------------------------------ real news
def _dev_texts() -> list[Path]:
    return sorted(DEV.glob("*.txt")) if DEV.is_dir() else []


@pytest.mark.skipif(not DEV.is_dir(), reason="../shared/eval/dev (the dev reports) is not on this machine")
@pytest.mark.parametrize("path", _dev_texts(), ids=lambda p: p.name)
def test_dev_news_gains_no_header_closing_or_lost_figure(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    doc = from_text(text)
    assert doc.header is None and doc.closing == []
    out = doc.text()
    assert all(figure in out for figure in re.findall(r"\d[\d.,]*\d|\d", text))
    assert sum(b.kind == "heading" for b in doc.blocks) <= 1


# ------------------------------------------------------------------------------------------ property
_LINES = ["ĐẢNG BỘ TỈNH THANH HÓA", "HUYỆN ỦY YÊN ĐỊNH\nSố 215-BC/HU", "ĐẢNG CỘNG SẢN VIỆT NAM", "BÁO CÁO",
          "Yên Định, ngày 05 tháng 10 năm 2023", "I.", "1. Về kinh tế", "a) Trồng trọt", "Kết quả:", "- Thu 500 tỷ;",
          "+ Lúa 120.000 tấn.", "Nơi nhận:", "T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Nguyễn Văn An", "PHỤ LỤC", "*",
          "Tổng giá trị sản xuất đạt 8.458.730 triệu đồng, tăng 12,6%.", "KẾT LUẬN CHUNG", ""]
_TEXT = st.one_of(st.sampled_from(_LINES), st.text(max_size=25))
_BLOCKS = st.one_of(
    st.builds(Block, kind=st.just("paragraph"), text=_TEXT, bold=st.booleans()),
    st.builds(Block, kind=st.just("heading"), text=_TEXT, level=st.integers(0, 12)),
    st.builds(Block, kind=st.just("list_item"), text=_TEXT, level=st.integers(0, 5),
              numbering=st.one_of(st.none(), st.sampled_from(["-", "1.", "+"]))),
    st.builds(Block, kind=st.just("table"), rows=st.lists(st.lists(_TEXT, max_size=4), max_size=4),
              header_rows=st.integers(0, 5)))


@settings(max_examples=300, deadline=None)
@given(st.lists(_BLOCKS, max_size=20))
def test_build_takes_any_blocks_and_loses_no_figure(blocks: list[Block]) -> None:
    doc = build(blocks, source="pdf")
    written = [b.text for b in blocks] + [c for b in blocks for row in b.rows for c in row]
    figures = sorted(re.findall(r"\d+", "\n".join(clean_line(t) for t in written)))  # soft hyphens go
    kept = [b.numbering or "" for b in blocks if b.kind == "list_item" and clean_line(b.text)]  # numbering written too
    assert sorted(re.findall(r"\d+", doc.text())) == sorted(figures + re.findall(r"\d+", "\n".join(kept)))
    assert all(b.level >= 1 for b in doc.blocks if b.kind in ("heading", "list_item"))
