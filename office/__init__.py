"""office: cross-level collaborative office system for province, city, county and township organs."""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path

from flask import Flask

from office.config import BASE_DIR, load_config
from office.extensions import babel, csrf, db, login_manager, migrate

# Each module's package defines init_app(app): blueprints, job handlers, workbench cards, nav.
MODULES = [
    "office.web",
    "office.openapi",
    "office.org",
    "office.auth",
    "office.directory",
    "office.audit",
    "office.jobs",
    "office.notifications",
    "office.inbox",
    "office.workbench",
    "office.admin",
    "office.approvals",
    "office.docflow",
    "office.forms",
    "office.pdf",
]

log = logging.getLogger("office")


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(Path(os.environ.get("OFFICE_INSTANCE_DIR", BASE_DIR / "instance")).resolve()),
    )
    from office.templating import OfficeEnvironment

    app.jinja_environment = OfficeEnvironment  # templates compiled per language (office/templating.py)
    app.config.update(load_config(overrides))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations"))
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)
    if app.config["ENV_NAME"] == "production" and app.config["SECRET_KEY"].startswith("dev-only"):
        raise RuntimeError("SECRET_KEY must be set in production")
    from office.audit.service import MIN_RETENTION_DAYS

    if int(app.config["AUDIT_RETENTION_DAYS"]) < MIN_RETENTION_DAYS:
        raise RuntimeError(f"OFFICE_AUDIT_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS} (audit logs are "
                           f"kept at least six months)")

    from office import dbping

    db.init_app(app)
    dbping.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)

    from office.web import babel_locale, babel_timezone

    babel.init_app(app, locale_selector=babel_locale, timezone_selector=babel_timezone)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)

    for name in MODULES:
        importlib.import_module(name).init_app(app)

    from office import assets, cli, readonly, timing
    from office.audit import service as audit

    audit.install()  # after the modules' own commit hooks: see audit.install
    readonly.init_app(app)
    cli.init_app(app)
    assets.init_app(app)
    timing.init_app(app)
    return app


def _tune_sqlite(app: Flask) -> None:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
