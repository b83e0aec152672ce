"""The application's PostgreSQL role: everything it needs, and no way to rewrite the audit log.

Production runs two roles: the owner (runs ``flask db upgrade``, ``audit-purge``, ``restore``) and
the application role the web and worker processes log in as (``OFFICE_DB_APP_ROLE``). After every
migration the owner runs ``flask --app office db-grants``: the application role may read and write
every table, but on ``audit_event`` only SELECT and INSERT, and it can change no schema.
"""

from __future__ import annotations

from sqlalchemy import text

from office.extensions import db

# Append-only for the application: no UPDATE, DELETE or TRUNCATE.
APPEND_ONLY = ("audit_event",)
# Schema bookkeeping belongs to the owner.
READ_ONLY = ("alembic_version",)


class GrantError(Exception):
    pass


def _ident(conn, name: str) -> str:
    return conn.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def apply_grants(role: str) -> list[str]:
    """Grant ``role`` what the application needs; returns the statements run (PostgreSQL only)."""
    if db.engine.dialect.name != "postgresql":
        raise GrantError("db-grants applies to PostgreSQL only (SQLite has no roles)")
    statements: list[str] = []
    with db.engine.begin() as conn:
        info = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if info is None:
            raise GrantError(f"role {role!r} does not exist (CREATE ROLE {role} LOGIN PASSWORD '...')")
        if info.rolsuper:
            raise GrantError(f"role {role!r} is a superuser: no privilege can be withheld from it")
        owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
                                  "AND tablename = 'audit_event'")).scalar()
        if owner is None:
            raise GrantError("the schema is not migrated (no audit_event table): run `flask db upgrade` first")
        if owner == role:
            raise GrantError(f"role {role!r} owns the tables; run the migrations as another role "
                             f"(the owner) and let {role!r} only log in")
        r = _ident(conn, role)
        schema = _ident(conn, conn.execute(text("SELECT current_schema()")).scalar_one())
        statements += [
            f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA {schema} TO {r}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {r}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {r}",
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {schema} FROM {r}",
        ]
        for t in APPEND_ONLY:
            statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {_ident(conn, t)} FROM {r}")
        for t in READ_ONLY:
            statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {_ident(conn, t)} FROM {r}")
        for t in APPEND_ONLY + READ_ONLY:
            statements.append(f"REVOKE ALL ON {_ident(conn, t)} FROM PUBLIC")
        for s in statements:
            conn.execute(text(s))
    return statements
