"""The phone-screen brief: it fits 1,200 UTF-16 units, keeps every section, cuts only between words,
keeps the dev reports' result figures, and ranks figure-bearing items above generic ones."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path

import pytest

from summariser import clean_text, summarise
from summariser.brief import (
    ELLIPSIS,
    LIMIT,
    Brief,
    make_brief,
    render_brief_text,
    score_item,
    shorten,
    utf16_len,
)
from summariser.models import Figure, Item, Span, Summary

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev"
needs_dev = pytest.mark.skipif(not DEV.is_dir(), reason=f"dev set not found at {DEV} (../shared/eval/dev)")

WORDS = ("xây dựng", "nông thôn mới", "giải phóng", "mặt bằng", "công trình", "dự án", "ngân sách",
         "đơn vị", "hành chính", "an ninh", "trật tự", "cải cách", "giáo dục", "y tế", "đất đai")


def _sentence(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words))


def _summary(results: list[str] = (), shortcomings: list[str] = (), tasks: list[str] = (),  # type: ignore[assignment]
             figures: list[Figure] = ()) -> Summary:  # type: ignore[assignment]
    return Summary(
        unit="huyện Thử Nghiệm", meeting="Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ 9",
        date=dt.date(2023, 10, 5), period="9 tháng đầu năm 2023",
        results=[Item(text=t) for t in results], shortcomings=[Item(text=t) for t in shortcomings],
        tasks=[Item(text=t) for t in tasks], figures=list(figures),
    )


def _shown(brief: Brief, name: str) -> list[str]:
    return [it.text for s in brief.sections if s.name == name for it in s.items]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+(?:[.,/]\w+)*%?", text)


def _assert_cut_between_words(original: str, shown: str) -> None:
    """Every piece of `shown` between ellipses is a run of whole words of `original` (the brief
    capitalises an item's first letter, so case is not compared)."""
    words = {w.lower() for w in _words(original)}
    for part in shown.split(ELLIPSIS):
        for w in _words(part):
            assert w.lower() in words, f"{w!r} is not a whole word of the item"
        assert part.strip().lower() in original.lower() or not part.strip(), part


@pytest.fixture(scope="module")
def dev_reports() -> list[tuple[str, Summary, str, dict]]:
    out = []
    for txt in sorted(DEV.glob("*.txt")):
        gold = txt.with_suffix(".gold.json")
        if gold.exists():
            text = txt.read_text(encoding="utf-8")
            out.append((txt.stem, summarise(text), clean_text(text), json.loads(gold.read_text("utf-8"))))
    return out


@needs_dev
def test_every_dev_brief_fits_one_screen(dev_reports: list[tuple[str, Summary, str, dict]]) -> None:
    assert len(dev_reports) >= 40
    for name, summary, cleaned, _ in dev_reports:
        brief = make_brief(summary, text=cleaned)
        text = render_brief_text(brief)
        assert utf16_len(text) <= LIMIT, name
        for sec in brief.sections:  # never a whole section dropped, and counts add up
            assert sec.items, (name, sec.name)
            assert len(sec.items) + sec.left_out == len(summary.section(sec.name))
        assert {s.name for s in brief.sections} == {s for s in ("results", "shortcomings", "tasks")
                                                     if summary.section(s)}
        for sec in brief.sections:
            for it in sec.items:
                _assert_cut_between_words(summary.section(sec.name)[it.index].text, it.text)
                first = next((ch for ch in it.text if ch.isalnum()), "")
                assert not first.isalpha() or first.isupper(), (name, it.text)  # items start with a capital


@needs_dev
def test_dev_briefs_keep_most_result_figures(dev_reports: list[tuple[str, Summary, str, dict]]) -> None:
    total = kept = 0
    for _, summary, cleaned, gold in dev_reports:
        brief = make_brief(summary, text=cleaned)
        shown = unicodedata.normalize("NFC", "\n".join(_shown(brief, "results")))
        results = [unicodedata.normalize("NFC", r if isinstance(r, str) else r["text"]) for r in gold["results"]]
        for f in gold.get("figures") or []:
            fig = unicodedata.normalize("NFC", f["text"])
            if any(fig in r for r in results):
                total += 1
                kept += fig in shown
    assert total > 100
    assert kept / total >= 0.80, f"{kept}/{total} result figures kept"


def test_22_tasks_give_5_and_plus_17() -> None:
    tasks = [f"Nhiệm vụ {i}: {_sentence(i, 6)}" for i in range(22)]
    brief = make_brief(_summary(results=["Tổng thu ngân sách đạt 120 tỷ đồng"], tasks=tasks))
    sec = next(s for s in brief.sections if s.name == "tasks")
    assert len(sec.items) == 5 and sec.left_out == 17
    assert "+17 mục khác" in render_brief_text(brief)
    assert len({it.index for it in sec.items}) == 5


def test_no_section_with_items_is_dropped() -> None:
    long = [_sentence(i, 60) for i in range(12)]
    summary = _summary(results=long, shortcomings=long[:1], tasks=long)
    brief = make_brief(summary)
    text = render_brief_text(brief)
    assert utf16_len(text) <= LIMIT
    assert [s.name for s in brief.sections] == ["results", "shortcomings", "tasks"]
    assert all(s.items for s in brief.sections)
    assert "Hạn chế, tồn tại" in text
    empty = make_brief(_summary(results=long[:2]))
    assert [s.name for s in empty.sections] == ["results"]


def test_emoji_heavy_items_fit_by_utf16_count() -> None:
    emoji = "📈" * 500
    spaced = " ".join(["📈 tăng trưởng"] * 250)
    summary = _summary(results=[emoji, spaced], shortcomings=[emoji], tasks=[spaced, emoji])
    text = render_brief_text(make_brief(summary))
    assert len(text) < utf16_len(text)  # the emoji count twice
    assert utf16_len(text) <= LIMIT
    assert "📈" in text
    assert "\ud83d" not in text  # no lone surrogate half


def test_no_item_is_cut_inside_a_word_or_number() -> None:
    item = ("Tổng giá trị sản xuất (ước) đạt 8.458.730 triệu đồng, đạt 77,9% kế hoạch năm, tăng 12,6% so với "
            "cùng kỳ; " + _sentence(3, 80))
    for limit in range(20, 400, 7):
        shown = shorten(item, limit, ["8.458.730 triệu đồng", "77,9%", "12,6%"])
        assert utf16_len(shown) <= limit
        assert shown.endswith(ELLIPSIS)
        _assert_cut_between_words(item, shown)
        numbers = re.findall(r"\d+(?:[.,]\d+)*", item)
        assert all(n in numbers for n in re.findall(r"\d+(?:[.,]\d+)*", shown))  # whole or absent
        assert "8.458.730" not in shown or "8.458.730 triệu đồng" in shown  # a figure keeps its unit
    assert shorten("ngắn gọn", 100) == "ngắn gọn"


def test_cut_keeps_the_clauses_with_figures() -> None:
    item = (_sentence(1, 25) + "; giá trị sản xuất công nghiệp đạt 2.351 tỷ đồng, đạt 92,3% kế hoạch; "
            + _sentence(2, 25))
    shown = shorten(item, 120, ["2.351 tỷ đồng", "92,3%"])
    assert "2.351 tỷ đồng" in shown and "92,3%" in shown
    assert shown.startswith(ELLIPSIS) and utf16_len(shown) <= 120


def test_ranking_prefers_a_figure_bearing_item_over_a_generic_one() -> None:
    generic = "Tiếp tục tập trung lãnh đạo, chỉ đạo, tăng cường thực hiện tốt các nhiệm vụ đề ra"
    specific = "Thu ngân sách đạt 56,3 tỷ đồng, đạt 121,5% dự toán"
    fig_text = "56,3 tỷ đồng"
    start = specific.index(fig_text)
    figures = [Figure(text=fig_text, value=56.3, unit="tỷ đồng", section="results", kind="actual"),
               Figure(text="121,5%", value=121.5, unit="%", section="results", kind="share")]
    summary = _summary(results=[generic] + [_sentence(i, 8) for i in range(5)] + [specific], figures=figures)
    summary.results[-1].source = [Span(start=1000, end=1000 + len(specific))]
    summary.figures[0].source = Span(start=1000 + start, end=1000 + start + len(fig_text))
    brief = make_brief(summary, max_results=2)
    shown = brief.sections[0].items
    assert shown[0].index == 6 and shown[0].text == specific  # last in the report, first in the brief
    assert shown[0].figures == [0, 1]
    assert 0 not in [it.index for it in shown]  # the generic first item is left out
    assert brief.sections[0].left_out == 5
    # at one position: figures beat no figures, specific wording beats generic phrases
    with_figures = score_item(summary.results[-1], 3, 7, figures)
    assert with_figures > score_item(Item(text=specific), 3, 7, []) > score_item(Item(text=generic), 3, 7, [])


def test_title_and_render_shape() -> None:
    brief = make_brief(_summary(results=["Thu ngân sách đạt 120 tỷ đồng"], tasks=["Đẩy nhanh giải phóng mặt bằng"]))
    text = render_brief_text(brief)
    first = text.split("\n")[0]
    assert first == "huyện Thử Nghiệm · Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ 9 · 05/10/2023 · 9 tháng đầu năm 2023"
    assert "Kết quả nổi bật\n• Thu ngân sách đạt 120 tỷ đồng" in text
    assert "Nhiệm vụ thời gian tới\n• Đẩy nhanh giải phóng mặt bằng" in text
    assert "mục khác" not in text


def test_items_under_the_reports_own_heading_rank_higher() -> None:
    a = "Toàn huyện xây dựng nông thôn mới ở các xã vùng sâu"
    b = "Toàn huyện giải phóng mặt bằng các công trình dự án lớn"
    text = f"BÁO CÁO\n{a}.\nI. KẾT QUẢ ĐẠT ĐƯỢC\n{b}.\nII. NHIỆM VỤ THỜI GIAN TỚI\nĐẩy nhanh tiến độ."
    results = [Item(text=a, source=[Span(start=text.index(a), end=text.index(a) + len(a))]),
               Item(text=b, source=[Span(start=text.index(b), end=text.index(b) + len(b))])]
    summary = Summary(results=results)
    assert make_brief(summary, max_results=1, text=text).sections[0].items[0].index == 1
    assert make_brief(summary, max_results=1).sections[0].items[0].index == 0  # without the text: position


def test_items_start_with_a_capital_letter() -> None:
    brief = make_brief(_summary(results=["tăng cường thu ngân sách đạt 120 tỷ đồng", "12 xã đạt chuẩn"],
                                shortcomings=["  đất đai còn vướng mắc"], tasks=["… đẩy nhanh tiến độ"]))
    shown = {it.text for s in brief.sections for it in s.items}
    assert shown == {"Tăng cường thu ngân sách đạt 120 tỷ đồng", "12 xã đạt chuẩn", "Đất đai còn vướng mắc",
                     "… Đẩy nhanh tiến độ"}
    assert not any(it.shortened for s in brief.sections for it in s.items)  # capitalising is no cut
