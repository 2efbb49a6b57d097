"""Abbreviations of Vietnamese official writing and their expansions: the one table search uses.

Reports write "GPMB" in one paragraph and "giải phóng mặt bằng" in the next, and officials type
either, so search treats both as one thing (storage.search). Each entry lists the spellings of the
abbreviation and the phrases it stands for; spellings that differ only by punctuation ("KT-XH",
"KT - XH", "KT XH") are one key, since search compares index terms (letters and digits). Only
abbreviations that are not themselves Vietnamese words belong here: an entry matches wherever the
query holds its terms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# (abbreviation spellings, expansions). Spellings with '&' or '-' keep them for readability.
TABLE: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("GPMB",), ("giải phóng mặt bằng",)),
    (("UBND",), ("ủy ban nhân dân",)),
    (("HĐND",), ("hội đồng nhân dân",)),
    (("MTTQ",), ("mặt trận tổ quốc",)),
    (("MTTQVN",), ("mặt trận tổ quốc việt nam",)),
    (("UBMTTQ",), ("ủy ban mặt trận tổ quốc",)),
    (("KT-XH", "KTXH"), ("kinh tế - xã hội",)),
    (("NTM",), ("nông thôn mới",)),
    (("ATGT",), ("an toàn giao thông",)),
    (("TTATGT",), ("trật tự an toàn giao thông",)),
    (("TNGT",), ("tai nạn giao thông",)),
    (("GTVT",), ("giao thông vận tải",)),
    (("CSGT",), ("cảnh sát giao thông",)),
    (("CCHC",), ("cải cách hành chính",)),
    (("TTHC",), ("thủ tục hành chính",)),
    (("ĐVHC",), ("đơn vị hành chính",)),
    (("ĐTXD",), ("đầu tư xây dựng",)),
    (("XDCB",), ("xây dựng cơ bản",)),
    (("NSNN",), ("ngân sách nhà nước",)),
    (("BCH",), ("ban chấp hành",)),
    (("BTV",), ("ban thường vụ",)),
    (("UBKT",), ("ủy ban kiểm tra",)),
    (("BQL",), ("ban quản lý",)),
    (("HTCT",), ("hệ thống chính trị",)),
    (("ĐBQH",), ("đại biểu quốc hội",)),
    (("ATTP",), ("an toàn thực phẩm",)),
    (("TN&MT", "TNMT"), ("tài nguyên và môi trường", "tài nguyên môi trường")),
    (("NN&PTNT", "NNPTNT"), ("nông nghiệp và phát triển nông thôn",)),
    (("CNH-HĐH", "CNH, HĐH"), ("công nghiệp hóa, hiện đại hóa",)),
    (("GD&ĐT", "GDĐT"), ("giáo dục và đào tạo",)),
    (("KH&CN", "KHCN"), ("khoa học và công nghệ",)),
    (("LĐ-TB&XH", "LĐTBXH"), ("lao động - thương binh và xã hội",)),
    (("VH-TT&DL", "VHTTDL"), ("văn hóa, thể thao và du lịch",)),
    (("TDTT",), ("thể dục thể thao",)),
    (("CNTT",), ("công nghệ thông tin",)),
    (("DN",), ("doanh nghiệp",)),
    (("DNNN",), ("doanh nghiệp nhà nước",)),
    (("SXKD",), ("sản xuất kinh doanh",)),
    (("HTX",), ("hợp tác xã",)),
    (("KCN",), ("khu công nghiệp",)),
    (("CCN",), ("cụm công nghiệp",)),
    (("BHXH",), ("bảo hiểm xã hội",)),
    (("BHYT",), ("bảo hiểm y tế",)),
    (("THPT",), ("trung học phổ thông",)),
    (("THCS",), ("trung học cơ sở",)),
    (("CBCCVC",), ("cán bộ, công chức, viên chức",)),
    (("ANTT",), ("an ninh trật tự",)),
    (("TTATXH",), ("trật tự an toàn xã hội",)),
    (("ANQG",), ("an ninh quốc gia",)),
    (("QP-AN", "QPAN"), ("quốc phòng - an ninh",)),
    (("CAND",), ("công an nhân dân",)),
    (("QĐND",), ("quân đội nhân dân",)),
    (("BĐBP",), ("bộ đội biên phòng",)),
    (("PCCC",), ("phòng cháy chữa cháy",)),
    (("PCTN",), ("phòng, chống tham nhũng",)),
    (("PCTT",), ("phòng, chống thiên tai",)),
    (("TKCN",), ("tìm kiếm cứu nạn",)),
    (("TNXH",), ("tệ nạn xã hội",)),
    (("VSMT",), ("vệ sinh môi trường",)),
    (("BVTV",), ("bảo vệ thực vật",)),
    (("MTQG",), ("mục tiêu quốc gia",)),
    (("QSDĐ",), ("quyền sử dụng đất",)),
    (("ĐBSCL",), ("đồng bằng sông cửu long",)),
)

_TERM = re.compile(r"[^\W_]+")

Terms = tuple[str, ...]


class _KeyMap(dict[int, str]):
    """str.translate table built on demand: each character to one character, its key."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        low = char.lower() if len(char.lower()) == 1 else char
        bare = "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))
        key = bare.replace("đ", "d") if len(bare) == 1 else char
        self[code] = key
        return key


