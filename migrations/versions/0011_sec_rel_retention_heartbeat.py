"""Audit retention floor (the chain starts after the last purged event) and job heartbeats.

Revision ID: 0011_sec_rel_retention_heartbeat
Revises: 0010_merge_module_followups
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_sec_rel_retention_heartbeat"
down_revision = "0010_merge_module_followups"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_head") as t:
        t.add_column(sa.Column("floor_seq", sa.BigInteger(), nullable=False, server_default="0"))
        t.add_column(sa.Column("floor_hash", sa.String(length=64), nullable=False, server_default="0" * 64))
    with op.batch_alter_table("job") as t:
        t.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("job") as t:
        t.drop_column("heartbeat_at")
    with op.batch_alter_table("audit_head") as t:
        t.drop_column("floor_hash")
        t.drop_column("floor_seq")
