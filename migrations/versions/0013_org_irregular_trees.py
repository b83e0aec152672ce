"""Organisation: zones and the file parent of divisions, vertical superiors of units, division history.

A division's ``parent_id`` is its parent in the tree of administration; ``gb_parent_id`` keeps the
parent the division file gives (they differ while a development zone administers the division).
``kind`` tells divisions from zones. ``unit.superior_id`` is the upper organ of a vertically managed
unit. ``division_change`` is the history (沿革) of every division.

Revision ID: 0013_org_irregular_trees
Revises: 0012_bench_value_unit_period
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_org_irregular_trees"
down_revision = "0012_bench_value_unit_period"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("division") as t:
        t.add_column(sa.Column("kind", sa.String(12), nullable=False, server_default="division"))
        t.add_column(sa.Column("gb_parent_id", sa.Integer(), nullable=True))
        t.create_foreign_key("fk_division_gb_parent_id_division", "division", ["gb_parent_id"], ["id"])
    op.execute("UPDATE division SET gb_parent_id = parent_id")
    with op.batch_alter_table("unit") as t:
        t.add_column(sa.Column("superior_id", sa.Integer(), nullable=True))
        t.create_foreign_key("fk_unit_superior_id_unit", "unit", ["superior_id"], ["id"])
    op.create_table(
        "division_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("division_id", sa.Integer(), sa.ForeignKey("division.id", ondelete="SET NULL"), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("actor_name", sa.String(100), nullable=False),
    )
    op.create_index("ix_division_change_division_id", "division_change", ["division_id"])


def downgrade():
    op.drop_index("ix_division_change_division_id", table_name="division_change")
    op.drop_table("division_change")
    with op.batch_alter_table("unit") as t:
        t.drop_constraint("fk_unit_superior_id_unit", type_="foreignkey")
        t.drop_column("superior_id")
    with op.batch_alter_table("division") as t:
        t.drop_constraint("fk_division_gb_parent_id_division", type_="foreignkey")
        t.drop_column("gb_parent_id")
        t.drop_column("kind")
