"""This process as one replica among others on one database (issue 14).

Behind a reverse proxy each replica handles the updates it is given; a crash leaves inbox rows
written (Telegram was answered) but never handled, and reports stored but not summarised or not
answered. Those belong to the replica that wrote them: start-up replay used to take every one,
so a replica restarting next to a live one handled the live one's work a second time. Now each
process start registers a replica with a lease in the database (`Repository.join_replicas`),
renews it every third of `BOT_REPLICA_LEASE`, and takes over (`Repository.take_over`) only the
work of replicas whose lease has run out: at start-up, then at every renewal. A replica killed
for good has its work taken within one lease and a third; one started again under the same
`BOT_REPLICA_NAME` ends its earlier process's lease at once and takes its leftovers at start-up.

The lease is renewed by a task of its own: handling taken-over work never delays it. A replica
that cannot renew (database unreachable) for a whole lease may see its rows taken by another
while it still handles them: at-least-once then, as after any crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage import Repository
from storage.repository import Orphans

log = logging.getLogger(__name__)

Resume = Callable[[Orphans], Awaitable[None]]


class ReplicaLease:
    """Join, renew, take over, leave: see the module docstring. `resume` handles taken-over work
    (`bot.app._resume`); `spawn` runs it as a task the shutdown drain waits for."""

    def __init__(self, repo: Repository, lease: float, name: str | None, resume: Resume,
                 spawn: Callable[[Awaitable[None]], asyncio.Task[None]]) -> None:
        self.repo = repo
        self.lease = lease
        self.name = name
        self._resume = resume
        self._spawn = spawn
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def every(self) -> float:
        return self.lease / 3

    async def join(self) -> Orphans:
        """Register this process (before it writes any inbox row: those are its own) and take
        what dead replicas left, its own earlier process included."""
        await self.repo.join_replicas(self.lease, self.name)
        return await self.repo.take_over()

    def start(self, first: Orphans) -> None:
        """Handle `first` (what `join` took) and, on PostgreSQL, keep renewing the lease and taking
        over what stopped replicas leave, in the background."""
        if self.repo.backend == "sqlite":  # one process per file: nobody else leaves work behind
            self._spawn(self._resume(first))
            return
        self._tasks = [asyncio.create_task(self._renew()), asyncio.create_task(self._take_over(first))]

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.repo.renew_lease(self.lease)
            except Exception:
                log.exception("renewing this replica's lease failed")

    async def _take_over(self, first: Orphans) -> None:
        orphans: Orphans | None = first
        while True:
            if orphans is not None and (orphans.inbox or orphans.pending or orphans.unreplied or orphans.in_doubt):
                log.info("taking over %d inbox row(s), %d unsummarised and %d unanswered report(s)",
                         len(orphans.inbox), len(orphans.pending), len(orphans.unreplied))
                # shielded: stopping the watch must not cancel work that the drain waits for
                await asyncio.shield(self._spawn(self._resume(orphans)))
            await asyncio.sleep(self.every)
            try:
                orphans = await self.repo.take_over()
            except Exception:
                log.exception("taking over the work of stopped replicas failed")
                orphans = None

    async def stop_watching(self) -> None:
        """Stop renewing and taking over (work already taken goes on: the drain waits for it)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def leave(self) -> None:
        """End the lease now (a clean stop, after the drain): what is left is taken over at once."""
        try:
            await self.repo.leave_replicas()
        except Exception:
            log.exception("ending this replica's lease failed (it runs out by itself)")
