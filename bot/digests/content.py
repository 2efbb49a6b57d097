"""The digest of a period: pure data built from stored reports (no Telegram, no I/O).

Rule of the house: every number a reader sees is either copied from a report (`Figure.text`, an
item's wording) or one of our own counts (reports, units). Nothing here computes a figure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field

from bot.digests.similarity import fold, group_similar
from storage.models import StoredReport
from summariser.models import Figure, Item

UNKNOWN_UNIT = "Không rõ đơn vị"
MAX_FIGURES_PER_UNIT = 3
MAX_ISSUES = 8
MAX_TASKS = 8
MAX_CHART_POINTS = 20  # more bars than this are unreadable on a phone
COMPACT_UNITS = 20  # beyond this many units, unit lines drop the headline and keep 2 figures


class UnitEntry(BaseModel):
    """One line per unit: its newest report's headline and key figures, links to all its reports."""

    name: str
    known: bool = True
    report_ids: list[int]
    headline: str | None = None
    figures: list[Figure] = Field(default_factory=list)


class ItemGroup(BaseModel):
    """Clauses from several reports that say the same thing (a shortcoming or a task)."""

    text: str  # wording of one member, verbatim
    report_id: int  # the report `text` comes from
    units: list[str]  # distinct unit names, first seen first
    source_count: int  # distinct sources (units; each unknown-unit report counts alone)
    report_ids: list[int]
    mentions: int
    figures: list[str] = Field(default_factory=list)  # figure texts of `report_id` (to bold)


class ChartPoint(BaseModel):
    unit: str  # as the unit's newest report names it
    value: float  # parsed from the figure, only to size the bar (negative for a "giảm" change)
    text: str  # the figure as written: the only number drawn on the chart
    report_id: int
    period: str | None = None  # the figure's period, as `period_label` writes it


class ChartSpec(BaseModel):
    """One comparison across units: one indicator, one kind, one basis, one period (see `_chart`)."""

    title: str  # "Thu ngân sách, % dự toán năm — 9 tháng đầu năm 2024"
    points: list[ChartPoint]
    indicator: str = ""  # "Thu ngân sách"
    kind: Literal["share", "growth", "actual"] = "share"
    basis: str = ""  # "% dự toán năm", "tăng so với cùng kỳ", "tỷ đồng"
    period: str = ""  # "9 tháng đầu năm 2024"
    unit_count: int = 0  # units in the comparison (more than are drawn when there are many)
    notes: list[str] = Field(default_factory=list)  # what was left out, in Vietnamese


class Digest(BaseModel):
    scope: int
    start: datetime
    end: datetime
    report_count: int = 0
    unit_count: int = 0  # distinct named units
    unknown_unit_reports: int = 0
    units: list[UnitEntry] = Field(default_factory=list)
    issues: list[ItemGroup] = Field(default_factory=list)  # recurring shortcomings
    other_issue_count: int = 0  # shortcomings stated by one unit only
    tasks: list[ItemGroup] = Field(default_factory=list)
    other_task_count: int = 0
    chart: ChartSpec | None = None

    @property
    def empty(self) -> bool:
        return self.report_count == 0


# --- helpers ----------------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def unit_key(name: str | None) -> str | None:
    """Two spellings of one unit ("Huyện Gia Lộc", "huyện  Gia Lộc") share a key."""
    if not name or not name.strip():
        return None
    return " ".join(fold(name).split())


_NUMBER_RE = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?(?:\.\d+)?")


def parse_number(text: str) -> float | None:
    """Vietnamese-written number → float, for sizing a bar only ("8.458.730" → 8458730,
    "77,9%" → 77.9). Never shown to anyone."""
    match = _NUMBER_RE.search(text)
    if not match:
        return None
    raw = match.group(0)
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
        raw = raw.replace(".", "")
    try:
        return float(raw)
    except ValueError:
        return None


def _locate(report: StoredReport, fig: Figure) -> tuple[int, int] | None:
    """Where the figure stands in the report: its source span when that holds its text, else its
    first occurrence; None when the text is not in the report (such a figure is never shown)."""
    text = report.text
    source = fig.source
    if source is not None and 0 <= source.start < source.end <= len(text) and (
        text[source.start : source.end].strip() == fig.text.strip()
    ):
        return source.start, source.end
    start = text.find(fig.text)
    return (start, start + len(fig.text)) if start >= 0 else None


