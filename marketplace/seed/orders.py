"""Demo orders (seed/orders.toml): bought, paid, shipped, received and some refunded through the
real services (`orders.services.checkout`, `payments.capture.record_payment` with the simulated
provider, `payments.refunds`, `orders.fulfilment`), so the households' income is posted to the
ledger exactly as a real sale posts it, and `flask ledger verify` holds afterwards.

Purchases are spread over the last weeks: every step (buy and pay, refund, ship, receive) is
planned with its time, and all steps run in time order, so the ledger's entries are in the order
of their times and each household's statement reads like a real one. Orders received more than 7
days ago are completed at the end (`fulfilment.advance`). Loaded once: when a demo order exists
the step is skipped. The notifications the steps leave are marked read, so a demo account does
not start with dozens of unread messages.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.time import CHINA
from marketplace.households import services as households
from marketplace.households.models import Household
from marketplace.notifications.models import Notification
from marketplace.orders import fulfilment, services
from marketplace.orders.models import Checkout, Order, OrderStatus
from marketplace.payments import refunds
from marketplace.payments.capture import record_payment
from marketplace.seed.people import household_code

KEY_PREFIX = "demo-order-"  # the checkouts' idempotency keys: demo-order-001, ...
PAY_AFTER = timedelta(minutes=4)
REFUND_AFTER = timedelta(hours=20)  # before shipping


@dataclass
class Purchase:
    number: int  # 1, 2, ... in time order
    buyer: str  # login
    at: datetime
    lines: list[tuple[str, int]]  # sku, quantity
    refund: str = ""  # "", "part" or "all"
    orders: list[Order] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    at: datetime
    purchase: Purchase
    action: str  # buy, refund, ship, receive


def plan(spec: dict, skus: Sequence[str], now: datetime) -> list[Purchase]:
    """The explicit purchases and the random ones, in time order, numbered (a pure function of
    the spec, the eligible SKUs and the time)."""
    made = [Purchase(0, p["buyer"], _daytime(now - timedelta(days=int(p["days_ago"])), 10),
                     [(sku, int(q)) for sku, q in p["lines"]], p.get("refund", ""))
            for p in spec.get("purchases", [])]
    rule = spec.get("random", {})
    rng = random.Random(rule.get("seed", 0))
    for buyer, count in sorted(rule.get("count", {}).items()):
        for n in range(1, int(count) + 1):
            chosen = rng.sample(list(skus), min(rng.randint(1, int(rule["max_lines"])),
                                                len(skus)))
            refund = ("all" if n % int(rule["refund_all_every"]) == 0 else
                      "part" if n % int(rule["refund_part_every"]) == 0 else "")
            day = now - timedelta(days=rng.randint(1, int(rule["days"])))
            made.append(Purchase(0, buyer, _daytime(day, rng.randint(8, 21), rng.randint(0, 59)),
                                 [(sku, rng.randint(1, int(rule["max_quantity"])))
                                  for sku in chosen], refund))
    made.sort(key=lambda p: (p.at, p.buyer))
    for number, purchase in enumerate(made, start=1):
        purchase.number = number
    return made


def steps(purchases: Sequence[Purchase], spec: dict, now: datetime) -> list[Step]:
    """Every purchase's steps with their times, all in time order; steps still in the future
    are left out (a purchase of yesterday is paid, not yet shipped)."""
    to_ship = timedelta(days=float(spec.get("days_to_ship", 1)))
    to_receive = timedelta(days=float(spec.get("days_to_receive", 3)))
    out = []
    for p in purchases:
        out.append(Step(p.at, p, "buy"))
        if p.refund:
            out.append(Step(p.at + REFUND_AFTER, p, "refund"))
        if p.refund != "all":
            shipped = p.at + to_ship
            out += [Step(shipped, p, "ship"), Step(shipped + to_receive, p, "receive")]
    return sorted((s for s in out if s.at <= now), key=lambda s: (s.at, s.purchase.number))


def _daytime(day: datetime, hour: int, minute: int = 0) -> datetime:
    """`day`'s China date at hour:minute China time, in UTC."""
    return day.astimezone(CHINA).replace(hour=hour, minute=minute, second=0,
                                         microsecond=0).astimezone(UTC)


