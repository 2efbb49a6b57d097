"""Logging set-up: the bot token never reaches a log line.

httpx logs every request URL at INFO, and Bot API URLs contain the token, so httpx/httpcore are
kept at WARNING; a redacting formatter covers whatever else might print it (tracebacks included).
"""

from __future__ import annotations

import logging
import sys

from bot.config import Settings

NOISY = ("httpx", "httpcore", "apscheduler", "aiohttp.access")


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: list[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text


def configure_logging(settings: Settings, level: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    token = settings.token()
    # The part after the colon is the secret; the whole token appears in URLs.
    secrets = [token, token.split(":", 1)[1] if ":" in token else ""]
    handler.setFormatter(RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or settings.log_level)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
