"""The dev reports as official documents (.docx, .pdf, scanned .pdf), and the pipeline's score on them.

Most reports reach the bot as the office's own document, laid out by Nghị định 30/2020/NĐ-CP (state
bodies) or Hướng dẫn 36-HD/VPTW (party bodies): header block, "BÁO CÁO", numbered parts, a table of
figures, "Nơi nhận" and a signature. The 40 dev reports are news texts, so this script lays each one
out as such a document, built from its hand-written gold (the report's text only fills in what the
gold lacks, e.g. the province of a district), so that the whole path file -> reader -> summary can be
scored with the existing scorer.

    .venv/bin/python bench/doc_corpus.py build [--dev ../shared/eval/dev] [--out data/corpus]
                                               [--seed 7] [--scanned 8]
    .venv/bin/python bench/doc_corpus.py score [--out data/corpus] [--kinds docx,pdf,scan] [--json]

`build` writes, for every NAME with gold, OUT/docx/NAME.docx, OUT/pdf/NAME.pdf and (for --scanned N
of them, chosen by the seed) OUT/scan/NAME.pdf (image-only), each with NAME.gold.json (a copy of the
gold) and NAME.txt (every line of the document's text in reading order; tables as "cell | cell"
lines; page numbers and the running header of PDF pages 2+ are page furniture, not text, and are
left out so that the scorer's "numbers not in the source" check stays strict). The same seed gives
the same bytes. Generated files hold dev text: they stay in OUT (git-ignored), nowhere else.

`score` runs ../shared/eval/score.py on each kind with `python -m summariser --json --read-as .EXT`
(the CLI reads NAME.EXT beside each NAME.txt) and on the plain dev set, and prints one table.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import shlex
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "dev"
SCORER = ROOT.parent / "shared" / "eval" / "score.py"
OUT = ROOT / "data" / "corpus"
KINDS: dict[str, str] = {"docx": ".docx", "pdf": ".pdf", "scan": ".pdf"}  # kind -> file the CLI reads
FIXED_TIME = datetime(2024, 1, 1, tzinfo=UTC)  # creation dates in every file: same seed, same bytes
ZIP_TIME = (2024, 1, 1, 0, 0, 0)

# ----------------------------------------------------------------------------------------------------
# What a document says: built from the gold, independent of the file format
# ----------------------------------------------------------------------------------------------------

BlockType = Literal["heading", "para", "item", "table"]
BodyKind = Literal["party", "hdnd", "ubnd", "organ"]


@dataclass
class Block:
    """One block of the body. `item` is a "- " list item; `lead` is a bold "1. " before a paragraph."""

    kind: BlockType
    text: str = ""
    level: int = 1
    lead: str = ""
    rows: list[list[str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.kind == "table":
            return [" | ".join(row) for row in self.rows]
        if self.kind == "item":
            return [f"- {self.text}"]
        return [self.lead + self.text]


@dataclass
class Plan:
    """A whole document; the renderers draw exactly `lines()` (plus page furniture in the PDF)."""

    name: str
    kind: BodyKind
    superior: str | None
    issuer: str
    star: bool  # the "*" under a party issuer (Hướng dẫn 36)
    number: str  # "12-BC/HU": the number/symbol, also the PDF's running header
    national: list[str]
    place_date: str
    subject: str
    note: str | None
    blocks: list[Block]
    recipients: list[str]
    signature: list[str]
    heading_styles: bool  # .docx: Word "Heading 1/2" styles, else bold paragraphs
    word_lists: bool  # .docx: Word "List Bullet" style (bullet "-"), else "- " typed in the text
    uncovered_figures: list[str] = field(default_factory=list)

    @property
    def number_line(self) -> str:
        return f"Số: {self.number}"

    def left(self) -> list[str]:
        return [x for x in (self.superior, self.issuer, "*" if self.star else None, self.number_line) if x]

    def right(self) -> list[str]:
        return [*self.national, self.place_date]

    def lines(self) -> list[str]:
        """The document's text, one line per paragraph, in reading order (left column first)."""
        out = [*self.left(), *self.right(), "BÁO CÁO", self.subject]
        if self.note:
            out.append(self.note)
        for b in self.blocks:
            out += b.lines()
        return out + self.recipients + self.signature


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _fold(text: str) -> str:
    """Lower case with one tone placement ('hoá' == 'hóa', 'uỷ' == 'ủy'), for matching only."""
    t = nfc(text).lower()
    for old, new in (("oá", "óa"), ("oà", "òa"), ("oả", "ỏa"), ("oã", "õa"), ("oạ", "ọa"), ("uỷ", "ủy"),
                     ("uý", "úy"), ("uỳ", "ùy"), ("uỹ", "ũy"), ("uỵ", "ụy")):
        t = t.replace(old, new)
    return t