# A clause ends at ";", a line end or a sentence's "." — not at the "." of "1.234" (thousands),
# which would cut "Thu ngân sách đạt 1.234 tỷ đồng, đạt 81,2% dự toán" before its topic.
_CLAUSE_END = re.compile(r"[;\n]|\.(?!\d)")


def _figure_context(report: StoredReport, fig: Figure, before: int = 120, after: int = 40) -> tuple[str, str]:
    """Folded text around a figure: what it measures comes before it (from the start of its
    clause), what it is compared with ("kế hoạch", "dự toán", "cùng kỳ") after it."""
    span = _locate(report, fig)
    if span is None:
        return fold(fig.label or ""), ""
    start, end = span
    text = report.text
    head = _CLAUSE_END.split(text[max(0, start - before) : start])[-1]
    if fig.label:
        head = fig.label + " " + head
    return fold(head), fold(text[end : end + after])


# What a percentage is compared with, read right after the figure ("so với" may come first).
_BASIS = (
    ("ke hoach", "kế hoạch"),
    ("kh ", "kế hoạch"),
    ("du toan", "dự toán"),
    ("chi tieu", "chỉ tiêu"),
    ("nghi quyet", "nghị quyết"),
    ("cung ky", "cùng kỳ"),
)
_PLAN_BASES = frozenset({"kế hoạch", "dự toán", "chỉ tiêu"})  # a share of these says the most
_BASIS_LEAD = re.compile(r"[\s,:]*(?:so\s+(?:voi\s+)?)?")
# Words of the figure's clause, before it, that make it an aim and not a result. The summariser's
# `kind` says so already; this second guard is cheap, and a target drawn as a result is the worst
# thing a chart can say.
_AIM_BEFORE = re.compile(r"phan dau|muc tieu|du kien|phai dat|(?<!\w)ke hoach (?:nam|de ra)? ?(?:la|tang)(?!\w)")
# "tăng 12,6%", "giảm khoảng 3%": the relation right before a growth rate (shown with it).
_RELATION_BEFORE = re.compile(
    r"(tăng|giảm)(?: (?:khoảng|gần|hơn|trên|xấp xỉ|bình quân))? $", re.IGNORECASE
)


# What a figure measures, read before it (folded patterns → our label, no numbers in labels).
_TOPICS: tuple[tuple[str, str], ...] = (
    (r"\bthu (?:ngan sach|nsnn)", "Thu ngân sách"),
    (r"\bchi (?:ngan sach|nsnn)", "Chi ngân sách"),
    (r"\bgiai ngan", "Giải ngân vốn đầu tư công"),
    (r"gia tri san xuat (?:cong nghiep|cn)", "Giá trị sản xuất công nghiệp"),
    (r"gia tri san xuat (?:nong|nn)", "Giá trị sản xuất nông nghiệp"),
    (r"gia tri san xuat", "Giá trị sản xuất"),
    (r"von dau tu", "Vốn đầu tư"),
    (r"ket nap", "Kết nạp đảng viên"),
    (r"trong rung", "Trồng rừng"),
    (r"gieo trong", "Gieo trồng"),
    (r"doanh nghiep", "Doanh nghiệp thành lập mới"),
    (r"nong thon moi|\bntm\b", "Nông thôn mới"),
    (r"xuat khau", "Xuất khẩu"),
)


KEY_TOPICS = frozenset(
    {
        "Thu ngân sách",
        "Giá trị sản xuất",
        "Giá trị sản xuất công nghiệp",
        "Giá trị sản xuất nông nghiệp",
        "Vốn đầu tư",
        "Giải ngân vốn đầu tư công",
    }
)


