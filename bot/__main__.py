"""`python -m bot`: with BOT_TOKEN the real bot (long polling, or a webhook server when
BOT_WEBHOOK_URL is set: bot.webhook); without, local mode — the Bot API
emulator on 127.0.0.1 and a terminal chat, so the bot can be tried without Telegram."""

from __future__ import annotations

import asyncio
import os
import sys

from telegram import Update

from bot.config import load_settings
from bot.logs import configure_logging
from storage.backend import DatabaseConfigError, check_target, parse_target


def main() -> int:
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    settings = load_settings()
    try:  # a server that is down or refuses us: one line now, not a traceback from post_init
        asyncio.run(check_target(parse_target(settings.database)))
    except DatabaseConfigError as exc:
        print(f"invalid configuration: BOT_DATABASE: {exc}", file=sys.stderr)
        return 2
    if settings.bot_token:
        from bot.app import build_application

        configure_logging(settings)
        try:
            application = build_application(settings)
        except ValueError as exc:  # e.g. the transformers engine without BOT_MODEL
            print(f"invalid configuration: {exc}", file=sys.stderr)
            return 2
        if settings.webhook_url:
            from bot import webhook

            webhook.run(application, settings)
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
        return 0
    from bot.local_chat import run_local

    configure_logging(settings, level="WARNING")
    return asyncio.run(run_local(settings))


if __name__ == "__main__":
    raise SystemExit(main())
