from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, TimestampMixin, str_enum
from marketplace.core.roles import ROLE_LABELS, Role  # noqa: F401  (the accounts' words)
from marketplace.extensions import db


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    # every session, remember cookie and API token carries the generation it was issued in;
    # raising it (log-out, a new password, a role revoked, signing out everywhere) ends them
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # the name shown on the buyers' leaderboard (爱心榜); "" = not on it (opt-in)
    board_nickname: Mapped[str] = mapped_column(String(32), default="", server_default="")

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin",
        order_by="RoleGrant.id")

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    def get_id(self) -> str:  # flask-login: what the session and the remember cookie hold
        return f"{self.id}:{self.session_generation or 0}"

    @property
    def login_name(self) -> str:
        return self.email or self.mobile or f"user-{self.id}"

    def has_role(self, role: Role | str) -> bool:
        return any(g.role == role for g in self.grants)

    @property
    def roles(self) -> list[str]:
        return sorted({str(g.role) for g in self.grants})

    def seller_ids(self) -> set[int]:
        return {g.seller_id for g in self.grants if g.role == Role.seller_staff and g.seller_id}

    def office_region_ids(self) -> set[int]:
        return {g.region_id for g in self.grants if g.role == Role.office and g.region_id}


class RoleGrant(db.Model):
    """One role held by a user; seller staff name their seller, offices their region."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "seller_id", "region_id", name="uq_role_grants_scope"),
        Index("ix_role_grants_seller", "seller_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=None)

    user: Mapped[User] = relationship(back_populates="grants")
    # loaded when shown (account and admin pages): every authenticated request loads the grants
    seller = relationship("Seller")
    region = relationship("Region")

    def __init__(self, **kw):
        from marketplace.core.time import now_utc
        kw.setdefault("created_at", now_utc())
        super().__init__(**kw)


class LoginFailure(db.Model):
    """A failed sign-in, by the login typed (known or not) and the client's address; counted by
    accounts.guard over its window and pruned after it. The database holds the count, so every
    worker and every server sees the same one."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_login_key_at", "login_key", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
        Index("ix_login_failures_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    login_key: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(AwareDateTime())
