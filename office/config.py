"""Configuration read from environment variables (see the table in README.md)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config(overrides: dict | None = None) -> dict:
    instance_dir = Path(os.environ.get("OFFICE_INSTANCE_DIR", BASE_DIR / "instance"))
    env = os.environ.get("OFFICE_ENV", "development")
    cfg: dict = {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-secret-change-me"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{instance_dir / 'office.db'}")
        ),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "STORAGE_DIR": os.environ.get("OFFICE_STORAGE_DIR", str(instance_dir / "storage")),
        "INSTANCE_DIR": str(instance_dir),
        "BABEL_DEFAULT_LOCALE": os.environ.get("OFFICE_DEFAULT_LOCALE", "zh_CN"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("OFFICE_TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ["zh_CN", "en"],
        "MAX_CONTENT_LENGTH": _int("OFFICE_MAX_UPLOAD_MB", 50) * 1024 * 1024,
        # Sessions and login
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies everywhere but on a developer's machine (staging and test servers included).
        "SESSION_COOKIE_SECURE": _bool("OFFICE_SECURE_COOKIES", env != "development"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("OFFICE_SECURE_COOKIES", env != "development"),
        "SESSION_IDLE_MINUTES": _int("OFFICE_SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_HOURS": _int("OFFICE_SESSION_ABSOLUTE_HOURS", 12),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("OFFICE_SESSION_ABSOLUTE_HOURS", 12)),
        # The cookie is set when the session changes (login, language, post), and expires at the
        # session's absolute limit; it is not signed and sent again with every response (the idle
        # limit is the server-side session's, office/auth/service.py).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "LOGIN_MAX_FAILURES": _int("OFFICE_LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCKOUT_MINUTES": _int("OFFICE_LOGIN_LOCKOUT_MINUTES", 15),
        # Failed sign-ins per client address (any user names) and in all: see office/auth/throttle.py.
        "LOGIN_ADDRESS_FREE_FAILURES": _int("OFFICE_LOGIN_ADDRESS_FREE_FAILURES", 10),
        "LOGIN_ADDRESS_MAX_FAILURES": _int("OFFICE_LOGIN_ADDRESS_MAX_FAILURES", 20),
        "LOGIN_ADDRESS_WINDOW_MINUTES": _int("OFFICE_LOGIN_ADDRESS_WINDOW_MINUTES", 15),
        "LOGIN_DELAY_SECONDS": _int("OFFICE_LOGIN_DELAY_SECONDS", 2),
        "LOGIN_DELAY_MAX_SECONDS": _int("OFFICE_LOGIN_DELAY_MAX_SECONDS", 60),
        "LOGIN_GLOBAL_FAILURES_PER_MINUTE": _int("OFFICE_LOGIN_GLOBAL_FAILURES_PER_MINUTE", 100),
        "LOGIN_GLOBAL_DELAY_SECONDS": _int("OFFICE_LOGIN_GLOBAL_DELAY_SECONDS", 30),
        # Reverse proxies in front of the app whose X-Forwarded-For / -Proto are believed (0: none).
        "TRUSTED_PROXIES": _int("OFFICE_TRUSTED_PROXIES", 0),
        # Second factor: the roles that must use one unless the security administrator decides
        # otherwise (production: leaders and the three administrators; elsewhere none).
        "MFA_REQUIRED_ROLES": _csv(os.environ.get(
            "OFFICE_MFA_REQUIRED_ROLES", "leader,sys_admin,sec_admin,audit_admin" if env == "production" else "")),
        "MFA_ISSUER": os.environ.get("OFFICE_MFA_ISSUER", "协同办公"),
        "MFA_KEY": os.environ.get("OFFICE_MFA_KEY") or None,
        "WEBAUTHN_RP_ID": os.environ.get("OFFICE_WEBAUTHN_RP_ID") or None,
        "WEBAUTHN_ORIGIN": os.environ.get("OFFICE_WEBAUTHN_ORIGIN") or None,
        "PASSWORD_MIN_LENGTH": _int("OFFICE_PASSWORD_MIN_LENGTH", 10),
        "PASSWORD_MIN_CLASSES": _int("OFFICE_PASSWORD_MIN_CLASSES", 3),
        "PASSWORD_MAX_AGE_DAYS": _int("OFFICE_PASSWORD_MAX_AGE_DAYS", 90),
        "WTF_CSRF_TIME_LIMIT": None,
        # Jobs: "thread" runs in-process jobs on a background thread, "sync" right after commit.
        "JOBS_INPROCESS_MODE": os.environ.get("OFFICE_JOBS_INPROCESS_MODE", "thread"),
        "JOBS_QUEUE": os.environ.get("OFFICE_JOBS_QUEUE", "office"),
        "JOBS_MAX_ATTEMPTS": _int("OFFICE_JOBS_MAX_ATTEMPTS", 4),
        "JOBS_TIMEOUT_SECONDS": _int("OFFICE_JOBS_TIMEOUT_SECONDS", 600),
        # An RQ work horse refreshes its job's heartbeat this often; three missed beats = dead worker.
        "JOBS_HEARTBEAT_SECONDS": _int("OFFICE_JOBS_HEARTBEAT_SECONDS", 10),
        # Mail
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", False),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "office@localhost"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # A pooled connection idle longer than this is pinged before use (office/dbping.py).
        "DB_PING_IDLE_SECONDS": _int("OFFICE_DB_PING_IDLE_SECONDS", 10),
        # Signed daily digests of the audit chain head, kept outside the database.
        "AUDIT_ANCHOR_DIR": os.environ.get("OFFICE_AUDIT_ANCHOR_DIR") or None,
        "AUDIT_ANCHOR_KEY": os.environ.get("OFFICE_AUDIT_ANCHOR_KEY") or None,
        # Audit events are kept at least this long (180 days is the legal minimum; less is refused).
        "AUDIT_RETENTION_DAYS": _int("OFFICE_AUDIT_RETENTION_DAYS", 180),
        # PostgreSQL role the web and worker processes log in as (``flask db-grants`` restricts it).
        "DB_APP_ROLE": os.environ.get("OFFICE_DB_APP_ROLE") or None,
        # Benchmarks: each response tells its request's CPU ms and query count (office/timing.py).
        "REQUEST_TIMING": _bool("OFFICE_REQUEST_TIMING", False),
    }
    # Module settings: only set when the environment says so, otherwise each module's default holds.
    optional = {
        "DOCFLOW_ALLOWED_SENSITIVITY": ("OFFICE_DOCFLOW_ALLOWED_SENSITIVITY", _csv),
        "DOCFLOW_MAX_ATTACHMENT_MB": ("OFFICE_DOCFLOW_MAX_ATTACHMENT_MB", int),
        "DOCFLOW_FONDS": ("OFFICE_DOCFLOW_FONDS", json.loads),
        "APPROVALS_URGE_MINUTES": ("OFFICE_APPROVALS_URGE_MINUTES", int),
        "PDF_FONTS": ("OFFICE_PDF_FONTS", json.loads),
    }
    for key, (env_name, parse) in optional.items():
        if os.environ.get(env_name):
            cfg[key] = parse(os.environ[env_name])
    if overrides:
        cfg.update(overrides)
    postgres = cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    if postgres and "pool_size" not in cfg["SQLALCHEMY_ENGINE_OPTIONS"]:
        # Each serving thread keeps a connection of its own: with fewer pooled connections than
        # threads (SQLAlchemy's default is 5), the extra ones are opened and closed on every
        # request under load (a new PostgreSQL backend each, its prepared statements lost).
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {**cfg["SQLALCHEMY_ENGINE_OPTIONS"],
                                            "pool_size": _int("OFFICE_DB_POOL_SIZE", 10),
                                            "max_overflow": _int("OFFICE_DB_MAX_OVERFLOW", 10)}
    if postgres and not _bool("OFFICE_PG_JIT", False):
        # PostgreSQL's JIT compiles queries whose estimated cost is high (a search over every
        # document, a province roll-up): 50 ms to 2 s of compiling for queries that run in 20 ms.
        engine = dict(cfg["SQLALCHEMY_ENGINE_OPTIONS"])
        connect = dict(engine.get("connect_args", {}))
        connect["options"] = (connect.get("options", "") + " -c jit=off").strip()
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine, "connect_args": connect}
    return cfg


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]
