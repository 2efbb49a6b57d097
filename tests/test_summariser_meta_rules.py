"""Unit, date and period rules that must hold on reports nobody here has read (synthetic reports)."""

from __future__ import annotations

import datetime as dt

import pytest

from documents.models import Block, Document, HeaderBlock
from summariser import summarise
from summariser.metadata import readable_title, sector_led
from summariser.pipeline import _header_unit

# ------------------------------------------------------------------------------------------ periods


def test_a_lead_that_recounts_figures_year_by_year_names_no_period() -> None:
    text = ("Đối thoại với doanh nghiệp\nSáng 24/5, UBND tỉnh Đồng Nai tổ chức hội nghị đối thoại với doanh "
            "nghiệp về tháo gỡ khó khăn. Toàn tỉnh hiện có khoảng 5.200 doanh nghiệp. Năm 2012, có 310 doanh "
            "nghiệp ngừng hoạt động. Quý I/2013, có thêm 24 doanh nghiệp giải thể, tăng 20% so với cùng kỳ.")
    assert summarise(text).period is None


def test_one_time_opening_a_lead_sentence_is_still_the_period() -> None:
    text = ("Thu ngân sách khởi sắc\nSáng 4/4, Cục Thuế tỉnh Nam Định tổ chức hội nghị giao ban. Lãnh đạo các "
            "phòng tham dự đầy đủ. Quý I/2013, toàn ngành thu được 849 tỷ đồng, đạt 19% dự toán.")
    assert summarise(text).period == "quý I/2013"


def test_a_span_the_review_covers_outranks_the_year_in_the_meetings_name() -> None:
    text = ("Xúc tiến thương mại\nSáng 30/5, Bộ Công Thương tổ chức Hội nghị chuyên đề về công tác xúc tiến "
            "thương mại năm 2014. Hội nghị nhằm tổng kết, đánh giá công tác xúc tiến thương mại từ năm 2005 đến "
            "nay, chỉ ra tồn tại và bài học kinh nghiệm.")
    assert summarise(text).period == "từ năm 2005 đến nay"


def test_the_body_period_is_the_one_named_most_often() -> None:
    text = ("Hội nghị trực tuyến về an toàn giao thông\nSáng 29/5, Ủy ban An toàn giao thông quốc gia tổ chức hội "
            "nghị trực tuyến toàn quốc. Nhiều đại biểu đề nghị phạt nặng người vi phạm. Lãnh đạo các bộ, ngành "
            "dự tại đầu cầu Hà Nội. Các tỉnh, thành phố dự tại đầu cầu địa phương.\nChủ tịch UBND tỉnh Phú "
            "Yên cho biết 3 tháng đầu năm 2013 trên địa bàn có 41 vụ tai nạn.\nTrong 5 tháng đầu năm 2013, cả "
            "nước giảm 8% số người chết vì tai nạn giao thông.\nKết quả 5 tháng đầu năm 2013 cho thấy các địa "
            "phương đã vào cuộc.")
    assert summarise(text).period == "5 tháng đầu năm 2013"


def test_how_long_something_lasted_in_the_body_is_no_period() -> None:
    text = ("Doanh nghiệp kêu khó\nSáng 24/5, lãnh đạo tỉnh gặp gỡ doanh nghiệp đóng trên địa bàn. Các doanh "
            "nghiệp nêu nhiều vướng mắc về thủ tục đất đai và vốn vay. Lãnh đạo các sở, ngành trả lời từng "
            "kiến nghị. Nhiều vướng mắc được giải quyết ngay tại hội nghị.\nĐiều bất cập, trong suốt 2 năm qua, "
            "không ít doanh nghiệp phải tiếp nhiều đoàn thanh tra.")
    assert summarise(text).period is None


# ------------------------------------------------------------------------------------------ dates


