"""Gold items -> candidate labels: which clause of the report a hand-written item came from.

Tokens and cover are those of the evaluation scorer (shared/eval/score.py), re-implemented here so
the package never reads ../shared at run time: a candidate labelled from the gold is then exactly a
candidate that would score for that section. A gold item goes to the candidate holding the largest
share of its content syllables (at least `COVER`); a candidate that takes items of several sections
keeps the section most of them have.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

SECTIONS: Final = ("results", "shortcomings", "tasks")
NONE: Final = "none"
LABELS: Final = (*SECTIONS, NONE)
COVER: Final = 0.6
STOPWORDS: Final = frozenset(
    ["của", "và", "các", "những", "được", "đã", "đang", "sẽ", "trong", "cho", "với", "là", "có", "theo", "về", "tại", "từ", "đến", "này", "đó", "một", "như", "để", "thì", "mà", "nên", "cũng", "còn", "vẫn", "nhất", "là", "hơn", "rất", "bị", "do", "vào", "ra", "trên", "dưới", "khi", "thực", "hiện", "công", "tác", "tiếp", "tục", "tập", "trung"]
)
_TOKEN: Final = re.compile(r"\d+(?:[.,/]\d+)*%?|\w+", re.UNICODE)


def tokens(text: str) -> Counter[str]:
    """Content syllables as the scorer counts them (NFC, lower-cased, function words out)."""
    text = unicodedata.normalize("NFC", text or "").lower()
    return Counter(t for t in _TOKEN.findall(text) if t not in STOPWORDS)


def item_text(item: object) -> str:
    """A gold or predicted item: a string or an object with a "text" field."""
    if isinstance(item, dict):
        return str(item.get("text", ""))
    return str(item)


def cover(gold: Counter[str], pred: Counter[str]) -> float:
    """Share of the gold item's syllables that the predicted item holds."""
    total = sum(gold.values())
    if not total:
        return 0.0
    return sum((gold & pred).values()) / total


@dataclass(frozen=True, slots=True)
class Match:
    """One gold item and the candidate that holds most of it (`candidate` -1: none holds 60%).

    `run`: when no single candidate holds 60% of the item, the shortest run of neighbouring
    candidates of one group (`groups`, e.g. a sentence) that does together (else empty)."""

    section: str
    index: int  # the item's place in its gold list
    candidate: int
    cover: float
    run: tuple[int, ...] = ()
    others: tuple[int, ...] = ()  # other candidates that hold 60% of it too (a repeated sentence)


RUN: Final = 3  # at most this many neighbouring candidates hold one gold item together


def matches(candidates: Sequence[str], gold: dict[str, object],
            groups: Sequence[object] | None = None) -> list[Match]:
    """For every gold item of the three sections, its best candidate (ties: the earliest)."""
    bags = [tokens(c) for c in candidates]
    out: list[Match] = []
    for section in SECTIONS:
        items = gold.get(section) or []
        assert isinstance(items, list)
        for i, item in enumerate(items):
            g = tokens(item_text(item))
            best, best_cover = -1, 0.0
            holders: list[int] = []
            for j, bag in enumerate(bags):
                c = cover(g, bag)
                if c >= COVER:
                    holders.append(j)
                if c > best_cover:
                    best, best_cover = j, c
            if best_cover >= COVER:
                out.append(Match(section, i, best, best_cover, others=tuple(j for j in holders if j != best)))
                continue
            run = _run(g, bags, groups) if groups is not None else ()
            out.append(Match(section, i, -1, best_cover, run))
    return out


def _run(g: Counter[str], bags: list[Counter[str]], groups: Sequence[object]) -> tuple[int, ...]:
    """The shortest run of neighbours in one group whose union holds `COVER` of `g` (earliest first)."""
    best: tuple[int, ...] = ()
    for i in range(len(bags)):
        acc: Counter[str] = Counter()
        for k in range(i, min(i + RUN, len(bags))):
            if groups[k] != groups[i]:
                break
            acc = acc + bags[k]
            if cover(g, acc) >= COVER:
                if k > i and (not best or k - i + 1 < len(best)):
                    best = tuple(range(i, k + 1))
                break
    # (a run whose first or last member adds nothing is not shortest: the loop stops at the first cover)
    return best


def labels_from(n: int, found: Iterable[Match], others: bool = False) -> list[str]:
    """Each candidate's label: the majority section of the gold items it holds, else "none".

    A tie goes to the section whose items it covers best in total, then to the earlier section.
    Members of a run count as holding the item (they are merged when shown, see `learned.items`)."""
    votes: list[Counter[str]] = [Counter() for _ in range(n)]
    weight: list[Counter[str]] = [Counter() for _ in range(n)]
    for m in found:
        if m.candidate >= 0:
            votes[m.candidate][m.section] += 1
            weight[m.candidate][m.section] += m.cover
        for j in m.run:
            votes[j][m.section] += 1
            weight[j][m.section] += m.cover / len(m.run)
        for j in m.others if others else ():
            votes[j][m.section] += 1
    out: list[str] = []
    for v, w in zip(votes, weight, strict=True):
        if not v:
            out.append(NONE)
            continue
        out.append(max(SECTIONS, key=lambda s: (v[s], w[s], -SECTIONS.index(s))))
    return out


def align(candidates: Sequence[str], gold: dict[str, object], groups: Sequence[object] | None = None,
          *, others: bool = False) -> list[str]:
    """The label of every candidate text from the gold summary of its report.

    `groups`: one key per candidate (its sentence); neighbours of one group may hold an item together.
    `others`: a candidate that holds 60% of an item another holds better is labelled with it too (the
    scorer counts it as a supported item: to the model it is as right as the best one)."""
    return labels_from(len(candidates), matches(candidates, gold, groups), others)
