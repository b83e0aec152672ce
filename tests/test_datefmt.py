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


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu",
                                  "Asia/Shanghai"])
def test_numeric_fields_across_changes_of_offset(zone):
    """The numeric patterns add each hour's offset once it is known; around every change of offset
    (daylight saving, half-hour shifts, a zone's odd historical offsets) they still write what Babel
    writes for the same instant, minute by minute through the hours of the change."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime as babel_format

    from office.datefmt import _formatter

    tz = ZoneInfo(zone)
    instants = []
    for year in (1985, 1986, 1991, 2007, 2026):
        for month in (1, 3, 4, 10, 11, 12):
            start = datetime(year, month, 1)
            instants += [start + timedelta(minutes=15 * i) for i in range(0, 31 * 96, 11)]
    # the hours of each change of offset, minute by minute
    changes = [t for t, nxt in zip(instants, instants[1:], strict=False)
               if t.replace(tzinfo=UTC).astimezone(tz).utcoffset() != nxt.replace(tzinfo=UTC).astimezone(tz).utcoffset()]
    assert changes  # Shanghai: daylight saving 1986-1991; Kathmandu: +5:30 to +5:45 at 18:30 UTC in 1985
    for t in changes:
        instants += [t + timedelta(minutes=m, seconds=30) for m in range(0, 120)]
    for fmt in ("yyyy-MM-dd HH:mm:ss", "short"):
        write = _formatter("zh_CN", zone, fmt)
        for t in instants:
            assert write(t) == babel_format(t.replace(tzinfo=UTC), fmt, tzinfo=tz, locale="zh_CN"), (zone, fmt, t)
            aware = t.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=-3)))
            assert write(aware) == babel_format(aware, fmt, tzinfo=tz, locale="zh_CN"), (zone, fmt, aware)
