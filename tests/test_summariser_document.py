"""The summariser reads a Document's structure: header block, parts named by headings, tables."""

from __future__ import annotations

import datetime as dt

from documents.models import Block, Document, HeaderBlock
from summariser import summarise
from summariser.pipeline import WARN_NO_TASKS, cleaned_source
from summariser.sections import heading_section


def _h(text: str, numbering: str, level: int = 1) -> Block:
    return Block(kind="heading", text=text, numbering=numbering, level=level)


def _p(text: str) -> Block:
    return Block(kind="paragraph", text=text)


def _li(text: str) -> Block:
    return Block(kind="list_item", text=text, numbering="-", level=1)


HEADER = HeaderBlock(
    superior="ĐẢNG BỘ TỈNH THANH HÓA",
    issuer="HUYỆN ỦY YÊN ĐỊNH",
    number="215-BC/HU",
    national="ĐẢNG CỘNG SẢN VIỆT NAM",
    place_date="Yên Định, ngày 05 tháng 10 năm 2023",
    doc_type="BÁO CÁO",
    subject="Kết quả thực hiện nhiệm vụ chính trị 9 tháng đầu năm 2023, phương hướng nhiệm vụ 3 tháng cuối năm",
)


def _official(header: HeaderBlock = HEADER) -> Document:
    return Document(
        source="docx",
        header=header,
        blocks=[
            _p("Thực hiện Quy chế làm việc, Ban Thường vụ Huyện ủy báo cáo kết quả thực hiện nhiệm vụ như sau:"),
            _h("KẾT QUẢ ĐẠT ĐƯỢC", "I."),
            _h("Về phát triển kinh tế", "1.", 2),
            _p("Tổng giá trị sản xuất ước đạt 8.458 tỷ đồng, tăng 9,2% so với cùng kỳ."),
            _li("Thu ngân sách trên địa bàn đạt 312 tỷ đồng, bằng 81,2% dự toán năm."),
            _li("Có thêm 3 xã đạt chuẩn nông thôn mới nâng cao, nâng tổng số lên 12 xã."),
            _p("Tuy nhiên, tiến độ giải phóng mặt bằng một số dự án trọng điểm còn chậm."),
            Block(kind="table", header_rows=1, rows=[
                ["STT", "Chỉ tiêu", "Thực hiện (tỷ đồng)", "So với dự toán (%)"],
                ["1", "Thu ngân sách", "253", "38,18"],
                ["2", "Vốn đầu tư công giải ngân", "420", "61,5"],
                ["3", "Doanh nghiệp nhà nước cổ phần hóa", "6/137 DNNN", ""],
            ]),
            _h("HẠN CHẾ, TỒN TẠI", "II."),
            _li("Chất lượng một số tiêu chí nông thôn mới chưa bền vững."),
            _li("Giải ngân vốn đầu tư công đạt thấp, mới đạt 61,5% kế hoạch."),
            _h("Nguyên nhân", "*", 2),
            _p("Nguyên nhân chủ yếu là do điều kiện khách quan và giá vật liệu tăng cao."),
            _h("PHƯƠNG HƯỚNG, NHIỆM VỤ 3 THÁNG CUỐI NĂM", "III."),
            _li("Tập trung đẩy nhanh tiến độ giải phóng mặt bằng các dự án trọng điểm."),
            _li("Phấn đấu thu ngân sách vượt 5% dự toán năm."),
            _h("ĐỀ XUẤT, KIẾN NGHỊ", "IV."),
            _p("Đề nghị Tỉnh ủy quan tâm bố trí vốn cho các công trình giao thông của huyện."),
        ],
        closing=["Nơi nhận:", "- Ban Thường vụ Tỉnh ủy (b/c);", "T/M BAN THƯỜNG VỤ", "BÍ THƯ", "Lê Văn A"],
    )


def _texts(items: list) -> list[str]:
    return [i.text for i in items]


def test_header_block_gives_the_issuers_unit_the_date_and_the_period() -> None:
    s = summarise(_official())
    assert s.unit == "huyện Yên Định"  # not the superior "tỉnh Thanh Hóa"
    assert s.date == dt.date(2023, 10, 5)
    assert s.period == "9 tháng đầu năm 2023"
    assert s.title and s.title.startswith("Kết quả thực hiện nhiệm vụ")


def test_blank_date_line_gives_no_date() -> None:
    header = HEADER.model_copy(update={"place_date": "Yên Định, ngày     tháng 10 năm 2023"})
    assert summarise(_official(header)).date is None


