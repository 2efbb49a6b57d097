"""clean_text is idempotent: the bot stores the cleaned text and summarises it again, so the spans
of the stored summary must index into the stored text."""

from pathlib import Path

import pytest

from summariser import clean_text, summarise

ROOT = Path(__file__).resolve().parent.parent
TEXTS = sorted((ROOT / "seeds").glob("*.txt")) + sorted((ROOT / "tests/fixtures/summariser").glob("*.txt"))


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_clean_text_is_idempotent_and_spans_hold_on_the_stored_text(path: Path) -> None:
    stored = clean_text(path.read_text(encoding="utf-8"))
    assert clean_text(stored) == stored
    summary = summarise(stored)
    for item in summary.results + summary.shortcomings + summary.tasks:
        assert item.source, item.text
        for span in item.source:
            assert stored[span.start : span.end].strip()
    for figure in summary.figures:
        assert figure.source is not None
        assert stored[figure.source.start : figure.source.end] == figure.text
