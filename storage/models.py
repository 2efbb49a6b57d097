"""Pydantic models that storage takes and returns. No Telegram types here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from summariser.models import Summary

SourceKind = Literal["text", "forward", "document", "url"]
ReportState = Literal["received", "summarised", "failed"]
Role = Literal["admin", "member", "pending", "blocked"]
Cadence = Literal["weekly", "daily"]
ItemSection = Literal["results", "shortcomings", "tasks"]


class NewReport(BaseModel):
    """What the bot hands storage when a report arrives (before it is summarised)."""

    scope: int
    chat_id: int
    user_id: int | None = None
    source_kind: SourceKind = "text"
    forward_origin: str | None = None
    file_name: str | None = None
    url: str | None = None
    title: str | None = None
    text: str  # the cleaned text (summariser.clean_text); summary spans index into it
    received_at: datetime | None = None  # default: now (UTC)


class StoredReport(BaseModel):
    id: int
    scope: int
    chat_id: int
    user_id: int | None
    sha256: str
    received_at: datetime
    source_kind: SourceKind
    forward_origin: str | None = None
    file_name: str | None = None
    url: str | None = None
    title: str | None = None
    text: str
    state: ReportState
    error: str | None = None
    summary: Summary | None = None  # the newest summary, when there is one
    engine: str | None = None
    engine_version: str | None = None
    summarised_at: datetime | None = None

    @property
    def unit(self) -> str | None:
        return self.summary.unit if self.summary else None

    @property
    def meeting_date(self) -> date | None:
        return self.summary.date if self.summary else None


class SearchHit(BaseModel):
    report_id: int
    title: str | None
    unit: str | None
    meeting_date: date | None
    received_at: datetime
    snippet: str  # match marked with \x02 ... \x03 (the bot turns them into <b> after escaping)
    rank: float  # bm25, lower is better; 0.0 when the page is ordered newest first (storage.search)


class SearchPage(BaseModel):
    hits: list[SearchHit] = Field(default_factory=list)
    total: int = 0
    capped: bool = False  # more matches than were counted: `total` is a lower bound ("1000+")


class SectionItem(BaseModel):
    """One task/shortcoming/result across reports, with the report it came from."""

    report_id: int
    unit: str | None
    meeting_date: date | None
    received_at: datetime
    section: ItemSection
    text: str


class UnitCount(BaseModel):
    unit: str
    reports: int
    last_received: datetime


class User(BaseModel):
    id: int  # Telegram user id, or chat id for group chats
    role: Role = "pending"
    display_name: str | None = None
    default_unit: str | None = None
    language: str = "vi"
    created_at: datetime | None = None


class Subscription(BaseModel):
    chat_id: int
    cadence: Cadence = "weekly"
    weekday: int = 0  # 0 = Monday .. 6 = Sunday (ignored for daily)
    time_of_day: str = "07:30"  # HH:MM in `timezone`
    timezone: str = "Asia/Ho_Chi_Minh"
    active: bool = True
    skip_empty: bool = False  # send nothing for an empty period
    created_at: datetime | None = None


class Delivery(BaseModel):
    chat_id: int
    period_key: str  # e.g. "weekly:2026-11-23"
    state: Literal["claimed", "sent"]
    claimed_at: datetime
    sent_at: datetime | None = None
