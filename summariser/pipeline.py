"""Placeholder pipeline: the public signatures the other packages code against.

The summariser issue replaces the bodies; the signatures stay.
"""

from __future__ import annotations

import unicodedata

from summariser.models import Rejection, Summary

ENGINE_VERSION = "0.1"


def clean_text(text: str) -> str:
    """Normalise (NFC, tone placement, whitespace) and strip web boilerplate.

    Deterministic: `Item.source` spans of `summarise(text)` index into `clean_text(text)`.
    """
    return unicodedata.normalize("NFC", text).strip()


def check_report(text: str) -> Rejection | None:
    """None when `text` looks like a Vietnamese meeting report, else why not."""
    if not text.strip():
        return Rejection(code="empty", vi="Văn bản trống.", en="The text is empty.")
    return None


def summarise(text: str, *, title: str | None = None) -> Summary:
    """Structured summary of one report; never raises on arbitrary text."""
    return Summary(title=title, engine_version=ENGINE_VERSION)
