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
    def address_name(self) -> str:
        """The names a postal address writes, e.g. '北京市朝阳区' (see `address_name`)."""
        return address_name(self.name_path)

    @property
    def choice_label(self) -> str:
        """How the node reads among its siblings in an address choice (see `choice_label`)."""
        return choice_label(self.name_path)

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


# City-level nodes of GB/T 2260 that group places rather than name one: a municipality's
# districts (北京市 > 市辖区 > 朝阳区) and counties (重庆市 > 县 > 丰都县), and the county-level
# places a province governs directly (湖北省 > 省直辖县级行政区划 > 仙桃市). The tree keeps
# them, so that every county sits at depth 2 (省 > 市 > 区县); an address skips them.
GROUP_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


def address_name(name_path: str) -> str:
    """The names of a '/'-separated name path as an address writes them: without a group
    node, and a name that repeats its parent's once ('广东省/东莞市/东莞市' is 广东省东莞市)."""
    kept: list[str] = []
    for depth, name in enumerate(name_path.split("/")):
        if (depth == 1 and name in GROUP_NAMES) or (kept and kept[-1] == name):
            continue
        kept.append(name)
    return "".join(kept)


def choice_label(name_path: str) -> str:
    """A node's label among its siblings: its name, except that a municipality's 市辖区 reads
    as the municipality ('北京市') and its 县 as '重庆市（县）'."""
    names = name_path.split("/")
    if len(names) == 2 and names[1] == "市辖区":
        return names[0]
    if len(names) == 2 and names[1] == "县":
        return names[0] + "（县）"
    return names[-1]
