"""One page of a list read in one statement: its rows and, with them, the list's total length."""

from __future__ import annotations


class Rows(list):
    """One page of a list's rows and the list's length in all (``total``), read by the rows'
    statement (``with_total``); None when the page was past the end, so that no row carried it."""

    total: int | None

    def __init__(self, rows=(), total: int | None = None):
        super().__init__(rows)
        self.total = total


def with_total(rows, count):
    """The select ``rows`` with ``count`` (a select of the list's length) as its last column,
    ``total``: PostgreSQL and SQLite compute an uncorrelated subquery once per statement."""
    return rows.add_columns(count.correlate(None).scalar_subquery().label("total"))


def rows_with_total(rows, items=None) -> Rows:
    """``Rows`` of the result rows of a ``with_total`` select (the total read off the first);
    ``items(rows)``: what the list holds of them, when not the rows themselves."""
    return Rows(rows if items is None else items(rows), rows[0].total if rows else None)
