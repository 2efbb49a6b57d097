"""`python -m summariser.train [--dev DIR] [--out FILE]`: grouped cross-validation, then the model.

The dev reports come in batches from different sources (seeds, A-…, B-…, E-…; see the dev set's
SOURCES.md). Each batch is held out in turn and labelled by a model trained on the others, so the
figure printed says how the model does on reports from a source it has not seen, next to the
rules on the same folds. Then the model is trained on every report and written (deterministic:
same data and parameters, same bytes).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import pycrfsuite

from summariser import align, fastre, learned
from summariser.models import SECTIONS
from summariser.pipeline import clean_text, summarise
from summariser.sections import layout

DEV: Final = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev"
C1: Final = 0.5
C2: Final = 6.0
MAX_ITERATIONS: Final = 200
MIN_FREQ: Final = 2
MIN_DOCS: Final = 2
BATCHES: Final = ("seeds", "A", "B", "C", "D", "E")


@dataclass(slots=True)
class Doc:
    """One dev report ready for training: its candidates, their features and aligned labels."""

    name: str
    batch: str
    raw: str
    cleaned: str
    gold: dict[str, Any]
    cands: list[learned.Candidate]
    features: list[dict[str, float | str]]
    labels: list[str]


def batch_of(name: str) -> str:
    """"000_…" -> "seeds", "A-01" -> "A"."""
    return "seeds" if name[:1].isdigit() else name.split("-", 1)[0]


def make_doc(name: str, raw: str, gold: dict[str, Any]) -> Doc:
    cleaned = clean_text(raw)
    cands = learned.candidates(cleaned)
    feats = learned.featurise(cleaned, cands)
    labels = align.align([c.text for c in cands], gold, [c.sentence for c in cands], others=True)
    return Doc(name, batch_of(name), raw, cleaned, gold, cands, feats, labels)


def load_dev(dev: Path) -> list[Doc]:
    """Every NAME.txt with a NAME.gold.json beside it, in name order."""
    docs = []
    for txt in sorted(dev.glob("*.txt")):
        gold_path = txt.with_suffix(".gold.json")
        if gold_path.exists():
            docs.append(make_doc(txt.stem, txt.read_text(encoding="utf-8"),
                                 json.loads(gold_path.read_text(encoding="utf-8"))))
    return docs


def _key(name: str, value: float | str) -> str:
    return f"{name}:{value}" if isinstance(value, str) else name


def common_features(docs: Sequence[Doc], min_docs: int) -> set[str]:
    """Features seen in at least `min_docs` reports: a word only one or two reports use says more
    about their topic than about sections, and the model would learn it as if it generalised."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update({_key(k, v) for f in d.features for k, v in f.items()})
    return {k for k, n in df.items() if n >= min_docs}


def train(docs: Sequence[Doc], path: Path, *, c1: float = C1, c2: float = C2,
          max_iterations: int = MAX_ITERATIONS, min_freq: int = MIN_FREQ, min_docs: int = MIN_DOCS) -> None:
    """Fit the CRF on `docs` (one sequence per report) and write it to `path`."""
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    keep = common_features(docs, min_docs)
    for d in docs:
        if d.cands:
            trainer.append([{k: v for k, v in f.items() if _key(k, v) in keep} for f in d.features], d.labels)
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": max_iterations, "feature.minfreq": min_freq,
                        "feature.possible_transitions": True})
    trainer.train(str(path))


def load_scorer(dev: Path) -> Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]]:
    """`score_document` of the evaluation's own scorer (score.py beside the dev folder), to score
    exactly as it does; without one, the same section metric from `align` (figures and metadata,
    which the model does not change, are not scored then)."""
    path = dev.parent / "score.py"
    if not path.is_file():
        return section_score
    spec = importlib.util.spec_from_file_location("eval_score", path)
    if spec is None or spec.loader is None:
        return section_score
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score_document  # type: ignore[no-any-return]


