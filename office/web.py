"""Web plumbing shared by every blueprint: the acting user, registries for the navigation and
the workbench cards, locale, error pages, security headers, /healthz."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.routing import IntegerConverter

from office.actor import Actor, actor_for_post
from office.errors import OfficeError
from office.extensions import db, dialect_name, login_manager
from office.listing import Rows
from office.timeutil import utcnow

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__)

# The largest id a URL may carry: primary keys are 32-bit integers on PostgreSQL, and a larger
# number in a URL is a missing record (404), never a database error.
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


# --- registries ------------------------------------------------------------------------------


@dataclass
class NavItem:
    key: str
    title: object
    endpoint: str
    order: int
    visible: Callable[[Actor], bool] = lambda actor: True


@dataclass
class Card:
    key: str
    title: object
    count: Callable[[Actor], int]
    endpoint: str
    order: int = 50


T = TypeVar("T")


def _registry(app: Flask) -> dict:
    return app.extensions.setdefault("office_registry", {"nav": {}, "cards": {}})


def register_nav(app: Flask, key: str, title, endpoint: str, order: int,
                 visible: Callable[[Actor], bool] | None = None) -> None:
    _registry(app)["nav"][key] = NavItem(key, title, endpoint, order, visible or (lambda a: True))


def register_card(app: Flask, key: str, *, title, count: Callable[[Actor], int], endpoint: str,
                  order: int = 50) -> None:
    _registry(app)["cards"][key] = Card(key, title, count, endpoint, order)


@dataclass(frozen=True)
class NavLink:
    """A navigation item as the layout writes it: title in the request's locale, URL built once."""

    key: str
    title: str
    endpoint: str
    url: str
    visible: Callable[[Actor], bool]


def translated(name: str, build: Callable[[], dict]) -> dict:
    """``build()``'s labels (lazy strings) as text in the request's locale, made once per process and
    locale: the catalogues do not change while the process runs, and a list page would otherwise
    translate the same few labels once per row."""
    from flask_babel import get_locale

    cache = current_app.extensions.setdefault("office_translated", {})
    key = (name, str(get_locale()))
    labels = cache.get(key)
    if labels is None:
        labels = cache[key] = {k: str(v) for k, v in build().items()}
    return labels


def colon() -> str:
    """The colon after a label in the page's language: full-width in Chinese (审核：梁文斌), ": " in
    English (templates write ``{{ _('Review') }}{{ colon() }}``)."""
    from flask_babel import get_locale

    locale = get_locale()
    return "：" if locale is not None and locale.language == "zh" else ": "


def _nav_links() -> list[NavLink]:
    from flask_babel import get_locale

    cache = current_app.extensions.setdefault("office_nav", {})
    key = (str(get_locale()), request.script_root if has_request_context() else "")
    links = cache.get(key)
    if links is None:
        items = sorted(_registry(current_app)["nav"].values(), key=lambda i: i.order)
        links = cache[key] = [NavLink(i.key, str(i.title), i.endpoint, url_for(i.endpoint), i.visible)
                              for i in items]
    return links


def layout() -> dict:
    """The layout's fixed routes and words (base.html), made once per process, locale and script
    root: a page would otherwise build nine routes and translate a dozen words on every request.
    The words are Markup, as Jinja's ``_()`` gives them."""
    from flask_babel import get_locale
    from markupsafe import Markup

    cache = current_app.extensions.setdefault("office_layout", {})
    key = (str(get_locale()), request.script_root if has_request_context() else "")
    out = cache.get(key)
    if out is None:
        words = {"office": _l("Office"), "collaborative_office": _l("Collaborative Office"),
                 "skip": _l("Skip to content"), "main": _l("Main"), "notifications": _l("Notifications"),
                 "menu": _l("Menu"), "acting_for": _l("Acting for"), "switch": _l("Switch"),
                 "my_account": _l("My account"), "log_out": _l("Log out")}
        out = cache[key] = {
            "favicon": url_for("static", filename="img/favicon.svg"), "css": url_for("static", filename="css/office.css"),
            "js": url_for("static", filename="js/office.js"), "home": url_for("workbench.index"),
            "bell": url_for("notifications.index"), "switch_post": url_for("auth.switch_post"),
            "account": url_for("auth.account"), "logout": url_for("auth.logout"),
            "set_language": url_for("web.set_language"),
            **{k: Markup(str(v)) for k, v in words.items()}}
    return out


