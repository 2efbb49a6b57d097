"""Units as the text names them: sector, national and military bodies; place names never cut."""

from __future__ import annotations

import pytest

from summariser import metadata, summarise


@pytest.mark.parametrize(
    ("lead", "unit"),
    [
        (["Cục Thuế Bắc Ninh: Thu ngân sách quý I đạt khá", "Sáng 5/4, Cục Thuế Bắc Ninh đã tổ chức hội nghị."],
         "Cục Thuế Bắc Ninh"),
        (["Nghiên cứu chính sách hợp tác xã", "Ngày 9/6, tại thành phố Vinh, Bộ Nông nghiệp và Phát triển nông "
          "thôn đã tổ chức hội nghị sơ kết."], "Bộ Nông nghiệp và Phát triển nông thôn"),
        (["Thứ trưởng làm việc tại Công an Cà Mau", "Sáng 7-2, đoàn công tác của Bộ Công an đến thăm và làm việc "
          "với Công an tỉnh Cà Mau."], "Công an Cà Mau"),  # the title's naming is the earliest
        (["Sơ kết công tác", "Hội nghị sơ kết công tác 6 tháng đầu năm của ngành Kiểm sát diễn ra ngày 10/7."],
         "ngành Kiểm sát"),
        (["Kiểm tra công tác xây dựng Đảng", "Ngày 3-4, đoàn công tác đã kiểm tra Đảng ủy Sư đoàn 312 về công "
          "tác lãnh đạo."], "Sư đoàn 312"),
        (["Đẩy mạnh quảng bá du lịch", "Sáng 2/6, tại Hà Nội, Tổng cục Du lịch phối hợp với Hiệp hội Du lịch "
          "tổ chức hội nghị."], "Tổng cục Du lịch"),
    ],
)
def test_sector_and_military_bodies_are_the_unit(lead: list[str], unit: str) -> None:
    assert metadata.find_organ(lead) == unit


def test_a_local_government_is_not_taken_for_a_sector_body() -> None:
    lead = ["Hội nghị giao ban", "Sáng 5/4, Ủy ban nhân dân huyện Gia Lộc tổ chức hội nghị giao ban."]
    assert metadata.find_organ(lead) is None


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("Thành ủy Hải Phòng tổ chức hội nghị", "TP Hải Phòng"),
        ("Tại kỳ họp HĐND TP. HCM chiều 7-12", "TP HCM"),
        ("Ngày 8/7, Huyện ủy Đăk R’Lấp tổ chức hội nghị", "huyện Đăk R’Lấp"),
        ("UBND tỉnh Bà Rịa-Vũng Tàu tổ chức hội nghị", "tỉnh Bà Rịa-Vũng Tàu"),
        ("UBND huyện Gia Lộc Phòng Tài chính báo cáo", "huyện Gia Lộc"),
    ],
)
def test_place_names_are_never_cut(text: str, unit: str) -> None:
    assert metadata.find_unit(text, [], text) == unit


def test_unit_keeps_the_reports_spelling() -> None:
    text = ("Hội nghị Ban Chấp hành Đảng bộ tỉnh Thanh Hoá\n"
            "Sáng 28/11, Ban Chấp hành Đảng bộ tỉnh Thanh Hoá tổ chức hội nghị lần thứ 12 đánh giá kết quả năm "
            "2018. Tổng sản phẩm trên địa bàn tăng 15%, thu ngân sách đạt 25.000 tỷ đồng.")
    assert summarise(text).unit == "tỉnh Thanh Hoá"