PROVINCES = """An Giang|Bà Rịa - Vũng Tàu|Bạc Liêu|Bắc Giang|Bắc Kạn|Bắc Ninh|Bến Tre|Bình Dương|Bình Định|
Bình Phước|Bình Thuận|Cà Mau|Cao Bằng|Cần Thơ|Đà Nẵng|Đắk Lắk|Đắk Nông|Điện Biên|Đồng Nai|Đồng Tháp|Gia Lai|
Hà Giang|Hà Nam|Hà Nội|Hà Tĩnh|Hải Dương|Hải Phòng|Hậu Giang|Hòa Bình|Hưng Yên|Khánh Hòa|Kiên Giang|Kon Tum|
Lai Châu|Lâm Đồng|Lạng Sơn|Lào Cai|Long An|Nam Định|Nghệ An|Ninh Bình|Ninh Thuận|Phú Thọ|Phú Yên|Quảng Bình|
Quảng Nam|Quảng Ngãi|Quảng Ninh|Quảng Trị|Sóc Trăng|Sơn La|Tây Ninh|Thái Bình|Thái Nguyên|Thanh Hóa|
Hồ Chí Minh|Thừa Thiên Huế|Tiền Giang|Trà Vinh|Tuyên Quang|Vĩnh Long|Vĩnh Phúc|Yên Bái""".replace("\n", "").split("|")
CITIES = {"Cần Thơ", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Hồ Chí Minh"}  # centrally run: "thành phố"

# (how the unit may spell its level, the level); longest first
LEVELS: list[tuple[str, str]] = [("thành phố", "thành phố"), ("thị trấn", "thị trấn"), ("thị xã", "thị xã"),
                                 ("tp.", "thành phố"), ("tp", "thành phố"), ("huyện", "huyện"),
                                 ("tỉnh", "tỉnh"), ("quận", "quận"), ("phường", "phường"), ("xã", "xã")]
PARTY_ISSUER = {"huyện": "HUYỆN ỦY", "quận": "QUẬN ỦY", "thị xã": "THỊ ỦY", "tỉnh": "TỈNH ỦY",
                "thành phố": "THÀNH ỦY", "xã": "ĐẢNG ỦY XÃ", "thị trấn": "ĐẢNG ỦY THỊ TRẤN",
                "phường": "ĐẢNG ỦY PHƯỜNG"}
PARTY_NAME = {"huyện": "Huyện ủy", "quận": "Quận ủy", "thị xã": "Thị ủy", "tỉnh": "Tỉnh ủy",
              "thành phố": "Thành ủy", "xã": "Đảng ủy xã", "thị trấn": "Đảng ủy thị trấn",
              "phường": "Đảng ủy phường"}
PARTY_SYMBOL = {"huyện": "HU", "quận": "QU", "thị xã": "TU", "tỉnh": "TU", "thành phố": "TU", "xã": "ĐU",
                "thị trấn": "ĐU", "phường": "ĐU"}
DISTRICT_LEVELS = {"huyện", "quận", "thị xã"}
COMMUNE_LEVELS = {"xã", "thị trấn", "phường"}
NATIONAL_ORGANS = re.compile(r"^(bộ|chính phủ|tổng cục|ban chỉ đạo|thanh tra|ngành|ủy ban (?!nhân dân))|quốc gia",
                             re.IGNORECASE)
PARTY_WORDS = re.compile(r"đảng bộ|đảng ủy|huyện ủy|tỉnh ủy|thành ủy|quận ủy|thị ủy|ban thường vụ|ban chấp hành")
PERIOD_WORDS = re.compile(r"\b\d{4}\b|\b\d+ tháng\b|\btháng \d+|\bquý [ivx\d]+\b|\b\d+ năm\b", re.IGNORECASE)
MEETING_NOUNS = re.compile(r"^(hội nghị|kỳ họp|phiên họp|phiên|cuộc họp|buổi làm việc)\b", re.IGNORECASE)

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô"]
MIDDLE = ["Văn", "Đức", "Minh", "Hữu", "Thanh", "Quang", "Thị", "Ngọc"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Hùng", "Khánh", "Lâm", "Long", "Nam", "Phong",
         "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Vinh"]

OPENINGS = ["Thực hiện Chương trình công tác", "Thực hiện chế độ thông tin, báo cáo định kỳ",
            "Thực hiện Quy chế làm việc", "Thực hiện sự chỉ đạo của cấp trên"]
TOPICS = ["thực hiện nhiệm vụ", "công tác", "thực hiện nhiệm vụ chính trị"]
PARTY_TOPICS = ["lãnh đạo, chỉ đạo thực hiện nhiệm vụ", "thực hiện nhiệm vụ", "công tác lãnh đạo, chỉ đạo"]
RESULT_HEADS = ["KẾT QUẢ ĐẠT ĐƯỢC", "KẾT QUẢ THỰC HIỆN NHIỆM VỤ", "Những kết quả đạt được"]
SHORT_HEADS = ["HẠN CHẾ, TỒN TẠI", "Những tồn tại, hạn chế", "HẠN CHẾ, KHÓ KHĂN, VƯỚNG MẮC"]
TASK_HEADS = ["PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", "NHIỆM VỤ, GIẢI PHÁP TRỌNG TÂM THỜI GIAN TỚI",
              "Phương hướng, nhiệm vụ thời gian tới"]
GROUPS = {"results": ("Những kết quả nổi bật", "Các kết quả khác"),
          "shortcomings": ("Hạn chế", "Khó khăn, vướng mắc"),
          "tasks": ("Nhiệm vụ trọng tâm", "Giải pháp thực hiện")}
CAUSES = ["Nguyên nhân chủ yếu là do điều kiện khách quan.",
          "Những hạn chế trên có cả nguyên nhân khách quan và chủ quan, trong đó nguyên nhân khách quan là chủ yếu.",
          "Nguyên nhân một phần do điều kiện khách quan, một phần do công tác phối hợp có lúc chưa chặt chẽ."]
REQUESTS = ["Đề nghị cấp trên quan tâm, hỗ trợ nguồn lực để đơn vị triển khai có hiệu quả các nhiệm vụ.",
            "Kính đề nghị cấp trên xem xét, tạo điều kiện về cơ chế, chính sách cho đơn vị."]


def strip_notes(text: str) -> str:
    """Drop annotators' parentheticals ("(bài không nêu …)", "(làm việc với đoàn …)"); keep short ones
    that are part of a name ("(khóa XI)", "(mở rộng)", "(Quân khu 9)")."""
    def keep(m: re.Match[str]) -> str:
        inner = m.group(1)
        return m.group(0) if len(inner.split()) <= 3 and "bài" not in inner.lower() else ""

    text = re.sub(r"\s*\(([^()]*)\)", keep, text)
    return re.sub(r"\s+", " ", text).strip(" ,;")


def split_level(unit: str) -> tuple[str | None, str]:
    """'huyện Gia Lộc' -> ('huyện', 'Gia Lộc'); 'TP. HCM' -> ('thành phố', 'HCM'); 'Xuyên Mộc' -> (None, ...)."""
    low = unit.lower()
    for spelling, level in LEVELS:
        if low.startswith(spelling + " ") or (spelling.endswith(".") and low.startswith(spelling)):
            return level, unit[len(spelling):].strip()
    return None, unit


def body_kind(gold: dict[str, Any], text: str) -> BodyKind:
    """Party committee, people's council, people's committee or another organ, from the gold's body
    (the meeting when the gold has no body, the report's opening as a last resort)."""
    source = gold.get("body") or gold.get("meeting") or text[:600]
    s = _fold(source)
    if PARTY_WORDS.search(s):
        return "party"
    if re.search(r"hđnd|hội đồng nhân dân|kỳ họp", s):
        return "hdnd"
    if re.search(r"ubnd|ủy ban nhân dân", s):
        return "ubnd"
    return "organ"


def find_province(text: str, exclude: str = "") -> str | None:
    """The province the report names most often after 'tỉnh' / 'Tỉnh ủy' / 'thành phố' / 'TP'."""
    folded = _fold(text)
    counts: Counter[str] = Counter()
    for p in PROVINCES:
        if _fold(p) == _fold(exclude):
            continue
        pattern = r"(?:tỉnh ủy|tỉnh|thành ủy|thành phố|tp\.?)\s+" + re.escape(_fold(p)) + r"\b"
        counts[p] = len(re.findall(pattern, folded))
    best = [p for p, n in counts.most_common(1) if n]
    return best[0] if best else None


def find_district(text: str, exclude: str = "") -> tuple[str, str] | None:
    """The district ('huyện', 'Hữu Lũng') a commune-level report names most often."""
    pattern = r"\b(huyện|thị xã)\s+((?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\w’']*)(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\w’']*){0,2})"
    counts = Counter((m.group(1), m.group(2)) for m in re.finditer(pattern, nfc(text)))
    for (level, name), _n in counts.most_common():
        if _fold(name) != _fold(exclude) or level == "huyện":
            return level, name
    return None


@dataclass
class Issuer:
    """Who issues the document: capitals for the header, normal case for the opening sentence."""

    caps: str
    name: str
    superior: str | None
    symbol: str
    place: str | None  # for the place-and-date line


def _initials(words: str) -> str:
    """'Cục Thuế Hưng Yên' -> 'CTHY' (symbols are written without tone marks; Đ stays)."""
    letters = [w[0].upper() for w in re.findall(r"[^\W\d_]+", words) if w.lower() not in {"và", "của"}]
    plain = [c if c == "Đ" else unicodedata.normalize("NFD", c)[0] for c in letters]
    return "".join(plain)


def make_issuer(gold: dict[str, Any], text: str, kind: BodyKind) -> Issuer:
    """The issuer from the gold unit and body; the unit's place name appears in it exactly as in the
    gold, and a null unit gives an issuer (and superior and place) that names no place."""
    unit = strip_notes(gold.get("unit") or "")
    raw_unit = gold.get("unit") or ""
    body = strip_notes(gold.get("body") or "")
    context = " ".join(str(gold.get(k) or "") for k in ("body", "meeting")) or text[:600]
    level, place = split_level(unit) if unit else (None, "")
    if unit and level is None:  # 'Xuyên Mộc': the level from the body ('… Đảng bộ huyện Xuyên Mộc')
        m = re.search(r"(thành phố|thị trấn|thị xã|huyện|tỉnh|quận|phường|xã)\s+" + re.escape(_fold(unit)),
                      _fold(context))
        level = m.group(1) if m else None
    if not unit:  # no place may be named: the level alone ('Huyện ủy' -> 'HUYỆN ỦY')
        m = re.search(r"(huyện|tỉnh|thành|quận|thị) ủy|(xã|thị trấn|phường)", _fold(context))
        level = {"huyện": "huyện", "tỉnh": "tỉnh", "thành": "thành phố", "quận": "quận", "thị": "thị xã"}.get(
            (m.group(1) or "") if m else "", (m.group(2) if m else None) or "huyện")
    province = None if not unit else find_province(text, exclude=place if level in {"tỉnh", "thành phố"} else "")
    territorial = level is not None and (not unit or _fold(split_level(unit)[1]) == _fold(place))

    if kind == "party" and territorial and level in PARTY_ISSUER:
        caps = f"{PARTY_ISSUER[level]} {place.upper()}".strip()
        name = f"{PARTY_NAME[level]} {place}".strip() if place else f"Ban Thường vụ {PARTY_NAME[level]}"
        superior: str | None = None
        if level in DISTRICT_LEVELS:
            superior = ("ĐẢNG BỘ THÀNH PHỐ " if province in CITIES else "ĐẢNG BỘ TỈNH ") + (province or "").upper()
        elif level in COMMUNE_LEVELS:
            district = find_district(text, exclude=place) if unit else None
            superior = f"ĐẢNG BỘ {district[0].upper()} {district[1].upper()}" if district else "ĐẢNG BỘ HUYỆN"
        return Issuer(caps, name, superior.strip() if superior else None, f"BC/{PARTY_SYMBOL[level]}",
                      place or None)
    if kind == "party":  # a party committee of a non-territorial unit: 'Đảng ủy Sư đoàn 330'
        inner = re.search(r"\(([^()]*)\)", raw_unit)
        own = re.sub(r"\s*\([^()]*\)", "", raw_unit).strip() or "cơ quan"
        return Issuer(f"ĐẢNG ỦY {own.upper()}", f"Đảng ủy {own}",
                      f"ĐẢNG BỘ {inner.group(1).upper()}" if inner else None, "BC/ĐU", province)
    if kind in ("ubnd", "hdnd") and territorial:
        full = "ỦY BAN NHÂN DÂN" if kind == "ubnd" else "HỘI ĐỒNG NHÂN DÂN"
        level_caps = (level or "").upper()
        spelled = unit[: len(unit) - len(place)].strip() if unit else ""
        if spelled.lower().startswith("tp"):  # keep the unit's own spelling: 'TP. HCM'
            level_caps = spelled.upper()
        caps = f"{full} {level_caps} {place.upper()}".strip()
        spelled_level = spelled if spelled.lower().startswith("tp") else (level or "")
        name = f"{full.capitalize()} {spelled_level} {place}".strip()
        symbol = "BC-UBND" if kind == "ubnd" else "BC-HĐND"
        where = spelled if spelled.lower().startswith("tp") else (level or "").capitalize()
        town = f"{where} {place}" if place and (place[:1].isdigit() or where.lower().startswith("tp")) else place
        return Issuer(re.sub(r"\s+", " ", caps), re.sub(r"\s+", " ", name), None, symbol, town or None)
    # another organ: its own name, as the gold writes it
    own = body if unit and _fold(unit) in _fold(body) else (unit or body or "Cơ quan")
    low = _fold(own)
    superior = None
    if low.startswith("cục thuế"):
        superior = "TỔNG CỤC THUẾ"
    elif low.startswith("công an tỉnh") or low.startswith("công an thành phố"):
        superior = "BỘ CÔNG AN"
    elif low.startswith("bộ tư lệnh"):
        superior = "BỘ QUỐC PHÒNG"
    elif low.startswith("sở"):
        superior = f"UBND TỈNH {province.upper()}" if province else "UBND TỈNH"
    in_name = next((p for p in PROVINCES if _fold(p) in low), None)
    place_of = "Hà Nội" if NATIONAL_ORGANS.search(low) or low.startswith("bộ tư lệnh") else (in_name or province)
    return Issuer(own.upper(), own, superior, f"BC-{_initials(own)[:8]}", place_of if unit else None)


def date_line(gold: dict[str, Any], place: str | None, padded: bool) -> str:
    """'Gia Lộc, ngày 05 tháng 10 năm 2023' from the gold date; without one the blank form, with the
    period's year when there is one: never a date the gold does not have."""
    lead = f"{place}, " if place else ""
    if gold.get("date"):
        d = date.fromisoformat(gold["date"])
        day = f"{d.day:02d}" if padded and d.day < 10 else str(d.day)
        month = f"{d.month:02d}" if padded and d.month < 3 else str(d.month)
        return f"{lead}ngày {day} tháng {month} năm {d.year}"
    years = re.findall(r"\b(?:19|20)\d{2}\b", gold.get("period") or "")
    return f"{lead}ngày     tháng     năm" + (f" {years[-1]}" if years else "")


_STOP_WORDS = """của và các những được đã đang sẽ trong cho với là có theo về tại từ đến này đó một như để thì mà
nên cũng còn vẫn nhất là hơn rất bị do vào ra trên dưới khi thực hiện công tác tiếp tục tập trung"""
_STOP = frozenset(_STOP_WORDS.split())
_TOKEN = re.compile(r"\d+(?:[.,/]\d+)*%?|\w+")


def _cover(item: str, text: str) -> float:
    """Share of the item's content syllables that the text holds: the scorer's matching rule
    (shared/eval/score.py: NFC, lower case, the same function words left out, counted with repeats)."""
    def bag(t: str) -> Counter[str]:
        return Counter(w for w in _TOKEN.findall(nfc(t).lower()) if w not in _STOP)

    want = bag(item)
    return sum((want & bag(text)).values()) / sum(want.values()) if want else 0.0


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _end(text: str, mark: str) -> str:
    text = text.rstrip()
    return text if text[-1:] in ".;:!?" else text + mark


def _items_blocks(items: Sequence[str], style: str, section: str, rng: random.Random,
                  heading_level: int) -> list[Block]:
    """One part's items in the chosen layout: '1.' paragraphs, '-' items, running paragraphs of two
    items joined by '; ' or '. ', or two 'a)'/'b)' groups of '-' items."""
    items = [i.strip() for i in items if i.strip()]
    if style == "groups" and len(items) < 4:
        style = "dash"
    if style == "numbered":
        return [Block("para", _end(_cap(t), "."), lead=f"{n}. ") for n, t in enumerate(items, 1)]
    if style == "running":
        out: list[Block] = []
        for k in range(0, len(items), 2):
            pair = items[k:k + 2]
            if len(pair) == 2 and rng.random() < 0.5:
                second = pair[1]
                if second[1:2].islower():  # 'Tham mưu …' -> 'tham mưu …'; 'UBND …' stays
                    second = second[:1].lower() + second[1:]
                text = f"{_cap(pair[0].rstrip('.;'))}; {_end(second, '.')}"
            else:
                text = " ".join(_end(_cap(t), ".") for t in pair)
            out.append(Block("para", text))
        return out
    if style == "groups":
        half = (len(items) + 1) // 2
        first, second = GROUPS[section]
        return [Block("heading", first, level=heading_level, lead="a) "), *_dash(items[:half]),
                Block("heading", second, level=heading_level, lead="b) "), *_dash(items[half:])]
    return _dash(items)


def _dash(items: Sequence[str]) -> list[Block]:
    return [Block("item", _end(_cap(t), "." if n == len(items) - 1 else ";")) for n, t in enumerate(items)]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _closing(kind: BodyKind, issuer: Issuer, level_caps: str, rng: random.Random) -> tuple[list[str], list[str]]:
    """'Nơi nhận:' with 3-4 lines and the signature block of this kind of body."""
    if kind == "party":
        if issuer.symbol.endswith("/TU"):
            upper = "- Ban Bí thư Trung ương Đảng (b/c);"
        elif re.match(r"ĐẢNG ỦY (XÃ|THỊ TRẤN|PHƯỜNG)\b", issuer.caps):
            upper = "- Ban Thường vụ Huyện ủy (b/c);"
        elif issuer.caps.startswith("ĐẢNG ỦY"):
            upper = "- Đảng ủy cấp trên (b/c);"
        else:
            upper = "- Ban Thường vụ Tỉnh ủy (b/c);"
        pool = ["- Các đồng chí ủy viên Ban Chấp hành;", "- Các chi, đảng bộ trực thuộc;", "- Các ban xây dựng Đảng;"]
        sig = ["T/M ĐẢNG ỦY" if issuer.caps.startswith("ĐẢNG ỦY") else "T/M BAN THƯỜNG VỤ",
               rng.choice(["BÍ THƯ", "PHÓ BÍ THƯ"])]
    elif kind == "ubnd":
        upper = "- UBND tỉnh (b/c);" if "HUYỆN" in level_caps or "QUẬN" in level_caps else "- Văn phòng Chính phủ (b/c);"
        pool = ["- Thường trực Huyện ủy, HĐND;", "- Chủ tịch, các Phó Chủ tịch;", "- Các phòng, ban, ngành;"]
        sig = ["TM. ỦY BAN NHÂN DÂN", rng.choice(["CHỦ TỊCH", "KT. CHỦ TỊCH"])]
    elif kind == "hdnd":
        upper = "- Thường trực HĐND cấp trên (b/c);"
        pool = ["- Các vị đại biểu HĐND;", "- Ủy ban MTTQ Việt Nam cùng cấp;", "- UBND cùng cấp;"]
        sig = ["TM. THƯỜNG TRỰC HĐND", "CHỦ TỊCH"]
    else:
        low = _fold(issuer.name)
        title = next((t for k, t in (("chính phủ", "THỦ TƯỚNG"), ("tổng cục", "TỔNG CỤC TRƯỞNG"),
                                     ("cục", "CỤC TRƯỞNG"), ("sở", "GIÁM ĐỐC"), ("công an", "GIÁM ĐỐC"),
                                     ("bộ tư lệnh", "TƯ LỆNH"), ("bộ", "BỘ TRƯỞNG"), ("ủy ban", "CHỦ TỊCH"),
                                     ("ban", "TRƯỞNG BAN"), ("thanh tra", "TỔNG THANH TRA"))
                      if low.startswith(k)), "THỦ TRƯỞNG CƠ QUAN")
        upper = "- Cơ quan cấp trên (b/c);"
        pool = ["- Lãnh đạo cơ quan;", "- Các đơn vị trực thuộc;", "- Các phòng chuyên môn;"]
        sig = ["TM. CHÍNH PHỦ", title] if low.startswith("chính phủ") else [title]
    lines = ["Nơi nhận:", upper, *rng.sample(pool, rng.choice([1, 2])), "- Lưu VP."]
    return lines, [*sig, "(Đã ký)", _person(rng)]


def plan_document(name: str, gold: dict[str, Any], text: str, seed: int) -> Plan:
    """The document for one report; every choice comes from random.Random(f'{seed}:{name}')."""
    rng = random.Random(f"{seed}:{name}")
    kind = body_kind(gold, text)
    issuer = make_issuer(gold, text, kind)
    period = (gold.get("period") or "").strip()
    number = f"{rng.randint(2, 350)}-{issuer.symbol}" if kind == "party" else f"{rng.randint(2, 350)}/{issuer.symbol}"
    national = (["ĐẢNG CỘNG SẢN VIỆT NAM"] if kind == "party"
                else ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"])
    place_date = date_line(gold, issuer.place, padded=rng.random() < 0.6)
    topic = rng.choice(PARTY_TOPICS if kind == "party" else TOPICS)
    tasks = list(gold.get("tasks") or [])
    subject = f"Kết quả {topic}" + (f" {period}" if period else "")
    if tasks:
        subject += rng.choice([", phương hướng, nhiệm vụ thời gian tới", ", nhiệm vụ trọng tâm thời gian tới"])
    note = None
    meeting = (gold.get("meeting") or "").strip()
    rest = meeting.replace(period, " ") if period else meeting
    if meeting and not PERIOD_WORDS.search(rest):  # a meeting naming another period would contradict the gold
        m = strip_notes(meeting)
        note = f"(Tại {m[:1].lower()}{m[1:]})" if MEETING_NOUNS.match(m) else f"(Nội dung: {m})"
    items = [str(x) for k in ("results", "shortcomings", "tasks") for x in gold.get(k) or []]
    openings = [f"{lead}, {issuer.name} báo cáo kết quả {topic}" + (f" {period}" if period else "") + " như sau:"
                for lead in rng.sample(OPENINGS, len(OPENINGS))]
    # the opening must not read as any gold item to the scorer (a short item may share its words)
    opening = next((o for o in openings if max((_cover(i, o) for i in items), default=0.0) < 0.6), openings[0])

    blocks: list[Block] = [Block("para", opening)]
    parts: list[tuple[str, str, list[str]]] = [("results", rng.choice(RESULT_HEADS), list(gold.get("results") or []))]
    shortcomings = list(gold.get("shortcomings") or [])
    if shortcomings:
        parts.append(("shortcomings", rng.choice(SHORT_HEADS), shortcomings))
    if tasks:
        heads = list(TASK_HEADS)
        if re.search(r"\b6 tháng đầu năm", period):
            heads.append("PHƯƠNG HƯỚNG, NHIỆM VỤ 6 THÁNG CUỐI NĂM")
        elif re.search(r"\b9 tháng", period):
            heads.append("PHƯƠNG HƯỚNG, NHIỆM VỤ 3 THÁNG CUỐI NĂM")
        parts.append(("tasks", rng.choice(heads), tasks))
    figures = [f for f in gold.get("figures") or [] if f.get("text")]
    items_text = " ".join(str(x) for _s, _h, xs in parts for x in xs)
    uncovered = [f["text"] for f in figures if f["text"] not in items_text]
    with_table = bool(figures) and (bool(uncovered) or rng.random() < 0.5)
    roman = ["I", "II", "III", "IV", "V"]
    for n, (section, head, items) in enumerate(parts):
        blocks.append(Block("heading", head, level=1, lead=f"{roman[n]}. "))
        style = rng.choice(["numbered", "dash", "running", "groups"])
        blocks += _items_blocks(items, style, section, rng, heading_level=2)
        if section == "results" and with_table:
            rows = [["STT", "Chỉ tiêu", "Kết quả"]]
            rows += [[str(k), _cap(strip_notes(f.get("what") or "") or "Chỉ tiêu"), f["text"]]
                     for k, f in enumerate(figures, 1)]
            blocks.append(Block("para", "Một số chỉ tiêu chủ yếu:"))
            blocks.append(Block("table", rows=rows))
        if section == "shortcomings" and rng.random() < 0.4:
            blocks.append(Block("heading", "Nguyên nhân", level=2, lead="* "))
            blocks.append(Block("para", rng.choice(CAUSES)))
    if rng.random() < 0.4:
        blocks.append(Block("heading", "ĐỀ XUẤT, KIẾN NGHỊ", level=1, lead=f"{roman[len(parts)]}. "))
        blocks.append(Block("para", rng.choice(REQUESTS)))
    recipients, signature = _closing(kind, issuer, issuer.caps, rng)
    return Plan(name=name, kind=kind, superior=issuer.superior, issuer=issuer.caps, star=kind == "party",
                number=number, national=national, place_date=place_date, subject=subject, note=note,
                blocks=blocks, recipients=recipients, signature=signature,
                heading_styles=rng.random() < 0.5, word_lists=rng.random() < 0.5, uncovered_figures=uncovered)


# ----------------------------------------------------------------------------------------------------
# .docx (python-docx)
# ----------------------------------------------------------------------------------------------------

def _stable_zip(data: bytes) -> bytes:
    """python-docx stamps every zip member with the current time: rewrite them with a fixed one."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def _set_font(style_or_run: Any, size: float | None = None, bold: bool | None = None,
              italic: bool | None = None) -> None:
    """Times New Roman everywhere (theme fonts removed, or Word would keep Calibri), black."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = style_or_run.font
    font.name = "Times New Roman"
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        fonts.set(qn("w:cs"), "Times New Roman")
        fonts.set(qn("w:eastAsia"), "Times New Roman")
    font.color.rgb = RGBColor(0, 0, 0)
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if italic is not None:
        font.italic = italic


def _dash_bullets(doc: Any) -> None:
    """The 'List Bullet' numbering of python-docx's template shows a Symbol-font dot; Vietnamese
    reports use '-'."""
    from docx.oxml.ns import qn

    numbering = doc.part.numbering_part.element
    num_id = doc.styles["List Bullet"].element.pPr.numPr.numId.val
    num = next(n for n in numbering.findall(qn("w:num")) if n.get(qn("w:numId")) == str(num_id))
    abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    abstract = next(a for a in numbering.findall(qn("w:abstractNum")) if a.get(qn("w:abstractNumId")) == abstract_id)
    lvl = abstract.find(qn("w:lvl"))
    lvl.find(qn("w:lvlText")).set(qn("w:val"), "-")
    fonts = lvl.find(qn("w:rPr")).find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), "Times New Roman")
    ind = lvl.find(qn("w:pPr")).find(qn("w:ind"))
    ind.set(qn("w:left"), "851")
    ind.set(qn("w:hanging"), "284")


