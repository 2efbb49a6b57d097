"""Search on PostgreSQL: the Query of `storage.search.parse`, run as a tsquery over `report_fts`.

What a query means is decided once, in storage.search (`parse`): every word (AND), the last as a
prefix, "quoted words" as a phrase, abbreviations either way. Here each group becomes a tsquery:
a word 'w', a prefix 'w':*, a phrase 'a' <-> 'b', a group's spellings OR-ed; groups AND-ed. The
index holds the terms `storage.abbreviations.terms` makes of the folded text (see storage.pg:
the same terms FTS5 indexes, at the same positions, with a gap between title, items and body so
that no phrase spans two columns, as in FTS5). PostgreSQL's own parser is not used: it keeps
"1.234" as one token and indexes "giải-phóng" as three, which would change phrase positions.

Runs of two and three adjacent terms are indexed too, as lexemes of their own column `grams`
(see storage.pg.tsvector): a phrase of two or three words is one exact GIN lookup, a longer one
requires all its triples (GIN) and compares positions only in the reports holding them.

How a match is found is chosen here (`plan`), not by PostgreSQL's planner, which costs `@@` as
free while each row it checks is a TOAST read: from pg_stats, reading the scope's reports newest
first checking each (common words: ~500 rows read) or the GIN index over the rarest groups, the
others checked in the rows it finds, and, when more than enough reports match, over the newest
slices of ids first (slice lexemes, see storage.pg.tsvector).

Where PostgreSQL's tsvector cannot hold a report whole (16,383 positions, 256 per term: reports
of ~15,000+ words), the row is flagged `truncated`; its phrases are then checked in Python on the
text (the same patterns the excerpts use), so a phrase deep inside a long report is still found.

Ranking follows storage.search's tiers (runs held as phrases first, among them those writing them
with the diacritics typed, then the single words' rank, then newest); `ts_rank` with weights
title 1.0, items 0.5, body 0.25 stands in for bm25, so the order inside a tier may differ from
SQLite's while the hits are the same.
"""

from __future__ import annotations

import bisect
import re
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from storage.abbreviations import key_text, terms
from storage.folding import scope_tag
from storage.pg import BUCKET, GRAM
from storage.search import (
    _TIER_EXACT,
    _TIER_PHRASE,
    _TIER_WORDS,
    COUNT_CAP,
    RANK_WINDOW,
    Group,
    Query,
    Ranked,
    Tokens,
    _first,
    _pattern,
    _written_so,
)

WEIGHTS = "{0.25, 0, 0.5, 1.0}"  # ts_rank weights D (body), C, B (items), A (title)
MAX_TRUNCATED = 2_000  # long reports whose phrases one query checks in Python


def _lexemes(tokens: Sequence[str]) -> list[str]:
    return [t for token in tokens for t in terms(token)]


def _lex(term: str, prefix: bool = False) -> str:
    return "'" + term.replace("'", "''").replace("\\", "\\\\") + "'" + (":*" if prefix else "")


class Alternative(NamedTuple):
    """One way to hold a group: `words` anywhere (the last a prefix when `prefix`), or `phrase`,
    terms next to each other in one column."""

    words: tuple[str, ...] = ()
    prefix: bool = False
    phrase: tuple[str, ...] = ()

    def doc(self) -> str:
        """As a tsquery over `doc`, what a row's check evaluates (phrases by their positions)."""
        if self.phrase:
            return "(" + " <-> ".join(map(_lex, self.phrase)) + ")"
        if not self.words:
            return "''"
        items = [_lex(t, self.prefix and i == len(self.words) - 1) for i, t in enumerate(self.words)]
        return items[0] if len(items) == 1 else "(" + " & ".join(items) + ")"

    def keys(self) -> str:
        """As a tsquery over `keys`, what the GIN index answers: a phrase of up to three terms is
        its gram (exact: grams are adjacent terms of one column), a longer one all its triples
        (then `checks`: positions are compared after)."""
        if not self.phrase:
            return self.doc()
        grams = dict.fromkeys(" ".join(self.phrase[i : i + 3]) for i in range(max(1, len(self.phrase) - 2)))
        items = [_lex(GRAM + g) for g in grams]
        return items[0] if len(items) == 1 else "(" + " & ".join(items) + ")"

    @property
    def checks(self) -> bool:
        return len(self.phrase) > 3


