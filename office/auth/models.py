"""Tables for users, their posts in units, roles, delegations, sessions, login throttling and the
second factor (authenticator app, security keys, recovery codes, the per-role policy)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from office.extensions import db
from office.timeutil import utcnow


class Role(enum.StrEnum):
    CLERK = "clerk"  # 文书/收发
    STAFF = "staff"  # 承办人
    LEADER = "leader"  # 领导
    UNIT_ADMIN = "unit_admin"  # 单位管理员
    SYS_ADMIN = "sys_admin"  # 系统管理员
    SEC_ADMIN = "sec_admin"  # 安全保密管理员
    AUDIT_ADMIN = "audit_admin"  # 安全审计员


SEPARATED_ADMIN_ROLES = frozenset({Role.SYS_ADMIN, Role.SEC_ADMIN, Role.AUDIT_ADMIN})


class User(UserMixin, db.Model):
    """A person's account. What he may do depends on the post (任职) he acts in."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The second factor offered first at sign-in ("totp" or "webauthn"); None: none enrolled.
    second_factor: Mapped[str | None] = mapped_column(String(16))

    posts: Mapped[list[Post]] = relationship(back_populates="user", order_by="Post.id")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_authenticated(self) -> bool:
        """Flask-Login: a person is only ever the request's user when his live session and active
        account were just read (office.web's request loader), so this reads no column: after a
        commit, it does not load the person again."""
        return True

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Post(db.Model):
    """A user's post (任职) in one unit, with the roles he holds there."""

    __tablename__ = "post"
    __table_args__ = (UniqueConstraint("user_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(64), default="")
    # Leader rank: 1 = principal (正职), 2 = deputy (副职), ... None for non-leaders.
    rank: Mapped[int | None] = mapped_column()
    is_primary: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship(back_populates="posts")
    unit = relationship("Unit")
    role_rows: Mapped[list[PostRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


class PostRole(db.Model):
    __tablename__ = "post_role"
    __table_args__ = (Index("ix_post_role_role", "role"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class Delegation(db.Model):
    """A leader names a delegate (代理) to act for him over a date range."""

    __tablename__ = "delegation"

    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    revoked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    principal: Mapped[User] = relationship(foreign_keys=[principal_id])
    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id])


class UserSession(db.Model):
    """A server-side login session; the cookie only carries its random id (hashed here)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    # When this session passed the second factor (None: signed in with the password only).
    second_factor_at: Mapped[datetime | None] = mapped_column()
    second_factor_method: Mapped[str | None] = mapped_column(String(16))
    # The pending WebAuthn challenge of this session: one use, a few minutes.
    challenge: Mapped[str | None] = mapped_column(String(128))
    challenge_kind: Mapped[str | None] = mapped_column(String(16))
    challenge_at: Mapped[datetime | None] = mapped_column()


class LoginThrottle(db.Model):
    """Consecutive failed logins per user name, whether or not the account exists."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_failure_at: Mapped[datetime | None] = mapped_column()


class LoginFailure(db.Model):
    """A failed or refused sign-in: the per-address and global throttles count the failed ones
    (``kind`` "failed"); the security administrator's page lists them all."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    address: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column()
    unit_id: Mapped[int | None] = mapped_column()
    # failed (wrong password or unknown name), second_factor (wrong code or key), locked (the name
    # is locked), throttled (the address, or every address with failures, is being slowed down)
    kind: Mapped[str] = mapped_column(String(16))


class SecondFactorPolicy(db.Model):
    """Whether holders of a role must use a second factor, as the security administrator set it.
    A role without a row follows the configured default (``OFFICE_MFA_REQUIRED_ROLES``)."""

    __tablename__ = "second_factor_policy"

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    required: Mapped[bool] = mapped_column()
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column()


class TotpCredential(db.Model):
    """An authenticator app (RFC 6238). The secret is stored encrypted; ``last_step`` is the time
    step of the last accepted code, so a code is never accepted twice."""

    __tablename__ = "totp_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None] = mapped_column()
    last_step: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()


class WebAuthnCredential(db.Model):
    """A security key or platform authenticator (WebAuthn): its public key and signature counter."""

    __tablename__ = "webauthn_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(64), default="")
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()


class RecoveryCode(db.Model):
    """A one-time recovery code, kept as a keyed hash only."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column()