@dataclass
class FigureInfo:
    """A figure of a report with what it measures, what it is compared with and how it is worded."""

    figure: Figure
    topic: str | None  # our label from _TOPICS, read before the figure
    basis: str | None  # "kế hoạch" / "dự toán" / "chỉ tiêu" / "nghị quyết" / "cùng kỳ", after a percentage
    basis_of_year: bool = False  # "… dự toán năm", "… kế hoạch năm"
    aim: bool = False  # its clause sets an aim ("phấn đấu", "mục tiêu", "dự kiến") before it
    relation: str | None = None  # "tăng" / "giảm" written right before it
    shown: str = ""  # the figure as a reader sees it on a chart: verbatim, with "giảm" when written

    @property
    def comparable(self) -> tuple[str, str, str] | None:
        """(kind, topic, basis) of a result that can stand beside other units' same result:
        a share of a plan/estimate ("đạt 81,2% dự toán", kind "share"), a change on the same
        period ("tăng 12,6% so với cùng kỳ", "growth") or an amount in one unit of measure
        ("312 tỷ đồng", "actual", basis = that unit). None for targets, plans, figures of an
        unknown kind (older summaries), figures of the tasks section (what is to be done: "tập
        trung thu ngân sách đạt 100% dự toán") and anything whose topic or basis we could not read.
        The period is checked apart (`chart_period`): it needs the report's summary."""
        fig = self.figure
        if self.topic is None or self.aim or fig.section == "tasks" or fig.kind not in ("share", "growth", "actual"):
            return None
        percent = fig.text.strip().endswith("%")
        if fig.kind == "share":
            return ("share", self.topic, self.basis) if percent and self.basis else None
        if fig.kind == "growth":
            return ("growth", self.topic, "cùng kỳ") if percent and self.basis == "cùng kỳ" else None
        unit = measure_unit(fig)
        if percent or unit is None or "/" in fig.text:
            return None  # a bare percentage of nothing named, a count with no unit, a ratio "13/18"
        return ("actual", self.topic, unit)


def measure_unit(fig: Figure) -> str | None:
    """ "tỷ đồng" of "312 tỷ đồng": what an amount is counted in (two amounts compare only in one)."""
    if fig.unit and fig.unit.strip():
        return " ".join(fig.unit.split())
    match = _NUMBER_RE.search(fig.text)
    rest = fig.text[match.end() :].strip() if match else ""
    return " ".join(rest.split()) or None


def analyse_figure(report: StoredReport, fig: Figure) -> FigureInfo:
    head, tail = _figure_context(report, fig)
    topic, best = None, -1
    for pattern, name in _TOPICS:  # the topic named closest to the figure wins
        for match in re.finditer(pattern, head):
            if match.start() > best:
                best, topic = match.start(), name
    basis, of_year = None, False
    if fig.text.strip().endswith("%"):
        rest = tail[_BASIS_LEAD.match(tail).end() :]  # type: ignore[union-attr]
        for pattern, name in _BASIS:
            if rest.startswith(pattern):
                basis = name
                of_year = rest[len(pattern) :].lstrip().startswith("nam") and name != "cùng kỳ"
                break
    if topic is None and basis == "dự toán" and "ngan sach" in head:
        topic = "Thu ngân sách"
    shown, relation = fig.text.strip(), None
    span = _locate(report, fig)
    if span is not None:
        match = _RELATION_BEFORE.search(report.text, max(0, span[0] - 24), span[0])
        if match:
            relation = match.group(1).lower()
            shown = report.text[match.start() : span[1]].strip()
    return FigureInfo(
        fig, topic, basis, basis_of_year=of_year, aim=bool(_AIM_BEFORE.search(head)),
        relation=relation, shown=shown,
    )


def report_figures(report: StoredReport) -> list[FigureInfo]:
    """The report's figures that appear verbatim in its text (others are never shown), once each."""
    if report.summary is None:
        return []
    out: list[FigureInfo] = []
    seen: set[str] = set()
    for fig in report.summary.figures:
        text = fig.text.strip()
        if text and text not in seen and text in report.text:
            seen.add(text)
            out.append(analyse_figure(report, fig))
    return out


def _key_figures(infos: list[FigureInfo], limit: int = MAX_FIGURES_PER_UNIT) -> list[Figure]:
    """A few figures that say most about the report: key economic topics (budget revenue,
    production value, investment) and plan/estimate percentages preferred, results before other
    sections; shown in report order."""
    scored: list[tuple[int, int, Figure]] = []
    for order, info in enumerate(infos):
        fig = info.figure
        score = {"results": 2, "other": 0}.get(fig.section, -1)
        score += 1 if fig.label else 0
        score += 3 if info.topic in KEY_TOPICS else 0
        score += 2 if info.basis in _PLAN_BASES else 0
        score += 1 if "đồng" in fig.text else 0
        scored.append((score, order, fig))
    best = sorted(scored, key=lambda t: (-t[0], t[1]))[:limit]
    return [fig for _, _, fig in sorted(best, key=lambda t: t[1])]


