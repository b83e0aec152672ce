"""Merge the follow-up branches (docflow sign-off through approvals, approval attachments).

Revision ID: 0010_merge_module_followups
Revises: 0007_docflow_approvals, 0009_approvals_attachments
"""

revision = "0010_merge_module_followups"
down_revision = ("0007_docflow_approvals", "0009_approvals_attachments")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
