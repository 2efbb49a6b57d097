"""Sections on the seeds and on synthetic reports of other levels, years and layouts."""

import re
from pathlib import Path

import pytest

from summariser import clean_text, summarise
from summariser.pipeline import WARN_NO_RESULTS, WARN_NO_SHORTCOMINGS, WARN_NO_TASKS, WARN_TRUNCATED

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
FIXTURES = ROOT / "tests" / "fixtures" / "summariser"


def _read(name: str) -> str:
    path = next(p for p in [*SEEDS, *FIXTURES.glob("*.txt")] if p.name.startswith(name))
    return path.read_text(encoding="utf-8")


def _has(items, *words: str) -> bool:
    return any(all(w in i.text for w in words) for i in items)


@pytest.mark.parametrize("path", [*SEEDS, *sorted(FIXTURES.glob("*.txt"))], ids=lambda p: p.stem)
def test_items_are_traceable_slices_of_the_cleaned_text(path):
    text = path.read_text(encoding="utf-8")
    cleaned = clean_text(text)
    s = summarise(text)
    assert s.results or "no_results" in path.stem
    for item in [*s.results, *s.shortcomings, *s.tasks]:
        pieces = [cleaned[span.start:span.end] for span in item.source]
        assert pieces and all(pieces)
        assert all(p in item.text for p in pieces)
        assert len(re.findall(r"\w+", item.text)) <= 45
    for f in s.figures:
        assert cleaned[f.source.start:f.source.end] == f.text


def test_bien_canh_clauses_land_in_shortcomings():
    s = summarise(_read("001_"))
    assert len(s.shortcomings) == 3
    assert _has(s.shortcomings, "Chương trình mục tiêu quốc gia", "chưa đảm bảo")
    assert _has(s.shortcomings, "giải phóng mặt bằng", "chậm tiến độ")
    assert _has(s.shortcomings, "phá rừng", "vẫn xảy ra")
    assert not _has(s.results, "phá rừng")


def test_results_list_after_colon_is_split_and_framing_dropped():
    s = summarise(_read("000_"))
    assert _has(s.results, "8.458.730 triệu đồng", "77,9%")
    assert _has(s.results, "an ninh chính trị", "ổn định")
    assert not _has(s.results, "Trong bối cảnh")
    assert not any("Trong bối cảnh" in i.text for i in s.shortcomings)


def test_discussed_difficulties_become_shortcomings():
    s = summarise(_read("000_"))
    for topic in ("quản lý đất đai", "giải phóng mặt bằng", "thu gom rác thải", "đơn thư khiếu nại"):
        assert _has(s.shortcomings, topic), topic  # (the same topics are also among its results and tasks)


def test_tasks_after_leader_requests_without_the_speaker():
    s = summarise(_read("000_"))
    assert _has(s.tasks, "nâng cao chất lượng tổ chức cơ sở đảng")
    assert _has(s.tasks, "sắp xếp sáp nhập các đơn vị hành chính")
    assert not any(i.text.startswith(("Phát biểu", "Yêu cầu", "đồng chí")) for i in s.tasks)
    s = summarise(_read("002_"))
    assert _has(s.tasks, "phát huy hơn nữa tinh thần đoàn kết")
    assert not _has(s.tasks, "đề nghị")


def test_leading_filler_is_removed_from_tasks():
    s = summarise(_read("001_"))
    first = s.tasks[0].text
    assert first.startswith("thực hiện hiệu quả các chương trình hành động")


def test_procedure_yields_no_items():
    for name in ("000_", "001_", "004_"):
        s = summarise(_read(name))
        for item in [*s.results, *s.shortcomings, *s.tasks]:
            assert not re.search(r"\b(chủ trì|tham dự|Dự hội nghị|khen thưởng|xem xét, thảo luận)\b", item.text), item.text


def test_report_without_shortcomings_yields_empty_section_and_warning():
    s = summarise(_read("003_"))
    assert s.shortcomings == []
    assert WARN_NO_SHORTCOMINGS in s.warnings
    assert len(s.tasks) >= 10 and len(s.results) >= 5
    assert _has(s.results, "142 quần chúng")
    assert _has(s.tasks, "quảng bá, xúc tiến đầu tư")


def test_meeting_discussion_list_of_next_month_tasks():
    s = summarise(_read("004_"))
    assert s.shortcomings == []
    assert _has(s.tasks, "kiểm tra các công trình đê, kè, cống")
    assert _has(s.tasks, "hoàn thành vượt mức các mục tiêu")
    assert _has(s.results, "351,05 tỷ đồng")
    assert _has(s.results, "65 tỷ đồng", "lũy kế", "253 tỷ đồng")


