"""Webhook mode: the secret is checked on every request, a report is in the inbox before Telegram
gets its 200, and the bot answers as in polling mode; `python -m bot` serves webhooks too."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import webhook
from bot.config import Settings
from bot.emulator import BotAPIEmulator
from tests.bot_harness import BotHarness, seed_text

ROOT = Path(__file__).resolve().parents[1]
SECRET = "hook-Secret_42"
CHAT = 501


async def _post(port: int, path: str, body: Any, secret: str | None) -> int:
    headers = {webhook.SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session, session.post(
        f"http://127.0.0.1:{port}{path}", json=body, headers=headers
    ) as response:
        return response.status


async def _quiet(emu: BotAPIEmulator, quiet: float = 0.5, timeout: float = 20) -> None:
    """No Bot API call for `quiet` s (the emulator's wait_idle also waits for getUpdates, which
    never comes in webhook mode)."""
    loop = asyncio.get_running_loop()
    deadline, seen, since = loop.time() + timeout, len(emu.calls), loop.time()
    while loop.time() - since < quiet:
        assert loop.time() < deadline, "the bot never went quiet"
        await asyncio.sleep(0.05)
        if len(emu.calls) != seen:
            seen, since = len(emu.calls), loop.time()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_settings_check_the_webhook_values() -> None:
    s = Settings(_env_file=None, bot_token="1:abc", webhook_url="https://bot.example.org/tg")  # type: ignore[call-arg]
    derived = s.webhook_secret_token()
    assert len(derived) == 64 and derived == Settings(  # type: ignore[call-arg]
        _env_file=None, bot_token="1:abc", webhook_url="https://bot.example.org/tg"
    ).webhook_secret_token()  # replicas agree without configuring one
    assert "1:abc" not in derived
    assert webhook.webhook_path(s) == "/tg"
    for bad in ({"webhook_url": "ftp://x"}, {"webhook_listen": "8080"}, {"webhook_secret": "has space"}):
        with pytest.raises(ValueError):
            Settings(_env_file=None, **bad)  # type: ignore[arg-type]


async def test_webhook_checks_the_secret_and_stores_before_answering(tmp_path: Path) -> None:
    async with BotHarness(
        tmp_path, start=False, webhook_url="http://127.0.0.1:9/tg/hook", webhook_listen="127.0.0.1:0",
        webhook_secret=SECRET,
    ) as h:
        server = await webhook.start(h.app, h.settings)
        try:
            assert [p for m, p in h.emu.calls if m == "setWebhook"][-1]["secret_token"] == SECRET
            update = h.emu.send_text(CHAT, 7, seed_text(0))
            assert await _post(server.port, "/tg/hook", update, None) == 403
            assert await _post(server.port, "/tg/hook", update, SECRET + "x") == 403
            assert await h.repo.inbox_entry(CHAT, update["message"]["message_id"]) is None
            assert await _post(server.port, "/tg/hook", [1, 2], SECRET) == 400
            assert await _post(server.port, "/tg/hook", update, SECRET) == 200
            # in the inbox when Telegram got its 200: a crash now loses nothing
            assert await h.repo.inbox_entry(CHAT, update["message"]["message_id"]) is not None
            await h.wait_for(CHAT, lambda text: "Đơn vị" in text or "Kết quả" in text, timeout=30)
            # a redelivery of the same update (Telegram retrying) is not a second report
            assert await _post(server.port, "/tg/hook", update, SECRET) == 200
            await _quiet(h.emu)
            assert len(h.report_ids(CHAT)) == 1
            command = h.emu.send_text(CHAT, 7, "/help")
            before = len(h.emu.messages(CHAT))
            assert await _post(server.port, "/tg/hook", command, SECRET) == 200
            await h.emu.wait_for_messages(CHAT, before + 1, timeout=20)
        finally:
            await webhook.stop(h.app, server)


async def test_python_m_bot_serves_webhooks_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    async with BotAPIEmulator() as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        env.update(
            PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost", BOT_TOKEN=emu.token,
            BOT_API_BASE_URL=emu.base_url, BOT_API_FILE_URL=emu.base_file_url, BOT_ACCESS="open",
            BOT_DATABASE=str(tmp_path / "bot.sqlite3"), BOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            BOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}", BOT_WEBHOOK_SECRET=SECRET,
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            deadline = asyncio.get_running_loop().time() + 60
            while not any(m == "setWebhook" for m, _ in emu.calls):
                assert proc.returncode is None and asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
            update = emu.send_text(CHAT, 7, "/start")
            assert await _post(port, "/hook", update, "wrong") == 403
            assert await _post(port, "/hook", update, SECRET) == 200
            await emu.wait_for_messages(CHAT, 1, timeout=30)
            assert not any(m == "getUpdates" for m, _ in emu.calls)  # no polling in webhook mode
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()[-2000:]
