"""The one inbox table: every module's open to-do items (待办), written in the transaction of the
state change that opens, changes or ends them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, SmallInteger, String, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from office.extensions import db

OPEN, DONE = "open", "done"
# The open state as a constant in the SQL (not a bound value): the partial indexes serve it.
OPEN_SQL = literal_column("'open'")
# The sort key of an item without a due date: after every dated one.
UNDATED = datetime(9999, 12, 31)


class InboxItem(db.Model):
    """One to-do item for its audience: one person (``user_id``, under the post of ``unit_id``, or
    under any post when ``unit_id`` is 0), or everyone whose post in ``unit_id`` holds one of the
    roles of ``role_group`` ("*": any role) but ``except_user_id``. ``source_type``/``source_id``/``item`` say which
    record of which module it stands for; a module rewrites its record's items when it changes."""

    __tablename__ = "inbox_item"
    __table_args__ = (
        # The to-do page: a person's open items, and a unit's open items for a role group, each in
        # to-do order (ended items are not in these indexes; queries name the state as a constant).
        Index("ix_inbox_person", "user_id", "unit_id", "due_sort", "since", "rank", "seq",
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
        Index("ix_inbox_unit", "unit_id", "role_group", "due_sort", "since", "rank", "seq",
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
        # One open row per item and audience; a record's open rows are found by it.
        Index("uq_inbox_open", "source_type", "source_id", "item", "user_id", "unit_id", "role_group",
              unique=True, sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module: Mapped[str] = mapped_column(String(20))
    source_type: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[int] = mapped_column()
    item: Mapped[str] = mapped_column(String(40), default="")
    user_id: Mapped[int] = mapped_column(default=0)
    unit_id: Mapped[int] = mapped_column(default=0)
    role_group: Mapped[str] = mapped_column(String(60), default="")
    # A person's item his delegate (代理) sees too while the delegation runs.
    delegable: Mapped[bool] = mapped_column(default=False)
    # A unit's item that one of its role holders does not get (0: nobody left out), e.g. the review
    # of a draft is not its drafter's (separated duties).
    except_user_id: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    # The key of the line pattern (registered by the module, translated when shown) and its values.
    line: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(300))
    urgency: Mapped[str] = mapped_column(String(8), default="")  # 特急 / 加急 of the document
    urged_at: Mapped[datetime | None] = mapped_column()  # last 催办
    due_at: Mapped[datetime | None] = mapped_column()
    due_sort: Mapped[datetime] = mapped_column()  # due_at, or UNDATED
    since: Mapped[datetime] = mapped_column()  # waiting since
    # Ties in due date and time: modules in a fixed order (rank), then the record (seq).
    rank: Mapped[int] = mapped_column(SmallInteger, default=0)
    seq: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(8), default=OPEN)
    closed_at: Mapped[datetime | None] = mapped_column()