def section_score(gold: dict[str, Any], pred: dict[str, Any], source: str) -> dict[str, Any]:
    """score.py's per-section counts and its unsupported-number count, from `align`'s tokens."""
    out: dict[str, Any] = {}
    for section in SECTIONS:
        g_items = [align.tokens(align.item_text(x)) for x in gold.get(section) or []]
        p_items = [align.tokens(align.item_text(x)) for x in pred.get(section) or []]
        out[section] = {
            "gold": len(g_items), "pred": len(p_items),
            "found": sum(1 for g in g_items if any(align.cover(g, p) >= align.COVER for p in p_items)),
            "supported": sum(1 for p in p_items if any(align.cover(g, p) >= align.COVER for g in g_items)),
        }
    shown = " ".join(align.item_text(x) for s in SECTIONS for x in pred.get(s) or [])
    source_numbers = set(_NUMBER.findall(source))
    out["numbers"] = {"unsupported": sum(1 for n in _NUMBER.findall(shown) if n not in source_numbers)}
    return out


_NUMBER: Final = re.compile(r"\d+(?:[.,/]\d+)*")


def prediction(doc: Doc, labels: Sequence[str], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary as the CLI prints it: metadata and figures of the rules, sections from `labels`."""
    data = base if base is not None else summarise(doc.raw).model_dump(mode="json")
    data = dict(data)
    for section in SECTIONS:
        data[section] = []
    for section, _, text in learned.items(doc.cleaned, doc.cands, list(labels)):
        data[section].append(text)
    return data


def rules_prediction(doc: Doc, base: dict[str, Any]) -> dict[str, Any]:
    """The summary with the rules' sections (`sections.layout`, as the pipeline used them before the
    model): the baseline, never touched by the model (`summarise` may now use the committed one)."""
    fastre.begin(doc.cleaned)
    data = dict(base)
    seen: dict[str, list[str]] = {s: [] for s in SECTIONS}
    for s in SECTIONS:
        data[s] = []
    for d in layout(doc.cleaned).drafts:
        if d.section not in SECTIONS:
            continue
        key = d.text.lower()
        if any(key in earlier for earlier in seen[d.section]):
            continue  # the pipeline's dedupe: an item inside an earlier one of its section goes
        seen[d.section].append(key)
        data[d.section].append(d.text)
    return data


def evaluate(score_document: Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]], docs: Sequence[Doc],
             preds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """score.py's figures over `docs`: micro-averaged F1 per section, their mean, unsupported numbers."""
    totals = {s: Counter() for s in SECTIONS}
    unsupported = 0
    for d, p in zip(docs, preds, strict=True):
        row = score_document(d.gold, p, d.raw)
        for s in SECTIONS:
            totals[s].update(row[s])
        unsupported += row["numbers"]["unsupported"]
    f1s = {}
    for s in SECTIONS:
        t = totals[s]
        recall = t["found"] / t["gold"] if t["gold"] else 1.0
        precision = t["supported"] / t["pred"] if t["pred"] else (1.0 if not t["gold"] else 0.0)
        f1s[s] = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return {"score": sum(f1s.values()) / len(f1s), **f1s, "unsupported": unsupported}


def cross_validate(docs: Sequence[Doc], workdir: Path, **params: Any) -> list[tuple[str, list[list[str]]]]:
    """For each batch: the held-out reports' labels from a model trained on the other batches."""
    out = []
    for batch in BATCHES:
        held = [d for d in docs if d.batch == batch]
        if not held:
            continue
        path = workdir / f"fold-{batch}.crfsuite"
        train([d for d in docs if d.batch != batch], path, **params)
        tagger = pycrfsuite.Tagger()
        tagger.open(str(path))
        out.append((batch, [learned.decide(tagger, d.features) for d in held]))
        tagger.close()
    return out


def _line(name: str, r: dict[str, Any]) -> str:
    return (f"{name:8} score {r['score']:.3f}  results {r['results']:.3f}  shortcomings {r['shortcomings']:.3f}"
            f"  tasks {r['tasks']:.3f}")


