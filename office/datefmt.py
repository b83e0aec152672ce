"""The ``datetimeformat`` template filter: Flask-Babel's, with the locale's patterns looked up once.

Flask-Babel's filter has Babel parse the locale and look up its patterns again for every value; a
list of 200 receipts formats 400 dates. Here the patterns of a (locale, time zone, format) are
looked up once per process, and the numeric fields (year, month, day, hours, minutes, seconds) are
written directly (one %-format of the value's fields, the local time found by adding its UTC hour's
offset, looked up once per hour); every other field (month names, day periods, zones...) is Babel's. The text is
``flask_babel.format_datetime``'s (tests/test_datefmt.py compares them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import DateTimeFormat, DateTimePattern, get_datetime_format, get_timezone, parse_pattern
from flask_babel import format_datetime, get_locale
from flask_babel import get_timezone as user_timezone
from jinja2 import pass_eval_context

PREDEFINED = ("full", "long", "medium", "short")


def _number(width: int, value: int) -> str:
    return f"{value:0{width}d}"


# Babel's DateTimeFormat for these fields, without building one per value (pattern letter -> text).
_FAST: dict[str, Callable] = {
    "y": lambda v, n: _number(n, v.year)[-2:] if n == 2 else _number(n, v.year),
    "M": lambda v, n: _number(n, v.month) if n <= 2 else None,
    "d": lambda v, n: _number(n, v.day),
    "H": lambda v, n: _number(n, v.hour),
    "h": lambda v, n: _number(n, v.hour % 12 or 12),
    "K": lambda v, n: _number(n, v.hour % 12),
    "k": lambda v, n: _number(n, v.hour or 24),
    "m": lambda v, n: _number(n, v.minute),
    "s": lambda v, n: _number(n, v.second),
}


class _Fields:
    __slots__ = ("value", "locale", "reference_date")

    def __init__(self, value, locale: Locale, reference_date=None):
        self.value, self.locale, self.reference_date = value, locale, reference_date

    def __getitem__(self, name: str) -> str:
        fast = _FAST.get(name[0])
        text = fast(self.value, len(name)) if fast is not None else None
        if text is None:
            text = DateTimeFormat(self.value, self.locale, self.reference_date)[name]
        return text


def _apply(pattern: DateTimePattern, value, locale: Locale, reference_date=None) -> str:
    return pattern.format % _Fields(value, locale, reference_date)


# The numeric fields of a local datetime ``v`` (a pattern of only these, e.g. zh_CN's short
# "y/M/d HH:mm", is written by plain functions instead of Babel's general formatter).
_FIELD = {"y": lambda v: v.year, "M": lambda v: v.month, "d": lambda v: v.day, "H": lambda v: v.hour,
          "h": lambda v: v.hour % 12 or 12, "K": lambda v: v.hour % 12, "k": lambda v: v.hour or 24,
          "m": lambda v: v.minute, "s": lambda v: v.second}


def _numeric(fmt: str) -> list | None:
    """A pattern's ``format`` ('%(y)s/%(M)s ...') as literal text and numeric fields, or None when
    it has another field (month names, day periods, zones: Babel's)."""
    parts = re.split(r"%\((\w+)\)s", fmt)
    out: list = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part.replace("%%", "%"))
        elif part[0] not in _FIELD or (part[0] == "M" and len(part) > 2) or part != part[0] * len(part):
            return None
        else:
            out.append((part[0], len(part)))
    return out


# The fields a str.format template reads off the datetime itself; the others are computed first.
_ATTRIBUTE = {"y": "year", "M": "month", "d": "day", "H": "hour", "m": "minute", "s": "second"}
_DERIVED = {"yy": lambda v: v.year % 100, "h": _FIELD["h"], "K": _FIELD["K"], "k": _FIELD["k"]}


def _compiled(parts: list) -> Callable[[datetime], str]:
    """A function writing ``parts`` (literal text and numeric fields) for a local datetime: one
    ``str.format`` template ("{0.year:01d}/{0.month:01d}/{0.day:01d} {0.hour:02d}:..."), so a
    value is written by one call in C."""
    template, derived = [], {}
    for p in parts:
        if isinstance(p, str):
            template.append(p.replace("{", "{{").replace("}", "}}"))
            continue
        letter, width = p
        key = "yy" if p == ("y", 2) else letter
        if key in _DERIVED:
            derived[key] = _DERIVED[key]
            template.append(f"{{{key}:0{width}d}}")
        else:
            template.append(f"{{0.{_ATTRIBUTE[letter]}:0{width}d}}")
    if not derived:
        # Only attributes of the value: one %-format of one tuple read in C (half str.format's cost).
        names = [_ATTRIBUTE[p[0]] for p in parts if not isinstance(p, str)]
        text = "".join(p.replace("%", "%%") if isinstance(p, str) else f"%0{p[1]}d" for p in parts)
        fields = attrgetter(*names) if names else (lambda v: ())
        if len(names) == 1:
            return lambda v: text % (fields(v),)
        return lambda v: text % fields(v)
    write = "".join(template).format
    pairs = tuple(derived.items())
    return lambda v: write(v, **{k: f(v) for k, f in pairs})


