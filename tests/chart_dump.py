"""Keep the charts tests draw, to be looked at: with CHART_DUMP_DIR set (e.g. /tmp/charts), every
PNG a chart test renders is also written there under a name that says what it shows."""

from __future__ import annotations

import os
from pathlib import Path


def dump(png: bytes, name: str) -> None:
    folder = os.environ.get("CHART_DUMP_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.png").write_bytes(png)