def test_parts_decide_the_sections_and_clause_cues_split_shortcomings_out_of_results() -> None:
    s = summarise(_official())
    results, shortcomings, tasks = _texts(s.results), _texts(s.shortcomings), _texts(s.tasks)
    assert any("8.458 tỷ đồng" in t for t in results)
    assert any("312 tỷ đồng" in t for t in results)
    assert any("3 xã đạt chuẩn" in t for t in results)
    # a "còn chậm" sentence inside the results part is a shortcoming
    assert any("còn chậm" in t for t in shortcomings) and not any("còn chậm" in t for t in results)
    # part II: even "đạt" sentences are shortcomings
    assert any("61,5% kế hoạch" in t for t in shortcomings)
    assert any("nông thôn mới chưa bền vững" in t for t in shortcomings)
    assert any("giải phóng mặt bằng các dự án" in t for t in tasks)
    assert any("vượt 5% dự toán" in t for t in tasks)
    everything = " ".join(results + shortcomings + tasks)
    # the opening, the causes and the requests upward produce nothing
    assert "báo cáo kết quả" not in everything
    assert "khách quan" not in everything
    assert "bố trí vốn" not in everything


def test_table_rows_become_figures_with_row_and_column_labels() -> None:
    s = summarise(_official())
    by_text = {(f.text, f.label) for f in s.figures}
    assert ("253", "Thu ngân sách — Thực hiện") in by_text
    assert ("38,18", "Thu ngân sách — So với dự toán") in by_text
    assert ("6/137 DNNN", "Doanh nghiệp nhà nước cổ phần hóa") in by_text  # the value cell whole
    f = next(f for f in s.figures if f.text == "253")
    assert f.unit == "tỷ đồng" and f.value == 253
    source = cleaned_source(_official())
    for fig in s.figures:  # every figure is a slice of the text the summary is made of
        assert fig.source is not None and source[fig.source.start: fig.source.end] == fig.text


def test_phone_style_labels_keep_their_sections() -> None:
    text = (
        "Báo cáo công tác tháng 11 năm 2024 của xã Đức Chính\n"
        "Kết quả:\n"
        "- Thu ngân sách xã đạt 1,2 tỷ đồng, bằng 95% kế hoạch năm.\n"
        "- Hoàn thành cứng hóa 2,5 km đường giao thông nông thôn.\n"
        "Tồn tại:\n"
        "- Công tác thu thuế hộ kinh doanh còn chậm.\n"
        "Nhiệm vụ tháng 12:\n"
        "- Hoàn thành thu ngân sách năm 2024.\n"
        "- Tổ chức tổng kết công tác năm và xây dựng kế hoạch năm 2025.\n"
    )
    s = summarise(text)
    assert any("1,2 tỷ đồng" in t for t in _texts(s.results))
    assert any("thu thuế hộ kinh doanh" in t for t in _texts(s.shortcomings))
    tasks = _texts(s.tasks)
    assert any("thu ngân sách năm 2024" in t for t in tasks)
    assert any("kế hoạch năm 2025" in t for t in tasks)
    assert not any("kế hoạch năm 2025" in t for t in _texts(s.shortcomings))
    assert WARN_NO_TASKS not in s.warnings


def test_heading_section_reads_the_first_cue() -> None:
    assert heading_section("KẾT QUẢ THỰC HIỆN NHIỆM VỤ") == "results"
    assert heading_section("Hạn chế, tồn tại và nguyên nhân") == "shortcomings"
    assert heading_section("Nguyên nhân của hạn chế") == "other"
    assert heading_section("PHƯƠNG HƯỚNG, NHIỆM VỤ 6 THÁNG CUỐI NĂM") == "tasks"
    assert heading_section("Một số giải pháp khắc phục hạn chế") == "tasks"
    assert heading_section("Đề xuất, kiến nghị") == "other"
    assert heading_section("Về phát triển kinh tế") is None


def test_news_subheading_does_not_open_a_part() -> None:
    text = (
        "TP đặt mục tiêu tăng trưởng 8%\n"
        "Sáng 5-12, UBND thành phố tổ chức hội nghị đánh giá tình hình kinh tế - xã hội năm 2017.\n"
        "Nhiệm vụ thu ngân sách nặng nề\n"
        "Thu ngân sách năm 2017 đạt 345.000 tỷ đồng, tăng 12% so với năm trước.\n"
    )
    s = summarise(text)
    assert any("345.000 tỷ đồng" in t for t in _texts(s.results))


def test_an_issuer_in_capitals_keeps_its_abbreviations() -> None:
    from summariser.pipeline import _cased_name

    assert _cased_name("ỦY BAN ATGT QUỐC GIA") == "Ủy Ban ATGT Quốc Gia"
    assert _cased_name("SỞ VH-TT&DL") == "Sở VH-TT&DL"
    assert _cased_name("CỤC THUẾ HƯNG YÊN") == "Cục Thuế Hưng Yên"
