"""The phone-screen brief on the dev reports: what it keeps, how long it is, and whether the ranking
earns its weights.

For every ../shared/eval/dev/NAME.txt with a NAME.gold.json: `summarise` the text, `make_brief` the
summary, render it, and print
- results figures kept: gold `figures[].text` that occurs in some gold result item, shown in the
  brief's results section (over all such figures, and over those the full summary's results show);
- brief length in UTF-16 units (max, p95, median) against the 1,200 limit;
- items per section (shown, left out);
- per weight setting (default, the report's first items only, each weight at 0, some doubled): the
  result figures kept, and the share of shown items that hold >= 60% of some gold item of their
  section (the scorer's rule).

    .venv/bin/python bench/brief.py [--gold-dir ../shared/eval/dev]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import statistics
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summariser import clean_text, summarise  # noqa: E402
from summariser.brief import (  # noqa: E402
    DEFAULT_WEIGHTS,
    LIMIT,
    Brief,
    Weights,
    make_brief,
    render_brief_text,
    utf16_len,
)
from summariser.models import SECTIONS, Summary  # noqa: E402


def load_scorer(gold_dir: Path) -> ModuleType:
    """The shared scorer's syllable matching (tokens, cover), so 'supported' means what it means there."""
    spec = importlib.util.spec_from_file_location("eval_score", gold_dir.parent / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def result_figures(gold: dict[str, Any]) -> list[str]:
    """Gold figure texts that stand in some gold result item."""
    results = [nfc(str(r if isinstance(r, str) else r.get("text", ""))) for r in gold.get("results") or []]
    texts = [nfc(f["text"]) for f in gold.get("figures") or [] if f.get("text")]
    return [t for t in texts if any(t in r for r in results)]


def section_text(brief: Brief, name: str) -> str:
    return "\n".join(it.text for s in brief.sections if s.name == name for it in s.items)


@dataclasses.dataclass
class Report:
    name: str
    summary: Summary
    cleaned: str
    gold: dict[str, Any]


def load(gold_dir: Path) -> list[Report]:
    out: list[Report] = []
    for txt in sorted(gold_dir.glob("*.txt")):
        gold_path = txt.with_suffix(".gold.json")
        if not gold_path.exists():
            continue
        text = txt.read_text(encoding="utf-8")
        out.append(Report(txt.stem, summarise(text), clean_text(text), json.loads(gold_path.read_text("utf-8"))))
    return out


def evaluate(reports: list[Report], weights: Weights, scorer: ModuleType) -> tuple[float, float]:
    """(gold result figures the brief's results show, shown items holding >= 60% of some gold item
    of their section), both as shares."""
    shown = hits = figs = kept = 0
    for r in reports:
        brief = make_brief(r.summary, text=r.cleaned, weights=weights)
        results_shown = nfc(section_text(brief, "results"))
        for fig in result_figures(r.gold):
            figs += 1
            kept += fig in results_shown
        for sec in brief.sections:
            golds = [scorer.tokens(scorer.item_text(g)) for g in r.gold.get(sec.name) or []]
            for it in sec.items:
                full = r.summary.section(sec.name)[it.index].text  # the item as ranked, before cutting
                pred: Counter[str] = scorer.tokens(full)
                shown += 1
                hits += any(scorer.cover(g, pred) >= scorer.COVER for g in golds)
    return kept / max(figs, 1), hits / max(shown, 1)


def bot_message(reports: list[Report]) -> None:
    """The first reply as the bot sends it (`bot.render.brief_message`: title, report id and source
    around the brief, figures in bold): its length as Telegram counts it and the time to build it."""
    import time
    from datetime import UTC, datetime

    from bot.render import BRIEF_LIMIT, brief_message, plain_len
    from storage.models import StoredReport

    lengths: list[int] = []  # the whole message, the summary's "⚠️" lines included
    times: list[float] = []
    for n, r in enumerate(reports):
        report = StoredReport(id=n + 1, scope=1, chat_id=1, user_id=1, sha256="x", received_at=datetime.now(UTC),
                              source_kind="document", file_name=f"bao-cao-{n + 1}.docx", text=r.cleaned,
                              state="summarised", summary=r.summary)
        start = time.perf_counter()
        message = brief_message(report, ["Văn bản được nhận dạng từ ảnh (OCR): cần đối chiếu số liệu với bản gốc."])
        times.append((time.perf_counter() - start) * 1000)
        lengths.append(plain_len(message))
    lengths.sort()
    times.sort()
    p95 = lengths[min(len(lengths) - 1, round(0.95 * (len(lengths) - 1)))]
    t95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"bot message (brief_message with an OCR warning and the summary's own, UTF-16 units, limit {BRIEF_LIMIT}): "
          f"max {lengths[-1]}, p95 {p95}, median {statistics.median(lengths):.0f}; built in median "
          f"{statistics.median(times):.1f} ms, p95 {t95:.1f} ms, max {times[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold-dir", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    args = parser.parse_args()
    if not args.gold_dir.is_dir():
        sys.exit(f"no dev set at {args.gold_dir}")
    reports = load(args.gold_dir)
    scorer = load_scorer(args.gold_dir)

    lengths: list[int] = []
    shown: dict[str, list[int]] = {s: [] for s in SECTIONS}
    left: dict[str, list[int]] = {s: [] for s in SECTIONS}
    gold_figs = kept = in_summary = kept_of_summary = shortened = items = 0
    for r in reports:
        brief = make_brief(r.summary, text=r.cleaned)
        lengths.append(utf16_len(render_brief_text(brief)))
        for sec in brief.sections:
            shown[sec.name].append(len(sec.items))
            left[sec.name].append(sec.left_out)
            shortened += sum(it.shortened for it in sec.items)
            items += len(sec.items)
        results_shown = nfc(section_text(brief, "results"))
        results_full = nfc("\n".join(i.text for i in r.summary.results))
        for fig in result_figures(r.gold):
            gold_figs += 1
            kept += fig in results_shown
            if fig in results_full:
                in_summary += 1
                kept_of_summary += fig in results_shown

    lengths.sort()
    p95 = lengths[min(len(lengths) - 1, round(0.95 * (len(lengths) - 1)))]
    print(f"reports: {len(reports)}")
    print(f"results figures kept: {kept}/{gold_figs} = {kept / max(gold_figs, 1):.1%} of gold result figures; "
          f"{kept_of_summary}/{in_summary} = {kept_of_summary / max(in_summary, 1):.1%} of those the full "
          "summary's results show")
    print(f"length (UTF-16 units, limit {LIMIT}): max {lengths[-1]}, p95 {p95}, "
          f"median {statistics.median(lengths):.0f}, min {lengths[0]}")
    print(f"items shortened with '…': {shortened}/{items}")
    for s in SECTIONS:
        n = len(shown[s])
        if n:
            print(f"  {s:13s} in {n} briefs: shown mean {statistics.mean(shown[s]):.2f} (max {max(shown[s])}), "
                  f"left out mean {statistics.mean(left[s]):.2f} (max {max(left[s])})")

    bot_message(reports)

    print("weights: result figures kept / shown items supported by a gold item (>= 60% of its syllables)")
    variants: list[tuple[str, Weights]] = [
        ("default", DEFAULT_WEIGHTS),
        ("first items (position only)", Weights(0, 0, 0, 1, 0, 0)),
    ]
    variants += [(f"{f} = 0", dataclasses.replace(DEFAULT_WEIGHTS, **{f: 0.0}))
                 for f in ("figure", "comparison", "position", "heading", "specific")]
    variants += [(f"{f} x2", dataclasses.replace(DEFAULT_WEIGHTS, **{f: 2 * getattr(DEFAULT_WEIGHTS, f)}))
                 for f in ("figure", "comparison", "position", "specific")]
    for label, weights in variants:
        kept_share, supported = evaluate(reports, weights, scorer)
        print(f"  {label:28s} {kept_share:6.1%}  {supported:6.1%}")


if __name__ == "__main__":
    main()
