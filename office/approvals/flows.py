"""Flow templates (审批流程模板): definition checking, versioned saving, JSON export and import.

A definition is ``{"auto_pass_same_person": bool, "nodes": [node, ...]}``; a node is::

    {"name": "部门审核", "type": "single|all|any|sequential|cc",
     "assignees": {"kind": "user", "users": ["username", ...]}
                | {"kind": "role", "role": "leader"}             # role in the requester's unit
                | {"kind": "leader_up", "levels": 1, "line": "gov|function"}
                | {"kind": "leader_up_to", "level": "province", "line": "gov|function"}   # 逐级
                | {"kind": "unit_leaders", "units": ["330106-mz", ...]}
                | {"kind": "gov_leader"}                          # leader of the requester's government
                | {"kind": "subject"},                            # whom the subject names (subjects.py)
     "condition": "amount > 10000",          # optional, see expr.py
     "deadline_hours": 24, "remind_before_hours": 2, "escalate_after_hours": 24,
     "timeout": "remind|approve",            # after escalation: only remind, or auto-approve
     "empty": "admin|refuse|skip"}           # when nobody resolves
"""

from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import or_, select

from office.actor import Actor
from office.approvals import expr
from office.approvals.models import Flow, FlowVersion, NodeType
from office.audit import service as audit
from office.auth.models import User
from office.errors import NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.org.models import LEVEL_ORDER, Unit
from office.timeutil import utcnow

ASSIGNEE_KINDS = ("user", "role", "leader_up", "leader_up_to", "unit_leaders", "gov_leader", "subject")
EMPTY_POLICIES = ("admin", "refuse", "skip")
EDITOR_ROLES = ("sys_admin", "unit_admin")


