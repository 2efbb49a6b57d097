"""Full-text search over the FTS5 index: what a query means, a plan that stays fast at 100k
reports, and the sentence each hit shows.

What a query means (`parse`):
  * every word must be in the report (AND), the last one as a prefix (while typing "Gia L");
  * "quoted words" must be there as a phrase: next to each other, in this order (straight, curly
    and «» quotes; a quote left open runs to the end of the query);
  * an abbreviation of `storage.abbreviations` matches its expansions and the other way round:
    GPMB finds (GPMB OR "giải phóng mặt bằng"), "giải phóng mặt bằng" typed finds GPMB too;
  * ranking: reports holding the query's multi-word runs as phrases first ("Đức Chính": the
    commune before reports saying "đạo đức" and "chính trị"), among those first the ones writing
    them with the diacritics typed ("Đức Chính", not "giáo dục chính trị", which folds the
    same); then bm25 over the single words (title x4, summary items x2, text x1); then newest.
  * nothing the user types is FTS5 syntax: tokens hold letters and digits only and are quoted.

Measured on this machine (100k reports, 80k in one scope), FTS5 costs are:
  * matching, newest first (ORDER BY rowid DESC LIMIT n): lazy, ~1-2 ms whatever the match count;
  * bm25: before ranking any row it counts the documents of every phrase (a full doclist scan,
    ~5 ms per term that is in most reports, 20-40 ms per multi-word phrase), and scores rows at
    ~6 us each, so ranking every match of a common query takes 300+ ms;
  * a prefix query ("b*") merges the doclists of every matching term up front (up to 1 s);
  * a phrase is checked in every report holding all its words: newest first it stops at the
    LIMIT, but a phrase that is rare while its words are everywhere walks all of them (0.3-1 us
    per report: 25-40 ms over 80k reports). Newest first, FTS5 ignores a lower rowid bound (it
    still walks to the oldest row); in rowid order it stops at the bound;
  * reading the stored text of 500 reports (overflow pages) costs ~25 ms, their title and unit ~1.
So the plan is:
  1. match newest first, up to COUNT_CAP + 1 rows: the candidates and the total (capped). When
     the match needs phrases, the same words without phrases are matched first (cheap): from how
     densely they occur, the phrase check reads rowid ranges from the newest down, in rowid
     order, to a floor below which it would walk more than PHRASE_SCAN_DOCS reports holding the
     words; the total is then flagged as capped. Only when that finds nothing does it look at
     every older report ("nothing found" must be true; the one slow case: a phrase in no report
     while its words are in all, ~40 ms);
  2. the ranking phrases (runs, expansions typed loose) within the same bound; among the newest
     RANK_WINDOW phrase hits, those whose title or unit writes a run with the diacritics typed;
  3. rank the newest RANK_WINDOW of the list with bm25 over its single words only (never a
     phrase: see above), leaving out words found in most reports (idf ~0) and the scope tag when
     the scope holds most reports; rows past the window keep the list's order, so pages agree;
  4. the last word is a prefix: short prefixes use the index's prefix index (1-2 letters), longer
     ones are expanded into the few exact terms that start with it (table `search_terms`);
  5. the sentence of each hit of the page is found in Python in the report's own text (each
     sentence searched once per query pattern), so it shows the report's spelling.
Limits that follow: phrase-first ranking covers the newest reports within the bound (older
phrase hits are listed among the others, newest first), and the diacritics tier looks at titles
and units only, where names are written.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import aiosqlite

from storage import abbreviations
from storage.abbreviations import key_text
from storage.folding import MAX_QUERY_TOKENS, MAX_TOKEN_CHARS, canonical, fold, scope_tag, token_key

COUNT_CAP = 500  # totals above this are reported as "at least COUNT_CAP"
RANK_WINDOW = 200  # newest matches ranked by bm25
SAMPLE_ROWS = 500  # newest reports used to estimate how common a word is
COMMON_SHARE = 0.5  # in at least this share of reports: idf ~ 0 in bm25
COMMON_MIN_REPORTS = 5000  # ... and in at least this many (below that, bm25 is cheap: keep it)
MAX_EXPANSION = 24  # more terms than this for a prefix: let FTS5 do the prefix query
PREFIX_INDEX = 2  # FTS5 prefix index lengths 1..PREFIX_INDEX (see schema)
PHRASE_SCAN_DOCS = 3_000  # reports holding a phrase's words that one phrase check walks (~1-5 ms)
MAX_PHRASE_FORMS = 8  # spellings of one quoted phrase holding abbreviations (cartesian product)
SENTENCE_CHARS = 320  # a longer matching sentence is cut around its marks
SNIPPET_WORDS = 16
COLUMNS = "{title body items}"
QUOTES = '"“”„«»'
_TOKEN = re.compile(r"[^\W_]+")
_QUOTE = re.compile(f"[{QUOTES}]")
_SENTENCE_END = re.compile(r"[.!?…]\s+|\n\s*")
_TIER_EXACT, _TIER_PHRASE, _TIER_WORDS = 0, 1, 2

Tokens = tuple[str, ...]


def _quote(token: str) -> str:
    """Tokens hold letters and digits only (`_words`), so quoting is all it takes."""
    return f'"{token}"'


def _phrase(tokens: Sequence[str]) -> str:
    """An FTS5 phrase: the tokens next to each other (one token: just that term)."""
    return _quote(" ".join(tokens))


def scope_expression(scope: int) -> str:
    return f"scope_tag : {_quote(scope_tag(scope))}"


def words_expression(items: Sequence[str]) -> str:
    return f"{COLUMNS} : ({' AND '.join(items)})"


def match_expression(scope: int, items: Sequence[str]) -> str:
    """Rows of `scope` whose title, text or summary items hold every item."""
    return f"{scope_expression(scope)} AND {words_expression(items)}"


# --- what a query means ---------------------------------------------------------------------------


class Word(NamedTuple):
    typed: str  # as typed, canonical (NFC, one tone placement), case kept: for the diacritics tier
    token: str  # folded: the FTS5 term
    key: str  # `key_text`: what sentences are compared with


@dataclass(frozen=True)
class Group:
    """One thing every hit holds: a word, a phrase, or an abbreviation in any of its spellings."""

    forms: tuple[Tokens, ...]  # FTS5 token sequences, each as a phrase; any one will do
    loose: Tokens = ()  # an expansion typed without quotes: its words may also stand apart
    prefix: bool = False  # a lone word, the query's last: matches as a prefix

    @property
    def single(self) -> bool:
        """One term and nothing else (the only groups bm25 ranks by)."""
        return len(self.forms) == 1 and len(self.forms[0]) == 1 and not self.loose

    @property
    def phrased(self) -> bool:
        """Needs FTS5 to compare positions."""
        return any(len(form) > 1 for form in self.forms)


@dataclass(frozen=True)
class Query:
    groups: tuple[Group, ...] = ()
    runs: tuple[Tokens, ...] = ()  # unquoted runs of 2+ plain words: reports holding them as phrases first
    exact: tuple[str, ...] = ()  # phrases typed with diacritics: reports writing them so first
    tiers: tuple[Group, ...] = ()  # expansions typed without quotes: as a phrase (or abbreviated) first
    others: tuple[Group, ...] = ()  # the groups that neither a run nor a tier implies

    def __bool__(self) -> bool:
        return bool(self.groups)


def _segments(query: str) -> list[tuple[str, bool]]:
    """(text, quoted) pieces of a query; a quote left open is closed at the end."""
    parts = _QUOTE.split(query)
    return [(text, i % 2 == 1) for i, text in enumerate(parts) if text.strip()]


def _words(text: str) -> list[Word]:
    """The words of a piece of query, each as typed (for the diacritics tier), folded (for FTS5)
    and as a key (for sentences)."""
    out = []
    for typed in _TOKEN.findall(canonical(text)):
        typed = typed[:MAX_TOKEN_CHARS]
        for token in _TOKEN.findall(fold(typed) or ""):  # one token, unless lower-casing split it
            out.append(Word(typed, token, key_text(token)))
    return out


def _has_marks(words: Sequence[Word]) -> bool:
    return any(not w.typed.isascii() for w in words)


def _spellings(words: Sequence[Word]) -> tuple[Tokens, ...]:
    """The spellings of a quoted phrase: as typed, and with each abbreviation or expansion in it
    replaced by its other forms (at most MAX_PHRASE_FORMS)."""
    keys = tuple(w.key for w in words)
    pieces: list[list[Tokens]] = []
    i = 0
    while i < len(words):
        found = abbreviations.find(keys, i)
        n = found[0] if found else 1
        typed = tuple(w.token for w in words[i : i + n])
        pieces.append([typed, *(f for f in found[1].forms if f != keys[i : i + n])] if found else [typed])
        i += n
    product = itertools.islice(itertools.product(*pieces), MAX_PHRASE_FORMS)
    return tuple(dict.fromkeys(tuple(t for piece in combo for t in piece) for combo in product))


def parse(query: str) -> Query:
    """What a user's query asks for (see the module docstring); an empty Query when it holds no
    words. Never raises: whatever the text, the result is letters and digits."""
    segments = []
    budget = MAX_QUERY_TOKENS
    for text, quoted in _segments(query):
        words = _words(text)[:budget]
        budget -= len(words)
        if words:
            segments.append((words, quoted))
    groups: list[Group] = []
    runs: list[Tokens] = []
    exact: list[str] = []
    tiers: list[Group] = []
    implied: set[int] = set()  # indexes of groups a run or a tier holds
    in_run: list[int] = []

    def flush(run: list[Word]) -> None:
        if len(run) >= 2:
            runs.append(tuple(w.token for w in run))
            implied.update(in_run)
            if _has_marks(run):
                exact.append(" ".join(w.typed for w in run))
        run.clear()
        in_run.clear()

    for n_segment, (words, quoted) in enumerate(segments):
        last_segment = n_segment == len(segments) - 1
        if quoted:
            spellings = _spellings(words)
            groups.append(Group(spellings))
            if len(words) >= 2 and len(spellings) == 1 and _has_marks(words):  # no abbreviation in it
                exact.append(" ".join(w.typed for w in words))
            continue
        keys = tuple(w.key for w in words)
        run: list[Word] = []
        i = 0
        while i < len(words):
            is_last = last_segment and i == len(words) - 1
            found = abbreviations.find(keys, i)
            if found is None:
                run.append(words[i])
                in_run.append(len(groups))
                groups.append(Group(((words[i].token,),), prefix=is_last))
                i += 1
                continue
            flush(run)
            n, entry = found
            typed = tuple(w.token for w in words[i : i + n])
            forms = tuple(dict.fromkeys((typed, *(f for f in entry.forms if f != keys[i : i + n]))))
            loose = typed if n > 1 and keys[i : i + n] not in entry.abbreviations else ()
            group = Group(forms, loose, prefix=last_segment and i + n == len(words))
            groups.append(group)
            if loose:
                implied.add(len(groups) - 1)
                tiers.append(group)
            i += n
        flush(run)
    others = tuple(g for i, g in enumerate(groups) if i not in implied)
    return Query(tuple(groups), tuple(runs), tuple(exact), tuple(tiers), others)


# --- FTS5 expressions -----------------------------------------------------------------------------


async def _prefix_item(conn: aiosqlite.Connection, token: str) -> str:
    """The last word as a prefix, in the cheapest form FTS5 can run."""
    key = token_key(token)
    if key is None or len(key) <= PREFIX_INDEX:
        return f"{_quote(token)} *"
    rows = await conn.execute_fetchall(
        "SELECT term FROM search_terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
        (key, key + "\x7f", MAX_EXPANSION + 1),
    )
    terms = [row[0] for row in rows]
    if not terms or len(terms) > MAX_EXPANSION:
        return f"{_quote(token)} *"
    return "(" + " OR ".join(_quote(t) for t in terms) + ")"


async def _loose_words(conn: aiosqlite.Connection, tokens: Tokens, prefix: bool) -> str:
    items = [_quote(t) for t in tokens]
    if prefix:
        items[-1] = await _prefix_item(conn, tokens[-1])
    return "(" + " AND ".join(items) + ")" if len(items) > 1 else items[0]


def _any(expressions: Iterable[str]) -> str:
    items = list(dict.fromkeys(expressions))
    return items[0] if len(items) == 1 else "(" + " OR ".join(items) + ")"


async def group_expression(conn: aiosqlite.Connection, group: Group, strict: bool = True) -> str:
    """The group as FTS5 syntax; `strict=False` drops the phrase condition (each form's words
    anywhere), a superset that FTS5 matches without comparing positions."""
    if group.single and group.prefix:
        return await _prefix_item(conn, group.forms[0][0])
    alternatives = []
    if group.loose:
        alternatives.append(await _loose_words(conn, group.loose, group.prefix))
    for form in group.forms:
        alternatives.append(_phrase(form) if strict else await _loose_words(conn, form, False))
    return _any(alternatives)


async def query_items(conn: aiosqlite.Connection, query: str) -> list[str]:
    """One FTS5 sub-expression per group of the query (AND-ed); [] when the query has no words."""
    return [await group_expression(conn, g) for g in parse(query).groups]


def tier_items(query: Query) -> list[str]:
    """What puts a hit in the phrase tier: every run as a phrase, every expansion typed without
    quotes as one of its spellings (a phrase or the abbreviation); [] when there is nothing."""
    return [*(_phrase(run) for run in query.runs), *(_any(_phrase(f) for f in g.forms) for g in query.tiers)]


# --- the plan -----------------------------------------------------------------------------------


class Ranked(NamedTuple):
    page: list[tuple[int, float]]  # (report id, bm25 rank or 0.0), best first
    total: int
    capped: bool


async def _newest(conn: aiosqlite.Connection, expression: str, below: int | None = None) -> list[int]:
    """The newest COUNT_CAP + 1 matches (below `below`, when given): lazy, FTS5 stops at the LIMIT."""
    bound, args = ("", ()) if below is None else (" AND rowid < ?", (below,))
    rows = await conn.execute_fetchall(
        f"SELECT rowid FROM report_fts WHERE report_fts MATCH ?{bound} ORDER BY rowid DESC LIMIT ?",
        (expression, *args, COUNT_CAP + 1),
    )
    return [row[0] for row in rows]


@dataclass(frozen=True)
class _Words:
    """Where the query's words (phrases aside) are: what bounds a phrase check."""

    newest: list[int]  # the newest COUNT_CAP + 1 reports holding them, newest first
    oldest: int  # the lowest report id

    @property
    def density(self) -> float:
        """Share of report ids, among the newest, that hold the words."""
        if len(self.newest) <= COUNT_CAP:
            return 1.0
        return COUNT_CAP / max(1, self.newest[0] - self.newest[COUNT_CAP - 1] + 1)

    @property
    def floor(self) -> int | None:
        """The lowest id a phrase check reaches so that it walks about PHRASE_SCAN_DOCS reports
        holding the words; None: walking all of them costs no more."""
        if len(self.newest) <= COUNT_CAP:
            return None  # at most COUNT_CAP reports hold the words: checking them all is cheap
        top = self.newest[0]
        if self.density * (top - self.oldest + 1) <= PHRASE_SCAN_DOCS:
            return None
        return max(self.oldest, top - int(PHRASE_SCAN_DOCS / self.density))


