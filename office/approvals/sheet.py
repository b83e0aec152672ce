"""The approval sheet (审批单) PDF of a request: subject, every opinion in order, names, dates and
signature images, rendered by ``office.pdf`` (``ApprovalSheet``)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from office.actor import Actor
from office.approvals import queries, standalone, subjects
from office.approvals.models import ApprovalRequest, Signature
from office.extensions import db
from office.pdf.types import ApprovalSheet, Opinion

# The sheet is an official Chinese form, like the other print templates.
STATES = {"running": "审批中", "approved": "已通过", "rejected": "已驳回", "returned": "已退回",
          "withdrawn": "已撤回"}
KINDS = {"submit": "提交申请", "resubmit": "重新提交", "approve": "", "timeout_approve": "超时通过",
         "reject": "驳回", "return": "退回", "transfer": "转交", "add_signer": "加签", "withdraw": "撤回",
         "comment": "评论"}
SHEET_NAMES = {"outgoing_sheet": "发文稿纸"}
DEFAULT_ROLE = {"resubmit": "重新提交", "withdraw": "撤回", "comment": "评论"}


def _local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")
    return moment.replace(tzinfo=UTC).astimezone(tz)


def _stamp(moment: datetime | None) -> str:
    t = _local(moment)
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}" if t else ""


def signature_file(sig: Signature) -> str:
    """The signature image as a file the PDF renderer may read (content-addressed, written once)."""
    digest = hashlib.sha256(sig.image).hexdigest()
    path = Path(current_app.config["STORAGE_DIR"]) / "approvals" / "signatures" / f"{digest}.png"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(sig.image)
        os.replace(tmp, path)
    return str(path)


def signature_png(signature_id: int | None) -> str | None:
    """The file of a stored signature image for a print template (None when there is none)."""
    sig = db.session.get(Signature, signature_id) if signature_id else None
    return signature_file(sig) if sig is not None else None


def who(actor_name: str, on_behalf_of_name: str = "") -> str:
    """The name printed under an opinion: a delegate signs as "X（代Y）" (X for Y)."""
    name = actor_name or "系统"
    return f"{name}（代{on_behalf_of_name}）" if on_behalf_of_name else name


def build_sheet(req: ApprovalRequest):
    """The sheet's content (the caller has checked that the actor may see ``req``). The requester
    and the submission date are in the heading rows; the opinions are the decisions that follow
    (a resubmission stays in the list, the first submission does not repeat the requester)."""
    nodes = req.flow_version.nodes
    actions = [a for a in queries.timeline(req) if a.kind in KINDS and a.kind != "submit"]
    sig_ids = {a.signature_id for a in actions if a.signature_id}
    sigs = {s.id: s for s in db.session.execute(select(Signature).where(Signature.id.in_(sig_ids))).scalars()} \
        if sig_ids else {}
    opinions = []
    for a in actions:
        node = nodes[a.node_index].get("name", "") if a.node_index is not None and a.node_index < len(nodes) else ""
        role = DEFAULT_ROLE.get(a.kind) or node or KINDS[a.kind]
        label = KINDS[a.kind]
        text = a.opinion or ""
        if label and role != label:
            text = f"【{label}】{text}"
        sig = sigs.get(a.signature_id) if a.signature_id else None
        opinions.append(Opinion(role=role, name=who(a.actor_name, a.on_behalf_of_name), opinion=text,
                                signed_at=_stamp(a.created_at),
                                signature_png=signature_file(sig) if sig is not None else None))
    item, attachments = standalone.item_and_attachments(req)
    amount = f"{item.amount:,.2f}" if item is not None and item.amount is not None else ""
    unit = req.unit.name if req.unit is not None else ""
    out = ApprovalSheet(
        organ=unit, title=req.title, number=str(req.id), requester=req.requester.name if req.requester else "",
        unit=unit, submitted=_stamp(req.submitted_at), flow=req.flow_version.flow.name,
        state=STATES.get(req.state, req.state), amount=amount, body=item.body if item is not None else "",
        attachments=[a.name for a in attachments], opinions=opinions)
    st = subjects.get_subject(req.subject_type)
    if st is not None and st.sheet is not None:
        return st.sheet(req, out) or out
    return out


def request_sheet_pdf(actor: Actor, request_id: int):
    """A ``PdfRequest`` for the approval sheet of a request the actor may see (NotFound otherwise).
    The caller commits (the render job runs after the commit)."""
    from office.pdf import service as pdf

    req = queries.get_request(actor, request_id)
    obj = build_sheet(req)
    name = "审批单" if isinstance(obj, ApprovalSheet) else SHEET_NAMES.get(obj.kind, "审批单")
    return pdf.request_pdf(obj, f"{name}-{obj.title}", user_id=actor.user_id)
