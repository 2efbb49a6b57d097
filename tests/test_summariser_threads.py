"""The summariser called from many threads at once (the bot's default executor; bench/replicas.py
once lost a brief this way: pycrfsuite's "The position, 31is out of range of 31" under 50 users,
the report marked failed). One report at a time per process: every call gives the sequential
result and none raises."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from summariser import summarise

SEEDS = [p.read_text(encoding="utf-8") for p in sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))]


def test_twenty_threads_summarise_as_one_does() -> None:
    texts = [SEEDS[i % len(SEEDS)] + f"\n\nBáo cáo số {i}." for i in range(40)]
    alone = [summarise(t).model_dump_json() for t in texts]
    with ThreadPoolExecutor(max_workers=20) as pool:
        together = list(pool.map(lambda t: summarise(t).model_dump_json(), texts))
    assert together == alone
