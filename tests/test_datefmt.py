"""Dates in pages: the app's ``datetimeformat`` filter writes what Flask-Babel's writes, in both
languages, for naive (UTC) and aware values, across midnight and the year's end in Asia/Shanghai."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import flask_babel
import pytest
from flask import render_template_string
from flask_babel import force_locale
from markupsafe import escape

from office.datefmt import format_datetime_fast

_rng = random.Random(7)
VALUES = [datetime(2026, 12, 31, 15, 59), datetime(2026, 12, 31, 16, 0), datetime(2026, 1, 1, 0, 0, 5),
          datetime(2026, 7, 4, 3, 7, 9, tzinfo=UTC), datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
          datetime(2030, 2, 28, 12, 0), datetime(2009, 6, 1, 4, 0), datetime(2026, 1, 1, 16, 0)] + [
    datetime(2000, 1, 1) + timedelta(seconds=_rng.randrange(40 * 365 * 86400)) for _ in range(150)]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("fmt", [None, "short", "medium", "long", "full", "yyyy-MM-dd HH:mm",
                                 "yy/M/d h:mm:ss a", "MMM d, y K:mm", "MMMM dd EEEE k 'o''clock' zzzz"])
def test_same_text_as_flask_babel(app, lang, fmt):
    with app.test_request_context("/"), force_locale(lang):
        for value in VALUES:
            assert format_datetime_fast(value, fmt) == flask_babel.format_datetime(value, fmt), (lang, fmt, value)
        # The template filter, once per rendering, writes the same.
        shown = render_template_string("{% for v in values %}{{ v|datetimeformat(fmt) }}|{% endfor %}",
                                       values=VALUES, fmt=fmt)
        assert shown == "".join(f"{escape(flask_babel.format_datetime(v, fmt))}|" for v in VALUES)


def test_the_page_shows_shanghai_time_in_the_users_language(app):
    with app.test_request_context("/"), force_locale("zh_CN"):
        assert render_template_string("{{ d|datetimeformat('short') }}", d=datetime(2026, 12, 31, 16, 0)) \
            == "2027/1/1 00:00"
    with app.test_request_context("/"), force_locale("en"):
        text = render_template_string("{{ d|datetimeformat('short') }}", d=datetime(2026, 12, 31, 16, 0))
        assert text.startswith("1/1/27") and "12:00" in text and "AM" in text
