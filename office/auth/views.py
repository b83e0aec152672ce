"""Login, logout, post switching, account (password, delegation). The second-factor pages are in
``office/auth/second_factor_views.py``."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from office.actor import Actor
from office.auth import second_factor, service
from office.auth.models import Delegation, User
from office.errors import OfficeError
from office.extensions import db
from office.web import (
    client_ip,
    current_actor,
    current_session_row,
    is_safe_next,
    login_required,
    public,
    second_factor_url,
)

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class PasswordForm(FlaskForm):
    old = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    repeat = PasswordField(_l("Repeat the new password"), validators=[DataRequired()])


class DelegationForm(FlaskForm):
    delegate = StringField(_l("Delegate"), validators=[DataRequired(), Length(max=64)])
    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    next_url = request.args.get("next") or request.form.get("next")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url if is_safe_next(next_url) else url_for("workbench.index"))
    if g.get("pending_login") and request.method == "GET":
        return redirect(second_factor_url(g.pending_login.user))
    error = None
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.username.data, form.password.data, ip=client_ip(),
                                        user_agent=request.user_agent.string or "")
        except service.LoginFailed as exc:
            error = exc.message
        else:
            old = session.pop("sid", None)
            if old:
                service.end_session(old)
            lang = session.get("lang")
            session.clear()  # a new session at every login
            if lang:
                session["lang"] = lang
            session["sid"] = service.start_session(user, service.primary_post(user), ip=client_ip(),
                                                   user_agent=request.user_agent.string or "")
            session.permanent = True
            if second_factor.needed(user):
                if is_safe_next(next_url):
                    session["next"] = next_url
                return redirect(second_factor_url(user))
            return redirect(next_url if is_safe_next(next_url) else url_for("workbench.index"))
    elif request.method == "POST":
        error = _("Enter your user name and password.")
    return render_template("auth/login.html", form=form, error=error, next=next_url if is_safe_next(next_url) else "")


@bp.post("/logout")
@public
def logout():
    if current_user.is_authenticated:
        service.end_session(session.get("sid"), current_actor())
    elif g.get("pending_login"):
        user = g.pending_login.user
        service.end_session(session.get("sid"), Actor(user_id=user.id, name=user.name, ip=client_ip()))
    session.pop("sid", None)
    session.pop("next", None)
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/switch-post")
@login_required
def switch_post():
    try:
        post = service.switch_post(current_session_row(), int(request.form.get("post_id", "0")))
    except (OfficeError, ValueError):
        flash(_("No such post."), "error")
    else:
        flash(_("Now acting for %(unit)s.", unit=post.unit.name), "info")
    return redirect(url_for("workbench.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    actor = current_actor()
    form = PasswordForm(prefix="pw")
    dform = DelegationForm(prefix="dl")
    if request.method == "POST" and request.form.get("action") == "password" and form.validate_on_submit():
        if form.new.data != form.repeat.data:
            flash(_("The two new passwords differ."), "error")
        else:
            try:
                service.change_password(actor, current_user.record, form.old.data, form.new.data)
            except OfficeError as exc:
                flash(exc.message, "error")
            else:
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("auth.account"))
    elif request.method == "POST" and request.form.get("action") == "delegate" and dform.validate_on_submit():
        delegate = db.session.execute(
            select(User).where(User.username == dform.delegate.data.strip().lower())).scalar_one_or_none()
        try:
            if delegate is None:
                raise OfficeError(_("No user named %(u)s.", u=dform.delegate.data))
            service.add_delegation(actor, delegate, dform.start.data, dform.end.data, dform.reason.data or "")
        except OfficeError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Delegation saved."), "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST" and request.form.get("action") == "revoke":
        d = db.session.get(Delegation, request.form.get("delegation_id", type=int) or 0)
        try:
            if d is None:
                raise OfficeError(_("No such delegation."))
            service.revoke_delegation(actor, d)
        except OfficeError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Delegation revoked."), "success")
            return redirect(url_for("auth.account"))
    delegations = db.session.execute(
        select(Delegation).where(Delegation.principal_id == current_user.id).order_by(Delegation.id.desc())
    ).scalars().all()
    acting_for = service.principals_of(current_user.id)
    return render_template("auth/account.html", form=form, dform=dform, delegations=delegations,
                           acting_for=acting_for, today=date.today(),
                           second_factor_methods=second_factor.methods_of(current_user.record))


