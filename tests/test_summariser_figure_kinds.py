"""Figures an official can trust: whole labels, a kind (result, plan, target, change, share), a period,
and units that are whole words ("N trường hợp" is a count of cases)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from summariser import figures
from summariser.figures import find_figures
from summariser.models import Figure

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev"


def _one(clause: str, text: str, before: str = "") -> figures.Found:
    found = [f for f in find_figures(clause, before) if f.text == text]
    assert len(found) == 1, [f.text for f in find_figures(clause, before)]
    return found[0]


# --- kinds -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "text", "kind"),
    [
        ("Tổng giá trị sản xuất ước đạt 8.458.730 triệu đồng", "8.458.730 triệu đồng", "actual"),
        ("Tổng giá trị sản xuất ước đạt 8.458.730 triệu đồng, đạt 77,9% kế hoạch năm", "77,9%", "share"),
        ("thu ngân sách 253 tỷ đồng, bằng 38,18% dự toán HĐND huyện giao", "38,18%", "share"),
        ("số thu tháng 4 bằng 65,7% số thu của cả quý I", "65,7%", "share"),
        ("huyện đã kết nạp 136 đảng viên, đạt 104,6% chỉ tiêu năm 2024", "104,6%", "share"),
        ("tăng 12,6% so với cùng kỳ", "12,6%", "growth"),
        ("So với cùng kỳ, giảm 2.089 vụ, tương đương 14,77%", "2.089 vụ", "growth"),
        ("So với cùng kỳ, giảm 2.089 vụ, tương đương 14,77%", "14,77%", "growth"),
        ("Tốc độ tăng trưởng kinh tế ước đạt 8,3%", "8,3%", "growth"),
        ("tăng 12,6% so với cùng kỳ (kế hoạch năm tăng 12,5%)", "12,5%", "plan"),
        ("kế hoạch tăng trưởng cả năm là 8,5 đến 9%", "8,5 đến 9%", "plan"),
        ("Nhà máy đang vận hành theo kế hoạch năm 2019 là 650 tấn", "650 tấn", "plan"),
        ("Dự kiến sẽ hoàn thành cổ phần hóa 40/45 doanh nghiệp", "40/45", "plan"),
        ("Phấn đấu thu ngân sách vượt 5% dự toán năm", "5%", "target"),
        ("phấn đấu đến năm 2025 có 90% hộ gia đình đạt danh hiệu gia đình văn hóa", "90%", "target"),
        ("Chỉ tiêu tăng trưởng năm 2025 là 8%", "8%", "target"),
        ("thực hiện mục tiêu giảm 5-10% số vụ tai nạn", "5-10%", "target"),
        ("thì 6 tháng cuối năm phải đạt được tăng trưởng 7,4%", "7,4%", "target"),
        # the words that name a plan or target are a reference, a count or a document here: results
        ("hoàn thành 38/43 chỉ tiêu đề ra, trong đó thu ngân sách 500 tỷ đồng", "500 tỷ đồng", "actual"),
        ("các chỉ tiêu chủ yếu cơ bản đạt, tổng giá trị sản xuất 900 tỷ đồng", "900 tỷ đồng", "actual"),
        ("Thực hiện Kế hoạch số 120-KH/HU, toàn huyện trồng 500 ha rừng", "500 ha", "actual"),
        ("thực hiện chương trình mục tiêu quốc gia, công bố 2 xã đạt chuẩn", "2 xã", "actual"),
        ("chiếm 51,4% tổng số hợp tác xã", "51,4%", "actual"),
    ],
)
def test_kind_from_the_words_around_the_figure(clause: str, text: str, kind: str) -> None:
    assert _one(clause, text).kind == kind


def test_a_list_of_names_keeps_the_kind_of_its_first_item() -> None:
    clause = "gồm: Bà Rịa – Vũng Tàu (tăng 40,2%), Phú Thọ (40,7%), Lào Cai tăng 91,3%, Khánh Hòa 77,8%"
    found = find_figures(clause)
    assert [f.kind for f in found] == ["growth"] * 4
    assert [f.label for f in found[1:2] + found[3:]] == ["Phú Thọ", "Khánh Hòa"]


def test_a_target_set_before_the_clause_holds_for_it() -> None:
    clause = "tổng sản phẩm nội địa GRDP tăng 8,3-8,5 %"
    assert _one(clause, "8,3-8,5 %").kind == "growth"
    assert _one(clause, "8,3-8,5 %", "Năm 2019 thành phố đạt nhiều kết quả. Các chỉ tiêu chủ yếu gồm : ").kind == "target"
    # only the sentence that leads into the clause counts
    assert _one(clause, "8,3-8,5 %", "Phấn đấu hoàn thành sớm. Năm 2018 đạt nhiều kết quả: ").kind == "growth"


def test_a_result_before_a_target_in_one_clause_stays_a_result() -> None:
    found = find_figures("năm 2024 tăng trưởng đạt 7,1%, năm 2025 phấn đấu tăng trưởng 8%")
    assert [(f.text, f.kind) for f in found] == [("7,1%", "growth"), ("8%", "target")]


# --- periods -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "text", "period"),
    [
        ("Tổng giá trị sản xuất 9 tháng đầu năm 2023 ước đạt 8.458 tỷ đồng", "8.458 tỷ đồng", "9 tháng đầu năm 2023"),
        ("9 tháng, thu ngân sách đạt 500 tỷ đồng", "500 tỷ đồng", "9 tháng"),
        ("Giá trị sản xuất công nghiệp tháng 8 ước đạt 351,05 tỷ đồng", "351,05 tỷ đồng", "tháng 8"),
        ("Quý II năm 2024, toàn huyện thu hút 12 dự án", "12 dự án", "Quý II năm 2024"),
        ("Năm 2024, tổng diện tích gieo trồng đạt 8.375ha", "8.375ha", "Năm 2024"),
        ("thu ngân sách đạt 1.200 tỷ đồng trong năm 2024", "1.200 tỷ đồng", "năm 2024"),
        ("tăng trưởng bình quân giai đoạn 2021-2025 đạt 7,1%", "7,1%", "giai đoạn 2021-2025"),
        # a comparison's base and a duration are no periods
        ("So với cùng kỳ năm 2012, giảm 2.089 vụ", "2.089 vụ", None),
        ("chỉ trong 1 tháng mà phải tiếp 17 đoàn", "17 đoàn", None),
        ("thu ngân sách đạt 500 tỷ đồng", "500 tỷ đồng", None),
    ],
)
def test_period_when_the_clause_says_it(clause: str, text: str, period: str | None) -> None:
    assert _one(clause, text).period == period


def test_a_period_after_a_semicolon_is_not_carried_over() -> None:
    clause = "Thu ngân sách nhà nước tháng 8 ước đạt 65 tỷ đồng; lũy kế đạt 253 tỷ đồng"
    assert [f.period for f in find_figures(clause)] == ["tháng 8", None]


# --- units are whole words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "text", "unit"),
    [
        ("toàn tỉnh đã có 1.149 trường hợp là người đứng đầu ký cam kết", "1.149 trường hợp", "trường hợp"),
        ("xử lý hơn 7.000 trường hợp vi phạm", "hơn 7.000 trường hợp", "trường hợp"),
        ("xây mới 4 trường học đạt chuẩn", "4 trường học", "trường học"),
        ("hỗ trợ 25 hộ gia đình khó khăn", "25 hộ gia đình", "hộ gia đình"),
        ("đón 3.500 lượt người đến tham quan", "3.500 lượt người", "lượt người"),
        ("đón hơn 2,1 triệu lượt khách", "hơn 2,1 triệu lượt khách", "triệu lượt khách"),
        ("tiếp nhận sinh hoạt Đảng 4 đồng chí", "4 đồng chí", "đồng chí"),
        ("kết nạp 35 đoàn viên mới", "35 đoàn viên", "đoàn viên"),
        ("kiểm tra 12 đơn vị", "12 đơn vị", "đơn vị"),
        ("mở 3 lớp học tình thương", "3 lớp học", "lớp học"),
        ("còn 120 hộ nghèo", "120 hộ nghèo", "hộ nghèo"),
        # a unit followed by an ordinary word stays what it is
        ("sản lượng lương thực đạt 40.000 tấn thóc", "40.000 tấn", "tấn"),
        ("xảy ra 12 vụ tai nạn", "12 vụ", "vụ"),
        ("làm chết 4 người", "4 người", "người"),
    ],
)
def test_a_unit_is_a_whole_word(clause: str, text: str, unit: str) -> None:
    f = _one(clause, text)
    assert f.unit == unit


def test_every_unit_that_starts_with_another_wins_over_it() -> None:
    """The general rule: the longest listed unit at a place wins (any "X Y" over "X")."""
    words = figures._MEASURE_WORDS
    pairs = [(short, long) for long in words for short in words if long.startswith(short + " ")]
    assert len(pairs) >= 8
    for short, long in pairs:
        found = find_figures(f"có 25 {long} mới")
        assert [f.unit for f in found] == [long], (short, long)


# --- labels: whole, never a fragment ------------------------------------------------------------------


def test_a_label_is_never_cut_inside_a_word() -> None:
    assert _one("Thu ngân sách nhà nước ước đạt 312 tỷ đồng", "312 tỷ đồng").label == "Thu ngân sách nhà nước"
    assert _one("thu ngân sách nhà nước 1.481 tỷ đồng (đạt 63% kế hoạch)", "63%").label == (
        "thu ngân sách nhà nước – đạt kế hoạch")


def test_no_bare_fragment_or_unit_word_as_a_label() -> None:
    found = find_figures("Có thêm 3 xã đạt chuẩn nông thôn mới, nâng tổng số lên 12 xã")
    assert [f.label for f in found] == ["đạt chuẩn nông thôn mới", "đạt chuẩn nông thôn mới"]
    # a clause that starts with the end of an earlier figure: the unit word is no label
    label = _one("triệu đồng, đạt 77,9% kế hoạch năm", "77,9%").label
    assert label == "đạt kế hoạch năm"
    assert _one("Có thêm 5 xã", "5 xã").label is None


def test_a_share_takes_the_subject_of_the_figure_before_it() -> None:
    clause = "tổng thu ngân sách Nhà nước trên địa bàn trên 56,3 tỷ đồng, đạt 121,5% dự toán"
    assert _one(clause, "121,5%").label == "tổng thu ngân sách Nhà nước trên địa bàn – đạt dự toán"


def test_a_planned_figure_says_whose_plan_it_is() -> None:
    clause = "Tổng giá trị sản xuất (ước) đạt 8.458.730 triệu đồng, tăng 12,6% so với cùng kỳ (kế hoạch năm tăng 12,5%)"
    f = _one(clause, "12,5%")
    assert f.label == "Tổng giá trị sản xuất (ước) – kế hoạch năm tăng" and f.kind == "plan"


def test_a_comma_inside_a_number_does_not_split_a_label() -> None:
    clause = "gồm: Bà Rịa – Vũng Tàu (tăng 40,2%), Phú Thọ (40,7%), Ninh Thuận (41,9%)"
    assert [f.label for f in find_figures(clause)] == ["Bà Rịa – Vũng Tàu – tăng", "Phú Thọ", "Ninh Thuận"]


def test_the_words_after_a_figure_end_on_a_whole_phrase() -> None:
    f = _one("Toàn tỉnh đã có 1.149 trường hợp là người đứng đầu ký cam kết theo quy định", "1.149 trường hợp")
    assert f.label == "là người đứng đầu ký cam kết"


_WORDS = ["Thu", "ngân", "sách", "nhà", "nước", "ước", "đạt", "tăng", "giảm", "so với", "cùng kỳ", "kế hoạch",
          "năm", "2024", "(", ")", ",", ";", ":", "và", "bằng", "dự toán", "huyện", "có", "thêm", "xã", "trường hợp",
          "phấn đấu", "chỉ tiêu", "là", "người", "đứng", "đầu", "tổng", "giá trị", "sản xuất", "Phú Thọ", "tháng 8",
          "9 tháng", "312 tỷ đồng", "12,5%", "40,2%", "3 xã", "1.149 trường hợp", "77,9%", "8.458 triệu đồng"]


def test_labels_of_random_clauses_are_whole_words_of_the_clause() -> None:
    rng = random.Random(20261205)
    kinds = {"actual", "plan", "target", "growth", "share"}
    for _ in range(3000):
        clause = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(3, 25)))
        for f in find_figures(clause):
            assert f.kind in kinds and clause[f.start:f.end] == f.text
            assert f.period is None or f.period in " ".join(clause.split())
            for run in (f.label or "").split(" – "):
                if not run:
                    continue
                # every run of a label's words is written in the clause, starting and ending on a word edge
                pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, run.split())) + r"(?!\w)"
                assert re.search(pattern, clause) or _joined(run, clause), (clause, f.label)


def _joined(run: str, clause: str) -> bool:
    """A run that joins a relation and the words after the figure ("đạt kế hoạch năm"): each word is a
    whole word of the clause."""
    return all(re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", clause) for w in run.split())


def test_figure_model_carries_kind_and_period() -> None:
    f = Figure(text="5%", kind="target", period="năm 2025")
    assert (f.kind, f.period) == ("target", "năm 2025")
    assert Figure(text="5%").kind is None and Figure(text="5%").period is None
    with pytest.raises(ValueError):
        Figure(text="5%", kind="forecast")


# --- on the dev set ----------------------------------------------------------------------------------

needs_dev = pytest.mark.skipif(not DEV.is_dir(), reason=f"dev set not found at {DEV} (shared/eval/dev)")


def _dev_runs() -> list[tuple[str, str, list[Figure], list[dict[str, str]]]]:
    from bench.figure_labels import recorder, with_kinds
    from summariser import summarise
    from summariser.pipeline import cleaned_source

    out = []
    for path in sorted(DEV.glob("*.txt")):
        gold = path.with_suffix(".gold.json")
        if not gold.exists():
            continue
        text = path.read_text(encoding="utf-8")
        clauses, undo = recorder()
        try:
            summary = summarise(text)
        finally:
            undo()
        cleaned = cleaned_source(text)
        # each figure's kind as find_figures gives it for the pipeline's clause, with the text before the
        # clause as `before` (the pipeline does not pass that yet: "Các chỉ tiêu chủ yếu gồm : ...")
        figs = with_kinds(summary, cleaned, clauses)
        out.append((path.name, cleaned, figs, json.loads(gold.read_text(encoding="utf-8"))["figures"]))
    return out


@needs_dev
def test_dev_set_no_label_is_cut_mid_word() -> None:
    from bench.figure_labels import label_cuts

    checked = 0
    for name, cleaned, figs, _ in _dev_runs():
        for f in figs:
            if not f.label or f.source is None:
                continue
            cuts = label_cuts(f.label, cleaned, f.source.start)
            assert cuts, (name, f.label, f.text)
            assert not cuts[-1][0] and not cuts[0][1], (name, f.label, f.text)
            assert figures._readable(f.label), (name, f.label, f.text)
            checked += 1
    assert checked > 200


@needs_dev
def test_dev_set_gold_targets_found_are_marked_target() -> None:
    from bench.figure_labels import match, names_target

    targets = 0
    for name, cleaned, figs, gold in _dev_runs():
        for g, f in zip(gold, match(gold, figs, cleaned), strict=True):
            if f is not None and names_target(g.get("what", "")):
                assert f.kind == "target", (name, g, f.label)
                targets += 1
    assert targets >= 5
