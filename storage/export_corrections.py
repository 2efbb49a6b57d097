"""Export the reports officials corrected as gold annotations, for training and evaluation.

    python -m storage.export_corrections [--db PATH] [--out FILE]

One JSON object per line, one line per corrected report, in the shape of
shared/eval/dev/*.gold.json (see ANNOTATION.md there): unit, meeting, date, period, results,
shortcomings, tasks (the item texts of the corrected summary), figures [{text, what}], body,
plus "source" (the report text the items were cut from, so a line is a training example on its
own), "report_id", and "corrections" (who, when, what). What an official fixed is the nearest
thing to gold a running bot gets: the section model learns from these lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from storage.corrections import apply_corrections
from storage.models import Correction, StoredReport
from storage.repository import Repository
from summariser.models import SECTIONS, Summary

DEFAULT_DB = "data/bot.sqlite3"


def gold_summary(summary: Summary) -> dict[str, Any]:
    """A summary in the gold format (what shared/eval/score.py reads as gold or prediction)."""
    out: dict[str, Any] = {
        "unit": summary.unit,
        "meeting": summary.meeting,
        "date": summary.date.isoformat() if summary.date else None,
        "period": summary.period,
    }
    for section in SECTIONS:
        out[section] = [item.text for item in summary.section(section)]
    out["figures"] = [{"text": f.text, "what": f.label or ""} for f in summary.figures]
    out["body"] = summary.body
    return out


def correction_record(fix: Correction) -> dict[str, Any]:
    """Who changed what, when (UTC)."""
    what: dict[str, Any] = {"kind": fix.kind}
    if fix.section is not None:
        what.update(section=fix.section, index=fix.index, item=fix.item_text)
    if fix.value is not None or fix.kind.startswith("set_"):
        what["value"] = fix.value
    return {
        "who": fix.user_id,
        "when": fix.created_at.isoformat() if fix.created_at else None,
        "what": what,
    }


def gold_record(report: StoredReport, corrections: Sequence[Correction]) -> dict[str, Any] | None:
    """The export line of one report: its corrected summary as gold; None without a summary."""
    if report.summary is None:
        return None
    record = gold_summary(apply_corrections(report.summary, corrections))
    record["source"] = report.text
    record["report_id"] = report.id
    record["corrections"] = [correction_record(fix) for fix in corrections]
    return record


async def export(repo: Repository, out: TextIO) -> int:
    """Write one line per corrected report (oldest first); returns how many were written."""
    written = 0
    for scope, report_id in await repo.corrected_report_ids():
        report = await repo.get_report(scope, report_id)
        if report is None:  # deleted meanwhile
            continue
        record = gold_record(report, await repo.corrections(report_id, scope))
        if record is None:
            continue
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
    return written


async def _run(db: str, out_path: str | None) -> int:
    if not Path(db).exists():  # Repository.open would create an empty database
        raise FileNotFoundError(db)
    async with await Repository.open(db) as repo:
        if out_path is None:
            return await export(repo, sys.stdout)
        with open(out_path, "w", encoding="utf-8", newline="\n") as out:
            return await export(repo, out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m storage.export_corrections", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", default=DEFAULT_DB, help=f"the bot's database (default {DEFAULT_DB})")
    parser.add_argument("--out", default=None, help="JSONL file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        written = asyncio.run(_run(args.db, args.out))
    except FileNotFoundError:
        print(f"Không tìm thấy cơ sở dữ liệu: {args.db}", file=sys.stderr)
        return 2
    print(f"Đã xuất {written} báo cáo đã sửa.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