def _headline(report: StoredReport) -> str | None:
    s = report.summary
    parts = [p for p in ((s.meeting or s.title) if s else None, s.period if s else None) if p]
    if not parts and report.title:
        parts = [report.title]
    text = " · ".join(dict.fromkeys(p.strip() for p in parts))
    return text or None


@dataclass
class _Clause:
    text: str
    report_id: int
    unit: str  # display
    source: str  # unit key, or "#<id>" for a report without a unit
    figures: list[str]


def _clauses(reports: Iterable[StoredReport], section: str) -> list[_Clause]:
    out: list[_Clause] = []
    for report in reports:
        summary = report.summary
        if summary is None:
            continue
        key = unit_key(summary.unit)
        figures = [f.text for f in summary.figures if f.text]
        items: list[Item] = summary.section(section)  # type: ignore[arg-type]
        for item in items:
            # one point per clause: an item may hold several points of one sentence ("…; …"), and a
            # point shared with another unit must be found even when its neighbours differ
            for text in (part.strip() for part in item.text.split(";")):
                if len(text.split()) < 3:
                    continue
                out.append(
                    _Clause(
                        text=text,
                        report_id=report.id,
                        unit=(summary.unit or "").strip() or UNKNOWN_UNIT,
                        source=key or f"#{report.id}",
                        figures=figures,
                    )
                )
    return out


def _grouped(clauses: list[_Clause]) -> list[ItemGroup]:
    """Similar clauses into groups, most widely shared first (then most mentioned, then first seen)."""
    groups = group_similar([c.text for c in clauses])
    out: list[tuple[int, ItemGroup]] = []
    for order, group in enumerate(groups):
        members = [clauses[i] for i in group.members]
        rep = clauses[group.representative]
        units = list(dict.fromkeys(m.unit for m in members))
        out.append(
            (
                order,
                ItemGroup(
                    text=rep.text,
                    report_id=rep.report_id,
                    units=units,
                    source_count=len({m.source for m in members}),
                    report_ids=list(dict.fromkeys(m.report_id for m in members)),
                    mentions=len(members),
                    figures=rep.figures,
                ),
            )
        )
    out.sort(key=lambda t: (-t[1].source_count, -t[1].mentions, t[0]))
    return [g for _, g in out]


class Period(NamedTuple):
    """A reporting period as months of a year: "9 tháng đầu năm 2024" is (1, 9, 2024), "quý II" is
    (4, 3, None), "6 tháng cuối năm" is (7, 6, None), "năm 2023" is (1, 12, 2023)."""

    first_month: int
    months: int
    year: int | None


_MONTH_COUNTS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9,
    "muoi": 10, "muoi mot": 11, "muoi hai": 12,
}  # fmt: skip
_YEAR = r"((?:19|20)\d\d)"
_OF_YEAR = rf"(?:\s*/\s*{_YEAR}|\s+nam\s+{_YEAR}|\s+{_YEAR})?"
_MONTHS_RE = re.compile(
    rf"(\d{{1,2}}|{'|'.join(sorted(_MONTH_COUNTS, key=len, reverse=True))}) thang(?: (dau|cuoi))?(?: nam)?{_OF_YEAR}"
)
_QUARTER_RE = re.compile(rf"quy (iv|iii|ii|i|[1-4]){_OF_YEAR}")
_MONTH_RE = re.compile(rf"thang (\d{{1,2}}){_OF_YEAR}")
_YEAR_RE = re.compile(rf"(?:ca )?nam {_YEAR}|ca nam")
_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def parse_period(text: str | None) -> Period | None:
    """The period a figure or a report is about, when the text is one period and nothing else:
    "năm 2018 và 3 tháng đầu năm 2019", "8 năm qua", "giai đoạn 2021-2025" give None (a chart
    never guesses which part of them a figure is of)."""
    if not text:
        return None
    low = " ".join(fold(text).replace("–", "-").split()).strip(" .,:;()")
    low = re.sub(r"^(?:trong|cua) ", "", low)

    def year(match: re.Match[str], first: int) -> int | None:
        found = next((g for g in match.groups()[first:] if g), None)
        return int(found) if found else None

    if m := _MONTHS_RE.fullmatch(low):
        count = int(m.group(1)) if m.group(1).isdigit() else _MONTH_COUNTS[m.group(1)]
        if not 1 <= count <= 12:
            return None
        first = 13 - count if m.group(2) == "cuoi" else 1
        return Period(first, count, year(m, 2))
    if m := _QUARTER_RE.fullmatch(low):
        return Period(3 * _QUARTERS[m.group(1)] - 2, 3, year(m, 1))
    if m := _MONTH_RE.fullmatch(low):
        month = int(m.group(1))
        return Period(month, 1, year(m, 1)) if 1 <= month <= 12 else None
    if m := _YEAR_RE.fullmatch(low):
        return Period(1, 12, year(m, 0))
    return None


