"""A small Telegram Bot API server on aiohttp, for tests, benchmarks and local mode.

It speaks the real Bot API over HTTP (same URLs, same JSON shapes, same error bodies), so the bot
runs through python-telegram-bot's real request path. Tests inject updates (``send_text``, ``send_photo``,
``send_document``, ``press_button``), read what the bot did (``calls``, ``messages``, ``documents``)
and inject faults (``fail_next``, ``forbid_chat``; for the reliability suite also ``rate_limit_chat``,
``fail_share``, ``lose_answers`` and ``delay_calls``); ``errors`` lists every error answer it gave.

Where real Telegram rejects a request, so does the emulator, because those rejections are bugs the
bot must not have: HTML that Telegram cannot parse (unknown tags, unbalanced tags), text over 4096
characters, captions over 1024, callback data over 64 bytes, editing a message without changing
it, getFile on a file over 20 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import mimetypes
import random
import re
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

__all__ = ["BotAPIEmulator", "Upload"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024  # bots may download at most 20 MB through getFile

# Parameters whose form value is a plain string; every other form value is JSON-encoded by clients
# such as PTB (chat_id "42", reply_markup '{"inline_keyboard": ...}').
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "file_id", "action", "url",
        "inline_message_id", "business_connection_id", "message_effect_id", "language_code",
        "description", "short_description", "name", "emoji", "title", "secret_token", "ip_address",
        "data", "query",
    }
)
_FILE_PARAMS = ("document", "photo", "thumbnail", "audio", "video", "voice", "animation", "sticker")
_SEND_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto"})

_ALLOWED_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_URL_RE = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded in a multipart request (what ``calls`` holds for a file parameter)."""

    file_name: str
    content: bytes
    mime_type: str | None = None


class _BadRequest(Exception):
    """Raised inside a method handler: becomes a 400 "Bad Request: ..." like Telegram's."""


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    """Parses Telegram's HTML subset into (plain text, entities) and rejects what Telegram rejects."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pos = 0  # UTF-16 offset
        self.stack: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            raise _BadRequest(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset '
                              f"{self._byte_offset()}")
        attributes = dict(attrs)
        entity: dict[str, Any] = {"type": _ALLOWED_TAGS[tag]}
        if tag == "a":
            href = attributes.get("href") or ""
            match = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if match:
                entity = {"type": "text_mention", "user": {"id": int(match.group(1)), "is_bot": False,
                                                           "first_name": ""}}
            else:
                entity["url"] = href
        elif tag == "span" and attributes.get("class") != "tg-spoiler":
            raise _BadRequest('can\'t parse entities: Unsupported start tag "span"')
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id", "")
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][2]["language"] = language
        self.stack.append((tag, self.pos, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _BadRequest(f'can\'t parse entities: Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise _BadRequest(f'can\'t parse entities: Unmatched end tag at byte offset '
                              f'{self._byte_offset()}, expected "</{self.stack[-1][0] if self.stack else ""}>", '
                              f'found "</{tag}>"')
        _, start, entity = self.stack.pop()
        if self.pos > start:
            self.entities.append({**entity, "offset": start, "length": self.pos - start})

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.pos += _utf16_len(data)

    def handle_comment(self, data: str) -> None:
        raise _BadRequest("can't parse entities: Unsupported start tag \"!--\"")

    def handle_decl(self, decl: str) -> None:
        raise _BadRequest("can't parse entities: Unsupported start tag \"!\"")

    def handle_pi(self, data: str) -> None:
        raise _BadRequest("can't parse entities: Unsupported start tag \"?\"")

    def _byte_offset(self) -> int:
        return len("".join(self.parts).encode())

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.close()
        if self.stack:
            raise _BadRequest(f'can\'t parse entities: Can\'t find end tag corresponding to start tag '
                              f'"{self.stack[-1][0]}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def _parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    if parse_mode and parse_mode.upper() == "HTML":
        parser = _TelegramHTML()
        parser.feed(text)
        return parser.result()
    return text, []


def _auto_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram adds to what a user types: a leading /command and plain URLs."""
    entities: list[dict[str, Any]] = []
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command)})
    for match in _URL_RE.finditer(text):
        url = match.group(0).rstrip(".,;:!?)»”'")
        entities.append({"type": "url", "offset": _utf16_len(text[: match.start()]), "length": _utf16_len(url)})
    return entities


