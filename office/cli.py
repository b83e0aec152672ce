"""Command-line tools: ``flask --app office <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app

from office.errors import ValidationError
from office.extensions import db


def init_app(app: Flask) -> None:
    def _import(kind: str, path: str) -> None:
        from office.org import service

        try:
            result = getattr(service, f"import_{kind}")(path)
        except ValidationError as exc:
            db.session.rollback()
            click.echo(f"error: {exc.message}; nothing was imported", err=True)
            sys.exit(1)
        click.echo(f"{kind}: {result}")

    @app.cli.command("import-divisions")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--with-organs", is_flag=True,
                  help="Then give every division without organs a government, and province, city and county "
                       "a general office and the standard departments (as the demo does).")
    def import_divisions_cmd(path, with_organs):
        """Import divisions from CSV (code,name,level,parent_code[,former_code]): all rows or none."""
        _import("divisions", path)
        if with_organs:
            from office.demo import build_units

            n = build_units()
            db.session.commit()
            click.echo(f"organs: {n} created")

    @app.cli.command("import-units")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_units_cmd(path):
        """Import organs from CSV (code,name,short_name,kind,function_code,division_code[,parent_code,
        administers,superior_code]): all rows or none."""
        _import("units", path)

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
    @click.option("--outside-development", is_flag=True,
                  help="Build the demo although OFFICE_ENV is not development (its accounts share a known password).")
    def demo_cmd(if_empty, outside_development):
        """Build the demo province (Zhejiang) with organs, people and module demo content."""
        from office.demo import DEMO_PASSWORD, is_seeded, run_demo

        env = current_app.config.get("ENV_NAME", "development")
        if env != "development" and not outside_development:
            click.echo(f"demo: refused, OFFICE_ENV is {env!r}: the demo accounts all use one published "
                       "password. Use --outside-development on a throw-away installation only.", err=True)
            sys.exit(2)
        if if_empty and is_seeded():
            click.echo("demo: database already seeded, nothing done")
            return
        result = run_demo(current_app)
        for k, v in result.items():
            click.echo(f"{k}: {v}")
        click.echo(f"demo logins use the password {DEMO_PASSWORD} (see README)")

    @app.cli.command("reset-second-factor")
    @click.argument("username")
    def reset_second_factor_cmd(username):
        """Remove a user's second factor (for the security administrator who lost his own): audited
        as done by the operator at the console; the user sets up a new one at his next sign-in."""
        from office.actor import Actor
        from office.auth.models import User
        from office.auth.second_factor import reset

        user = db.session.execute(db.select(User).where(User.username == username.strip().lower())).scalar_one_or_none()
        if user is None:
            click.echo(f"no user {username}", err=True)
            sys.exit(1)
        before = reset(Actor.system("console"), user)
        click.echo(f"second factor of {user.username} reset (had: {before})")

    @app.cli.command("audit-verify")
    def audit_verify_cmd():
        """Check the audit hash chain; name the first altered or missing event."""
        from office.audit.service import verify

        result = verify()
        if result.ok:
            click.echo(f"audit chain intact: {result.checked} events")
        else:
            click.echo(f"AUDIT CHAIN BROKEN: {result.problem}", err=True)
            sys.exit(1)

    @app.cli.command("audit-anchor")
    def audit_anchor_cmd():
        """Write a signed digest of the audit chain head outside the database."""
        from office.audit.service import write_anchor

        body = write_anchor()
        click.echo(f"anchored seq {body['seq']} at {body['at']}")

    @app.cli.command("audit-purge")
    def audit_purge_cmd():
        """Delete audit events older than OFFICE_AUDIT_RETENTION_DAYS (at least 180); run as the owner."""
        from office.audit.service import purge_expired, retention_days

        result = purge_expired()
        click.echo(f"retention {retention_days()} days: purged {result['purged']} events older than "
                   f"{result['cutoff']}; the chain now starts after seq {result['floor_seq']}")

    @app.cli.command("db-grants")
    @click.option("--role", default=None, help="The application's role (default: OFFICE_DB_APP_ROLE).")
    def db_grants_cmd(role):
        """PostgreSQL: let the application role use every table but never UPDATE/DELETE the audit log."""
        from office.dbroles import GrantError, apply_grants

        role = role or current_app.config.get("DB_APP_ROLE")
        if not role:
            click.echo("error: name the role with --role or OFFICE_DB_APP_ROLE", err=True)
            sys.exit(2)
        try:
            for statement in apply_grants(role):
                click.echo(statement)
        except GrantError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    def backup_cmd(path):
        """Write the database and the stored files to PATH (.tar.gz)."""
        from office.backup import backup

        manifest = backup(path)
        click.echo(f"backup written to {path}: {sum(manifest['tables'].values())} rows in "
                   f"{len(manifest['tables'])} tables, schema {', '.join(manifest['revisions'])}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--force", is_flag=True, help="Replace a database that already holds data.")
    def restore_cmd(path, force):
        """Replace the database rows and the stored files with the backup at PATH."""
        from office.actor import Actor
        from office.audit import service as audit
        from office.backup import BackupError, restore

        try:
            manifest = restore(path, force=force)
        except BackupError as exc:
            click.echo(f"error: {exc}; nothing was changed", err=True)
            sys.exit(1)
        audit.record(Actor.system("restore"), "system.restored", object_type="backup",
                     after={"file": str(path), "rows": sum(manifest["tables"].values())})
        db.session.commit()
        click.echo(f"restored {sum(manifest['tables'].values())} rows and the stored files from {path}")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Quit when the queue is empty.")
    def worker_cmd(burst):
        """Run an RQ worker (with scheduler) and the outbox sweeper."""
        from redis import Redis
        from rq import Queue, Worker

        from office.jobs.service import dispatch_pending, start_sweeper

        url = current_app.config.get("REDIS_URL")
        if not url:
            click.echo("REDIS_URL is not set: jobs run inside the web process; no worker needed.", err=True)
            sys.exit(2)
        dispatch_pending(current_app._get_current_object())
        if not burst:
            start_sweeper(current_app._get_current_object())
        conn = Redis.from_url(url)
        worker = Worker([Queue(current_app.config["JOBS_QUEUE"], connection=conn)], connection=conn)
        db.session.remove()
        db.engine.dispose()
        worker.work(burst=burst, with_scheduler=True)

    @app.cli.command("dispatch-jobs")
    def dispatch_jobs_cmd():
        """Hand committed jobs that are still pending to the runner (the worker does this itself)."""
        from office.jobs.service import dispatch_pending

        click.echo(f"dispatched {dispatch_pending(current_app._get_current_object())} jobs")
