"""The contract between packages: what a summary of one report is.

Every number a user sees comes from `Figure.text` or an item's `text`, both copied from the
cleaned report text; `source` spans let any item be traced back to where it came from.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Section = Literal["results", "shortcomings", "tasks", "other"]
SECTIONS: tuple[Section, ...] = ("results", "shortcomings", "tasks")


class Span(BaseModel):
    """Half-open character range [start, end) in the cleaned text (see `clean_text`)."""

    start: int
    end: int


class Item(BaseModel):
    """One idea of a section: a short clause in the report's own wording."""

    text: str
    source: list[Span] = Field(default_factory=list)
    engine: str = "extractive"


class Figure(BaseModel):
    """A number with its unit exactly as written ("8.458.730 triệu đồng", "77,9%", "13/18")."""

    text: str
    value: float | None = None  # parsed for comparisons/charts; never shown instead of `text`
    unit: str | None = None  # "triệu đồng", "%", "ha", ... when written
    label: str | None = None  # what it measures, when the sentence tells
    section: Section = "other"
    source: Span | None = None
    # a result, or a plan / target / change / share of a plan ("phấn đấu" figures are no results to chart)
    kind: Literal["actual", "plan", "target", "growth", "share"] | None = None
    period: str | None = None  # the period its clause gives ("9 tháng đầu năm 2023", "quý II"), when it does


class Summary(BaseModel):
    unit: str | None = None
    body: str | None = None
    meeting: str | None = None
    title: str | None = None
    date: dt.date | None = None  # `dt.`: a bare `date` would resolve to this field (None)
    period: str | None = None
    results: list[Item] = Field(default_factory=list)
    shortcomings: list[Item] = Field(default_factory=list)
    tasks: list[Item] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    engine: str = "extractive"
    engine_version: str = "0"

    def section(self, name: Section) -> list[Item]:
        return list(getattr(self, name)) if name in SECTIONS else []


class Rejection(BaseModel):
    """Why a text is not taken as a meeting report, in both languages (one line each)."""

    code: Literal["empty", "too_short", "not_vietnamese", "not_a_report", "binary"]
    vi: str
    en: str