def period_label(period: Period) -> str:
    """ "9 tháng đầu năm 2024", "6 tháng cuối năm 2024", "quý II/2024", "tháng 8/2024", "năm 2024"."""
    first, months, year = period
    of = f" năm {year}" if year else " năm"
    if months == 12:
        return f"năm {year}" if year else "cả năm"
    if months == 1:
        return f"tháng {first}" + (f"/{year}" if year else "")
    if months == 3 and first in (4, 7, 10):
        return f"quý {_ROMAN[(first + 2) // 3]}" + (f"/{year}" if year else "")
    if first == 1:
        return f"{months} tháng đầu{of}"
    if first + months == 13:
        return f"{months} tháng cuối{of}"
    return f"{months} tháng từ tháng {first}" + (f"/{year}" if year else "")


def chart_period(fig: Figure, report: StoredReport) -> Period | None:
    """The figure's period: the one its own clause gives, else the report's (a "sơ kết 6 tháng"
    report's figures are of its 6 months); the year, when the figure's clause leaves it out
    ("6 tháng đầu năm"), from the report's period. None when either is missing or not one period:
    such a figure is not charted, since "9 tháng" must never stand beside "6 tháng"."""
    report_period = parse_period(report.summary.period if report.summary else None)
    own = parse_period(fig.period)
    period = own or report_period
    if period is None:
        return None
    if period.year is None and report_period is not None and report_period.year is not None:
        period = period._replace(year=report_period.year)
    return period if period.year is not None else None


def _basis_label(kind: str, basis: str, points: list[tuple[ChartPoint, FigureInfo]]) -> str:
    if kind == "share" and basis == "cùng kỳ":
        return "% so với cùng kỳ"
    if kind == "share":
        return f"% {basis}" + (" năm" if all(info.basis_of_year for _, info in points) else "")
    if kind == "growth":
        decrease = any(info.relation == "giảm" for _, info in points)
        return ("tăng/giảm" if decrease else "tăng") + " so với cùng kỳ"
    return basis  # an amount's unit of measure: "tỷ đồng"


_KIND_ORDER = {"share": 2, "growth": 1, "actual": 0}


