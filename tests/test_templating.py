"""Templates compiled per language (office/templating.py): a constant text translated when the template
is compiled renders exactly as the run-time lookup rendered it, in each language."""

from __future__ import annotations

import flask_babel
import pytest

from tests.conftest import login, post_form

SOURCE = ("{{ _('Log in') }}|{{ _('100%%') }}|{{ _('%(n)d units', n=3) }}|{{ _('That is not a %(kind)s file.', "
          "kind=kind) }}|{{ _(label) }}|{{ ngettext('%(num)d day', '%(num)d days', 3) }}")
EXPECTED = {  # the variable is escaped, the translated text is not; a text that is not constant still translates
    "zh_CN": "登录|100%|共 3 个单位|这不是 &lt;b&gt; 文件。|工作台|3 days",
    "en": "Log in|100%|3 units|That is not a &lt;b&gt; file.|Workbench|3 days",
}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_compiled_translation_renders_as_the_run_time_lookup(app, lang):
    with app.test_request_context("/"), flask_babel.force_locale(lang):
        compiled = app.jinja_env.get_template("base.html").environment  # this language's templates
        assert compiled is not app.jinja_env
        values = {"kind": "<b>", "label": "Workbench"}
        at_run_time = app.jinja_env.from_string(SOURCE).render(**values)
        assert at_run_time == EXPECTED[lang]
        assert compiled.from_string(SOURCE).render(**values) == at_run_time


def test_a_text_that_cannot_be_formatted_fails_as_before(app):
    with app.test_request_context("/"), flask_babel.force_locale("en"):
        compiled = app.jinja_env.get_template("base.html").environment
        for env in (app.jinja_env, compiled):
            with pytest.raises(KeyError):
                env.from_string("{{ _('%(missing)s') }}").render()


def test_each_language_has_its_own_compiled_templates(client, org):
    login(client, "county_clerk")
    post_form(client, "/lang", {"lang": "zh_CN", "next": "/"})
    assert "工作台" in client.get("/").get_data(as_text=True)
    post_form(client, "/lang", {"lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Workbench" in page and "工作台" not in page
    post_form(client, "/lang", {"lang": "zh_CN", "next": "/"})
    assert "工作台" in client.get("/").get_data(as_text=True)


def test_outside_a_request_templates_translate_at_run_time(app):
    # Jobs (PDFs, e-mails) render with only the application context.
    assert app.jinja_env.get_template("base.html").environment is app.jinja_env
    with flask_babel.force_locale("zh_CN"):
        assert app.jinja_env.from_string("{{ _('Log in') }}").render() == "登录"
