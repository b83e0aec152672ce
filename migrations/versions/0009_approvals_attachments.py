"""Approvals: attachments of stand-alone requests (请示件附件).

Revision ID: 0009_approvals_attachments
Revises: 0006_merge_modules
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_approvals_attachments"
down_revision = "0006_merge_modules"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "approval_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("standalone_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("file_type", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_approval_attachment_created_by_id_user_account")),
        sa.ForeignKeyConstraint(["standalone_id"], ["approval_standalone.id"],
                                name=op.f("fk_approval_attachment_standalone_id_approval_standalone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_attachment")),
    )
    with op.batch_alter_table("approval_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_attachment_standalone_id"), ["standalone_id"], unique=False)


def downgrade():
    with op.batch_alter_table("approval_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_attachment_standalone_id"))
    op.drop_table("approval_attachment")
