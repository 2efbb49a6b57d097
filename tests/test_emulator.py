"""The Bot API emulator, driven by a real python-telegram-bot Application over HTTP."""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import BotAPIEmulator

TOKEN = "123456:TEST-TOKEN"
CHAT = 4242
USER = 4242


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(TOKEN) as emulator:
        yield emulator


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"Xin chào! args={context.args}")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    seen: list[Update] = context.bot_data.setdefault("seen", [])
    seen.append(update)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Toàn văn", callback_data="full:1")]])
    await message.reply_html(f"Bạn gửi: <b>{html.escape(message.text)}</b>", reply_markup=keyboard)


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    file = await context.bot.get_file(message.document.file_id)
    data = await file.download_as_bytearray()
    await message.reply_text(f"{message.document.file_name}: {len(data)} byte: {bytes(data).decode()}")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Đã bấm {query.data}")


def _build(emu: BotAPIEmulator, *, token: str = TOKEN, rate_limiter: bool = False) -> Application:
    builder = ApplicationBuilder().token(token).base_url(emu.base_url).base_file_url(emu.base_file_url)
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    app = builder.build()
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(MessageHandler(filters.Document.ALL, _document))
    app.add_handler(CallbackQueryHandler(_button))
    return app


@pytest.fixture
async def bot_app(emu: BotAPIEmulator) -> AsyncIterator[Application]:
    app = _build(emu, rate_limiter=True)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    yield app
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_command_reaches_command_handler(emu: BotAPIEmulator, bot_app: Application) -> None:
    update = emu.send_text(CHAT, USER, "/start abc")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    [reply] = await emu.wait_for_messages(CHAT, 1)
    assert reply["text"] == "Xin chào! args=['abc']"
    assert reply["from"]["is_bot"] is True
    assert reply["chat"] == {"id": CHAT, "type": "private", "first_name": "Nguyễn Văn A"}
    assert reply["_method"] == "sendMessage"
    # getMe at initialize, deleteWebhook at start_polling, then the reply
    methods = [m for m, _ in emu.calls]
    assert methods[0] == "getMe" and "deleteWebhook" in methods and "sendMessage" in methods


async def test_echo_round_trip_html_and_buttons(emu: BotAPIEmulator, bot_app: Application) -> None:
    emu.send_text(CHAT, USER, "Số liệu <42> & tăng 15%")
    [reply] = await emu.wait_for_messages(CHAT, 1)
    # Telegram returns plain text plus entities, not the HTML that was sent
    assert reply["text"] == "Bạn gửi: Số liệu <42> & tăng 15%"
    assert reply["entities"] == [{"type": "bold", "offset": 9, "length": 23}]
    assert reply["_raw_text"] == "Bạn gửi: <b>Số liệu &lt;42&gt; &amp; tăng 15%</b>"
    assert reply["reply_markup"] == {"inline_keyboard": [[{"text": "Toàn văn", "callback_data": "full:1"}]]}
    params = next(p for m, p in emu.calls if m == "sendMessage")
    assert params["chat_id"] == CHAT  # the form value "4242" decoded
    assert params["parse_mode"] == "HTML"

    emu.press_button(CHAT, USER, reply["message_id"], "full:1")
    await emu.wait_idle()
    [edited] = emu.messages(CHAT)
    assert edited["message_id"] == reply["message_id"]
    assert edited["text"] == "Đã bấm full:1"
    assert "reply_markup" not in edited  # editMessageText without markup drops the keyboard, as Telegram
    assert "edit_date" in edited
    assert any(m == "answerCallbackQuery" for m, _ in emu.calls)