def _phrase(tokens: Sequence[str]) -> Alternative:
    parts = tuple(_lexemes(tokens))
    return Alternative(words=parts) if len(parts) <= 1 else Alternative(phrase=parts)


def alternatives(group: Group, strict: bool = True) -> list[Alternative]:
    """The ways to hold one group (storage.search.group_expression's twin); `strict=False`
    drops the phrase condition (each form's words anywhere)."""
    if group.single and group.prefix:
        return [Alternative(tuple(_lexemes(group.forms[0])), True)]
    out = []
    if group.loose:
        out.append(Alternative(tuple(_lexemes(group.loose)), group.prefix))
    for form in group.forms:
        out.append(_phrase(form) if strict else Alternative(tuple(_lexemes(form))))
    return list(dict.fromkeys(out))


def _any(items: Sequence[str]) -> str:
    unique = list(dict.fromkeys(items))
    return unique[0] if len(unique) == 1 else "(" + " | ".join(unique) + ")"


def _all(items: Sequence[str]) -> str:
    return " & ".join(dict.fromkeys(items))  # each item is a term, or parenthesised


def doc_query(groups: Sequence[Group], strict: bool = True) -> str:
    """The groups as one tsquery over `doc`, phrases by their positions."""
    return _all([_any([a.doc() for a in alternatives(g, strict)]) for g in groups])


def keys_query(groups: Sequence[Group]) -> str:
    """The groups as one tsquery over `keys` (a superset of the matches when a phrase has more
    than three terms: its triples, anywhere)."""
    return _all([_any([a.keys() for a in alternatives(g)]) for g in groups])


class Condition(NamedTuple):
    sql: str  # a WHERE condition over report_fts, `?` placeholders
    params: tuple[str, ...]


# The operator's function: the planner never answers it with an index, so it is a check of the
# rows found (by the index, or walking), never where the planner starts.
_CHECK = "ts_match_vq(doc, CAST(? AS tsquery))"


def conditions(looked_up: Sequence[Group], checked: Sequence[Group] = (), slices: str = "") -> Condition:
    """`looked_up` as one tsquery over `keys` (one index condition: the planner has nothing else
    to start from), in `slices` when given; the phrases of more than three terms, and `checked`,
    compared on `doc` in the rows found."""
    keys = keys_query(looked_up)
    if slices:
        keys = f"{keys} & {slices}"
    check = [*checked, *(g for g in looked_up if any(a.checks for a in alternatives(g)))]
    if not check:
        return Condition("keys @@ CAST(? AS tsquery)", (keys,))
    return Condition(f"keys @@ CAST(? AS tsquery) AND {_CHECK}", (keys, doc_query(check)))


# --- the plan: walk the newest reports, or ask the GIN index -------------------------------------
# PostgreSQL's planner costs `doc @@ q` as one operator call; reading the row's tsvector from
# TOAST (5 KB for `doc`, 25 KB for `grams` at 100k reports) costs 6-18 us (measured). So it walks
# the reports newest first checking each even for a rare phrase (26,000 rows read, 0.47 s, for
# 'trang dinh' in 2% of the reports), or rechecks every GIN candidate. The plan is chosen here
# instead, from PostgreSQL's own statistics of the index (pg_stats, kept by ANALYZE/autovacuum),
# with costs measured on this machine (bench/storage.py, 100k reports):
WALK_US = 7.0  # reading one report's `doc` and checking it (positions included)
MATCH_US = 0.5  # one row the GIN bitmap found: its heap row, the scope's check and the sort
POSTING_US = 0.035  # one posting of a lexeme the GIN index reads
SLICE_POSTING_US = 0.2  # one posting of a slice lexeme (an OR of many: 41 slices took 8.5 ms)
STATS_SECONDS = 300.0  # statistics are read again after this long
SLICE_MARGIN = 1.5  # slices of ids expected to hold this many times the matches needed


