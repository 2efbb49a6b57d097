"""Search on PostgreSQL: the Query of `storage.search.parse`, run as a tsquery over `report_fts`.

What a query means is decided once, in storage.search (`parse`): every word (AND), the last as a
prefix, "quoted words" as a phrase, abbreviations either way. Here each group becomes a tsquery:
a word 'w', a prefix 'w':*, a phrase 'a' <-> 'b', a group's spellings OR-ed; groups AND-ed. The
index holds the terms `storage.abbreviations.terms` makes of the folded text (see storage.pg:
the same terms FTS5 indexes, at the same positions, with a gap between title, items and body so
that no phrase spans two columns, as in FTS5). PostgreSQL's own parser is not used: it keeps
"1.234" as one token and indexes "giải-phóng" as three, which would change phrase positions.

A phrase also requires its pairs of adjacent words, indexed as lexemes of their own (see
storage.pg.tsvector), so a rare phrase of common words costs a GIN lookup, not a read of every
report.

Where PostgreSQL's tsvector cannot hold a report whole (16,383 positions, 256 per term: reports
of ~15,000+ words), the row is flagged `truncated`; its phrases are then checked in Python on the
text (the same patterns the excerpts use), so a phrase deep inside a long report is still found.

Ranking follows storage.search's tiers (runs held as phrases first, among them those writing them
with the diacritics typed, then the single words' rank, then newest); `ts_rank` with weights
title 1.0, items 0.5, body 0.25 stands in for bm25, so the order inside a tier may differ from
SQLite's while the hits are the same.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from storage.abbreviations import key_text, terms
from storage.folding import scope_tag
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


def _phrase(tokens: Sequence[str]) -> str:
    """A phrase: its adjacent pairs (indexed lexemes, see storage.pg.tsvector: the GIN index
    finds the few reports holding them) and the positions (exactness: "a b c" is not "a b" and
    "b c" apart)."""
    parts = _lexemes(tokens)
    if not parts:
        return "''"
    if len(parts) == 1:
        return _lex(parts[0])
    pairs = [_lex(f"{a} {b}") for a, b in itertools.pairwise(parts)]
    return "(" + " & ".join(dict.fromkeys(pairs)) + " & (" + " <-> ".join(map(_lex, parts)) + "))"


def _loose(tokens: Sequence[str], prefix: bool) -> str:
    parts = _lexemes(tokens)
    if not parts:
        return "''"
    items = [_lex(t, prefix and i == len(parts) - 1) for i, t in enumerate(parts)]
    return items[0] if len(items) == 1 else "(" + " & ".join(items) + ")"


def _any(items: Sequence[str]) -> str:
    unique = list(dict.fromkeys(items))
    return unique[0] if len(unique) == 1 else "(" + " | ".join(unique) + ")"


def group_query(group: Group, strict: bool = True) -> str:
    """One group as tsquery text (storage.search.group_expression's twin); `strict=False`
    drops the phrase condition (each form's words anywhere)."""
    if group.single and group.prefix:
        return _loose(group.forms[0], True)
    alternatives = []
    if group.loose:
        alternatives.append(_loose(group.loose, group.prefix))
    for form in group.forms:
        alternatives.append(_phrase(form) if strict else _loose(form, False))
    return _any(alternatives)


def tsquery(groups: Sequence[Group], strict: bool = True) -> str:
    return " & ".join(group_query(g, strict) for g in groups)


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
    rows = await conn.execute_fetchall(
        "SELECT rowid FROM report_fts WHERE scope_tag = ? AND doc @@ CAST(? AS tsquery) "
        "ORDER BY rowid DESC LIMIT ?",
        (tag, tsquery(groups), COUNT_CAP + 1),
    )
    found = [row[0] for row in rows]
    phrased = [g for g in groups if g.phrased]
    if not phrased:
        return found
    # truncated rows: the words are there (loose match), the phrase is checked on the text
    rows = await conn.execute_fetchall(
        "SELECT f.rowid, r.title, r.summary_title, r.text, r.items_text FROM report_fts f "
        "JOIN reports r ON r.id = f.rowid WHERE f.truncated AND f.scope_tag = ? "
        "AND f.doc @@ CAST(? AS tsquery) ORDER BY f.rowid DESC LIMIT ?",
        (tag, tsquery(groups, strict=False), MAX_TRUNCATED),
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
    q = tsquery(singles)
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


__all__ = ["Tokens", "group_query", "ranked_ids", "tsquery"]
