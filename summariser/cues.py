"""Discourse cues of Vietnamese meeting reports, as compiled patterns.

Reports follow one rhetoric whatever the level or year: results first, then "Bên cạnh những kết quả
đạt được ... vẫn còn ..." for shortcomings, then "nhiệm vụ trọng tâm ... thời gian tới" or a leader's
"đề nghị / yêu cầu" for tasks; the meeting itself (who attended, who chaired, what was discussed) is
procedure, not content. The patterns here name those moves; `sections` applies them.
"""

from __future__ import annotations

import re
from typing import Final

from summariser.fastre import Guarded, ci

# Forward-looking time: the next period's tasks.
FORWARD: Final = ci(
    r"thời gian tới|(?:\d+|những|các|mấy) tháng cuối năm|từ nay (?:đến|tới) (?:cuối|hết) năm|"
    r"\b(?:năm|tháng|quý|giai đoạn|nhiệm kỳ) tới\b|sắp tới|phương hướng|thời gian còn lại|"
    r"(?:nhiệm vụ|kế hoạch|chương trình)(?: công tác)?(?: trọng tâm)? (?:năm|tháng|quý) (?:\d{1,2}/)?\d{4}(?= ?[,:;.]| (?:như|gồm|là|sau))")
# A leader's or the body's request: what the next period must do.
_NOT_A_REQUEST_AFTER: Final = ("theo", "đáp ứng", "đúng", "với", "các", "những", "đạt", "chưa", "về", "đủ", "mọi")
REQUEST: Final = Guarded(
    r"(?:(?:đề nghị|yêu cầu)(?!\s*(?:[,.;:)]|$|của|đề ra|đặt ra|nhiệm vụ\b))|phấn đấu|nhấn mạnh|lưu ý|chỉ đạo các cấp|"
    r"đề ra (?:một số|các|những) (?:nhiệm vụ|giải pháp|chỉ tiêu)|"
    r"giao (?:cho )?(?=(?:Ban|UBND|Ủy ban|Thường trực|Đảng ủy|các|cơ quan|Văn phòng|Phòng|HĐND|MTTQ|Huyện ủy|Tỉnh ủy|ngành))"
    r")",
    _NOT_A_REQUEST_AFTER,
)
# Verbs after which the addressees of a task come, then the task ("yêu cầu các cấp ... tăng cường").
DIRECTIVE: Final = Guarded(
    r"(?:(?:đề nghị|yêu cầu)(?!\s*(?:[,.;:)]|$|của|đề ra|đặt ra|nhiệm vụ\b))|nhấn mạnh|lưu ý|chỉ đạo(?= các cấp)|"
    r"xác định(?= (?:từ nay|thời gian tới|trong (?:thời gian|những tháng|năm)|(?:các |những |một số )?nhiệm vụ))|"
    r"giao (?:cho )?(?=(?:Ban|UBND|Ủy ban|Thường trực|Đảng ủy|các|cơ quan|Văn phòng|Phòng|HĐND|MTTQ|Huyện ủy|Tỉnh ủy|ngành)))",
    _NOT_A_REQUEST_AFTER[:6],
)
REQUEST_STRICT: Final = ci(r"\b(?:đề nghị|yêu cầu|giao|phấn đấu)\b")
# Noun cues of a list of tasks ("nhiệm vụ trọng tâm: ...").
TASK_NOUN: Final = ci(r"(?<!\d )(?:nhiệm vụ|giải pháp)(?:, giải pháp| công tác)? trọng tâm|nhiệm vụ, giải pháp|"
                       r"nhiệm vụ cần (?:tập trung )?thực hiện")
# Shortcomings: contrast openers and the nouns that announce them.
CONTRAST_START: Final = ci(
    r"^(?:Bên cạnh (?:những|các) (?:kết quả|thành tích|mặt)|Tuy nhiên|Tuy vậy|Tuy có|Song|Nhưng|Mặc dù|"
    r"Bên cạnh đó|Hạn chế|Tồn tại|Khó khăn|Một số hạn chế|Những hạn chế|Mặt hạn chế)")
SHORT_NOUN: Final = ci(
    r"\b(?:hạn chế|tồn tại|yếu kém|khuyết điểm|bất cập|vướng mắc|khó khăn|thách thức|mặt chưa được)\b")
