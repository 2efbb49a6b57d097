"""The speed-ups give the answers of the plain patterns they replace.

Several end-anchored regexes were replaced by backward scans, some patterns by several literal-led
ones, and the cue patterns learned to take the offset of their text in the report. Each test below
compares a fast path with the plain regex (or the plain code) on many generated strings, so an edit
of one that forgets the other fails here.
"""

import random
import re

from summariser import compress, cues, fastre, figures, metadata, pipeline, sections
from summariser.fastre import ci
from summariser.segment import paragraphs, sentences, top_level_marks

SEED = 20240601


def _strings(words: list[str], n: int, seps: tuple[str, ...] = ("", " ", "  ", ", ", "\n")) -> list[str]:
    rng = random.Random(SEED)
    return ["".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randrange(0, 9))) for _ in range(n)]


def test_coordinated_start_is_the_regex():
    plain = re.compile(r"(?:\S+\s){0,2}\S+\s*(?:,|và)\s*$")
    words = ["và", ",", " ", "x", "khó", "khăn", "vướng mắc", "xvà", "và,", ",,", "\t", "những"]
    for text in _strings(words, 4000):
        m = plain.search(text)
        assert sections._coordinated_start(text) == (m.start() if m else None), text


def test_label_trailing_scan_is_the_regex():
    # (each word whole: "ước" is not the end of "nhà nước"; the words are the module's own list)
    alternatives = "|".join(sorted(map(re.escape, figures._LABEL_TRAILING_WORDS), key=len, reverse=True))
    plain = ci(rf"(?:\s*[,(]?\s*(?<![^\W_])(?:{alternatives}))+\s*$")
    words = [*figures._LABEL_TRAILING_WORDS, "ƯỚC", "Đạt", "x", "tổng", "số", "(", ")", "xđạt"]
    for text in _strings(words, 4000, ("", " ", ", ", " (", "  ")):
        m = plain.search(text)
        fast = figures._trailing_start(text) if figures._ends_with(text, figures._LABEL_TRAILING_WORDS) else None
        assert fast == (m.start() if m else None), text


def test_words_before_a_number_are_the_regexes():
    approx = ci(r"(?:gần như|trên dưới|chưa đến|chưa tới|xấp xỉ|khoảng|gần|hơn|trên|dưới|ngót|tới|đến)\s+$")
    count_verb = ci(r"(?:đạt|có|được|kết nạp|thêm|lên|tổng số|gồm|với|cho|tăng|giảm|là|bằng|kiểm tra|giám sát|"
                    r"đối với|tiếp nhận|giải quyết|xử lý|phát hiện|hỗ trợ|thu hút|thành lập mới|thành lập|công nhận|"
                    r"xây dựng|tổ chức|cấp|trồng|mở|đào tạo|khám|tiêm|tặng|trao|vận động|huy động|chiếm|còn)"
                    r"\s+(?:\S+\s+)?$")
    words = ["gần như", "trên dưới", "hơn", "Trên", "đạt", "tổng số", "ĐẠT", "x", "ha", "thành lập mới", "\n"]
    for text in _strings(words, 4000):
        m = approx.search(text)
        assert figures._approx_before(text, len(text)) == ((m.start(), m.group(0).strip()) if m else None), text
        assert figures._count_verb_before(text) == bool(count_verb.search(text)), text


def test_year_patterns_are_the_single_regexes():
    month_year = re.compile(r"(?:tháng|[Qq]uý)\s+(?:\d{1,2}|[IV]{1,3}|[1-4])\s*/\s*(\d{4})")
    year_range = ci(r"(?:giai đoạn|nhiệm kỳ|đến|từ|trước|sau|đến hết|tới)\s*(?:năm\s*)?$")
    words = ["năm", "Năm", "cả năm", "Cả năm", "xnăm", "tháng", "quý", "Quý", "IV", "3", "/", "2023", "-", "–", "từ",
             "giai đoạn", "đến hết", "NĂM"]
    for text in _strings(words, 4000):
        spans = [(m.span(), m.groups()) for m in metadata._PERIOD_YEAR.finditer(text)]
        assert [(m.span(), m.groups()) for m in metadata._merged(metadata._PERIOD_YEAR_WORDS, text)] == spans, text
        spans = [(m.span(), m.groups()) for m in month_year.finditer(text)]
        assert [(m.span(), m.groups()) for m in metadata._merged(metadata._MONTH_YEAR, text)] == spans, text
        assert metadata._year_range_before(text) == bool(year_range.search(text)), text


def test_top_level_marks_is_the_character_walk():
    def walk(text: str, marks: str) -> list[int]:
        depth, quoted, out = 0, False, []
        for i, ch in enumerate(text):
            if ch in "([":
                depth += 1
            elif ch in ")]" and depth:
                depth -= 1
            elif ch in "“”\"":
                quoted = ch == "“" or (ch == "\"" and not quoted)
            elif ch in marks and not depth and not quoted:
                if ch == ":" and (i + 1 >= len(text) or not text[i + 1].isspace()):
                    continue
                out.append(i)
        return out

    for text in _strings([*"()[]“”\";: ,ab", "14:30", "(a;b)"], 4000, ("", " ")):
        for marks in (";", ":", ";:"):
            assert top_level_marks(text, marks) == walk(text, marks), (text, marks)


