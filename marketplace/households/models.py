from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, TimestampMixin, str_enum
from marketplace.core.validators import mask_name
from marketplace.extensions import db


class HouseholdStatus(StrEnum):
    poor = "poor"  # 建档立卡户: still registered poor
    lifted = "lifted"  # 脱贫户: lifted out of poverty
    monitored = "monitored"  # 监测户: monitored against falling back


HOUSEHOLD_STATUS_LABELS = {
    HouseholdStatus.poor: "建档立卡户",
    HouseholdStatus.lifted: "脱贫户",
    HouseholdStatus.monitored: "监测户",
}


class Household(TimestampMixin, db.Model):
    """A registered household. The head's ID number is kept only as a keyed hash + last four."""

    __tablename__ = "households"
    __table_args__ = (CheckConstraint("size >= 1 AND size <= 30", name="size_range"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    head_name: Mapped[str] = mapped_column(String(32))
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_last4: Mapped[str] = mapped_column(String(4))
    size: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[HouseholdStatus] = mapped_column(str_enum(HouseholdStatus))
    liaison_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # the public page of its contributions (/h/<token>), while the household consents; a new
    # token each time consent is given, none once it is withdrawn
    public_token: Mapped[str | None] = mapped_column(String(24), unique=True)
    public_since: Mapped[datetime | None] = mapped_column(AwareDateTime())

    village = relationship("Region", lazy="joined")
    liaison = relationship("User", foreign_keys=[liaison_id])

    @property
    def masked_name(self) -> str:
        return mask_name(self.head_name)

    @property
    def status_label(self) -> str:
        return HOUSEHOLD_STATUS_LABELS[self.status]


class HouseholdConsent(db.Model):
    """Consent to a household's public page, given or withdrawn, as recorded (append-only: the
    latest row is the household's current answer, and `public_token` follows it)."""

    __tablename__ = "household_consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    public: Mapped[bool] = mapped_column()  # True: consent given; False: withdrawn
    method: Mapped[str] = mapped_column(String(100))  # how it was given, e.g. 户主书面签字
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())

    recorded_by = relationship("User")
