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

Where PostgreSQL's tsvector cannot hold a report whole (16,383 positions, 256 per term: reports
of ~15,000+ words), the row is flagged `truncated`; its phrases are then checked in Python on the
text (the same patterns the excerpts use), so a phrase deep inside a long report is still found.

Ranking follows storage.search's tiers (runs held as phrases first, among them those writing them
with the diacritics typed, then the single words' rank, then newest); `ts_rank` with weights
title 1.0, items 0.5, body 0.25 stands in for bm25, so the order inside a tier may differ from
SQLite's while the hits are the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

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


class Alternative(NamedTuple):
    """One way to hold a group: tsqueries over `doc` (terms), `grams` (runs of 2-3 terms, exact
    through GIN) and `positions` (a phrase compared on `doc`'s positions, never through the
    index: see `_conditions`)."""

    doc: str | None = None
    grams: str | None = None
    positions: str | None = None


def _phrase(tokens: Sequence[str]) -> Alternative:
    """A phrase: one term is a word of `doc`; two or three terms are one gram (exact: the grams
    are adjacent terms of one column); longer, all its triples (the GIN index finds the few
    reports holding them) and the positions (exactness: "a b c d" is not "a b c" and "b c d"
    apart)."""
    parts = _lexemes(tokens)
    if not parts:
        return Alternative(doc="''")
    if len(parts) == 1:
        return Alternative(doc=_lex(parts[0]))
    if len(parts) <= 3:
        return Alternative(grams=_lex(" ".join(parts)))
    triples = [_lex(" ".join(parts[i : i + 3])) for i in range(len(parts) - 2)]
    return Alternative(grams=" & ".join(dict.fromkeys(triples)), positions=" <-> ".join(map(_lex, parts)))


def _loose(tokens: Sequence[str], prefix: bool) -> str:
    parts = _lexemes(tokens)
    if not parts:
        return "''"
    items = [_lex(t, prefix and i == len(parts) - 1) for i, t in enumerate(parts)]
    return items[0] if len(items) == 1 else "(" + " & ".join(items) + ")"


def _any(items: Sequence[str]) -> str:
    unique = list(dict.fromkeys(items))
    return unique[0] if len(unique) == 1 else "(" + " | ".join(unique) + ")"


def _all(items: Sequence[str]) -> str:
    return " & ".join(dict.fromkeys(items))  # each item is a term, or parenthesised


def alternatives(group: Group, strict: bool = True) -> list[Alternative]:
    """The ways to hold one group (storage.search.group_expression's twin); `strict=False`
    drops the phrase condition (each form's words anywhere in `doc`)."""
    if group.single and group.prefix:
        return [Alternative(doc=_loose(group.forms[0], True))]
    out = []
    if group.loose:
        out.append(Alternative(doc=_loose(group.loose, group.prefix)))
    for form in group.forms:
        out.append(_phrase(form) if strict else Alternative(doc=_loose(form, False)))
    return list(dict.fromkeys(out))


class Condition(NamedTuple):
    sql: str  # a WHERE condition over report_fts, `?` placeholders
    params: tuple[str, ...]


_DOC, _GRAMS = "doc @@ CAST(? AS tsquery)", "grams @@ CAST(? AS tsquery)"
# The operator's function: the planner never uses an index for it, so a phrase's positions are
# compared only in the rows the grams found, and its estimate stays that of the grams (with the
# operator, a phrase of common words multiplied their frequencies and looked rare).
_POSITIONS = "ts_match_vq(doc, CAST(? AS tsquery))"


def _alternative(alt: Alternative) -> Condition:
    parts = [(sql, q) for sql, q in ((_DOC, alt.doc), (_GRAMS, alt.grams), (_POSITIONS, alt.positions)) if q]
    return Condition(" AND ".join(sql for sql, _ in parts), tuple(q for _, q in parts))


def conditions(groups: Sequence[Group], strict: bool = True) -> Condition:
    """Every group held (AND), as one condition: the groups that are terms only as one tsquery
    over `doc`, those that are grams only as one over `grams` (each a single GIN lookup), the
    others (a phrase beside its abbreviation, say) as an OR of their alternatives."""
    doc: list[str] = []
    grams: list[str] = []
    mixed: list[Condition] = []
    for group in groups:
        alts = alternatives(group, strict)
        if all(a.doc and not a.grams and not a.positions for a in alts):
            doc.append(_any([a.doc for a in alts if a.doc]))
        elif all(a.grams and not a.doc and not a.positions for a in alts):
            grams.append(_any([a.grams for a in alts if a.grams]))
        else:
            ors = [_alternative(a) for a in alts]
            mixed.append(
                Condition("(" + " OR ".join(f"({c.sql})" for c in ors) + ")", tuple(p for c in ors for p in c.params))
            )
    parts = [Condition(_DOC, (_all(doc),))] if doc else []
    if grams:
        parts.append(Condition(_GRAMS, (_all(grams),)))
    parts += mixed
    return Condition(" AND ".join(c.sql for c in parts), tuple(p for c in parts for p in c.params))


def doc_query(groups: Sequence[Group]) -> str:
    """The groups as one tsquery over `doc` (single words: what ts_rank ranks by)."""
    return _all([_any([a.doc for a in alternatives(g, False) if a.doc]) for g in groups])


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
    where = conditions(groups)
    rows = await conn.execute_fetchall(
        f"SELECT rowid FROM report_fts WHERE scope_tag = ? AND {where.sql} ORDER BY rowid DESC LIMIT ?",
        (tag, *where.params, COUNT_CAP + 1),
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
        (tag, doc_query(groups), MAX_TRUNCATED),
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
    q = doc_query(singles)
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