def nav_items(actor: Actor) -> list[NavLink]:
    """The navigation the actor may see, in order (titles and URLs made once per locale)."""
    return [i for i in _nav_links() if i.visible(actor)]


def url_each(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """``url_for(endpoint, key=n, **values)`` for the ids of a list: the route is built once and
    each row only puts its id in (a list of 50 rows would build the same route 50 times)."""
    marker = MAX_ID
    head, _sep, tail = url_for(endpoint, **{key: marker}, **values).partition(str(marker))
    return lambda n: f"{head}{int(n)}{tail}"


def active_nav(items: list[NavLink], endpoint: str | None) -> str | None:
    """One active item: the exact endpoint, else the first item of the same blueprint."""
    if not endpoint:
        return None
    for i in items:
        if i.endpoint == endpoint:
            return i.key
    blueprint = endpoint.split(".")[0]
    return next((i.key for i in items if i.endpoint.split(".")[0] == blueprint), None)


def cards() -> list[Card]:
    return sorted(_registry(current_app)["cards"].values(), key=lambda c: c.order)


def per_actor(name: str, actor: Actor, build: Callable[[], T]) -> T:
    """``build()`` once per request and actor: what the page chrome, the cards and the lists of one
    request all need is read once."""
    memo = g.setdefault("_per_actor", {})
    key = (name, id(actor))
    if key not in memo or memo[key][0] is not actor:
        memo[key] = (actor, build())
    return memo[key][1]


PAGE_SIZE = 50


@dataclass
class Paging:
    page: int
    pages: int
    total: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def paging(total: int, size: int = PAGE_SIZE) -> Paging:
    """The page of a list of ``total`` items that ``?page=N`` asks for (the last one if N is past
    the end, the first one if N is missing or not a positive number)."""
    pages = max(1, -(-total // size))
    return Paging(min(_asked_page(), pages), pages, total, size)


def _asked_page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def paged(read: Callable[[int, int], Rows], count: Callable[[], int], size: int = PAGE_SIZE) -> tuple[Paging, Rows]:
    """``paging`` and the page's rows, for a list whose rows carry its total (``office.listing``):
    ``read(limit, offset)`` reads the page ``?page=N`` asks for and its total in one statement;
    only a page past the end costs ``count()`` and a second read (of the last page)."""
    asked = _asked_page()
    rows = read(size, (asked - 1) * size)
    if rows.total is not None or asked == 1:
        return paging(rows.total or 0, size), rows
    p = paging(count(), size)
    return p, read(p.size, p.offset)


# --- the acting user -------------------------------------------------------------------------


@cache
def _session_also(dialect: str) -> tuple:
    """What every page reads with the session: the user's unread count, whether one of his roles
    must use a second factor, and whose approvals he handles today by delegation (one tuple, built
    once per database kind)."""
    from office.auth.models import User
    from office.auth.second_factor import required_for_sql
    from office.auth.service import principal_ids_of
    from office.notifications.service import unread_count_of

    return (unread_count_of(User.id), required_for_sql(dialect), principal_ids_of(User.id, dialect))


@login_manager.request_loader
def _load_user_from_session(_request):
    from office.auth import service as auth
    from office.auth.identity import load_identity, records_of
    from office.auth.second_factor import required_defaults

    token = session.get("sid")
    if not token:
        return None
    live = load_identity(auth.token_hash(token), also=_session_also(dialect_name()),
                         params={**required_defaults(), "principals_on": utcnow().date()})
    if live is None or not live.user.active:
        return None
    if live.session.second_factor_at is None:
        # second_factor.needed(user), with the policy read in the session's statement
        if live.user.second_factor is not None or live.also[1]:
            # Signed in with the password only: not signed in at all until the second factor is
            # passed. Only the second-factor pages (``second_factor_step``) see this session, with
            # its records.
            g.pending_login = records_of(live)
            return None
    g.session_ref = live.session
    g.unread_notifications = (live.user.id, live.also[0])
    g.principals = (live.user.id, auth.parse_ids(live.also[2]))
    g.post = live.post
    return live.user


def current_session_row():
    """The signed-in request's session row (ORM), for the pages that change it."""
    from office.auth.identity import session_record

    return session_record(g.session_ref)


def unread_notifications(user_id: int) -> int:
    """The user's unread count, as read with his session at the start of the request (the header
    and the workbench card show it), else from the database."""
    known = g.get("unread_notifications")
    if known is not None and known[0] == user_id:
        return known[1]
    from office.notifications.service import unread_count

    return unread_count(user_id)


def current_actor() -> Actor:
    """The actor for this request: the logged-in user acting in his current post."""
    if "actor" in g:
        return g.actor
    if not current_user.is_authenticated:
        abort(401)
    post = g.get("post")
    ip = client_ip()
    ua = (request.user_agent.string or "")[:200]
    if post is None:
        actor = Actor(user_id=current_user.id, name=current_user.name, ip=ip, user_agent=ua)
    else:
        known = g.get("principals")
        actor = actor_for_post(post, ip=ip, user_agent=ua, user=current_user._get_current_object(),
                               principals=known[1] if known and known[0] == current_user.id else None)
    g.actor = actor
    return actor


def client_ip() -> str:
    return (request.remote_addr or "")[:64]


def public(view):
    """Declare a route open to everybody (login page, health check, language switch, logout)."""
    view._office_access = "public"
    return view


def login_required(view):
    """Logged in, with a password that is current (else to the change-password page).

    Every route must declare its access with this decorator or ``public``: a route that declares
    nothing answers 404 (deny by default). Record-level checks stay in the services."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            pending = g.get("pending_login")
            if request.path.startswith("/api/"):
                return jsonify(error=_("Confirm your sign-in with your second factor first.") if pending
                               else _("Please log in.")), 401
            if pending:
                return redirect(second_factor_url(pending.user))
            flash(_("Please log in."), "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        from office.auth.service import password_expired

        if password_expired(current_user) and request.endpoint not in ("auth.account", "auth.logout"):
            flash(_("Your password has expired. Please set a new one."), "warning")
            return redirect(url_for("auth.account"))
        return view(*args, **kwargs)

    wrapped._office_access = "login"
    return wrapped


def second_factor_url(user) -> str:
    """Where a session signed in with the password only goes: the second-factor step, or the
    set-up of a first second factor when he has none yet."""
    if user.second_factor is None:
        return url_for("auth.security")
    return url_for("auth.second_factor")


def second_factor_step(view):
    """The second-factor pages: open to a session that passed the password only (to pass the
    second factor, or to set up a first one) as well as to a signed-in one. The view finds the
    person and his session row in ``g.login_user`` and ``g.login_session``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated:
            g.login_user, g.login_session = current_user.record, current_session_row()
        elif g.get("pending_login"):
            g.login_user, g.login_session = g.pending_login.user, g.pending_login.session
        else:
            flash(_("Please log in."), "info")
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    wrapped._office_access = "second_factor"
    return wrapped


class TrustedProxies:
    """Believe ``X-Forwarded-For`` / ``X-Forwarded-Proto`` only as far as ``TRUSTED_PROXIES``
    reverse proxies set them (werkzeug's ProxyFix); with 0, the default, the peer address is the
    client and the headers are ignored. Read per request, so a test can switch it."""

    def __init__(self, app: Flask):
        from werkzeug.middleware.proxy_fix import ProxyFix

        self.app, self.wsgi, self.fixes = app, app.wsgi_app, {}
        self.make = lambda n: ProxyFix(self.wsgi, x_for=n, x_proto=n)

    def __call__(self, environ, start_response):
        n = int(self.app.config.get("TRUSTED_PROXIES") or 0)
        if n <= 0:
            return self.wsgi(environ, start_response)
        if n not in self.fixes:
            self.fixes[n] = self.make(n)
        return self.fixes[n](environ, start_response)


def declared_access(app: Flask, endpoint: str) -> str | None:
    if endpoint == "static":
        return "public"
    view = app.view_functions.get(endpoint)
    return getattr(view, "_office_access", None)


def is_safe_next(target: str | None) -> bool:
    """Only a path on this host: no scheme, no host, no "//" or "/\\" tricks, also once decoded."""
    if not target:
        return False
    for candidate in (target, unquote(target), unquote(unquote(target))):
        if not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
            return False
        if any(ord(c) < 32 or c == "\\" for c in candidate):
            return False
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return False
    return True


# --- locale ----------------------------------------------------------------------------------


_LANGUAGES = [("zh_CN", "简体中文"), ("en", "English")]


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


@cache
def _parsed_locale(name: str):
    from babel import Locale

    return Locale.parse(name)


@cache
def _parsed_timezone(name: str):
    from pytz import timezone

    return timezone(name)


def babel_locale():
    """Flask-Babel's locale selector: ``select_locale()``'s locale, parsed once per process (Babel
    would parse the name again on every request, checking it against every locale it knows)."""
    return _parsed_locale(select_locale())


def babel_timezone():
    return _parsed_timezone(select_timezone())


@bp.post("/lang")
@public
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("workbench.index"))


# --- health ----------------------------------------------------------------------------------


@bp.get("/healthz")
@public
def healthz():
    status = {"database": "ok", "redis": "not configured"}
    code = 200
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        status["database"] = f"error: {type(exc).__name__}"
        code = 503
    if current_app.config.get("REDIS_URL"):
        try:
            from redis import Redis

            Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=1).ping()
            status["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            status["redis"] = f"error: {type(exc).__name__}"
            code = 503
    from office.jobs.models import Job, JobStatus

    try:
        status["jobs_pending"] = db.session.query(Job).filter(Job.status == JobStatus.PENDING).count()
    except Exception:  # noqa: BLE001
        pass
    for check in current_app.extensions.get("office_health", []):
        status.update(check())
    status["status"] = "ok" if code == 200 else "degraded"
    return jsonify(status), code


def register_health_check(app: Flask, fn: Callable[[], dict]) -> None:
    app.extensions.setdefault("office_health", []).append(fn)


# --- errors and headers ----------------------------------------------------------------------


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _error(status: int, message: str):
    if _wants_json():
        return jsonify(error=message), status
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except Exception:  # noqa: BLE001 - the page chrome needs the database; never show a traceback
        log.exception("error page for %s could not be rendered", status)
        g.degraded = True
        try:
            return render_template("errors/error.html", status=status, message=message), status
        except Exception:  # noqa: BLE001
            from markupsafe import escape

            return (f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(message)}</p>",
                    status, {"Content-Type": "text/html; charset=utf-8"})


DEFAULT_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please log in."),
    403: _l("You do not have permission to do that."),
    404: _l("The page or record does not exist, or is outside your scope."),
    405: _l("That action is not allowed here."),
    409: _l("Someone has already handled this, or it was changed by someone else."),
    413: _l("The upload is too large."),
    500: _l("Something went wrong on our side. The error has been logged."),
    503: _l("The database cannot be reached at the moment. Nothing was saved; please try again shortly."),
}