_KEYS = _KeyMap()


def key_text(text: str) -> str:
    """A text as search compares it, character for character (the same length, so spans found in
    it are spans of `text`): lower-case, marks dropped, đ -> d. The NFC text gives FTS5's terms:
    `unicode61 remove_diacritics 2` over `storage.folding.fold`; tone placement no longer matters."""
    return text.translate(_KEYS)


def terms(text: str) -> Terms:
    """The index terms of a text as search compares them ("KT-XH" -> ("kt", "xh"), "Ủy ban" ->
    ("uy", "ban")): `key_text` of the NFC text, split into runs of letters and digits."""
    return tuple(_TERM.findall(key_text(unicodedata.normalize("NFC", text))))


@dataclass(frozen=True)
class Entry:
    """One abbreviation: the term sequences that name it, the abbreviated ones first."""

    abbreviations: tuple[Terms, ...]
    expansions: tuple[Terms, ...]
    related: tuple[Terms, ...]  # abbreviations of longer expansions holding one of these (ATGT -> TTATGT)

    @property
    def forms(self) -> tuple[Terms, ...]:
        """Every term sequence a report may write for this entry."""
        return self.abbreviations + self.expansions + self.related


def _contains(longer: Terms, shorter: Terms) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


@lru_cache(maxsize=1)
def entries() -> dict[Terms, Entry]:
    """Every spelling (abbreviation or expansion, as terms) -> its entry."""
    raw = [
        (tuple(dict.fromkeys(terms(a) for a in abbrs)), tuple(dict.fromkeys(terms(e) for e in exps)))
        for abbrs, exps in TABLE
    ]
    out: dict[Terms, Entry] = {}
    for abbrs, exps in raw:
        related = tuple(
            dict.fromkeys(
                other
                for other_abbrs, other_exps in raw
                if other_abbrs != abbrs
                and any(_contains(long, short) for long in other_exps for short in exps if long != short)
                for other in other_abbrs
            )
        )
        entry = Entry(abbrs, exps, related)
        for key in abbrs + exps:
            if key in out:
                raise ValueError(f"abbreviation table: {key} is listed twice")
            out[key] = entry
    return out


@lru_cache(maxsize=1)
def longest() -> int:
    """The most terms a spelling has: how far a query is scanned for one."""
    return max(len(key) for key in entries())


def find(keys: Terms, start: int) -> tuple[int, Entry] | None:
    """The longest spelling of an entry that starts at keys[start]: (its length, the entry)."""
    table = entries()
    for n in range(min(longest(), len(keys) - start), 0, -1):
        entry = table.get(keys[start : start + n])
        if entry is not None:
            return n, entry
    return None
