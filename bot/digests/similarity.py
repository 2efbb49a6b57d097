"""Grouping of near-identical clauses across reports (shortcomings, tasks).

Reports word the same problem differently ("công tác giải phóng mặt bằng tại một số công trình
chậm tiến độ" / "công tác bồi thường, GPMB ở một số dự án còn chậm"). We match on syllable bigrams
of a folded text (lower case, no diacritics, đ→d, common abbreviations expanded, generic words
dropped) so word order inside a phrase matters but surrounding filler does not.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

# Abbreviations officials write interchangeably with the full phrase.
ABBREVIATIONS: dict[str, str] = {
    "gpmb": "giải phóng mặt bằng",
    "ntm": "nông thôn mới",
    "nsnn": "ngân sách nhà nước",
    "xdcb": "xây dựng cơ bản",
    "mtqg": "mục tiêu quốc gia",
    "ctmtqg": "chương trình mục tiêu quốc gia",
    "cchc": "cải cách hành chính",
    "antt": "an ninh trật tự",
    "ttatxh": "trật tự an toàn xã hội",
    "kt-xh": "kinh tế xã hội",
    "ktxh": "kinh tế xã hội",
    "qp-an": "quốc phòng an ninh",
    "tthc": "thủ tục hành chính",
    "đtxd": "đầu tư xây dựng",
    "gcn": "giấy chứng nhận",
    "qsdđ": "quyền sử dụng đất",
}

# Filler that says nothing about *which* problem or task a clause is about. Matched on the lower
# case text with diacritics (folding first would merge "từ" with "tư" as in "đầu tư").
GENERIC_PHRASES: tuple[str, ...] = (
    "công tác",
    "một số",
    "tình hình",
    "thực hiện",
    "triển khai",
    "so với",
    "địa bàn",
    "tiếp tục",
    "tập trung",
    "tăng cường",
    "đẩy mạnh",
    "đẩy nhanh",
    "lãnh đạo",
    "chỉ đạo",
    "nhiệm vụ",
    "hiện nay",
    "thời gian tới",
    "đến nay",
    "đề ra",
    "nhất là",
    "đặc biệt",
    "quan tâm",
    "chú trọng",
    "hạn chế",
    "tồn tại",
    "khó khăn",
    "vướng mắc",
    "yếu kém",
    "bảo đảm",
    "đảm bảo",
    "các cấp",
    "kịp thời",
    "có hiệu quả",
    "hiệu quả",
)
_STOPWORDS_TEXT = """
    các những của và với tại ở trong trên dưới theo cho để đến từ đã đang sẽ được bị là có
    còn chưa vẫn cũng nên thì mà này đó kia ấy một nhiều ít rất quá hơn nữa khi lúc việc sự
    cuộc về vào ra như nhằm gồm hay hoặc cả mọi từng số
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORDS_TEXT.split())

_WORD_RE = re.compile(r"\w+(?:-\w+)?")
_GENERIC_RE = re.compile(
    r"(?<!\w)(?:"
    + "|".join(re.escape(p) for p in sorted(GENERIC_PHRASES, key=len, reverse=True))
    + r")(?!\w)"
)