class OrderSeeder:
    """Runs the plan through the services; `run` answers how many orders it made."""

    def __init__(self, session: Session, spec: dict, users: dict[str, User], admin: User,
                 now: datetime):
        self.session, self.spec, self.users, self.admin, self.now = (
            session, spec, users, admin, now)
        self.products: dict[str, int] = {}  # sku -> product id, read when the plan runs

    def existing(self) -> int:
        """How many demo orders there are (0: the step has not run)."""
        return self.session.scalar(select(func.count(Order.id)).join(Checkout).where(
            Checkout.idempotency_key.like(KEY_PREFIX + "%"))) or 0

    def eligible_skus(self) -> list[str]:
        return list(self.session.scalars(select(Product.sku).where(
            Product.status == ProductStatus.listed,
            Product.stock >= int(self.spec.get("random", {}).get("min_stock", 20)))
            .order_by(Product.sku)))

    def run(self, progress: Callable[[int], None], todo: list[Step]) -> int:
        self.products = dict(self.session.execute(select(Product.sku, Product.id)).all())
        told_before = self.session.scalar(select(func.max(Notification.id))) or 0
        made = 0
        for step in todo:
            made += getattr(self, "_" + step.action)(step)
            progress(1)
        fulfilment.advance(self.session, now=self.now)
        self._public_pages()
        self.session.execute(update(Notification).where(  # what these steps said
            Notification.id > told_before, Notification.read_at.is_(None))
            .values(read_at=self.now))
        self.session.flush()
        return made

    def _buy(self, step: Step) -> int:
        p = step.purchase
        address = self.spec["addresses"][p.buyer]
        buyer = self.users[p.buyer]
        p.orders = services.checkout(
            self.session, buyer, [services.LineInput(self.products[sku], q) for sku, q in p.lines],
            services.AddressInput(address["recipient"], address["mobile"], address["region"],
                                  address["detail"]),
            idempotency_key=f"{KEY_PREFIX}{p.number:03d}", now=step.at)
        for order in p.orders:
            record_payment(self.session, order, provider="simulated",
                           reference=f"demo-{order.number}", amount_fen=order.total_fen,
                           currency=order.currency, now=step.at + PAY_AFTER)
        return len(p.orders)

    def _refund(self, step: Step) -> int:
        p = step.purchase
        first = p.orders[0]
        for order in p.orders if p.refund == "all" else [first]:
            amount = None if p.refund == "all" else order.paid_fen // 3
            refunds.refund(self.session, self.admin, order, amount_fen=amount,
                           reason="演示：买家申请退款", now=step.at)
        return 0

    def _ship(self, step: Step) -> int:
        for order in step.purchase.orders:
            if order.status == OrderStatus.paid:
                fulfilment.ship(self.session, self.admin, order, carrier="中国邮政",
                                tracking_no=f"98{order.id:010d}", now=step.at)
        return 0

    def _receive(self, step: Step) -> int:
        buyer = self.users[step.purchase.buyer]
        for order in step.purchase.orders:
            if order.status == OrderStatus.shipped:
                fulfilment.confirm_receipt(self.session, buyer, order, now=step.at)
        return 0

    def _public_pages(self) -> None:
        for ref in self.spec.get("public", []):
            household = self.session.scalar(select(Household).where(
                Household.code == household_code(ref["village"], int(ref["seq"]))))
            if household is None or household.public_token:
                continue
            liaison = self.session.get(User, household.liaison_id)
            households.set_public(self.session, liaison, household, True, ref["method"],
                                  now=self.now)
