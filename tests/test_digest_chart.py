"""Honest digest charts: only like with like (one indicator, kind, basis and period), units named as
their reports name them, no chart when nothing compares, and pictures that say all of that.

The digests are built from synthetic reports written here and run through the summariser, so the
figures carry the kinds and periods it gives them. With CHART_DUMP_DIR set, every PNG these tests
render is also written there, to be looked at:

    CHART_DUMP_DIR=/tmp/charts .venv/bin/pytest -q tests/test_digest_chart.py
"""

from __future__ import annotations

import re
import struct
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.digests.chart import render_chart
from bot.digests.content import (
    ChartSpec,
    Digest,
    Period,
    analyse_figure,
    build_digest,
    chart_period,
    parse_period,
    period_label,
)
from bot.digests.messages import chart_caption
from bot.digests.service import prepare
from storage import StoredReport
from summariser import clean_text, summarise
from summariser.models import Figure, Summary
from tests.chart_dump import dump

END = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
START = END - timedelta(days=7)
SCOPE = 1
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BUDGET_9M = "Thu ngân sách, % dự toán năm — 9 tháng đầu năm 2024"


def report_text(unit: str, period: str, results: list[str]) -> str:
    """A short district (or commune) report as officials write them: issuer, title with the
    period, sections."""
    level, place = unit.split(" ", 1)
    organ = "ĐẢNG ỦY XÃ" if level == "xã" else "HUYỆN ỦY"
    return "\n".join(
        [
            f"{organ} {place.upper()}",
            "BÁO CÁO",
            f"Tình hình thực hiện nhiệm vụ phát triển kinh tế - xã hội {period}",
            f"của {unit}",
            "",
            "I. KẾT QUẢ ĐẠT ĐƯỢC",
            *results,
            "",
            "II. HẠN CHẾ, TỒN TẠI",
            "Tiến độ giải phóng mặt bằng một số dự án còn chậm.",
            "",
            "III. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI",
            "Phấn đấu thu ngân sách cả năm vượt 5% dự toán năm. Đẩy nhanh tiến độ giải phóng mặt bằng.",
        ]
    )


def budget(share: str) -> str:
    return f"Thu ngân sách nhà nước trên địa bàn ước đạt 1.234 tỷ đồng, đạt {share} dự toán năm."


def stored(rid: int, text: str, *, unit: str | None = None, hours: int = 0) -> StoredReport:
    cleaned = clean_text(text)
    summary = summarise(cleaned)
    if unit is not None:  # a unit an official corrected
        summary = summary.model_copy(update={"unit": unit})
    return StoredReport(
        id=rid,
        scope=SCOPE,
        chat_id=SCOPE,
        user_id=1,
        sha256=str(rid),
        received_at=END - timedelta(days=1, hours=hours),
        source_kind="text",
        text=cleaned,
        state="summarised",
        summary=summary,
    )


