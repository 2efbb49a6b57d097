"""Figures: a number with its unit exactly as written, what it measures, and its parsed value.

Vietnamese number format: "." groups thousands, "," is the decimal mark ("8.458.730", "77,9").
Dates, periods, years, ordinals and document numbers ("Nghị quyết số 95-NQ/TU") are not figures.
The figure text is always a slice of the cleaned text, so its digits are those of the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summariser.fastre import ci
from summariser.normalise import LOWER

# One number token, the way the scorer and a reader see it: "8.458.730", "12,6", "13/18", "10/11/2023".
NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_APPROX = ci(r"(?:gần như|trên dưới|chưa đến|chưa tới|xấp xỉ|khoảng|gần|hơn|trên|dưới|ngót|tới|đến)\s+$")
_APPROX_SHOWN = {"gần", "hơn", "trên", "khoảng", "xấp xỉ", "dưới", "chưa đến", "chưa tới", "ngót", "gần như",
                 "trên dưới"}
_MULTIPLIER = r"(?:nghìn|ngàn|triệu|tỷ|tỉ|vạn)"
_MEASURE = (
    r"(?:đồng|USD|usd|đô la|ha|héc-ta|hécta|hecta|km2|km²|km|m2|m²|m3|m³|mét|m|kg|tấn|tạ|lít|MW|kW|kWh|GWh|"
    r"con|lượt người|lượt|người|hộ|lao động|doanh nghiệp|dự án|công trình|thôn|bản|tổ dân phố|xã|phường|"
    r"thị trấn|tổ chức đảng|tổ chức cơ sở đảng|chi bộ|đảng viên|quần chúng|học sinh|sinh viên|trường|lớp|"
    r"phòng học|tiêu chí|nhiệm vụ|chỉ tiêu|sản phẩm|cơ sở|hợp tác xã|HTX|căn|nhà|ngôi nhà|hồ sơ|đơn|vụ|"
    r"ca|cây|tuyến|cuộc|lớp học|giường bệnh|bác sĩ|thẻ|suất|phần quà|xuất|tổ hợp tác|trang trại|gia trại|"
    r"mô hình|câu lạc bộ|đoàn|văn bản|thủ tục|điểm|giờ|đơn vị|cơ quan|cán bộ|hội viên|đoàn viên|"
    r"thành viên|nghị quyết|tờ trình|báo cáo|chương trình|ý kiến|kiến nghị|cử tri|thanh niên|tân binh|"
    r"gia đình|hộ gia đình|hộ nghèo|hộ cận nghèo|trẻ em|bệnh nhân|lượt khách|khách|phương tiện|sự kiện)"
)
_UNIT = re.compile(
    rf"(?:\s?%|\s?{_MULTIPLIER}(?:\s{_MEASURE})?|\s?{_MEASURE})(?:\s?/\s?(?:xã|người|hộ|năm|tháng|ha|km|lao động))?(?!\w)"
)
_BEFORE_SKIP = ci(
    r"(?:tháng|năm|ngày|quý|lần thứ|thứ|khóa|kỳ|số|giai đoạn|nhiệm kỳ|điều|khoản|mục|phần|T\.Ư|TW|"
    r"nghị quyết|chỉ thị|kết luận|quyết định|kế hoạch|thông báo|công văn|tờ trình|đề án|phương châm|lúc|"
    r"vào lúc|đường|quốc lộ|tỉnh lộ|QL|ĐT|tổ|khu|khối|xóm|ấp|đội|phường|quận|lô|phòng|sáng|chiều|tối|"
    r"trưa|đêm|hôm|Sáng|Chiều|Tối|Ngày)\s*$")
_AFTER_SKIP = re.compile(
    r"^(?:\s?(?:tháng|năm|ngày|giờ|tuần|quý|lần|kỳ|phút|h\b|h\d|tại chỗ|cùng)|-[A-ZĐ]|\s?[-–]\s?\d{4}|:\d)"
)
_COUNT_VERB = ci(
    r"(?:đạt|có|được|kết nạp|thêm|lên|tổng số|gồm|với|cho|tăng|giảm|là|bằng|kiểm tra|giám sát|đối với|"
    r"tiếp nhận|giải quyết|xử lý|phát hiện|hỗ trợ|thu hút|thành lập mới|thành lập|công nhận|xây dựng|"
    r"tổ chức|cấp|trồng|mở|đào tạo|khám|tiêm|tặng|trao|vận động|huy động|chiếm|còn)\s+(?:\S+\s+)?$"
)
_LABEL_TRAILING = ci(
    r"(?:\s*[,(]?\s*(?:ước đạt|ước|đạt|được|là|có|bằng|tăng|giảm|lên|đối với|với|gồm|tổng cộng|chiếm|khoảng|"
    r"thu|đến nay|tới|đến|còn|so với|trong đó|nâng tổng số|nâng tổng|lên tới))+\s*$")
_LEAD_FILLER = ci(r"^(?:và|,|;|\(|đồng thời|trong đó|riêng|cụ thể|qua đó|kết quả)\s*,?\s*")


_RANGE_BEFORE = re.compile(r"(?<![\d.,/])\d+(?:,\d+)?\s?[-–]\s?$")


@dataclass(frozen=True, slots=True)
class Found:
    """A figure located in a clause: offsets relative to the clause text."""

    start: int
    end: int
    text: str
    value: float | None
    unit: str | None
    label: str | None


def parse_number(token: str) -> float | None:
    """ "8.458.730" -> 8458730.0, "77,9" -> 77.9, "1.234,5" -> 1234.5; None if not a plain number."""
    if "/" in token:
        return None
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", token):
        return float(token.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d+(?:,\d+)?", token):
        return float(token.replace(",", "."))
    if re.fullmatch(r"\d+\.\d{1,2}", token):  # an English-style decimal ("3.5%")
        return float(token)
    return None


def _is_year(token: str) -> bool:
    return len(token) == 4 and token.isdigit() and 1900 <= int(token) <= 2100


_DATE_BEFORE = ci(r"(?:ngày|sáng|chiều|tối|trưa|đêm|hôm|tháng|số|đến|từ)\s*$")


def _ratio(token: str, before: str, after: str) -> bool:
    """ "13/18" is a ratio; "9/10" after "Chiều" or "10/2023" are dates."""
    parts = token.split("/")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return False
    a, b = int(parts[0]), int(parts[1])
    if len(parts[1]) == 4 or a > b or b == 0:
        return False
    if re.search(r"(?:ngày|sáng|chiều|tối|trưa|đêm|hôm|tháng|số|đến|từ)\s*$", before):
        return False
    return b > 12 or a > 31 or bool(re.match(rf"\s?[{LOWER}]{{2,}}", after))


def find_figures(text: str) -> list[Found]:
    """All figures in a clause, in order."""
    out: list[Found] = []
    for m in NUMBER.finditer(text):
        token = m.group(0)
        before = text[max(0, m.start() - 30): m.start()]
        after = text[m.end(): m.end() + 40]
        if m.start() and (text[m.start() - 1].isalpha() or text[m.start() - 1] in "-/"):
            continue  # "T.Ư 4"? no: "KT-XH2", "NQ/TU"
        if after[:1].isalpha() and not _UNIT.match(after):
            continue  # part of a code ("3G", "4B")
        start = m.start()
        unit: str | None = None
        end = m.end()
        if "/" in token:
            if not _ratio(token, before, after):
                continue
            value = float(token.split("/")[0])
        else:
            if token.count(",") > 1 or (token.count(".") and parse_number(token) is None):
                continue
            if _BEFORE_SKIP.search(before) or _AFTER_SKIP.match(after):
                continue
            value = parse_number(token)
            um = _UNIT.match(after)
            if um:
                unit = um.group(0).strip().lstrip("/").strip() or None
                end = m.end() + um.end()
            elif _is_year(token) or not (_COUNT_VERB.search(before) and re.match(rf"\s[{LOWER}]", after)):
                continue
        rng = _RANGE_BEFORE.search(text[:start])
        if rng and unit is not None:
            start = rng.start()  # "từ 7 - 7,5%": the range is the figure
            value = None
        am = _APPROX.search(text[:start])
        if am and am.group(0).strip().lower() in _APPROX_SHOWN:
            start = am.start()
        out.append(Found(start, end, text[start:end], value, unit, None))
    labelled: list[Found] = []
    for f in out:
        prev = labelled[-1] if labelled else None
        if prev and text[prev.end: f.start].strip(" ,") in ("và", "") and prev.label:
            label: str | None = prev.label
        else:
            label = _label(text, f, out)
        labelled.append(Found(f.start, f.end, f.text, f.value, f.unit, label))
    return labelled


_VERB = re.compile(
    r"\s(?:ước đạt|ước|đạt|tăng|giảm|bằng|chiếm|được|là|có|lên|gồm|thu)(?=\s)", re.IGNORECASE
)


def _label(text: str, fig: Found, figs: list[Found]) -> str | None:
    """What the figure measures: the words before it, else the clause's subject and what follows."""
    seg_start = max(text.rfind(";", 0, fig.start), text.rfind(":", 0, fig.start)) + 1
    prev_end = max((f.end for f in figs if seg_start <= f.end <= fig.start), default=seg_start)
    before = text[prev_end: fig.start]
    open_paren = before.rfind("(")
    va = before.rfind(" và ")
    own_start = max(before.rfind(","), va + 3 if va >= 0 else -1,
                    open_paren if open_paren > before.rfind(")") else -1)
    own = _clean_label(before[own_start + 1:] if own_start >= 0 else before)
    if len(own.split()) >= 2:
        return own
    head = text[seg_start: fig.start]
    verb = _VERB.search(" " + head)
    subject = _clean_label(head[: verb.start()] if verb else head.split(",")[0])
    if len(subject.split()) > 10:
        subject = ""
    relation = re.search(r"(tăng|giảm|đạt|bằng|chiếm)\s+\S*\s*$", before)
    tail = re.split(r"[,;:()]", text[fig.end:], maxsplit=1)[0].strip()
    tail = " ".join(tail.split()[:6])
    detail = " ".join(p for p in ((relation.group(1) if relation else ""), tail) if p)
    if subject and detail:
        return f"{subject} – {detail}"
    return subject or detail or own or None


def _clean_label(text: str) -> str:
    text = text.strip(" ,;:(")
    trailing = _LABEL_TRAILING.search(text)
    text = text[: trailing.start()].strip(" ,;:(") if trailing else text
    lead = _LEAD_FILLER.match(text)
    text = text[lead.end():].strip(" ,;:(") if lead else text
    words = text.split()
    return " ".join(words[-12:])
