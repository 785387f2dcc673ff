"""Demo data for the offices' reports (seed/reports.toml): a fair's sales of last month recorded
through the real offline-sales service (`payments.offline.record_offline_sale`, posted to the
ledger like an online sale), then last month's ranking of 洞口县's townships published by its
office (`reports.assessment.publish`). Loaded once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog.models import Product
from marketplace.core.time import CHINA
from marketplace.orders import offline
from marketplace.orders.models import Order
from marketplace.payments.offline import record_offline_sale
from marketplace.regions.models import Region
from marketplace.reports import assessment, periods
from marketplace.sellers.models import Seller


def fair_time(now: datetime, day: int, hour: int) -> datetime:
    """`day` of the month before `now`'s (China time) at `hour`, in UTC."""
    first = now.astimezone(CHINA).replace(day=1, hour=hour, minute=0, second=0, microsecond=0)
    last_month = (first - timedelta(days=1)).replace(day=1)
    return last_month.replace(day=day).astimezone(UTC)


class ReportSeeder:
    def __init__(self, session: Session, spec: dict, users: dict[str, User],
                 sellers: dict[str, Seller], now: datetime):
        self.session, self.spec, self.users, self.sellers, self.now = (
            session, spec, users, sellers, now)

    def sales(self) -> list[dict]:
        return self.spec.get("fair", {}).get("sales", [])

    def loaded(self) -> bool:
        first = self.sales()[0] if self.sales() else None
        return first is not None and self.session.scalar(select(Order.id).where(
            Order.receipt_no == first["receipt"])) is not None

    def run(self, step) -> int:
        fair = self.spec["fair"]
        at = fair_time(self.now, int(fair["day"]), int(fair["hour"]))
        skus = {sku for sale in self.sales() for sku, _q, _p in sale["lines"]}
        products = {p.sku: p for p in self.session.scalars(
            select(Product).where(Product.sku.in_(sorted(skus))))}
        made = 0
        for sale in self.sales():
            record_offline_sale(self.session, self.users[sale["staff"]],
                                self.sellers[sale["seller"]], offline.OfflineSaleInput(
                                    sold_on=at.astimezone(CHINA).date(), place=fair["place"],
                                    lines=[offline.OfflineLine(
                                        product_id=products[sku].id, quantity=int(q),
                                        unit_price=int(Decimal(price) * 100))
                                        for sku, q, price in sale["lines"]],
                                    payment_method=sale["payment_method"],
                                    receipt_no=sale["receipt"]), now=at)
            made += 1
            step()
        wanted = self.spec.get("assessment")
        if wanted:
            region = self.session.scalar(select(Region).where(Region.code == wanted["region"]))
            today = self.now.astimezone(CHINA).date()
            last_month = periods.previous(periods.month(today.year, today.month))
            assessment.publish(self.session, self.users[wanted["office"]], region, last_month,
                               now=self.now, note=wanted.get("note", ""))
            step()
        self.session.flush()
        return made