# Words before a shortcoming noun that make it an action or a reference ("tháo gỡ khó khăn").
SHORT_NOUN_GUARD: Final = ci(
    r"(?:khắc phục|tháo gỡ|giải quyết|vượt qua|vượt|tháo|hỗ trợ|khắc phục những|khắc phục các|"
    r"tháo gỡ những|tháo gỡ các|đối với những|đối với các|những mặt|để|nhằm|đề xuất|giúp|cho)\s*(?:những |các |mọi |một số )?$")
SHORT_NOUN_VERB_AFTER: Final = ci(r"^\s*(?:tối đa|thấp nhất|đến mức|việc|tình trạng|sử dụng)")
# Clause-level markers of something not done, late or low.
NEGATIVE: Final = ci(
    r"\bchưa\b(?! (?:từng|bao giờ))|còn chậm|chậm tiến độ|chậm so với|\bchậm\b|còn thấp|còn hạn chế|"
    r"còn nhiều|còn khó khăn|vẫn còn|vẫn xảy ra|còn xảy ra|còn tồn tại|còn để xảy ra|gặp khó khăn|"
    r"không đạt|không đảm bảo|không bảo đảm|\bthiếu\b|yếu kém|(?<!chủ )\byếu\b(?! tố)|bất cập|vướng mắc|"
    r"diễn biến phức tạp|còn phức tạp|tiềm ẩn|giảm so với cùng kỳ|hạn chế|tồn tại|khó khăn|sai phạm|vi phạm|"
    r"đạt thấp|thấp hơn|chỉ đạt|mới chỉ đạt|còn cao|kém hiệu quả|trái phép|chưa cao|ô nhiễm|quá tải")
NEGATIVE_GUARD: Final = ci(
    r"(?:khắc phục|tháo gỡ|giải quyết|vượt qua|xử lý|phòng ngừa|ngăn chặn|không để|kịp thời|đẩy lùi)"
    r"(?:\s+(?:các|những|mọi|kịp thời|dứt điểm|triệt để|có hiệu quả|hiệu quả))*\s*$")
# Results announced: "đạt được kết quả tích cực trên các lĩnh vực:", "Trong 9 tháng đầu năm, ...".
RESULT_CUE: Final = ci(
    r"kết quả (?:đạt được|tích cực|quan trọng|nổi bật|khả quan)|đạt (?:được )?(?:nhiều |những |một số )?kết quả|"
    r"^(?:Về kết quả|Kết quả|Trong|Qua|Sau|Tính đến|Từ đầu năm)\b(?: (?:\d+|những) (?:tháng|năm))?(?! cuối)")
# Procedure of the meeting itself.
# Used as a yes/no test only, so an alternative is written in its shortest form that matches where the
# longer one would: "\b(?:tham dự|dự) X" as "\bdự X", "(?:các )?đại biểu" as "đại biểu", "chủ trì( hội
# nghị)?\b" as "chủ trì\b" (a plain word first lets the regex engine skip to it).
PROCEDURAL: Final = ci(
    r"^(?:Dự|Tham dự|Đến dự|Cùng dự|Về dự|Cùng tham dự|Cùng đi|Tới dự)\b"
    r"|\b(?:chủ trì|chủ tọa|điều hành)\b"
    r"|\bdự (?:hội nghị|kỳ họp|buổi|phiên|lễ|cuộc họp)"
    r"|\bcó sự tham dự\b"
    r"|\btổ chức (?:hội nghị|kỳ họp|phiên họp|cuộc họp|sơ kết|tổng kết|buổi|lễ|giao ban|họp)"
    r"|\b(?:khai mạc|bế mạc)\b"
    r"|^(?:Hội nghị|Kỳ họp|Phiên họp|Cuộc họp)(?: lần này| cũng| đã| tập trung| dành thời gian| được| dự kiến| sẽ)*"
    r" (?:xem xét|thảo luận|nghe|thông qua|biểu quyết|cho ý kiến|đánh giá|bàn|tiến hành|diễn ra|kết thúc|"
    r"quán triệt|tổ chức|đã|bế mạc|khai mạc|nhằm|là dịp|thống nhất|nhất trí|kết luận|ban hành|quyết định)"
    r"|đại biểu(?: tham dự| dự hội nghị| dự họp| HĐND)?(?: đã)?(?: tập trung)?(?: cùng)?"
    r" (?:nghe|thảo luận|trao đổi|tham luận|đóng góp|phát biểu|làm rõ|phân tích|tham gia|cho ý kiến|thống nhất)"
    r"|^(?:Tại (?:hội nghị|kỳ họp|phiên họp|buổi|cuộc họp)|Trong khuôn khổ|Cũng tại|Trước đó|Kết thúc hội nghị|"
    r"Kết thúc kỳ họp|Phát biểu (?:khai mạc|chào mừng|chỉ đạo|tại hội nghị)|Sau khi nghe)"
    r"|\b(?:trao|tặng|trao tặng|nhận)(?: \S+){0,3} (?:bằng khen|giấy khen|huân chương|huy hiệu|kỷ niệm chương|"
    r"danh hiệu|quyết định|cờ thi đua)|công tác khen thưởng|khen thưởng (?:các|cho) (?:tập thể|cá nhân)"
    r"|\bnhất trí\b|\bbiểu quyết\b|\bđã thông qua\b|\bthông qua (?:các|dự thảo|nghị quyết|tờ trình|báo cáo|chương trình)"
    r"|\bnghe (?:báo cáo|tờ trình|các báo cáo|dự thảo)|\bcho ý kiến (?:vào|về|đối với)"
    r"|\b(?:ghi nhận|đánh giá cao|biểu dương|khen ngợi|chúc mừng|cảm ơn|hoan nghênh|tiếp thu)\b"
    r"|^(?:Đây là|Đó là|Đây cũng là)\b")