async def _newest_above(conn: aiosqlite.Connection, expression: str, words: _Words, floor: int) -> list[int]:
    """`_newest` down to `floor` only. Newest first (ORDER BY rowid DESC) FTS5 does not stop at a
    lower rowid bound (it walks to the oldest row: measured), in rowid order it does: so ranges
    are read in rowid order from the newest down. The first holds ~1.25 x the newest COUNT_CAP
    reports with the words (all that a common phrase needs), the next is sized by the share of
    those that held the phrase, or twice what was read when none did."""
    out: list[int] = []
    top = high = words.newest[0]
    size = int(1.25 * (COUNT_CAP + 1) / words.density)
    while high >= floor and len(out) <= COUNT_CAP:
        low = max(floor, high - size + 1)
        rows = await conn.execute_fetchall(
            "SELECT rowid FROM report_fts WHERE report_fts MATCH ? AND rowid >= ? AND rowid <= ?",
            (expression, low, high),
        )
        out += sorted((row[0] for row in rows), reverse=True)
        read = top - low + 1
        per_row = len(out) / read  # phrase hits per report id so far
        high = low - 1
        size = int(1.25 * (COUNT_CAP + 1 - len(out)) / per_row) + 1 if out else 2 * read
    return out[: COUNT_CAP + 1]