def _widths(table: Any, cms: Sequence[float]) -> None:
    """Column widths that both Word (cell tcW) and LibreOffice (the table grid) honour."""
    from docx.shared import Cm

    table.autofit = False
    for col, cm in zip(table.columns, cms, strict=True):
        col.width = Cm(cm)
        for cell in col.cells:
            cell.width = Cm(cm)


def _page_field(paragraph: Any) -> None:
    """A PAGE field in the footer: Word and LibreOffice print the page number."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for tag, attr in (("w:fldChar", "begin"), ("w:instrText", None), ("w:fldChar", "separate")):
        el = OxmlElement(tag)
        if attr:
            el.set(qn("w:fldCharType"), attr)
        else:
            el.set(qn("xml:space"), "preserve")
            el.text = " PAGE "
        run._r.append(el)
    run2 = paragraph.add_run("1")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run2._r.append(end)
    paragraph.alignment = 1


def _keep_row_whole(row: Any) -> None:
    """The signature block must not break across pages (w:cantSplit)."""
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _no_borders(table: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _cell_lines(cell: Any, lines: Iterable[tuple[str, float, bool, bool]]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    first = True
    for text, size, bold, italic in lines:
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.first_line_indent = None
        if text:
            _set_font(p.add_run(text), size=size, bold=bold, italic=italic)


def write_docx(plan: Plan, path: Path) -> None:
    """The document as Word writes it: Times New Roman 14, A4, NĐ30 margins, a borderless header table,
    Heading 1/2 styles or bold paragraphs, 'List Bullet' or typed '- ', a bordered figures table, the
    'Nơi nhận' and signature table, and a PAGE field in the footer."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    normal = doc.styles["Normal"]
    _set_font(normal, size=14)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for style_name, italic in (("Heading 1", False), ("Heading 2", True)):
        st = doc.styles[style_name]
        _set_font(st, size=14, bold=True, italic=italic)
        st.paragraph_format.space_before = Pt(6)
        st.paragraph_format.space_after = Pt(6)
    _dash_bullets(doc)

    header = doc.add_table(rows=1, cols=2)
    _no_borders(header)
    _widths(header, (6.8, 9.7))
    left, right = header.rows[0].cells
    _cell_lines(left, [(x, 13, x == plan.issuer, False) for x in plan.left()])
    right_lines = [(x, 13 if i else 12.5, True, False) for i, x in enumerate(plan.national)]
    _cell_lines(right, [*right_lines, ("", 13, False, False), (plan.place_date, 14, False, True)])

    def centred(text: str, size: float, bold: bool, italic: bool, before: float = 0) -> None:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_before = Pt(before)
        p.paragraph_format.space_after = Pt(2)
        _set_font(p.add_run(text), size=size, bold=bold, italic=italic)

    centred("BÁO CÁO", 14, True, False, before=18)
    centred(plan.subject, 14, True, False)
    if plan.note:
        centred(plan.note, 14, False, True)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)

    for b in plan.blocks:
        if b.kind == "heading":
            text = b.lead + b.text
            if plan.heading_styles:
                doc.add_paragraph(text, style=f"Heading {b.level}")
            else:
                p = doc.add_paragraph()
                p.paragraph_format.first_line_indent = Cm(1)
                p.paragraph_format.keep_with_next = True
                _set_font(p.add_run(text), bold=True, italic=b.level > 1)
        elif b.kind == "table":
            table = doc.add_table(rows=0, cols=3)
            table.style = doc.styles["Table Grid"]
            for _row in b.rows:
                table.add_row()
            _widths(table, (1.3, 10.0, 5.2))
            for r, row in enumerate(b.rows):
                cells = table.rows[r].cells
                for c, value in enumerate(row):
                    p = cells[c].paragraphs[0]
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if c == 0 or r == 0 else WD_ALIGN_PARAGRAPH.LEFT
                    p.paragraph_format.space_after = Pt(2)
                    _set_font(p.add_run(value), size=13, bold=r == 0)
            doc.add_paragraph().paragraph_format.space_after = Pt(0)
        elif b.kind == "item" and plan.word_lists:
            p = doc.add_paragraph(style="List Bullet")
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            p.add_run(b.text)
        else:
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            p.paragraph_format.first_line_indent = Cm(1)
            if b.lead:
                _set_font(p.add_run(b.lead), bold=True)
            p.add_run(b.lines()[0][len(b.lead):])

    doc.add_paragraph().paragraph_format.space_after = Pt(0)
    closing = doc.add_table(rows=1, cols=2)
    _no_borders(closing)
    _widths(closing, (8.0, 8.5))
    _keep_row_whole(closing.rows[0])
    left, right = closing.rows[0].cells
    first = True
    for line in plan.recipients:
        p = left.paragraphs[0] if first else left.add_paragraph()
        first = False
        p.paragraph_format.space_after = Pt(0)
        head = line == "Nơi nhận:"
        _set_font(p.add_run(line), size=12 if head else 11, bold=head, italic=head)
    sig = plan.signature
    lines = [(x, 14, True, False) for x in sig[:-2]]
    lines += [("", 14, False, False), (sig[-2], 14, False, True), ("", 14, False, False), (sig[-1], 14, True, False)]
    _cell_lines(right, lines)

    _page_field(section.footer.paragraphs[0])
    props = doc.core_properties
    props.created = props.modified = FIXED_TIME.replace(tzinfo=None)
    props.last_printed = FIXED_TIME.replace(tzinfo=None)
    props.author = props.last_modified_by = ""
    props.revision = 1
    props.title = "Báo cáo"
    buf = io.BytesIO()
    doc.save(buf)
    path.write_bytes(_stable_zip(buf.getvalue()))


