"""Officials' corrections applied to a summary: a pure function, no database.

A correction names an item by the text it had when the official saw it, not by its position:
re-summarising a report (a new engine, a merged text) may give the same items in another order,
split differently or with a word more, and the fix must still land on the item it was meant for.
So an item is found by its normalised text first (the copy nearest the recorded index when a
text occurs twice), in its recorded section before the others, and failing that by the item
sharing most of its syllables with the recorded text (`SIMILAR` of both). A correction whose
item is gone is skipped: the official's point no longer applies to that summary.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import date

from storage.models import Correction
from summariser.models import SECTIONS, Figure, Item, Section, Summary

SIMILAR = 0.8  # share of syllables two item texts must have in common (of the longer one)
_WORD = re.compile(r"\w+(?:[.,/]\w+)*%?", re.UNICODE)


def item_key(text: str) -> str:
    """What two spellings of one item have in common: NFC, lower case, single spaces, no
    punctuation at either end."""
    folded = unicodedata.normalize("NFC", text).lower().replace("uỷ", "ủy")
    return " ".join(folded.split()).strip(" .,;:!?…-–—•*·\"'“”()")


def _words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(item_key(text)))


def _similarity(a: Counter[str], b: Counter[str]) -> float:
    longer = max(sum(a.values()), sum(b.values()))
    return sum((a & b).values()) / longer if longer else 0.0


def find_item(
    sections: dict[Section, list[Item]], section: Section | None, text: str, index: int | None = None
) -> tuple[Section, int] | None:
    """(section, position) of the item a correction recorded as `text` in `section` at `index`."""
    order = [section] if section in SECTIONS else []
    order += [s for s in SECTIONS if s != section]
    key = item_key(text)
    for name in order:
        same = [i for i, item in enumerate(sections[name]) if item_key(item.text) == key]
        if same:
            nearest = min(same, key=lambda i: (abs(i - index), i)) if index is not None else same[0]
            return name, nearest
    wanted = _words(text)
    best: tuple[float, int, Section, int] | None = None  # (similarity, section rank, section, pos)
    for rank, name in enumerate(order):
        for i, item in enumerate(sections[name]):
            score = _similarity(wanted, _words(item.text))
            if score >= SIMILAR and (best is None or (score, -rank) > (best[0], -best[1])):
                best = (score, rank, name, i)
    return (best[2], best[3]) if best else None


def _inside(figure: Figure, item: Item) -> bool:
    """Whether a figure was read from this item: its span lies in one of the item's spans, or
    (an item without spans) its text stands in the item's text."""
    if figure.source is not None and item.source:
        return any(s.start <= figure.source.start and figure.source.end <= s.end for s in item.source)
    return not item.source and figure.text in item.text


def apply_corrections(summary: Summary, corrections: Iterable[Correction]) -> Summary:
    """The summary as the officials corrected it, corrections applied in the order given
    (oldest first, as `Repository.corrections` returns them). `summary` is not changed.

    A moved item goes to the end of its new section; a dropped one is gone. The figures read
    from a moved item follow it into its section; those of a dropped item go with it unless
    another item holds them too. `merge` changes nothing here (the caller re-summarises the
    merged text)."""
    out = summary.model_copy(deep=True)
    sections: dict[Section, list[Item]] = {name: list(getattr(out, name)) for name in SECTIONS}
    figures = list(out.figures)
    for fix in corrections:
        if fix.kind in ("move", "drop"):
            if not fix.item_text:
                continue
            found = find_item(sections, fix.section, fix.item_text, fix.index)
            if found is None:
                continue
            name, position = found
            if fix.kind == "move":
                target: Section = fix.value  # type: ignore[assignment]  # checked by Correction
                if name == target:  # already there (a later summary put it there itself)
                    continue
                item = sections[name].pop(position)
                sections[target].append(item)
                for i, figure in enumerate(figures):
                    if _inside(figure, item):
                        figures[i] = figure.model_copy(update={"section": target})
            else:
                item = sections[name].pop(position)
                rest = [other for items in sections.values() for other in items]
                figures = [
                    f for f in figures if not _inside(f, item) or any(_inside(f, other) for other in rest)
                ]
        elif fix.kind == "set_unit":
            out.unit = fix.value or None
        elif fix.kind == "set_period":
            out.period = fix.value or None
        elif fix.kind == "set_date":
            out.date = date.fromisoformat(fix.value) if fix.value else None
    for name in SECTIONS:
        setattr(out, name, sections[name])
    out.figures = figures
    return out


def item_at(summary: Summary, section: Section, index: int) -> Item:
    """The item an official points at (by section and position in the summary shown to them);
    IndexError when there is none."""
    items = summary.section(section)
    if not 0 <= index < len(items):
        raise IndexError(f"{section} has no item {index}")
    return items[index]
