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


async def _slot_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    slot: Slot = context.job.data  # type: ignore[union-attr,assignment]
    await get_service(context.application).run_slot(slot)


async def _startup_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    service = get_service(context.application)
    await service.rebuild_schedule()
    await service.catch_up()


async def _sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await get_service(context.application).catch_up()


def install_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """Queue the start-up job (runs once the JobQueue starts, i.e. in Application.start) and the
    periodic catch-up sweep."""
    job_queue = application.job_queue
    if job_queue is None:
        log.error("no JobQueue (install python-telegram-bot[job-queue]): digests are not scheduled")
        return
    job_queue.run_once(_startup_job, 0, name="digests:startup", job_kwargs={"misfire_grace_time": None})
    job_queue.run_repeating(
        _sweep_job,
        interval=SWEEP_INTERVAL,
        first=SWEEP_INTERVAL,
        name="digests:sweep",
        job_kwargs={"coalesce": True, "max_instances": 1},
    )
