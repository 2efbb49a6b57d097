"""Bar chart comparing units on one figure, as PNG bytes.

matplotlib is imported here, lazily, and only the object API with the Agg canvas is used (no
pyplot global state), so drawing is safe in a worker thread and start-up never pays for it.
The value axis carries no tick numbers: the only numbers on the picture are the figures as the
reports wrote them, printed next to their bars, and the period in the title. Bars start at zero
(a decrease goes left of a zero line), so their lengths compare honestly.

The title says what is compared, on which basis and for which period; what the chart leaves out
(other years, units beyond the 20 shown) is written under it, so the picture can be forwarded
alone without misleading. The fonts are matplotlib's DejaVu Sans, which has Vietnamese glyphs.
"""

from __future__ import annotations

import io
import textwrap
import threading

from bot.digests.content import ChartSpec

_LOCK = threading.Lock()  # font cache and rcParams are shared; draw one chart at a time
FONT = "DejaVu Sans"  # ships with matplotlib; has every Vietnamese letter
WIDTH_IN = 7.5
DPI = 110
BAR = "#2a6fb0"
BAR_DOWN = "#c0504d"  # a decrease
NOTE = "#555555"
TITLE_WIDTH = 62  # characters of an 11 pt bold line across the picture
FOOTER = "Số liệu như báo cáo của từng đơn vị ghi; mỗi đơn vị lấy báo cáo mới nhất trong kỳ."


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def _title(spec: ChartSpec) -> str:
    """What, on which basis, then the period on its own line when one line cannot hold all: a
    wrap inside "6 tháng đầu năm 2024" would split the very words that say what is compared."""
    if len(spec.title) <= TITLE_WIDTH or not (spec.indicator and spec.basis and spec.period):
        return _wrap(spec.title, TITLE_WIDTH)
    return _wrap(f"{spec.indicator}, {spec.basis}", TITLE_WIDTH) + "\n" + spec.period


def render_chart(spec: ChartSpec) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = spec.points
    labels = [_wrap(p.unit, 26) for p in points]
    values = [p.value for p in points]
    title = _title(spec)
    # when only the highest and lowest are drawn, a gap row between them says how many are not
    left_out = max(0, spec.unit_count - len(points))
    gap_after = len(points) // 2 if left_out else None
    notes = "\n".join(_wrap(n, 90) for n in spec.notes)
    label_lines = sum(label.count("\n") + 1 for label in labels)
    head_lines = title.count("\n") + 1 + (notes.count("\n") + 1 if notes else 0)
    rows = 0.32 * max(label_lines, len(points)) + 0.28 * len(points) + (0.5 if left_out else 0.0)
    height = max(2.8, 1.0 + rows + 0.26 * head_lines)  # two bars still make a picture, not a strip
    high = max([*values, 0.0])
    low = min([*values, 0.0])
    span = (high - low) or 1.0
    with _LOCK:
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        rows_total = len(points) + (1 if left_out else 0)
        positions = [  # first (highest) unit on top; the gap row, if any, skipped
            rows_total - 1 - i - (1 if gap_after is not None and i >= gap_after else 0)
            for i in range(len(points))
        ]
        colours = [BAR_DOWN if v < 0 else BAR for v in values]
        bars = ax.barh(positions, values, color=colours, height=0.6)
        ax.set_yticks(positions, labels=labels, fontsize=9, fontfamily=FONT)
        ax.tick_params(axis="y", length=0)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        if low < 0:
            ax.spines["left"].set_visible(False)
            ax.axvline(0, color="#333333", linewidth=0.8)
        # room for the longest figure text on each side (about 0.019 of the span per character)
        longest = max((len(p.text) for p in points), default=4)
        pad = span * (0.05 + 0.019 * longest)
        ax.set_xlim(low - (pad if low < 0 else 0), high + (pad if high > 0 else 0))
        ax.set_ylim(-0.6, rows_total - 0.4)
        if gap_after is not None:
            ax.text(
                (low + high) / 2,
                rows_total - 1 - gap_after,
                f"⋯ {left_out} đơn vị khác ở giữa ⋯",
                va="center",
                ha="center",
                fontsize=8.5,
                color=NOTE,
                fontfamily=FONT,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 2},  # over the zero line
            )
        for bar, point in zip(bars, points, strict=True):
            down = point.value < 0
            ax.text(
                point.value + (-1 if down else 1) * span * 0.012,
                bar.get_y() + bar.get_height() / 2,
                point.text,
                va="center",
                ha="right" if down else "left",
                fontsize=9,
                fontfamily=FONT,
            )
        fig.suptitle(title, x=0.02, ha="left", fontsize=11, fontweight="bold", fontfamily=FONT)
        if notes:
            ax.set_title(notes, loc="left", fontsize=8.5, color=NOTE, fontfamily=FONT)
        fig.supxlabel(_wrap(FOOTER, 100), x=0.02, ha="left", fontsize=7.5, color=NOTE, fontfamily=FONT)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()