# Procedure even when a request is in it: the chair asking the delegates to debate.
PROCEDURAL_STRONG: Final = ci(
    r"(?:đề nghị|yêu cầu|mong muốn|kêu gọi) (?:các |quý )?(?:vị )?đại biểu|\b(?:trao|tặng|trao tặng) (?:\S+ ){0,3}(?:bằng khen|giấy khen|huân chương)")
ATTENDANCE: Final = ci(r"^(?:Dự|Tham dự|Đến dự|Cùng dự|Về dự)\b|\b(?:tham dự|dự) (?:hội nghị|kỳ họp)")
TITLE_START: Final = re.compile(
    r"^(?:Trưởng|Phó|Chủ tịch|Bí thư|Giám đốc|Lãnh đạo|Đại diện|Các đồng chí|Đồng chí|Thủ trưởng|Chánh|"
    r"Ủy viên|Thường trực|Bí thư|Cùng|Và|Các|Chủ nhiệm)\b"
)
# Causes explain the shortcomings before them; they are not shortcomings themselves.
CAUSE: Final = ci(r"^(?:nguyên nhân|những nguyên nhân|các nguyên nhân|do nguyên nhân)\b")
# Framing that states no fact of its own.
FRAMING: Final = ci(
    r"^(?:Trong bối cảnh|Dưới sự (?:lãnh đạo|chỉ đạo)|Với sự (?:quan tâm|lãnh đạo|chỉ đạo|vào cuộc|nỗ lực)|"
    r"Qua đó,? góp phần|Góp phần|Nhìn chung|Nhìn lại|Có được (?:những )?kết quả|Đạt được (?:những )?kết quả trên|"
    r"Những kết quả (?:trên|đó)|Kết quả (?:trên|đó)|Để (?:thực hiện|đạt|hoàn thành)|Nhằm (?:thực hiện|đạt|hoàn thành))")
TASK_INTRO: Final = ci(
    r"(?:đề ra|nêu|xác định|thống nhất|nhấn mạnh|chỉ ra|đưa ra|đề xuất|bàn)\s+(?:một số|những|các|\d+)\s+"
    r"(?:nhóm\s+)?(?:nhiệm vụ|giải pháp|chỉ tiêu|nội dung)")
# A list follows: the head before ":" announces it.
_LIST_INTRO_ENDS: Final = frozenset(
    """như|sau|sau đây|là|gồm|bao gồm|cụ thể|cụ thể là|đó là|các lĩnh vực|trên các lĩnh vực|chủ yếu|trọng tâm|
    kết quả|hạn chế|tồn tại|khó khăn|vướng mắc|yếu kém|nhiệm vụ|giải pháp|nội dung|tập trung|vấn đề|
    thời gian tới|cuối năm""".replace("\n", "").replace("    ", "").split("|")
)


def list_intro(head: str) -> bool:
    """The words before ":" announce a list ("... trên các lĩnh vực:", "... như:", "... năm 2023:")."""
    tail = head.rstrip(" ,").lower().split()[-4:]
    if tail and len(tail[-1]) == 4 and tail[-1].isdigit():
        return True
    return any(" ".join(tail[-n:]) in _LIST_INTRO_ENDS for n in range(1, min(4, len(tail)) + 1))


# Continuations that belong to the clause before them ("...; lũy kế 8 tháng ...").
CONTINUATION: Final = ci(r"^(?:lũy kế|nâng tổng số|nâng tổng|trong đó|riêng|bao gồm|gồm|tương đương)\b")

