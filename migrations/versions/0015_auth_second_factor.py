"""Sign-in: second factor (authenticator app, security keys, recovery codes, per-role policy), the
second-factor state of a session, and the log of failed sign-ins the address throttle counts.

Revision ID: 0015_auth_second_factor
Revises: 0014_docflow_duties
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_auth_second_factor"
down_revision = "0014_docflow_duties"
branch_labels = None
depends_on = None


def _user_fk(table: str):
    return sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=f"fk_{table}_user_id_user_account",
                                   ondelete="CASCADE")


def upgrade():
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failure"),
    )
    op.create_index("ix_login_failure_address_at", "login_failure", ["address", "at"])
    op.create_index("ix_login_failure_at", "login_failure", ["at"])
    op.create_table(
        "second_factor_policy",
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("role", name="pk_second_factor_policy"),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        _user_fk("recovery_code"),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_code"),
        sa.UniqueConstraint("code_hash", name="uq_recovery_code_code_hash"),
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])
    op.create_table(
        "totp_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        _user_fk("totp_credential"),
        sa.PrimaryKeyConstraint("id", name="pk_totp_credential"),
    )
    op.create_index("ix_totp_credential_user_id", "totp_credential", ["user_id"])
    op.create_table(
        "webauthn_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        _user_fk("webauthn_credential"),
        sa.PrimaryKeyConstraint("id", name="pk_webauthn_credential"),
        sa.UniqueConstraint("credential_id", name="uq_webauthn_credential_credential_id"),
    )
    op.create_index("ix_webauthn_credential_user_id", "webauthn_credential", ["user_id"])
    with op.batch_alter_table("user_account") as t:
        t.add_column(sa.Column("second_factor", sa.String(length=16), nullable=True))
    with op.batch_alter_table("user_session") as t:
        t.add_column(sa.Column("second_factor_at", sa.DateTime(), nullable=True))
        t.add_column(sa.Column("second_factor_method", sa.String(length=16), nullable=True))
        t.add_column(sa.Column("challenge", sa.String(length=128), nullable=True))
        t.add_column(sa.Column("challenge_kind", sa.String(length=16), nullable=True))
        t.add_column(sa.Column("challenge_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("user_session") as t:
        for column in ("challenge_at", "challenge_kind", "challenge", "second_factor_method", "second_factor_at"):
            t.drop_column(column)
    with op.batch_alter_table("user_account") as t:
        t.drop_column("second_factor")
    for table in ("webauthn_credential", "totp_credential", "recovery_code"):
        op.drop_index(f"ix_{table}_user_id", table_name=table)
        op.drop_table(table)
    op.drop_table("second_factor_policy")
    op.drop_index("ix_login_failure_at", table_name="login_failure")
    op.drop_index("ix_login_failure_address_at", table_name="login_failure")
    op.drop_table("login_failure")
