from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.extensions import UTCDateTime, db, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    locale: Mapped[str] = mapped_column(sa.String(5), default="vi")
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # authorised signatory of certificates, within the product categories in scope_rows
    signatory: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    # function/title printed under the approver's name on certificates
    job_title: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    job_title_en: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    scope_rows: Mapped[list[SignatoryScope]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:  # Flask-Login: a password change or deactivation ends old sessions
        return f"{self.id}.{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(sa.String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class SignatoryScope(db.Model):
    """A product category (with its subcategories) whose certificates a signatory may sign."""

    __tablename__ = "signatory_scopes"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_categories.id"), primary_key=True
    )


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """Failed and successful logins, kept in the database so every app process sees them.
    ``device`` names the trusted browser the attempt came from (a signed cookie given at an
    earlier sign-in to this account), or is NULL for a browser not known to the account."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    address: Mapped[str | None] = mapped_column(sa.String(64))
    success: Mapped[bool] = mapped_column(sa.Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device: Mapped[str | None] = mapped_column(sa.String(32))

    __table_args__ = (
        sa.Index("ix_login_attempts_email_at", "email", "at"),
        sa.Index("ix_login_attempts_address_at", "address", "at"),
        sa.Index("ix_login_attempts_at", "at"),
    )


class UserSession(db.Model):
    """A signed-in browser session, known to the server: the cookie carries a random id whose
    SHA-256 is ``token_hash``. Signing out ends it here, so a copy of the cookie stops working;
    it also ends ``LIMS_SESSION_MAX_HOURS`` after sign-in and after
    ``LIMS_SESSION_IDLE_MINUTES`` without a request (``lims/auth/sessions.py``)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.String(20))
    address: Mapped[str | None] = mapped_column(sa.String(64))
