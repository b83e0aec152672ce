"""Writing and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from office.actor import Actor
from office.audit.models import AuditEvent, AuditHead
from office.extensions import db
from office.timeutil import utcnow

GENESIS = "0" * 64
HEAD_ID = 1
# Network Security Law art. 21 / MLPS 2.0 level 3: logs are kept at least six months.
MIN_RETENTION_DAYS = 180


def _dump(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def event_hash(ev: AuditEvent) -> str:
    fields = [
        ev.seq,
        ev.created_at.isoformat(timespec="microseconds"),
        ev.actor_id,
        ev.actor_name,
        ev.on_behalf_of_id,
        ev.on_behalf_of_name,
        ev.unit_id,
        ev.action,
        ev.object_type,
        ev.object_id,
        ev.before,
        ev.after,
        ev.ip,
        ev.user_agent,
        ev.prev_hash,
    ]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_PENDING = "audit.pending"


def record(
    actor: Actor,
    action: str,
    *,
    object_type: str = "",
    object_id: Any = "",
    before: Any = None,
    after: Any = None,
    unit_id: int | None = None,
) -> AuditEvent:
    """Append one event to the caller's transaction: it is written when the transaction commits
    and is dropped when it (or the savepoint it was recorded in) rolls back.

    The event joins the chain at commit (``_chain_pending``), in the order the transaction recorded
    its events: the head row is locked only for the commit's last statements, so concurrent
    writers chain in commit order and wait for each other only that long.
    """
    ev = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.user_id,
        actor_name=actor.name,
        on_behalf_of_id=actor.on_behalf_of_id,
        on_behalf_of_name=actor.on_behalf_of_name,
        unit_id=unit_id if unit_id is not None else actor.unit_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        before=_dump(before),
        after=_dump(after),
        ip=(actor.ip or "")[:64],
        user_agent=(actor.user_agent or "")[:200],
    )
    session = db.session()
    if session.get_transaction() is None:
        session.connection()  # begin the transaction the event belongs to
    tx = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((tx, ev))
    return ev


def has_pending(session: Session) -> bool:
    """The session's transaction holds events not yet written (it is not read-only)."""
    return bool(session.info.get(_PENDING))


def _chain_pending(session: Session) -> None:
    """Before the outermost commit: lock the head, chain the transaction's events, add them."""
    if session.in_nested_transaction():
        return  # a savepoint released: the events are written with the real commit
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    head = session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS)
        session.add(head)
    for _tx, ev in pending:
        ev.seq, ev.prev_hash = head.seq + 1, head.hash
        ev.hash = event_hash(ev)
        head.seq, head.hash = ev.seq, ev.hash
        session.add(ev)


def _drop_rolled_back(session: Session, previous_transaction) -> None:
    """A rollback: the events recorded in the rolled-back transaction or savepoint are dropped."""
    pending = session.info.get(_PENDING)
    if not pending:
        return

    def inside(tx) -> bool:
        while tx is not None:
            if tx is previous_transaction:
                return True
            tx = tx.parent
        return False

    kept = [(tx, ev) for tx, ev in pending if not inside(tx)]
    if kept:
        session.info[_PENDING] = kept
    else:
        session.info.pop(_PENDING, None)


