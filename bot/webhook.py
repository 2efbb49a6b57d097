"""Webhook mode (BOT_WEBHOOK_URL): Telegram POSTs each update to one URL; behind a reverse proxy
several replicas share the load. Polling stays the default.

The server is a small aiohttp app rather than PTB's `run_webhook` (tornado), for one reason:
durable intake. PTB's handler answers 200 as soon as the update is on the in-memory queue, and
Telegram then never sends it again: a replica killed before the handler stored the report loses
it. Here a POST is answered 200 only after `IntakeBot.intake` has written its report messages to
the inbox (the same code as polling), so a crash at any point loses nothing: either Telegram
retries, or the inbox holds the message and a restart replays it. Everything else follows PTB's
own run loop (initialize, post_init, start ... stop, post_stop, shutdown, post_shutdown).

Every request must carry the secret in `X-Telegram-Bot-Api-Secret-Token` (compared in constant
time); anything else is 403 and never parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.ingest import IntakeBot

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 4 * 1024 * 1024  # an update is a few KB; files come by file_id, never in the body


def listen_address(settings: Settings) -> tuple[str, int]:
    host, _, port = settings.webhook_listen.rpartition(":")
    return host.strip("[]"), int(port)


def webhook_path(settings: Settings) -> str:
    """The path the proxy forwards (the public URL's path, "/" when it has none)."""
    return urlsplit(settings.webhook_url or "").path or "/"


def make_app(application: Application, path: str, secret: str) -> web.Application:  # type: ignore[type-arg]
    """The aiohttp app: POST `path` with the secret -> inbox -> the application's update queue."""
    bot = application.bot

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            raw = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="not JSON")
        if not isinstance(raw, dict):
            return web.Response(status=400, text="not an update")
        if isinstance(bot, IntakeBot):
            updates = await bot.intake([raw])  # raises (-> 500, Telegram retries) if the inbox is down
        else:
            updates = (Update.de_json(raw, bot),)
        for update in updates:
            await application.update_queue.put(update)
        return web.Response(status=200, text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    return app


@dataclass
class WebhookServer:
    runner: web.AppRunner
    port: int  # the one bound (useful with port 0)


async def start(application: Application, settings: Settings, *, set_webhook: bool = True) -> WebhookServer:  # type: ignore[type-arg]
    """Initialize and start the application, listen, and tell Telegram the URL and the secret."""
    secret = settings.webhook_secret_token()
    host, port = listen_address(settings)
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    runner = web.AppRunner(make_app(application, webhook_path(settings), secret), shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    if set_webhook:
        # every replica sets the same URL and secret: whichever comes last changes nothing
        await application.bot.set_webhook(
            url=settings.webhook_url or "", secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
    log.info("webhook server on %s:%s%s", host, bound, webhook_path(settings))
    return WebhookServer(runner, bound)


async def stop(application: Application, server: WebhookServer) -> None:  # type: ignore[type-arg]
    """Stop taking requests first, then let the application finish (post_stop drains reports)."""
    await server.runner.cleanup()
    if application.running:
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)


async def serve(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Run until SIGINT/SIGTERM (what `python -m bot` calls in webhook mode)."""
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, done.set)
    server = await start(application, settings)
    try:
        await done.wait()
    finally:
        await stop(application, server)


def run(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    asyncio.run(serve(application, settings))

