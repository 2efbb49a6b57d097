"""The Application, built in one place; handlers registered in one function.

Shared services live in `application.bot_data`: "settings" (Settings), "repo" (Repository),
"engine" (summariser engine), "tz" (ZoneInfo), and "ingest" (the merge buffers and report tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.buttons import FIELD_REPLY, on_button, on_field_reply, on_unknown_button
from bot.buttons import PATTERN as BUTTON_PATTERN
from bot.commands import COMMANDS, HANDLERS, cmd_unknown
from bot.config import Settings
from bot.ingest import (
    Ingestor,
    IntakeBot,
    make_process_pool,
    on_document,
    on_other,
    on_photo,
    on_text,
    shared_extractor,
    warm_worker,
)
from bot.ratelimit import ChatRateLimiter, may_have_been_sent
from bot.replicas import ReplicaLease
from bot.replies import send_html
from storage import Repository
from storage.repository import Orphans
from summariser.engines import get_engine

log = logging.getLogger(__name__)


def make_engine(settings: Settings) -> Any:
    options: dict[str, object] = {}
    if settings.engine == "transformers":
        if settings.model:
            options["model"] = settings.model
        options["device"] = settings.device
    return get_engine(settings.engine, **options)


async def post_init(application: Application) -> None:  # type: ignore[type-arg]
    """Open the repository (unless one was given), register the command menu, and complete
    reports a crash left unsummarised (in the background, so polling starts at once)."""
    settings: Settings = application.bot_data["settings"]
    if settings.access != "open" and not settings.admins:
        log.warning("BOT_ACCESS=%s but BOT_ADMINS is empty: nobody can approve new users", settings.access)
    if application.bot_data.get("repo") is None:
        application.bot_data["repo"] = await Repository.open(settings.database)
        application.bot_data["own_repo"] = True
    extra: list[tuple[str, str]] = application.bot_data.get("extra_commands", [])
    commands = [BotCommand(name, desc) for name, desc in [*COMMANDS, *extra]]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as exc:
        log.warning("setMyCommands failed (the command menu may be stale): %s", exc)
    if isinstance(application.bot, IntakeBot):
        application.bot._intake_repo = application.bot_data["repo"]
    ingest: Ingestor = application.bot_data["ingest"]
    ingest.start_pruning()  # done inbox rows older than BOT_INBOX_KEEP_DAYS: now, then daily
    pool = application.bot_data.get("executor")
    if pool is not None:
        ingest.spawn(_warm_workers(pool, settings.workers))
    # this process joins as a replica before it writes an inbox row (those are its own, never
    # taken twice) and takes only what stopped replicas left (bot.replicas), now and periodically
    replica = ReplicaLease(ingest.repo, settings.replica_lease, settings.replica_name,
                           partial(_resume, ingest), ingest.spawn)
    application.bot_data["replica"] = replica
    replica.start(await replica.join())
    await ingest.repo.open_sender_locks()  # (PostgreSQL: the per-sender order across replicas)
    limiter = application.bot.rate_limiter
    if isinstance(limiter, ChatRateLimiter) and ingest.repo.backend == "postgresql":
        limiter.share_budget(ingest.repo.take_send_slot)  # 30 msg/s across every replica, not each


async def _resume(ingest: Ingestor, left: Orphans) -> None:
    """What stopped replicas (this one's earlier process included) left, now this replica's:
    summarise stored-but-unsummarised reports, send lost replies and log those cut off while being
    sent (not resent: they may have gone out), then handle the inbox rows (one after the other, so
    no report is summarised twice)."""
    await ingest.complete_pending(left.pending, left.unreplied, left.in_doubt)
    try:
        await ingest.replay_inbox(left.inbox)
    except Exception:
        log.exception("replaying the inbox failed")


async def _warm_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    loop = asyncio.get_running_loop()
    try:
        pids = await asyncio.gather(*(loop.run_in_executor(pool, warm_worker) for _ in range(workers)))
        log.info("summariser worker processes ready: %s", sorted(set(pids)))
    except Exception:
        log.exception("starting the summariser worker processes failed")


async def post_stop(application: Application) -> None:  # type: ignore[type-arg]
    """Flush the merge buffers and let reports in progress finish before the bot goes away."""
    ingest: Ingestor = application.bot_data["ingest"]
    replica: ReplicaLease | None = application.bot_data.get("replica")
    if replica is not None:
        await replica.stop_watching()
    await ingest.drain(timeout=30)
    if replica is not None:
        await replica.leave()


async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    pool = application.bot_data.pop("executor", None)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
    if application.bot_data.pop("own_repo", False):
        repo: Repository = application.bot_data.pop("repo")
        await repo.close()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(context.error, Forbidden) or not isinstance(update, Update) or update.effective_chat is None:
        return
    if may_have_been_sent(context.error):
        # the reply may well have reached the user (its answer was lost): "Có lỗi" would contradict it
        return
    with contextlib.suppress(TelegramError):
        await send_html(context.bot, update.effective_chat.id, "Có lỗi khi xử lý yêu cầu. Vui lòng thử lại sau.")


async def _unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unknown commands get a help pointer; in groups only when addressed to this bot."""
    message = update.effective_message
    if message is None or not message.text:
        return
    if message.chat.type != ChatType.PRIVATE:
        head = message.text.split()[0]
        if "@" not in head or head.split("@", 1)[1].lower() != (context.bot.username or "").lower():
            return
    await cmd_unknown(update, context)


def _register_digests(application: Application) -> None:  # type: ignore[type-arg]
    if importlib.util.find_spec("bot.digests") is None:
        log.info("bot.digests is not installed; digests are off")
        return
    from bot import digests

    register = getattr(digests, "register", None)
    if register is None:
        log.info("bot.digests has no register(); digests are off")
        return
    register(application)


def register_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """Every handler, in matching order: commands, buttons, digests, unknown commands, content."""
    for name, callback in HANDLERS.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(on_button, pattern=BUTTON_PATTERN))
    _register_digests(application)
    application.add_handler(CallbackQueryHandler(on_unknown_button))  # last: every press gets an answer
    new_messages = filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(new_messages & filters.COMMAND, _unknown_command))
    application.add_handler(MessageHandler(FIELD_REPLY, on_field_reply))  # a reply to a ✏️ prompt: not a report
    application.add_handler(MessageHandler(new_messages & filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(MessageHandler(new_messages & filters.Document.ALL, on_document))
    application.add_handler(MessageHandler(new_messages & filters.PHOTO, on_photo))
    application.add_handler(
        MessageHandler(new_messages & ~filters.COMMAND & ~filters.StatusUpdate.ALL, on_other)
    )
    application.add_error_handler(on_error)


def build_application(settings: Settings, *, repo: Repository | None = None) -> Application:  # type: ignore[type-arg]
    """The bot: PTB Application against `settings.bot_api_base_url`, flood-controlled per chat (bot.ratelimit);
    its bot is an `IntakeBot`, which writes report messages to the inbox before they are confirmed."""
    if not settings.bot_token:
        raise ValueError("build_application needs a bot token (local mode uses the emulator's)")
    intake = IntakeBot(
        settings.token(),
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_api_file_url,
        rate_limiter=ChatRateLimiter(),
    )
    application = (
        ApplicationBuilder()
        .bot(intake)
        .concurrent_updates(True)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["settings"] = settings
    application.bot_data["repo"] = repo
    application.bot_data["engine"] = make_engine(settings)
    application.bot_data["tz"] = settings.tz
    application.bot_data["ingest"] = Ingestor(application)
    # files and photos: read in bounded worker processes of their own, apart from the summariser's
    application.bot_data["extractor"] = shared_extractor(settings)
    # CPU-bound summarising in worker processes when asked (the extractive engine pickles; a
    # loaded neural model stays in this process, where torch releases the GIL anyway).
    use_pool = settings.workers > 0 and settings.engine == "extractive"
    application.bot_data["executor"] = make_process_pool(settings.workers) if use_pool else None
    register_handlers(application)
    return application
