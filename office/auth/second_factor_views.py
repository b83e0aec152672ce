"""The second-factor pages: the step after the password at sign-in (authenticator code, security
key, recovery code), and the user's own second-factor page (set up an authenticator app or a
security key, recovery codes, remove, preferred method). Both are open to a session that passed
the password only (``second_factor_step``); setting up is then limited to the first factor."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from office.auth import codes, security_keys
from office.auth import second_factor as factors
from office.auth.login import second_factor_failed
from office.auth.views import bp
from office.errors import OfficeError
from office.web import client_ip, is_safe_next, second_factor_step


def _who() -> dict:
    return {"ip": client_ip(), "user_agent": (request.user_agent.string or "")[:200]}


def _after_sign_in():
    target = session.pop("next", None)
    return redirect(target if is_safe_next(target) else url_for("workbench.index"))


def _relying_party() -> security_keys.RelyingParty:
    """The WebAuthn relying party: configured, or else this request's host (behind a trusted proxy,
    the scheme it reports). Security keys need https, or http://localhost in development."""
    cfg = current_app.config
    origin = cfg.get("WEBAUTHN_ORIGIN") or request.host_url.rstrip("/")
    rp_id = cfg.get("WEBAUTHN_RP_ID") or urlsplit(origin).hostname or "localhost"
    return security_keys.RelyingParty(id=rp_id, origin=origin, name=cfg.get("MFA_ISSUER") or "Office")


def _json_error(message: str, status: int = 400):
    return jsonify(error=message), status


# --- sign-in: the step after the password ----------------------------------------------------


@bp.route("/login/second-factor", methods=["GET", "POST"])
@second_factor_step
def second_factor():
    user, row = g.login_user, g.login_session
    if row.second_factor_at is not None or not factors.needed(user):
        return _after_sign_in()
    if user.second_factor is None:
        return redirect(url_for("auth.security"))
    error = None
    if request.method == "POST":
        method = codes.pass_with_code(user, row, request.form.get("code", ""), **_who())
        if method is not None:
            if method == factors.RECOVERY:
                left = factors.recovery_left(user.id)
                flash(_("You signed in with a recovery code; %(n)d are left. Create new ones on your "
                        "second-factor page if you are running short.", n=left), "warning")
            return _after_sign_in()
        error = second_factor_failed(user, row, method="code", **_who())
        if row.ended_at is not None:
            session.pop("sid", None)
            flash(error, "error")
            return redirect(url_for("auth.login"))
    return render_template("auth/second_factor.html", user=user, methods=factors.methods_of(user),
                           error=error, recovery_left=factors.recovery_left(user.id))


@bp.post("/login/second-factor/key/options")
@second_factor_step
def second_factor_key_options():
    user, row = g.login_user, g.login_session
    if row.second_factor_at is not None:
        return jsonify(redirect=url_for("workbench.index"))
    try:
        return jsonify(security_keys.authentication_options(user, row, _relying_party()))
    except OfficeError as exc:
        return _json_error(exc.message)


@bp.post("/login/second-factor/key")
@second_factor_step
def second_factor_key():
    user, row = g.login_user, g.login_session
    if row.second_factor_at is not None:
        return jsonify(redirect=url_for("workbench.index"))
    credential = request.get_json(silent=True)
    if not isinstance(credential, dict):
        return _json_error(_("The security key's answer could not be read."))
    try:
        key = security_keys.sign_in(user, row, credential, _relying_party(), **_who())
    except OfficeError as exc:
        return _json_error(exc.message)
    if key is None:
        message = second_factor_failed(user, row, method="webauthn", **_who())
        if row.ended_at is not None:
            session.pop("sid", None)
            return jsonify(error=message, redirect=url_for("auth.login")), 400
        return _json_error(message)
    target = session.pop("next", None)
    return jsonify(redirect=target if is_safe_next(target) else url_for("workbench.index"))


# --- the user's second-factor page -----------------------------------------------------------