def _fold_table() -> dict[int, str | None]:
    """Latin letters with diacritics → base letter; combining marks → removed; đ → d."""
    table: dict[int, str | None] = {}
    for code in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        if base != char and len(base) == 1:
            table[code] = base
    for code in range(0x0300, 0x0370):
        table[code] = None
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower case without diacritics; đ/Đ become d (they are letters, not marks, in Unicode).
    A translate table rather than NFD per character: digests fold a lot of text."""
    return text.lower().translate(_FOLD)


_fold_word = functools.lru_cache(maxsize=65_536)(fold)  # syllables repeat a lot: fold each once


def content_syllables(text: str) -> list[str]:
    """The folded syllables that carry meaning, in order (abbreviations expanded)."""
    lowered = unicodedata.normalize("NFC", text).lower()
    words: list[str] = []
    for word in _WORD_RE.findall(lowered):
        expanded = ABBREVIATIONS.get(word)
        if expanded is not None:
            words.extend(expanded.split())
        else:
            words.extend(word.split("-"))
    joined = _GENERIC_RE.sub(" ", " ".join(words))
    return [_fold_word(w) for w in joined.split() if w not in STOPWORDS and not w.isdigit() and w != "_"]


@functools.lru_cache(maxsize=16_384)
def bigrams(text: str) -> frozenset[str]:
    """Syllable bigrams of the content syllables (a single syllable stands for itself)."""
    syl = content_syllables(text)
    if len(syl) == 1:
        return frozenset(syl)
    return frozenset(f"{a} {b}" for a, b in itertools.pairwise(syl))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Blend of Jaccard and overlap coefficient: a short clause contained in a long one still
    matches, but two clauses sharing a single generic pair ("tien do") do not."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    if shared < 2 and min(len(a), len(b)) > 1:
        return 0.0
    jaccard = shared / len(a | b)
    overlap = shared / min(len(a), len(b))
    return max(jaccard, 0.8 * overlap)


_LINK_MEMBERS = 6


@dataclass
class Group:
    """Clauses judged to say the same thing; `members` are indices into the input list."""

    members: list[int] = field(default_factory=list)
    features: Counter[str] = field(default_factory=Counter)
    representative: int = 0


def group_similar(texts: Sequence[str], *, threshold: float = 0.4, max_postings: int = 200) -> list[Group]:
    """Greedy single-pass clustering with single linkage over a group's first few members.

    An inverted index from bigram to groups keeps this near-linear: only groups sharing a bigram
    are compared, and bigrams found in very many groups (`max_postings`) are too generic to
    nominate candidates. A clause joins the group it is most similar to, comparing against up to
    `_LINK_MEMBERS` distinct wordings per group (so "GPMB chậm" can join via a member that words
    it closely even when the group's first clause is phrased differently). Groups come back in
    order of first appearance.
    """
    groups: list[Group] = []
    wordings: list[list[frozenset[str]]] = []  # distinct feature sets each group is compared against
    postings: dict[str, list[int]] = defaultdict(list)
    posted: list[set[str]] = []  # bigrams already in `postings` for each group
    exact: dict[frozenset[str], int] = {}
    for index, text in enumerate(texts):
        feats = bigrams(text)
        if not feats:
            continue
        gid = exact.get(feats)
        if gid is None:
            counts: Counter[int] = Counter()
            for bigram in feats:
                plist = postings.get(bigram)
                if plist and len(plist) <= max_postings:
                    counts.update(plist)
            best, best_score = -1, 0.0
            for candidate, shared in counts.items():
                if shared < 2 and len(feats) > 1:
                    continue
                score = max(similarity(feats, other) for other in wordings[candidate])
                if score > best_score:
                    best, best_score = candidate, score
            if best >= 0 and best_score >= threshold:
                gid = best
            else:
                gid = len(groups)
                groups.append(Group())
                wordings.append([])
                posted.append(set())
            exact[feats] = gid
            if len(wordings[gid]) < _LINK_MEMBERS:
                wordings[gid].append(feats)
                for bigram in feats - posted[gid]:
                    postings[bigram].append(gid)
                posted[gid] |= feats
        group = groups[gid]
        group.members.append(index)
        group.features.update(feats)
    for group in groups:
        group.representative = _central_member(group, texts)
    return groups


def _central_member(group: Group, texts: Sequence[str]) -> int:
    """The member sharing the most bigrams with other members (ties: the shorter text), i.e. the
    wording that covers most of what the group's clauses have in common."""
    if len(group.members) == 1:
        return group.members[0]

    def score(index: int) -> tuple[int, int]:
        shared = sum(1 for f in bigrams(texts[index]) if group.features[f] > 1)
        return (shared, -len(texts[index]))

    return max(group.members, key=score)