# Verbs that start a task once the addressee is passed ("các cấp, các ngành | tăng cường ...").
ACTION: Final = ci(
    r"\b(?:tập trung|tiếp tục|tăng cường|đẩy mạnh|đẩy nhanh|chú trọng|quan tâm|thực hiện|triển khai|nâng cao|"
    r"phát huy|đưa ra|xây dựng|chỉnh sửa|hoàn thiện|hoàn thành|rà soát|kiểm tra|đôn đốc|chỉ đạo|làm tốt|"
    r"bảo đảm|đảm bảo|khắc phục|giải quyết|quán triệt|củng cố|phát triển|huy động|tháo gỡ|xác định|"
    r"duy trì|đổi mới|nắm chắc|nắm bắt|theo dõi|quản lý|xử lý|phối hợp|tham mưu|chuẩn bị|ban hành|đề xuất|"
    r"sắp xếp|kiện toàn|siết chặt|ưu tiên|bố trí|thu hút|tuyên truyền|vận động|giữ vững|chủ động|kịp thời|"
    r"quyết liệt|thường xuyên|nghiêm túc|khẩn trương|tích cực|chăm lo|hỗ trợ|cải thiện|cải cách|ứng dụng|"
    r"đầu tư|tăng thu|giải ngân|hướng dẫn|giám sát|đánh giá|làm rõ|cụ thể hóa|phân công|nghiên cứu|"
    r"rà soát|tổ chức|phòng|chống|sớm|tiến hành|bám sát|lãnh đạo|tăng|đưa|gắn|mở rộng|đổi mới|hoàn chỉnh|"
    r"nắm|kiểm soát|ngăn chặn|phấn đấu|tạo|tổng kết|sơ kết|thu hoạch|chăm sóc|gieo trồng|vệ sinh|di dời)\b")
# Leading words that only introduce the content of a clause.
LEAD_CONNECTOR: Final = ci(
    r"^(?:Theo đó|Trong đó|Đồng thời|Bên cạnh đó|Ngoài ra|Cụ thể|Mặt khác|Qua đó|Do đó|Vì vậy|Vì thế|Tuy nhiên|"
    r"Tuy vậy|Song|Nhưng|Trước hết|Trên cơ sở đó|Từ đó|Để làm được điều đó|Kết quả(?: là| có| cho thấy)?|"
    r"Theo báo cáo(?: tại hội nghị| của [^,]{1,60})?|Báo cáo(?: của [^,]{1,60}?)? (?:nêu rõ|cho biết|nêu|chỉ rõ|khẳng định)|"
    r"Về (?:lĩnh vực |công tác |phương hướng,? |nhiệm vụ )?[^,;:]{1,40}?|Đối với [^,;:]{1,40}?|"
    r"(?:Trong|Tính đến|Đến|Từ|Sau|Qua) (?:\d+ )?(?:tháng|năm|quý|thời gian|những tháng|các tháng|giai đoạn|dịp|kỳ|"
    r"đầu năm|nay)[^,;:]{0,40}?|Năm \d{4}|Thời gian tới|Qua thảo luận|Bên cạnh những kết quả đạt được)"
    r"\s*,\s*|^Cụ thể\s+")
# The subject before a task ("huyện tập trung ...", "UBND tỉnh phấn đấu ...").
TASK_SUBJECT: Final = ci(
    r"^(?:toàn |cả )?(?:huyện|tỉnh|xã|thị xã|thành phố|phường|thị trấn|quận|"
    r"(?:UBND|Ủy ban nhân dân|HĐND|Đảng ủy|Ban Thường vụ|Thường trực)(?: (?:huyện|tỉnh|xã|thị xã|thành phố|phường|thị trấn|quận|Huyện ủy|Tỉnh ủy|Thành ủy|Thị ủy))?|"
    r"Huyện ủy|Tỉnh ủy|Thành ủy|Thị ủy|Quận ủy|Đảng bộ(?: (?:huyện|tỉnh|xã|thị xã|thành phố))?|các cấp, các ngành|các cấp ủy, chính quyền)"
    r"\s+(?=(?:sẽ |cần |phải |tiếp tục |tập trung |phấn đấu |chủ động )*(?:" + ACTION.pattern[2:] + r"))")
LEAD_FILLER: Final = ci(
    r"^(?:sẽ|cần phải|cần|phải|tiếp tục|tập trung|quyết liệt|lãnh đạo|chỉ đạo|và|đã|để|được)\b,?\s*")
