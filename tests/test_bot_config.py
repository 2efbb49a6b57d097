"""Configuration: env parsing, one-line errors with exit code 2, the token kept out of logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.logs import configure_logging

ROOT = Path(__file__).resolve().parent.parent
SECRET = "987654:AAHsecretPART-xyz_123"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults(clean_env: None) -> None:
    s = Settings()
    assert s.bot_token is None
    assert s.access == "approval" and s.engine == "extractive" and s.timezone == "Asia/Ho_Chi_Minh"
    assert s.database == "data/bot.sqlite3" and s.fetch_private_urls is False and s.digest_grace_hours == 24
    assert s.bot_api_base_url == "https://api.telegram.org/bot"


def test_env_values(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", SECRET)
    monkeypatch.setenv("BOT_ADMINS", "11, 22;33")
    monkeypatch.setenv("BOT_ALLOWED", "-100123,44")
    monkeypatch.setenv("BOT_ACCESS", "allowlist")
    monkeypatch.setenv("BOT_FETCH_PRIVATE_URLS", "true")
    monkeypatch.setenv("BOT_API_BASE_URL", "http://127.0.0.1:9/bot")
    s = Settings()
    assert s.token() == SECRET
    assert SECRET not in repr(s) and SECRET not in str(s.model_dump())
    assert s.admins == [11, 22, 33] and s.allowed == [-100123, 44]
    assert s.access == "allowlist" and s.fetch_private_urls is True
    assert s.bot_api_base_url == "http://127.0.0.1:9/bot"


def test_dotenv_file_is_read(clean_env: None, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOT_ACCESS=open\nBOT_ADMINS=5\n", encoding="utf-8")
    s = Settings()
    assert s.access == "open" and s.admins == [5]


def test_invalid_config_one_line_exit_2_without_token(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "not a token " + SECRET)
    monkeypatch.setenv("BOT_ACCESS", "everyone")
    monkeypatch.setenv("BOT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SystemExit) as exc:
        load_settings()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "BOT_TOKEN" in err and "BOT_ACCESS" in err and "BOT_TIMEZONE" in err
    assert SECRET not in err and "AAHsecret" not in err


def test_python_m_bot_invalid_config_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(BOT_ADMINS="abc", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "BOT_ADMINS" in proc.stderr


def test_logging_never_prints_token(clean_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    s = Settings(bot_token=SECRET)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("httpx").level)
    configure_logging(s)
    try:
        assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", SECRET)
        logging.getLogger("telegram.ext").error("failed calling https://api.telegram.org/bot%s/x", SECRET)
        try:
            raise RuntimeError(f"boom {SECRET}")
        except RuntimeError:
            logging.getLogger("bot").exception("with traceback")
        err = capsys.readouterr().err
        assert "failed calling" in err and "with traceback" in err and "<token>" in err
        assert SECRET not in err and SECRET.split(":")[1] not in err
        assert "HTTP Request" not in err
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("httpx").setLevel(saved[2])


def test_transformers_engine_without_model_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(BOT_ENGINE="transformers", PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost")
    proc = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "BOT_MODEL" in proc.stderr
