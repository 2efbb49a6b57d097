"""Checks that decide whether a model's rewrite of an item may replace the extractive item.

A model output is only shown when it passes every check; otherwise the item's own wording from the
report is kept. The checks are cheap, deterministic and free of torch so they can be tested alone.
They err on the side of rejecting: faithfulness is never traded for fluency.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Literal

Reason = Literal["empty", "number", "repetition", "not_vietnamese", "too_long", "unfaithful", "negation"]

# A number exactly as written: "8.458.730", "77,9", "13/18", "05/10/2023".
NUMBER_RE = re.compile(r"\d+(?:[.,/]\d+)*")
_WORD_RE = re.compile(r"[^\W\d_]+")

_VI_MARKED = set("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")
# Words whose loss flips the meaning of a clause ("chưa hoàn thành" -> "hoàn thành").
_NEGATIONS = ("không", "chưa", "chẳng")

MIN_MARKED_SHARE = 0.3  # Vietnamese prose has well over half its syllables marked
MIN_LATIN_SHARE = 0.95
MIN_OVERLAP = 0.6  # share of the output's words that must come from the item itself
MAX_SAME_WORD_SHARE = 0.3


def numbers(text: str) -> list[str]:
    return NUMBER_RE.findall(text)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(unicodedata.normalize("NFC", text))]


def _ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def is_repetitive(candidate: str, original: str = "") -> bool:
    """Degenerate decoding: a word stuttered, one word dominating, or a trigram repeated.

    Repeats that the original item already has are allowed, since they are the report's own.
    """
    toks, orig = words(candidate), words(original)
    if any(toks[i] == toks[i + 1] == toks[i + 2] for i in range(len(toks) - 2)):
        return True
    counts, orig_counts = Counter(toks), Counter(orig)
    for word, n in counts.items():
        if n >= 4 and n > orig_counts[word] and n / len(toks) > MAX_SAME_WORD_SHARE:
            return True
    orig_tri = _ngrams(orig, 3)
    return any(n > 1 and n > orig_tri[g] for g, n in _ngrams(toks, 3).items())


def is_vietnamese(text: str) -> bool:
    """Latin script with enough diacritic-marked syllables (English or garbage fails)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if unicodedata.name(c, "").startswith("LATIN"))
    if latin / len(letters) < MIN_LATIN_SHARE:
        return False
    syllables = words(text)
    marked = sum(1 for s in syllables if _VI_MARKED.intersection(s))
    if len(syllables) < 4:
        return marked >= 1
    return marked / len(syllables) >= MIN_MARKED_SHARE


def check_output(candidate: str, original: str, source: str | None = None) -> Reason | None:
    """None when `candidate` may stand in for `original`, else the first reason it may not.

    `original` is the extractive item; `source` is the cleaned report it came from. A number must
    appear, exactly as written, in the item itself (and so in the report): a rewrite that moves a
    figure from elsewhere in the report into this clause would misattribute it.
    """
    cand = unicodedata.normalize("NFC", candidate).strip()
    if not words(cand):
        return "empty"
    allowed = set(numbers(original))
    if source is not None:
        allowed &= set(numbers(source))
    if any(n not in allowed for n in numbers(cand)):
        return "number"
    if len(cand) > len(original.strip()):
        return "too_long"
    if not is_vietnamese(cand):
        return "not_vietnamese"
    if is_repetitive(cand, original):
        return "repetition"
    toks, orig = words(cand), set(words(original))
    if sum(1 for t in toks if t in orig) / len(toks) < MIN_OVERLAP:
        return "unfaithful"
    cand_words = set(toks)
    if any(neg in orig and neg not in cand_words for neg in _NEGATIONS):
        return "negation"
    return None