def test_a_february_text_reviewing_last_year_and_naming_this_year_is_dated_this_year() -> None:
    text = ("Thứ trưởng làm việc tại Hậu Giang\nSáng 7-2, đoàn công tác của Bộ Công an đến thăm và làm việc với "
            "Công an tỉnh Hậu Giang. Tham dự có lãnh đạo tỉnh Hậu Giang. Lãnh đạo Công an tỉnh báo cáo với đoàn. "
            "Giám đốc Công an tỉnh cho biết, năm 2016, tình hình an ninh trật tự ổn định, số vụ phạm pháp hình "
            "sự giảm 12%. Lực lượng đã phát động phong trào thi đua năm 2017 ngay từ đầu tháng.")
    assert summarise(text).date == dt.date(2017, 2, 7)


def test_years_no_one_meeting_year_fits_give_no_date() -> None:
    text = ("Thứ trưởng làm việc tại Hậu Giang\nSáng 7-5, đoàn công tác của Bộ Công an đến thăm và làm việc với "
            "Công an tỉnh Hậu Giang. Tham dự có lãnh đạo tỉnh Hậu Giang. Lãnh đạo Công an tỉnh báo cáo với đoàn. "
            "Giám đốc Công an tỉnh cho biết, năm 2016, tình hình an ninh trật tự ổn định, số vụ phạm pháp hình "
            "sự giảm 12%. Lực lượng đã phát động phong trào thi đua năm 2017 ngay từ đầu tháng.")
    assert summarise(text).date is None  # in May, "năm 2016" reviewed and "năm 2017" cannot both be this year


def test_a_dateline_the_cleaning_drops_still_dates_the_meeting() -> None:
    text = ("Khai mạc kỳ họp thứ 6 HĐND huyện Cam Lâm khóa XI\n09:12, 19/12/2019\n\n"
            "Sáng 19-12, HĐND huyện Cam Lâm khóa XI khai mạc kỳ họp thứ 6.\n\n"
            "Sáng 19-12, HĐND huyện Cam Lâm khóa XI khai mạc kỳ họp thứ 6.\n\n"
            "Tại kỳ họp, các đại biểu đã thông qua báo cáo tình hình kinh tế - xã hội năm 2019, phương hướng "
            "nhiệm vụ năm 2020.\n\nNăm 2019, tổng diện tích gieo trồng toàn huyện được 7.120ha, đạt 101% kế hoạch.")
    s = summarise(text)
    assert s.date == dt.date(2019, 12, 19)
    assert s.unit == "huyện Cam Lâm"


# ------------------------------------------------------------------------------------------ official documents


