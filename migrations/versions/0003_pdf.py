"""pdf: rendered-file cache and render requests

Revision ID: 0003_pdf
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_pdf"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pdf_file",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("archival", sa.Boolean(), nullable=False),
        sa.Column("sign_unit", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pdf_file")),
    )
    op.create_table(
        "pdf_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key"], ["pdf_file.key"], name=op.f("fk_pdf_request_key_pdf_file"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdf_request")),
    )
    with op.batch_alter_table("pdf_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pdf_request_key"), ["key"], unique=False)
        batch_op.create_index("ix_pdf_request_user", ["user_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("pdf_request", schema=None) as batch_op:
        batch_op.drop_index("ix_pdf_request_user")
        batch_op.drop_index(batch_op.f("ix_pdf_request_key"))
    op.drop_table("pdf_request")
    op.drop_table("pdf_file")
