"""The directory (通讯录) behind the picker: people and units found by name, pinyin or unit, the tree
of government one level at a time, each person's recent choices, and the scope of each purpose
(registered by the module that owns it, re-checked when a form is posted)."""


def init_app(app):
    from office.directory import api, models, spelling  # noqa: F401

    spelling.listen()
    app.register_blueprint(api.bp)

    @app.cli.command("directory-rebuild")
    def _rebuild():
        """Spell every person's and unit's name in pinyin again (after a bulk load)."""
        import click

        click.echo(f"{spelling.rebuild()} name(s) spelled")