async def _where_words(conn: aiosqlite.Connection, scope: int, groups: Sequence[Group]) -> _Words:
    """The query matched without its phrases (cheap: no positions compared)."""
    items = [await group_expression(conn, g, strict=False) for g in groups]
    return _Words(await _newest(conn, match_expression(scope, items)), await _oldest(conn))


async def _common(conn: aiosqlite.Connection, expressions: list[str]) -> list[bool]:
    """Whether each expression is in most reports, estimated on the newest SAMPLE_ROWS reports
    (ids are dense: deletions only make the estimate a little low). bm25 gives such words an idf
    of ~0, and computing it would scan their whole doclist."""
    rows = await conn.execute_fetchall(  # two subqueries: min() and max() together scan the table
        "SELECT COALESCE((SELECT MAX(id) FROM reports), 0), COALESCE((SELECT MIN(id) FROM reports), 1)"
    )
    newest, oldest = next(iter(rows))
    lowest = max(newest - SAMPLE_ROWS, oldest - 1)
    sampled = newest - lowest
    if sampled <= 0 or newest < COMMON_MIN_REPORTS:
        return [False] * len(expressions)
    counts = "SELECT count(*) FROM report_fts WHERE report_fts MATCH ? AND rowid > ?"
    rows = await conn.execute_fetchall(
        "SELECT " + ", ".join(f"({counts})" for _ in expressions),
        [value for expression in expressions for value in (expression, lowest)],
    )
    hits = next(iter(rows))
    return [h / sampled >= COMMON_SHARE and h / sampled * newest >= COMMON_MIN_REPORTS for h in hits]


