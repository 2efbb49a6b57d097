"""End-to-end harness for the bot tests: the Bot API emulator, a tmp database and the real
Application talking to the emulator over HTTP (python-telegram-bot's real request path)."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.config import Settings
from bot.emulator import BotAPIEmulator
from storage import Repository

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.setdefault("PTB_TIMEDELTA", "1")

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
ADMIN = 1000
USER = 2001
OTHER = 2002


def seed_text(i: int = 0) -> str:
    return SEEDS[i].read_text(encoding="utf-8")


def plain(html_text: str) -> str:
    return re.sub(r"<[^>]+>", "", html_text or "")


class BotHarness:
    """`async with BotHarness(tmp_path, access="open") as h:` — a running bot and its emulator."""

    def __init__(self, tmp_path: Path, *, start: bool = True, repo: Repository | None = None, **overrides: Any) -> None:
        self.tmp_path = tmp_path
        self.start = start
        self.given_repo = repo
        self.overrides = {"access": "open", "admins": [ADMIN], "merge_window": 0.3, **overrides}
        self.emu = BotAPIEmulator()
        self.repo: Repository | None = repo
        self.app: Any = None

    async def __aenter__(self) -> BotHarness:
        await self.emu.start()
        if self.repo is None and os.environ.get("TEST_BOT_BACKEND") == "postgresql":
            # the bot suites on PostgreSQL: TEST_BOT_BACKEND=postgresql pytest tests/test_bot_*.py
            from tests.pg_support import fresh_database

            self._pg_database = fresh_database()
            self.repo = await Repository.open(await self._pg_database.__aenter__())
        if self.repo is None:
            self.repo = await Repository.open(self.tmp_path / "bot.sqlite3")
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=self.emu.token,
            bot_api_base_url=self.emu.base_url,
            bot_api_file_url=self.emu.base_file_url,
            database=str(self.tmp_path / "bot.sqlite3"),
            **self.overrides,
        )
        self.app = build_application(self.settings, repo=self.repo)
        if self.start:
            await self.start_app()
        return self

    async def start_app(self) -> None:
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.updater.start_polling(poll_interval=0, timeout=1)
        await self.app.start()

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.app is not None and self.app.running:
                await self.app.updater.stop()
                await self.app.stop()
                if self.app.post_stop:
                    await self.app.post_stop(self.app)
                await self.app.shutdown()
                if self.app.post_shutdown:
                    await self.app.post_shutdown(self.app)
        finally:
            if self.repo is not None and self.given_repo is None:
                await self.repo.close()
            if getattr(self, "_pg_database", None) is not None:
                await self._pg_database.__aexit__(None, None, None)
            await self.emu.stop()

    # --- helpers ---------------------------------------------------------------------------------
    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.emu.messages(chat_id)]

    def all_text(self, chat_id: int) -> str:
        return "\n".join(self.texts(chat_id))

    async def wait_for(self, chat_id: int, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until some message to the chat satisfies `predicate(text)`; returns all messages."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            messages = self.emu.messages(chat_id)
            if any(predicate(m.get("text") or m.get("caption") or "") for m in messages):
                return messages
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no matching message to {chat_id}; got {self.texts(chat_id)!r}"[:3000])
            await asyncio.sleep(0.02)

    async def ask(self, chat_id: int, user_id: int, text: str, *, expect: int = 1, **kw: Any) -> list[str]:
        """Send a message; wait for `expect` new messages to the chat, then for the bot to be idle;
        return the texts of the new messages."""
        before = len(self.emu.messages(chat_id))
        self.emu.send_text(chat_id, user_id, text, **kw)
        if expect:
            await self.emu.wait_for_messages(chat_id, before + expect, timeout=20)
        await self.emu.wait_idle(quiet=0.2, timeout=20)
        return self.texts(chat_id)[before:]

    async def press(self, chat_id: int, user_id: int, message_id: int, data: str) -> list[str]:
        """Press a button; wait until the bot answered the callback query and went idle."""
        before = len(self.emu.messages(chat_id))
        answered = self._answers()
        self.emu.press_button(chat_id, user_id, message_id, data)
        deadline = asyncio.get_running_loop().time() + 20
        while self._answers() == answered:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"callback {data!r} never answered")
            await asyncio.sleep(0.01)
        await self.emu.wait_idle(quiet=0.2, timeout=20)
        return self.texts(chat_id)[before:]

    def _answers(self) -> int:
        return sum(1 for method, _ in self.emu.calls if method == "answerCallbackQuery")

    async def submit(self, chat_id: int, user_id: int, text: str, **kw: Any) -> dict[str, Any]:
        """Send a report and return the bot's last summary message (the one with the buttons)."""
        self.emu.send_text(chat_id, user_id, text, **kw)
        return await self.summary_message(chat_id)

    async def summary_message(self, chat_id: int, after: int = 0, timeout: float = 15.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for m in self.emu.messages(chat_id)[after:]:
                if any("full:" in b.get("callback_data", "") for b in buttons(m)):
                    return m
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no summary to {chat_id}; got {self.texts(chat_id)!r}"[:3000])
            await asyncio.sleep(0.02)

    def report_ids(self, chat_id: int) -> list[int]:
        ids = []
        for m in self.emu.messages(chat_id):
            for b in buttons(m):
                found = re.fullmatch(r"docx:(\d+)", b.get("callback_data", ""))
                if found:
                    ids.append(int(found.group(1)))
        return ids


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def store_report(h: BotHarness, scope: int, text: str, *, user_id: int | None = None,
                       summarise: bool = True) -> Any:
    """Put a report straight into the repository (summarised by the app's engine unless told not to)."""
    from storage import NewReport
    from summariser import clean_text

    assert h.repo is not None
    cleaned = clean_text(text)
    report, _ = await h.repo.add_report(
        NewReport(scope=scope, chat_id=scope, user_id=user_id if user_id is not None else scope, text=cleaned)
    )
    if summarise:
        await h.repo.save_summary(report.id, h.app.bot_data["engine"].summarise(cleaned))
    return await h.repo.get_report(scope, report.id)


# --- helpers for the brief and the ✏️ prompts (issue 12); the ones above keep their meaning ------


async def press_until(h: BotHarness, chat_id: int, user_id: int, message_id: int, data: str, predicate: Any,
                      timeout: float = 15.0) -> dict[str, Any]:
    """Press a button and wait until some message to the chat (a new one or the pressed one,
    edited) satisfies `predicate(text)`: replies are paced per chat, so "idle" may come first."""
    seen = {m["message_id"]: m.get("text") for m in h.emu.messages(chat_id)}
    h.emu.press_button(chat_id, user_id, message_id, data)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for m in reversed(h.emu.messages(chat_id)):
            text = m.get("text") or m.get("caption") or ""
            if (m["message_id"] not in seen or seen[m["message_id"]] != m.get("text")) and predicate(text):
                return m
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no matching reply to {data!r}; got {h.texts(chat_id)[-3:]!r}"[:3000])
        await asyncio.sleep(0.02)


async def wait_new(h: BotHarness, chat_id: int, after: int, predicate: Any, timeout: float = 15.0) -> dict[str, Any]:
    """The first message to the chat after the first `after` ones that satisfies `predicate(text)`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for m in h.emu.messages(chat_id)[after:]:
            if predicate(m.get("text") or m.get("caption") or ""):
                return m
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no matching message to {chat_id}; got {h.texts(chat_id)[after:]!r}"[:3000])
        await asyncio.sleep(0.02)


def reply_to(h: BotHarness, chat_id: int, user_id: int, message: dict[str, Any], text: str) -> dict[str, Any]:
    """Queue the user's text as a reply to `message` (a bot message, e.g. a ForceReply prompt), as
    Telegram sends it: with `reply_to_message` holding that message. (The emulator's `send_text`
    has no reply parameter; this builds the same update through its message store.)"""
    user_message = h.emu._user_message(chat_id, user_id, "private", "Nguyễn Văn A", None)
    user_message["text"] = text
    prompt = {k: v for k, v in message.items() if not k.startswith("_") and k != "reply_to_message"}
    user_message["reply_to_message"] = prompt
    return h.emu.inject_update({"message": user_message})
