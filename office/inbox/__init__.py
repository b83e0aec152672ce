"""The inbox (待办): every module's to-do items in one table, written with the state changes that
open, change or end them; the to-do page and the workbench counts read it (see ``service``)."""


def init_app(app):
    import click

    from office.inbox import models, service  # noqa: F401

    service.install()

    @app.cli.command("inbox-rebuild")
    @click.option("--check", is_flag=True, help="Report the differences only; write nothing.")
    def rebuild_cmd(check):
        """Recompute every to-do item from the modules' own records and make the inbox agree."""
        import sys

        from office.extensions import db
        from office.inbox import rebuild

        reports = rebuild.run(write=not check)
        for r in reports:
            click.echo(f"{r.source_type}: {r.open_rows} open, {r.missing} missing, {r.changed} changed, "
                       f"{r.extra} extra")
            for s in r.samples:
                click.echo(f"  {s}")
        total = sum(r.differences for r in reports)
        if check:
            db.session.rollback()
            click.echo("inbox agrees with the modules" if not total else f"{total} difference(s)")
            sys.exit(1 if total else 0)
        db.session.commit()
        click.echo(f"{total} difference(s) written" if total else "inbox agrees with the modules")
