"""Are the figures' labels whole and their kinds right? Measured on the dev set with hand-written gold.

    .venv/bin/python bench/figure_labels.py [--dev ../shared/eval/dev] [-v]

Runs `summarise` on each NAME.txt and prints:
- labels cut mid-word: a label whose last token is not a whole word of the source at that place (each
  " – " piece of a label is looked up in the cleaned text near its figure); also cut at the start, not
  found at all, and labels that are only fillers ("Có thêm", "tổng");
- of the gold figures whose `what` holds "chỉ tiêu", "mục tiêu" or "phấn đấu" and which the summariser
  finds, the share marked `target` (all of them, and those where the word names the figure rather than
  the reference of a share, "so với chỉ tiêu", or a count of indicators, "số chỉ tiêu");
- the kind confusion: a kind read from the gold `what` wording against the predicted kind.

A gold figure is found when a predicted figure's text holds its text; among several, the one whose label
and surroundings share the most syllables with `what`. Kinds are measured twice: as `summary.figures`
carry them, and as `find_figures(clause, before)` gives them for the clause the pipeline passed (recorded
around `compress.figures_in`) with the report's text before that clause as `before`, which the pipeline
does not pass yet (a target set in the sentence's lead, "Các chỉ tiêu chủ yếu gồm:", is seen only so).
The confusion and the label checks use the latter. The dev texts are plain text: no table figures.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summariser import compress, summarise  # noqa: E402
from summariser.figures import Found, _readable, find_figures  # noqa: E402
from summariser.models import Figure, Summary  # noqa: E402
from summariser.pipeline import cleaned_source  # noqa: E402

KINDS = ("actual", "plan", "target", "growth", "share")
TARGET_WORDS = ("chỉ tiêu", "mục tiêu", "phấn đấu")
# The cue names the figure: not "so với chỉ tiêu" (a share's reference) nor "số chỉ tiêu" (a count).
_NAMES_TARGET = re.compile(r"(?<!so với )(?<!số )(?:mục tiêu|chỉ tiêu|phấn đấu)")
_NAMES_PLAN = re.compile(r"(?<!so với )(?<!so )(?:kế hoạch|dự kiến|dự toán)")
_SYLLABLE = re.compile(r"\w+")


def gold_kind(what: str) -> str:
    """The kind the gold wording says: target, plan, growth (tăng/giảm), share (so với ...), else actual."""
    w = what.lower()
    if _NAMES_TARGET.search(w):
        return "target"
    if _NAMES_PLAN.search(w):
        return "plan"
    if re.search(r"tăng|giảm", w):
        return "growth"
    if re.search(r"(?<!\w)so(?!\w)", w):
        return "share"
    return "actual"


def names_target(what: str) -> bool:
    return bool(_NAMES_TARGET.search(what.lower()))


def label_cuts(label: str, text: str, near: int) -> list[tuple[bool, bool]] | None:
    """(cut at the end, cut at the start) of each run of a label's words that is written together in
    `text` near `near` (a label joins a subject, a relation and the words after the figure); None when
    some word is not there at all."""
    runs: list[tuple[bool, bool]] = []
    for piece in label.split(" – "):
        tokens = piece.split()
        i = 0
        while i < len(tokens):
            for j in range(len(tokens), i, -1):
                found = _run_cut(tokens[i:j], text, near)
                if found is not None:
                    runs.append(found)
                    i = j
                    break
            else:
                return None
    return runs


def _run_cut(tokens: list[str], text: str, near: int) -> tuple[bool, bool] | None:
    """(cut at the end, cut at the start) of the words at their best place near `near` (where the figure
    starts); None if absent."""
    pattern = re.compile(r"\s+".join(map(re.escape, tokens)))
    lo = max(0, near - 2000)
    best: tuple[bool, bool] | None = None
    for m in pattern.finditer(text, lo, min(len(text), near + 800)):
        end_cut = m.end() < len(text) and text[m.end()].isalnum() and m.end() != near  # (the figure may follow)
        # (crawled text glues a caption to the next sentence: "…tăngThực hiện" starts a word at "Thực")
        start_cut = (m.start() > 0 and text[m.start() - 1].isalnum()
                     and not (text[m.start() - 1].islower() and text[m.start()].isupper()))
        if best is None or (end_cut, start_cut) < best:
            best = (end_cut, start_cut)
        if best == (False, False):
            break
    return best


def recorder() -> tuple[dict[str, tuple[Found, ...]], Callable[[], None]]:
    """Record each clause the pipeline passes to `compress.figures_in` with its figures; and an undo."""
    seen: dict[str, tuple[Found, ...]] = {}
    original = compress.figures_in

    def figures_in(text: str) -> tuple[Found, ...]:
        found = original(text)
        seen[text] = found
        return found

    figures_in.cache_clear = original.cache_clear  # type: ignore[attr-defined]  # (`compress.reset` calls it)
    compress.figures_in = figures_in  # type: ignore[assignment]

    def undo() -> None:
        compress.figures_in = original  # type: ignore[assignment]

    return seen, undo


def with_kinds(summary: Summary, cleaned: str, clauses: dict[str, tuple[Found, ...]]) -> list[Figure]:
    """The summary's figures, each with the kind and period `find_figures` gives it in its clause, with
    the text before the clause as `before` (what the pipeline is to pass)."""
    out: list[Figure] = []
    index: dict[tuple[int, int], Found] = {}
    for clause, found in clauses.items():
        if not found:
            continue
        at = 0
        while (at := cleaned.find(clause, at)) >= 0:
            for f in find_figures(clause, cleaned[max(0, at - 400): at]):
                index.setdefault((at + f.start, at + f.end), f)
            at += 1
    for fig in summary.figures:
        f = index.get((fig.source.start, fig.source.end)) if fig.source else None
        out.append(fig.model_copy(update={"kind": f.kind, "period": f.period}) if f else fig)
    return out


def match(gold: list[dict[str, str]], figures: list[Figure], cleaned: str) -> list[Figure | None]:
    """For each gold figure, the predicted figure that holds its text (the best one by `what`), or None."""
    used: set[int] = set()
    out: list[Figure | None] = []
    for g in gold:
        text = " ".join(g["text"].split())
        what = set(_SYLLABLE.findall(g.get("what", "").lower()))
        best, best_score = None, -1
        for i, f in enumerate(figures):
            if i in used or text not in " ".join(f.text.split()):
                continue
            around = cleaned[max(0, f.source.start - 150): f.source.end + 80] if f.source else ""
            score = len(what & set(_SYLLABLE.findall(f"{f.label or ''} {around}".lower())))
            if score > best_score:
                best, best_score = i, score
        if best is not None:
            used.add(best)
        out.append(figures[best] if best is not None else None)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each cut label and each kind error")
    args = ap.parse_args()
    names = sorted(p for p in args.dev.glob("*.txt") if p.with_suffix(".gold.json").exists())
    if not names:
        print(f"no NAME.txt with NAME.gold.json in {args.dev}")
        return 1
    labels = end_cut = start_cut = missing = fragments = 0
    target_all = target_all_hit = target_named = target_named_hit = 0
    as_given = Counter[str]()  # targets as summary.figures carry them: all, hit, named, named hit
    confusion: Counter[tuple[str, str]] = Counter()
    gold_found = gold_total = 0
    errors: list[str] = []
    for path in names:
        text = path.read_text(encoding="utf-8")
        gold = json.loads(path.with_suffix(".gold.json").read_text(encoding="utf-8"))["figures"]
        clauses, undo = recorder()
        try:
            summary = summarise(text)
        finally:
            undo()
        cleaned = cleaned_source(text)
        given = list(summary.figures)
        figures = with_kinds(summary, cleaned, clauses)
        for g, f in zip(gold, match(gold, given, cleaned), strict=True):
            what = g.get("what", "").lower()
            if f is not None and any(w in what for w in TARGET_WORDS):
                as_given.update(["all"] + ["hit"] * (f.kind == "target") + ["named"] * names_target(what)
                                + ["named hit"] * (names_target(what) and f.kind == "target"))
        for f in figures:
            if not f.label:
                continue
            labels += 1
            near = f.source.start if f.source else 0
            cuts = label_cuts(f.label, cleaned, near)
            if not cuts:
                missing += 1
                errors.append(f"{path.name}: not in the source: {f.label!r}: {f.text!r}")
                continue
            if cuts[-1][0]:
                end_cut += 1
                errors.append(f"{path.name}: cut at the end: {f.label!r}: {f.text!r}")
            if cuts[0][1]:
                start_cut += 1
                errors.append(f"{path.name}: cut at the start: {f.label!r}: {f.text!r}")
            if not _readable(f.label):
                fragments += 1
                errors.append(f"{path.name}: a fragment: {f.label!r}: {f.text!r}")
        for g, f in zip(gold, match(gold, figures, cleaned), strict=True):
            gold_total += 1
            if f is None:
                continue
            gold_found += 1
            what = g.get("what", "")
            expected = gold_kind(what)
            got = f.kind or "none"
            confusion[(expected, got)] += 1
            if expected != got:
                errors.append(f"{path.name}: gold {expected}, got {got}: {g['text']!r} ({what}) label {f.label!r}")
            if any(w in what.lower() for w in TARGET_WORDS):
                target_all += 1
                target_all_hit += got == "target"
                if names_target(what):
                    target_named += 1
                    target_named_hit += got == "target"

    print(f"reports: {len(names)}; labelled figures: {labels}")
    print(f"labels cut mid-word at the end: {end_cut}; at the start: {start_cut}; not found in the source: "
          f"{missing}; fragments only: {fragments}")
    print(f"gold figures found: {gold_found}/{gold_total}")
    print(f"gold 'chỉ tiêu'/'mục tiêu'/'phấn đấu' figures marked target: {target_all_hit}/{target_all}"
          f" (naming the figure, not 'so với chỉ tiêu'/'số chỉ tiêu': {target_named_hit}/{target_named});"
          f" as summary.figures carry them now: {as_given['hit']}/{as_given['all']}"
          f" ({as_given['named hit']}/{as_given['named']})")
    kinds = [*KINDS, "none"]
    print("kind confusion (rows: gold wording, columns: predicted)")
    print(" " * 8 + "".join(f"{k:>8}" for k in kinds))
    for g in KINDS:
        print(f"{g:>8}" + "".join(f"{confusion[(g, k)]:>8}" for k in kinds))
    agree = sum(confusion[(k, k)] for k in KINDS)
    print(f"agreement: {agree}/{sum(confusion.values())}")
    if args.verbose:
        print("\n".join(errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
