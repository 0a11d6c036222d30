"""The voting page's words: English message ids, Vietnamese in the Babel catalogues.

The voter's language comes from the page (``?lang=en`` or the form's ``lang`` field), not
from the staff's language cookie: a phone at a meeting opens in Vietnamese whatever it
was used for before. What the notice says must be what the code does (invariant 10);
tests/web and tests/adversarial check the claims against the stored data.
"""

from __future__ import annotations

from app.i18n import N_, translations

MESSAGES: dict[str, str] = {
    "title": N_("Feedback ballot"),
    "code_label": N_("Slip code (printed under the QR code)"),
    "open": N_("Open ballot"),
    "opening": N_("Opening the ballot…"),
    "no_script": N_("If the QR code does not scan, type the code printed on the slip."),
    "notice_title": N_("Before you vote"),
    "notice_1": N_(
        "The ballot records no name, no phone number and no time of voting. The server "
        "keeps no network address or device information of yours."
    ),
    "notice_2": N_(
        "The code on the slip works once and belongs to nobody in particular. The "
        "database keeps only a hash of the code, not the code."
    ),
    "notice_3": N_(
        "The person evaluated sees only totals, and only when at least {k} ballots exist."
        " Written comments appear only when at least {c} ballots exist, in random order, "
        "apart from your ratings."
    ),
    "notice_4": N_("Do not write anything that could reveal who you are."),
    "unit": N_("Unit"),
    "no_opinion_hint": N_("Choose one level for every criterion."),
    "texts_title": N_("Further comments (optional)"),
    "texts_budget": N_("At most {n} characters in all for the comments about this person."),
    "texts_left": N_("characters left"),
    "submit": N_("Submit ballot"),
    "sending": N_("Sending…"),
    "network": N_("Connection lost. Your answers are still on this page; press Submit to retry."),
    "receipt_title": N_("Your ballot has been recorded"),
    "receipt_label": N_("Receipt"),
    "receipt_note": N_(
        "Write this code down. When the round ends, the list of receipts is published so "
        "that you can check your ballot was counted. It does not say what you chose."
    ),
    "repeated_title": N_("This slip had already been submitted"),
    "repeated": N_(
        "This is the receipt of that ballot; the answers just entered were not added. If "
        "you never submitted this slip, tell the organisers at once: someone else may "
        "have used your code."
    ),
    "close_page": N_("You can close this page."),
    "try_again": N_("Enter the code again"),
    "mistyped_code": N_("The code has a typo. Check each character against the slip."),
    "unknown_code": N_("No slip has this code."),
    "already_used": N_("This slip has already been used to vote."),
    "not_open": N_("Voting has not opened yet."),
    "closed": N_("Voting has closed."),
    "batch_voided": N_("This slip was withdrawn. Ask for a new one at the meeting."),
    "invalid_answers": N_("Some answers are missing or not valid: see the marked part."),
    "too_many_attempts": N_("Too many wrong codes. Wait a minute and try again."),
    "too_large": N_("The ballot is too long."),
    "review": N_("Review ballot"),
    "review_title": N_("Review before sending"),
    "review_intro": N_(
        "This is what you chose. The ballot is not sent yet: press Edit to change it, or "
        "Send ballot to vote. Once sent it cannot be changed."
    ),
    "review_texts": N_("Written comments"),
    "review_no_texts": N_("No written comments."),
    "edit": N_("Edit"),
    "send": N_("Send ballot"),
    "groups_label": N_("The code you typed, in the groups printed on the slip:"),
    "group_bad": N_("this group has a mistake"),
    "check_link": N_("When the round ends, check your receipt on this page:"),
    "check_title": N_("Check a receipt"),
    "check_intro": N_(
        "When a round ends, the list of receipts is published. Type the code you wrote "
        "down to see whether your ballot is among those counted. Checking is not recorded"
        " anywhere."
    ),
    "check_round": N_("Round"),
    "check_code": N_("Receipt (10 characters)"),
    "check_submit": N_("Check"),
    "check_found": N_("Yes. {code} is in the published list: your ballot was counted."),
    "check_missing": N_(
        "{code} is not in this round's list. Check each character and the round chosen; "
        "if it is still missing, tell the organisers."
    ),
    "check_mistyped": N_("A receipt has 10 letters and digits. Check the code you wrote down."),
    "check_none": N_("No round has published its receipts yet."),
    "check_list": N_("Download the whole list (JSON)"),
}


def words(lang: str) -> dict[str, str]:
    """The texts in ``lang``, Vietnamese unless English is asked for."""
    english = lang == "en"
    catalogue = translations("en" if english else "vi")
    texts = {key: catalogue.gettext(message) for key, message in MESSAGES.items()}
    # The link to the other language carries that language's own name.
    texts["switch"] = "Tiếng Việt" if english else "English"
    return texts
