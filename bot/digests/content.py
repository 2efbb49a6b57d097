"""The digest of a period: pure data built from stored reports (no Telegram, no I/O).

Rule of the house: every number a reader sees is either copied from a report (`Figure.text`, an
item's wording) or one of our own counts (reports, units). Nothing here computes a figure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

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
    unit: str
    value: float  # parsed from the figure, only to size the bar
    text: str  # the figure as written: the only number drawn on the chart
    report_id: int


class ChartSpec(BaseModel):
    title: str
    points: list[ChartPoint]


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


def _figure_context(report: StoredReport, fig: Figure, before: int = 120, after: int = 40) -> tuple[str, str]:
    """Folded text around a figure (its source span, else its first occurrence): what it
    measures comes before it, what it is compared with ("kế hoạch", "dự toán") after it."""
    text = report.text
    start = end = -1
    if fig.source is not None and 0 <= fig.source.start < fig.source.end <= len(text):
        start, end = fig.source.start, fig.source.end
    else:
        start = text.find(fig.text)
        end = start + len(fig.text) if start >= 0 else -1
    if start < 0:
        return fold(fig.label or ""), ""
    head = text[max(0, start - before) : start]
    head = re.split(r"[;.\n]", head)[-1]
    if fig.label:
        head = fig.label + " " + head
    return fold(head), fold(text[end : end + after])


# What a percentage is compared with, read right after the figure.
_BASIS = (("ke hoach", "kế hoạch"), ("du toan", "dự toán"), ("chi tieu", "chỉ tiêu"))
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
    """A figure of a report with what it measures and what it is a percentage of (if known)."""

    figure: Figure
    topic: str | None  # our label from _TOPICS, read before the figure
    basis: str | None  # "kế hoạch" / "dự toán" / "chỉ tiêu", read after a percentage

    @property
    def comparable(self) -> tuple[str, str] | None:
        """(topic, basis) for a percentage of a plan/estimate, e.g. ("Thu ngân sách", "dự toán");
        None for anything we could not compare across units with confidence."""
        return (self.topic, self.basis) if self.topic and self.basis else None


def analyse_figure(report: StoredReport, fig: Figure) -> FigureInfo:
    head, tail = _figure_context(report, fig)
    topic, best = None, -1
    for pattern, name in _TOPICS:  # the topic named closest to the figure wins
        for match in re.finditer(pattern, head):
            if match.start() > best:
                best, topic = match.start(), name
    basis = None
    if fig.text.strip().endswith("%"):
        basis = next((name for pattern, name in _BASIS if tail.lstrip(" ,:").startswith(pattern)), None)
    if topic is None and basis == "dự toán" and "ngan sach" in head:
        topic = "Thu ngân sách"
    return FigureInfo(fig, topic, basis)


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
        score += 2 if info.basis else 0
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


def _chart(latest_by_unit: list[tuple[str, StoredReport, list[FigureInfo]]]) -> ChartSpec | None:
    """The comparable percentage (same topic, same basis) stated by the most units (at least two)."""
    series: dict[tuple[str, str], list[ChartPoint]] = {}
    for unit, report, infos in latest_by_unit:
        taken: set[tuple[str, str]] = set()
        for info in infos:
            kind = info.comparable
            if kind is None or kind in taken:
                continue
            value = parse_number(info.figure.text)
            if value is None:
                value = info.figure.value
            if value is None:
                continue
            taken.add(kind)
            series.setdefault(kind, []).append(
                ChartPoint(unit=unit, value=value, text=info.figure.text.strip(), report_id=report.id)
            )
    candidates = [(k, pts) for k, pts in series.items() if len(pts) >= 2]
    if not candidates:
        return None
    (topic, basis), points = max(
        candidates, key=lambda kp: (len(kp[1]), kp[0][1] == "dự toán", kp[0][0] == "Thu ngân sách")
    )
    points.sort(key=lambda p: -p.value)
    title = f"{topic} (% {basis})"
    if len(points) > MAX_CHART_POINTS:
        half = MAX_CHART_POINTS // 2
        title += f": {half} đơn vị cao nhất và {half} thấp nhất trong {len(points)}"
        points = points[:half] + points[-half:]
    return ChartSpec(title=title, points=points)


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
            latest.append((names[key], newest, infos))

    issues = _grouped(_clauses(chosen, "shortcomings"))
    recurring = [g for g in issues if g.source_count >= 2]
    digest.issues = recurring[:MAX_ISSUES]
    digest.other_issue_count = len(issues) - len(digest.issues)

    tasks = _grouped(_clauses(chosen, "tasks"))
    digest.tasks = tasks[:MAX_TASKS]
    digest.other_task_count = len(tasks) - len(digest.tasks)

    digest.chart = _chart(latest)
    return digest