def _security_page(**extra):
    user, row = g.login_user, g.login_session
    return render_template("auth/security.html", user=user, passed=row.second_factor_at is not None,
                           pending=g.get("pending_login") is not None,
                           may_enrol=factors.may_enrol(user, row), summary=factors.summary(user),
                           keys=factors.keys_of(user.id), methods=factors.methods_of(user),
                           **extra)


@bp.get("/account/second-factor")
@second_factor_step
def security():
    user, row = g.login_user, g.login_session
    if row.second_factor_at is None and user.second_factor is not None:
        return redirect(url_for("auth.second_factor"))  # pass it first, then change it
    return _security_page()


@bp.post("/account/second-factor/app")
@second_factor_step
def security_totp():
    """Set up an authenticator app: ``start`` shows a new secret (once), ``confirm`` checks the first
    code from the app and then shows the recovery codes."""
    user, row = g.login_user, g.login_session
    action = request.form.get("action")
    try:
        if action not in ("start", "confirm"):
            raise OfficeError(_("Unknown action."))
        if action == "confirm":
            if codes.confirm_totp(user, row, request.form.get("code", ""), **_who()):
                return _recovery_codes_page(first=True)
            enrolment = codes.pending_totp(user, row)
            if enrolment is None:
                raise OfficeError(_("Start the set-up again: no new authenticator app is waiting for a code."))
            return render_template("auth/totp_setup.html", enrolment=enrolment, user=user,
                                   error=_("That code is not right. Check the time on your phone and type the "
                                           "code the app shows now.")), 400
        enrolment = codes.start_totp(user, row)
    except OfficeError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.security"))
    return render_template("auth/totp_setup.html", enrolment=enrolment, user=user, error=None)


def _recovery_codes_page(first: bool = False):
    user, row = g.login_user, g.login_session
    if first and factors.recovery_left(user.id):
        flash(_("Your authenticator app is set up."), "success")
        return redirect(url_for("auth.security"))
    new = codes.new_recovery_codes(user, row, **_who())
    return render_template("auth/recovery_codes.html", codes=new, first=first,
                           next_url=session.get("next") if is_safe_next(session.get("next")) else "")


@bp.post("/account/second-factor/recovery-codes")
@second_factor_step
def security_recovery_codes():
    try:
        return _recovery_codes_page()
    except OfficeError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.security"))


@bp.post("/account/second-factor/key/options")
@second_factor_step
def security_key_options():
    try:
        return jsonify(security_keys.registration_options(g.login_user, g.login_session, _relying_party()))
    except OfficeError as exc:
        return _json_error(exc.message, exc.status)


@bp.post("/account/second-factor/key")
@second_factor_step
def security_key_register():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
        return _json_error(_("The security key's answer could not be read."))
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    try:
        security_keys.register(g.login_user, g.login_session, body["credential"], _relying_party(), name,
                               **_who())
    except OfficeError as exc:
        return _json_error(exc.message, exc.status)
    flash(_("Your security key is registered."), "success")
    return jsonify(redirect=url_for("auth.security"))


@bp.post("/account/second-factor/change")
@second_factor_step
def security_change():
    """Remove the app or a key, or choose the method offered first (a passed session only)."""
    user, row = g.login_user, g.login_session
    action = request.form.get("action", "")
    try:
        if row.second_factor_at is None:
            raise OfficeError(_("Confirm your sign-in with your second factor first."))
        if action == "remove_app":
            factors.remove_totp(user, **_who())
            flash(_("The authenticator app was removed."), "success")
        elif action == "remove_key":
            factors.remove_key(user, request.form.get("key_id", type=int) or 0, **_who())
            flash(_("The security key was removed."), "success")
        elif action == "prefer":
            factors.set_preferred(user, request.form.get("method", ""))
            flash(_("Saved."), "success")
        else:
            raise OfficeError(_("Unknown action."))
    except OfficeError as exc:
        flash(exc.message, "error")
    return redirect(url_for("auth.security"))