def _case_variants(phrase: str) -> list[str]:
    """How a report may capitalise a phrase: as typed, lower, Title (names), Sentence, UPPER."""
    low = phrase.lower()
    return list(dict.fromkeys([phrase, low, low.title(), low[:1].upper() + low[1:], phrase.upper()]))


async def _written_so(
    conn: Any, scope: int, phrases: Sequence[str], ids: list[int], *, pg: bool = False
) -> set[int]:
    """The reports among `ids` whose title or unit holds every phrase as typed (diacritics
    included; case as `_case_variants`). Names are written there; the text itself is not read:
    it sits in overflow pages, and reading it for 500 reports takes ~25 ms (measured).
    `pg`: PostgreSQL's spelling (strpos, chr; no `+scope`, SQLite's hint to use the primary key)."""
    if not ids or not phrases:
        return set()
    find, newline, scope_col = ("strpos", "chr", "scope") if pg else ("instr", "char", "+scope")
    conditions, args = [], []
    for phrase in phrases:
        variants = _case_variants(phrase)
        conditions.append("(" + " OR ".join(f"{find}(h, ?) > 0" for _ in variants) + ")")
        args += variants
    wanted = ",".join(str(int(i)) for i in ids)
    rows = await conn.execute_fetchall(
        f"SELECT id FROM (SELECT id, COALESCE(title, summary_title, '') || {newline}(10) || COALESCE(unit, '') "
        f"AS h FROM reports WHERE {scope_col} = ? AND id IN ({wanted})) AS t "
        f"WHERE {' AND '.join(conditions)}",
        (scope, *args),
    )
    return {row[0] for row in rows}


