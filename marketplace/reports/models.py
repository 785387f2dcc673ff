"""What offices keep of their reports: the weights of their assessment indicators, and each
published assessment (一月一考核、一季度一排名) with its ranking rows, kept as published: publishing
the same period again makes a new version, never a change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId
from marketplace.extensions import db


class AssessmentWeights(db.Model):
    """An office region's weights (percent, summing to 100) for the ranking's indicators."""

    __tablename__ = "assessment_weights"
    __table_args__ = (CheckConstraint(
        "income_weight + coverage_weight + growth_weight + units_weight + match_weight = 100",
        name="weights_sum"),)

    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)
    income_weight: Mapped[int] = mapped_column(Integer)
    coverage_weight: Mapped[int] = mapped_column(Integer)
    growth_weight: Mapped[int] = mapped_column(Integer)
    units_weight: Mapped[int] = mapped_column(Integer)
    match_weight: Mapped[int] = mapped_column(Integer, server_default="0")  # 0035: 对接率
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())


class Assessment(db.Model):
    """A published ranking of a region's sub-regions for a period; version 1, 2, ... per
    (region, period). Never updated."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_region_period", "region_id", "period", "version",
                            unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))  # None: everywhere
    period: Mapped[str] = mapped_column(String(24))  # 2026-11, 2026-Q3, 2026, or dates
    version: Mapped[int] = mapped_column(Integer)
    weights: Mapped[str] = mapped_column(Text)  # JSON, as used
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(AwareDateTime())
    note: Mapped[str] = mapped_column(String(200), default="")

    region = relationship("Region")
    publisher = relationship("User")
    rows: Mapped[list[AssessmentRow]] = relationship(order_by="AssessmentRow.position",
                                                     back_populates="assessment")


class AssessmentRow(db.Model):
    """One sub-region of a published assessment, as ranked then."""

    __tablename__ = "assessment_rows"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order in the table
    code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(Integer)
    previous_rank: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)  # hundredths of a point, 0..10000
    income_per_household_fen: Mapped[int] = mapped_column(BigInteger)
    coverage_bp: Mapped[int] = mapped_column(Integer)
    growth_bp: Mapped[int | None] = mapped_column(Integer)
    units_progress_bp: Mapped[int | None] = mapped_column(Integer)
    match_rate_bp: Mapped[int | None] = mapped_column(Integer)  # 0035; None before it
    attributed_fen: Mapped[int] = mapped_column(BigInteger)
    households_reached: Mapped[int] = mapped_column(Integer)
    households_registered: Mapped[int] = mapped_column(Integer)

    assessment: Mapped[Assessment] = relationship(back_populates="rows")