def _forget_pending(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def install(session_class=Session) -> None:
    """Chain events at commit. Installed after every other module's commit hooks (the inbox
    writes its items there), so that the head is locked only for the commit's last statements."""
    from sqlalchemy import event

    if not event.contains(session_class, "before_commit", _chain_pending):
        event.listen(session_class, "before_commit", _chain_pending)
        event.listen(session_class, "after_soft_rollback", _drop_rolled_back)
        event.listen(session_class, "after_transaction_end", _forget_pending)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None
    event_id: int | None = None



def record_download(actor: Actor, object_type: str, object_id: Any, filename: str, *,
                    unit_id: int | None = None, action: str = "file.downloaded") -> AuditEvent:
    """One event for an export or a download (who took which file of which record), committed now:
    reading changes nothing else, so the event stands on its own."""
    ev = record(actor, action, object_type=object_type, object_id=object_id, unit_id=unit_id,
                after={"file": filename})
    db.session.commit()
    return ev

def verify(batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first altered, missing or reordered event.

    Reads through a session of its own, so the caller's objects stay attached.
    """
    with Session(db.engine) as session:
        result = _verify(session, batch)
    if result.ok:
        anchored = check_anchors()
        if anchored is not None:
            anchored.checked = result.checked
            return anchored
    return result


def _verify(session: Session, batch: int) -> VerifyResult:
    head = session.get(AuditHead, HEAD_ID)
    # After a retention purge the chain resumes after the last purged event.
    floor_seq = head.floor_seq if head is not None else 0
    expected_prev = head.floor_hash if head is not None and floor_seq else GENESIS
    expected_seq = floor_seq + 1
    checked = 0
    last_seq = floor_seq
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(False, checked, f"event seq {expected_seq} is missing (deleted)",
                                    seq=expected_seq)
            if ev.prev_hash != expected_prev:
                return VerifyResult(False, checked, f"event seq {ev.seq} (id {ev.id}) does not follow "
                                    f"the previous event: altered or reordered", seq=ev.seq, event_id=ev.id)
            if event_hash(ev) != ev.hash:
                return VerifyResult(False, checked, f"event seq {ev.seq} (id {ev.id}) was altered",
                                    seq=ev.seq, event_id=ev.id)
            expected_prev = ev.hash
            expected_seq += 1
            last_seq = ev.seq
            checked += 1
        session.expunge_all()
    head = session.get(AuditHead, HEAD_ID)
    if head is not None and (head.seq != last_seq or head.hash != expected_prev):
        return VerifyResult(False, checked, f"the chain head says seq {head.seq} but the log ends at "
                            f"seq {last_seq}: the newest events were deleted or altered", seq=last_seq + 1)
    return VerifyResult(True, checked)


# --- anchoring the chain outside the database ---------------------------------------------------
#
# The head row detects deleted newest events only while the head itself is intact. A signed digest
# of the head, written outside the database (a file a database administrator cannot rewrite without
# the key), lets audit-verify detect a truncated chain whose head was rewritten too.


def _anchor_dir() -> Path:
    from flask import current_app

    return Path(current_app.config.get("AUDIT_ANCHOR_DIR") or Path(current_app.config["INSTANCE_DIR"]) / "audit-anchors")


def _anchor_key() -> bytes:
    from flask import current_app

    key = current_app.config.get("AUDIT_ANCHOR_KEY") or current_app.config["SECRET_KEY"]
    return hashlib.sha256(b"office-audit-anchor\0" + key.encode()).digest()


def _sign(body: dict) -> str:
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_anchor_key(), payload, hashlib.sha256).hexdigest()


def write_anchor() -> dict:
    """Write today's signed digest of the chain head (daily by the workers, or ``audit-anchor``)."""
    head = db.session.get(AuditHead, HEAD_ID)
    body = {"seq": head.seq if head else 0, "hash": head.hash if head else GENESIS,
            "at": utcnow().isoformat(timespec="seconds")}
    body["signature"] = _sign({k: body[k] for k in ("seq", "hash", "at")})
    d = _anchor_dir()
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{body['at'][:10]}.json").write_text(json.dumps(body))
    return body


def check_anchors() -> VerifyResult | None:
    """The first anchor the database no longer matches, or None when all match."""
    d = _anchor_dir()
    if not d.is_dir():
        return None
    with Session(db.engine) as session:
        head = session.get(AuditHead, HEAD_ID)
        floor = head.floor_seq if head is not None else 0
        for f in sorted(d.glob("*.json")):
            body = json.loads(f.read_text())
            if not hmac.compare_digest(body.get("signature", ""),
                                       _sign({k: body.get(k) for k in ("seq", "hash", "at")})):
                return VerifyResult(False, 0, f"anchor {f.name} has a bad signature")
            if body["seq"] == 0 or body["seq"] <= floor:
                continue  # nothing anchored yet, or purged after its retention period
            ev = session.execute(select(AuditEvent).where(AuditEvent.seq == body["seq"])).scalar_one_or_none()
            if ev is None or ev.hash != body["hash"]:
                return VerifyResult(False, 0, f"event seq {body['seq']} anchored on {body['at'][:10]} is gone "
                                    f"or altered: the chain was truncated or rewritten", seq=body["seq"])
    return None


# --- retention ------------------------------------------------------------------------------------


def retention_days() -> int:
    """The configured retention, never below the legal minimum."""
    from flask import current_app

    return max(int(current_app.config.get("AUDIT_RETENTION_DAYS") or MIN_RETENTION_DAYS), MIN_RETENTION_DAYS)


def purge_expired(now=None) -> dict:
    """Delete the oldest events that are past the retention period, and nothing younger.

    Only a contiguous run from the start of the chain goes (so the rest still verifies from the
    new floor); the purge itself is an audit event. Needs DELETE on ``audit_event``, which the
    application's database role does not have: operators run ``flask audit-purge`` as the owner."""
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days())
    head = db.session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).scalar_one()
    first_young = db.session.execute(
        select(func.min(AuditEvent.seq)).where(AuditEvent.created_at >= cutoff)).scalar()
    q = select(func.max(AuditEvent.seq)).where(AuditEvent.created_at < cutoff)
    if first_young is not None:
        q = q.where(AuditEvent.seq < first_young)
    last_old = db.session.execute(q).scalar()
    if last_old is None:
        db.session.rollback()
        return {"purged": 0, "floor_seq": head.floor_seq, "cutoff": cutoff.isoformat(timespec="seconds")}
    floor_hash = db.session.execute(select(AuditEvent.hash).where(AuditEvent.seq == last_old)).scalar_one()
    n = db.session.execute(
        delete(AuditEvent).where(AuditEvent.seq <= last_old, AuditEvent.created_at < cutoff)
    ).rowcount
    head.floor_seq = last_old
    head.floor_hash = floor_hash
    db.session.flush()
    result = {"purged": n, "floor_seq": last_old, "cutoff": cutoff.isoformat(timespec="seconds")}
    record(Actor.system(), "audit.purged", object_type="audit", after=result)
    db.session.commit()
    return result
