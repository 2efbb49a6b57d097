"""Digest jobs run on the replica holding the "digests" lease only; a standby takes over."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.digests import jobs


class FakeRepo:
    def __init__(self, leader: bool) -> None:
        self.leader = leader

    async def hold_lease(self, name: str) -> bool:
        assert name == jobs.LEASE
        return self.leader


class FakeService:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def rebuild_schedule(self) -> set[Any]:
        self.calls.append("rebuild")
        return set()

    async def catch_up(self) -> None:
        self.calls.append("catch_up")

    async def run_slot(self, slot: Any) -> None:
        self.calls.append(f"slot {slot}")


def _context(repo: FakeRepo, service: FakeService) -> Any:
    application = SimpleNamespace(bot_data={"repo": repo, jobs.SERVICE_KEY: service})
    return SimpleNamespace(application=application, job=SimpleNamespace(data="weekly-mon-07:30"))


async def test_a_standby_does_nothing_until_it_takes_the_lease() -> None:
    repo, service = FakeRepo(leader=False), FakeService()
    context = _context(repo, service)
    await jobs._startup_job(context)
    await jobs._slot_job(context)
    await jobs._sweep_job(context)
    await jobs._lease_job(context)
    assert service.calls == []
    repo.leader = True  # the leader died: its lock is free and this replica got it
    await jobs._lease_job(context)
    assert service.calls == ["rebuild", "catch_up"]
    await jobs._lease_job(context)  # already leading: nothing more
    await jobs._slot_job(context)
    assert service.calls == ["rebuild", "catch_up", "slot weekly-mon-07:30"]


async def test_the_leader_runs_its_start_up() -> None:
    service = FakeService()
    context = _context(FakeRepo(leader=True), service)
    await jobs._startup_job(context)
    await jobs._lease_job(context)  # the start-up made it leader: no second catch-up
    assert service.calls == ["rebuild", "catch_up"]