async def test_forward_origin_and_media_group_reach_ptb(emu: BotAPIEmulator, bot_app: Application) -> None:
    origin = {"type": "channel", "chat": {"id": -100777, "type": "channel", "title": "Văn phòng Huyện ủy"},
              "message_id": 9}
    emu.send_text(CHAT, USER, "Phần 1", forward_origin=origin, media_group_id="g1")
    emu.send_text(CHAT, USER, "Phần 2", forward_origin={"type": "user", "sender_user": {
        "id": 7, "is_bot": False, "first_name": "Trần B"}}, media_group_id="g1")
    await emu.wait_for_messages(CHAT, 2)
    seen: list[Update] = bot_app.bot_data["seen"]
    first, second = (u.effective_message for u in seen)
    assert first is not None and second is not None
    assert first.forward_origin is not None and first.forward_origin.type == "channel"
    assert first.forward_origin.chat.title == "Văn phòng Huyện ủy"  # type: ignore[attr-defined]
    assert second.forward_origin is not None
    assert second.forward_origin.sender_user.first_name == "Trần B"  # type: ignore[attr-defined]
    assert first.media_group_id == second.media_group_id == "g1"
    assert first.message_id < second.message_id


async def test_document_download_through_get_file(emu: BotAPIEmulator, bot_app: Application) -> None:
    content = "Báo cáo quý III".encode()
    update = emu.send_document(CHAT, USER, "bao_cao.txt", content)
    document = update["message"]["document"]
    assert document["mime_type"] == "text/plain" and document["file_size"] == len(content)
    [reply] = await emu.wait_for_messages(CHAT, 1)
    assert reply["text"] == f"bao_cao.txt: {len(content)} byte: Báo cáo quý III"
    assert any(m == "getFile" for m, _ in emu.calls)


async def test_429_is_retried_and_reply_arrives_once(emu: BotAPIEmulator, bot_app: Application) -> None:
    emu.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    emu.send_text(CHAT, USER, "/start")
    await emu.wait_for_messages(CHAT, 1)
    await emu.wait_idle(quiet=0.5)
    assert len(emu.messages(CHAT)) == 1
    assert [m for m, _ in emu.calls].count("sendMessage") == 2  # the 429, then the retry
    assert time.monotonic() - started >= 1.0  # retry_after honoured


async def test_forbidden_and_server_errors_raise(emu: BotAPIEmulator) -> None:
    app = _build(emu)
    await app.initialize()
    try:
        emu.forbid_chat(99)
        with pytest.raises(Forbidden, match="blocked by the user"):
            await app.bot.send_message(99, "xin chào")
        emu.fail_next("sendMessage", 500, chat_id=CHAT)
        await app.bot.send_message(CHAT + 1, "chat khác không bị lỗi")
        with pytest.raises(NetworkError):
            await app.bot.send_message(CHAT, "lỗi máy chủ")
        await app.bot.send_message(CHAT, "lần sau thì được")
        emu.fail_next("sendMessage", 403, times=2)
        for _ in range(2):
            with pytest.raises(Forbidden):
                await app.bot.send_message(CHAT, "x")
        await app.bot.send_message(CHAT, "hết lỗi")
        assert [m["text"] for m in emu.messages(CHAT)] == ["lần sau thì được", "hết lỗi"]
        assert emu.messages(99) == []
    finally:
        await app.shutdown()