async def ranked_ids(conn: aiosqlite.Connection, scope: int, query: Query, limit: int, offset: int) -> Ranked:
    """The page of `query` in `scope` (steps 1-3 of the module docstring)."""
    groups = query.groups
    match = match_expression(scope, [await group_expression(conn, g) for g in groups])
    capped = False
    if any(g.phrased for g in groups):
        words = await _where_words(conn, scope, groups)
        floor = words.floor
        if floor is None:
            candidates = await _newest(conn, match)
        else:
            candidates = await _newest_above(conn, match, words, floor)
            capped = True  # older reports were not looked at
            if not candidates:  # but "nothing found" must be true: look at them
                candidates = await _newest(conn, match, below=floor)
                capped = False
    else:
        candidates = await _newest(conn, match)
        words = _Words(candidates, 0)  # the words are the match; `oldest` is set if needed
    capped = capped or len(candidates) > COUNT_CAP
    candidates = candidates[:COUNT_CAP]

    tier: dict[int, int] = {}  # rows not in it: _TIER_WORDS
    phrase_hits = candidates  # every match holds the quoted phrases
    tiers = tier_items(query)
    if tiers and candidates:
        if not words.oldest:
            words = _Words(words.newest, await _oldest(conn))
        # the tier implies the groups it holds (a run's words): only the others are matched again
        others = [await group_expression(conn, g) for g in query.others]
        expression = match_expression(scope, [*tiers, *others])
        floor = words.floor
        hits = await (
            _newest(conn, expression) if floor is None else _newest_above(conn, expression, words, floor)
        )
        phrase_hits = hits[:COUNT_CAP]
        tier = dict.fromkeys(phrase_hits, _TIER_PHRASE)
    if query.exact and phrase_hits:  # the newest RANK_WINDOW only: ~1 ms (500 rows: ~3 ms)
        written = await _written_so(conn, scope, query.exact, phrase_hits[:RANK_WINDOW])
        tier |= dict.fromkeys(written, _TIER_EXACT)
    listed = sorted(set(candidates) | set(tier), key=lambda r: (tier.get(r, _TIER_WORDS), -r))[:COUNT_CAP]
    total = len(listed)
    if offset >= total:
        return Ranked([], total, capped)

    window = listed[:RANK_WINDOW]
    ranks = await _bm25(conn, scope, query, candidates[:RANK_WINDOW])
    ordered = (
        sorted(window, key=lambda r: (tier.get(r, _TIER_WORDS), r not in ranks, ranks.get(r, 0.0), -r))
        + listed[RANK_WINDOW:]
    )
    return Ranked([(r, ranks.get(r, 0.0)) for r in ordered[offset : offset + limit]], total, capped)


