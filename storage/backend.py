"""Which database a BOT_DATABASE value names, and whether the bot can serve it.

A value is a SQLite file path (the default, `data/bot.sqlite3`; `sqlite:///path` is accepted too)
or a `postgresql://` / `postgres://` URL. Anything else that looks like a URL is refused: before
this check `postgresql://user@host/db` silently became a SQLite file in a folder named
`postgresql:`. Messages never show a password.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

PG_SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT_S = 5.0
# "scheme:" at the start; one letter is a Windows drive ("C:\\data\\bot.sqlite3"), not a scheme.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")


class DatabaseConfigError(ValueError):
    """A BOT_DATABASE value the bot cannot serve; str() is one line without secrets."""


@dataclass(frozen=True)
class Target:
    kind: Literal["sqlite", "postgresql"]
    location: str  # the SQLite path, or the PostgreSQL URL as given

    @property
    def safe(self) -> str:
        """The location without a password (for messages and logs)."""
        return redact(self.location) if self.kind == "postgresql" else self.location


def redact(url: str) -> str:
    """host:port/db of a URL, user kept, password dropped."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "postgresql://…"
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def parse_target(value: str) -> Target:
    """The database a BOT_DATABASE value names; DatabaseConfigError for one the bot cannot serve
    (an unknown scheme, an empty value, a PostgreSQL URL while the driver is not installed)."""
    text = value.strip()
    if not text:
        raise DatabaseConfigError("empty: give a SQLite file path or a postgresql:// URL")
    m = _SCHEME.match(text)
    if m is None:
        return Target("sqlite", text)
    scheme = m.group(1).lower()
    if scheme == "sqlite":
        path = text[m.end() :]
        path = path[3:] if path.startswith("///") else path.lstrip("/") if path.startswith("//") else path
        if not path:
            raise DatabaseConfigError("sqlite: URL without a file path")
        return Target("sqlite", path)
    if scheme in PG_SCHEMES:
        if not text[m.end() :].startswith("//"):
            raise DatabaseConfigError(f"{scheme}: URL must look like {scheme}://user@host:5432/db")
        if importlib.util.find_spec("asyncpg") is None:
            raise DatabaseConfigError(
                "PostgreSQL needs the asyncpg driver, which is not installed (pip install 'hoinghi-bot[pg]')"
            )
        return Target("postgresql", text)
    raise DatabaseConfigError(
        f"unknown database scheme {scheme!r}: give a SQLite file path or a postgresql:// URL"
    )


async def check_target(target: Target, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Connect once to a PostgreSQL target, so a server that is down or a wrong password is one
    line at start, not a traceback later. SQLite needs nothing: the file and its folder are
    created on open. (No extension is needed: search terms are made in Python, storage.pg.)"""
    if target.kind != "postgresql":
        return
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(target.location, timeout=timeout), timeout + 1)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DatabaseConfigError(f"cannot connect to {target.safe}: {reason}") from None
    await conn.close()