# ----------------------------------------------------------------------------------------------------
# .pdf (fpdf2) and scans
# ----------------------------------------------------------------------------------------------------

def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def write_pdf(plan: Plan, path: Path) -> None:
    """An A4 PDF: DejaVu Serif, justified paragraphs that wrap across lines and pages, the header block
    as two columns, a bordered table, '- N -' at the foot of each page and the number/symbol as a
    running header on pages 2+ (page furniture a reader must drop)."""
    from fpdf import FPDF, FontFace
    from fpdf.enums import XPos, YPos

    running = plan.number

    class Report(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font("Serif", "I", 9)
                self.set_xy(self.l_margin, 10)
                self.cell(0, 5, running, align="R")
                self.set_xy(self.l_margin, self.t_margin)

        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("Serif", "", 10)
            self.cell(0, 6, f"- {self.page_no()} -", align="C")

    pdf = Report(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_producer("doc_corpus")
    fonts = _font_dir()
    for style, file in (("", "DejaVuSerif.ttf"), ("B", "DejaVuSerif-Bold.ttf"), ("I", "DejaVuSerif-Italic.ttf"),
                        ("BI", "DejaVuSerif-BoldItalic.ttf")):
        pdf.add_font("Serif", style, str(fonts / file))
    pdf.set_margins(30, 20, 15)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    size, lh = 12.0, 6.2

    # header block: left column, then right column, side by side
    top = pdf.get_y()
    lx, lw, rx, rw = pdf.l_margin, 72.0, pdf.l_margin + 72.0, pdf.w - pdf.r_margin - (pdf.l_margin + 72.0)
    pdf.set_xy(lx, top)
    for line in plan.left():
        pdf.set_font("Serif", "B" if line == plan.issuer else "", 11)
        pdf.set_x(lx)
        pdf.multi_cell(lw, 5.5, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if line == plan.issuer and not plan.star:
            mid = lx + lw / 2
            pdf.line(mid - 12, pdf.get_y() + 0.6, mid + 12, pdf.get_y() + 0.6)
            pdf.set_y(pdf.get_y() + 1.5)
    left_end = pdf.get_y()
    pdf.set_xy(rx, top)
    for i, line in enumerate(plan.national):
        pdf.set_font("Serif", "B", 10 if i == 0 and len(plan.national) > 1 else 11)
        pdf.set_x(rx)
        pdf.multi_cell(rw, 5.5, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    width = pdf.get_string_width(plan.national[-1])
    mid = rx + rw / 2
    pdf.line(mid - width / 2, pdf.get_y() + 0.6, mid + width / 2, pdf.get_y() + 0.6)
    pdf.set_y(pdf.get_y() + 4)
    pdf.set_font("Serif", "I", 11)
    pdf.set_x(rx)
    pdf.multi_cell(rw, 5.5, plan.place_date, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(left_end, pdf.get_y()) + 8)

    pdf.set_font("Serif", "B", 14)
    pdf.cell(0, 7, "BÁO CÁO", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Serif", "B", 12.5)
    pdf.multi_cell(0, 6.2, plan.subject, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if plan.note:
        pdf.set_font("Serif", "I", 12)
        pdf.multi_cell(0, 6.2, plan.note, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    def paragraph(lead: str, text: str, indent: float, style: str = "") -> None:
        with pdf.text_columns(text_align="J", line_height=1.3) as cols, cols.paragraph(first_line_indent=indent,
                                                                      bottom_margin=2) as p:
            if lead:
                pdf.set_font("Serif", style or "B", size)
                p.write(lead)
            pdf.set_font("Serif", style, size)
            p.write(text)

    for b in plan.blocks:
        if b.kind == "heading":
            if pdf.will_page_break(3 * lh):
                pdf.add_page()
            style = "B" if b.level == 1 else "BI"
            paragraph(b.lead, b.text, 10, style)
        elif b.kind == "item":
            paragraph("", f"- {b.text}", 10)
        elif b.kind == "table":
            pdf.set_font("Serif", "", 11)
            with pdf.table(col_widths=(12, 103, 50), repeat_headings=0, line_height=5.6,
                           text_align=("CENTER", "LEFT", "LEFT"), first_row_as_headings=True,
                           headings_style=FontFace(emphasis="BOLD")) as table:
                for r, row in enumerate(b.rows):
                    cells = table.row()
                    for value in row:
                        if r == 0:
                            pdf.set_font("Serif", "B", 11)
                        cells.cell(value)
                    pdf.set_font("Serif", "", 11)
            pdf.ln(3)
        else:
            paragraph(b.lead, b.text, 10)

    # closing: "Nơi nhận" on the left, the signature on the right
    pdf.ln(4)
    if pdf.will_page_break(52):
        pdf.add_page()
    top = pdf.get_y()
    lw, rx = 80.0, pdf.l_margin + 80.0
    rw = pdf.w - pdf.r_margin - rx
    pdf.set_xy(pdf.l_margin, top)
    for line in plan.recipients:
        head = line == "Nơi nhận:"
        pdf.set_font("Serif", "BI" if head else "", 10.5 if head else 9.5)
        pdf.multi_cell(lw, 5, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(rx, top)
    for line in plan.signature[:-2]:
        pdf.set_font("Serif", "B", 11.5)
        pdf.set_x(rx)
        pdf.multi_cell(rw, 6, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(pdf.get_y() + 6)
    pdf.set_font("Serif", "I", 11)
    pdf.set_x(rx)
    pdf.multi_cell(rw, 6, plan.signature[-2], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(pdf.get_y() + 10)
    pdf.set_font("Serif", "B", 11.5)
    pdf.set_x(rx)
    pdf.multi_cell(rw, 6, plan.signature[-1], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    path.write_bytes(bytes(pdf.output()))


def write_scan(pdf_path: Path, path: Path, rng: random.Random, work: Path) -> int:
    """An image-only PDF as a scanner makes it: pages rendered at 200 dpi in grey, turned by up to
    0.5°, with grey noise. Returns the number of pages."""
    import numpy as np
    from fpdf import FPDF
    from PIL import Image

    work.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", str(pdf_path), str(work / "page")],
                       check=True, capture_output=True)
        pages = sorted(work.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        out = FPDF(unit="pt", format="A4")
        out.set_creation_date(FIXED_TIME)
        out.set_producer("doc_corpus scan")
        out.set_image_filter("DCTDecode")
        out.set_auto_page_break(False)
        noise = np.random.default_rng(rng.randrange(2**32))
        for page in pages:
            with Image.open(page) as src:
                img = src.convert("L")
            angle = rng.choice([-1, 1]) * rng.uniform(0.15, 0.5)
            img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
            arr = np.asarray(img, dtype=np.int16) - 6  # paper a little grey
            arr = arr + noise.normal(0.0, 9.0, arr.shape).round().astype(np.int16)
            img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L")
            out.add_page()
            out.image(img, x=0, y=0, w=out.w, h=out.h)
        path.write_bytes(bytes(out.output()))
        return len(pages)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------------------------------------------
# build
# ----------------------------------------------------------------------------------------------------

def dev_names(dev: Path) -> list[str]:
    return sorted(p.name[: -len(".gold.json")] for p in dev.glob("*.gold.json") if (dev / (p.name[:-10] + ".txt")).exists())


def _clean(folder: Path) -> None:
    """Remove what an earlier build wrote (a new seed may scan other reports)."""
    if folder.is_dir():
        for p in folder.iterdir():
            if p.is_file() and p.name.endswith((".docx", ".pdf", ".txt", ".gold.json")):
                p.unlink()


def build(dev: Path = DEV, out: Path = OUT, seed: int = 7, scanned: int = 8,
          names: Sequence[str] | None = None) -> dict[str, Any]:
    """Write the corpus; returns a summary (documents, scanned names, tables, pages of scans)."""
    all_names = dev_names(dev)
    chosen = [n for n in all_names if names is None or n in names]
    if names is not None and len(chosen) != len(set(names)):
        raise SystemExit(f"không có gold cho: {sorted(set(names) - set(chosen))}")
    scan = set(random.Random(seed).sample(chosen, min(scanned, len(chosen))))
    folders = {k: out / k for k in KINDS}
    for folder in folders.values():
        _clean(folder)
        folder.mkdir(parents=True, exist_ok=True)
    tables = 0
    scan_pages = 0
    for name in chosen:
        gold_bytes = (dev / f"{name}.gold.json").read_bytes()
        gold = json.loads(gold_bytes)
        text = nfc((dev / f"{name}.txt").read_text(encoding="utf-8"))
        plan = plan_document(name, gold, text, seed)
        tables += any(b.kind == "table" for b in plan.blocks)
        body = "\n".join(plan.lines()) + "\n"
        for kind in ("docx", "pdf") + (("scan",) if name in scan else ()):
            (folders[kind] / f"{name}.gold.json").write_bytes(gold_bytes)
            (folders[kind] / f"{name}.txt").write_text(body, encoding="utf-8")
        write_docx(plan, folders["docx"] / f"{name}.docx")
        write_pdf(plan, folders["pdf"] / f"{name}.pdf")
        if name in scan:
            rng = random.Random(f"{seed}:scan:{name}")
            scan_pages += write_scan(folders["pdf"] / f"{name}.pdf", folders["scan"] / f"{name}.pdf", rng,
                                     out / f".work-{name}")
    return {"documents": len(chosen), "scanned": sorted(scan), "with_table": tables, "scan_pages": scan_pages}


# ----------------------------------------------------------------------------------------------------
# score
# ----------------------------------------------------------------------------------------------------

def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def score_kind(gold_dir: Path, read_as: str | None, timeout: float = 120.0) -> dict[str, Any]:
    """One run of the scorer over a folder; the scorer's JSON totals, or the error when it failed."""
    cmd = f"{shlex.quote(_python())} -m summariser --json" + (f" --read-as {read_as}" if read_as else "") + " {files}"
    proc = subprocess.run([_python(), str(SCORER), "--gold-dir", str(gold_dir), "--json", "--timeout", str(timeout),
                           "--cmd", cmd], capture_output=True, text=True, cwd=ROOT)
    fails = [line for line in proc.stderr.splitlines() if line.startswith("FAIL")]
    try:
        report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (proc.stderr.strip() or proc.stdout.strip())[-300:] or f"exit {proc.returncode}"}
    report["first_failure"] = fails[0][:300] if fails else None
    return report


def score(out: Path = OUT, kinds: Sequence[str] = ("docx", "pdf", "scan"), dev: Path = DEV) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"kind": "dev (text)", **score_kind(dev, None)}]
    for kind in kinds:
        folder = out / kind
        if not any(folder.glob("*.gold.json")):
            rows.append({"kind": kind, "error": f"no documents in {folder}: run build first"})
            continue
        rows.append({"kind": kind, **score_kind(folder, KINDS[kind])})
    return rows


def render_table(rows: Sequence[dict[str, Any]]) -> str:
    head = ["kind", "documents", "failures", "score", "res/short/task F1", "figure recall", "unit/date/period",
            "numbers not in source"]
    body: list[list[str]] = []
    for r in rows:
        if "error" in r:
            body.append([r["kind"], "-", "-", "error: " + str(r["error"]).replace("\n", " ")[:120], "", "", "", ""])
            continue
        meta = r["meta_accuracy"]
        body.append([r["kind"], str(r["documents"]), str(r["failures"]), f"{r['score']:.3f}",
                     "/".join(f"{r[s]['f1']:.3f}" for s in ("results", "shortcomings", "tasks")),
                     f"{r['figure_recall']:.3f}", "/".join(f"{meta[k]:.3f}" for k in ("unit", "date", "period")),
                     str(r["unsupported_numbers"])])
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    notes = [f"{r['kind']}: {r['first_failure']}" for r in rows if r.get("first_failure")]
    return "\n".join(lines + (["", "first failure per kind:", *notes] if notes else []))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="lay the dev reports out as .docx, .pdf and scanned .pdf")
    b.add_argument("--dev", type=Path, default=DEV)
    b.add_argument("--out", type=Path, default=OUT)
    b.add_argument("--seed", type=int, default=7)
    b.add_argument("--scanned", type=int, default=8)
    b.add_argument("--names", default=None, help="comma-separated NAMEs (default: every report with gold)")
    s = sub.add_parser("score", help="score the pipeline on each kind and on the plain dev set")
    s.add_argument("--out", type=Path, default=OUT)
    s.add_argument("--dev", type=Path, default=DEV)
    s.add_argument("--kinds", default="docx,pdf,scan")
    s.add_argument("--json", action="store_true", help="the rows as JSON")
    args = ap.parse_args(argv)
    if args.command == "build":
        if not args.dev.is_dir():
            print(f"không thấy thư mục dev: {args.dev}", file=sys.stderr)
            return 2
        names = [n.strip() for n in args.names.split(",") if n.strip()] if args.names else None
        summary = build(args.dev, args.out, seed=args.seed, scanned=args.scanned, names=names)
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        print(f"loại không hợp lệ: {unknown} (chọn trong {sorted(KINDS)})", file=sys.stderr)
        return 2
    rows = score(args.out, kinds, args.dev)
    print(json.dumps(rows, ensure_ascii=False) if args.json else render_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
