"""BOT_DATABASE: a value the bot cannot serve is refused at start with one line and exit 2."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings
from storage import backend
from storage.backend import DatabaseConfigError, parse_target, redact

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:ABCdef_ghi-JKL"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_bot(tmp_path: Path, database: str, *, token: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(BOT_DATABASE=database, PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost")
    if token:
        env["BOT_TOKEN"] = TOKEN
    return subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_paths_and_urls_are_told_apart() -> None:
    assert parse_target("data/bot.sqlite3") == backend.Target("sqlite", "data/bot.sqlite3")
    assert parse_target("sqlite:///data/x.sqlite3").location == "data/x.sqlite3"
    assert parse_target("sqlite:////abs/x.sqlite3").location == "/abs/x.sqlite3"
    assert parse_target(r"C:\data\bot.sqlite3").kind == "sqlite"  # a drive letter, not a scheme
    if importlib.util.find_spec("asyncpg") is not None:
        assert parse_target("postgresql://u@127.0.0.1:5432/db").kind == "postgresql"
        assert parse_target("postgres://u@127.0.0.1/db").kind == "postgresql"
    for bad in ("mysql://u@h/db", "postgresql:relative", "http://example.org/db", "  ", "sqlite://"):
        with pytest.raises(DatabaseConfigError):
            parse_target(bad)


def test_password_never_shown() -> None:
    assert redact("postgresql://bot:s3cret@db.local:5433/reports") == "postgresql://bot@db.local:5433/reports"


def test_missing_driver_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "asyncpg" else real(name, *a))
    with pytest.raises(DatabaseConfigError, match="asyncpg"):
        parse_target("postgresql://u@127.0.0.1/db")
    with pytest.raises(ValidationError, match="asyncpg"):
        Settings(database="postgresql://u@127.0.0.1/db")


def test_settings_refuse_an_unknown_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("BOT_"):
            monkeypatch.delenv(name)
    with pytest.raises(ValidationError, match="unknown database scheme"):
        Settings(database="mysql://u@h/db")
    assert Settings(database=" data/x.sqlite3 ").database == "data/x.sqlite3"


def test_unknown_scheme_exits_2_with_one_line_and_no_folder(tmp_path: Path) -> None:
    proc = _run_bot(tmp_path, "mysql://bot:pw@127.0.0.1/db")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "BOT_DATABASE" in proc.stderr
    assert "pw@" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no 'mysql:' folder


@pytest.mark.skipif(importlib.util.find_spec("asyncpg") is None, reason="asyncpg is not installed")
def test_unreachable_postgres_exits_2_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql://bot:s3cret@127.0.0.1:{_free_port()}/reports"
    for token in (True, False):  # the real bot and local mode
        proc = _run_bot(tmp_path, url, token=token)
        assert proc.returncode == 2, proc.stderr
        line = proc.stderr.strip()
        assert line.count("\n") == 0 and line.startswith("invalid configuration: BOT_DATABASE: cannot connect")
        assert "s3cret" not in line and "127.0.0.1" in line
    assert list(tmp_path.iterdir()) == []  # no 'postgresql:' folder
