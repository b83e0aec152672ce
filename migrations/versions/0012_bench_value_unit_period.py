"""Value store: the index on unit_id becomes (unit_id, period, element_id).

A fill page reads one unit's values of one or two periods; with the unit alone the index returned
every value the unit ever stored (a thousand per period at province scale) to be filtered.

Revision ID: 0012_bench_value_unit_period
Revises: 0011_sec_rel_retention_heartbeat
"""

from alembic import op

revision = "0012_bench_value_unit_period"
down_revision = "0011_sec_rel_retention_heartbeat"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_form_value_unit_period", "form_value", ["unit_id", "period", "element_id"])
    op.drop_index("ix_form_value_unit_id", table_name="form_value")


def downgrade():
    op.create_index("ix_form_value_unit_id", "form_value", ["unit_id"])
    op.drop_index("ix_form_value_unit_period", table_name="form_value")