async def _oldest(conn: aiosqlite.Connection) -> int:
    rows = await conn.execute_fetchall("SELECT COALESCE(MIN(id), 1) FROM reports")
    return int(next(iter(rows))[0])


async def _bm25(conn: aiosqlite.Connection, scope: int, query: Query, rows: list[int]) -> dict[int, float]:
    """bm25 of the rows between min(rows) and max(rows), over the query's single words that are
    not in most reports; {} when there is nothing worth ranking by."""
    singles = [g for g in query.groups if g.single]
    if not rows or not singles:
        return {}
    items = [await group_expression(conn, g) for g in singles]
    scope_part = scope_expression(scope)
    *common, scope_common = await _common(conn, [*(words_expression([i]) for i in items), scope_part])
    rare = [item for item, is_common in zip(items, common, strict=True) if not is_common]
    if not rare:
        return {}  # bm25 would score them all ~equal
    expression = words_expression(rare)
    if not scope_common:
        expression = f"{scope_part} AND {expression}"  # small scope: iterate only its rows
    return {
        row[0]: row[1]
        for row in await conn.execute_fetchall(
            "SELECT rowid, rank FROM report_fts WHERE report_fts MATCH ? AND rowid >= ? AND rowid <= ?",
            (expression, min(rows), max(rows)),
        )
    }


# --- the matching sentence ------------------------------------------------------------------------


class Excerpt(NamedTuple):
    sentence: str  # the matching sentence (cut to SENTENCE_CHARS), matches marked \x02 .. \x03
    snippet: str  # SNIPPET_WORDS words of it around the first match, marked the same way


