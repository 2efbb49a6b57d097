"""Fixtures shared by test modules that talk to the local Bot API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.emulator import BotAPIEmulator

# `backend`, `db_url`, `any_repo`: repository tests run on SQLite and on PostgreSQL
pytest_plugins = ["tests.pg_support"]


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as b:
        yield b
