"""Fetch the article behind a link a user sends, without letting the link reach our own network.

The address check runs on every hop (the first URL and each redirect) after DNS resolution, and
refuses the whole request if ANY address the name resolves to is not public. httpx then connects by
host name and resolves it again: a DNS server that answers differently the second time (DNS
rebinding) could still slip through. Pinning the checked address would need a custom transport
with SNI/Host handling; for a bot that only reads what officials paste, the check-then-connect
window is accepted and documented here.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import logging
import re
import socket
import unicodedata

import httpx

import documents
from documents import Document
from documents.errors import ReadError

__all__ = ["FetchError", "fetch_document", "find_url"]

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = (301, 302, 303, 307, 308)
_USER_AGENT = "Mozilla/5.0 (compatible; HoiNghiBot/0.1; +local)"
_URL_RE = re.compile(r"<?(https?://[^\s<>\"]+)>?", re.IGNORECASE)
_MAX_OTHER_TEXT = 80  # characters around the link for the message to still count as "just a link"


class FetchError(Exception):
    """A link we will not or cannot read; .vi is shown to the user, .en goes to the log."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi = vi
        self.en = en


def find_url(text: str) -> str | None:
    """The URL when the message is essentially just a link (maybe with a few words around it)."""
    matches = list(_URL_RE.finditer(text or ""))
    if len(matches) != 1:
        return None
    match = matches[0]
    url = match.group(1).rstrip(".,;:!?»”’'")
    if url.endswith(")") and "(" not in url:
        url = url[:-1]
    other = (text[: match.start()] + text[match.end():]).strip()
    if len(other) > _MAX_OTHER_TEXT:
        return None
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return None
    return url if parsed.host else None


def _is_forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified, shared (CGNAT) and the like."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and _is_forbidden_address(embedded):
            return True
    return (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


async def _check_host(url: httpx.URL) -> None:
    if url.scheme not in ("http", "https"):
        raise FetchError("Chỉ hỗ trợ liên kết http:// hoặc https://.", f"scheme {url.scheme!r} refused")
    host = url.host
    if not host:
        raise FetchError("Liên kết không hợp lệ.", "URL without host")
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise FetchError("Không tìm thấy máy chủ của liên kết.", f"cannot resolve {host}: {exc}") from exc
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
    forbidden = sorted(str(ip) for ip in addresses if _is_forbidden_address(ip))
    if forbidden or not addresses:
        raise FetchError("Liên kết trỏ tới địa chỉ nội bộ/không công khai nên bị từ chối.",
                         f"non-public address for {host}: {forbidden}")


async def fetch_document(url: str, *, allow_private: bool = False, timeout: float = 10.0,
                         max_bytes: int = 5_000_000, max_redirects: int = 5) -> Document:
    """The page at ``url`` as a `Document` (headline in `title`; headings, lists and tables kept);
    FetchError with a Vietnamese message otherwise.

    ``timeout`` bounds the whole download (DNS, every hop, the body), so a server that drips bytes
    cannot hold the bot longer than that; parsing runs in a thread afterwards.
    """
    try:
        async with asyncio.timeout(timeout):
            body, content_type, charset, final_url = await _download(url, allow_private, timeout, max_bytes,
                                                                     max_redirects)
    except TimeoutError as exc:
        raise FetchError("Trang web phản hồi quá chậm (quá thời gian chờ).", f"timeout after {timeout} s") from exc
    doc = await asyncio.to_thread(_read_body, body, content_type, charset, final_url)
    if not any(b.text.strip() or any(c.strip() for row in b.rows for c in row) for b in doc.blocks):
        raise FetchError("Không tìm thấy nội dung chính của trang.", "no main text found")
    return doc


def _read_body(body: bytes, content_type: str, charset: str | None, url: str) -> Document:
    """text/plain as pasted text; HTML through `documents.html.read_html` (trafilatura drops
    navigation, footers and comments, and detects the charset when no header says)."""
    from documents.html import read_html  # imported lazily: trafilatura is slow to import

    try:
        if content_type == "text/plain":
            text = body.decode(_codec(charset) or "utf-8", errors="replace")
            return documents.read_text(unicodedata.normalize("NFC", text))
        page: bytes | str = body
        codec = _codec(charset)
        if codec:
            page = body.decode(codec, errors="replace")
        return read_html(page, url)
    except ReadError as exc:
        raise FetchError(exc.vi, exc.en) from exc
    except Exception as exc:  # a parser choking on hostile markup is "no text", not a crash
        log.warning("reading the page %s failed: %r", url, exc)
        return Document(source="html")


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


async def _download(url: str, allow_private: bool, timeout: float, max_bytes: int,
                    max_redirects: int) -> tuple[bytes, str, str | None, str]:
    try:
        current = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError("Liên kết không hợp lệ.", f"invalid URL: {exc}") from exc
    headers = {"User-Agent": _USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5"}
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False,
                                 headers=headers) as client:
        for _hop in range(max_redirects + 1):
            if allow_private:
                if current.scheme not in ("http", "https"):
                    raise FetchError("Chỉ hỗ trợ liên kết http:// hoặc https://.",
                                     f"scheme {current.scheme!r} refused")
            else:
                await _check_host(current)
            try:
                async with client.stream("GET", current) as response:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        current = current.join(response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise FetchError(f"Trang web trả về lỗi HTTP {response.status_code}.",
                                         f"HTTP {response.status_code} for {current}")
                    content_type, charset = _content_type(response.headers.get("content-type", ""))
                    if content_type not in (*_HTML_TYPES, "text/plain"):
                        raise FetchError("Liên kết không phải trang web (HTML) hoặc văn bản.",
                                         f"content type {content_type!r} refused")
                    body = await _read_capped(response, max_bytes)
                    return body, content_type, charset, str(current)
            except httpx.TimeoutException as exc:
                raise FetchError("Trang web phản hồi quá chậm (quá thời gian chờ).", f"timeout: {exc!r}") from exc
            except httpx.HTTPError as exc:
                raise FetchError("Không kết nối được tới trang web.", f"HTTP error: {exc!r}") from exc
    raise FetchError("Liên kết chuyển hướng quá nhiều lần.", f"more than {max_redirects} redirects")


def _content_type(header: str) -> tuple[str, str | None]:
    kind, _, params = header.partition(";")
    match = re.search(r"charset=[\"']?([\w.:-]+)", params, re.IGNORECASE)
    return kind.strip().lower() or "text/html", (match.group(1) if match else None)


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    too_large = FetchError(f"Trang web quá lớn (hơn {max_bytes / 1e6:g} MB).",
                           f"body larger than {max_bytes} bytes")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
