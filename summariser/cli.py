"""`python -m summariser FILE... [--json] [--engine extractive|transformers] [--read-as .EXT]`.

FILE is .txt (UTF-8), or .docx, .pdf, .html, .jpg/.png (read by the `documents` package, scans and
photos through OCR). Exit codes: 0 when every file was summarised; 2 when a file is empty, not UTF-8,
binary, unreadable or not a report, or the engine cannot be loaded (one line in Vietnamese and English
on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from summariser.engines import ENGINE_NAMES, Engine, get_engine
from summariser.models import Rejection, Summary
from summariser.pipeline import check_report
from summariser.validate import BINARY, EMPTY, NOT_UTF8

if TYPE_CHECKING:
    from documents.models import Document

EXIT_OK = 0
EXIT_REJECTED = 2
_HEADINGS = (("results", "KẾT QUẢ ĐẠT ĐƯỢC"), ("shortcomings", "HẠN CHẾ, TỒN TẠI"), ("tasks", "NHIỆM VỤ THỜI GIAN TỚI"))


class Refused(Exception):
    """A file that cannot be summarised, with the reason in both languages."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.en)
        self.rejection = rejection


def read_report(path: Path) -> str:
    """The file's text, or Refused for empty, binary and non-UTF-8 files."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Refused(Rejection(code="empty", vi=f"Không đọc được tệp ({exc.strerror or exc}).",
                                en=f"Cannot read the file ({exc.strerror or exc}).")) from None
    if not data.strip():
        raise Refused(EMPTY)
    if b"\x00" in data:
        raise Refused(BINARY)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(NOT_UTF8) from None
    rejection = check_report(text)
    if rejection is not None:
        raise Refused(rejection)
    return text


def read_file(path: Path) -> str | Document:
    """A .txt file's text; any other file through `documents.read` (the bot's readers)."""
    if path.suffix.lower() in ("", ".txt", ".md"):
        return read_report(path)
    from documents.errors import ReadError
    from documents.isolated import read_isolated  # a worker with CPU, memory and time limits

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Refused(Rejection(code="empty", vi=f"Không đọc được tệp ({exc.strerror or exc}).",
                                en=f"Cannot read the file ({exc.strerror or exc}).")) from None
    try:
        doc = read_isolated(data, path.name, timeout=300.0)  # (OCR of a scan takes ~10 s a page)
    except ReadError as exc:
        raise Refused(Rejection(code="binary", vi=exc.vi, en=exc.en)) from None
    rejection = check_report(doc.text())
    if rejection is not None:
        raise Refused(rejection)
    return doc


def render(summary: Summary) -> str:
    """A readable Vietnamese summary for the terminal."""
    lines: list[str] = []
    if summary.title:
        lines.append(summary.title)
    facts = [
        ("Đơn vị", summary.unit),
        ("Cơ quan", summary.body),
        ("Hội nghị", summary.meeting),
        ("Ngày", summary.date.strftime("%d/%m/%Y") if summary.date else None),
        ("Kỳ báo cáo", summary.period),
    ]
    lines += [f"{name}: {value}" for name, value in facts if value]
    for section, heading in _HEADINGS:
        items = summary.section(section)  # type: ignore[arg-type]
        lines.append("")
        lines.append(heading)
        lines += [f"  • {item.text}" for item in items] or ["  (không nêu)"]
    if summary.figures:
        lines += ["", "SỐ LIỆU"]
        lines += [f"  • {f.text}" + (f" — {f.label}" if f.label else "") for f in summary.figures]
    if summary.warnings:
        lines += ["", *(f"Lưu ý: {w}" for w in summary.warnings)]
    return "\n".join(lines)


def _refuse(path: str, rejection: Rejection) -> None:
    print(f"{path}: {rejection.vi} / {rejection.en}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m summariser",
                                     description="Tóm tắt báo cáo hội nghị / Summarise meeting reports.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object per file (one line each)")
    parser.add_argument("--engine", default="extractive", choices=ENGINE_NAMES)
    parser.add_argument("--model", default=os.environ.get("BOT_MODEL"),
                        help="transformers engine: local directory or model id (default: $BOT_MODEL)")
    parser.add_argument("--device", default=os.environ.get("BOT_DEVICE", "cpu"),
                        help="transformers engine: cpu or cuda (default: $BOT_DEVICE or cpu)")
    parser.add_argument("--read-as", metavar=".EXT", default=None,
                        help="read the file with this suffix beside each FILE instead (scoring a corpus of "
                             ".docx/.pdf versions with score.py, which passes the .txt)")
    args = parser.parse_args(argv)

    options: dict[str, object] = {}
    if args.engine == "transformers":
        options = {"model": args.model, "device": args.device}
    try:
        engine: Engine = get_engine(args.engine, **options)
    except Exception as exc:  # an optional engine: missing package, model or weights
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"Không tải được bộ tóm tắt '{args.engine}': {reason} / "
              f"Could not load the '{args.engine}' engine: {reason}", file=sys.stderr)
        return EXIT_REJECTED

    status = EXIT_OK
    for i, name in enumerate(args.files):
        path = Path(name)
        if args.read_as:
            path = path.with_suffix(args.read_as if args.read_as.startswith(".") else "." + args.read_as)
        try:
            source = read_file(path)
            summary = engine.summarise(source, title=None)
        except Refused as refused:
            _refuse(name, refused.rejection)
            status = EXIT_REJECTED
            continue
        except Exception as exc:  # the engine failed on this file: say so, go on with the others
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(f"{name}: Lỗi khi tóm tắt: {reason} / Summarising failed: {reason}", file=sys.stderr)
            status = EXIT_REJECTED
            continue
        if args.json:
            print(json.dumps(summary.model_dump(mode="json"), ensure_ascii=False))
        else:
            if len(args.files) > 1:
                print(("\n" if i else "") + f"=== {name} ===")
            print(render(summary))
    return status
