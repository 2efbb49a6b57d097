"""When digests are due: occurrences, period keys and windows, in the subscriber's time zone.

Everything here is pure and takes `now` as an argument, so tests drive time. A `Slot` is what a
cron job is keyed on: all subscriptions with the same cadence, day, time and zone share one job
that fans out to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from storage.models import Subscription

DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
PERIOD_DAYS = {"weekly": 7, "daily": 1}


def parse_hhmm(value: str) -> tuple[int, int]:
    """ "07:30" → (7, 30); ValueError for anything else."""
    hh, sep, mm = value.strip().partition(":")
    if not sep or not (hh.isascii() and hh.isdigit()) or not (mm.isascii() and mm.isdigit()) \
            or len(mm) != 2 or len(hh) > 2:
        raise ValueError(f"not a time of day: {value!r}")
    hour, minute = int(hh), int(mm)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"not a time of day: {value!r}")
    return hour, minute


@dataclass(frozen=True)
class Slot:
    cadence: str  # "weekly" | "daily"
    weekday: int | None  # 0 = Monday; None for daily
    hour: int
    minute: int
    timezone: str

    @classmethod
    def of(cls, sub: Subscription) -> Slot:
        hour, minute = parse_hhmm(sub.time_of_day)
        weekday = sub.weekday if sub.cadence == "weekly" else None
        return cls(sub.cadence, weekday, hour, minute, sub.timezone)

    @property
    def key(self) -> str:
        day = DAY_CODES[self.weekday] if self.weekday is not None else "*"
        return f"{self.cadence}:{day}:{self.hour:02d}:{self.minute:02d}:{self.timezone}"

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def latest(self, now: datetime) -> datetime:
        """The newest occurrence at or before `now`, as an aware datetime in the slot's zone."""
        local = now.astimezone(self.tz)
        candidate = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if self.weekday is not None:
            candidate -= timedelta(days=(local.weekday() - self.weekday) % 7)
        # Compare instants, not wall clocks (same-tzinfo comparisons ignore the UTC offset).
        step = timedelta(days=PERIOD_DAYS[self.cadence])
        while _utc(candidate) > _utc(now):
            candidate = (candidate - step).replace(hour=self.hour, minute=self.minute)
        return candidate

    def next_after(self, now: datetime) -> datetime:
        """The first occurrence strictly after `now` (in the slot's zone)."""
        step = timedelta(days=PERIOD_DAYS[self.cadence])
        candidate = self.latest(now)
        while _utc(candidate) <= _utc(now):
            candidate = (candidate + step).replace(hour=self.hour, minute=self.minute)
        return candidate

    def trigger(self):  # -> apscheduler CronTrigger (imported lazily with the scheduler)
        from apscheduler.triggers.cron import CronTrigger

        day = DAY_CODES[self.weekday] if self.weekday is not None else "*"
        return CronTrigger(day_of_week=day, hour=self.hour, minute=self.minute, timezone=self.tz)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def period_key(cadence: str, occurrence: datetime) -> str:
    """ "weekly:2026-11-23": the cadence and the local date of the occurrence the digest is for."""
    return f"{cadence}:{occurrence.date().isoformat()}"


def period_window(cadence: str, occurrence: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC: the week (or day) that ends at the occurrence, in local wall time."""
    start = occurrence - timedelta(days=PERIOD_DAYS[cadence])  # wall-clock arithmetic in the zone
    return _utc(start), _utc(occurrence)


@dataclass(frozen=True)
class Due:
    """One digest to deliver: a subscription and the occurrence it is for."""

    sub: Subscription
    occurrence: datetime

    @property
    def key(self) -> str:
        return period_key(self.sub.cadence, self.occurrence)

    @property
    def window(self) -> tuple[datetime, datetime]:
        return period_window(self.sub.cadence, self.occurrence)


def latest_due(sub: Subscription, now: datetime) -> Due | None:
    """The newest occurrence the subscription was due for at `now`; None if it was created after
    that occurrence (a new subscriber gets their first digest at the next occurrence)."""
    occurrence = Slot.of(sub).latest(now)
    if sub.created_at is not None:
        created = sub.created_at if sub.created_at.tzinfo else sub.created_at.replace(tzinfo=UTC)
        if created > occurrence:
            return None
    return Due(sub, occurrence)


def describe(sub: Subscription) -> str:
    """ "hằng tuần, thứ Hai lúc 07:30 (Asia/Ho_Chi_Minh)" for replies."""
    when = f"lúc {sub.time_of_day}"
    if sub.cadence == "daily":
        return f"hằng ngày {when} (giờ {sub.timezone})"
    return f"hằng tuần, {DAY_NAMES_VI[sub.weekday]} {when} (giờ {sub.timezone})"