def _pattern(keys: Sequence[str], prefix: bool = False) -> str:
    """The terms in a row, whatever separates them (as FTS5 sees them). It starts with a literal,
    which `re` searches fast; the start of a word is checked by `_in_sentences` (a lookbehind
    here makes the search ~10x slower)."""
    body = r"[\W_]+".join(re.escape(k) for k in keys)
    return body + (r"[^\W_]*" if prefix else r"(?![^\W_])")


@dataclass
class _Matcher:
    """The query's groups, runs and exact phrases as regexes over `key_text`."""

    groups: list[list[re.Pattern[str]]]  # any pattern of a group matches it
    loose: list[list[re.Pattern[str]]]  # a loose group also matches when all these do
    runs: list[re.Pattern[str]]
    exact: list[str]  # lower-case canonical phrases

    @classmethod
    def of(cls, query: Query) -> _Matcher:
        def keys(tokens: Tokens) -> list[str]:
            return [key_text(t) for t in tokens]

        groups, loose = [], []
        for g in query.groups:
            patterns = [_pattern(keys(f), g.prefix and len(f) == 1 and g.single) for f in g.forms]
            groups.append([re.compile(p) for p in dict.fromkeys(patterns)])
            words = keys(g.loose)
            loose.append(
                [re.compile(_pattern([k], g.prefix and i == len(words) - 1)) for i, k in enumerate(words)]
            )
        runs = [re.compile(_pattern(keys(run))) for run in query.runs]
        return cls(groups, loose, runs, [p.lower() for p in query.exact])


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: split after . ! ? … and at line breaks."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start() + (text[m.start()] != "\n")  # the full stop stays with its sentence
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def _first(pattern: re.Pattern[str], keys: str, start: int, end: int) -> re.Match[str] | None:
    """The first match of `pattern` in keys[start:end] that starts a word."""
    while (m := pattern.search(keys, start, end)) is not None:
        if m.start() == 0 or not keys[m.start() - 1].isalnum():
            return m
        start = m.start() + 1
    return None


def _spans(matcher: _Matcher, keys: str, start: int, end: int) -> tuple[list[tuple[int, int]], int]:
    """The matches of the query in keys[start:end] (relative to `start`) and where the strongest
    begins: a run held as a phrase, else a group's form; an expansion typed loose marks its words
    only when no form of it is there ("GPMB" marked, not a stray "giải" beside it)."""
    found: list[tuple[int, int, int]] = []  # (strength: 0 strongest, start, end)

    def add(pattern: re.Pattern[str], strength: int) -> bool:
        at, any_found = start, False
        while (m := _first(pattern, keys, at, end)) is not None:
            found.append((strength, m.start() - start, m.end() - start))
            at, any_found = m.end(), True
        return any_found

    for pattern in matcher.runs:
        add(pattern, 0)
    for patterns, loose in zip(matcher.groups, matcher.loose, strict=True):
        held = [add(p, 1) for p in patterns]
        if not any(held):
            for p in loose:
                add(p, 2)
    spans = sorted((s, e) for _, s, e in found)
    return spans, min(found)[1] if found else 0