def cv_report(docs: Sequence[Doc], scorer: Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]],
              bases: dict[str, dict[str, Any]], workdir: Path, **params: Any) -> dict[str, Any]:
    """Grouped cross-validation scored per fold (model and rules), their means, and all held-out
    reports scored together ("pooled")."""
    rows = []
    held_all: list[Doc] = []
    preds_all: list[dict[str, Any]] = []
    for batch, labels in cross_validate(docs, workdir, **params):
        held = [d for d in docs if d.batch == batch]
        preds = [prediction(d, lab, bases[d.name]) for d, lab in zip(held, labels, strict=True)]
        rules = [rules_prediction(d, bases[d.name]) for d in held]
        rows.append((batch, evaluate(scorer, held, preds), evaluate(scorer, held, rules)))
        held_all += held
        preds_all += preds
    return {
        "folds": rows,
        "mean": sum(r[1]["score"] for r in rows) / len(rows),
        "rules_mean": sum(r[2]["score"] for r in rows) / len(rows),
        "pooled": evaluate(scorer, held_all, preds_all),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m summariser.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=Path, default=DEV, help="folder of NAME.txt + NAME.gold.json")
    parser.add_argument("--out", type=Path, default=learned.MODEL_PATH, help="model file to write")
    parser.add_argument("--c1", type=float, default=C1)
    parser.add_argument("--c2", type=float, default=C2)
    parser.add_argument("--grid", action="store_true", help="cross-validate a grid of c1/c2 and stop")
    parser.add_argument("--cv-only", action="store_true", help="cross-validate and stop (no model written)")
    args = parser.parse_args(argv)
    if not args.dev.is_dir():
        print(f"no dev folder at {args.dev}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    docs = load_dev(args.dev)
    if not docs:
        print(f"no NAME.txt with NAME.gold.json in {args.dev}", file=sys.stderr)
        return 2
    scorer = load_scorer(args.dev)
    bases = {d.name: summarise(d.raw).model_dump(mode="json") for d in docs}
    print(f"{len(docs)} reports, {sum(len(d.cands) for d in docs)} candidates "
          f"({time.perf_counter() - started:.1f} s to read and featurise)")
    oracle = evaluate(scorer, docs, [prediction(d, d.labels, bases[d.name]) for d in docs])
    print(_line("oracle", oracle) + "  (every candidate given its aligned label)")

    with tempfile.TemporaryDirectory() as tmp:
        grid = ([(c1, c2) for c1 in (0.0, 0.5) for c2 in (0.1, 1.0, 3.0, 6.0, 10.0, 20.0)]
                if args.grid else [(args.c1, args.c2)])
        for c1, c2 in grid:
            cv = cv_report(docs, scorer, bases, Path(tmp), c1=c1, c2=c2)
            if args.grid:
                print(f"c1 {c1:<4} c2 {c2:<5} CV mean {cv['mean']:.3f}  pooled {cv['pooled']['score']:.3f}")
                continue
            print(f"grouped cross-validation (c1 {c1}, c2 {c2}), each batch held out: model | rules")
            for batch, model_r, rules_r in cv["folds"]:
                print(f"  {_line(batch, model_r)}  |  {_line('rules', rules_r)}  "
                      f"numbers not in source {model_r['unsupported']}")
            print(f"  mean     score {cv['mean']:.3f}  |  rules {cv['rules_mean']:.3f}")
            print(f"  {_line('pooled', cv['pooled'])}  (all held-out reports scored together)")
    if args.grid or args.cv_only:
        return 0
    train(docs, args.out, c1=args.c1, c2=args.c2)
    tagger = pycrfsuite.Tagger()
    tagger.open(str(args.out))
    fitted = evaluate(scorer, docs, [prediction(d, learned.decide(tagger, d.features), bases[d.name]) for d in docs])
    tagger.close()
    rules = evaluate(scorer, docs, [rules_prediction(d, bases[d.name]) for d in docs])
    print(f"{_line('all ' + str(len(docs)), fitted)}  (training set)  |  {_line('rules', rules)}  "
          f"numbers not in source {fitted['unsupported']}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
