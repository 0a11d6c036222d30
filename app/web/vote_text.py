"""The voting page's words in Vietnamese (default) and English.

What the notice says must be what the code does (invariant 10); tests/web and
tests/adversarial check the claims against the stored data.
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Phiếu lấy ý kiến",
        "switch": "English",
        "code_label": "Mã phiếu (in dưới mã QR)",
        "open": "Mở phiếu",
        "opening": "Đang mở phiếu…",
        "no_script": "Nếu không quét được mã QR, hãy nhập mã in trên phiếu.",
        "notice_title": "Trước khi bỏ phiếu",
        "notice_1": "Phiếu không ghi tên, không ghi số điện thoại, không ghi giờ bỏ phiếu. "
        "Máy chủ không lưu địa chỉ mạng hay thông tin máy của bạn.",
        "notice_2": "Mã trên phiếu chỉ dùng một lần và không gắn với người nào. "
        "Cơ sở dữ liệu chỉ giữ dấu băm của mã, không giữ mã.",
        "notice_3": "Người được lấy ý kiến chỉ xem kết quả tổng hợp, và chỉ khi có từ {k} phiếu "
        "trở lên. Ý kiến viết chỉ hiện khi có từ {c} phiếu trở lên, theo thứ tự ngẫu nhiên, "
        "tách khỏi điểm đánh giá của bạn.",
        "notice_4": "Đừng viết điều gì có thể làm lộ bạn là ai.",
        "unit": "Đơn vị",
        "no_opinion_hint": "Chọn một mức cho từng tiêu chí.",
        "texts_title": "Ý kiến thêm (không bắt buộc)",
        "submit": "Gửi phiếu",
        "sending": "Đang gửi…",
        "network": "Mất kết nối. Câu trả lời vẫn còn trên trang này; bấm Gửi phiếu để thử lại.",
        "receipt_title": "Phiếu của bạn đã được ghi nhận",
        "receipt_label": "Mã xác nhận",
        "receipt_note": "Ghi lại mã này. Khi đợt lấy ý kiến kết thúc, danh sách mã xác nhận được "
        "công bố để bạn kiểm tra phiếu của mình đã được tính. Mã không cho biết bạn đã chọn gì.",
        "repeated_title": "Phiếu này đã được gửi trước đó",
        "repeated": "Đây là mã xác nhận của lần gửi ấy; câu trả lời vừa nhập không được ghi "
        "thêm. Nếu bạn chưa từng gửi phiếu này, hãy báo ngay với tổ chức hội nghị: có thể "
        "người khác đã dùng mã của bạn.",
        "close_page": "Bạn có thể đóng trang này.",
        "try_again": "Nhập lại mã",
        "mistyped_code": "Mã phiếu có chỗ gõ sai. Hãy đối chiếu từng ký tự với mã in trên phiếu.",
        "unknown_code": "Không có phiếu nào mang mã này.",
        "already_used": "Phiếu này đã được dùng để bỏ phiếu.",
        "not_open": "Đợt lấy ý kiến chưa mở.",
        "closed": "Đợt lấy ý kiến đã kết thúc.",
        "batch_voided": "Phiếu này đã bị thu hồi. Hãy xin phiếu khác tại hội nghị.",
        "invalid_answers": "Còn câu chưa trả lời hoặc trả lời chưa hợp lệ: hãy xem phần được "
        "đánh dấu.",
        "too_many_attempts": "Nhập sai mã quá nhiều lần. Hãy đợi một phút rồi thử lại.",
        "too_large": "Phiếu quá dài.",
    },
    "en": {
        "title": "Feedback ballot",
        "switch": "Tiếng Việt",
        "code_label": "Slip code (printed under the QR code)",
        "open": "Open ballot",
        "opening": "Opening the ballot…",
        "no_script": "If the QR code does not scan, type the code printed on the slip.",
        "notice_title": "Before you vote",
        "notice_1": "The ballot records no name, no phone number and no time of voting. "
        "The server keeps no network address or device information of yours.",
        "notice_2": "The code on the slip works once and belongs to nobody in particular. "
        "The database keeps only a hash of the code, not the code.",
        "notice_3": "The person evaluated sees only totals, and only when at least {k} ballots "
        "exist. Written comments appear only when at least {c} ballots exist, in random "
        "order, apart from your ratings.",
        "notice_4": "Do not write anything that could reveal who you are.",
        "unit": "Unit",
        "no_opinion_hint": "Choose one level for every criterion.",
        "texts_title": "Further comments (optional)",
        "submit": "Submit ballot",
        "sending": "Sending…",
        "network": "Connection lost. Your answers are still on this page; press Submit to retry.",
        "receipt_title": "Your ballot has been recorded",
        "receipt_label": "Receipt",
        "receipt_note": "Write this code down. When the round ends, the list of receipts is "
        "published so that you can check your ballot was counted. It does not say what you "
        "chose.",
        "repeated_title": "This slip had already been submitted",
        "repeated": "This is the receipt of that ballot; the answers just entered were not "
        "added. If you never submitted this slip, tell the organisers at once: someone else "
        "may have used your code.",
        "close_page": "You can close this page.",
        "try_again": "Enter the code again",
        "mistyped_code": "The code has a typo. Check each character against the slip.",
        "unknown_code": "No slip has this code.",
        "already_used": "This slip has already been used to vote.",
        "not_open": "Voting has not opened yet.",
        "closed": "Voting has closed.",
        "batch_voided": "This slip was withdrawn. Ask for a new one at the meeting.",
        "invalid_answers": "Some answers are missing or not valid: see the marked part.",
        "too_many_attempts": "Too many wrong codes. Wait a minute and try again.",
        "too_large": "The ballot is too long.",
    },
}


def words(lang: str) -> dict[str, str]:
    """The texts of ``lang``, Vietnamese unless English is asked for."""
    return TEXT["en" if lang == "en" else "vi"]
