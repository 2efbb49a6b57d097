"""Speed of the extractive summariser against sumy's LexRank, on the seed reports, in one process.

Prints reports/s and ms per report (p50, p95) for both, side by side, and the ratio.
Floor for ours: at least 4x LexRank's throughput in the same run (a ratio, so a busy machine slows
both alike).

    .venv/bin/python bench/summariser.py [--rounds N] [--peer-rounds N]

sumy gets a tokenizer of our own (NLTK's punkt data is not available here): sentences split at
". ! ? …" before a capital, words are \\w+ runs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summariser import summarise  # noqa: E402
from summariser.pipeline import clean_text  # noqa: E402

FLOOR_RATIO = 4.0


class VietnameseTokenizer:
    """The two methods sumy's parsers call, without NLTK data."""

    _sentence_end = re.compile(r"(?<=[.!?…])\s+(?=[\"“(]?[^\W\d_])|\n+")
    _word = re.compile(r"\w+", re.UNICODE)
    language = "vietnamese"

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(s.strip() for s in self._sentence_end.split(paragraph) if s.strip())

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(self._word.findall(sentence))


def lexrank_runner(sentences: int) -> Callable[[str], object]:
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer

    tokenizer = VietnameseTokenizer()
    summarizer = LexRankSummarizer()

    def run(text: str) -> object:
        parser = PlaintextParser.from_string(text, tokenizer)
        return summarizer(parser.document, sentences)

    return run


def measure(fn: Callable[[str], object], texts: list[str], rounds: int) -> list[float]:
    for text in texts:  # warm-up: imports, regex caches
        fn(text)
    times: list[float] = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            fn(text)
            times.append(time.perf_counter() - start)
    return times


def stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "reports": len(times),
        "per_s": len(times) / sum(times),
        "p50": statistics.median(ordered) * 1000,
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
        "mean": statistics.fmean(ordered) * 1000,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=200, help="passes over the seeds for ours")
    ap.add_argument("--peer-rounds", type=int, default=20, help="passes over the seeds for LexRank")
    ap.add_argument("--sentences", type=int, default=10, help="sentences LexRank selects")
    args = ap.parse_args()

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    size = sum(len(t.encode()) for t in texts) / len(texts)
    print(f"{len(texts)} seed reports, mean {size / 1024:.1f} KB; one process, one core; "
          "summariser runs from its Python sources")

    # Each report is summarised from scratch: the memoised cleaning (clean -> check -> summarise share
    # it in the bot) would otherwise be skipped for the repeated seeds.
    ours = stats(measure(lambda t: (clean_text.cache_clear(), summarise(t)), texts, args.rounds))
    try:
        peer = stats(measure(lexrank_runner(args.sentences), texts, args.peer_rounds))
    except ImportError as exc:
        print(f"sumy not installed ({exc}); install the bench extra: pip install -e '.[bench]'")
        peer = None

    header = f"{'':28}{'reports':>9}{'reports/s':>12}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}"
    print(header)
    rows = [("extractive (this project)", ours)]
    if peer:
        rows.append((f"sumy LexRank ({args.sentences} sent.)", peer))
    for name, s in rows:
        print(f"{name:28}{s['reports']:>9}{s['per_s']:>12.1f}{s['p50']:>10.3f}{s['p95']:>10.3f}{s['mean']:>10.3f}")
    if peer:
        print(f"ratio (ours / LexRank): {ours['per_s'] / peer['per_s']:.1f}x the throughput, "
              f"p50 {peer['p50'] / ours['p50']:.1f}x faster")
    if peer:
        ratio = ours["per_s"] / peer["per_s"]
        verdict = "meets" if ratio >= FLOOR_RATIO else "MISSES"
        print(f"floor >= {FLOOR_RATIO:.0f}x LexRank: {verdict} ({ratio:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
