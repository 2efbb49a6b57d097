"""Figures: number and unit exactly as written, a parsed value, and no dates or document numbers."""

import pytest

from summariser.figures import find_figures, parse_number


def _texts(clause: str) -> list[str]:
    return [f.text for f in find_figures(clause)]


@pytest.mark.parametrize(
    ("token", "value"),
    [("8.458.730", 8458730.0), ("77,9", 77.9), ("1.234,5", 1234.5), ("02", 2.0), ("13/18", None)],
)
def test_vietnamese_number_format(token, value):
    assert parse_number(token) == value


def test_units_and_approximators_as_written():
    figs = find_figures("trồng rừng mới đạt hơn 900ha, thu ngân sách được gần 20 tỷ đồng, đạt trên 56,3 tỷ đồng, "
                        "gieo trồng được gần 8 nghìn ha, đạt 8,44 tiêu chí/xã")
    assert [(f.text, f.value, f.unit) for f in figs] == [
        ("hơn 900ha", 900.0, "ha"),
        ("gần 20 tỷ đồng", 20.0, "tỷ đồng"),
        ("trên 56,3 tỷ đồng", 56.3, "tỷ đồng"),
        ("gần 8 nghìn ha", 8.0, "nghìn ha"),
        ("8,44 tiêu chí/xã", 8.44, "tiêu chí/xã"),
    ]


def test_percentages_and_ratios():
    figs = find_figures("có 13/18 nhiệm vụ đảm bảo tiến độ, đạt 77,9% kế hoạch năm")
    assert [(f.text, f.unit) for f in figs] == [("13/18", None), ("77,9%", "%")]


def test_dates_periods_years_and_document_numbers_are_not_figures():
    clause = ("Chiều 9/10/2023, hội nghị lần thứ 24 khóa XXVI nhiệm kỳ 2020-2025 đánh giá 9 tháng đầu năm 2023 "
              "theo Kế hoạch số 120-KH/HU, ngày 10/02/2023, Nghị quyết 77-NQ/TU, Nghị quyết T.Ư 4, tháng 9/2023, "
              "giai đoạn 2021 - 2025, đến ngày 10/11/2023, trong 10 năm, phương châm 4 tại chỗ, sáng 31/8")
    assert _texts(clause) == []


def test_counts_with_a_counted_noun():
    figs = find_figures("kết nạp 142 quần chúng ưu tú; kiểm tra đối với 36 tổ chức đảng và 656 đảng viên")
    assert [(f.text, f.unit) for f in figs] == [
        ("142 quần chúng", "quần chúng"), ("36 tổ chức đảng", "tổ chức đảng"), ("656 đảng viên", "đảng viên")]


def test_a_range_is_one_figure():
    figs = find_figures("phấn đấu tốc độ tăng trưởng đạt từ 7 - 7,5%")
    assert [(f.text, f.value) for f in figs] == [("7 - 7,5%", None)]


def test_labels_say_what_is_measured():
    figs = find_figures("Tổng giá trị sản xuất (ước) đạt 8.458.730 triệu đồng, đạt 77,9% kế hoạch năm, "
                        "tăng 12,6% so với cùng kỳ")
    assert figs[0].label == "Tổng giá trị sản xuất (ước)"
    assert "kế hoạch năm" in figs[1].label and figs[1].label.startswith("Tổng giá trị sản xuất")
    assert "so với cùng kỳ" in figs[2].label


def test_figure_text_is_a_slice_of_the_clause():
    clause = "Thu ngân sách nhà nước tháng 8 ước đạt 65 tỷ đồng; lũy kế đạt 253 tỷ đồng, bằng 38,18% dự toán"
    for f in find_figures(clause):
        assert clause[f.start:f.end] == f.text
