"""Flask extensions, created once and bound in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, any_, bindparam, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Session

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


_MEMOS: set[str] = set()


def session_memo(name: str) -> dict:
    """A dict kept with the database session until it writes (flush), commits or rolls back: what a
    page reads several times (a roll-up, who takes part in a request) is read once per request."""
    _MEMOS.add(name)
    return db.session.info.setdefault(name, {})


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_memos(session, *_args) -> None:
    for name in _MEMOS:
        session.info.pop(name, None)


def among(column, values, item_type):
    """``column IN (values)`` for a list whose length varies. On PostgreSQL the list goes as one
    array parameter (``column = ANY(...)``): the statement's text is the same whatever the length,
    so psycopg converts it once and PostgreSQL prepares it once, where an IN list is rewritten and
    converted again for each length. Elsewhere an expanding IN.

    Only where the plan cannot go wrong (a primary key, a small table): a prepared statement is
    planned once for any array, and for a condition next to others on a table with several
    indexes PostgreSQL's generic plan may pick the wrong one (a form's values by element, unit and
    period: the (element, unit, period) key with period filtered, 25 ms, instead of the (unit,
    period, element) index, 1.6 ms). Those keep their IN lists, or look up exact keys (a form's
    values go as unnested (element, period) pairs, ``office.forms.values``)."""
    values = list(values)
    if dialect_name() == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(item_type)))
    return column.in_(values)


def among_bound(column, name: str, item_type, dialect: str):
    """``among`` for a statement built once: the list is bound per execution as ``name`` (an array
    on PostgreSQL, an expanding IN elsewhere); ``dialect``: the database the statement is built for."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(item_type)))
    return column.in_(bindparam(name, expanding=True))


def dialect_name() -> str:
    """The database kind of the request's session ("postgresql", "sqlite"), for statements built
    once per kind."""
    return db.session.get_bind().dialect.name