def test_commune_report_with_headings():
    s = summarise(_read("commune_ubnd"))
    assert len(s.results) >= 5 and len(s.shortcomings) == 3 and len(s.tasks) >= 3
    assert _has(s.shortcomings, "thu gom rác thải", "chưa thường xuyên")
    assert _has(s.tasks, "nông thôn mới nâng cao")
    assert not _has(s.tasks, "đề ra một số nhiệm vụ")


def test_provincial_session_keeps_procedure_out():
    s = summarise(_read("province_hdnd"))
    assert _has(s.results, "345 triệu USD")
    assert _has(s.shortcomings, "61% kế hoạch")
    assert _has(s.tasks, "giải ngân vốn đầu tư công")
    everything = " ".join(i.text for i in [*s.results, *s.shortcomings, *s.tasks])
    assert "đại biểu" not in everything and "28 nghị quyết" not in everything and "3 ngày" not in everything


def test_old_tone_marks_and_tuy_vay():
    s = summarise(_read("district_2013"))
    assert _has(s.results, "hòa giải")
    assert _has(s.shortcomings, "87% dự toán")
    assert _has(s.tasks, "tái cơ cấu ngành nông nghiệp")
    assert not _has(s.tasks, "Quang cảnh")


def test_crawled_text_without_breaks_segments():
    s = summarise(_read("crawled_no_breaks"))
    assert _has(s.results, "415 tỷ đồng")
    assert _has(s.shortcomings, "giải ngân vốn đầu tư công", "còn chậm")
    assert _has(s.shortcomings, "chưa đạt yêu cầu")
    assert _has(s.tasks, "quản lý đất đai")
    assert not _has(s.tasks, "chưa đạt yêu cầu")


def test_short_report_without_shortcomings_or_tasks():
    s = summarise(_read("short_no_shortcomings"))
    assert s.shortcomings == [] and s.tasks == []
    assert WARN_NO_SHORTCOMINGS in s.warnings and WARN_NO_TASKS in s.warnings
    assert _has(s.results, "12 thanh niên")


def test_truncated_text_is_flagged():
    whole = _read("002_")
    cut = whole[: whole.index("tập trung thực hiện tốt Nghị quyết 77") + 40]
    assert WARN_TRUNCATED in summarise(cut).warnings
    assert WARN_TRUNCATED not in summarise(whole).warnings
    assert WARN_TRUNCATED in summarise(whole.split("\n\nTHANH")[0] + "\nHuyện sẽ tiếp tục triển khai các…").warnings


def test_bullet_list_of_tasks_under_a_heading_with_colon():
    s = summarise(_read("district_ubnd_bullets"))
    assert s.period == "tháng 10/2022"
    assert len(s.tasks) == 4
    assert _has(s.tasks, "Chuẩn bị tốt các điều kiện tổ chức kỳ họp cuối năm")
    assert not _has(s.tasks, "Nhiệm vụ trọng tâm tháng 11/2022")
    assert not any(i.text.startswith("-") for i in s.tasks)


def test_causes_are_not_shortcomings():
    s = summarise(_read("district_ubnd_bullets"))
    assert len(s.shortcomings) == 3
    assert not _has(s.shortcomings, "Nguyên nhân")


def test_briefing_without_results_warns_and_keeps_the_organisation_out_of_tasks():
    s = summarise(_read("province_briefing_no_results"))
    assert s.results == [] and WARN_NO_RESULTS in s.warnings
    assert s.tasks[0].text.startswith("xây dựng kế hoạch cụ thể")
    assert s.period is None


def test_numbered_headings_set_the_sections():
    s = summarise(_read("ward_party_numbered_caps"))
    assert _has(s.results, "4,6 tỷ đồng") and _has(s.results, "320 suất quà")
    assert _has(s.shortcomings, "lấn chiếm vỉa hè", "còn diễn ra")
    assert len(s.tasks) == 3 and _has(s.tasks, "trên 55% dự toán")


def test_commune_council_session():
    s = summarise(_read("commune_hdnd_session"))
    assert s.meeting == "Kỳ họp thứ 8, khóa XXI"
    assert _has(s.results, "15/18 chỉ tiêu") and not _has(s.results, "chưa từng có")
    assert _has(s.shortcomings, "3/18 chỉ tiêu không đạt")
    assert _has(s.tasks, "giữ vững an ninh chính trị")
    assert not _has(s.tasks, "12 nghị quyết")
