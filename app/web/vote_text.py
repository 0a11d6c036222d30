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
        "review": "Xem lại phiếu",
        "review_title": "Xem lại trước khi gửi",
        "review_intro": "Đây là những gì bạn đã chọn. Phiếu chưa được gửi: bấm Sửa để thay đổi, "
        "hoặc Gửi phiếu để bỏ phiếu. Đã gửi thì không sửa được nữa.",
        "review_texts": "Ý kiến viết",
        "review_no_texts": "Không có ý kiến viết.",
        "edit": "Sửa",
        "send": "Gửi phiếu",
        "groups_label": "Mã bạn đã nhập, theo từng nhóm như in trên phiếu:",
        "group_bad": "nhóm này có chỗ sai",
        "check_link": "Khi đợt kết thúc, kiểm tra mã xác nhận của bạn tại trang này:",
        "check_title": "Kiểm tra mã xác nhận",
        "check_intro": "Khi đợt lấy ý kiến kết thúc, danh sách mã xác nhận được công bố. Nhập "
        "mã bạn đã ghi lại để xem phiếu của bạn có nằm trong số phiếu được kiểm không. Việc "
        "kiểm tra không được ghi lại ở đâu.",
        "check_round": "Đợt lấy ý kiến",
        "check_code": "Mã xác nhận (10 ký tự)",
        "check_submit": "Kiểm tra",
        "check_found": "Có. Mã {code} nằm trong danh sách đã công bố: phiếu của bạn đã được kiểm.",
        "check_missing": "Không tìm thấy mã {code} trong danh sách của đợt này. Hãy đối chiếu "
        "lại từng ký tự và đợt đã chọn; nếu vẫn không thấy, hãy báo với tổ chức hội nghị.",
        "check_mistyped": "Mã xác nhận có 10 ký tự gồm chữ và số. Hãy đối chiếu lại mã đã ghi.",
        "check_none": "Chưa có đợt nào công bố danh sách mã xác nhận.",
        "check_list": "Tải cả danh sách (JSON)",
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
        "review": "Review ballot",
        "review_title": "Review before sending",
        "review_intro": "This is what you chose. The ballot is not sent yet: press Edit to change "
        "it, or Send ballot to vote. Once sent it cannot be changed.",
        "review_texts": "Written comments",
        "review_no_texts": "No written comments.",
        "edit": "Edit",
        "send": "Send ballot",
        "groups_label": "The code you typed, in the groups printed on the slip:",
        "group_bad": "this group has a mistake",
        "check_link": "When the round ends, check your receipt on this page:",
        "check_title": "Check a receipt",
        "check_intro": "When a round ends, the list of receipts is published. Type the code you "
        "wrote down to see whether your ballot is among those counted. Checking is not "
        "recorded anywhere.",
        "check_round": "Round",
        "check_code": "Receipt (10 characters)",
        "check_submit": "Check",
        "check_found": "Yes. {code} is in the published list: your ballot was counted.",
        "check_missing": "{code} is not in this round's list. Check each character and the "
        "round chosen; if it is still missing, tell the organisers.",
        "check_mistyped": "A receipt has 10 letters and digits. Check the code you wrote down.",
        "check_none": "No round has published its receipts yet.",
        "check_list": "Download the whole list (JSON)",
    },
}


def words(lang: str) -> dict[str, str]:
    """The texts of ``lang``, Vietnamese unless English is asked for."""
    return TEXT["en" if lang == "en" else "vi"]