def test_cue_search_by_offset_is_the_search_of_the_text():
    rng = random.Random(SEED)
    words = ["Tuy nhiên", "còn chậm", "chưa", "hạn chế", "khó khăn", "đề nghị", "yêu cầu", "các cấp", "thời gian tới",
             "tổ chức hội nghị", "đại biểu", "thảo luận", "phấn đấu", "giao cho UBND", "nhiệm vụ trọng tâm", "Dự",
             "kết quả đạt được", "trong 9 tháng", "x", "đạt 5%", ";", ".", ","]
    for _ in range(150):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(3, 40)))
        fastre.begin(text)
        for p in paragraphs(text):
            for s in sentences(p):
                for pattern in (cues.PROCEDURAL, cues.NEGATIVE, cues.FORWARD, cues.SHORT_NOUN, cues.TASK_NOUN):
                    assert bool(pattern.search(s.text, at=s.start)) == bool(pattern.re.search(s.text.lower()))
                    at_spans = [m.span() for m in pattern.finditer(s.text, at=s.start)]
                    assert at_spans == [m.span() for m in pattern.finditer(s.text)]
                m = cues.REQUEST.search(s.text, at=s.start)
                plain = cues.REQUEST.search(s.text)
                assert (m and m.span()) == (plain and plain.span())
        fastre.reset()


def _specificity_plain(text: str, enough: int) -> int:
    """`compress.specificity` as first written: every `\\w` word of the text, lower-cased one by one."""
    count = 0
    for i, w in enumerate(re.findall(r"\w+(?:-\w+)*", text)):
        if w[0].isupper() and (i or (len(w) > 1 and w.isupper())):
            continue
        if w.lower() not in compress._NOT_SPECIFIC and w.isalpha():
            count += 1
            if count == enough:
                break
    return count


def test_specificity_by_space_runs_is_the_word_regex():
    words = ["các", "Huyện", "huyện", "KT-XH", "kt-xh", "X-Y", "Đảng", "đường", "(giao", "thông)", "12,5%",
             "İstanbul", "ıi", "ſ", "K", "ΣΑΣ", "ǅ", "x²", "½", "٣", "a_b", "UBND", "lúa", "-", "“nông”"]
    texts = _strings(words, 3000, seps=("", " ", "  ", ", ", "\t", "\u00a0", "-"))
    for text in texts:
        for enough in (0, 1, 2):
            assert compress.specificity(text, enough) == _specificity_plain(text, enough), (text, enough)


def test_droppable_search_from_the_first_needed_text_finds_every_match():
    words = ["ngày 12/3/2023", "của", "của Ban Thường vụ Tỉnh ủy", "của tỉnh", "theo chỉ đạo của", "về việc",
             "thực hiện", "Nghị quyết số 12-NQ/TU", "trên địa bàn", "tại địa bàn huyện", "(xã A)", "(", ")", "x"]
    for text in _strings(words, 4000, seps=("", " ", ", ", " , ", ",")):
        for pattern, needs, back in zip(compress._DROPPABLE, compress._DROPPABLE_NEEDS, compress._DROPPABLE_BACK,
                                        strict=True):
            begin = compress._first_start(text, needs, back)
            expected = [m.span() for m in pattern.finditer(text)]
            assert [m.span() for m in pattern.finditer(text, max(begin, 0))] == expected if begin >= 0 \
                else expected == [], (text, pattern.pattern)


def test_word_counts_of_single_spaced_text_are_the_split():
    words = ["a", "bb", "Đảng", " ", "  ", "\t", "\u00a0", "\n", "x,y", "-", ""]
    for text in _strings(words, 4000, seps=("", " ", "  ", "\t", "\u00a0")):
        assert compress.count_words(text) == len(text.split()), repr(text)
        for n in (0, 1, 3, 36):
            assert compress.words_upto(text, n) == len(text.split(None, n)), (repr(text), n)


def test_function_word_before_an_ellipsis_is_the_regex():
    plain = re.compile(
        r"(?:\b(?:và|của|các|những|với|trong|để|cho|là|được|đã|sẽ|về|tại|từ|theo|như|có|nhằm|đến|bằng)|[,;:])"
        r"\s*(?:…|\.\.\.)$")
    words = ["và", "xvà", "_và", "của", "những", "như", ",", ";", "x", "…", "...", ".", "..", " ", "\u00a0", "bằng"]
    for text in _strings(words, 6000, seps=("", " ", "  ")):
        line = text.replace("\n", " ")
        assert pipeline._function_end(line) == bool(plain.search(line)), repr(line)


def test_full_stop_only_pattern_is_the_sentence_end_pattern_without_other_marks():
    from summariser import segment

    words = ["Huyện", "đạt", ".", "..", ". ", ".”", ".)", "“Ông", "12", "(A", "tp.", "T.Ư.", "x", "\t", " "]
    for text in _strings(words, 4000):
        assert [m.span() for m in segment._STOP_END.finditer(text)] == \
            [m.span() for m in segment._SENTENCE_END.finditer(text)], repr(text)


def test_noun_before_in_a_window_is_the_regex():
    words = ["khó khăn", "vướng mắc", "và", ",", "x" * 70, "y" * 79, "z" * 81, "hạn chế", "_", " ", "  ", "(a)"]
    # (the window starting at the space between the two words, or inside the first one)
    edges = ["ab " + "y" * 77 + ", ", "abc " + "y" * 77 + ", ", "ab " + "y" * 76 + " và "]
    for text in edges + _strings(words, 4000, seps=("", " ", "  ", ", ", " và ")):
        m = sections._NOUN_BEFORE.search(text)
        assert sections._noun_before(text) == ((m.start(1), m.group(1)) if m else None), repr(text)
