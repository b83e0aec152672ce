"""The words of each step of the outgoing flow, as a general office says them: 审核 (审核通过 /
退回修改), 会签 (同意 / 有意见), 签发 (同意签发 / 退回), 复核, 编号, 用印, 分发. The buttons, the
messages after an action, the document's history, the to-do lines and the approval request's
timeline of a sign-off all take their words from here."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from office.docflow.models import DocState

# The step a document waits for in each state (its to-do line and the "next step" of its page).
NEXT_STEP = {
    DocState.DRAFT: _l("Submit for review"), DocState.REVIEW: _l("Review"),
    DocState.COUNTERSIGN: _l("Countersign"), DocState.SIGNOFF: _l("Sign-off"),
    DocState.SIGNED: _l("Re-check"), DocState.CHECKED: _l("Numbering"), DocState.NUMBERED: _l("Seal"),
    DocState.SEALED: _l("Distribute"), DocState.DISTRIBUTED: _l("Follow up the receipts"),
    DocState.ARCHIVED: _l("Archived"),
}

# To-do lines of outgoing documents, by the state they wait in ("%(t)s": the title).
TODO_LINES = {
    DocState.REVIEW: _l("To review: %(t)s"), DocState.COUNTERSIGN: _l("To countersign: %(t)s"),
    DocState.SIGNED: _l("To re-check: %(t)s"), DocState.CHECKED: _l("To number: %(t)s"),
    DocState.NUMBERED: _l("To seal: %(t)s"), DocState.SEALED: _l("To distribute: %(t)s"),
}

# The buttons of each action on the document page.
BUTTONS = {
    "submit": _l("Submit for review"), "withdraw": _l("Withdraw from review"),
    "review_pass": _l("Pass review"), "review_return": _l("Return for revision"),
    "countersign": _l("Agree"), "countersign_object": _l("Object"),
    "signoff": _l("Approve for issue"), "signoff_return": _l("Return"),
    "recheck": _l("Re-check"), "number": _l("Allocate number"), "seal": _l("Seal"), "distribute": _l("Distribute"),
    "void_number": _l("Void the number"), "urge": _l("Urge"), "recall": _l("Recall"),
    "archive": _l("File in the archive"),
}

# The document's history: what each recorded action reads as.
EVENTS = {
    "draft": _l("Drafted"), "save": _l("Revised"), "submit": _l("Submitted for review"),
    "withdraw": _l("Withdrawn from review"),
    "review_pass": _l("Review passed"), "review_return": _l("Returned for revision"),
    "countersign": _l("Countersigned: agreed"), "countersign_object": _l("Countersigned: objection"),
    "signoff": _l("Approved for issue"), "signoff_return": _l("Sign-off returned"),
    "signoff_reject": _l("Sign-off refused"), "signoff_withdrawn": _l("Withdrawn from sign-off"),
    "recheck": _l("Re-checked"), "recheck_changed": _l("Re-check: changed after sign-off, sent for sign-off again"),
    "number": _l("Numbered"), "void_number": _l("Number voided"), "seal": _l("Sealed"),
    "distribute": _l("Distributed"), "urge": _l("Urged"), "recall": _l("Recalled"), "archive": _l("Filed in the archive"),
    "attach": _l("Attachment added"), "detach": _l("Attachment removed"), "archive_export": _l("Archive exported"),
    "forward": _l("Forwarded"), "forward_send": _l("Forwarding notice sent"), "duty_exception": _l("Combined duties (allowed for this unit)"),
    "receipt_sign_for": _l("Signed for"), "receipt_return": _l("Returned as missent"),
    "receipt_register": _l("Registered"), "receipt_propose": _l("Proposed handling"),
    "receipt_instruct_request": _l("Sent for instruction"), "receipt_instruct": _l("Instructed"),
    "receipt_instruct_return": _l("Instruction returned"), "receipt_assign": _l("Assigned"),
    "receipt_close": _l("Closed"), "receipt_circulate": _l("Circulated"), "receipt_read": _l("Read"),
}

# The words approvals shows on a sign-off request (its buttons and timeline).
SIGNOFF_WORDS = {
    "button.approve": _l("Approve for issue"), "button.return": _l("Return"), "button.reject": None,
    "button.sheet": _l("Outgoing document sheet (PDF)"), "label.requester": _l("Sent for sign-off by"),
    "timeline.submit": _l("Sent for sign-off"), "timeline.approve": _l("Approved for issue"),
    "timeline.return": _l("Returned"), "timeline.reject": _l("Sign-off refused"),
    "timeline.withdraw": _l("Withdrawn from sign-off"),
}
INSTRUCTION_WORDS = {
    "button.approve": _l("Give the instruction"), "button.reject": None,
    "timeline.submit": _l("Sent for instruction"), "timeline.approve": _l("Instructed"),
}

# The 发文审批单 rows (an official Chinese form: fixed Chinese words).
SHEET_ROLES = {"draft": "拟稿", "review": "审核", "countersign": "会签", "signoff": "签发"}