@dataclass
class Statistics:
    """How common each lexeme of `keys` is (share of reports), from pg_stats."""

    rows: float  # reports indexed
    common: dict[str, float]
    floor: float  # the share assumed for a lexeme not among the common ones
    scopes: dict[str, float]
    sorted_terms: list[str] = field(default_factory=list)
    taken: float = field(default_factory=time.monotonic)

    def term(self, term: str, prefix: bool) -> tuple[float, float]:
        """(share of reports holding it, postings the index reads for it)."""
        if not prefix:
            share = self.common.get(term, self.floor)
            return share, share * self.rows
        if not self.sorted_terms:
            self.sorted_terms = sorted(t for t in self.common if t[:1] not in (GRAM, "#"))
        at = bisect.bisect_left(self.sorted_terms, term)
        missing, postings = 1.0, self.floor * self.rows
        while at < len(self.sorted_terms) and self.sorted_terms[at].startswith(term):
            share = self.common[self.sorted_terms[at]]
            missing *= 1.0 - share
            postings += share * self.rows
            at += 1
        return max(1.0 - missing, self.floor), postings

    def gram(self, gram: str) -> float:
        return self.common.get(GRAM + gram, self.floor)


_STATS: weakref.WeakKeyDictionary[Any, Statistics] = weakref.WeakKeyDictionary()


def forget_statistics(conn: Any) -> None:
    """Read the statistics again on the next search (after an ANALYZE)."""
    _STATS.pop(conn, None)


async def statistics(conn: Any) -> Statistics | None:
    """The index statistics (cached per connection pool for STATS_SECONDS); None before the
    first ANALYZE."""
    found = _STATS.get(conn)
    if found is not None and time.monotonic() - found.taken < STATS_SECONDS:
        return found
    rows = await conn.execute_fetchall(
        "SELECT attname, CAST(CAST(most_common_elems AS text) AS text[]), most_common_elem_freqs, "
        "CAST(CAST(most_common_vals AS text) AS text[]), most_common_freqs, "
        "(SELECT reltuples FROM pg_class WHERE oid = CAST('report_fts' AS regclass)) "
        "FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'report_fts' "
        "AND attname IN ('keys', 'scope_tag')"
    )
    columns = {row[0]: row for row in rows}
    if "keys" not in columns or not columns["keys"][5] or columns["keys"][5] <= 0:
        return None
    _, elems, freqs, _, _, reltuples = columns["keys"]
    elems, freqs = elems or [], freqs or []
    # after the frequencies: their minimum and maximum; a lexeme not listed is rarer
    floor = (freqs[len(elems)] if len(freqs) > len(elems) else 0.01) / 2
    scope_row = columns.get("scope_tag")
    scopes = dict(zip(scope_row[3] or [], scope_row[4] or [], strict=False)) if scope_row else {}
    found = Statistics(float(reltuples), dict(zip(elems, freqs, strict=False)), floor, scopes)
    _STATS[conn] = found
    return found


class _Estimate(NamedTuple):
    share: float  # of reports holding the group
    postings: float  # the GIN index reads for it
    checks: bool  # positions compared after the index (a phrase of 4+ terms)


def _estimate(stats: Statistics, group: Group) -> _Estimate:
    """A phrase is as common as its rarest gram (its grams go together); the words of an
    alternative multiply (as PostgreSQL's estimate does); alternatives add up."""
    missing, postings, checks = 1.0, 0.0, False
    for alt in alternatives(group):
        if alt.phrase:
            n = len(alt.phrase)
            shares = [stats.gram(" ".join(alt.phrase[i : i + 3])) for i in range(max(1, n - 2))]
            share = min(shares)
            postings += sum(shares) * stats.rows
            checks = checks or alt.checks
        else:
            share = 1.0
            for i, term in enumerate(alt.words):
                held, read = stats.term(term, alt.prefix and i == len(alt.words) - 1)
                share *= held
                postings += read
        missing *= 1.0 - min(share, 1.0)
    return _Estimate(1.0 - missing, postings, checks)


class Plan(NamedTuple):
    walk: bool  # read the scope's reports newest first, checking each
    looked_up: tuple[Group, ...] = ()  # else: the groups the GIN index answers ...
    checked: tuple[Group, ...] = ()  # ... and those checked in the rows it found
    newest: float = 1.0  # ... in this share of the reports first, the newest (slice lexemes)