def validate_definition(definition) -> dict:
    """Check and normalise a definition; raise ValidationError with the first problem."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError:
            raise ValidationError(_("The flow definition is not valid JSON.")) from None
    if not isinstance(definition, dict) or not isinstance(definition.get("nodes"), list):
        raise ValidationError(_("A flow definition needs a list of nodes."))
    nodes = definition["nodes"]
    if not nodes or len(nodes) > 50:
        raise ValidationError(_("A flow needs between 1 and 50 nodes."))
    out_nodes = []
    for i, node in enumerate(nodes, start=1):
        if not isinstance(node, dict):
            raise ValidationError(_("Node %(n)s is not an object.", n=i))
        name = str(node.get("name") or "").strip()[:80] or _("Step %(n)s", n=i)
        ntype = node.get("type")
        if ntype not in {t.value for t in NodeType}:
            raise ValidationError(_("Node %(n)s has an unknown type.", n=i))
        a = node.get("assignees")
        if not isinstance(a, dict) or a.get("kind") not in ASSIGNEE_KINDS:
            raise ValidationError(_("Node %(n)s needs assignees of a known kind.", n=i))
        a = dict(a)
        kind = a["kind"]
        if kind == "user":
            users = a.get("users")
            if not isinstance(users, list) or not users:
                raise ValidationError(_("Node %(n)s needs at least one user.", n=i))
            found = set(db.session.execute(select(User.username).where(User.username.in_(
                [str(u) for u in users]))).scalars())
            missing = [u for u in users if str(u) not in found]
            if missing:
                raise ValidationError(_("Node %(n)s names unknown users: %(u)s", n=i,
                                        u=", ".join(map(str, missing))))
            a["users"] = [str(u) for u in users]
        elif kind == "role":
            if not isinstance(a.get("role"), str) or not a["role"]:
                raise ValidationError(_("Node %(n)s needs a role.", n=i))
        elif kind == "leader_up":
            levels = a.get("levels", 1)
            if not isinstance(levels, int) or not 0 <= levels <= 4:
                raise ValidationError(_("Node %(n)s: levels must be between 0 and 4.", n=i))
            a["levels"] = levels
        elif kind == "leader_up_to":
            if a.get("level") not in {lv.value for lv in LEVEL_ORDER}:
                raise ValidationError(_("Node %(n)s needs a level to go up to.", n=i))
        elif kind == "unit_leaders":
            units = a.get("units")
            if not isinstance(units, list) or not units:
                raise ValidationError(_("Node %(n)s needs at least one unit.", n=i))
            found = set(db.session.execute(select(Unit.code).where(Unit.code.in_(
                [str(u) for u in units]))).scalars())
            missing = [u for u in units if str(u) not in found]
            if missing:
                raise ValidationError(_("Node %(n)s names unknown units: %(u)s", n=i,
                                        u=", ".join(map(str, missing))))
        if kind in ("leader_up", "leader_up_to") and a.get("line", "gov") not in ("gov", "function"):
            raise ValidationError(_("Node %(n)s: line must be gov or function.", n=i))
        out = {"name": name, "type": ntype, "assignees": a}
        cond = node.get("condition")
        if cond not in (None, ""):
            try:
                expr.parse(str(cond))
            except expr.ExpressionError as exc:
                raise ValidationError(_("Node %(n)s has a bad condition: %(e)s", n=i, e=str(exc))) from None
            out["condition"] = str(cond)
        for key in ("deadline_hours", "remind_before_hours", "escalate_after_hours"):
            v = node.get(key)
            if v not in (None, ""):
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    raise ValidationError(_("Node %(n)s: %(k)s must be a number.", n=i, k=key)) from None
                if v < 0 or v > 24 * 365:
                    raise ValidationError(_("Node %(n)s: %(k)s is out of range.", n=i, k=key))
                out[key] = v
        timeout = node.get("timeout") or "remind"
        if timeout not in ("remind", "approve"):
            raise ValidationError(_("Node %(n)s: timeout must be remind or approve.", n=i))
        out["timeout"] = timeout
        empty = node.get("empty") or "admin"
        if empty not in EMPTY_POLICIES:
            raise ValidationError(_("Node %(n)s: unknown empty-assignee policy.", n=i))
        out["empty"] = empty
        out_nodes.append(out)
    return {"auto_pass_same_person": bool(definition.get("auto_pass_same_person", False)),
            "nodes": out_nodes}


def may_edit(actor: Actor) -> bool:
    return actor.is_system or actor.has_role(*EDITOR_ROLES)


def _require_editor(actor: Actor) -> None:
    if not may_edit(actor):
        raise PermissionDenied(_("Only administrators can edit approval flows."))


def save_flow(actor: Actor, *, key: str, name: str, definition, subject_type: str = "",
              unit_id: int | None = None, commit: bool = True) -> Flow:
    """Create a flow or add a version to it (only when the definition changed)."""
    _require_editor(actor)
    key = (key or "").strip()
    if not key or len(key) > 64 or not all(c.isalnum() or c in "._-" for c in key):
        raise ValidationError(_("A flow key is 1-64 letters, digits, dots, dashes or underscores."))
    name = (name or "").strip()[:120]
    if not name:
        raise ValidationError(_("A flow needs a name."))
    norm = validate_definition(definition)
    text = json.dumps(norm, ensure_ascii=False, sort_keys=True)
    flow = db.session.execute(select(Flow).where(Flow.key == key)).scalar_one_or_none()
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if flow is None:
        flow = Flow(key=key, name=name, subject_type=subject_type or "",
                    unit_id=unit.id if unit else None, unit_path=unit.path if unit else None)
        db.session.add(flow)
        db.session.flush()
        before = None
    else:
        if not _may_edit_flow(actor, flow):
            raise NotFound(_("No such flow."))
        before = {"name": flow.name, "version": flow.current_version.number if flow.current_version else 0}
        flow.name = name
        flow.subject_type = subject_type or flow.subject_type or ""
    current = flow.current_version
    if current is None or current.definition_json != text:
        number = (current.number if current else 0) + 1
        v = FlowVersion(flow_id=flow.id, number=number, definition_json=text, created_at=utcnow(),
                        created_by_id=actor.user_id)
        db.session.add(v)
        db.session.flush()
        flow.current_version_id = v.id
        db.session.flush()
        db.session.expire(flow, ["current_version"])
    audit.record(actor, "approvals.flow_saved", object_type="approval_flow", object_id=flow.id,
                 before=before, after={"key": key, "name": name, "version": flow.current_version.number})
    if commit:
        db.session.commit()
    return flow


def _may_edit_flow(actor: Actor, flow: Flow) -> bool:
    """Global flows: the system administrator; a unit's flow: editors whose scope holds the unit."""
    if actor.is_system:
        return True
    if flow.unit_path is None:
        return actor.has_role("sys_admin")
    return bool(actor.unit_path) and flow.unit_path.startswith(actor.unit_path)


