"""Pure text -> Summary. No I/O, no network, no database, no Telegram."""

from summariser._native import choose

# "compiled" (mypyc extensions built by setup.py) or "source"; decided before the modules load.
RUNS_FROM = choose()

from summariser.models import SECTIONS, Figure, Item, Rejection, Section, Span, Summary  # noqa: E402
from summariser.pipeline import ENGINE_VERSION, check_report, clean_text, summarise  # noqa: E402

__all__ = [
    "ENGINE_VERSION",
    "RUNS_FROM",
    "SECTIONS",
    "Figure",
    "Item",
    "Rejection",
    "Section",
    "Span",
    "Summary",
    "check_report",
    "clean_text",
    "summarise",
]
