"""docflow separated duties: who reviewed (with opinion, time, signature), the countersigner's
signature, and the unit setting that lets one person combine duties in a small office

Revision ID: 0014_docflow_duties
Revises: 0013_org_irregular_trees
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_docflow_duties"
down_revision = "0013_org_irregular_trees"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("doc_document") as batch:
        batch.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reviewer_name", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("review_opinion", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("review_signature_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_doc_document_reviewed_by", "user_account", ["reviewed_by_id"], ["id"])
    with op.batch_alter_table("doc_issuer") as batch:
        batch.add_column(sa.Column("countersign_signature_id", sa.Integer(), nullable=True))
    op.create_table(
        "doc_unit_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False, unique=True),
        sa.Column("combine_duties", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("set_by_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("set_by_name", sa.String(64), nullable=False, server_default=""),
        sa.Column("set_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("doc_unit_settings")
    with op.batch_alter_table("doc_issuer") as batch:
        batch.drop_column("countersign_signature_id")
    with op.batch_alter_table("doc_document") as batch:
        batch.drop_constraint("fk_doc_document_reviewed_by", type_="foreignkey")
        batch.drop_column("review_signature_id")
        batch.drop_column("review_opinion")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewer_name")
        batch.drop_column("reviewed_by_id")