def editable_flow(actor: Actor, flow_id: int) -> Flow:
    """A flow the actor may edit or use (and so read); a flow of a unit outside both is 404."""
    _require_editor(actor)
    flow = get_flow(flow_id)
    if not (_may_edit_flow(actor, flow) or flow_usable_by(flow, actor)):
        raise NotFound(_("No such flow."))
    return flow


def set_active(actor: Actor, flow: Flow, active: bool) -> None:
    _require_editor(actor)
    if not _may_edit_flow(actor, flow):
        raise NotFound(_("No such flow."))
    flow.active = active
    audit.record(actor, "approvals.flow_active", object_type="approval_flow", object_id=flow.id,
                 after={"active": active})
    db.session.commit()


def export_flow(flow: Flow) -> dict:
    return {"key": flow.key, "name": flow.name, "subject_type": flow.subject_type,
            "version": flow.current_version.number if flow.current_version else 0,
            "definition": flow.current_version.definition if flow.current_version else {}}


def export_file(actor: Actor, flow_id: int) -> tuple[str, str]:
    """(file name, JSON) of a flow the actor may read; the export is audited."""
    flow = editable_flow(actor, flow_id)
    name = f"flow-{flow.key}.json"
    body = json.dumps(export_flow(flow), ensure_ascii=False, indent=2)
    audit.record_download(actor, "approval_flow", flow.id, name, unit_id=flow.unit_id)
    return name, body


def import_flow(actor: Actor, data, unit_id: int | None = None) -> Flow:
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError:
            raise ValidationError(_("The file is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ValidationError(_("The file is not a flow export."))
    return save_flow(actor, key=str(data.get("key", "")), name=str(data.get("name", "")),
                     definition=data.get("definition"), subject_type=str(data.get("subject_type") or ""),
                     unit_id=unit_id)


def get_flow(flow_id_or_key) -> Flow:
    if isinstance(flow_id_or_key, Flow):
        return flow_id_or_key
    if isinstance(flow_id_or_key, int) or (isinstance(flow_id_or_key, str) and flow_id_or_key.isdigit()):
        flow = db.session.get(Flow, int(flow_id_or_key))
    else:
        flow = db.session.execute(select(Flow).where(Flow.key == str(flow_id_or_key))).scalar_one_or_none()
    if flow is None:
        raise NotFound(_("No such flow."))
    return flow


def available_flows(actor: Actor, subject_type: str | None = None) -> list[Flow]:
    """Active flows the actor's unit may use (global ones and those of units above it)."""
    q = select(Flow).where(Flow.active.is_(True), Flow.current_version_id.isnot(None))
    if subject_type is not None:
        q = q.where(or_(Flow.subject_type == "", Flow.subject_type == subject_type))
    flows = db.session.execute(q.order_by(Flow.name, Flow.id)).scalars().all()
    return [f for f in flows if flow_usable_by(f, actor)]


def flow_usable_by(flow: Flow, actor: Actor) -> bool:
    if flow.unit_path is None or actor.is_system:
        return True
    return bool(actor.unit_path) and actor.unit_path.startswith(flow.unit_path)


def all_flows(actor: Actor) -> list[Flow]:
    flows = db.session.execute(select(Flow).order_by(Flow.name, Flow.id)).scalars().all()
    return [f for f in flows if f.unit_path is None or _may_edit_flow(actor, f) or flow_usable_by(f, actor)]
