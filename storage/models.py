"""Pydantic models that storage takes and returns. No Telegram types here."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

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
    # The report's unit and meeting date as the lists show them: the summary's, or what an official
    # set (a set_unit / set_date correction); None when the report was not read from the database.
    listed: tuple[str | None, date | None] | None = None

    @property
    def unit(self) -> str | None:
        if self.summary is None:
            return None
        return self.listed[0] if self.listed is not None else self.summary.unit

    @property
    def meeting_date(self) -> date | None:
        if self.summary is None:
            return None
        return self.listed[1] if self.listed is not None else self.summary.date


class SearchHit(BaseModel):
    report_id: int
    title: str | None
    unit: str | None
    meeting_date: date | None
    received_at: datetime
    meeting_name: str | None = None  # the meeting the summary names, for the list line
    snippet: str  # a few words of `sentence` around the first match, marked the same way
    rank: float  # bm25, lower is better; 0.0 when the page is ordered newest first (storage.search)
    # the report's sentence holding the query (its phrase first), matches marked with \x02 ... \x03
    # (the bot turns them into <b> after escaping); cut with '…' when longer than search.SENTENCE_CHARS
    sentence: str = ""


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
    state: Literal["claimed", "sending", "sent"]  # claimed: nothing sent yet; sending: may have gone out
    claimed_at: datetime
    sent_at: datetime | None = None
    note: str | None = None  # why a 'sending' row is in doubt


ReplyState = Literal["unsent", "sending", "sent"]


class ReplyAttempt(BaseModel):
    """The record of a report's reply (its brief): 'sending' is written before the request goes
    out, so a crash leaves it saying the reply may have reached the chat (never sent twice);
    'unsent' after a refusal Telegram did not act on (sent again at start-up)."""

    report_id: int
    chat_id: int
    state: ReplyState
    attempted_at: datetime
    replied_at: datetime | None = None
    message_id: int | None = None  # Telegram's id of the brief, once 'sent'
    note: str | None = None  # why a 'sending' row is in doubt, or why the send was refused


CorrectionKind = Literal["move", "drop", "set_unit", "set_date", "set_period", "merge"]
ITEM_KINDS: tuple[CorrectionKind, ...] = ("move", "drop")


class Correction(BaseModel):
    """One fix an official made to a report's summary (storage.corrections applies them).

    move/drop name the item by its section, index and text in the summary the official saw: the
    text finds it again in a later summary whose items came out in another order. `value` is the
    new section (move), the unit or period (set_unit/set_period), 'YYYY-MM-DD' (set_date; None
    clears a unit/date/period), or the id of the report merged into this one (merge)."""

    id: int | None = None
    report_id: int
    scope: int
    user_id: int | None = None
    created_at: datetime | None = None
    kind: CorrectionKind
    section: ItemSection | None = None
    index: int | None = None
    item_text: str | None = None
    value: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Correction:
        """Refuse a correction that could never be applied, before it is stored."""
        if self.kind in ITEM_KINDS and (self.section is None or not self.item_text):
            raise ValueError(f"{self.kind}: the item's section and text are needed")
        if self.kind == "move" and self.value not in ("results", "shortcomings", "tasks"):
            raise ValueError(f"move: unknown target section {self.value!r}")
        if self.kind == "set_date" and self.value is not None:
            date.fromisoformat(self.value)  # ValueError when it is no YYYY-MM-DD date
        if self.kind == "merge" and not re.fullmatch(r"[0-9]+", self.value or ""):
            raise ValueError(f"merge: the merged report's id is needed, not {self.value!r}")
        return self


class Feedback(BaseModel):
    """One official's 👍 (+1) or 👎 (-1) on a report's summary; the newest vote counts."""

    report_id: int
    user_id: int
    vote: Literal[-1, 1]
    created_at: datetime


class FeedbackTally(BaseModel):
    up: int = 0
    down: int = 0
    votes: list[Feedback] = Field(default_factory=list)  # oldest vote first

    def of(self, user_id: int) -> int:
        """The user's vote (+1/-1), 0 when they have not voted."""
        return next((v.vote for v in self.votes if v.user_id == user_id), 0)


class SenderTail(BaseModel):
    """A sender's last text report, kept a few seconds so that a continuation can join it, in
    the database (`Repository.put_tail`): the next piece of a split paste may reach another
    replica.

    `texts` ends with the last piece (what a continuation is judged against); while `report_id`
    is None (a long first piece refused on its own) it holds every piece, read again together
    with a continuation. `reply` holds the ids of the messages that answered it, which the
    answer to the joined report overwrites (edits), whichever replica sent them."""

    report_id: int | None
    origin: str | None
    texts: list[str]
    message_id: int
    date: float  # Telegram's date of the last piece (whole seconds since the epoch)
    chars: int
    reply: list[int] = Field(default_factory=list)
    pieces: int = 1  # messages in the report so far
