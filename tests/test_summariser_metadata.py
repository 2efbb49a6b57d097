"""Metadata: unit (never guessed), body, meeting, date with the year inferred, period."""

from datetime import date

import pytest

from summariser import summarise


def _meta(text: str):
    s = summarise(text)
    return s.unit, s.body, s.meeting, s.date, s.period


def test_year_inferred_from_the_period_named():
    s = summarise("Sáng 9/10, Ban Thường vụ Huyện ủy tổ chức hội nghị đánh giá kết quả 9 tháng, triển khai nhiệm vụ "
                  "3 tháng cuối năm 2019. Thu ngân sách đạt 95% dự toán.")
    assert s.date == date(2019, 10, 9)
    assert s.period == "9 tháng đầu năm 2019"


def test_date_with_year_and_time_of_day():
    s = summarise("Chiều 9/10/2023, Huyện ủy Bình Gia tổ chức Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ mười năm "
                  "khóa XXIII. Hội nghị đánh giá kết quả 9 tháng đầu năm 2023.")
    assert (s.date, s.unit, s.body) == (date(2023, 10, 9), "huyện Bình Gia", "Ban Chấp hành Đảng bộ huyện")
    assert s.meeting == "Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ mười năm, khóa XXIII"


def test_a_data_date_is_not_the_meeting_date():
    s = summarise("Hội nghị Ban Chấp hành Đảng bộ huyện Chi Lăng lần thứ 15\nTheo báo cáo, giá trị sản xuất công "
                  "nghiệp đến ngày 10/11/2023 đạt 2.351 tỷ đồng. Năm 2023 thu ngân sách đạt 121,5% dự toán.")
    assert s.date is None
    assert s.unit == "huyện Chi Lăng"
    assert s.period == "năm 2023"


def test_year_end_review_held_in_january_is_dated_the_next_year():
    s = summarise("Sáng 10/1, Ban Thường vụ Thị ủy Bỉm Sơn tổ chức hội nghị tổng kết công tác năm 2023, triển khai "
                  "nhiệm vụ năm 2024. Năm 2023, thu ngân sách đạt 812 tỷ đồng.")
    assert s.date == date(2024, 1, 10)
    assert s.period == "năm 2023"
    assert (s.unit, s.body) == ("thị xã Bỉm Sơn", "Ban Thường vụ Thị ủy")


@pytest.mark.parametrize(
    ("lead", "period"),
    [
        ("Ngày 18/7, Huyện ủy Lạng Giang tổ chức sơ kết 6 tháng đầu năm và triển khai nhiệm vụ những tháng cuối năm 2024.",
         "6 tháng đầu năm 2024"),
        ("Sáng ngày 31/8, Ban Thường vụ Huyện ủy tổ chức hội nghị đánh giá kết quả tháng 8; triển khai nhiệm vụ tháng 9/2023.",
         "tháng 8/2023"),
        ("Sáng 5/4, Ban Thường vụ Huyện ủy tổ chức hội nghị sơ kết công tác quý I/2024.", "quý I/2024"),
        ("Ngày 20/12/2013, Ban Chấp hành Đảng bộ huyện tổ chức Hội nghị đánh giá nhiệm vụ năm 2013 và phương hướng năm 2014.",
         "năm 2013"),
    ],
)
def test_period_reviewed_not_the_next_one(lead, period):
    assert summarise(lead + " Thu ngân sách đạt 95% dự toán.").period == period


def test_unit_is_null_when_the_text_does_not_name_it():
    s = summarise("Sáng ngày 31/8, Ban Thường vụ Huyện ủy đã tổ chức hội nghị định kỳ (mở rộng). Dự hội nghị có đồng chí "
                  "Nguyễn Văn A, Phó Chủ tịch UBND tỉnh Lạng Sơn. Thu ngân sách tháng 8 đạt 65 tỷ đồng. Ban Thường vụ cho ý "
                  "kiến vào Đề án đặt tên đường phố thị trấn Quán Lào.")
    assert s.unit is None
    assert s.body == "Ban Thường vụ Huyện ủy"
    assert s.meeting == "Hội nghị định kỳ (mở rộng) Ban Thường vụ Huyện ủy"


@pytest.mark.parametrize(
    ("lead", "unit", "body"),
    [
        ("Chiều 28/6, UBND xã Tân Hiệp tổ chức hội nghị sơ kết 6 tháng đầu năm 2022.", "xã Tân Hiệp", "UBND xã"),
        ("Sáng 6/12, HĐND tỉnh Quảng Trị khóa VIII khai mạc Kỳ họp thứ 17.", "tỉnh Quảng Trị", "HĐND tỉnh"),
        ("Ngày 31/3, Đảng ủy xã Phú Lộc tổ chức phiên họp thường kỳ tháng 3/2021.", "xã Phú Lộc", "Đảng ủy xã"),
        ("Ngày 5/1, Thành ủy Hội An tổ chức hội nghị tổng kết năm 2023.", "TP Hội An", "Thành ủy"),
    ],
)
def test_unit_and_body_at_each_level(lead, unit, body):
    s = summarise(lead + " Thu ngân sách đạt 95% dự toán.")
    assert (s.unit, s.body) == (unit, body)


def test_session_meeting_name():
    s = summarise("Sáng 6/12, HĐND tỉnh Quảng Trị khóa VIII, nhiệm kỳ 2021 - 2026 khai mạc Kỳ họp thứ 17. Năm 2023 "
                  "GRDP tăng 6,8%.")
    assert s.meeting == "Kỳ họp thứ 17, khóa VIII"
    assert s.date == date(2023, 12, 6)


def test_all_capitals_title_is_read_for_unit_body_and_period():
    from summariser.metadata import readable_title

    assert readable_title("HỘI NGHỊ BAN CHẤP HÀNH ĐẢNG BỘ HUYỆN GIA LỘC LẦN THỨ 24, KHÓA XXVI") == (
        "Hội nghị Ban Chấp hành Đảng bộ huyện Gia Lộc lần thứ 24, khóa XXVI")
    s = summarise("BÁO CÁO KẾT QUẢ QUÝ I NĂM 2024 CỦA ĐẢNG ỦY PHƯỜNG TRẦN PHÚ\nThu ngân sách quý I đạt 4,6 tỷ đồng, "
                  "bằng 28% dự toán; hoàn thành kiểm điểm tập thể, cá nhân năm 2023.")
    assert (s.unit, s.body, s.period) == ("phường Trần Phú", "Đảng ủy phường", "quý I/2024")
    assert s.title == "BÁO CÁO KẾT QUẢ QUÝ I NĂM 2024 CỦA ĐẢNG ỦY PHƯỜNG TRẦN PHÚ"
