"""Pure text -> Summary. No I/O, no network, no database, no Telegram."""

from summariser.models import SECTIONS, Figure, Item, Rejection, Section, Span, Summary
from summariser.pipeline import ENGINE_VERSION, check_report, clean_text, summarise

__all__ = [
    "ENGINE_VERSION",
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
