"""Targeting (精准帮扶): the registered households under a region with no attributed income in a
period (net of reversals: nothing, or less back than taken), monitored households (监测户)
first, then by village and code, with their village and liaison; and a notice to each liaison
listing theirs (an office's decision: audited)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from marketplace.accounts.models import User
from marketplace.audit import services as audit
from marketplace.core.i18n import Msg
from marketplace.households.models import Household, HouseholdStatus
from marketplace.ledger.models import IncomeDay
from marketplace.notifications.services import notify
from marketplace.regions.models import Region
from marketplace.reports.periods import Period
from marketplace.reports.shapes import within

NOTICE_LIST = 20  # households named in one liaison's notice; the rest are counted


@dataclass(frozen=True)
class TargetRow:
    household_id: int
    code: str
    display_name: str  # masked
    village: str  # the village's name
    village_code: str
    township: str
    status: str
    liaison: str  # the liaison's name, or ""
    liaison_id: int | None


@dataclass
class Targeting:
    items: list[TargetRow]
    total: int
    monitored: int  # of the total, monitored households


def _query(region: Region | None, period: Period):
    village, township = aliased(Region), aliased(Region)
    earning = (select(IncomeDay.household_id)
               .where(IncomeDay.day >= period.start, IncomeDay.day <= period.end)
               .group_by(IncomeDay.household_id).having(func.sum(IncomeDay.amount_fen) > 0))
    base = (select(Household, village, township, User)
            .join(village, village.id == Household.village_id)
            .join(township, township.id == village.parent_id, isouter=True)
            .join(User, User.id == Household.liaison_id, isouter=True)
            .where(within(village.path, region), Household.id.not_in(earning)))
    return base, village


def without_income(session: Session, region: Region | None, period: Period, *,
                   page: int | None = None, per_page: int = 50) -> Targeting:
    """The households without income (a page of them, or all with `page` None)."""
    base, village = _query(region, period)
    first = case((Household.status == HouseholdStatus.monitored, 0), else_=1)
    sub = base.with_only_columns(Household.id.label("hid"),
                                 Household.status.label("status")).subquery()
    total, monitored = session.execute(select(
        func.count(), func.coalesce(func.sum(case(
            (sub.c.status == HouseholdStatus.monitored.value, 1), else_=0)), 0))).one()
    stmt = base.order_by(first, village.code, Household.code)
    if page is not None:
        stmt = stmt.offset((max(page, 1) - 1) * per_page).limit(per_page)
    items = [TargetRow(h.id, h.code, h.masked_name, v.name, v.code, t.name if t else "",
                       str(h.status), u.display_name if u else "", u.id if u else None)
             for h, v, t, u in session.execute(stmt)]
    return Targeting(items, int(total), int(monitored))


def notify_liaisons(session: Session, actor, region: Region | None, period: Period) -> tuple[int, int]:
    """Tell each liaison which of their households had no income in the period (one notice
    each, naming up to NOTICE_LIST of them); (liaisons told, households without a liaison)."""
    found = without_income(session, region, period)
    theirs: dict[int, list[TargetRow]] = {}
    orphans = 0
    for row in found.items:
        if row.liaison_id is None:
            orphans += 1
        else:
            theirs.setdefault(row.liaison_id, []).append(row)
    for liaison_id, rows in sorted(theirs.items()):
        named = "、".join(f"{r.display_name}（{r.village}）" for r in rows[:NOTICE_LIST])
        more = len(rows) - NOTICE_LIST
        message = (Msg("%(period)s 您联系的 %(n)s 户没有帮扶收入：%(names)s 等，请走访了解并帮助对接销售",
                       period=period.label, n=len(rows), names=named) if more > 0 else
                   Msg("%(period)s 您联系的 %(n)s 户没有帮扶收入：%(names)s，请走访了解并帮助对接销售",
                       period=period.label, n=len(rows), names=named))
        notify(session, [liaison_id], message, "households.liaison_index")
    audit.record(session, actor, "liaisons_notified", "region",
                 region.id if region is not None else 0,
                 after={"period": period.name, "liaisons": len(theirs),
                        "households": found.total, "without_liaison": orphans})
    return len(theirs), orphans
