"""Input normalisation: one canonical spelling so rules and search see the same text.

Reports arrive from web pages, Word files and copy-paste: NFC and NFD mixed, old and new tone
placement ("uỷ"/"ủy", "hoà"/"hòa"), non-breaking spaces, and crawled text whose sentences and
paragraphs run together ("đơn vị,tiếp tục"). Digits are never touched, so any number in the
normalised text is written exactly as in the input.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Old-style tone placement on the second vowel of a final "oa", "oe", "uy" -> new style on the first
# vowel ("hoà" -> "hòa", "khoẻ" -> "khỏe", "uỷ" -> "ủy"). Only at the end of a syllable: "hoàn",
# "khuỷu" are right in both styles; "quý" keeps its mark ("qu" is a consonant).
_TONE_MOVES: dict[str, str] = {}
for _base, _marked, _moved in (
    ("o", "àáảãạ", "òóỏõọ"),
    ("O", "àáảãạ", "ÒÓỎÕỌ"),
    ("o", "èéẻẽẹ", "òóỏõọ"),
    ("O", "èéẻẽẹ", "ÒÓỎÕỌ"),
    ("u", "ỳýỷỹỵ", "ùúủũụ"),
    ("U", "ỳýỷỹỵ", "ÙÚỦŨỤ"),
):
    _plain = {"à": "a", "è": "e", "ỳ": "y"}[_marked[0]]
    for _m, _n in zip(_marked, _moved, strict=True):
        _TONE_MOVES[_base + _m] = _n + _plain
        _TONE_MOVES[_base + _m.upper()] = _n + _plain.upper()
# One pattern per first vowel: a pattern led by a plain character is searched several times faster than
# one led by a class, and the matches (two letters, then no letter) can neither overlap nor touch.
_TONE_RES: Final = tuple(re.compile(rf"{vowel}[àáảãạèéẻẽẹỳýỷỹỵÀÁẢÃẠÈÉẺẼẸỲÝỶỸỴ](?!\w)") for vowel in "oOuU")

_INVISIBLE: Final = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ODD_SPACE: Final = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPACE_RUN: Final = re.compile(r"  +")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LATIN = [chr(c) for c in (*range(0x41, 0x7B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00))]
UPPER: Final = "".join(c for c in _LATIN if c.isalpha() and c.isupper())  # for regex classes: [{UPPER}]
LOWER: Final = "".join(c for c in _LATIN if c.isalpha() and c.islower())
_LOWER, _UPPER = LOWER, UPPER
# "đơn vị,tiếp tục" / "tốt;đẩy mạnh" -> a space after the mark (never between digits: "12,5"); one mark at
# a time (a space goes after a mark, never before one, so the order does not matter).
_GLUED_MARKS: Final = tuple(re.compile(rf"{mark}(?=[{_LOWER}{_UPPER}])") for mark in ",;:")
# "thực hiện tốt.Đẩy nhanh": a full stop between a lower-case word and a capital starts a sentence
# ("T.Ư", "TP.HCM", "Tp.Hồ" have a capital or a one-letter word before the stop and are kept).
# (one pattern per mark, as for the tones: a space only goes after a mark followed by a letter)
_GLUED_STOPS: Final = tuple(re.compile(rf"{re.escape(mark)}(?=[{_UPPER}][{_LOWER}])") for mark in ".!?…")


def _space_after_comma(m: re.Match[str]) -> str:
    at = m.start()
    before = m.string[at - 1] if at else ""
    mark = m.group(0)
    if before.isalpha() or before in "%)" or (before.isdigit() and mark != ","):
        return mark + " "
    return mark


def _space_after_stop(m: re.Match[str]) -> str:
    at = m.start()
    if at >= 2 and m.string[at - 1].islower() and m.string[at - 2].islower():
        return m.group(0) + " "
    return m.group(0)


def _fix_tone(match: re.Match[str]) -> str:
    pair = match.group(0)
    if match.start() and match.string[match.start() - 1] in "qQ":
        return pair  # "quý", "quỹ": "qu" is a consonant
    return _TONE_MOVES.get(pair, pair)  # "uà", "oỳ" are not Vietnamese pairs: left as they are


def fix_tone_placement(text: str) -> str:
    """Move old-style tone marks ("uỷ", "hoà", "khoẻ") to the new-style vowel ("ủy", "hòa", "khỏe")."""
    for vowel, pattern in zip("oOuU", _TONE_RES, strict=True):
        if vowel in text:  # (an 'in' is a memchr: cheaper than the pattern's scan when there is none)
            text = pattern.sub(_fix_tone, text)
    return text


def normalise(text: str) -> str:
    """NFC, one tone placement, single spaces, one paragraph per line, glued punctuation split."""
    text = unicodedata.normalize("NFC", text)
    # The commonest odd spaces of crawled pages become spaces first (an 'in' is cheap, the class pass is
    # not). Same result as in the _ODD_SPACE pass after the tones: no other pass reads or writes them,
    # and to a tone pair (a letter, a mark, then no word character, no "q" before) a space is the same.
    if "\u00a0" in text:
        text = text.replace("\u00a0", " ")
    if "\t" in text:
        text = text.replace("\t", " ")
    # Invisible, control and odd space characters are all non-printable: most texts have none but
    # line breaks, and the passes replacing them are skipped.
    plain = text.replace("\n", "").isprintable()
    if not plain:
        text = _INVISIBLE.sub("", text)
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
        text = _CONTROL.sub(" ", text)
    text = fix_tone_placement(text)
    if not plain:
        text = _ODD_SPACE.sub(" ", text)
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    lines = []
    # One mark at a time: a pattern led by a plain character is found fastest; a mark absent from the
    # text (an 'in' is a memchr) needs no pass.
    for mark, glued in zip(",;:", _GLUED_MARKS, strict=True):
        if mark in text:
            text = glued.sub(_space_after_comma, text)
    for mark, stop in zip(".!?…", _GLUED_STOPS, strict=True):
        if mark in text:
            text = stop.sub(_space_after_stop, text)
    for raw in text.split("\n"):
        line = raw.strip()
        if line:
            lines.append(line)
    return "\n".join(lines)
