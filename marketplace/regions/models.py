from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import BigId, str_enum
from marketplace.extensions import db


class RegionLevel(StrEnum):
    province = "province"  # 省, 2-digit code
    city = "city"  # 市/州, 4 digits
    county = "county"  # 县/区/县级市, 6 digits (GB/T 2260)
    township = "township"  # 乡/镇/街道, 9 digits
    village = "village"  # 村/社区, 12 digits


LEVEL_CODE_LENGTH = {
    RegionLevel.province: 2,
    RegionLevel.city: 4,
    RegionLevel.county: 6,
    RegionLevel.township: 9,
    RegionLevel.village: 12,
}
LEVEL_BY_LENGTH = {v: k for k, v in LEVEL_CODE_LENGTH.items()}
LEVEL_ORDER = list(LEVEL_CODE_LENGTH)
LEVEL_LABELS = {
    RegionLevel.province: "省",
    RegionLevel.city: "市",
    RegionLevel.county: "县",
    RegionLevel.township: "乡镇",
    RegionLevel.village: "村",
}


class Region(db.Model):
    """A node of the administrative tree; `path` is '/43/4305/430525/' for prefix queries."""

    __tablename__ = "regions"
    __table_args__ = (
        Index("ix_regions_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel))
    depth: Mapped[int] = mapped_column(SmallInteger)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    path: Mapped[str] = mapped_column(String(80))
    # names from the province down to this node, '/'-separated: kept with `path` so that a
    # product card or breadcrumb needs no walk up the tree
    name_path: Mapped[str] = mapped_column(String(400))

    parent: Mapped[Region | None] = relationship(remote_side="Region.id")

    @property
    def path_codes(self) -> list[str]:
        return [c for c in self.path.split("/") if c]

    @property
    def path_names(self) -> list[str]:
        return self.name_path.split("/")

    @property
    def full_name(self) -> str:
        return "".join(self.path_names)

    @property
    def short_place(self) -> str:
        """County and below, e.g. '洞口县月溪镇洪溪村' (what shoppers recognise)."""
        return short_place(self.name_path)

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


def short_place(name_path: str) -> str:
    """County and below of a '/'-separated name path (a Region's `short_place`)."""
    names = name_path.split("/")
    return "".join(names[2:]) if len(names) > 2 else "".join(names)