def plan(stats: Statistics | None, tag: str, groups: Sequence[Group]) -> Plan:
    """The cheapest way to the newest COUNT_CAP + 1 matches: walking (cost: the rows read until
    that many are found), or the GIN index over the rarest groups (cost: the postings it reads
    and the rows it finds), the other groups checked in those rows ("báo cáo số 7777": the
    index reads '7777' and nothing of the words every report holds). When more than enough
    reports match, the index looks at the newest slices of ids first, those expected to hold
    1.5 x what is needed."""
    if stats is None or not groups:
        return Plan(False, tuple(groups))  # never analysed: a new, small database, where all is fast
    estimates = sorted(((_estimate(stats, g), i) for i, g in enumerate(groups)), key=lambda e: e[0].share)
    density = 1.0
    for estimate, _ in estimates:
        density *= estimate.share
    in_scope = stats.rows * stats.scopes.get(tag, min(stats.scopes.values(), default=1.0))
    expected = density * in_scope
    walked = in_scope if expected <= COUNT_CAP else (COUNT_CAP + 1) / density
    newest = min(1.0, SLICE_MARGIN * (COUNT_CAP + 1) / expected) if expected > 0 else 1.0
    best = (walked * WALK_US, len(groups), True, 1.0)
    share, postings, checks = 1.0, 0.0, False
    for n, (estimate, _) in enumerate(estimates, start=1):
        share *= estimate.share
        postings += estimate.postings
        checks = checks or estimate.checks
        per_row = MATCH_US + (WALK_US if checks or n < len(groups) else 0.0)  # + positions or other groups
        for part in dict.fromkeys((1.0, newest)):  # every match, or those in the newest slices
            cost = postings * POSTING_US + share * stats.rows * part * per_row
            if part < 1.0:
                cost += part * stats.rows * SLICE_POSTING_US
            best = min(best, (cost, n, False, part))
    _, n, walk, part = best
    if walk:
        return Plan(True)
    order = [i for _, i in estimates]
    return Plan(False, tuple(groups[i] for i in order[:n]), tuple(groups[i] for i in order[n:]), part)


