"""Bar chart comparing units on one figure, as PNG bytes.

matplotlib is imported here, lazily, and only the object API with the Agg canvas is used (no
pyplot global state), so drawing is safe in a worker thread and start-up never pays for it.
The value axis carries no tick numbers: the only numbers on the picture are the figures as the
reports wrote them, printed next to their bars.
"""

from __future__ import annotations

import io
import textwrap
import threading

from bot.digests.content import ChartSpec

_LOCK = threading.Lock()  # font cache and rcParams are shared; draw one chart at a time


def render_chart(spec: ChartSpec) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = spec.points
    labels = [textwrap.fill(p.unit, 24) for p in points]
    values = [max(p.value, 0.0) for p in points]
    height = 1.2 + 0.55 * len(points)
    with _LOCK:
        fig = Figure(figsize=(7.5, height), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        positions = list(range(len(points)))[::-1]  # first unit on top
        bars = ax.barh(positions, values, color="#2a6fb0", height=0.6)
        ax.set_yticks(positions, labels=labels, fontsize=9)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        top = max(values) if values and max(values) > 0 else 1.0
        ax.set_xlim(0, top * 1.22)
        for bar, point in zip(bars, points, strict=True):
            ax.text(
                bar.get_width() + top * 0.01,
                bar.get_y() + bar.get_height() / 2,
                point.text,
                va="center",
                ha="left",
                fontsize=9,
            )
        ax.set_title(spec.title, fontsize=11, loc="left")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()
