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


# --- The fast paths of figures.py give the answers of the plain code they replace --------------------

import random  # noqa: E402
import re  # noqa: E402

from summariser import figures  # noqa: E402
from summariser.fastre import fold  # noqa: E402

_SEED = 20261123
_TRICKY = ["İ", "ı", "ſ", "K", "Σ", "٣", "x", "_", "\n", "  "]


def _strings(words: list[str], seps: tuple[str, ...], n: int = 4000) -> list[str]:
    rng = random.Random(_SEED)
    return ["".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randrange(0, 10))) for _ in range(n)]


def _parse_number_plain(token: str) -> float | None:
    if "/" in token:
        return None
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", token):
        return float(token.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d+(?:,\d+)?", token):
        return float(token.replace(",", "."))
    if re.fullmatch(r"\d+\.\d{1,2}", token):
        return float(token)
    return None


def test_parse_number_is_the_regexes():
    for token in _strings(["1", "12", "123", "1234", "٣", "0", "x", ""], ("", ".", ",", "/", " ", ".,")):
        assert figures.parse_number(token) == _parse_number_plain(token), token


def test_skip_before_is_the_plain_ends_with():
    words = ["tháng", "Năm", "NGÀY", "lần thứ", "T.Ư", "QL", "số", "x", "giai đoạn", "ngàyx", "khóa", "Σ", "ſố", "İ"]
    for text in _strings(words, ("", " ", "  ", "\n", ",")):
        assert figures._skip_before(text) == figures._ends_with(text, figures._BEFORE_SKIP), text


def test_unit_grouped_by_first_character_is_the_plain_alternation():
    plain = re.compile(rf"(?:\s?%|\s?{figures._MULTIPLIER}(?:\s{figures._MEASURE})?|\s?{figures._MEASURE})"
                       r"(?:\s?/\s?(?:xã|người|hộ|năm|tháng|ha|km|lao động))?(?!\w)")
    words = [*figures._MEASURE[3:-1].split("|"), "triệu", "tỷ", "nghìn", "%", "/", "năm", "x", "2", "²", *_TRICKY]
    for text in _strings(words, ("", " ", " /", "/")):
        a, b = plain.match(text), figures._UNIT.match(text)
        assert (a and a.span()) == (b and b.span()), text


def test_verb_folded_is_the_case_insensitive_pattern():
    plain = re.compile(r"\s(?:ước đạt|ước|đạt|tăng|giảm|bằng|chiếm|được|là|có|lên|gồm|thu)(?=\s)", re.IGNORECASE)
    words = ["ước đạt", "ước", "đạt", "tăng", "giảm", "GIẢM", "gıảm", "gİảm", "chiếm", "Được", "là", "thu", "x", *_TRICKY]
    for text in _strings(words, ("", " ", "\n", ",")):
        a, b = plain.search(" " + text), figures._VERB_FOLDED.search(fold(" " + text))
        assert (a and a.span()) == (b and b.span()), text


def test_figures_are_found_tuples():
    figs = find_figures("đạt 77,9% kế hoạch, tăng 12,6%")
    assert all(type(f) is figures.Found for f in figs)
    assert figs[0] == figures.Found(figs[0].start, figs[0].end, "77,9%", 77.9, "%", figs[0].label, "share", None)


def test_label_gates_are_the_plain_checks():
    words = ["và", ",", ";", "(", "đồng thời", "Trong đó", "RIÊNG", "cụ thể", "qua đó", "kết quả", "Kết", "x", "ước",
             "đạt", "Đạt", "tăng", *_TRICKY]
    for text in _strings(words, ("", " ", ", ", "  ")):
        if not text or fold(text[0]) not in figures._LEAD_FILLER_FIRST:
            assert figures._LEAD_FILLER.match(text) is None, text
        tail = fold(text.rstrip()[-figures._TRAILING_LONGEST:])
        fast = bool(tail) and tail.endswith(figures._TRAILING_ENDS.get(tail[-1], ()))
        assert fast == tail.endswith(figures._LABEL_TRAILING_WORDS), text
