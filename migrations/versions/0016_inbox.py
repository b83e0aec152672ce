"""The inbox (待办): one table of every module's open to-do items, filled from the modules' records.

The to-do page reads it through two partial indexes of the open items (a person's, a unit's for a
role group), both in to-do order; one open row per item and audience. The upgrade fills it from the modules'
current records (the same statements as ``flask inbox-rebuild``), so an upgraded system shows its
to-dos at once.

Revision ID: 0016_inbox
Revises: 0015_auth_second_factor
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_inbox"
down_revision = "0015_auth_second_factor"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=20), nullable=False),
        sa.Column("source_type", sa.String(length=30), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role_group", sa.String(length=60), nullable=False),
        sa.Column("delegable", sa.Boolean(), nullable=False),
        sa.Column("except_user_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("line", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("urged_at", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("due_sort", sa.DateTime(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_item")),
    )
    open_only = {"sqlite_where": sa.text("state = 'open'"), "postgresql_where": sa.text("state = 'open'")}
    op.create_index("ix_inbox_person", "inbox_item", ["user_id", "unit_id", "due_sort", "since", "rank", "seq"],
                    **open_only)
    op.create_index("ix_inbox_unit", "inbox_item", ["unit_id", "role_group", "due_sort", "since", "rank", "seq"],
                    **open_only)
    op.create_index("uq_inbox_open", "inbox_item",
                    ["source_type", "source_id", "item", "user_id", "unit_id", "role_group"], unique=True,
                    **open_only)
    from office.inbox.rebuild import bulk_load

    bulk_load(op.get_bind())


def downgrade():
    op.drop_index("uq_inbox_open", table_name="inbox_item")
    op.drop_index("ix_inbox_unit", table_name="inbox_item")
    op.drop_index("ix_inbox_person", table_name="inbox_item")
    op.drop_table("inbox_item")
