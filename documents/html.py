"""Web pages (.html files, fetched links) -> `Document`, keeping headings, lists and tables.

trafilatura finds the main text as the bot does today (bot/fetch.py `_main_text`: no comments,
tables kept, `favor_precision` so a sidebar's figures do not join the report); asking it for XML
instead of flat text keeps what the page said about its structure: h1-h6, p, ul/ol, table.
"""

from __future__ import annotations

import logging
from typing import Any

from documents.errors import ReadError
from documents.models import Block, Document
from documents.structure import build, clean_line, guess_header_rows

__all__ = ["read_html"]

log = logging.getLogger(__name__)

_NO_TEXT = ReadError("Không tìm thấy nội dung chính của trang.", "no main text found")
_LIST_SYMBOLS = ("-", "+", "·")


def read_html(data: bytes | str, url: str | None = None) -> Document:
    """The main text of a web page as a `Document` (title apart); ReadError when there is none."""
    import trafilatura  # imported lazily: it is slow to import and only pages need it
    from lxml import etree

    xml = None
    for precision in (True, False):  # precision first, as the bot does; recall only if that finds nothing
        try:
            xml = trafilatura.extract(data, url=url, output_format="xml", include_tables=True,
                                      include_comments=False, include_formatting=True, with_metadata=True,
                                      favor_precision=precision)
        except Exception as exc:  # a parser choking on hostile markup is "no text", not a crash
            log.warning("trafilatura failed on %s: %r", url, exc)
            raise ReadError("Trang web bị lỗi định dạng, không đọc được nội dung.",
                            f"trafilatura failed: {exc!r}") from exc
        if xml:
            break
    if not xml:
        raise ReadError(_NO_TEXT.vi, _NO_TEXT.en)
    try:
        return _document(etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False)))
    except ReadError:
        raise
    except Exception as exc:  # unreadable XML or a bug on odd markup: the page is unreadable, the bot lives
        log.warning("html structure failed on %s: %r", url, exc)
        raise ReadError(_NO_TEXT.vi, f"trafilatura XML unreadable: {exc!r}") from exc


def _document(root: Any) -> Document:
    title = clean_line(root.get("title") or "") or None
    main = root.find("main")
    blocks = _blocks(main) if main is not None else []
    if blocks and title and blocks[0].kind == "heading" and clean_line(blocks[0].text).lower() == title.lower():
        del blocks[0]  # the headline repeated as h1: it is the title
    top = min((b.level for b in blocks if b.kind == "heading"), default=1)
    for b in blocks:
        if b.kind == "heading":
            b.level = b.level - top + 1  # the page's largest heading is level 1, whatever its tag
    if not any(b.text.strip() or b.rows for b in blocks):
        raise ReadError(_NO_TEXT.vi, _NO_TEXT.en)
    return build(blocks, source="html", title=title)


def _blocks(main: Any) -> list[Block]:
    blocks: list[Block] = []
    for el in main:
        _element(el, blocks, depth=0)
    return blocks


def _element(el: Any, blocks: list[Block], depth: int) -> None:
    tag = el.tag
    if tag == "head":
        rend = (el.get("rend") or "h2").lower()
        level = int(rend[1]) if len(rend) == 2 and rend[1].isdigit() else 2
        text = _text(el)
        if text.strip():
            blocks.append(Block(kind="heading", text=text, level=level))
    elif tag in ("p", "quote", "code"):
        text = _text(el)
        if text.strip():
            blocks.append(Block(kind="paragraph", text=text, bold=_all_bold(el)))
    elif tag == "list":
        _list(el, blocks, depth + 1)
    elif tag == "table":
        rows, header_rows = _table(el)
        if rows:
            blocks.append(Block(kind="table", rows=rows, header_rows=header_rows))
    elif tag == "div" or tag == "main":
        for child in el:
            _element(child, blocks, depth)


def _list(el: Any, blocks: list[Block], depth: int) -> None:
    ordered = (el.get("rend") or "").lower() == "ol"
    n = 0
    for item in el:
        if item.tag != "item":
            continue
        n += 1
        text = clean_line(_text(item, skip=("list",)))
        if text:
            symbol = f"{n}." if ordered else _LIST_SYMBOLS[min(depth, len(_LIST_SYMBOLS)) - 1]
            blocks.append(Block(kind="list_item", text=text, level=depth, numbering=symbol))
        for child in item:
            if child.tag == "list":
                _list(child, blocks, depth + 1)


def _table(el: Any) -> tuple[list[list[str]], int]:
    rows: list[list[str]] = []
    head_rows = 0
    leading = True
    for row in el.iter("row"):
        cells = [c for c in row if c.tag == "cell"]
        values = [clean_line(_text(c)) for c in cells]
        if not any(values):
            continue
        is_head = bool(cells) and all(c.get("role") == "head" for c in cells)
        if leading and is_head:
            head_rows += 1
        leading = leading and is_head
        rows.append(values)
    return rows, head_rows or guess_header_rows(rows)


def _text(el: Any, skip: tuple[str, ...] = ()) -> str:
    """The element's text with <lb/> as a new line; elements named in `skip` (nested lists) left out."""
    parts: list[str] = [el.text or ""]
    for child in el:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag not in skip and child.tag != "graphic":
            parts.append(_text(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _all_bold(el: Any) -> bool:
    """A paragraph that is one bold run (<p><hi rend="#b">…</hi></p>): a heading candidate."""
    children = [c for c in el if c.tag != "lb"]
    if len(children) != 1 or children[0].tag != "hi" or "#b" not in (children[0].get("rend") or ""):
        return False
    outside = (el.text or "") + (children[0].tail or "")
    return not outside.strip()
