"""fetch_document against a local aiohttp server; find_url on message text.

Only 127.0.0.1 is ever contacted: private addresses are refused before any connection, and a spy
on httpx's transport proves no request left for them.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from bot import fetch
from bot.fetch import FetchError, fetch_document, find_url

BODY = [
    "Chiều ngày 15/10/2024, Ủy ban nhân dân huyện A tổ chức hội nghị đánh giá kết quả thực hiện nhiệm vụ "
    "phát triển kinh tế - xã hội quý III và triển khai nhiệm vụ quý IV năm 2024.",
    "Theo báo cáo, tổng thu ngân sách trên địa bàn đạt 125,4 tỷ đồng, bằng 104% dự toán; giá trị sản xuất "
    "nông nghiệp tăng 3,2% so với cùng kỳ; tỷ lệ hộ nghèo giảm còn 2,1%.",
    "Bên cạnh kết quả đạt được, hội nghị chỉ ra hạn chế: tiến độ giải phóng mặt bằng một số dự án còn chậm, "
    "giải ngân vốn đầu tư công mới đạt 68% kế hoạch.",
]
TITLE = "Huyện A hoàn thành vượt dự toán thu ngân sách"
ARTICLE = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{TITLE} | Báo Tỉnh</title>
<meta property="og:title" content="{TITLE}"></head><body>
<header><nav><a href="/">Trang chủ</a> | <a href="/lien-he">Liên hệ quảng cáo</a> | <a href="/rss">RSS</a></nav></header>
<main><article><h1>{TITLE}</h1>{"".join(f"<p>{p}</p>" for p in BODY)}
<table><tr><th>Chỉ tiêu</th><th>Kết quả</th></tr><tr><td>Thu ngân sách</td><td>125,4 tỷ đồng</td></tr></table>
<p>Phát biểu kết luận, Chủ tịch UBND huyện yêu cầu các phòng, ban tập trung tháo gỡ vướng mắc.</p>
</article></main>
<aside>Tin đọc nhiều: Giá vàng hôm nay tăng mạnh</aside>
<footer>Bản quyền thuộc về Báo Tỉnh. Giấy phép số 123/GP-BTTTT.</footer></body></html>"""