async def test_rejects_what_telegram_rejects(emu: BotAPIEmulator) -> None:
    app = _build(emu)
    await app.initialize()
    try:
        with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
            await app.bot.send_message(CHAT, "<script>alert(1)</script>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="end tag"):
            await app.bot.send_message(CHAT, "<b>đậm", parse_mode="HTML")
        with pytest.raises(BadRequest, match="too long"):
            await app.bot.send_message(CHAT, "ạ" * 4097)
        with pytest.raises(BadRequest, match="empty"):
            await app.bot.send_message(CHAT, "<b></b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await app.bot.send_message(CHAT, "x", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("x", callback_data="đ" * 40)]]))
        ok = await app.bot.send_message(CHAT, "ạ" * 4096)
        with pytest.raises(BadRequest, match="not modified"):
            await app.bot.edit_message_text("ạ" * 4096, chat_id=CHAT, message_id=ok.message_id)
        with pytest.raises(BadRequest, match="not found"):
            await app.bot.edit_message_text("mới", chat_id=CHAT, message_id=999)
        assert len(emu.messages(CHAT)) == 1
    finally:
        await app.shutdown()


async def test_bot_uploads_are_kept(emu: BotAPIEmulator) -> None:
    app = _build(emu)
    await app.initialize()
    try:
        sent = await app.bot.send_document(CHAT, b"PK\x03\x04 docx bytes", filename="bao_cao.docx",
                                           caption="Bản <b>Word</b>", parse_mode="HTML")
        assert sent.document is not None and sent.document.file_name == "bao_cao.docx"
        assert sent.caption == "Bản Word"
        png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") + (480).to_bytes(4, "big")
        photo = await app.bot.send_photo(CHAT, png + b"rest")
        assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
        assert emu.documents(CHAT) == [("bao_cao.docx", b"PK\x03\x04 docx bytes")]
        assert emu.photos(CHAT) == [png + b"rest"]
        assert [m["_method"] for m in emu.messages()] == ["sendDocument", "sendPhoto"]
        await app.bot.delete_message(CHAT, photo.message_id)
        assert [m["_method"] for m in emu.messages()] == ["sendDocument"]
        # the bot's own upload can be downloaded back, as in Telegram
        file = await app.bot.get_file(sent.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"PK\x03\x04 docx bytes"
    finally:
        await app.shutdown()


async def test_wrong_token_is_unauthorised(emu: BotAPIEmulator) -> None:
    app = _build(emu, token="999:WRONG")
    with pytest.raises(InvalidToken):
        await app.initialize()
    await app.bot.shutdown()  # initialize() leaves the HTTP clients open when getMe fails
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{emu.base_url}999:WRONG/getMe")
        assert response.status_code == 401
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        good = await client.post(f"{emu.base_url}{TOKEN}/getMe")
        assert good.json()["result"]["is_bot"] is True
        unknown = await client.post(f"{emu.base_url}{TOKEN}/noSuchMethod")
        assert unknown.status_code == 404


async def test_raw_request_formats(emu: BotAPIEmulator) -> None:
    base = f"{emu.base_url}{TOKEN}"
    async with httpx.AsyncClient() as client:
        markup = json.dumps({"inline_keyboard": [[{"text": "Xóa", "callback_data": "del:1"}]]})
        form = await client.post(f"{base}/sendMessage", data={"chat_id": "42", "text": "123",
                                                               "reply_markup": markup})
        assert form.json()["result"]["text"] == "123"  # a numeric-looking text stays a string
        assert form.json()["result"]["chat"]["id"] == 42
        as_json = await client.post(f"{base}/sendMessage", json={"chat_id": 42, "text": "json"})
        assert as_json.json()["ok"] is True
        multipart = await client.post(f"{base}/sendDocument", data={"chat_id": "42"},
                                      files={"document": ("tệp.pdf", b"%PDF-1.4", "application/pdf")})
        assert multipart.json()["result"]["document"]["file_name"] == "tệp.pdf"
        rate = await client.post(f"{base}/sendMessage", data={"chat_id": "42", "text": "x"})
        assert rate.status_code == 200
        emu.fail_next("sendMessage", 429, retry_after=7)
        limited = await client.post(f"{base}/sendMessage", data={"chat_id": "42", "text": "x"})
        assert limited.status_code == 429
        assert limited.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                                  "parameters": {"retry_after": 7}}
    messages = emu.messages(42)
    assert [m.get("text") for m in messages] == ["123", "json", None, "x"]
    assert messages[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "del:1"
    assert emu.documents(42) == [("tệp.pdf", b"%PDF-1.4")]
    ids = [m["message_id"] for m in messages]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_long_polling_offsets(emu: BotAPIEmulator) -> None:
    base = f"{emu.base_url}{TOKEN}"
    async with httpx.AsyncClient(timeout=10) as client:
        started = time.monotonic()
        empty = await client.post(f"{base}/getUpdates", data={"timeout": "0.3"})
        assert empty.json()["result"] == [] and time.monotonic() - started >= 0.25

        async def inject_later() -> None:
            await asyncio.sleep(0.2)
            emu.send_text(CHAT, USER, "muộn")

        task = asyncio.create_task(inject_later())
        started = time.monotonic()
        got = await client.post(f"{base}/getUpdates", data={"timeout": "5"})
        await task
        assert time.monotonic() - started < 2  # woke on the update, not at the timeout
        [update] = got.json()["result"]
        first_delivery = emu.delivered_at[update["update_id"]]
        assert started + 0.15 < first_delivery <= time.monotonic()
        again = await client.post(f"{base}/getUpdates", data={"offset": "0"})
        assert again.json()["result"] == [update]  # not confirmed yet
        assert emu.delivered_at[update["update_id"]] == first_delivery  # the first hand-over counts
        second = emu.send_text(CHAT, USER, "thêm")
        assert second["update_id"] not in emu.delivered_at
        confirmed = await client.post(f"{base}/getUpdates", data={"offset": str(update["update_id"] + 1)})
        assert [u["update_id"] for u in confirmed.json()["result"]] == [second["update_id"]]
        limited = await client.post(f"{base}/getUpdates", data={"limit": "1"})
        assert len(limited.json()["result"]) == 1


async def test_clean_quick_shutdown(emu: BotAPIEmulator) -> None:
    before = asyncio.all_tasks()
    app = _build(emu)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    emu.send_text(CHAT, USER, "/start")
    await emu.wait_for_messages(CHAT, 1)
    await asyncio.sleep(0.1)  # the updater is now inside a long poll
    started = time.monotonic()
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    await emu.stop()
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
    assert leftover == []
    # the updater's last getUpdates confirmed the handled update (timeout 0)
    _, last_params = [c for c in emu.calls if c[0] == "getUpdates"][-1]
    assert last_params.get("timeout") == 0



async def test_injection_from_another_thread_wakes_the_long_poll(emu: BotAPIEmulator) -> None:
    """Local mode reads the terminal in a thread; an update injected there must wake getUpdates."""
    loop = asyncio.get_running_loop()
    base = f"{emu.base_url}{TOKEN}"
    async with httpx.AsyncClient(timeout=10) as client:
        poll = asyncio.create_task(client.post(f"{base}/getUpdates", data={"timeout": "5"}))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await loop.run_in_executor(None, emu.send_text, CHAT, USER, "từ luồng khác")
        response = await poll
    assert time.monotonic() - started < 1
    assert [u["message"]["text"] for u in response.json()["result"]] == ["từ luồng khác"]


async def test_wait_for_messages_times_out_with_what_was_sent(emu: BotAPIEmulator) -> None:
    async with httpx.AsyncClient() as client:
        await client.post(f"{emu.base_url}{TOKEN}/sendMessage", data={"chat_id": str(CHAT), "text": "một"})
    [only] = await emu.wait_for_messages(CHAT, 1, timeout=0.5)
    assert only["_sent_at"] <= time.monotonic()
    with pytest.raises(TimeoutError, match="got 1"):
        await emu.wait_for_messages(CHAT, 2, timeout=0.3)


# --- fault injection for the reliability suite (bench/reliability.py) ---------------------------------


async def test_rate_limit_chat_is_per_chat_and_ends(emu: BotAPIEmulator) -> None:
    from telegram.error import RetryAfter

    app = _build(emu)
    await app.initialize()
    try:
        emu.rate_limit_chat(CHAT, 1.5)
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(CHAT, "bị giới hạn")
        assert caught.value.retry_after.total_seconds() == 2  # type: ignore[union-attr]  # 1.5 s left, rounded up
        await app.bot.send_message(CHAT + 1, "chat khác vẫn gửi được")
        with pytest.raises(RetryAfter):
            await app.bot.send_message(CHAT, "vẫn bị giới hạn")
        await asyncio.sleep(1.6)
        await app.bot.send_message(CHAT, "hết giới hạn")
        assert [m["text"] for m in emu.messages(CHAT)] == ["hết giới hạn"]
        assert [(e["chat_id"], e["status"]) for e in emu.errors] == [(CHAT, 429), (CHAT, 429)]
        assert emu.errors[0]["method"] == "sendMessage" and "retry after" in emu.errors[0]["description"]
    finally:
        await app.shutdown()


async def test_fail_share_fails_a_reproducible_share_without_sending(emu: BotAPIEmulator) -> None:
    app = _build(emu)
    await app.initialize()
    try:
        emu.fail_share("sendMessage", 0.3, seed=7)
        failed = 0
        for i in range(60):
            try:
                await app.bot.send_message(CHAT, f"tin {i}")
            except NetworkError:
                failed += 1
        assert 8 <= failed <= 30  # about 30% of 60
        assert len(emu.messages(CHAT)) == 60 - failed  # a failed call sent nothing
        assert {e["status"] for e in emu.errors} <= {500, 502} and len(emu.errors) == failed
        await app.bot.get_me()  # other methods are not affected
    finally:
        await app.shutdown()
    async with BotAPIEmulator(TOKEN) as other:  # the same seed gives the same calls
        other.fail_share("sendMessage", 0.3, seed=7)
        async with httpx.AsyncClient() as client:
            codes = [(await client.post(f"{other.base_url}{TOKEN}/sendMessage",
                                        data={"chat_id": str(CHAT), "text": "x"})).status_code for _ in range(60)]
        assert codes.count(200) == 60 - failed


async def test_lost_answer_is_performed_but_not_answered(emu: BotAPIEmulator) -> None:
    app = _build(emu)
    await app.initialize()
    try:
        emu.lose_answers("sendMessage", times=1, mode="drop")
        with pytest.raises(NetworkError):
            await app.bot.send_message(CHAT, "đã gửi nhưng mất trả lời")
        assert [m["text"] for m in emu.messages(CHAT)] == ["đã gửi nhưng mất trả lời"]  # performed
        [lost] = emu.lost_answers
        assert lost["mode"] == "drop" and lost["chat_id"] == CHAT
        assert lost["message_id"] == emu.messages(CHAT)[0]["message_id"]
        await app.bot.send_message(CHAT, "lần sau bình thường")  # `times` used up
        emu.lose_answers("sendMessage", times=1, mode="delay", delay=2.0)
        with pytest.raises(TimedOut):
            await app.bot.send_message(CHAT, "trả lời đến muộn", read_timeout=0.5)
        assert [m["text"] for m in emu.messages(CHAT)][-1] == "trả lời đến muộn"
        assert [x["mode"] for x in emu.lost_answers] == ["drop", "delay"]
    finally:
        await app.shutdown()


async def test_delay_calls_and_clear_faults(emu: BotAPIEmulator) -> None:
    app = _build(emu)
    await app.initialize()
    try:
        emu.delay_calls("sendMessage", 0.5, chat_id=CHAT)
        started = time.monotonic()
        await app.bot.send_message(CHAT, "chậm")
        assert time.monotonic() - started >= 0.45
        started = time.monotonic()
        await app.bot.send_message(CHAT + 1, "chat khác không chậm")
        assert time.monotonic() - started < 0.45
        assert emu.quiet_for() < 0.45
        await asyncio.sleep(0.3)
        assert emu.quiet_for() >= 0.25
        emu.send_text(CHAT, USER, "chưa ai nhận")
        assert emu.quiet_for() == 0  # an update waits to be delivered
        emu.rate_limit_chat(CHAT, 60)
        emu.fail_share("sendMessage", 1.0)
        emu.lose_answers("sendMessage")
        emu.forbid_chat(CHAT)
        emu.clear_faults()
        started = time.monotonic()
        await app.bot.send_message(CHAT, "hết lỗi")
        assert time.monotonic() - started < 0.45 and emu.lost_answers == []
        assert [m["text"] for m in emu.messages(CHAT)] == ["chậm", "hết lỗi"]
    finally:
        await app.shutdown()


async def test_errors_lists_the_answers_telegram_would_refuse(emu: BotAPIEmulator) -> None:
    app = _build(emu)
    await app.initialize()
    try:
        with pytest.raises(BadRequest, match="too long"):
            await app.bot.send_message(CHAT, "📈" * 2100)  # 2,100 code points, 4,200 UTF-16 units
        await app.bot.send_message(CHAT, "📈" * 2048)  # exactly 4,096 units
        [error] = emu.errors
        assert error["status"] == 400 and error["method"] == "sendMessage" and error["chat_id"] == CHAT
        assert "message is too long" in error["description"]
    finally:
        await app.shutdown()
