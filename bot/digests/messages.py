"""A Digest as Telegram HTML messages (escaped, split on line boundaries under 4096 chars)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from bot.digests.content import Digest, ItemGroup, UnitEntry
from bot.render import bold_figures, capitalise, esc, figure_line, split_html

CADENCE_TITLES = {"weekly": "Bản tin tuần", "daily": "Bản tin ngày", None: "Bản tin tổng hợp"}
MAX_UNITS_LISTED = 5  # unit names written out in a group line; more become "và N đơn vị khác"


def period_label(start: datetime, end: datetime, tz: tzinfo) -> str:
    """ "16/11/2026 – 22/11/2026": the local days the half-open window [start, end) touches."""
    first = start.astimezone(tz)
    last = (end - timedelta(microseconds=1)).astimezone(tz)
    if first.date() == last.date():
        return first.strftime("%d/%m/%Y")
    return f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"


MAX_LINKS = 3


def report_links(ids: list[int]) -> str:
    """ "/report 7, /report 9" — the newest few when there are many (the rest counted)."""
    shown = ids[-MAX_LINKS:]
    more = len(ids) - len(shown)
    return ", ".join(f"/report {i}" for i in shown) + (f" và {more} báo cáo khác" if more > 0 else "")


def _unit_line(entry: UnitEntry) -> str:
    name = f"<b>{esc(entry.name)}</b>" if entry.known else f"<i>{esc(entry.name)}</i>"
    parts = [name]
    if entry.headline:
        parts.append(f" — {esc(capitalise(entry.headline))}")
    if entry.figures:
        parts.append(": " + "; ".join(figure_line(f) for f in entry.figures))
    plural = f" ({len(entry.report_ids)} báo cáo)" if len(entry.report_ids) > 1 else ""
    parts.append(f"{plural} · {report_links(entry.report_ids)}")
    return "• " + "".join(parts)


def _units_text(group: ItemGroup) -> str:
    names = [esc(u) for u in group.units[:MAX_UNITS_LISTED]]
    more = len(group.units) - len(names)
    listed = ", ".join(names) + (f" và {more} đơn vị khác" if more > 0 else "")
    if group.source_count >= 2:
        return f"{group.source_count} đơn vị: {listed}"
    return listed


def _group_line(group: ItemGroup) -> str:
    return (
        f"• {bold_figures(capitalise(group.text), group.figures)}\n"
        f"   <i>— {_units_text(group)}</i> ({report_links(group.report_ids)})"
    )


def digest_blocks(digest: Digest, tz: tzinfo, cadence: str | None = None) -> list[str]:
    title = CADENCE_TITLES.get(cadence, CADENCE_TITLES[None])
    head = f"📰 <b>{title}</b> ({period_label(digest.start, digest.end, tz)})"
    if digest.empty:
        return [f"{head}\nKhông có báo cáo mới trong kỳ này."]
    count = f"Đã nhận <b>{digest.report_count}</b> báo cáo"
    if digest.unit_count:
        count += f" từ <b>{digest.unit_count}</b> đơn vị"
    if digest.unknown_unit_reports:
        joiner = " và" if digest.unit_count else ","
        count += f"{joiner} {digest.unknown_unit_reports} báo cáo không rõ đơn vị"
    blocks = [f"{head}\n{count}."]

    blocks.append("\n<b>Theo đơn vị</b>")
    blocks.extend(_unit_line(u) for u in digest.units)

    blocks.append("\n<b>Vấn đề nổi cộm</b>")
    if digest.issues:
        blocks.extend(_group_line(g) for g in digest.issues)
    else:
        blocks.append("<i>Không có hạn chế nào được nêu ở từ hai đơn vị trở lên.</i>")
    if digest.other_issue_count:
        blocks.append(
            f"<i>Còn {digest.other_issue_count} hạn chế khác do từng đơn vị nêu (xem /shortcomings).</i>"
        )

    blocks.append("\n<b>Nhiệm vụ thời gian tới</b>")
    if digest.tasks:
        blocks.extend(_group_line(g) for g in digest.tasks)
    else:
        blocks.append("<i>Các báo cáo không nêu nhiệm vụ thời gian tới.</i>")
    if digest.other_task_count:
        blocks.append(f"<i>Còn {digest.other_task_count} nhiệm vụ khác (xem /tasks).</i>")
    return blocks


def render_digest(digest: Digest, tz: tzinfo, cadence: str | None = None) -> list[str]:
    """HTML messages for the digest; every piece of report text escaped."""
    return split_html(digest_blocks(digest, tz, cadence))


def chart_caption(digest: Digest) -> str | None:
    """The chart's title and what it leaves out, with the reports its bars come from."""
    chart = digest.chart
    if chart is None:
        return None
    lines = [f"📊 So sánh giữa các đơn vị: <b>{esc(chart.title)}</b>"]
    lines.extend(f"<i>{esc(note)}</i>" for note in chart.notes)
    ids = list(dict.fromkeys(p.report_id for p in chart.points))
    lines.append("Nguồn: " + report_links(ids))
    return "\n".join(lines)
