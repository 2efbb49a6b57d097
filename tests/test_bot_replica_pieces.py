"""The pieces of one split paste reaching two replicas (issue 14, "merge buffers in the database"):
two applications in webhook mode, each with its own repository on one PostgreSQL database, one
emulator. Piece by piece round robin, one report results and the first reply is edited into its
answer, whichever replica got which piece; a later piece handled before the earlier one (the
other replica is slower) waits for it instead of becoming a report of its own. Skips, saying
why, when no PostgreSQL server can start (tests/pg_support.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from telegram import Update

import documents
from bot import webhook
from bot.app import build_application
from bot.config import Settings
from bot.emulator import BotAPIEmulator
from storage import Repository
from summariser import clean_text
from tests.bot_harness import ADMIN, buttons
from tests.pg_support import fresh_database
from tests.test_bot_ingest import _client_split, _long_paste

SECRET = "pieces-Secret_7"


@asynccontextmanager
async def replica(emu: BotAPIEmulator, url: str) -> AsyncIterator[tuple[Any, webhook.WebhookServer, Repository]]:
    repo = await Repository.open(url)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=emu.token, bot_api_base_url=emu.base_url, bot_api_file_url=emu.base_file_url,
        database=url, access="open", admins=[ADMIN], merge_window=5.0,
        webhook_url="http://127.0.0.1:9/hook", webhook_listen="127.0.0.1:0", webhook_secret=SECRET,
    )
    app = build_application(settings, repo=repo)
    server = await webhook.start(app, settings, set_webhook=False)
    try:
        yield app, server, repo
    finally:
        await webhook.stop(app, server)
        await repo.close()


async def post(server: webhook.WebhookServer, update: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as session, session.post(
        f"http://127.0.0.1:{server.port}/hook", json=update, headers={webhook.SECRET_HEADER: SECRET}
    ) as response:
        assert response.status == 200


async def quiet(emu: BotAPIEmulator, seconds: float = 1.0, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline, seen, since = loop.time() + timeout, len(emu.calls), loop.time()
    while loop.time() - since < seconds:
        assert loop.time() < deadline, "the replicas never went quiet"
        await asyncio.sleep(0.05)
        if len(emu.calls) != seen:
            seen, since = len(emu.calls), loop.time()


async def one_report(emu: BotAPIEmulator, repo: Repository, chat: int, text: str, updates: list[dict[str, Any]]) -> None:
    """The chat's paste is one report of the whole text, answered by one brief: the first reply, edited."""
    reports = await repo.latest(chat, 10)
    assert len(reports) == 1, [r.text[:60] for r in reports]
    [report] = reports
    assert report.text == clean_text(documents.read_text(text).text())
    messages = emu.messages(chat)
    briefs = [m for m in messages if any(b.get("callback_data") == f"docx:{report.id}" for b in buttons(m))]
    assert len(briefs) == 1 and f"#{report.id}" in briefs[0]["text"]
    assert briefs[0]["message_id"] == messages[0]["message_id"] and briefs[0].get("edit_date") is not None
    assert not [m for m in messages if "docx:" in str(m.get("reply_markup")) and m not in briefs]
    for update in updates:
        row = await repo.inbox_entry(chat, update["message"]["message_id"])
        assert row is not None and row.state == "done" and row.report_id == report.id


async def test_pieces_of_one_paste_on_two_replicas_are_one_report_with_one_edited_reply() -> None:
    text = _long_paste()
    pieces = _client_split(text)
    assert len(pieces) == 3
    async with fresh_database() as url, BotAPIEmulator() as emu, replica(emu, url) as (app_a, a, repo_a), \
            replica(emu, url) as (_app_b, b, _repo_b):
        # user 1: pieces round robin A, B, A, each POSTed once the last one got its 200 (as a
        # client sends them and Telegram delivers a chat's updates in order)
        first = [emu.send_text(301, 301, piece) for piece in pieces]
        for update, server in zip(first, (a, b, a), strict=True):
            await post(server, update)
        # user 2: the first piece is in A's inbox (Telegram got its 200) but A is slow to handle
        # it; B gets the second piece meanwhile and must wait for the first, not answer alone
        second = [emu.send_text(302, 302, piece) for piece in pieces[:2]]
        [early] = await app_a.bot.intake([second[0]])
        await post(b, second[1])
        await asyncio.sleep(0.8)
        assert await repo_a.latest(302, 10) == []  # B did not make the second piece a report
        await app_a.update_queue.put(early)
        assert isinstance(early, Update) and early.message is not None
        await quiet(emu)
        await one_report(emu, repo_a, 301, text, first)
        await one_report(emu, repo_a, 302, text[: len(pieces[0]) + 1 + len(pieces[1])], second)