def digest_of(*reports: StoredReport) -> Digest:
    return build_digest(list(reports), start=START, end=END, scope=SCOPE)


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def rendered(spec: ChartSpec, name: str) -> bytes:
    """The chart as PNG, drawn without a missing-glyph warning (Vietnamese letters all present)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(spec)
    assert not [w for w in caught if "missing from" in str(w.message).lower()], [str(w.message) for w in caught]
    width, height = png_size(png)
    assert width >= 600 and 300 <= height <= 2400
    dump(png, name)
    return png


GIA_LOC = report_text("huyện Gia Lộc", "9 tháng đầu năm 2024", [budget("81,2%")])
BINH_GIANG = report_text("huyện Bình Giang", "9 tháng đầu năm 2024", [budget("76,5%")])
CAM_GIANG = report_text(
    "huyện Cẩm Giàng",
    "9 tháng đầu năm 2024",
    [budget("92%"), "Kết nạp 45 đảng viên mới, đạt 60% kế hoạch năm."],
)
THANH_MIEN_6M = report_text("huyện Thanh Miện", "6 tháng đầu năm 2024", [budget("55,3%")])
NINH_GIANG_TARGET_ONLY = report_text(
    "huyện Ninh Giang", "9 tháng đầu năm 2024", ["Giá trị sản xuất nông nghiệp tăng trưởng ổn định."]
)


# --- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("9 tháng đầu năm 2024", Period(1, 9, 2024)),
        ("6 tháng đầu năm", Period(1, 6, None)),
        ("sáu tháng đầu năm 2020", Period(1, 6, 2020)),
        ("6 tháng cuối năm", Period(7, 6, None)),
        ("6 tháng", Period(1, 6, None)),
        ("quý II/2017", Period(4, 3, 2017)),
        ("Quý I/2013", Period(1, 3, 2013)),
        ("quý 3 năm 2023", Period(7, 3, 2023)),
        ("tháng 8/2023", Period(8, 1, 2023)),
        ("tháng 6 năm 2019", Period(6, 1, 2019)),
        ("Tháng 4", Period(4, 1, None)),
        ("năm 2023", Period(1, 12, 2023)),
        ("cả năm", Period(1, 12, None)),
        ("năm 2018 và 3 tháng đầu năm 2019", None),
        ("8 năm qua", None),
        ("giai đoạn 2021 - 2025", None),
        ("15 tháng", None),
        ("15 năm thực hiện Nghị quyết T.Ư 5 (khóa VIII)", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_period(text: str | None, period: Period | None) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(
    "text",
    ["9 tháng đầu năm 2024", "6 tháng cuối năm 2024", "quý II/2024", "tháng 8/2023", "năm 2023"],
)
def test_period_label_reads_back(text: str) -> None:
    period = parse_period(text)
    assert period is not None and period_label(period) == text


def test_a_figure_takes_its_own_period_else_the_reports_with_its_year() -> None:
    report = stored(1, CAM_GIANG)
    assert report.summary is not None and report.summary.period == "9 tháng đầu năm 2024"
    fig = Figure(text="92%", kind="share")
    assert chart_period(fig, report) == Period(1, 9, 2024)
    assert chart_period(fig.model_copy(update={"period": "quý III"}), report) == Period(7, 3, 2024)
    assert chart_period(fig.model_copy(update={"period": "giai đoạn 2021-2025"}), report) == Period(1, 9, 2024)
    no_period = report.model_copy(update={"summary": report.summary.model_copy(update={"period": None})})
    assert chart_period(fig, no_period) is None  # unknown: never charted
    assert chart_period(fig.model_copy(update={"period": "6 tháng đầu năm"}), no_period) is None  # no year


# --- what a chart compares ----------------------------------------------------------------------


def test_chart_compares_one_indicator_kind_and_period() -> None:
    """Three 9-month budget shares are drawn; a 6-month share and a target ("phấn đấu … vượt 5%")
    are not, and the title says indicator, basis and period."""
    reports = [
        stored(1, GIA_LOC),
        stored(2, BINH_GIANG),
        stored(3, CAM_GIANG),
        stored(4, THANH_MIEN_6M),
        stored(5, NINH_GIANG_TARGET_ONLY),
    ]
    for r in reports:  # the synthetic reports read as intended
        assert r.summary is not None and any(f.kind == "target" and f.text == "5%" for f in r.summary.figures)
    chart = digest_of(*reports).chart
    assert chart is not None
    assert chart.title == BUDGET_9M
    assert (chart.indicator, chart.kind, chart.basis, chart.period) == (
        "Thu ngân sách",
        "share",
        "% dự toán năm",
        "9 tháng đầu năm 2024",
    )
    assert [(p.unit, p.text, p.value) for p in chart.points] == [
        ("huyện Cẩm Giàng", "92%", 92.0),
        ("huyện Gia Lộc", "81,2%", 81.2),
        ("huyện Bình Giang", "76,5%", 76.5),
    ]
    by_id = {r.id: r for r in reports}
    for point in chart.points:
        assert point.text in by_id[point.report_id].text
        assert point.period == "9 tháng đầu năm 2024"
    assert chart.notes == [] and chart.unit_count == 3
    rendered(chart, "budget-share-9-months")


def test_nine_months_never_stand_beside_six_or_twelve() -> None:
    year = report_text("huyện Bình Giang", "năm 2024", [budget("101,5%")])
    assert digest_of(stored(1, GIA_LOC), stored(2, THANH_MIEN_6M)).chart is None
    assert digest_of(stored(1, GIA_LOC), stored(2, year)).chart is None
    half = report_text("huyện Gia Lộc", "6 tháng cuối năm 2024", [budget("48%")])
    assert digest_of(stored(1, half), stored(2, THANH_MIEN_6M)).chart is None  # same length, other months


def test_mixed_years_keep_the_most_common_year_and_say_what_was_left_out() -> None:
    older = report_text("huyện Thanh Miện", "9 tháng đầu năm 2023", [budget("70,1%")])
    chart = digest_of(stored(1, GIA_LOC), stored(2, BINH_GIANG), stored(3, older)).chart
    assert chart is not None and chart.title == BUDGET_9M
    assert [p.unit for p in chart.points] == ["huyện Gia Lộc", "huyện Bình Giang"]
    assert chart.notes == ["Không vẽ 1 đơn vị có số liệu 9 tháng đầu năm 2023 (khác năm)."]
    rendered(chart, "budget-share-mixed-years")
    # one unit per year: nothing to compare within a year, so no chart at all
    assert digest_of(stored(1, GIA_LOC), stored(3, older)).chart is None


def hand_made(rid: int, text: str, unit: str, fig: Figure, period: str | None = "9 tháng đầu năm 2024") -> StoredReport:
    return StoredReport(
        id=rid,
        scope=SCOPE,
        chat_id=SCOPE,
        user_id=1,
        sha256=str(rid),
        received_at=END - timedelta(days=1),
        source_kind="text",
        text=text,
        state="summarised",
        summary=Summary(unit=unit, period=period, figures=[fig]),
    )


def test_targets_plans_and_figures_of_unknown_kind_are_never_charted() -> None:
    real = hand_made(1, "Thu ngân sách đạt 81,2% dự toán năm.", "huyện A", Figure(text="81,2%", kind="share"))
    for kind in ("target", "plan", None):
        other = hand_made(2, "Thu ngân sách đạt 76,5% dự toán năm.", "huyện B", Figure(text="76,5%", kind=kind))
        assert digest_of(real, other).chart is None, kind
    # a "phấn đấu" clause mis-kinded as a share is still an aim, not a result (the 5%)
    aim = hand_made(
        3, "Phấn đấu thu ngân sách vượt 5% dự toán năm.", "huyện C", Figure(text="5%", kind="share")
    )
    assert digest_of(real, aim).chart is None
    # a figure of the tasks section is what is to be done, whatever its wording
    task = hand_made(
        5, "Tập trung thu ngân sách đạt 100% dự toán năm.", "huyện D", Figure(text="100%", kind="share", section="tasks")
    )
    assert digest_of(real, task).chart is None
    fine = hand_made(4, "Thu ngân sách đạt 76,5% dự toán năm.", "huyện B", Figure(text="76,5%", kind="share"))
    chart = digest_of(real, fine, aim).chart
    assert chart is not None and [p.text for p in chart.points] == ["81,2%", "76,5%"]


def test_a_thousands_dot_does_not_hide_the_topic() -> None:
    """ "Thu ngân sách đạt 1.234 tỷ đồng, đạt 81,2% dự toán": the "." of 1.234 ends no clause."""
    report = hand_made(
        1, "Thu ngân sách đạt 1.234 tỷ đồng, đạt 81,2% dự toán năm.", "huyện A", Figure(text="81,2%", kind="share")
    )
    info = analyse_figure(report, Figure(text="81,2%", kind="share"))
    assert (info.topic, info.basis, info.basis_of_year) == ("Thu ngân sách", "dự toán", True)
    assert info.comparable == ("share", "Thu ngân sách", "dự toán")


def test_growth_chart_shows_a_decrease_as_written_and_left_of_zero() -> None:
    def industry(unit: str, change: str) -> str:
        return report_text(
            unit,
            "6 tháng đầu năm 2024",
            [f"Giá trị sản xuất công nghiệp ước đạt 2.351 tỷ đồng, {change} so với cùng kỳ."],
        )

    reports = [
        stored(1, industry("huyện Gia Lộc", "tăng 12,6%")),
        stored(2, industry("huyện Bình Giang", "giảm 3,2%")),
        stored(3, industry("huyện Cẩm Giàng", "tăng 8,1%")),
    ]
    chart = digest_of(*reports).chart
    assert chart is not None
    assert chart.title == "Giá trị sản xuất công nghiệp, tăng/giảm so với cùng kỳ — 6 tháng đầu năm 2024"
    assert [(p.unit, p.text, p.value) for p in chart.points] == [
        ("huyện Gia Lộc", "tăng 12,6%", 12.6),
        ("huyện Cẩm Giàng", "tăng 8,1%", 8.1),
        ("huyện Bình Giang", "giảm 3,2%", -3.2),
    ]
    by_id = {r.id: r for r in reports}
    assert all(p.text in by_id[p.report_id].text for p in chart.points)
    rendered(chart, "industry-growth-6-months")


def test_amounts_compare_only_in_one_unit_of_measure() -> None:
    def revenue(unit: str, amount: str) -> str:
        return report_text(unit, "6 tháng đầu năm 2024", [f"Thu ngân sách nhà nước trên địa bàn đạt {amount}."])

    chart = digest_of(
        stored(1, revenue("huyện Gia Lộc", "312 tỷ đồng")),
        stored(2, revenue("huyện Bình Giang", "287,5 tỷ đồng")),
        stored(3, revenue("huyện Cẩm Giàng", "95.000 triệu đồng")),  # another unit of measure
    ).chart
    assert chart is not None
    assert chart.title == "Thu ngân sách, tỷ đồng — 6 tháng đầu năm 2024"
    assert [p.text for p in chart.points] == ["312 tỷ đồng", "287,5 tỷ đồng"]
    rendered(chart, "budget-amount-6-months")


# --- units --------------------------------------------------------------------------------------


def test_units_are_named_as_their_reports_name_them() -> None:
    """The district, not its province (named in the report too); a corrected unit wins; two
    spellings of one unit are one bar, named as the newest report names it."""
    gia_loc = report_text(
        "huyện Gia Lộc", "9 tháng đầu năm 2024", [budget("81,2%"), "Đứng thứ 3 trong tỉnh Hải Dương về thu ngân sách."]
    )
    reports = [stored(1, gia_loc), stored(2, BINH_GIANG), stored(3, CAM_GIANG, unit="thị xã Kinh Môn")]
    assert reports[0].summary is not None and reports[0].summary.unit == "huyện Gia Lộc"
    chart = digest_of(*reports).chart
    assert chart is not None
    assert sorted(p.unit for p in chart.points) == ["huyện Bình Giang", "huyện Gia Lộc", "thị xã Kinh Môn"]
    assert not any("Hải Dương" in p.unit for p in chart.points)
    older = stored(4, report_text("huyện Gia Lộc", "9 tháng đầu năm 2024", [budget("70%")]), unit="Huyện Gia Lộc", hours=5)
    chart = digest_of(older, *reports).chart
    assert chart is not None
    assert [p.unit for p in chart.points].count("huyện Gia Lộc") == 1
    assert "70%" not in [p.text for p in chart.points]  # each unit once: its newest report


# --- no chart when nothing compares -------------------------------------------------------------


def test_a_digest_with_nothing_comparable_sends_no_chart() -> None:
    reports = [stored(1, GIA_LOC), stored(2, THANH_MIEN_6M), stored(3, NINH_GIANG_TARGET_ONLY)]
    digest = digest_of(*reports)
    assert digest.report_count == 3 and digest.chart is None and chart_caption(digest) is None
    prepared = prepare(reports, scope=SCOPE, start=START, end=END, tz=TZ, cadence="weekly")
    assert prepared.messages and prepared.chart is None
    assert all(part.photo is None for part in prepared.parts())
    # and with something comparable, the chart is the last part, its caption the title
    reports.append(stored(4, BINH_GIANG))
    prepared = prepare(reports, scope=SCOPE, start=START, end=END, tz=TZ, cadence="weekly")
    parts = prepared.parts()
    assert prepared.chart is not None and parts[-1].photo == prepared.chart
    assert parts[-1].caption is not None and BUDGET_9M in parts[-1].caption
    assert "/report 1" in parts[-1].caption and "/report 4" in parts[-1].caption
    dump(prepared.chart, "prepared-digest-chart")


async def test_digest_command_sends_a_chart_only_when_units_compare(tmp_path: Path) -> None:
    from tests.bot_harness import USER, BotHarness, store_report  # (the whole bot: imported here only)

    async with BotHarness(tmp_path) as h:
        await store_report(h, USER, GIA_LOC)
        await store_report(h, USER, THANH_MIEN_6M)
        before = len(h.emu.messages(USER))
        h.emu.send_text(USER, USER, "/digest")
        await h.emu.wait_for_messages(USER, before + 1, timeout=20)
        await h.emu.wait_idle(quiet=1.5, timeout=30)
        assert "Đã nhận 2 báo cáo từ 2 đơn vị" in "\n".join(h.texts(USER)[before:])
        assert h.emu.photos(USER) == []  # 9 months and 6 months: nothing to compare

        await store_report(h, USER, BINH_GIANG)
        before = len(h.emu.messages(USER))
        h.emu.send_text(USER, USER, "/digest")
        await h.emu.wait_for_messages(USER, before + 2, timeout=30)
        await h.emu.wait_idle(quiet=1.5, timeout=30)
        photos = h.emu.photos(USER)
        assert len(photos) == 1
        photo = next(m for m in h.emu.messages(USER) if m["_method"] == "sendPhoto")
        assert BUDGET_9M in photo["caption"]
        dump(photos[0], "digest-command-chart")


# --- pictures -----------------------------------------------------------------------------------


def test_many_units_keep_the_highest_and_lowest_and_long_names_fit() -> None:
    reports = [
        stored(
            i,
            report_text(f"xã Số {i}", "9 tháng đầu năm 2024", [budget(f"{40 + 2 * i},5%")]),
            # long names as an official may correct them to: wrapped, never cut
            unit=None if i % 5 else f"Ban Quản lý các khu công nghiệp và cụm công nghiệp số {i}",
        )
        for i in range(1, 31)
    ]
    chart = digest_of(*reports).chart
    assert chart is not None and chart.unit_count == 30 and len(chart.points) == 20
    values = [p.value for p in chart.points]
    assert values == sorted(values, reverse=True)
    assert values[0] == 100.5 and values[-1] == 42.5
    assert chart.notes == ["10 đơn vị cao nhất và 10 thấp nhất trong 30 đơn vị."]
    rendered(chart, "budget-share-30-units")


def test_caption_names_what_is_left_out() -> None:
    older = report_text("huyện Thanh Miện", "9 tháng đầu năm 2023", [budget("70,1%")])
    digest = digest_of(stored(1, GIA_LOC), stored(2, BINH_GIANG), stored(3, older))
    caption = chart_caption(digest)
    assert caption is not None and len(caption) <= 1024
    plain = re.sub(r"<[^>]+>", "", caption)
    assert BUDGET_9M in plain and "9 tháng đầu năm 2023 (khác năm)" in plain


def test_a_crowded_chart_still_fits_its_words() -> None:
    """Long names, decreases, two notes and a long title at once: drawn (and dumped to be seen)."""
    from bot.digests.content import ChartPoint

    points = [
        ChartPoint(
            unit=f"Ban Quản lý dự án đầu tư xây dựng khu vực số {i}" if i % 3 == 0 else f"xã Đồng Quang {i}",
            value=12.5 - i,
            text=f"{'tăng' if i <= 12 else 'giảm'} {abs(12 - i) if i <= 12 else i - 13},5%",
            report_id=i,
        )
        for i in range(20)
    ]
    spec = ChartSpec(
        title="Giá trị sản xuất công nghiệp - tiểu thủ công nghiệp, tăng/giảm so với cùng kỳ — 6 tháng cuối năm 2024",
        indicator="Giá trị sản xuất công nghiệp - tiểu thủ công nghiệp",
        kind="growth",
        basis="tăng/giảm so với cùng kỳ",
        period="6 tháng cuối năm 2024",
        points=points,
        unit_count=27,
        notes=[
            "10 đơn vị cao nhất và 10 thấp nhất trong 27 đơn vị.",
            "Không vẽ 3 đơn vị có số liệu 6 tháng cuối năm 2023 (khác năm).",
        ],
    )
    rendered(spec, "crowded-growth-20-of-27")
