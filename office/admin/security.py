"""The security administrator's sign-in pages: who must use a second factor, resetting a user's
second factor, and the recent failed sign-ins by address and by user name."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from office.admin.views import ROLE_LABELS, _user_and_post, bp
from office.auth import second_factor, throttle
from office.auth.models import Post, PostRole, User
from office.auth.scope import may_administer, require_admin_scope, scoped
from office.errors import OfficeError
from office.extensions import db
from office.org.models import Unit
from office.web import current_actor, login_required

HOURS = (1, 24, 24 * 7)


def _require_secadmin(actor):
    if not actor.has_role("sec_admin"):
        abort(403)


def _missing_second_factor(actor, roles: set[str]) -> int:
    """People in the actor's subtree who must use a second factor and have none yet."""
    if not roles:
        return 0
    in_scope = scoped(select(Unit.id), Unit.path, actor)
    q = select(func.count(func.distinct(User.id))).join(Post, Post.user_id == User.id) \
        .join(PostRole, PostRole.post_id == Post.id) \
        .where(PostRole.role.in_(sorted(roles)), Post.unit_id.in_(in_scope), User.second_factor.is_(None),
               User.active.is_(True))
    return db.session.execute(q).scalar_one()


@bp.route("/second-factor", methods=["GET", "POST"])
@login_required
def second_factor_policy():
    actor = current_actor()
    _require_secadmin(actor)
    may_set = second_factor.may_set_policy(actor)
    if request.method == "POST":
        try:
            second_factor.set_policy(actor, set(request.form.getlist("roles")))
        except OfficeError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Saved. Sessions of people who now need a second factor are held until they pass one."),
                  "success")
        return redirect(url_for("admin.second_factor_policy"))
    required = second_factor.required_roles()
    return render_template("admin/second_factor.html", required=required, roles=ROLE_LABELS, may_set=may_set,
                           missing=_missing_second_factor(actor, required))


@bp.post("/users/<int:user_id>/second-factor/reset")
@login_required
def reset_second_factor(user_id: int):
    actor = current_actor()
    user, post = _user_and_post(user_id)
    require_admin_scope(actor, post.unit, "second_factor")
    try:
        second_factor.reset(actor, user)
    except OfficeError as exc:
        flash(exc.message, "error")
    else:
        flash(_("The second factor of %(name)s was reset; his sessions were ended.", name=user.name), "success")
    return redirect(url_for("admin.user", user_id=user.id))


def user_second_factor(actor, user, post) -> dict:
    """What the user page shows about a user's second factor, and whether the actor may reset it."""
    return {"summary": second_factor.summary(user), "may_reset": may_administer(actor, post.unit, "second_factor")
            and actor.user_id != user.id}


@bp.get("/sign-in-failures")
@login_required
def sign_in_failures():
    actor = current_actor()
    _require_secadmin(actor)
    hours = request.args.get("hours", 24, type=int)
    if hours not in HOURS:
        hours = 24
    report = throttle.failure_report(actor, hours=hours)
    return render_template("admin/sign_in_failures.html", report=report, hours=hours, choices=HOURS)