def _official(subject: str, opening: str, items: list[str], heading: str = "KẾT QUẢ ĐẠT ĐƯỢC") -> Document:
    blocks = [Block(kind="paragraph", text=opening), Block(kind="heading", text=heading, numbering="I.", level=1)]
    blocks += [Block(kind="list_item", text=t, numbering="-", level=1) for t in items]
    blocks += [Block(kind="heading", text="HẠN CHẾ, TỒN TẠI", numbering="II.", level=1),
               Block(kind="paragraph", text="Một số dự án còn chậm tiến độ giải phóng mặt bằng.")]
    header = HeaderBlock(issuer="ỦY BAN NHÂN DÂN TỈNH BÌNH THUẬN", national="CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                         place_date="Phan Thiết, ngày 24 tháng 5 năm 2013", doc_type="BÁO CÁO", subject=subject)
    return Document(blocks=blocks, header=header, source="docx")


def test_an_official_documents_period_is_the_one_its_subject_names() -> None:
    doc = _official("Kết quả công tác 5 tháng đầu năm 2013 của Ủy ban nhân dân tỉnh",
                    "Thực hiện chế độ báo cáo định kỳ, Ủy ban nhân dân tỉnh báo cáo kết quả công tác như sau:",
                    ["Quý I/2013 có thêm 11 doanh nghiệp giải thể.",
                     "Năm 2012 có 429 doanh nghiệp ngừng hoạt động, 138 doanh nghiệp tạm nghỉ."])
    s = summarise(doc)
    assert s.period == "5 tháng đầu năm 2013"
    assert s.date == dt.date(2013, 5, 24)


def test_an_official_document_whose_subject_names_no_period_has_none() -> None:
    doc = _official("Tình hình hoạt động của doanh nghiệp trên địa bàn tỉnh",
                    "Thực hiện chế độ báo cáo định kỳ, Ủy ban nhân dân tỉnh báo cáo kết quả công tác như sau:",
                    ["Năm 2012 có 429 doanh nghiệp ngừng hoạt động, 138 doanh nghiệp tạm nghỉ.",
                     "Ngân hàng đã giãn nợ cho 120 doanh nghiệp."])
    assert summarise(doc).period is None  # the year of an item's figure is not the report's period


def test_an_official_documents_opening_can_name_the_period() -> None:
    doc = _official("Kết quả công tác, phương hướng, nhiệm vụ thời gian tới",
                    "Thực hiện chế độ báo cáo định kỳ, Ủy ban nhân dân tỉnh báo cáo kết quả công tác 6 tháng đầu "
                    "năm 2013 như sau:", ["Năm 2012 có 429 doanh nghiệp ngừng hoạt động."])
    assert summarise(doc).period == "6 tháng đầu năm 2013"


def test_an_official_documents_heading_can_name_the_period() -> None:
    doc = _official("Báo cáo sơ kết công tác", "Ủy ban nhân dân tỉnh báo cáo như sau:",
                    ["Năm 2012 có 429 doanh nghiệp ngừng hoạt động."],
                    heading="KẾT QUẢ THỰC HIỆN NHIỆM VỤ 6 THÁNG ĐẦU NĂM 2013")
    assert summarise(doc).period == "6 tháng đầu năm 2013"


# ------------------------------------------------------------------------------------------ units


@pytest.mark.parametrize(
    ("superior", "issuer", "unit"),
    [
        ("BỘ CÔNG AN", "CÔNG AN TỈNH HẬU GIANG", "Công an tỉnh Hậu Giang"),
        ("UBND TỈNH NINH BÌNH", "SỞ XÂY DỰNG TỈNH NINH BÌNH", "Sở xây dựng tỉnh Ninh Bình"),
        ("ĐẢNG BỘ HUYỆN HƯỚNG HÓA", "ĐẢNG ỦY THỊ TRẤN KHE SANH", "thị trấn Khe Sanh"),
        ("ĐẢNG BỘ TỈNH THANH HÓA", "HUYỆN ỦY YÊN ĐỊNH", "huyện Yên Định"),
        (None, "ỦY BAN NHÂN DÂN TỈNH BÌNH THUẬN", "tỉnh Bình Thuận"),
        (None, "CỤC THUẾ HƯNG YÊN", "Cục Thuế Hưng Yên"),
    ],
)
def test_the_header_names_the_issuing_unit_in_full(superior: str | None, issuer: str, unit: str) -> None:
    assert _header_unit(HeaderBlock(superior=superior, issuer=issuer)) == unit


def test_a_place_after_an_organ_keeps_every_word() -> None:
    assert readable_title("ĐẢNG ỦY THỊ TRẤN HỮU LŨNG") == "Đảng ủy thị trấn Hữu Lũng"
    assert readable_title("ĐẢNG BỘ TỈNH THANH HÓA HUYỆN ỦY YÊN ĐỊNH") == "Đảng bộ tỉnh Thanh Hóa Huyện ủy Yên Định"
    assert readable_title("BÁO CÁO CỦA ĐẢNG ỦY PHƯỜNG TRẦN PHÚ") == "Báo cáo của Đảng ủy phường Trần Phú"


def test_a_local_government_is_not_a_sector_body() -> None:
    assert sector_led("Công an tỉnh Hậu Giang")
    assert not sector_led("Ủy ban nhân dân tỉnh Hậu Giang")
    assert not sector_led("Huyện ủy Yên Định")
