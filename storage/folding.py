"""Text folding for search, dedupe and accent-insensitive lookups.

Storage keeps its own small folding (rather than the summariser's cleaning) because the same
function must be applied to indexed text and to queries forever: changing it silently would
desynchronise the FTS index (see `storage.schema`: a change here needs a reindex migration).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

# Tone marks that may sit on either vowel of the open diphthongs oa, oe, uy ("hoà"/"hòa",
# "uỷ"/"ủy"). We write them on the first vowel, the form used by most official documents.
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_PAIRS = {"o": "ae", "O": "ae", "u": "y", "U": "y"}
_SECOND = "".join(
    ch
    for base in "aeyAEY"
    for mark in sorted(_TONE_MARKS)
    if len(ch := unicodedata.normalize("NFC", base + mark)) == 1
)
# oa/oe/uy + tone on the second vowel, at the end of a syllable (not after q: "quý" stays;
# checked in _move_tone, a lookbehind here makes the scan several times slower).
_TONE_MOVE = re.compile(rf"([oOuU])([{_SECOND}])(?!\w)")
# What a search token is: a run of letters/digits (underscore is punctuation to FTS5 unicode61).
_TOKEN = re.compile(r"[^\W_]+")
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
MAX_QUERY_TOKENS = 16
MAX_TOKEN_CHARS = 64


def _move_tone(m: re.Match[str]) -> str:
    first, second = m.group(1), m.group(2)
    if m.start() > 0 and m.string[m.start() - 1] in "qQ":
        return m.group(0)
    decomposed = unicodedata.normalize("NFD", second)
    base, marks = decomposed[0], decomposed[1:]
    if base not in _PAIRS[first] or not marks or marks[0] not in _TONE_MARKS:
        return m.group(0)
    return unicodedata.normalize("NFC", first + marks) + base


def canonical(text: str) -> str:
    """NFC with one tone placement ("hoà" -> "hòa", "uỷ" -> "ủy"); case and đ kept."""
    return _TONE_MOVE.sub(_move_tone, unicodedata.normalize("NFC", text))


def _lower(text: str) -> str:
    """Lower-case without changing the length, so tokens stay aligned with the original text
    (FTS5 snippets are cut from the original by token position)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def fold_cached(text: str | None) -> str | None:
    """`fold`, reusing the last texts folded: a report's text is folded when it is stored and
    again when its summary replaces its index row; titles and items repeat too."""
    if text is None:
        return None
    return _fold_lru(text)


@lru_cache(maxsize=1024)
def _fold_lru(text: str) -> str | None:
    return fold(text)


def fold(text: str | None) -> str | None:
    """The copy of a text that goes into the FTS index (and the form of every query token):
    NFC, one tone placement, đ/Đ -> d, lower-case. FTS5's `remove_diacritics 2` removes the
    remaining marks; đ is a letter to it, hence the explicit mapping."""
    if text is None:
        return None
    return _lower(canonical(text).replace("đ", "d").replace("Đ", "D"))


def strip_marks(text: str) -> str:
    """Fold and drop every combining mark: "Huyện Gia Lộc" -> "huyen gia loc"."""
    folded = unicodedata.normalize("NFD", fold(text) or "")
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)


def lookup_key(text: str | None) -> str | None:
    """Accent- and case-insensitive key with single spaces, for unit/period matching."""
    if text is None:
        return None
    key = " ".join(strip_marks(text).split())
    return key or None


def text_sha256(text: str) -> str:
    """Hash of the normalised text: the same report pasted, forwarded or re-typed with other
    whitespace, case or tone placement is one report."""
    return words_sha256((fold(text) or "").split())


def words_sha256(words: list[str]) -> str:
    """`text_sha256` of a text already folded and split on whitespace."""
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def query_tokens(query: str) -> list[str]:
    """The words of a user's query, folded; punctuation and FTS5 syntax characters dropped."""
    tokens = _TOKEN.findall(fold(query) or "")
    return [t[:MAX_TOKEN_CHARS] for t in tokens[:MAX_QUERY_TOKENS]]


def scope_tag(scope: int) -> str:
    """The token that marks a report's scope in the FTS index (one token for negative ids too).
    Must agree with the SQL expression in `storage.schema`."""
    return f"s{'m' if scope < 0 else ''}{abs(scope)}"


def _ascii(text: str) -> str:
    """Folded text with every combining mark (and any other non-ASCII character) dropped."""
    return unicodedata.normalize("NFD", fold(text) or "").encode("ascii", "ignore").decode("ascii")


def chunk_terms(chunk: str) -> tuple[str, ...]:
    """Index terms of one whitespace-separated chunk (see `vocabulary`); cached, chunks repeat."""
    found = _CHUNK_TERMS.get(chunk)
    if found is None:
        found = tuple(_ASCII_TOKEN.findall(_ascii(chunk)))
        if len(_CHUNK_TERMS) < _CHUNK_CACHE_SIZE:
            _CHUNK_TERMS[chunk] = found
    return found


_CHUNK_TERMS: dict[str, tuple[str, ...]] = {}
_CHUNK_CACHE_SIZE = 200_000


def vocabulary(text: str | None) -> set[str]:
    """The index terms of a text as FTS5 `unicode61 remove_diacritics 2` sees Vietnamese words
    ("Đảng ủy" -> {"dang", "uy"}); kept in a table so the last query word can be expanded into a
    few exact terms instead of an FTS5 prefix scan. Words in other scripts may be missed; the
    search then falls back to FTS5's own prefix query, so results stay right."""
    terms: set[str] = set()
    for chunk in set(text.split()) if text else ():
        terms.update(chunk_terms(chunk))
    return terms


def token_key(token: str) -> str | None:
    """A query token as a vocabulary term, or None when it is not plain Latin letters/digits."""
    key = _ascii(token)
    if not _ASCII_TOKEN.fullmatch(key):
        return None
    if len(key) != sum(1 for c in unicodedata.normalize("NFD", token) if not unicodedata.combining(c)):
        return None  # something other than marks was dropped
    return key