def _chart(latest_by_unit: list[tuple[str, StoredReport, list[FigureInfo]]]) -> ChartSpec | None:
    """The comparison stated by the most units (at least two), or None.

    Only like with like: one indicator, one kind of result (a share of the plan/estimate, a change
    on the same period, or an amount in one unit of measure — never a target or a plan), one basis
    and one period (first month and length: "9 tháng đầu năm" stands only beside "9 tháng đầu
    năm"). Each unit once, with its newest report, named as that report names itself (its
    summary's unit, corrections included). When units report the same period of different years,
    only the most common year is drawn (ties: the newest) and the others are counted in a note:
    bars of two years side by side read as one comparison, which they are not.
    """
    series: dict[tuple[str, str, str, int, int], dict[int, list[tuple[ChartPoint, FigureInfo]]]] = {}
    for unit, report, infos in latest_by_unit:
        taken: set[tuple[str, str, str, int, int]] = set()
        for info in infos:
            kind = info.comparable
            period = chart_period(info.figure, report) if kind is not None else None
            if kind is None or period is None or period.year is None:
                continue
            key = (*kind, period.first_month, period.months)
            value = parse_number(info.figure.text)
            if key in taken or value is None:
                continue
            taken.add(key)
            if kind[0] == "growth" and info.relation == "giảm":
                value = -value
            text = info.shown if kind[0] == "growth" else info.figure.text.strip()
            point = ChartPoint(unit=unit, value=value, text=text, report_id=report.id, period=period_label(period))
            series.setdefault(key, {}).setdefault(period.year, []).append((point, info))
    best: tuple[tuple[int, int, bool, bool, int], tuple[str, str, str, int, int], int] | None = None
    for key, by_year in series.items():
        year = max(by_year, key=lambda y: (len(by_year[y]), y))
        count = len(by_year[year])
        if count < 2:
            continue
        rank = (count, _KIND_ORDER[key[0]], key[2] == "dự toán", key[1] == "Thu ngân sách", year)
        if best is None or rank > best[0]:
            best = (rank, key, year)
    if best is None:
        return None
    _, key, year = best
    kind, topic, basis, first, months = key
    chosen = series[key][year]
    points = sorted((p for p, _ in chosen), key=lambda p: -p.value)
    notes: list[str] = []
    for other in sorted((y for y in series[key] if y != year), reverse=True):
        count = len(series[key][other])
        label = period_label(Period(first, months, other))
        notes.append(f"Không vẽ {count} đơn vị có số liệu {label} (khác năm).")
    total = len(points)
    if total > MAX_CHART_POINTS:
        half = MAX_CHART_POINTS // 2
        notes.insert(0, f"{half} đơn vị cao nhất và {half} thấp nhất trong {total} đơn vị.")
        points = points[:half] + points[-half:]
    period = period_label(Period(first, months, year))
    basis_text = _basis_label(kind, basis, chosen)
    return ChartSpec(
        title=f"{topic}, {basis_text} — {period}",
        indicator=topic,
        kind=kind,  # type: ignore[arg-type]
        basis=basis_text,
        period=period,
        points=points,
        unit_count=total,
        notes=notes,
    )


# --- the digest -------------------------------------------------------------------------------


def build_digest(reports: list[StoredReport], *, start: datetime, end: datetime, scope: int) -> Digest:
    """The digest of `scope` for reports received in [start, end) that have a summary.

    Reports from another scope or outside the window are ignored here too, so a caller's mistake
    can never leak another scope's content into a digest.
    """
    start, end = _aware(start), _aware(end)
    chosen = [
        r
        for r in reports
        if r.scope == scope and r.summary is not None and start <= _aware(r.received_at) < end
    ]
    chosen.sort(key=lambda r: (_aware(r.received_at), r.id))
    digest = Digest(scope=scope, start=start, end=end, report_count=len(chosen))
    if not chosen:
        return digest

    by_unit: dict[str | None, list[StoredReport]] = {}
    names: dict[str | None, str] = {}
    for report in chosen:
        key = unit_key(report.unit)
        by_unit.setdefault(key, []).append(report)
        names.setdefault(key, (report.unit or "").strip() or UNKNOWN_UNIT)
    digest.unit_count = sum(1 for k in by_unit if k is not None)
    digest.unknown_unit_reports = len(by_unit.get(None, []))

    latest: list[tuple[str, StoredReport, list[FigureInfo]]] = []
    compact = len(by_unit) > COMPACT_UNITS
    for key in sorted(by_unit, key=lambda k: (k is None, k or "")):
        unit_reports = by_unit[key]
        newest = unit_reports[-1]
        infos = report_figures(newest)
        digest.units.append(
            UnitEntry(
                name=names[key],
                known=key is not None,
                report_ids=[r.id for r in unit_reports],
                headline=None if compact else _headline(newest),
                figures=_key_figures(infos, 2 if compact else MAX_FIGURES_PER_UNIT),
            )
        )
        if key is not None:
            # the chart names a unit as its newest report does (its summary, corrections included)
            latest.append(((newest.unit or "").strip() or names[key], newest, infos))

    issues = _grouped(_clauses(chosen, "shortcomings"))
    recurring = [g for g in issues if g.source_count >= 2]
    digest.issues = recurring[:MAX_ISSUES]
    digest.other_issue_count = len(issues) - len(digest.issues)

    tasks = _grouped(_clauses(chosen, "tasks"))
    digest.tasks = tasks[:MAX_TASKS]
    digest.other_task_count = len(tasks) - len(digest.tasks)

    digest.chart = _chart(latest)
    return digest