STRUCTURED = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{TITLE}</title></head><body>
<nav><a href="/">Trang chủ</a> | <a href="/tt">Thời sự</a></nav>
<main><article><h1>{TITLE}</h1><p>{BODY[0]}</p>
<h2>Kết quả đạt được</h2><p>{BODY[1]}</p>
<h2>Hạn chế, tồn tại</h2><ul><li>Tiến độ giải phóng mặt bằng một số dự án còn chậm.</li>
<li>Giải ngân vốn đầu tư công mới đạt 68% kế hoạch.</li></ul>
<h2>Nhiệm vụ quý IV</h2><p>Phát biểu kết luận, Chủ tịch UBND huyện yêu cầu các phòng, ban tập trung tháo gỡ
vướng mắc, đẩy nhanh tiến độ giải ngân vốn đầu tư công.</p></article></main>
<footer>Bản quyền thuộc về Báo Tỉnh.</footer></body></html>"""

NAV_ONLY = """<html><head><title>Báo Tỉnh</title><script>var a = 1;</script></head><body><header><nav><ul>
<li><a href="/">Trang chủ</a></li><li><a href="/tt">Thời sự</a></li><li><a href="/kt">Kinh tế</a></li>
</ul></nav></header><div class="banner"><img src="/logo.png" alt="Logo"></div>
<footer><p>Bản quyền thuộc về Báo Tỉnh. Giấy phép số 123/GP-BTTTT.</p></footer></body></html>"""


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host httpx actually sent a request to."""
    hosts: list[str] = []
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def spy(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        assert request.url.host in ("127.0.0.1", "localhost"), f"traffic to {request.url.host}!"
        return await original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", spy)
    return hosts


class Server:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.base = ""


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def article(request: web.Request) -> web.Response:
        return web.Response(text=ARTICLE, content_type="text/html", charset="utf-8")

    async def structured(request: web.Request) -> web.Response:
        return web.Response(text=STRUCTURED, content_type="text/html", charset="utf-8")

    async def redirect(request: web.Request) -> web.Response:
        target = {"/r1": "/r2", "/r2": "/r3", "/r3": "/article",
                  "/to-private": "http://10.1.2.3/noi-bo", "/to-metadata": "http://169.254.169.254/latest/",
                  "/to-ftp": "ftp://127.0.0.1/x"}[request.path]
        raise web.HTTPFound(target)

    async def big(request: web.Request) -> web.StreamResponse:
        chunk = ("<p>" + BODY[0] + "</p>").encode() * 10
        if request.query.get("chunked"):
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            await response.prepare(request)
            for _ in range(40):
                await response.write(chunk)
            return response
        return web.Response(body=chunk * 40, content_type="text/html")

    async def slow(request: web.Request) -> web.StreamResponse:
        if request.query.get("drip"):  # headers at once, then a byte now and then: no read timeout fires
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            await response.prepare(request)
            for _ in range(100):
                await response.write(b" ")
                await asyncio.sleep(0.1)
            return response
        await asyncio.sleep(5)
        return web.Response(text=ARTICLE, content_type="text/html")

    async def other(request: web.Request) -> web.Response:
        if request.path == "/missing":
            raise web.HTTPNotFound()
        if request.path == "/error":
            raise web.HTTPInternalServerError()
        if request.path == "/pdf":
            return web.Response(body=b"%PDF-1.4 ...", content_type="application/pdf")
        if request.path == "/plain":
            return web.Response(text="Báo cáo dạng văn bản thuần.\nDòng hai.", content_type="text/plain")
        if request.path == "/nav-only":
            return web.Response(text=NAV_ONLY, content_type="text/html")
        raise web.HTTPNotFound()

    @web.middleware
    async def count(request: web.Request, handler):  # type: ignore[no-untyped-def]
        state.hits[request.path] += 1
        return await handler(request)

    app = web.Application(middlewares=[count])
    app.router.add_get("/article", article)
    app.router.add_get("/structured", structured)
    for path in ("/r1", "/r2", "/r3", "/to-private", "/to-metadata", "/to-ftp"):
        app.router.add_get(path, redirect)
    app.router.add_get("/big", big)
    app.router.add_get("/slow", slow)
    app.router.add_get("/{tail:.*}", other)
    runner = web.AppRunner(app, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield state
    await runner.cleanup()


async def test_article_main_text_without_boilerplate(server: Server, sent: list[str]) -> None:
    doc = await fetch_document(f"{server.base}/article", allow_private=True)
    text = doc.text()
    assert doc.title == TITLE and doc.source == "html"
    for paragraph in BODY:
        assert paragraph in text
    assert "Thu ngân sách" in text and "125,4 tỷ đồng" in text.split(BODY[2])[1]  # the table, in order
    for boilerplate in ("Trang chủ", "Liên hệ quảng cáo", "Bản quyền", "Giá vàng"):
        assert boilerplate not in text
    assert sent == ["127.0.0.1"]


async def test_headings_and_lists_of_a_page_survive(server: Server) -> None:
    doc = await fetch_document(f"{server.base}/structured", allow_private=True)
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert headings[-3:] == ["Kết quả đạt được", "Hạn chế, tồn tại", "Nhiệm vụ quý IV"]
    items = [b.text for b in doc.blocks if b.kind == "list_item"]
    assert items == ["Tiến độ giải phóng mặt bằng một số dự án còn chậm.",
                     "Giải ngân vốn đầu tư công mới đạt 68% kế hoạch."]
    texts = [b.text for b in doc.blocks]
    first, last = texts.index(items[0]), texts.index(items[1])
    assert texts.index("Hạn chế, tồn tại") < first < last < texts.index("Nhiệm vụ quý IV")  # under its heading
    assert "Bản quyền" not in doc.text() and "Thời sự" not in doc.text()


async def test_redirect_chain_is_followed_and_limited(server: Server, sent: list[str]) -> None:
    doc = await fetch_document(f"{server.base}/r1", allow_private=True, max_redirects=3)
    assert doc.title == TITLE and BODY[1] in doc.text()
    assert [server.hits[p] for p in ("/r1", "/r2", "/r3", "/article")] == [1, 1, 1, 1]
    with pytest.raises(FetchError) as info:
        await fetch_document(f"{server.base}/r1", allow_private=True, max_redirects=2)
    assert "chuyển hướng" in info.value.vi
    assert server.hits["/article"] == 1  # never reached the third hop's target


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend 127.0.0.1 is a public host so the per-hop check of a redirect can be exercised."""
    original = fetch._is_forbidden_address

    def forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return ip != ipaddress.ip_address("127.0.0.1") and original(ip)

    monkeypatch.setattr(fetch, "_is_forbidden_address", forbidden)


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata", "/to-ftp"])
async def test_redirect_to_private_address_is_refused(server: Server, sent: list[str], path: str,
                                                      loopback_is_public: None) -> None:
    assert (await fetch_document(f"{server.base}/article")).title == TITLE  # the patch lets the first hop in
    with pytest.raises(FetchError) as info:
        await fetch_document(f"{server.base}{path}")
    assert info.value.vi
    assert server.hits[path] == 1
    assert set(sent) == {"127.0.0.1"}  # the spy would also have failed on any other host


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x", "http://localhost:9/", "http://10.0.0.8/", "http://192.168.1.1/admin",
        "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/",
        "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://224.0.0.1/",
        "http://[fe80::1]/", "http://[fc00::1]/", "http://2130706433/",
    ],
)
async def test_private_urls_refused_before_connecting(url: str, sent: list[str]) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_document(url)
    assert "nội bộ" in info.value.vi or "không hợp lệ" in info.value.vi
    assert sent == []


async def test_server_on_loopback_refused_unless_allowed(server: Server, sent: list[str]) -> None:
    with pytest.raises(FetchError):
        await fetch_document(f"{server.base}/article")
    assert server.hits["/article"] == 0 and sent == []


@pytest.mark.parametrize("url", ["ftp://example.org/a", "file:///etc/passwd", "javascript:alert(1)", "không"])
async def test_other_schemes_refused(url: str, sent: list[str]) -> None:
    for allow_private in (False, True):
        with pytest.raises(FetchError):
            await fetch_document(url, allow_private=allow_private)
    assert sent == []


@pytest.mark.parametrize("query", ["", "?chunked=1"])
async def test_too_large(server: Server, query: str) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_document(f"{server.base}/big{query}", allow_private=True, max_bytes=20_000)
    assert "quá lớn" in info.value.vi
    doc = await fetch_document(f"{server.base}/big{query}", allow_private=True, max_bytes=1_000_000)
    assert BODY[0] in doc.text()


@pytest.mark.parametrize(("path", "words"), [("/missing", "404"), ("/error", "500"), ("/pdf", "HTML")])
async def test_errors_and_unusable_pages(server: Server, path: str, words: str) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_document(f"{server.base}{path}", allow_private=True)
    assert words in info.value.vi


async def test_navigation_only_page_gives_no_report_text(server: Server) -> None:
    """A page of menus has no main text: refused, or (documents.html retries without favouring
    precision) nothing but the menu, which the bot's report check then refuses as too short."""
    try:
        doc = await fetch_document(f"{server.base}/nav-only", allow_private=True)
    except FetchError as exc:
        assert "nội dung chính" in exc.vi
    else:
        assert len(doc.text().split()) < 25 and "Bản quyền" not in doc.text()


async def test_plain_text_taken_as_is(server: Server) -> None:
    doc = await fetch_document(f"{server.base}/plain", allow_private=True)
    assert doc.title is None and doc.text() == "Báo cáo dạng văn bản thuần.\nDòng hai."


@pytest.mark.parametrize("query", ["", "?drip=1"])
async def test_slow_page_times_out(server: Server, query: str) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_document(f"{server.base}/slow{query}", allow_private=True, timeout=0.4)
    assert "thời gian" in info.value.vi


async def test_connection_refused_is_a_fetch_error(server: Server) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_document("http://127.0.0.1:9/", allow_private=True, timeout=2)
    assert "kết nối" in info.value.vi


def test_find_url() -> None:
    assert find_url("https://baochinhphu.vn/bai-viet-123.htm") == "https://baochinhphu.vn/bai-viet-123.htm"
    assert find_url("  Xem giúp bài này: https://x.vn/a?b=1&c=2.  ") == "https://x.vn/a?b=1&c=2"
    assert find_url("<http://x.vn/a>") == "http://x.vn/a"
    assert find_url("(https://vi.wikipedia.org/wiki/Hà_Nội)") == "https://vi.wikipedia.org/wiki/Hà_Nội"
    assert find_url("Báo cáo không có liên kết") is None
    assert find_url("https://a.vn/1 https://b.vn/2") is None
    long_report = "Báo cáo kết quả quý III. " * 20 + "Chi tiết tại https://x.vn/bc."
    assert find_url(long_report) is None
    assert find_url("") is None
    assert find_url("ftp://x.vn/a") is None
