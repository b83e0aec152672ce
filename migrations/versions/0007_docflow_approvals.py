"""docflow through approvals: the sign-off and instruction requests, the signer's signature

Revision ID: 0007_docflow_approvals
Revises: 0006_merge_modules
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_docflow_approvals"
down_revision = "0006_merge_modules"
branch_labels = None
depends_on = None


def upgrade():
    # Plain integers: approvals' tables belong to approvals (modules never join each other's tables).
    with op.batch_alter_table("doc_document") as batch:
        batch.add_column(sa.Column("signoff_request_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sign_signature_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("doc_receipt") as batch:
        batch.add_column(sa.Column("instruction_request_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("doc_handling_step") as batch:
        batch.add_column(sa.Column("signature_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("doc_handling_step") as batch:
        batch.drop_column("signature_id")
    with op.batch_alter_table("doc_receipt") as batch:
        batch.drop_column("instruction_request_id")
    with op.batch_alter_table("doc_document") as batch:
        batch.drop_column("sign_signature_id")
        batch.drop_column("signoff_request_id")
