"""Notifications: an index on (user_id, id) for a user's latest messages.

The notification centre lists a user's newest hundred; with (user_id, read_at) alone the database
read every message the user ever had and sorted them, a cost that grew all year.

Revision ID: 0017_notification_user_latest
Revises: 0016_inbox
"""

from alembic import op

revision = "0017_notification_user_latest"
down_revision = "0016_inbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_notification_user_latest", "notification", ["user_id", "id"])


def downgrade():
    op.drop_index("ix_notification_user_latest", table_name="notification")