def _image_size(content: bytes) -> tuple[int, int]:
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return 1, 1


def _as_chat_id(value: Any) -> int | str | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


class BotAPIEmulator:
    """A fake Telegram Bot API server on 127.0.0.1 (real JSON, real errors, long polling)."""

    def __init__(self, token: str = "123456:TEST-TOKEN", host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # (time.monotonic() when the call came in, method, chat_id) of every Bot API call (rates)
        self.call_times: list[tuple[float, str, int | str | None]] = []
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot_user: dict[str, Any] = {
            "id": bot_id, "is_bot": True, "first_name": "Bot Hội nghị", "username": "hoinghi_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False,
            "can_connect_to_business": False, "has_main_web_app": False,
        }
        self._updates: list[dict[str, Any]] = []  # not yet confirmed by a getUpdates offset
        self._update_ids = itertools.count(1)
        self._delivered_up_to = 0  # highest update_id returned by getUpdates at least once
        # update_id -> time.monotonic() when getUpdates first handed it to the bot (benchmarks split
        # latency into waiting to be fetched and the bot's own processing)
        self.delivered_at: dict[int, float] = {}
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._stored: dict[tuple[int | str, int], dict[str, Any]] = {}  # every message, by (chat, id)
        self._sent: list[dict[str, Any]] = []  # records of bot-sent messages: {"message", "_method", ...}
        self._sent_by_chat: dict[int | str, list[dict[str, Any]]] = {}  # same records, per chat
        self._files: dict[str, tuple[str, bytes, str | None]] = {}  # file_id -> (file_name, bytes, mime)
        self._file_paths: dict[str, str] = {}  # file_path -> file_id
        self._faults: list[dict[str, Any]] = []
        self._forbidden: set[int | str] = set()
        self._chat_limits: dict[int | str, dict[str, Any]] = {}  # chat -> per-chat 429 window
        self._share_faults: list[dict[str, Any]] = []  # a random share of calls fails (5xx)
        self._lost: list[dict[str, Any]] = []  # performed, but the answer is dropped or delayed
        self._delays: list[dict[str, Any]] = []  # the call waits before it is handled
        # every error answer: {"method", "chat_id", "status", "description", "at"} (injected ones too)
        self.errors: list[dict[str, Any]] = []
        # calls that were performed but whose answer the client never got in time:
        # {"method", "chat_id", "mode", "message_id", "at"}
        self.lost_answers: list[dict[str, Any]] = []
        self._last_activity = time.monotonic()
        self._last_chat: dict[int, int | str | None] = {}  # request -> chat_id, for `errors`
        self._loop: asyncio.AbstractEventLoop | None = None
        self._update_event: asyncio.Event | None = None
        self._activity_event: asyncio.Event | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "getfile": self._get_file,
            "deletemessage": self._delete_message,
            "deletewebhook": self._delete_webhook,
            "getmycommands": self._get_my_commands,
            "setmycommands": self._set_my_commands,
        }
        self._my_commands: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._update_event = asyncio.Event()
        self._activity_event = asyncio.Event()
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # shutdown_timeout: without it stopping waits for the long poll and takes seconds.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ injecting updates
    def _user(self, user_id: int, first_name: str | None = None) -> dict[str, Any]:
        user = self._users.get(user_id)
        if user is None or (first_name and user["first_name"] != first_name):
            user = {"id": user_id, "is_bot": False, "first_name": first_name or f"Người dùng {user_id}",
                    "language_code": "vi"}
            self._users[user_id] = user
        return user

    def _chat(self, chat_id: int | str, chat_type: str | None = None, first_name: str | None = None,
              title: str | None = None) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is not None and chat_type is None:
            return chat
        if chat_type is None:  # a chat the bot writes to before anyone spoke there
            chat_type = "private" if isinstance(chat_id, int) and chat_id > 0 else "group"
        if chat_type == "private":
            chat = {"id": chat_id, "type": "private", "first_name": first_name or f"Người dùng {chat_id}"}
        else:
            chat = {"id": chat_id, "type": chat_type, "title": title or f"Nhóm {chat_id}"}
        self._chats[chat_id] = chat
        return chat

    def _user_message(self, chat_id: int, user_id: int, chat_type: str, first_name: str,
                      chat_title: str | None) -> dict[str, Any]:
        user = self._user(user_id, first_name)
        chat = self._chat(chat_id, chat_type, first_name, chat_title)
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": dict(chat),
                   "from": dict(user)}
        self._stored[(chat_id, message["message_id"])] = message
        return message

    def send_text(self, chat_id: int, user_id: int, text: str, *, chat_type: str = "private",
                  first_name: str = "Nguyễn Văn A", forward_origin: dict[str, Any] | None = None,
                  media_group_id: str | None = None, chat_title: str | None = None) -> dict[str, Any]:
        """Queue a text message from a user (a /command gets its bot_command entity, as in Telegram)."""
        message = self._user_message(chat_id, user_id, chat_type, first_name, chat_title)
        message["text"] = text
        entities = _auto_entities(text)
        if entities:
            message["entities"] = entities
        if forward_origin is not None:
            message["forward_origin"] = {"date": message["date"], **forward_origin}
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return self.inject_update({"message": message})

    def send_document(self, chat_id: int, user_id: int, file_name: str, content: bytes,
                      mime_type: str | None = None, *, caption: str | None = None,
                      chat_type: str = "private", first_name: str = "Nguyễn Văn A") -> dict[str, Any]:
        """Queue a document message; the bytes become downloadable through getFile."""
        message = self._user_message(chat_id, user_id, chat_type, first_name, None)
        mime_type = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        file_id = self._store_file(file_name, content, mime_type)
        message["document"] = {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_name": file_name,
                               "mime_type": mime_type, "file_size": len(content)}
        if caption is not None:
            message["caption"] = caption
        return self.inject_update({"message": message})

    def send_photo(self, chat_id: int, user_id: int, sizes: list[bytes], *, caption: str | None = None,
                   media_group_id: str | None = None, chat_type: str = "private",
                   first_name: str = "Nguyễn Văn A") -> dict[str, Any]:
        """Queue a photo message: one PhotoSize per image in ``sizes`` (Telegram lists them smallest
        first), each downloadable through getFile; width/height are read from PNG headers."""
        message = self._user_message(chat_id, user_id, chat_type, first_name, None)
        photo = []
        for content in sizes:
            file_id = self._store_file("photo.jpg", content, "image/jpeg")
            width, height = _image_size(content)
            photo.append({"file_id": file_id, "file_unique_id": f"U{file_id}", "width": width, "height": height,
                          "file_size": len(content)})
        message["photo"] = photo
        if caption is not None:
            message["caption"] = caption
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return self.inject_update({"message": message})

    def press_button(self, chat_id: int, user_id: int, message_id: int, data: str) -> dict[str, Any]:
        """Queue a callback_query for an inline button on a stored message."""
        message = self._stored.get((chat_id, message_id))
        if message is None:  # Telegram sends an InaccessibleMessage (date 0) for unknown/old messages
            message = {"message_id": message_id, "date": 0, "chat": dict(self._chat(chat_id))}
        query = {"id": str(next(self._callback_ids)), "from": dict(self._user(user_id)),
                 "message": json.loads(json.dumps(message)), "chat_instance": str(abs(hash(chat_id))),
                 "data": data}
        return self.inject_update({"callback_query": query})

    def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue any Update JSON; update_id is filled in."""
        update = {**update, "update_id": next(self._update_ids)}
        self._updates.append(update)
        self._wake()
        return update

    # ------------------------------------------------------------------ what the bot did
    def messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (deleted ones excluded), edits applied.

        Each is a copy of the Message JSON plus "_method" (sendMessage/sendDocument/sendPhoto),
        "_raw_text" (the text or caption as the bot sent it, e.g. with HTML tags), "_parse_mode" and
        "_sent_at" (time.monotonic() when the emulator received the send).
        """
        records = self._sent if chat_id is None else self._sent_by_chat.get(chat_id, [])
        return [{**json.loads(json.dumps(record["message"])), "_method": record["_method"],
                 "_raw_text": record.get("_raw_text"), "_parse_mode": record.get("_parse_mode"),
                 "_sent_at": record["_sent_at"]}
                for record in records if not record.get("_deleted")]

    def max_rate(self, window: float = 1.0, *, since: int = 0, methods: tuple[str, ...] | None = None) -> int:
        """The most calls with a chat_id (what Telegram's ~30 msg/s counts), or of `methods`,
        that came in within any `window` seconds (a sliding window), from call number `since` on."""
        return len(self.busiest(window, since=since, methods=methods))

    def busiest(self, window: float = 1.0, *, since: int = 0,
                methods: tuple[str, ...] | None = None) -> list[tuple[float, str, int | str | None]]:
        """The calls of `max_rate`'s busiest window."""
        calls = sorted(c for c in self.call_times[since:] if c[2] is not None and (methods is None or c[1] in methods))
        best: tuple[int, int] = (0, 0)
        start = 0
        for end, (t, _, _) in enumerate(calls):
            while calls[start][0] <= t - window:
                start += 1
            if end + 1 - start > best[1] - best[0]:
                best = (start, end + 1)
        return calls[best[0]:best[1]]

    def sent_count(self, chat_id: int) -> int:
        """How many messages the bot sent to ``chat_id`` (deleted ones excluded), without copying them:
        cheap enough for a bench that polls hundreds of chats."""
        return sum(1 for r in self._sent_by_chat.get(chat_id, []) if not r.get("_deleted"))

    def documents(self, chat_id: int | None = None) -> list[tuple[str, bytes]]:
        result = []
        for message in self.messages(chat_id):
            if message["_method"] == "sendDocument":
                name, content, _ = self._files[message["document"]["file_id"]]
                result.append((name, content))
        return result

    def photos(self, chat_id: int | None = None) -> list[bytes]:
        return [self._files[m["photo"][-1]["file_id"]][1] for m in self.messages(chat_id)
                if m["_method"] == "sendPhoto"]

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id``; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            sent = sum(1 for r in self._sent_by_chat.get(chat_id, []) if not r.get("_deleted"))
            if sent >= count:  # counted without copying: many waiters wake on every call in benchmarks
                return self.messages(chat_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                found = self.messages(chat_id)
                raise TimeoutError(
                    f"expected {count} message(s) to chat {chat_id}, got {len(found)}: "
                    f"{[m.get('text') or m.get('caption') for m in found]}; "
                    f"last calls: {[c[0] for c in self.calls[-10:]]}"
                )
            await self._wait_activity(min(remaining, 0.5))

    def quiet_for(self) -> float:
        """Seconds since the bot's last call other than getUpdates; 0 while an update waits to be
        delivered (a bench's "nothing more is coming" test, without blocking like ``wait_idle``)."""
        if self._updates and self._updates[-1]["update_id"] > self._delivered_up_to:
            return 0.0
        return time.monotonic() - self._last_activity

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until every queued update was delivered and no call but getUpdates came for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            delivered = not self._updates or self._updates[-1]["update_id"] <= self._delivered_up_to
            if delivered and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(f"bot not idle after {timeout} s; last calls: "
                                   f"{[c[0] for c in self.calls[-10:]]}")
            wait = quiet - (now - self._last_activity) if delivered else 0.05
            await asyncio.sleep(max(0.01, min(wait, deadline - now)))

    # ------------------------------------------------------------------ faults
    def fail_next(self, method: str, status: int, *, retry_after: int | None = None,
                  description: str | None = None, times: int = 1, chat_id: int | None = None) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id`` if given) fail with ``status``."""
        self._faults.append({"method": method.lower(), "status": status, "retry_after": retry_after,
                             "description": description, "times": times, "chat_id": chat_id})

    def forbid_chat(self, chat_id: int) -> None:
        """Every request addressed to ``chat_id`` gets 403, as when a user blocked the bot."""
        self._forbidden.add(chat_id)

    def rate_limit_chat(self, chat_id: int, seconds: float,
                        methods: tuple[str, ...] = ("sendMessage", "sendDocument", "sendPhoto",
                                                    "editMessageText")) -> None:
        """Telegram's per-chat flood control: for ``seconds`` from now, every call of ``methods``
        to ``chat_id`` gets 429 with ``retry_after`` = the seconds left (rounded up); other chats
        are not affected."""
        self._chat_limits[chat_id] = {"until": time.monotonic() + seconds,
                                      "methods": frozenset(m.lower() for m in methods)}

    def fail_share(self, method: str, share: float, *, statuses: tuple[int, ...] = (500, 502),
                   chat_id: int | None = None, seed: int = 0) -> None:
        """A random ``share`` (0..1, reproducible with ``seed``) of the calls of ``method`` fail with one
        of ``statuses`` without being performed, as when Telegram's front end has a bad moment."""
        self._share_faults.append({"method": method.lower(), "share": share, "statuses": tuple(statuses),
                                   "chat_id": chat_id, "rng": random.Random(seed), "failed": 0})

    def lose_answers(self, method: str, *, share: float = 1.0, times: int | None = None, mode: str = "drop",
                     delay: float = 10.0, chat_id: int | None = None, seed: int = 0) -> None:
        """The call IS performed (the message is sent), but its answer is lost: with ``mode="drop"``
        the connection is closed without an answer, with ``mode="delay"`` the answer comes after
        ``delay`` seconds (past the client's read timeout). Applies to a random ``share`` of the
        calls (reproducible with ``seed``), at most ``times`` of them if given; ``lost_answers``
        records each one."""
        if mode not in ("drop", "delay"):
            raise ValueError("mode is 'drop' or 'delay'")
        self._lost.append({"method": method.lower(), "share": share, "times": times, "mode": mode,
                           "delay": delay, "chat_id": chat_id, "rng": random.Random(seed)})

    def delay_calls(self, method: str, seconds: float, *, share: float = 1.0, times: int | None = None,
                    chat_id: int | None = None, seed: int = 0) -> None:
        """A random ``share`` of the calls of ``method`` wait ``seconds`` before they are handled
        (a slow Telegram: nothing is performed until then)."""
        self._delays.append({"method": method.lower(), "seconds": seconds, "share": share, "times": times,
                             "chat_id": chat_id, "rng": random.Random(seed)})

    def clear_faults(self) -> None:
        """Forget every injected fault (counted, per-chat 429, shares, lost answers, delays, 403s)."""
        self._faults.clear()
        self._forbidden.clear()
        self._chat_limits.clear()
        self._share_faults.clear()
        self._lost.clear()
        self._delays.clear()

    # ------------------------------------------------------------------ internals
    def _wake(self) -> None:
        def wake() -> None:
            if self._update_event is not None:
                self._update_event.set()
                self._update_event = asyncio.Event()

        self._call_in_loop(wake)

    def _call_in_loop(self, func: Callable[[], None]) -> None:
        if self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            func()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(func)

    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        if self._activity_event is not None:
            self._activity_event.set()
            self._activity_event = asyncio.Event()

    async def _wait_activity(self, timeout: float) -> None:
        event = self._activity_event
        if event is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _store_file(self, file_name: str, content: bytes, mime_type: str | None) -> str:
        file_id = f"F{next(self._file_ids):06d}"
        self._files[file_id] = (file_name, content, mime_type)
        return file_id

    @staticmethod
    def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
            return params
        if content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part is None or not hasattr(part, "read_chunk"):
                    continue
                if part.filename:
                    data = await part.read()
                    files[part.name or ""] = Upload(part.filename, bytes(data),
                                                    part.headers.get("Content-Type"))
                else:
                    raw[part.name or ""] = await part.text()
        elif request.can_read_body:
            raw.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for key, value in list(raw.items()) + list(params.items()):
            if key not in _STRING_PARAMS and isinstance(value, str):
                try:
                    params[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            params[key] = value
        for key, value in list(params.items()):  # InputMedia-style "attach://name" references
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                params[key] = files.pop(value[9:])
        params.update(files)
        return params

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = await self._dispatch(request)
        if response.status >= 400:
            method = request.path.rsplit("/", 1)[-1] if request.path.startswith("/bot") else request.path
            body = getattr(response, "text", None) or ""
            try:
                description = json.loads(body).get("description", "")
            except (ValueError, AttributeError):
                description = ""
            self.errors.append({"method": method, "chat_id": self._last_chat.pop(id(request), None),
                                "status": response.status, "description": description,
                                "at": time.monotonic()})
        else:
            self._last_chat.pop(id(request), None)
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot"):].partition("/")
            if token != self.token:
                return self._error(401, "Unauthorized")
            file_id = self._file_paths.get(file_path)
            if file_id is None:
                return self._error(404, "Not Found")
            _, content, mime = self._files[file_id]
            return web.Response(body=content, headers={"Content-Type": mime or "application/octet-stream"})
        if not path.startswith("/bot"):
            return self._error(404, "Not Found")
        token, _, method = path[len("/bot"):].partition("/")
        if token != self.token:
            return self._error(401, "Unauthorized")
        try:
            params = await self._read_params(request)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._error(400, f"Bad Request: can't parse request: {exc}")
        self.calls.append((method, params))
        self.call_times.append((time.monotonic(), method, _as_chat_id(params.get("chat_id"))))
        self._last_chat[id(request)] = _as_chat_id(params.get("chat_id"))
        if method.lower() != "getupdates":
            self._touch()
        fault = self._take_fault(method.lower(), params)
        if fault is not None:
            return fault
        if _as_chat_id(params.get("chat_id")) in self._forbidden:
            return self._error(403, "Forbidden: bot was blocked by the user")
        wait = self._take_delay(method.lower(), params)
        if wait > 0:
            await asyncio.sleep(wait)
        handler = self._methods.get(method.lower())
        try:
            if method.lower() == "getupdates":
                result = await self._get_updates(params, request)
            elif handler is not None:
                result = await handler(params)
            elif method.lower() in _HARMLESS:
                result = True
            else:
                return self._error(404, "Not Found")
        except _BadRequest as exc:
            return self._error(400, f"Bad Request: {exc}")
        finally:
            if method.lower() != "getupdates":
                self._touch()
        lost = self._take_lost(method.lower(), params)
        if lost is not None:
            self.lost_answers.append({"method": method, "chat_id": _as_chat_id(params.get("chat_id")),
                                      "mode": lost["mode"], "at": time.monotonic(),
                                      "message_id": result.get("message_id") if isinstance(result, dict) else None})
            if lost["mode"] == "drop":  # the client sees the connection close without an answer
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=200)
            await asyncio.sleep(lost["delay"])  # the answer comes after the client gave up
        return web.json_response({"ok": True, "result": result},
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False))

    def _take_fault(self, method: str, params: dict[str, Any]) -> web.Response | None:
        chat_id = _as_chat_id(params.get("chat_id"))
        for fault in self._faults:
            if fault["method"] != method or (fault["chat_id"] is not None and fault["chat_id"] != chat_id):
                continue
            fault["times"] -= 1
            if fault["times"] <= 0:
                self._faults.remove(fault)
            status = fault["status"]
            if status == 429:
                retry_after = fault["retry_after"] if fault["retry_after"] is not None else 1
                return self._error(429, fault["description"] or f"Too Many Requests: retry after {retry_after}",
                                   {"retry_after": retry_after})
            default = {400: "Bad Request: emulated failure", 403: "Forbidden: bot was blocked by the user",
                       500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Emulated failure")
            return self._error(status, fault["description"] or default)
        limit = self._chat_limits.get(chat_id) if chat_id is not None else None
        if limit is not None and method in limit["methods"]:
            remaining = limit["until"] - time.monotonic()
            if remaining <= 0:
                del self._chat_limits[chat_id]
            else:
                retry_after = max(1, math.ceil(remaining))
                return self._error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        for share in self._share_faults:
            if share["method"] != method or (share["chat_id"] is not None and share["chat_id"] != chat_id):
                continue
            if share["rng"].random() < share["share"]:
                status = share["rng"].choice(share["statuses"])
                share["failed"] += 1
                text = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                        504: "Gateway Timeout"}.get(status, "Emulated failure")
                return self._error(status, text)
        return None

    def _pick(self, rules: list[dict[str, Any]], method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The first rule for this call (method, chat, share, remaining count), counted down."""
        chat_id = _as_chat_id(params.get("chat_id"))
        for rule in rules:
            if rule["method"] != method or (rule["chat_id"] is not None and rule["chat_id"] != chat_id):
                continue
            if rule["times"] is not None and rule["times"] <= 0:
                continue
            if rule["rng"].random() >= rule["share"]:
                continue
            if rule["times"] is not None:
                rule["times"] -= 1
            return rule
        return None

    def _take_delay(self, method: str, params: dict[str, Any]) -> float:
        rule = self._pick(self._delays, method, params)
        return float(rule["seconds"]) if rule is not None else 0.0

    def _take_lost(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        return self._pick(self._lost, method, params)

    # ------------------------------------------------------------------ Bot API methods
    async def _get_me(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> Any:
        return self._my_commands

    async def _set_my_commands(self, params: dict[str, Any]) -> Any:
        self._my_commands = list(params.get("commands") or [])
        return True

    async def _get_updates(self, params: dict[str, Any], request: web.Request) -> Any:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self._updates if u["update_id"] >= offset][:limit]
            if ready:
                self._delivered_up_to = max(self._delivered_up_to, ready[-1]["update_id"])
                now = time.monotonic()
                for update in ready:
                    self.delivered_at.setdefault(update["update_id"], now)
                return ready
            remaining = deadline - time.monotonic()
            transport = request.transport
            if remaining <= 0 or self._closing or transport is None or transport.is_closing():
                return []
            event = self._update_event
            assert event is not None
            with contextlib.suppress(TimeoutError):
                # short slices so a client that hung up is noticed quickly
                await asyncio.wait_for(event.wait(), min(remaining, 0.2))

    def _markup(self, message: dict[str, Any], reply_markup: Any) -> None:
        if isinstance(reply_markup, dict) and "inline_keyboard" in reply_markup:
            for row in reply_markup["inline_keyboard"]:
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                        raise _BadRequest("BUTTON_DATA_INVALID")
            if reply_markup["inline_keyboard"]:
                message["reply_markup"] = reply_markup
            else:
                message.pop("reply_markup", None)
        elif reply_markup is None:
            message.pop("reply_markup", None)

    def _bot_message(self, params: dict[str, Any], method: str) -> dict[str, Any]:
        chat_id = _as_chat_id(params.get("chat_id"))
        if chat_id is None:
            raise _BadRequest("chat_id is empty")
        message: dict[str, Any] = {"message_id": next(self._message_ids), "from": dict(self.bot_user),
                                   "chat": dict(self._chat(chat_id)), "date": int(time.time())}
        reply_to = params.get("reply_to_message_id")
        if isinstance(params.get("reply_parameters"), dict):
            reply_to = params["reply_parameters"].get("message_id")
        if reply_to is not None and (chat_id, int(reply_to)) in self._stored:
            message["reply_to_message"] = dict(self._stored[(chat_id, int(reply_to))])
        return message

    def _record(self, message: dict[str, Any], method: str, **extra: Any) -> dict[str, Any]:
        self._stored[(message["chat"]["id"], message["message_id"])] = message
        record = {"message": message, "_method": method, "_sent_at": time.monotonic(), **extra}
        self._sent.append(record)
        self._sent_by_chat.setdefault(message["chat"]["id"], []).append(record)
        return message

    def _set_text(self, message: dict[str, Any], text: Any, parse_mode: Any, key: str, limit: int) -> None:
        if not isinstance(text, str) or not text.strip():
            raise _BadRequest("message text is empty")
        plain, entities = _parse_text(text, parse_mode)
        if not plain.strip():
            raise _BadRequest("message text is empty")
        if _utf16_len(plain) > limit:
            raise _BadRequest("message is too long" if key == "text" else "message caption is too long")
        message[key] = plain
        entity_key = "entities" if key == "text" else "caption_entities"
        if entities:
            message[entity_key] = entities
        else:
            message.pop(entity_key, None)

    async def _send_message(self, params: dict[str, Any]) -> Any:
        message = self._bot_message(params, "sendMessage")
        self._set_text(message, params.get("text"), params.get("parse_mode"), "text", MAX_TEXT)
        self._markup(message, params.get("reply_markup"))
        return self._record(message, "sendMessage", _raw_text=params.get("text"),
                            _parse_mode=params.get("parse_mode"))

    def _find_for_edit(self, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        chat_id = _as_chat_id(params.get("chat_id"))
        message_id = params.get("message_id")
        message = self._stored.get((chat_id, int(message_id))) if chat_id is not None and message_id else None
        if message is None:
            raise _BadRequest("message to edit not found")
        record = next((r for r in self._sent_by_chat.get(chat_id, []) if r["message"] is message), None)
        if record is None:
            raise _BadRequest("message can't be edited")
        return message, record

    async def _edit_message_text(self, params: dict[str, Any]) -> Any:
        message, record = self._find_for_edit(params)
        before = json.dumps(message, sort_keys=True)
        updated = dict(message)
        self._set_text(updated, params.get("text"), params.get("parse_mode"), "text", MAX_TEXT)
        self._markup(updated, params.get("reply_markup"))
        if json.dumps(updated, sort_keys=True) == before:
            raise _BadRequest("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        message.clear()
        message.update(updated, edit_date=int(time.time()))
        record.update(_raw_text=params.get("text"), _parse_mode=params.get("parse_mode"))
        return message

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        message, _ = self._find_for_edit(params)
        updated = dict(message)
        self._markup(updated, params.get("reply_markup"))
        if updated == message:
            raise _BadRequest("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        message.clear()
        message.update(updated, edit_date=int(time.time()))
        return message

    async def _delete_message(self, params: dict[str, Any]) -> Any:
        key = (_as_chat_id(params.get("chat_id")), int(params.get("message_id") or 0))
        message = self._stored.pop(key, None)
        if message is None:
            raise _BadRequest("message to delete not found")
        for record in self._sent:
            if record["message"] is message:
                record["_deleted"] = True
        return True

    def _upload(self, params: dict[str, Any], key: str) -> tuple[str, str, bytes, str | None]:
        value = params.get(key)
        if isinstance(value, Upload):
            mime = value.mime_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(value.file_name)[0] or mime
            return self._store_file(value.file_name, value.content, mime), value.file_name, value.content, mime
        if isinstance(value, str) and value in self._files:
            name, content, mime = self._files[value]
            return value, name, content, mime
        raise _BadRequest(f"there is no {key} in the request")

    def _caption(self, message: dict[str, Any], params: dict[str, Any]) -> None:
        if params.get("caption"):
            self._set_text(message, params["caption"], params.get("parse_mode"), "caption", MAX_CAPTION)
        self._markup(message, params.get("reply_markup"))

    async def _send_document(self, params: dict[str, Any]) -> Any:
        message = self._bot_message(params, "sendDocument")
        file_id, name, content, mime = self._upload(params, "document")
        message["document"] = {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_name": name,
                               "mime_type": mime or "application/octet-stream", "file_size": len(content)}
        self._caption(message, params)
        return self._record(message, "sendDocument", _raw_text=params.get("caption"),
                            _parse_mode=params.get("parse_mode"))

    async def _send_photo(self, params: dict[str, Any]) -> Any:
        message = self._bot_message(params, "sendPhoto")
        file_id, _, content, _ = self._upload(params, "photo")
        width, height = _image_size(content)
        message["photo"] = [{"file_id": file_id, "file_unique_id": f"U{file_id}", "width": width,
                             "height": height, "file_size": len(content)}]
        self._caption(message, params)
        return self._record(message, "sendPhoto", _raw_text=params.get("caption"),
                            _parse_mode=params.get("parse_mode"))

    async def _get_file(self, params: dict[str, Any]) -> Any:
        file_id = params.get("file_id")
        if file_id not in self._files:
            raise _BadRequest("invalid file_id")
        name, content, _ = self._files[file_id]
        if len(content) > MAX_DOWNLOAD:
            raise _BadRequest("file is too big")
        suffix = ""
        if "." in name:
            suffix = "." + re.sub(r"[^A-Za-z0-9]", "", name.rsplit(".", 1)[1])[:10]
        file_path = f"documents/file_{file_id}{suffix}"
        self._file_paths[file_path] = file_id
        return {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_size": len(content),
                "file_path": file_path}


# Methods that only need to succeed (the bot's state there is not observed by tests).
_HARMLESS = frozenset(
    {
        "answercallbackquery", "sendchataction", "deletemycommands", "setmydescription",
        "setmyshortdescription", "setchatmenubutton", "close", "logout", "setwebhook",
    }
)