async def _newest(conn: Any, tag: str, groups: Sequence[Group]) -> list[int]:
    """The newest COUNT_CAP + 1 rows of the scope matching every group, the cheaper way."""
    chosen = plan(await statistics(conn), tag, groups)
    if chosen.walk:
        # the function, not the operator: no index answers it, so the rows are read newest first
        rows = await conn.execute_fetchall(
            f"SELECT rowid FROM report_fts WHERE scope_tag = ? AND {_CHECK} ORDER BY rowid DESC LIMIT ?",
            (tag, doc_query(groups), COUNT_CAP + 1),
        )
        return [row[0] for row in rows]
    found: list[int] = []
    below = ""
    if chosen.newest < 1.0:
        top = int((await conn.execute_fetchall("SELECT COALESCE(MAX(rowid), 0) FROM report_fts"))[0][0])
        first = max(0, top - int(chosen.newest * top)) // BUCKET
        slices = _any([_lex(f"#{b}") for b in range(first, top // BUCKET + 1)])
        found = await _gin(conn, tag, conditions(chosen.looked_up, chosen.checked, slices))
        if len(found) > COUNT_CAP:
            return found
        below = str(first * BUCKET)  # fewer than estimated: the older reports too
    where = conditions(chosen.looked_up, chosen.checked)
    if below:
        where = Condition(f"{where.sql} AND rowid < ?", (*where.params, below))
    return found + await _gin(conn, tag, where, COUNT_CAP + 1 - len(found))


async def _gin(conn: Any, tag: str, where: Condition, limit: int = COUNT_CAP + 1) -> list[int]:
    """The newest `limit` rows of the scope meeting `where`, every match found by the GIN index
    first (no ORDER BY inside the CTE, so the planner cannot walk instead)."""
    rows = await conn.execute_fetchall(
        f"WITH hits AS MATERIALIZED (SELECT rowid FROM report_fts WHERE scope_tag = ? AND {where.sql}) "
        "SELECT rowid FROM hits ORDER BY rowid DESC LIMIT ?",
        (tag, *where.params, limit),
    )
    return [row[0] for row in rows]


def _holds(group: Group, columns: list[str]) -> bool:
    """Whether the texts (key_text of title, body, items) hold a phrased group as FTS5 would:
    one of its forms as a phrase in one column, or (typed loose) all its words anywhere."""
    for form in group.forms:
        pattern = re.compile(_pattern([key_text(t) for t in form]))
        if any(_first(pattern, text, 0, len(text)) for text in columns):
            return True
    if group.loose:
        words = [key_text(t) for t in group.loose]
        patterns = [re.compile(_pattern([w], group.prefix and i == len(words) - 1)) for i, w in enumerate(words)]
        return all(any(_first(p, text, 0, len(text)) for text in columns) for p in patterns)
    return False


async def _matches(conn: Any, scope: int, groups: Sequence[Group]) -> list[int]:
    """The newest COUNT_CAP + 1 reports of the scope matching every group, newest first."""
    tag = scope_tag(scope)
    found = await _newest(conn, tag, groups)
    phrased = [g for g in groups if g.phrased]
    if not phrased:
        return found
    # truncated rows: the words are there (loose match), the phrase is checked on the text
    rows = await conn.execute_fetchall(
        "SELECT f.rowid, r.title, r.summary_title, r.text, r.items_text FROM report_fts f "
        "JOIN reports r ON r.id = f.rowid WHERE f.truncated AND f.scope_tag = ? "
        "AND f.doc @@ CAST(? AS tsquery) ORDER BY f.rowid DESC LIMIT ?",
        (tag, doc_query(groups, strict=False), MAX_TRUNCATED),
    )
    # a truncated row counts only when its text holds the phrases (its tsvector lacks positions)
    have = set(found) - {row[0] for row in rows}
    for rowid, title, summary_title, text, items in rows:
        columns = [key_text(c) for c in (title if title is not None else summary_title, text, items) if c]
        if all(_holds(g, columns) for g in phrased):
            have.add(rowid)
    return sorted(have, reverse=True)[: COUNT_CAP + 1]


async def _rank(conn: Any, query: Query, rows: list[int]) -> dict[int, float]:
    """-ts_rank over the single words of the rows that hold them all (lower is better, as bm25's
    rank); {} when the query has no single words."""
    singles = [g for g in query.groups if g.single]
    if not rows or not singles:
        return {}
    q = doc_query(singles, strict=False)
    found = await conn.execute_fetchall(
        f"SELECT rowid, ts_rank('{WEIGHTS}', doc, CAST(? AS tsquery)) FROM report_fts "
        "WHERE rowid = ANY(?) AND doc @@ CAST(? AS tsquery)",
        (q, rows, q),
    )
    return {row[0]: -float(row[1]) for row in found}


def _tier_groups(query: Query) -> list[Group]:
    """storage.search.tier_items as groups: every run as a phrase, every expansion typed loose
    as one of its spellings, and the groups neither implies."""
    runs = [Group((run,)) for run in query.runs]
    tiers = [Group(g.forms) for g in query.tiers]
    return [*runs, *tiers, *query.others]


async def ranked_ids(conn: Any, scope: int, query: Query, limit: int, offset: int) -> Ranked:
    """The page of `query` in `scope` (storage.search.ranked_ids on PostgreSQL)."""
    candidates = await _matches(conn, scope, query.groups)
    capped = len(candidates) > COUNT_CAP
    candidates = candidates[:COUNT_CAP]
    tier: dict[int, int] = {}
    phrase_hits = candidates
    if (query.runs or query.tiers) and candidates:
        phrase_hits = (await _matches(conn, scope, _tier_groups(query)))[:COUNT_CAP]
        tier = dict.fromkeys(phrase_hits, _TIER_PHRASE)
    if query.exact and phrase_hits:
        written = await _written_so(conn, scope, query.exact, phrase_hits[:RANK_WINDOW], pg=True)
        tier |= dict.fromkeys(written, _TIER_EXACT)
    listed = sorted(set(candidates) | set(tier), key=lambda r: (tier.get(r, _TIER_WORDS), -r))[:COUNT_CAP]
    total = len(listed)
    if offset >= total:
        return Ranked([], total, capped)
    window = listed[:RANK_WINDOW]
    ranks = await _rank(conn, query, candidates[:RANK_WINDOW])
    ordered = (
        sorted(window, key=lambda r: (tier.get(r, _TIER_WORDS), r not in ranks, ranks.get(r, 0.0), -r))
        + listed[RANK_WINDOW:]
    )
    return Ranked([(r, ranks.get(r, 0.0)) for r in ordered[offset : offset + limit]], total, capped)


__all__ = ["Alternative", "Condition", "Tokens", "alternatives", "conditions", "doc_query", "ranked_ids"]