_HOUR = attrgetter("year", "month", "day", "hour")
_LAST_INSTANT = timedelta(minutes=59, seconds=59, microseconds=999999)


def _wall_clock(tz: ZoneInfo) -> Callable[[datetime], datetime]:
    """UTC (naive) or aware values as naive wall-clock time in ``tz``, for the numeric fields only.
    A naive value adds its UTC hour's offset, looked up once per hour of the calendar and kept
    when the offset is the same at both ends of that hour (any other hour, one with a change of
    offset in it, is converted value by value)."""
    offsets: dict[tuple, timedelta | None] = {}

    def wall(value: datetime) -> datetime:
        if value.tzinfo is not None:
            return value.astimezone(tz).replace(tzinfo=None)
        key = _HOUR(value)
        offset = offsets.get(key, False)
        if offset is False:
            if len(offsets) > 50_000:
                offsets.clear()
            start = datetime(*key, tzinfo=UTC)
            first, last = start.astimezone(tz).utcoffset(), (start + _LAST_INSTANT).astimezone(tz).utcoffset()
            offset = offsets[key] = first if first == last else None
        if offset is None:
            return value.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
        return value + offset

    return wall


@lru_cache(maxsize=64)
def _formatter(locale_name: str, tz_name: str, fmt: str) -> Callable[[datetime], str]:
    locale = Locale.parse(locale_name)
    try:
        tz = ZoneInfo(tz_name)  # the same offsets as pytz's zone, converted in C
    except (ZoneInfoNotFoundError, ValueError):
        tz = get_timezone(tz_name)
    normalize = getattr(tz, "normalize", lambda d: d)  # pytz zones need it after astimezone

    def local(value: datetime) -> datetime:
        return normalize((value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz))

    wall = _wall_clock(tz) if isinstance(tz, ZoneInfo) else local  # the numeric fields need no zone
    if fmt not in PREDEFINED:
        pattern = parse_pattern(fmt)
        parts = _numeric(pattern.format)
        if parts is not None:
            fast = _compiled(parts)
            return lambda value: fast(wall(value))
        return lambda value: _apply(pattern, local(value), locale)
    combined = get_datetime_format(fmt, locale=locale).replace("'", "")
    date_pattern, time_pattern = locale.date_formats[fmt], locale.time_formats[fmt]
    date_parts, time_parts = _numeric(date_pattern.format), _numeric(time_pattern.format)
    if date_parts is not None and time_parts is not None and "%" not in combined:
        # "{1} {0}": the date's fields and the time's in one expression
        parts: list = []
        for i, piece in enumerate(re.split(r"(\{[01]\})", combined)):
            parts += ({"{0}": time_parts, "{1}": date_parts}[piece] if i % 2 else [piece])
        fast = _compiled(parts)
        return lambda value: fast(wall(value))

    def format_one(value: datetime) -> str:
        d = local(value)
        return (combined.replace("{0}", _apply(time_pattern, d.timetz(), locale, d.date()))
                .replace("{1}", _apply(date_pattern, d.date(), locale)))

    return format_one


def format_datetime_fast(value: datetime | None = None, format: str | None = None) -> str:
    """``value`` (naive = UTC) in the user's time zone and locale, as ``flask_babel.format_datetime``."""
    if not isinstance(value, datetime):
        return format_datetime(value, format)
    return _formatter(str(get_locale()), str(user_timezone()), format or "medium")(value)


@pass_eval_context
def datetimeformat(eval_ctx, value: datetime | None = None, format: str | None = None) -> str:
    """The template filter: the locale and time zone are read once per template rendering."""
    if not isinstance(value, datetime):
        return format_datetime(value, format)
    cache = getattr(eval_ctx, "_office_datetimeformat", None)
    if cache is None:
        cache = eval_ctx._office_datetimeformat = {}
    fn = cache.get(format)
    if fn is None:
        fn = cache[format] = _formatter(str(get_locale()), str(user_timezone()), format or "medium")
    return fn(value)
