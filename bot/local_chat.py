"""Local mode: the bot against the Bot API emulator, chatted with from the terminal.

Type a message (several pasted lines form one message), a /command, a file path (sent as a
document), or !N to press button [N]. Works with a pipe too: lines are read until EOF, the
replies are awaited, and the program exits cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr

from bot.config import Settings
from bot.emulator import BotAPIEmulator

LOCAL_USER = 100_001
LOCAL_NAME = "Cán bộ thử nghiệm"
TELEGRAM_LIMIT = 4096
REPLY_METHODS = {"sendmessage", "senddocument", "sendphoto", "editmessagetext", "editmessagereplymarkup"}
MAX_LOCAL_FILE = 64 * 1024 * 1024
CHARTS_DIR = Path("data/charts")  # relative to where `make run` runs, like data/local.sqlite3

BANNER = """\
Chế độ thử cục bộ: bot chạy với máy chủ Telegram giả lập trên 127.0.0.1 (không cần Telegram).
Gõ hoặc dán báo cáo, gõ lệnh (/help), đường dẫn tệp .docx/.pdf/.txt để gửi tệp, hoặc !N để bấm nút [N].
Dữ liệu lưu tại {database}. Thoát: Ctrl+D (hoặc Ctrl+C).
"""


def html_to_terminal(text: str, bold: bool) -> str:
    """Telegram HTML to readable terminal text (bold kept as ANSI on a terminal)."""
    on, off = ("\033[1m", "\033[0m") if bold else ("", "")
    text = re.sub(r"<b>|<strong>", on, text)
    text = re.sub(r"</b>|</strong>", off, text)
    text = re.sub(r"<a href=\"([^\"]*)\">(.*?)</a>", r"\2 (\1)", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


def split_like_client(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split a long message as Telegram clients do: pieces under the limit, cut at whitespace."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip()
    if text.strip():
        parts.append(text)
    return parts


class TerminalChat:
    def __init__(
        self,
        emu: BotAPIEmulator,
        out: TextIO,
        bold: bool,
        busy: Callable[[], bool] | None = None,
        charts_dir: Path = CHARTS_DIR,
    ) -> None:
        self.emu = emu
        self.out = out
        self.bold = bold
        # True while the bot still handles an update: a reply may come after a quiet spell (a
        # digest's chart is sent after its paced text messages), and must print before the prompt
        self.busy = busy or (lambda: False)
        self.charts_dir = charts_dir
        self.shown: dict[int, str] = {}  # message_id -> what was printed (to notice edits)
        self.calls_seen = 0
        self.buttons: list[tuple[int, str]] = []  # [N-1] -> (message_id, callback data)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _signature(self, message: dict[str, Any]) -> str:
        return repr((message.get("_raw_text") or message.get("text") or message.get("caption"),
                     message.get("reply_markup")))

    def show_new(self) -> None:
        """Print bot messages not shown yet (or edited since), toasts, and number their buttons."""
        new_buttons: list[tuple[int, str]] = []
        for call, params in self.emu.calls[self.calls_seen :]:
            if call.lower() == "answercallbackquery" and params.get("text"):
                self.say(f"ℹ️  {params['text']}")
        self.calls_seen = len(self.emu.calls)
        for message in self.emu.messages(LOCAL_USER):
            mid = message["message_id"]
            signature = self._signature(message)
            if self.shown.get(mid) == signature:
                continue
            edited = mid in self.shown
            self.shown[mid] = signature
            if (message.get("_parse_mode") or "").upper() == "HTML" and message.get("_raw_text"):
                body = html_to_terminal(message["_raw_text"], self.bold)
            else:
                body = message.get("text") or message.get("caption") or ""
            prefix = "🤖 (đã sửa) " if edited else "🤖 "
            if message.get("_method") == "sendPhoto":
                saved = self._save_photo(message)
                body = f"🖼️ Biểu đồ — đã lưu tại {saved} (mở tệp để xem)" + (f"\n{body}" if body else "")
            if message.get("_method") == "sendDocument":
                saved = self._save_document(message)
                body = f"📎 Tệp {message['document'].get('file_name')} — đã lưu tại {saved}" + (
                    f"\n{body}" if body else ""
                )
            self.say(prefix + body)
            labels = []
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if "callback_data" in button:
                        new_buttons.append((mid, button["callback_data"]))
                        labels.append(f"[{len(new_buttons)}] {button['text']}")
            if labels:
                self.say("   " + "  ".join(labels))
            self.say("")
        if new_buttons:
            self.buttons = new_buttons

    def _save_document(self, message: dict[str, Any]) -> str:
        out_dir = Path("data/local_files")
        out_dir.mkdir(parents=True, exist_ok=True)
        name, content = None, b""
        for file_name, data in self.emu.documents(LOCAL_USER):
            if file_name == message["document"].get("file_name"):
                name, content = file_name, data
        path = out_dir / (name or "tep")
        path.write_bytes(content)
        return str(path)

    def _save_photo(self, message: dict[str, Any]) -> str:
        """The photo the bot sent (a digest's chart) as a PNG under `charts_dir`: a terminal shows no
        picture, so the chat prints this path where Telegram would show it."""
        sent = [m for m in self.emu.messages(LOCAL_USER) if m.get("_method") == "sendPhoto"]
        content = next(
            (data for m, data in zip(sent, self.emu.photos(LOCAL_USER), strict=True)
             if m["message_id"] == message["message_id"]),
            b"",
        )
        self.charts_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d_%H%M%S")
        path = self.charts_dir / f"bieu_do_{stamp}_{message['message_id']}.png"
        path.write_bytes(content)
        return str(path)

    def _reply_calls(self) -> int:
        return sum(
            1
            for call, params in self.emu.calls
            if call.lower() in REPLY_METHODS or (call.lower() == "answercallbackquery" and params.get("text"))
        )

    async def wait_reply(self, before: int, timeout: float = 600.0) -> None:
        """Wait for the bot's answer: at least one reply call, then quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._reply_calls() <= before and loop.time() < deadline:
            await asyncio.sleep(0.05)
        while loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                await self.emu.wait_idle(quiet=0.6, timeout=max(0.1, min(2.0, deadline - loop.time())))
                if not self.busy():
                    break
            self.show_new()  # what came so far, in order, while the rest is still on its way
            await asyncio.sleep(0.1)
        self.show_new()

    async def send(self, line: str) -> None:
        before = self._reply_calls()
        stripped = line.strip()
        if re.fullmatch(r"!\d+", stripped):
            n = int(stripped[1:])
            if not 1 <= n <= len(self.buttons):
                self.say(f"(Không có nút [{n}].)\n")
                return
            message_id, data = self.buttons[n - 1]
            self.emu.press_button(LOCAL_USER, LOCAL_USER, message_id, data)
        elif (path := _as_file(stripped)) is not None:
            size = path.stat().st_size
            if size > MAX_LOCAL_FILE:
                self.say(f"(Tệp {path.name} quá lớn để gửi thử: {size // (1024 * 1024)} MB.)\n")
                return
            self.say(f"(Đang gửi tệp {path.name}…)")
            self.emu.send_document(LOCAL_USER, LOCAL_USER, path.name, path.read_bytes(), first_name=LOCAL_NAME)
        else:
            for piece in split_like_client(line):
                self.emu.send_text(LOCAL_USER, LOCAL_USER, piece, first_name=LOCAL_NAME)
        await self.wait_reply(before)


def _handling(app: Any) -> bool:
    """The application is still processing an update (its handler has not returned)."""
    try:
        return int(app.update_processor.current_concurrent_updates) > 0
    except AttributeError:  # an older python-telegram-bot: fall back to waiting for quiet only
        return False


def _as_file(text: str) -> Path | None:
    if not text or "\n" in text or len(text) > 1000:
        return None
    candidate = Path(os.path.expanduser(text.strip("'\"")))
    try:
        return candidate if candidate.is_file() else None
    except OSError:
        return None


def _is_single(line: str) -> bool:
    """Lines that stand alone (a command, a button, a file); other lines may be part of a paste."""
    s = line.strip()
    return s.startswith("/") or bool(re.fullmatch(r"!\d+", s)) or _as_file(s) is not None


def _start_reader(stream: TextIO, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    def read() -> None:
        try:
            for line in stream:
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="stdin-reader", daemon=True).start()


async def _next_message(queue: asyncio.Queue[str | None], held: list[str | None], paste_gap: float) -> str | None:
    """The next thing to send: a single command/button/file line, or consecutive text lines that
    arrive together (a paste, or a report in a piped file) joined into one message."""
    while True:
        line = held.pop() if held else await queue.get()
        if line is None:
            return None
        if line.strip():
            break
    if _is_single(line):
        return line.strip()
    lines = [line]
    while True:
        try:
            nxt = held.pop() if held else await asyncio.wait_for(queue.get(), paste_gap)
        except TimeoutError:
            break
        if nxt is None or _is_single(nxt):
            held.append(nxt)
            break
        lines.append(nxt)
    return "\n".join(lines).strip()


async def run_local(settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    from bot.app import build_application

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    with contextlib.suppress(AttributeError, ValueError):
        stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    database = settings.database if "database" in settings.model_fields_set else "data/local.sqlite3"
    emu = BotAPIEmulator()
    await emu.start()
    local = settings.model_copy(
        update={
            "bot_token": SecretStr(emu.token),
            "bot_api_base_url": emu.base_url,
            "bot_api_file_url": emu.base_file_url,
            "database": database,
            "admins": [*settings.admins, LOCAL_USER],
        }
    )
    try:
        app = build_application(local)
    except ValueError as exc:  # e.g. the transformers engine without BOT_MODEL
        await emu.stop()
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return 2
    chat = TerminalChat(emu, stdout, bold=stdout.isatty(), busy=lambda: _handling(app))
    try:
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await app.start()
        chat.say(BANNER.format(database=database))
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        _start_reader(stdin, loop, queue)
        held: list[str | None] = []
        interactive = stdin.isatty()
        while True:
            if interactive:
                stdout.write("Bạn › ")
                stdout.flush()
            message = await _next_message(queue, held, 0.15 if interactive else 0.5)
            if message is None:
                break
            await chat.send(message)
        await emu.wait_idle(quiet=0.5, timeout=30)
        chat.show_new()
        chat.say("Tạm biệt!")
        return 0
    except (KeyboardInterrupt, asyncio.CancelledError):
        chat.say("\nTạm biệt!")
        return 0
    finally:
        if app.running:
            await app.updater.stop()
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        with contextlib.suppress(Exception):
            await app.shutdown()
            if app.post_shutdown:
                await app.post_shutdown(app)
        await emu.stop()
