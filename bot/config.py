"""Bot configuration from the environment (and an optional .env), validated once at start-up.

The token is a SecretStr so it never shows up in a repr, a traceback or a validation error.
"""

from __future__ import annotations

import hashlib
import re
import sys
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.backend import parse_target

AccessMode = Literal["open", "allowlist", "approval"]
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


def _id_list(value: object) -> object:
    """BOT_ADMINS / BOT_ALLOWED are written "1, 2,3" (JSON lists are accepted too)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            text = text.strip("[]")
        return [part.strip() for part in re.split(r"[,;\s]+", text) if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("BOT_TOKEN", "bot_token")
    )
    bot_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("BOT_API_BASE_URL", "bot_api_base_url"),
    )
    bot_api_file_url: str = Field(
        default="https://api.telegram.org/file/bot",
        validation_alias=AliasChoices("BOT_API_FILE_URL", "bot_api_file_url"),
    )
    database: str = "data/bot.sqlite3"
    admins: Annotated[list[int], NoDecode] = Field(default_factory=list)
    access: AccessMode = "approval"
    allowed: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Ho_Chi_Minh"
    engine: Literal["extractive", "transformers"] = "extractive"
    fetch_private_urls: bool = False
    model: str | None = None
    device: str = "cpu"
    digest_grace_hours: float = Field(default=24, ge=0)
    # A message that continues the sender's previous one (same forward origin, the earlier cut by
    # the client or stopping mid-sentence, the new one opening no report of its own) within this
    # many seconds is joined to its report, whose reply is edited; 0: never joined. Nothing waits
    # for it: every report is answered at once. Albums are flushed this long after their last piece.
    merge_window: float = Field(default=2.0, ge=0, le=60)
    # Processes that summarise (extractive engine); 0 = a thread of the bot's own process.
    # The summariser is CPU-bound Python, so threads share one core (the GIL); processes do not.
    workers: int = Field(default=0, ge=0, le=32)
    # Reports longer than this (characters, after extraction) are refused.
    max_report_chars: int = Field(default=500_000, ge=1000)
    # Files and photos are read in worker processes of their own (documents.isolated.Extractor),
    # apart from the summariser: this many at once, plus `extract_light_workers` kept for plain .txt.
    extract_workers: int = Field(default=2, ge=1, le=16)
    extract_light_workers: int = Field(default=1, ge=0, le=4)
    # Each worker's address space (RLIMIT_AS) and CPU per file (RLIMIT_CPU): a file beyond them is
    # answered as too complex, and the worker replaced.
    extract_memory_mb: int = Field(default=1024, ge=256, le=16_384)
    extract_cpu_seconds: float = Field(default=40.0, gt=0, le=3600)
    # Wall clock per file (a worker stuck in C code or waiting is killed); images and PDFs, which
    # may be scans read by OCR, get `ocr_timeout` (Tesseract takes seconds per page).
    extract_timeout: float = Field(default=60.0, gt=0, le=3600)
    ocr_timeout: float = Field(default=300.0, gt=0, le=3600)
    # Inbox rows done (stored or answered) are deleted after this many days; 'new' ones never.
    inbox_keep_days: float = Field(default=7.0, ge=0, le=3650)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Replicas on one PostgreSQL database (bot.replicas): a replica's inbox rows are taken over by
    # the others when its lease (renewed every third of it) has run out for this many seconds.
    replica_lease: float = Field(default=15.0, ge=1.0, le=3600)
    # the same replica started again (e.g. the container's name): its earlier process's leftovers
    # are taken over at once instead of after the lease
    replica_name: str | None = None
    # Webhook mode (bot.webhook) when set: the public URL Telegram POSTs updates to (behind the
    # reverse proxy); polling otherwise. Several replicas share one URL and one secret.
    webhook_url: str | None = None
    # host:port the webhook server listens on (the proxy forwards to it)
    webhook_listen: str = "127.0.0.1:8080"
    # The X-Telegram-Bot-Api-Secret-Token every POST must carry; derived from the token when unset,
    # so replicas agree without one more setting.
    webhook_secret: SecretStr | None = None

    @field_validator("admins", "allowed", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return _id_list(value)

    @field_validator("bot_token", mode="before")
    @classmethod
    def _check_token(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not _TOKEN_RE.match(value.strip()):
            # Never echo the value: it is (almost) a secret.
            raise ValueError("token must look like 123456:ABC-def (digits, colon, letters)")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database")
    @classmethod
    def _check_database(cls, value: str) -> str:
        """A SQLite path or a postgresql:// URL (driver installed); reachability is checked at
        start (`storage.backend.check_target`), not on every Settings()."""
        parse_target(value)
        return value.strip()

    @field_validator("bot_api_base_url", "bot_api_file_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value.strip()):
            raise ValueError("must be the public https:// URL Telegram sends updates to")
        return value.strip()

    @field_validator("webhook_listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isascii() or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("must be host:port, e.g. 0.0.0.0:8080 (port 0: any free port)")
        return value.strip()

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _check_secret(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.strip()):
            raise ValueError("1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value.strip()

    def webhook_secret_token(self) -> str:
        """The secret every webhook request must carry: BOT_WEBHOOK_SECRET, or one derived from the
        bot token (the same on every replica; whoever has the token controls the bot anyway)."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        return hashlib.sha256(f"hoinghi-webhook:{self.token()}".encode()).hexdigest()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def token(self) -> str:
        """The raw token (only for the Bot API client)."""
        return self.bot_token.get_secret_value() if self.bot_token else ""


def _env_name(loc: tuple[object, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if field.upper().startswith("BOT_"):
        return field.upper()
    return "BOT_" + field.upper() if not field.startswith("bot_") else field.upper()


def describe_error(exc: ValidationError) -> str:
    """One line naming the variables at fault, without their values (the token is among them)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{_env_name(tuple(err.get('loc', ())))}: {msg}")
    return "invalid configuration: " + "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Settings from env/.env; on invalid configuration print one line and exit with code 2."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        raise SystemExit(2) from None
