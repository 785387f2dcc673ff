"""An event's report for its organisers (and platform admins): the orders that carry the event
(online, placed from its page) and its offline sales, their paid sales net of refunds, by
seller; the households reached and the income attributed to them (the ledger entries of the
lines of the event's orders, net of reversals); and the same as an xlsx workbook (one sheet per
table, `units.exports`' house style).

Amounts are integer fen; reading never writes."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from marketplace.core.i18n import translate_message
from marketplace.core.time import CHINA, as_aware
from marketplace.core.validators import mask_name
from marketplace.help.events.models import EVENT_KIND_LABELS, Event
from marketplace.households.models import Household
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Channel, Order, OrderLine
from marketplace.regions.models import Region, short_place
from marketplace.sellers.models import Seller
from marketplace.units.exports import Money, Sheet, sheets_bytes


@dataclass(frozen=True)
class SellerRow:
    seller_id: int
    name: str
    online_orders: int
    online_fen: int  # paid, net of refunds
    offline_orders: int
    offline_fen: int
    attributed_fen: int


@dataclass(frozen=True)
class HouseholdRow:
    masked_name: str
    village: str
    amount_fen: int


@dataclass
class EventReport:
    event: Event
    online_orders: int = 0  # paid orders placed from the event
    online_fen: int = 0
    offline_orders: int = 0
    offline_fen: int = 0
    attributed_fen: int = 0
    households: list[HouseholdRow] = field(default_factory=list)
    sellers: list[SellerRow] = field(default_factory=list)

    @property
    def sales_fen(self) -> int:
        return self.online_fen + self.offline_fen

    @property
    def households_reached(self) -> int:
        return len(self.households)


def build(session: Session, event: Event) -> EventReport:
    """The event's report (the caller checked who may read it)."""
    offline = Order.channel == Channel.offline
    paid = Order.paid_at.is_not(None)
    net = Order.paid_fen - Order.refunded_fen
    by_seller = session.execute(
        select(Order.seller_id, Seller.name,
               func.sum(case((~offline, 1), else_=0)),
               func.sum(case((~offline, net), else_=0)),
               func.sum(case((offline, 1), else_=0)),
               func.sum(case((offline, net), else_=0)))
        .join(Seller, Seller.id == Order.seller_id)
        .where(Order.event_id == event.id, paid)
        .group_by(Order.seller_id, Seller.name).order_by(Order.seller_id)).all()
    attributed = dict(session.execute(
        select(Order.seller_id, func.sum(LedgerEntry.amount_fen))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(LedgerEntry, LedgerEntry.order_line_id == OrderLine.id)
        .where(Order.event_id == event.id).group_by(Order.seller_id)).all())
    amount = func.sum(LedgerEntry.amount_fen)
    households = session.execute(
        select(Household.head_name, Region.name_path, amount)
        .join(LedgerEntry, LedgerEntry.household_id == Household.id)
        .join(OrderLine, OrderLine.id == LedgerEntry.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Region, Region.id == Household.village_id)
        .where(Order.event_id == event.id)
        .group_by(Household.id, Household.head_name, Region.name_path)
        .having(amount > 0).order_by(amount.desc(), Household.id)).all()
    report = EventReport(event)
    for sid, name, on_n, on_fen, off_n, off_fen in by_seller:
        row = SellerRow(sid, name, int(on_n or 0), int(on_fen or 0), int(off_n or 0),
                        int(off_fen or 0), int(attributed.get(sid) or 0))
        report.sellers.append(row)
        report.online_orders += row.online_orders
        report.online_fen += row.online_fen
        report.offline_orders += row.offline_orders
        report.offline_fen += row.offline_fen
    report.attributed_fen = sum(int(v or 0) for v in attributed.values())
    report.households = [HouseholdRow(mask_name(name), short_place(path), int(total))
                         for name, path, total in households]
    return report


# ---- the workbook ------------------------------------------------------------------------------

def _t(text: str) -> str:
    return translate_message(text)


def _when(event: Event) -> str:
    starts = as_aware(event.starts_at).astimezone(CHINA)
    ends = as_aware(event.ends_at).astimezone(CHINA)
    return f"{starts:%Y-%m-%d %H:%M} ~ {ends:%Y-%m-%d %H:%M}"


def workbook(report: EventReport) -> bytes:
    """The report as xlsx: the summary, the sellers, the households reached (masked)."""
    event = report.event
    title = f"{event.title}（{_t(EVENT_KIND_LABELS[event.kind])}，{_when(event)}）"
    summary = [
        [_t("线上订单（笔）"), report.online_orders],
        [_t("线上销售额（扣除退款）"), Money(report.online_fen)],
        [_t("线下销售（笔）"), report.offline_orders],
        [_t("线下销售额（扣除退款）"), Money(report.offline_fen)],
        [_t("销售额合计"), Money(report.sales_fen)],
        [_t("带动帮扶对象（户）"), report.households_reached],
        [_t("帮扶对象增收"), Money(report.attributed_fen)],
    ]
    sellers = [[r.name, r.online_orders, Money(r.online_fen), r.offline_orders,
                Money(r.offline_fen), Money(r.attributed_fen)] for r in report.sellers]
    households = [[r.masked_name, r.village, Money(r.amount_fen)] for r in report.households]
    return sheets_bytes([
        Sheet(_t("汇总"), title, [_t("指标"), _t("数值")], summary),
        Sheet(_t("分经营主体"), title, [_t("经营主体"), _t("线上订单（笔）"), _t("线上销售额"),
                                      _t("线下销售（笔）"), _t("线下销售额"), _t("帮扶对象增收")],
              sellers),
        Sheet(_t("带动帮扶对象"), title, [_t("帮扶对象"), _t("所在村"), _t("增收金额")],
              households),
    ])


def filename(event: Event) -> str:
    starts = as_aware(event.starts_at).astimezone(CHINA)
    return f"{event.title}-{starts:%Y-%m-%d}-{_t('活动报表')}.xlsx"