def _best(matcher: _Matcher, sources: Sequence[str]) -> tuple[str, list[tuple[int, int]], int] | None:
    """The best sentence of the sources (body first, then items, then title) and its match spans:
    the most runs held as phrases, then phrases written as typed, then query groups, then the
    earliest. Each sentence is searched with each pattern (not each match of a common word)."""
    perfect = (len(matcher.runs), len(matcher.exact), len(matcher.groups), 0)
    best: tuple[tuple[int, ...], str, str, int, int] | None = None
    for preference, raw in enumerate(sources):
        if not raw:
            continue
        text = unicodedata.normalize("NFC", raw.replace("\x02", " ").replace("\x03", " "))
        keys = key_text(text)
        for i, (start, end) in enumerate(_sentences(text)):
            matched = partly = 0  # groups held; words held of an expansion typed loose, not all there
            for patterns, loose in zip(matcher.groups, matcher.loose, strict=True):
                if any(_first(p, keys, start, end) for p in patterns):
                    matched += 1
                elif loose:
                    held = sum(1 for p in loose if _first(p, keys, start, end))
                    matched, partly = (
                        (matched + 1, partly) if held == len(loose) else (matched, partly + held)
                    )
            if not matched and not partly:
                continue
            runs = sum(1 for p in matcher.runs if _first(p, keys, start, end))
            exact = 0
            if matcher.exact:
                plain = canonical(text[start:end]).lower()
                exact = sum(1 for phrase in matcher.exact if phrase in plain)
            score = (runs, exact, matched, partly, -preference, -i)
            if best is None or score > best[0]:
                best = (score, text, keys, start, end)
            if score[:4] == perfect:
                break
        if best is not None and best[0][:4] == perfect:
            break
    if best is None:
        return None
    _, text, keys, start, end = best
    return (text[start:end], *_spans(matcher, keys, start, end))


def _merged(sentence: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans and spans apart only by spaces become one ("Tân" "Lập" -> "Tân Lập")."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and (s <= out[-1][1] or not sentence[out[-1][1] : s].strip()):
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _marked(sentence: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    """sentence[start:end] with the spans inside it marked, '…' where it was cut."""
    out, at = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [sentence[at:s], "\x02", sentence[s:e], "\x03"]
        at = e
    out.append(sentence[at:end])
    return ("…" if start > 0 else "") + "".join(out).strip() + ("…" if end < len(sentence) else "")


def _cut(sentence: str, spans: list[tuple[int, int]], first: int, before: int, size: int) -> tuple[int, int]:
    """A window of `size` characters starting about `before` characters ahead of `first` (the
    strongest match), at word boundaries, never cutting a match."""
    if len(sentence) <= size:
        return 0, len(sentence)
    start = max(0, min(first - before, len(sentence) - size))
    if start > 0:
        space = sentence.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(sentence), start + size)
    for s, e in spans:
        if s < end < e:
            end = e
    if end < len(sentence):
        space = sentence.rfind(" ", start, end)
        end = space if space > first else end
    return start, end


def excerpt(query: Query, sources: Sequence[str | None]) -> Excerpt:
    """The sentence of a report that holds the query best: its phrases first, then with the
    diacritics typed, then the most query words; body before items before title."""
    found = _best(_Matcher.of(query), [s or "" for s in sources])
    if found is None:  # the index saw what this matcher does not (another script): the opening
        text = next((s for s in sources if s), "")
        bounds = _sentences(text)
        sentence = text[bounds[0][0] : bounds[0][1]] if bounds else ""
        spans: list[tuple[int, int]] = []
        focus = 0
    else:
        sentence, spans, focus = found
        spans = _merged(sentence, spans)
    start, end = _cut(sentence, spans, focus, SENTENCE_CHARS // 4, SENTENCE_CHARS)
    words = [m.start() for m in re.finditer(r"\S+", sentence)]
    first = max(0, bisect.bisect_right(words, focus) - 1)
    w_start = words[max(0, first - SNIPPET_WORDS // 3)] if words else 0
    w_end_index = max(0, first - SNIPPET_WORDS // 3) + SNIPPET_WORDS
    w_end = words[w_end_index] if w_end_index < len(words) else len(sentence)
    for s, e in spans:
        if s < w_end < e:
            w_end = e
    return Excerpt(_marked(sentence, spans, start, end), _marked(sentence, spans, w_start, w_end))


async def excerpts(
    conn: aiosqlite.Connection, scope: int, query: Query, ids: list[int]
) -> dict[int, Excerpt]:
    """The matching sentence of each report of the page (their stored text, title and items)."""
    if not ids:
        return {}
    wanted = ",".join(str(int(i)) for i in ids)
    rows = await conn.execute_fetchall(
        f"SELECT id, text, items_text, COALESCE(title, summary_title) FROM reports "
        f"WHERE +scope = ? AND id IN ({wanted})",
        (scope,),
    )
    return {row[0]: excerpt(query, row[1:]) for row in rows}
