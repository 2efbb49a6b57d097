"""A date written without its year takes it from the meeting's own context, or has none."""

from __future__ import annotations

import datetime as dt

import pytest

from summariser import summarise


@pytest.mark.parametrize(
    ("text", "date"),
    [
        # the time stamp of a crawled article decides
        ("Hội nghị sơ kết công tác biên phòng\n29/05/13 16:19 GMT+7\nSáng 29-5, Bộ Chỉ huy Bộ đội Biên phòng "
         "tỉnh tổ chức hội nghị sơ kết. Trong năm 2012, lực lượng đã bắt giữ 45 vụ buôn lậu.", dt.date(2013, 5, 29)),
        # a year-end review is held early the next year
        ("Tổng kết công tác năm 2023\nSáng 8/1, UBND huyện Hòa Vang tổ chức hội nghị tổng kết công tác năm 2023. "
         "Thu ngân sách đạt 1.200 tỷ đồng.", dt.date(2024, 1, 8)),
        # a December session sets the coming year's targets
        ("Kỳ họp cuối năm\nChiều 7-12, kỳ họp HĐND tỉnh Bình Định đã thông qua các chỉ tiêu kinh tế - xã hội "
         "quan trọng trong năm 2019. Tổng sản phẩm phấn đấu tăng 8%.", dt.date(2018, 12, 7)),
        # the latest period reviewed
        ("Hội nghị Tỉnh ủy\nNgày 14/4, Tỉnh ủy Bắc Giang tổ chức hội nghị đánh giá kết quả năm 2018 và 3 tháng "
         "đầu năm 2019. Tăng trưởng đạt 13%.", dt.date(2019, 4, 14)),
        # a comparison base is not the year of the meeting
        ("Hội nghị Huyện ủy\nSáng 7/10, Huyện ủy Xuân Lộc tổ chức hội nghị sơ kết 9 tháng. Doanh thu du lịch tăng "
         "27% so với năm 2023, kết nạp 136 đảng viên, đạt 104,6% chỉ tiêu năm 2024.", dt.date(2024, 10, 7)),
    ],
)
def test_the_year_comes_from_the_meetings_context(text: str, date: dt.date) -> None:
    assert summarise(text).date == date


def test_a_documents_date_is_not_the_meeting_date_and_gives_no_year() -> None:
    text = ("Sơ kết Quy định 01\nNgày 9/6, Ban Thường vụ Tỉnh ủy Quảng Trị tổ chức sơ kết thực hiện Quy định "
            "số 01 ngày 3/3/2016 của Ban Thường vụ Tỉnh ủy. Đã xử lý 98 trường hợp vi phạm.")
    assert summarise(text).date is None


@pytest.mark.parametrize(
    ("review", "date"),
    [
        ("sơ kết 1 năm thực hiện Quy định số 01 ngày 3/3/2016", dt.date(2017, 6, 9)),
        ("tổng kết 10 năm thực hiện Nghị quyết số 26-NQ/TW ngày 5 tháng 8 năm 2008", dt.date(2018, 6, 9)),
        ("sơ kết hai năm triển khai thực hiện Chỉ thị 05-CT/TU năm 2019", dt.date(2021, 6, 9)),
    ],
)
def test_a_review_n_years_into_a_dated_text_is_held_n_years_after_it(review: str, date: dt.date) -> None:
    """The text's own year is not the meeting's; the review's count of years says which one is."""
    text = (f"Sơ kết văn bản\nNgày 9/6, Ban Thường vụ Tỉnh ủy Quảng Trị tổ chức {review} của Ban Thường vụ Tỉnh "
            "ủy. Đã xử lý 98 trường hợp vi phạm.")
    assert summarise(text).date == date


def test_no_year_when_the_candidates_disagree() -> None:
    text = ("Làm việc với Sở Xây dựng\nNgày 28/11, đoàn công tác làm việc với Sở Xây dựng tỉnh Hà Nam. Năm 2014 "
            "sở đã bổ nhiệm 3 cán bộ; năm 2017 thanh tra phát hiện sai phạm.")
    assert summarise(text).date is None


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("Sơ kết quy chế phối hợp\nNgày 28-5, Bộ Chỉ huy Quân sự tỉnh tổ chức sơ kết. Trong 8 năm qua, công tác "
         "phối hợp đi vào chiều sâu.", "8 năm qua"),
        ("Sơ kết Luật Hợp tác xã\nNgày 17/6, Bộ Nông nghiệp tổ chức hội nghị sơ kết thi hành Luật Hợp tác xã năm "
         "2012. Sau 4 năm thực hiện, số hợp tác xã tăng 12%.", "4 năm thực hiện"),
        ("Hội nghị Huyện ủy\nSáng 7/10/2024, Huyện ủy Xuân Lộc tổ chức hội nghị. Trong 9 tháng qua, huyện đạt "
         "nhiều kết quả, doanh thu tăng 27% so với năm 2023.", "9 tháng đầu năm 2024"),
        ("Hội nghị giao ban\nNgày 5/4, Cục Thuế tổ chức giao ban đánh giá kết quả năm 2012 và quý I-2013. Thu "
         "ngân sách đạt 95% dự toán.", "quý I/2013"),
    ],
)
def test_the_period_is_the_one_reviewed(text: str, period: str) -> None:
    assert summarise(text).period == period


def test_a_year_merely_mentioned_in_the_body_is_no_period() -> None:
    text = ("Đối thoại với doanh nghiệp\nSáng 24/5, lãnh đạo tỉnh đối thoại với doanh nghiệp về các khó khăn. "
            "Doanh nghiệp nêu nhiều vướng mắc về thủ tục đất đai.\nĐầu tháng 3/2017, một số cơ quan báo chí phản "
            "ánh việc bổ nhiệm cán bộ.")
    assert summarise(text).period is None