def _carries_nul() -> bool:
    """A NUL character in the path, a query or form field or a file name: no text of this system has
    one, and PostgreSQL refuses to store or even compare it. Refused up front (400)."""
    if "\x00" in request.path:
        return True
    fields = [request.args]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields.append(request.form)
        if any("\x00" in (f.filename or "") for _k, f in request.files.items(multi=True)):
            return True
    return any("\x00" in k or "\x00" in v for md in fields for k, v in md.items(multi=True))


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool drops it
        log.warning("rollback failed", exc_info=True)


def init_app(app: Flask) -> None:
    from office.datefmt import datetimeformat

    app.url_map.converters["int"] = BoundedIntConverter  # before any blueprint adds its rules
    app.wsgi_app = TrustedProxies(app)
    app.register_blueprint(bp)
    app.jinja_env.filters["datetimeformat"] = datetimeformat
    app.jinja_env.globals["url_each"] = url_each
    app.jinja_env.globals["colon"] = colon
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"

    @app.before_request
    def _fresh_request_state():
        # A test client reuses the test's app context; nothing cached by an earlier request
        # (acting user, CSRF token, locale) may leak into this one.
        for key in list(vars(g)):
            g.pop(key, None)
        if request.endpoint and declared_access(app, request.endpoint) is None:
            log.error("route %s declares no access; refused", request.endpoint)
            abort(404)
        if _carries_nul():
            abort(400)

    def _audit_denial():
        """Every refused action is accountable: one event, written after the rollback."""
        if not current_user or not current_user.is_authenticated:
            return
        from office.audit import service as audit

        try:
            audit.record(current_actor(), "access.denied", object_type="route",
                         object_id=f"{request.method} {request.path}"[:64])
            db.session.commit()
        except Exception:  # noqa: BLE001 - a failed audit write must not hide the 403
            db.session.rollback()
            log.exception("could not audit a denial")

    @app.errorhandler(OfficeError)
    def _office_error(exc: OfficeError):
        if exc.status >= 400:
            db.session.rollback()
        if exc.status == 403:
            _audit_denial()
        return _error(exc.status, exc.message or str(DEFAULT_MESSAGES.get(exc.status, "")))

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return _error(400, _("The form has expired or was not sent from this site. Reload the page "
                             "and try again."))

    for code in (400, 401, 404, 405, 409, 413):
        app.register_error_handler(code, lambda exc, code=code: _error(code, str(DEFAULT_MESSAGES[code])))

    @app.errorhandler(403)
    def _forbidden(exc):
        db.session.rollback()
        _audit_denial()
        return _error(403, str(DEFAULT_MESSAGES[403]))

    @app.errorhandler(500)
    def _server_error(exc):
        _rollback_quietly()
        return _error(500, str(DEFAULT_MESSAGES[500]))

    @app.errorhandler(DataError)
    def _bad_data(exc: DataError):
        # A value the database refuses (out of range, malformed): the request's fault, nothing stored.
        _rollback_quietly()
        log.warning("database refused a value during %s %s: %s", request.method, request.path, exc.orig)
        return _error(400, str(DEFAULT_MESSAGES[400]))

    @app.errorhandler(DBAPIError)
    def _database_down(exc: DBAPIError):
        # The server went away mid-request (stopped, restarted, connection cut): the transaction
        # never committed, so nothing of it is stored. Only connection loss is a 503.
        if getattr(exc.orig, "sqlstate", None) in ("40P01", "40001"):
            # Deadlock or serialization failure: another request changed the same rows at the same
            # moment; this one was rolled back whole and can simply be tried again.
            _rollback_quietly()
            log.warning("concurrent change during %s %s: %s", request.method, request.path, exc.orig)
            return _error(409, _("Someone else changed this at the same moment. Nothing was saved: try again."))
        if not (exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)):
            _rollback_quietly()
            log.exception("database error")
            return _error(500, str(DEFAULT_MESSAGES[500]))
        log.error("database unreachable during %s %s: %s", request.method, request.path, exc.orig)
        _rollback_quietly()
        g.degraded = True  # the page chrome would query the database again
        return _error(503, str(DEFAULT_MESSAGES[503]))

    @app.after_request
    def _headers(resp):
        h = resp.headers
        h.setdefault("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
                     "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/static/"):
            return resp
        try:
            signed_in = bool(current_user and current_user.is_authenticated)
        except Exception:  # noqa: BLE001 - the database is down: assume a record page
            signed_in = True
        if signed_in:
            h["Cache-Control"] = "no-store"
        return resp

    @app.context_processor
    def _context():
        ctx = {"languages": _LANGUAGES, "current_lang": select_locale(), "layout": layout()}
        if g.get("degraded"):
            return ctx
        if current_user.is_authenticated:
            actor = current_actor()
            nav = nav_items(actor)
            ctx.update(actor=actor, nav=nav, nav_here=active_nav(nav, request.endpoint), current_post=g.get("post"),
                       posts=current_user.posts, unread_notifications=unread_notifications(current_user.id))
        return ctx
