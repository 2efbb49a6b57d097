"""PTB glue: the digest service in bot_data, its cron jobs in the JobQueue, the start-up hook.

One JobQueue job per schedule slot (cadence, day, time, zone), named "digest:<slot key>", with an
APScheduler CronTrigger in the slot's time zone; the set of jobs is re-synced from the database
at start-up and whenever a subscription changes. A start-up job then sends what was missed while
the bot was down (within the grace window): chats never claimed and chats a dead process claimed
but had not started sending to; those whose send may have gone out are logged, not resent (see
bot.digests.service). A periodic sweep retries released claims.

The sender sends through the application's bot, whose `bot.ratelimit.ChatRateLimiter` paces the
digests together with the replies (digests at BULK priority: a user's /help does not queue behind
a 10,000-chat fan-out) and pauses only the chat a 429 names.

Replicas on one PostgreSQL database: only the holder of the "digests" lease runs these jobs;
the others try the lease every LEASE_INTERVAL and take over when the holder is gone.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram.ext import Application, ContextTypes, JobQueue

from bot.digests.delivery import PacedSender
from bot.digests.schedule import Slot
from bot.digests.service import DigestService

log = logging.getLogger(__name__)

SERVICE_KEY = "digests"
JOB_PREFIX = "digest:"
SWEEP_INTERVAL = timedelta(minutes=15)
LEASE = "digests"
LEADER_KEY = "digests:leader"
# how often a standby replica tries the lease: a dead leader's digests go on within ~this
LEASE_INTERVAL = timedelta(seconds=10)


def _grace(application: Application) -> timedelta:  # type: ignore[type-arg]
    settings = application.bot_data.get("settings")
    return timedelta(hours=float(getattr(settings, "digest_grace_hours", 24)))


def get_service(application: Application) -> DigestService:  # type: ignore[type-arg]
    """The application's digest service, created on first use (the repository is opened in
    post_init, after `register` ran)."""
    service: DigestService | None = application.bot_data.get(SERVICE_KEY)
    if service is None:
        repo = application.bot_data["repo"]
        service = DigestService(
            repo,
            PacedSender(application.bot),
            grace=_grace(application),
            keep_going=lambda: application.running,
            on_schedule_change=lambda slots: sync_jobs(application.job_queue, slots, _grace(application)),
        )
        application.bot_data[SERVICE_KEY] = service
    return service


def sync_jobs(job_queue: JobQueue[Any] | None, slots: set[Slot], grace: timedelta) -> None:
    """Make the JobQueue hold exactly one cron job per slot."""
    if job_queue is None:
        log.error("no JobQueue (install python-telegram-bot[job-queue]): digests are not scheduled")
        return
    wanted = {JOB_PREFIX + slot.key: slot for slot in slots}
    current = {job.name: job for job in job_queue.jobs() if job.name and job.name.startswith(JOB_PREFIX)}
    for name, job in current.items():
        if name not in wanted:
            job.schedule_removal()
    for name, slot in wanted.items():
        if name in current:
            continue
        job_queue.run_custom(
            _slot_job,
            job_kwargs={
                "trigger": slot.trigger(),
                "misfire_grace_time": max(1, int(grace.total_seconds())),
                "coalesce": True,
                "max_instances": 1,
            },
            data=slot,
            name=name,
        )


async def leading(application: Application) -> bool:  # type: ignore[type-arg]
    """Whether this replica schedules and sends digests: it holds the database's "digests" lease
    (Repository.hold_lease: always on SQLite; on PostgreSQL one replica at a time)."""
    hold = getattr(application.bot_data.get("repo"), "hold_lease", None)
    leader = True if hold is None else await hold(LEASE)
    application.bot_data[LEADER_KEY] = leader
    return leader


async def _slot_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await leading(context.application):
        return
    slot: Slot = context.job.data  # type: ignore[union-attr,assignment]
    await get_service(context.application).run_slot(slot)


async def _startup_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await leading(context.application):
        log.info("another replica holds the digest lease: this one only stands by")
        return
    service = get_service(context.application)
    await service.rebuild_schedule()
    await service.catch_up()


async def _sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    if await leading(context.application):
        await get_service(context.application).catch_up()


async def _lease_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A standby replica takes the lease when the leader is gone (its connection closed), then
    does what the leader's start-up did: the schedule, and the digests missed meanwhile (claimed
    but unconfirmed ones are never resent)."""
    was = context.application.bot_data.get(LEADER_KEY, False)
    if await leading(context.application) and not was:
        log.info("took over the digest lease")
        service = get_service(context.application)
        await service.rebuild_schedule()
        await service.catch_up()


def install_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """Queue the start-up job (runs once the JobQueue starts, i.e. in Application.start) and the
    periodic catch-up sweep."""
    job_queue = application.job_queue
    if job_queue is None:
        log.error("no JobQueue (install python-telegram-bot[job-queue]): digests are not scheduled")
        return
    job_queue.run_once(_startup_job, 0, name="digests:startup", job_kwargs={"misfire_grace_time": None})
    job_queue.run_repeating(
        _lease_job,
        interval=LEASE_INTERVAL,
        first=LEASE_INTERVAL,
        name="digests:lease",
        job_kwargs={"coalesce": True, "max_instances": 1},
    )
    job_queue.run_repeating(
        _sweep_job,
        interval=SWEEP_INTERVAL,
        first=SWEEP_INTERVAL,
        name="digests:sweep",
        job_kwargs={"coalesce": True, "max_instances": 1},
    )
