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
    def import_divisions_cmd(path):
        """Import divisions from CSV (code,name,level,parent_code): all rows or none."""
        _import("divisions", path)

    @app.cli.command("import-units")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_units_cmd(path):
        """Import organs from CSV (code,name,short_name,kind,function_code,division_code)."""
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
