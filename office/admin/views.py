"""Administration pages: units and users in the administrator's scope, the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from office.audit import labels as audit_labels
from office.audit import service as audit_service
from office.audit.models import AuditEvent
from office.auth import service as auth
from office.auth.models import Post, Role, User
from office.auth.scope import may_administer, require_admin_scope, scoped
from office.errors import NotFound, OfficeError
from office.extensions import db
from office.org.models import Unit
from office.web import current_actor, login_required, register_nav

bp = Blueprint("admin", __name__, url_prefix="/admin")

ADMIN_VIEW_ROLES = ("unit_admin", "sys_admin", "sec_admin", "audit_admin")
ROLE_LABELS = {
    "clerk": _l("Clerk"), "staff": _l("Staff"), "leader": _l("Leader"), "unit_admin": _l("Unit admin"),
    "sys_admin": _l("System admin"), "sec_admin": _l("Security admin"), "audit_admin": _l("Audit admin"),
}
PAGE = 50


def init_nav(app):
    register_nav(app, "admin", _l("Admin"), "admin.index", 90,
                 visible=lambda a: a.has_role(*ADMIN_VIEW_ROLES))


@bp.record_once
def _on_register(state):
    init_nav(state.app)


@bp.context_processor
def _labels():
    return {"role_labels": ROLE_LABELS, "audit_action_label": audit_labels.action_label,
            "audit_object_label": audit_labels.object_label}


def _require_any_admin(actor):
    if not actor.has_role(*ADMIN_VIEW_ROLES):
        abort(403)


@bp.get("/")
@login_required
def index():
    actor = current_actor()
    _require_any_admin(actor)
    if actor.has_role("audit_admin") and not actor.has_role("unit_admin", "sys_admin", "sec_admin"):
        return redirect(url_for("admin.audit_log"))
    return redirect(url_for("admin.units"))


@bp.get("/units")
@login_required
def units():
    actor = current_actor()
    _require_any_admin(actor)
    q = (request.args.get("q") or "").strip()[:50]
    page = max(1, request.args.get("page", 1, type=int))
    query = scoped(select(Unit), Unit.path, actor)
    if q:
        query = query.where(or_(Unit.name.contains(q), Unit.short_name.contains(q), Unit.code == q))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(Unit.path, Unit.id).limit(PAGE).offset((page - 1) * PAGE)).scalars()
    return render_template("admin/units.html", units=rows, q=q, page=page, total=total, page_size=PAGE)


def _unit_or_404(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("Not found."))
    return unit


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    actor = current_actor()
    u = _unit_or_404(unit_id)
    require_admin_scope(actor, u)
    posts = db.session.execute(
        select(Post).join(User).where(Post.unit_id == u.id).order_by(Post.rank.is_(None), Post.rank, User.name)
    ).scalars().all()
    return render_template("admin/unit.html", unit=u, posts=posts,
                           may_create=may_administer(actor, u, "accounts"))


@bp.route("/units/<int:unit_id>/users/new", methods=["GET", "POST"])
@login_required
def new_user(unit_id: int):
    actor = current_actor()
    u = _unit_or_404(unit_id)
    require_admin_scope(actor, u, "accounts")
    if request.method == "POST":
        roles = set(request.form.getlist("roles"))
        rank = request.form.get("rank", type=int) if Role.LEADER in roles else None
        try:
            user = auth.create_user(actor, unit=u, username=request.form.get("username", ""),
                                    name=request.form.get("name", ""), password=request.form.get("password", ""),
                                    roles=roles, title=request.form.get("title", "")[:64], rank=rank,
                                    email=(request.form.get("email") or None))
        except OfficeError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Account %(u)s created.", u=user.username), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/new_user.html", unit=u, roles=ROLE_LABELS, form=request.form)


def _user_and_post(user_id: int):
    user = db.session.get(User, user_id)
    post = auth.primary_post(user) if user else None
    if post is None:
        raise NotFound(_("Not found."))
    return user, post


@bp.get("/users/<int:user_id>")
@login_required
def user(user_id: int):
    actor = current_actor()
    user, post = _user_and_post(user_id)
    require_admin_scope(actor, post.unit)
    from office.admin.security import user_second_factor

    return render_template("admin/user.html", user=user, posts=user.posts, roles=ROLE_LABELS,
                           may_accounts=may_administer(actor, post.unit, "accounts"),
                           may_roles=may_administer(actor, post.unit, "roles"),
                           second_factor=user_second_factor(actor, user, post))


@bp.post("/users/<int:user_id>/posts/<int:post_id>/roles")
@login_required
def set_roles(user_id: int, post_id: int):
    actor = current_actor()
    user, _primary = _user_and_post(user_id)
    post = db.session.get(Post, post_id)
    if post is None or post.user_id != user.id:
        raise NotFound(_("Not found."))
    require_admin_scope(actor, post.unit)
    roles = set(request.form.getlist("roles"))
    try:
        auth.set_post_roles(actor, post, roles, rank=request.form.get("rank", type=int),
                            title=request.form.get("title", post.title)[:64])
    except OfficeError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Roles saved."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/active")
@login_required
def set_active(user_id: int):
    actor = current_actor()
    user, post = _user_and_post(user_id)
    require_admin_scope(actor, post.unit)
    active = request.form.get("active") == "1"
    try:
        auth.set_active(actor, user, active)
    except OfficeError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Account enabled.") if active else _("Account disabled; its sessions were ended."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.get("/audit")
@login_required
def audit_log():
    actor = current_actor()
    if not actor.has_role("audit_admin"):
        abort(403)
    q = (request.args.get("q") or "").strip()[:64]
    page = max(1, request.args.get("page", 1, type=int))
    query = select(AuditEvent)
    in_scope = scoped(select(Unit.id), Unit.path, actor)
    root_auditor = actor.unit_path.count("/") == 1
    query = query.where(or_(AuditEvent.unit_id.in_(in_scope), AuditEvent.unit_id.is_(None))
                        if root_auditor else AuditEvent.unit_id.in_(in_scope))
    if q:
        # The auditor searches by the words shown (an action's label) as well as by the recorded key.
        worded = [k for k in audit_labels.known_actions() if q in audit_labels.action_label(k)]
        query = query.where(or_(AuditEvent.action.contains(q), AuditEvent.action.in_(worded),
                                AuditEvent.actor_name.contains(q), AuditEvent.object_id == q))
    events = db.session.execute(query.order_by(AuditEvent.seq.desc()).limit(PAGE).offset((page - 1) * PAGE)).scalars()
    result = audit_service.verify() if request.args.get("verify") == "1" else None
    return render_template("admin/audit.html", events=events, q=q, page=page, verify=result)
