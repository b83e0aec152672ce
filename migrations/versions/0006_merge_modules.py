"""Merge the module branches (approvals, pdf, forms, docflow) into one head.

Revision ID: 0006_merge_modules
Revises: 0002_approvals, 0003_pdf, 0004_forms, 0005_docflow
"""

revision = "0006_merge_modules"
down_revision = ("0002_approvals", "0003_pdf", "0004_forms", "0005_docflow")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
