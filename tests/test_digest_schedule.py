"""Digest schedule: occurrences, period keys and windows across time zones, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digests.schedule import Slot, latest_due, parse_hhmm, period_key, period_window
from storage import Subscription

HCM = "Asia/Ho_Chi_Minh"


def sub(**kw: object) -> Subscription:
    base: dict[str, object] = {"chat_id": 1, "created_at": datetime(2020, 1, 1, tzinfo=UTC)}
    base.update(kw)
    return Subscription(**base)  # type: ignore[arg-type]


def test_weekly_next_and_latest_in_ho_chi_minh() -> None:
    slot = Slot.of(sub())  # defaults: weekly, Monday 07:30, Asia/Ho_Chi_Minh
    # Wednesday 2026-11-25 10:00 local = 03:00 UTC
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    nxt = slot.next_after(now)
    assert (nxt.year, nxt.month, nxt.day, nxt.hour, nxt.minute) == (2026, 11, 30, 7, 30)
    assert nxt.weekday() == 0
    assert nxt.astimezone(UTC) == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    latest = slot.latest(now)
    assert latest.astimezone(UTC) == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    assert period_key("weekly", latest) == "weekly:2026-11-23"


def test_occurrence_exactly_now_is_latest_and_not_next() -> None:
    slot = Slot.of(sub())
    at = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # Monday 07:30 in Hanoi time
    assert slot.latest(at).astimezone(UTC) == at
    assert slot.next_after(at).astimezone(UTC) == at + timedelta(days=7)
    just_before = at - timedelta(seconds=1)
    assert slot.latest(just_before).astimezone(UTC) == at - timedelta(days=7)


def test_period_key_uses_the_subscribers_local_date() -> None:
    # Monday 07:30 in Ho Chi Minh is still Sunday in UTC; Monday 00:30 in Los Angeles is Monday
    # 08:30 UTC. The key names the subscriber's own day in both cases.
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    hcm = Slot.of(sub(time_of_day="00:30"))  # Monday 00:30 HCM = Sunday 17:30 UTC
    assert hcm.latest(now).astimezone(UTC) == datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    assert period_key("weekly", hcm.latest(now)) == "weekly:2026-11-23"
    la = Slot.of(sub(time_of_day="00:30", timezone="America/Los_Angeles"))
    assert la.latest(now).astimezone(UTC) == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert period_key("weekly", la.latest(now)) == "weekly:2026-11-23"


@pytest.mark.parametrize(
    "tz",
    ["Asia/Ho_Chi_Minh", "UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kathmandu"],
)
@pytest.mark.parametrize(
    "cadence,weekday,hhmm", [("weekly", 0, "07:30"), ("weekly", 6, "23:45"), ("daily", 0, "06:00")]
)
def test_next_run_matches_apscheduler_cron(tz: str, cadence: str, weekday: int, hhmm: str) -> None:
    """Our pure computation agrees with the CronTrigger the JobQueue uses, over a year of
    instants (including DST changes in Berlin, New York and Sydney)."""
    slot = Slot.of(sub(cadence=cadence, weekday=weekday, time_of_day=hhmm, timezone=tz))
    trigger = slot.trigger()
    now = datetime(2026, 1, 1, 5, 17, tzinfo=UTC)
    for _ in range(60):
        ours = slot.next_after(now)
        theirs = trigger.get_next_fire_time(None, now.astimezone(ZoneInfo(tz)))
        assert ours.astimezone(UTC) == theirs.astimezone(UTC), (now, ours, theirs)
        assert slot.latest(ours + timedelta(seconds=1)).astimezone(UTC) == ours.astimezone(UTC)
        now = now + timedelta(days=6, hours=7, minutes=13)


def test_daily_across_dst_keeps_local_wall_time() -> None:
    slot = Slot.of(sub(cadence="daily", time_of_day="07:30", timezone="Europe/Berlin"))
    # Berlin leaves summer time on 2026-10-25 (03:00 CEST -> 02:00 CET).
    before = slot.latest(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    after = slot.latest(datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert (before.hour, before.minute, after.hour, after.minute) == (7, 30, 7, 30)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=25)
    start, end = period_window("daily", after)
    assert end - start == timedelta(hours=25)  # the local day was 25 hours long
    assert start == before.astimezone(UTC)


def test_weekly_window_is_the_seven_days_before_the_occurrence() -> None:
    occurrence = datetime(2026, 11, 23, 7, 30, tzinfo=ZoneInfo(HCM))
    start, end = period_window("weekly", occurrence)
    assert end == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    assert start == datetime(2026, 11, 16, 0, 30, tzinfo=UTC)


def test_new_subscriber_is_not_due_for_an_occurrence_before_it_subscribed() -> None:
    created = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday
    s = sub(created_at=created)
    assert latest_due(s, datetime(2026, 11, 26, tzinfo=UTC)) is None
    due = latest_due(s, datetime(2026, 12, 1, tzinfo=UTC))
    assert due is not None and due.key == "weekly:2026-11-30"
    # a naive created_at is taken as UTC (what storage gives for legacy rows)
    naive = sub(created_at=created.replace(tzinfo=None))
    assert latest_due(naive, datetime(2026, 11, 26, tzinfo=UTC)) is None


def test_slots_group_subscriptions_with_the_same_schedule() -> None:
    a = Slot.of(sub(chat_id=1, weekday=0, time_of_day="07:30"))
    b = Slot.of(sub(chat_id=2, weekday=0, time_of_day="07:30"))
    c = Slot.of(sub(chat_id=3, weekday=1, time_of_day="07:30"))
    d1 = Slot.of(sub(chat_id=4, cadence="daily", weekday=3))
    d2 = Slot.of(sub(chat_id=5, cadence="daily", weekday=5))
    assert a == b and a != c
    assert d1 == d2  # the weekday of a daily subscription is ignored
    assert len({a, b, c, d1, d2}) == 3
    assert a.key == "weekly:mon:07:30:Asia/Ho_Chi_Minh" and d1.key.startswith("daily:*:")


@pytest.mark.parametrize("bad", ["7", "24:00", "07:60", "7:5", "ab:cd", "07-30", ""])
def test_parse_hhmm_rejects_bad_times(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_hhmm(bad)


def test_parse_hhmm() -> None:
    assert parse_hhmm("07:30") == (7, 30)
    assert parse_hhmm("0:00") == (0, 0)
    assert parse_hhmm("23:59") == (23, 59)
