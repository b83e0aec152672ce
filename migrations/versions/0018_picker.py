"""Directory: the pinyin of people's and units' names, and each person's recent picks.

Revision ID: 0018_picker
Revises: 0017_notification_user_latest
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_picker"
down_revision = "0017_notification_user_latest"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "directory_spelling",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("ref_id", sa.Integer(), primary_key=True),
        sa.Column("initials", sa.String(60), nullable=False),
        sa.Column("spelled", sa.String(400), nullable=False),
    )
    op.create_index("ix_directory_spelling_initials", "directory_spelling", ["kind", "initials"])
    op.create_index("ix_directory_spelling_spelled", "directory_spelling", ["kind", "spelled"])
    op.create_table(
        "picker_recent",
        sa.Column("user_id", sa.Integer(), primary_key=True),
        sa.Column("purpose", sa.String(40), primary_key=True),
        sa.Column("ref_id", sa.Integer(), primary_key=True),
        sa.Column("used_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_picker_recent_user_purpose", "picker_recent", ["user_id", "purpose", "used_at"])
    # The names already there (computed here once; new and renamed ones are spelled as written).
    from office.directory.spelling import spell

    conn = op.get_bind()
    table = sa.table("directory_spelling", sa.column("kind"), sa.column("ref_id"), sa.column("initials"),
                     sa.column("spelled"))
    for kind, source in (("user", "user_account"), ("unit", "unit")):
        rows = conn.execute(sa.text(f"SELECT id, name FROM {source}")).all()
        batch = []
        for ref_id, name in rows:
            initials, spelled = spell(name)
            batch.append({"kind": kind, "ref_id": ref_id, "initials": initials, "spelled": spelled})
            if len(batch) >= 5000:
                op.bulk_insert(table, batch)
                batch = []
        if batch:
            op.bulk_insert(table, batch)


def downgrade():
    op.drop_table("picker_recent")
    op.drop_table("directory_spelling")
