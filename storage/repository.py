"""Async repository over SQLite (aiosqlite). The contract the bot codes against.

Every read of report data takes the caller's `scope`; nothing crosses scopes.
Bodies are filled in by the storage issue; signatures are the contract.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from storage.models import (
    Delivery,
    ItemSection,
    NewReport,
    Role,
    SearchPage,
    SectionItem,
    StoredReport,
    Subscription,
    UnitCount,
    User,
)
from summariser.models import Summary


class Repository:
    @classmethod
    async def open(cls, path: str | Path = "data/bot.sqlite3") -> Repository:
        """Open (creating the folder and file), set WAL/foreign keys/busy timeout, migrate."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    # --- reports -----------------------------------------------------------------------------
    async def add_report(self, new: NewReport) -> tuple[StoredReport, bool]:
        """Store a report before summarising. Returns (report, created); a duplicate (same
        normalised-text sha256 in the scope) returns the existing report and False."""
        raise NotImplementedError

    async def save_summary(self, report_id: int, summary: Summary) -> None:
        """Store a summary in its own transaction (engine/version from the Summary); the newest
        wins, older ones are kept. Marks the report summarised."""
        raise NotImplementedError

    async def mark_failed(self, report_id: int, error: str) -> None:
        raise NotImplementedError

    async def get_report(self, scope: int, report_id: int) -> StoredReport | None:
        raise NotImplementedError

    async def delete_report(self, scope: int, report_id: int) -> bool:
        raise NotImplementedError

    async def latest(self, scope: int, n: int = 5) -> list[StoredReport]:
        raise NotImplementedError

    async def by_unit(self, scope: int, unit_query: str, limit: int = 20) -> list[StoredReport]:
        """Accent-insensitive match on the summary's unit ("gia loc" finds "huyện Gia Lộc"),
        newest meeting first."""
        raise NotImplementedError

    async def by_date_range(
        self, scope: int, start: date | None = None, end: date | None = None, limit: int = 100
    ) -> list[StoredReport]:
        """Reports whose meeting date lies in [start, end] (inclusive; None = open)."""
        raise NotImplementedError

    async def by_period(self, scope: int, period_query: str, limit: int = 100) -> list[StoredReport]:
        """Reports whose period matches (accent-insensitive substring: "6 thang dau nam 2024")."""
        raise NotImplementedError

    async def received_between(
        self, scope: int, start: datetime, end: datetime, limit: int = 10_000
    ) -> list[StoredReport]:
        """Summarised reports received in [start, end) (for digests)."""
        raise NotImplementedError

    async def section_items(
        self,
        scope: int,
        section: ItemSection,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        unit_query: str | None = None,
        limit: int = 500,
    ) -> list[SectionItem]:
        """Items of one section across the scope's reports received in [since, until)."""
        raise NotImplementedError

    async def unit_counts(self, scope: int) -> list[UnitCount]:
        raise NotImplementedError

    async def pending_reports(self) -> list[StoredReport]:
        """Reports in state `received` in every scope (to complete after a crash)."""
        raise NotImplementedError

    async def search(self, scope: int, query: str, limit: int = 5, offset: int = 0) -> SearchPage:
        """FTS5 (bm25) over title, text and summary items; diacritics- and đ-insensitive; user
        input is never FTS syntax; the last word matches as a prefix."""
        raise NotImplementedError

    # --- users and scopes ----------------------------------------------------------------------
    async def get_user(self, user_id: int) -> User | None:
        raise NotImplementedError

    async def ensure_user(self, user_id: int, display_name: str | None, role: Role) -> tuple[User, bool]:
        """Create with `role` when unknown (returns created=True); never changes an existing role."""
        raise NotImplementedError

    async def set_role(self, user_id: int, role: Role) -> User | None:
        raise NotImplementedError

    async def list_users(self, role: Role | None = None) -> list[User]:
        raise NotImplementedError

    async def update_user(self, user: User) -> None:
        """Display name, default unit, language."""
        raise NotImplementedError

    async def scope_of_chat(self, chat_id: int) -> int:
        """The scope a chat's reports belong to: the chat itself unless joined to another."""
        raise NotImplementedError

    async def join_scope(self, chat_id: int, scope: int) -> None:
        """Admin: make `chat_id` share `scope` (an organisation scope)."""
        raise NotImplementedError

    # --- subscriptions and deliveries ------------------------------------------------------------
    async def upsert_subscription(self, sub: Subscription) -> Subscription:
        raise NotImplementedError

    async def get_subscription(self, chat_id: int) -> Subscription | None:
        raise NotImplementedError

    async def active_subscriptions(self) -> list[Subscription]:
        raise NotImplementedError

    async def deactivate_subscription(self, chat_id: int) -> None:
        raise NotImplementedError

    async def claim_delivery(self, chat_id: int, period_key: str) -> bool:
        """Insert (chat, period) as claimed; False when a row already exists (never send twice)."""
        raise NotImplementedError

    async def mark_delivered(self, chat_id: int, period_key: str) -> None:
        raise NotImplementedError

    async def release_delivery(self, chat_id: int, period_key: str) -> None:
        """Drop a claim whose send failed for good, so a later run may try again."""
        raise NotImplementedError

    async def get_delivery(self, chat_id: int, period_key: str) -> Delivery | None:
        raise NotImplementedError

    async def deliveries(self, chat_id: int | None = None) -> list[Delivery]:
        raise NotImplementedError
