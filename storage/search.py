"""Full-text search over the FTS5 index: query building and a plan that stays fast at 100k reports.

Measured on this machine (100k reports, 80k in one scope), FTS5 costs are:
  * matching, newest first (ORDER BY rowid DESC LIMIT n): lazy, ~1-2 ms whatever the match count;
  * bm25: before ranking any row it counts the documents of every phrase (a full doclist scan,
    ~5 ms per term that is in most reports), and scores rows at ~6 us each, so ranking every match
    of a common query takes 300+ ms;
  * a prefix query ("b*") merges the doclists of every matching term up front (up to 1 s);
  * multi-word phrases ("giai phong") cost ~50 ms.
So the plan is:
  1. match all words (no phrases) newest first, up to COUNT_CAP + 1 rows: the candidates and the
     total (capped);
  2. rank the newest RANK_WINDOW candidates (all of them when there are fewer) with bm25, leaving
     out of the bm25 query the words found in most reports (bm25 gives them an idf of ~0 anyway, so
     the order barely changes) and the scope tag when the scope holds most reports;
  3. the last word is a prefix: short prefixes use the index's prefix index (1-2 letters), longer
     ones are expanded into the few exact terms that start with it (table `search_terms`);
  4. snippets come from FTS5 snippet() for the page's rows only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aiosqlite

from storage.folding import query_tokens, scope_tag, token_key

COUNT_CAP = 500  # totals above this are reported as "at least COUNT_CAP"
RANK_WINDOW = 200  # newest matches ranked by bm25
SAMPLE_ROWS = 500  # newest reports used to estimate how common a word is
COMMON_SHARE = 0.5  # in at least this share of reports: idf ~ 0 in bm25
COMMON_MIN_REPORTS = 5000  # ... and in at least this many (below that, bm25 is cheap: keep it)
MAX_EXPANSION = 24  # more terms than this for a prefix: let FTS5 do the prefix query
PREFIX_INDEX = 2  # FTS5 prefix index lengths 1..PREFIX_INDEX (see schema)
SNIPPET_TOKENS = 16
COLUMNS = "{title body items}"
_ADJACENT = re.compile("\x03(\\s+)\x02")


def _quote(token: str) -> str:
    """Tokens hold letters and digits only (`query_tokens`), so quoting is all it takes."""
    return f'"{token}"'


def scope_expression(scope: int) -> str:
    return f"scope_tag : {_quote(scope_tag(scope))}"


def words_expression(items: Sequence[str]) -> str:
    return f"{COLUMNS} : ({' AND '.join(items)})"


def match_expression(scope: int, items: Sequence[str]) -> str:
    """Rows of `scope` whose title, text or summary items hold every item."""
    return f"{scope_expression(scope)} AND {words_expression(items)}"


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


async def query_items(conn: aiosqlite.Connection, query: str) -> list[str]:
    """One FTS5 sub-expression per query word; [] when the query has no words."""
    tokens = query_tokens(query)
    if not tokens:
        return []
    return [*(_quote(t) for t in tokens[:-1]), await _prefix_item(conn, tokens[-1])]


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


async def ranked_ids(
    conn: aiosqlite.Connection, scope: int, items: list[str], limit: int, offset: int
) -> tuple[list[tuple[int, float]], int, bool]:
    """([(report id, bm25 rank or 0.0)] of the page, total matches, whether the total was capped)."""
    rows = await conn.execute_fetchall(
        "SELECT rowid FROM report_fts WHERE report_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
        (match_expression(scope, items), COUNT_CAP + 1),
    )
    candidates = [row[0] for row in rows]
    capped = len(candidates) > COUNT_CAP
    candidates = candidates[:COUNT_CAP]
    total = len(candidates)
    window = candidates[: max(RANK_WINDOW, offset + limit)]
    if offset >= len(window):
        return [], total, capped
    newest_first = [(rowid, 0.0) for rowid in window[offset : offset + limit]]

    scope_part = scope_expression(scope)
    *common, scope_common = await _common(conn, [*(words_expression([i]) for i in items), scope_part])
    rare = [item for item, is_common in zip(items, common, strict=True) if not is_common]
    if not rare:
        return newest_first, total, capped  # bm25 would score them all ~equal
    expression = words_expression(rare)
    if not scope_common:
        expression = f"{scope_part} AND {expression}"  # small scope: iterate only its rows
    ranks = {
        row[0]: row[1]
        for row in await conn.execute_fetchall(
            "SELECT rowid, rank FROM report_fts WHERE report_fts MATCH ? AND rowid >= ? AND rowid <= ?",
            (expression, min(window), max(window)),
        )
    }
    ordered = sorted(window, key=lambda rowid: (ranks.get(rowid, 0.0), -rowid))
    return [(rowid, ranks.get(rowid, 0.0)) for rowid in ordered[offset : offset + limit]], total, capped


async def snippets(
    conn: aiosqlite.Connection, scope: int, items: list[str], ids: list[int]
) -> dict[int, str]:
    """Snippet of each report: the column (text, items, title) with the most marked matches."""
    if not ids:
        return {}
    marks = f"char(2), char(3), '…', {SNIPPET_TOKENS}"
    wanted = ",".join(str(int(i)) for i in ids)
    rows = await conn.execute_fetchall(
        f"SELECT rowid, CASE WHEN rowid IN ({wanted}) THEN snippet(report_fts, 2, {marks}) END, "
        f"CASE WHEN rowid IN ({wanted}) THEN snippet(report_fts, 3, {marks}) END, "
        f"CASE WHEN rowid IN ({wanted}) THEN snippet(report_fts, 1, {marks}) END "
        "FROM report_fts WHERE report_fts MATCH ? AND rowid >= ? AND rowid <= ?",
        (match_expression(scope, items), min(ids), max(ids)),
    )
    out = {}
    for rowid, *texts in rows:
        if rowid in ids:
            best = max(texts, key=lambda s: (s or "").count("\x02")) or ""
            out[rowid] = _ADJACENT.sub(r"\1", best)  # "\x02nông\x03 \x02thôn\x03" -> one mark
    return out
