"""The roles a user can hold (stored on accounts' role grants; checked by `core.policy`)."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    buyer = "buyer"  # browses and buys to help
    seller_staff = "seller_staff"  # works for one seller (bound to it)
    liaison = "liaison"  # acts for households without internet
    office = "office"  # a rural revitalisation office, bound to one region subtree
    unit_admin = "unit_admin"  # manages a unit (budget unit, enterprise, union)
    platform_admin = "platform_admin"  # certifies sellers and products, manages regions and users


ROLE_LABELS = {
    Role.buyer: "买家",
    Role.seller_staff: "经营主体员工",
    Role.liaison: "帮扶联络人",
    Role.office: "帮扶办",
    Role.unit_admin: "单位管理员",
    Role.platform_admin: "平台管理员",
}
