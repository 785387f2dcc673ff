"""Data and database work for bench/checkout.py, run inside an app context of the bench database.

- `make_fixtures`: buyers with a known password and the benchmark's own products (listed, of a
  verified demo seller that has staff, so that a payment also notifies the seller's staff). The
  products are lot-backed with supply lots from three households covering their whole stock,
  so that every paid order also draws on a lot and posts the households' income to the ledger
  (the demo seller is an enterprise; share 1500 bp).
- `table_counts`: rows per table, to see what one paid order writes.
- `floor`: the rows one paid order leaves behind, written with plain SQLAlchemy Core inserts on
  the app's tables (no HTTP, no services, no ORM unit of work), one transaction per order: the
  order's rows, and the lot draw and ledger entry of its households' income.
- `stock_check`: sold units against the stock a product started with (the oversell check).
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, insert, select, update

from marketplace.accounts.models import Role, RoleGrant, User
from marketplace.accounts.services import hash_password
from marketplace.catalog.models import Category, Product, ProductStatus
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc, today_china
from marketplace.households.models import Household
from marketplace.ledger import rollup, rules
from marketplace.ledger.models import LedgerEntry, LedgerHead, LotDraw, SupplyLot
from marketplace.notifications.messages import Notice
from marketplace.notifications.models import Notification
from marketplace.orders.models import Channel, Checkout, Order, OrderEvent, OrderLine, OrderStatus
from marketplace.orders.services import order_number
from marketplace.payments.models import Payment, PaymentStatus
from marketplace.regions.models import Region
from marketplace.search.models import OutboxKind, SearchOutbox
from marketplace.sellers.models import Seller, SellerStatus

PASSWORD = "bench-secret-123"
BUYER_LOGIN = "bench.buyer{}@bench.test"
PRICE_FEN = 1000

# the tables a paid order writes to (the floor writes the same ones)
ORDER_TABLES = (Checkout, Order, OrderLine, OrderEvent, Payment, Notification, SearchOutbox,
                LotDraw, LedgerEntry)
LOT_HOUSEHOLDS = 3  # each product's stock is covered by lots from this many households


@dataclass
class Fixtures:
    buyers: list[tuple[int, str]]  # (user id, login)
    seller_id: int
    seller_name: str
    staff_ids: list[int]
    products: dict[str, list[int]] = field(default_factory=dict)  # role -> product ids
    stock: dict[int, int] = field(default_factory=dict)  # product id -> initial stock


def make_fixtures(session, *, buyers: int, products: dict[str, list[int]]) -> Fixtures:
    """`products` maps a role ('load', 'oversell', 'floor', ...) to the stocks of its products."""
    staffed = (select(RoleGrant.seller_id, func.count().label("n"))
               .where(RoleGrant.role == Role.seller_staff).group_by(RoleGrant.seller_id)
               .subquery())
    seller = session.scalar(
        select(Seller).join(staffed, staffed.c.seller_id == Seller.id)
        .where(Seller.status == SellerStatus.verified).order_by(Seller.id).limit(1))
    if seller is None:  # no staffed seller: any verified one (the payment notifies nobody there)
        seller = session.scalar(select(Seller).where(Seller.status == SellerStatus.verified)
                                .order_by(Seller.id).limit(1))
    if seller is None:
        raise RuntimeError("no verified seller in the database: did `flask seed demo` run?")
    category = session.scalar(select(Category).order_by(Category.id).limit(1))
    if category is None:
        raise RuntimeError("no category in the database: did `flask seed demo` run?")
    staff = list(session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == Role.seller_staff, RoleGrant.seller_id == seller.id)))

    households = list(session.scalars(select(Household.id).order_by(Household.id)
                                      .limit(LOT_HOUSEHOLDS)))
    if len(households) < LOT_HOUSEHOLDS:
        raise RuntimeError("too few households in the database: did `flask seed demo` run?")
    digest = hash_password(PASSWORD)  # one scrypt hash for all of them
    users = []
    for i in range(buyers):
        user = User(email=BUYER_LOGIN.format(i), display_name=f"压测买家{i}",
                    password_hash=digest)
        user.grants.append(RoleGrant(role=Role.buyer))
        session.add(user)
        users.append(user)
    session.flush()

    out = Fixtures(buyers=[(u.id, u.email) for u in users], seller_id=seller.id,
                   seller_name=seller.name, staff_ids=staff)
    now = now_utc()
    for role, stocks in products.items():
        made = []
        for i, stock in enumerate(stocks):
            product = Product(sku=f"BENCH-{role}-{i}"[:32], seller_id=seller.id,
                              category_id=category.id, origin_id=seller.region_id,
                              name=f"压测商品 {role} {i}", spec="1件", description="",
                              price_fen=PRICE_FEN, stock=stock, status=ProductStatus.listed,
                              listed_at=now, lot_backed=True)
            session.add(product)
            made.append(product)
        session.flush()
        for product, stock in zip(made, stocks, strict=True):
            _lots(session, seller, product, stock, households, now)
        out.products[role] = [p.id for p in made]
        out.stock.update({p.id: s for p, s in zip(made, stocks, strict=True)})
    return out


def _lots(session, seller: Seller, product: Product, stock: int, households: list[int],
          now) -> None:
    """Lots from `households` (oldest first) that together hold the product's whole stock."""
    parts = [stock // len(households)] * len(households)
    parts[0] += stock - sum(parts)
    for i, (household, quantity) in enumerate(zip(households, parts, strict=True)):
        if quantity:
            session.add(SupplyLot(
                seller_id=seller.id, product_id=product.id, household_id=household,
                quantity=quantity, remaining=quantity, unit_price_fen=PRICE_FEN * 2 // 5,
                purchased_on=today_china() - timedelta(days=len(households) - i),
                below_guarantee=False, created_at=now))
    session.flush()


def region_exists(session, code: str) -> bool:
    return session.scalar(select(Region.id).where(Region.code == code)) is not None


def table_counts(conn) -> dict[str, int]:
    return {m.__tablename__: conn.execute(select(func.count()).select_from(m.__table__)).scalar()
            for m in ORDER_TABLES}


def product_stock(conn, product_ids: list[int]) -> dict[int, int]:
    return dict(conn.execute(select(Product.id, Product.stock)
                             .where(Product.id.in_(product_ids))).all())


# ---- the floor -------------------------------------------------------------------------------

@dataclass
class FloorResult:
    orders: int
    seconds: float
    rows_per_order: dict[str, float]

    @property
    def rate(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0


def floor(engine, fx: Fixtures, product_id: int, count: int, *, region_code: str,
          progress: Callable[[str], None] = lambda _: None) -> FloorResult:
    """`count` paid orders of one unit of `product_id`, each as the rows the HTTP path leaves:
    the conditional stock UPDATE, a checkout, an order (already paid), its line, two events
    (created, paid), a payment, the notifications (buyer, seller staff), a search outbox row,
    the lot draw, the ledger entry with its head, and the reports' pre-aggregates (the
    household's income_days row and the seller's sales_days row, upserted as
    `ledger.rollup` does). One connection, one transaction per order, committed."""
    t_checkout, t_order, t_line = Checkout.__table__, Order.__table__, OrderLine.__table__
    t_event, t_payment = OrderEvent.__table__, Payment.__table__
    t_note, t_outbox, t_product = Notification.__table__, SearchOutbox.__table__, Product.__table__
    t_lot, t_draw, t_entry = SupplyLot.__table__, LotDraw.__table__, LedgerEntry.__table__
    t_head = LedgerHead.__table__
    with engine.connect() as conn:
        seller = conn.execute(select(Seller.shipping_fee_fen, Seller.free_shipping_from_fen,
                                     Seller.household_share_bp)
                              .where(Seller.id == fx.seller_id)).one()
        attributable = rules.attributable_fen(PRICE_FEN, seller.household_share_bp)
        region = conn.execute(select(Region.id, Region.name_path)
                              .where(Region.code == region_code)).one()
        name, category = conn.execute(select(Product.name, Product.category_id)
                                      .where(Product.id == product_id)).one()
        kind = str(conn.execute(select(Seller.kind).where(Seller.id == fx.seller_id))
                   .scalar_one().value)
        before = table_counts(conn)
        conn.commit()
        shipping = seller.shipping_fee_fen or 0
        if seller.free_shipping_from_fen is not None and PRICE_FEN >= seller.free_shipping_from_fen:
            shipping = 0
        total = PRICE_FEN + shipping
        buyers = [b for b, _ in fx.buyers]
        step = max(1, count // 5)
        t0 = time.perf_counter()
        for i in range(count):
            buyer = buyers[i % len(buyers)]
            now = now_utc()
            with conn.begin():
                taken = conn.execute(update(t_product).where(
                    t_product.c.id == product_id, t_product.c.stock >= 1)
                    .values(stock=t_product.c.stock - 1)).rowcount
                if taken != 1:
                    raise RuntimeError(f"floor: product {product_id} ran out of stock")
                checkout_id = conn.execute(insert(t_checkout).values(
                    buyer_id=buyer, idempotency_key=uuid.uuid4().hex,
                    fingerprint="0" * 64, created_at=now)).inserted_primary_key[0]
                number = order_number(now, checkout_id, 0)
                order_id = conn.execute(insert(t_order).values(
                    number=number, checkout_id=checkout_id,
                    buyer_id=buyer, seller_id=fx.seller_id, channel=Channel.individual,
                    status=OrderStatus.paid, goods_fen=PRICE_FEN, shipping_fen=shipping,
                    total_fen=total, paid_fen=total, refunded_fen=0, currency="CNY",
                    reserved_until=None, stock_held=False, paid_at=now,
                    recipient="王小红", mobile="13912345678", region_id=region.id,
                    region_names=region.name_path.replace("/", ""), address_detail="卢峰镇建设路8号",
                    created_at=now, updated_at=now)).inserted_primary_key[0]
                line_id = conn.execute(insert(t_line).values(
                    order_id=order_id, product_id=product_id, name=name, spec="1件",
                    unit_price_fen=PRICE_FEN, quantity=1, amount_fen=PRICE_FEN,
                    share_bp=seller.household_share_bp,
                    attributable_fen=attributable)).inserted_primary_key[0]
                # the households' income: one unit from the oldest open lot, one entry
                lot_id, household = conn.execute(
                    select(t_lot.c.id, t_lot.c.household_id)
                    .where(t_lot.c.product_id == product_id, t_lot.c.remaining > 0)
                    .order_by(t_lot.c.purchased_on, t_lot.c.id).limit(1)).one()
                conn.execute(update(t_lot).where(t_lot.c.id == lot_id)
                             .values(remaining=t_lot.c.remaining - 1))
                conn.execute(insert(t_draw).values(lot_id=lot_id, order_line_id=line_id,
                                                   household_id=household, quantity=1))
                seq, last = conn.execute(select(t_head.c.last_seq, t_head.c.last_hash)
                                         .where(t_head.c.id == 1)).one()
                entry = rules.make_entry(seq, last, household, line_id, attributable,
                                         rules.SALE, now)
                conn.execute(insert(t_entry).values(
                    seq=entry.seq, household_id=household, order_line_id=line_id,
                    amount_fen=attributable, kind=rules.SALE, created_at=now,
                    prev_hash=entry.prev_hash, hash=entry.hash))
                conn.execute(update(t_head).where(t_head.c.id == 1)
                             .values(last_seq=entry.seq, last_hash=entry.hash))
                # the reports' pre-aggregates, as ledger.rollup writes them
                day = rollup.china_day(now)
                month = rollup.month_of(day)
                where = rollup.places(conn, [household], [fx.seller_id])
                village, area = where.households[household]
                dims = ("individual", category, kind)
                rollup.upsert(conn, rollup.INCOME_DAYS, {
                    (day, household, *dims): [village, month, attributable, 1]})
                rollup.upsert(conn, rollup.INCOME_MONTHS, {
                    (area, month, *dims): [attributable, 1]})
                rollup.upsert(conn, rollup.HOUSEHOLD_PERIODS, {
                    (village, key, household): [attributable, 1]
                    for key in rollup.period_keys(day)})
                rollup.upsert(conn, rollup.SALES_DAYS, {
                    (day, fx.seller_id, "individual", category): [kind, month, PRICE_FEN, 0, 1]})
                rollup.upsert(conn, rollup.SALES_MONTHS, {
                    (where.sellers[fx.seller_id], month, *dims): [PRICE_FEN, 0]})
                conn.execute(insert(t_event), [
                    {"order_id": order_id, "kind": "created", "from_status": "",
                     "to_status": OrderStatus.pending_payment, "actor_id": buyer, "note": "",
                     "created_at": now},
                    {"order_id": order_id, "kind": "paid",
                     "from_status": OrderStatus.pending_payment, "to_status": OrderStatus.paid,
                     "actor_id": None, "note": f"simulated sim-{order_id}", "created_at": now}])
                conn.execute(insert(t_payment).values(
                    order_id=order_id, provider="simulated", reference=f"sim-{order_id}",
                    amount_fen=total, currency="CNY", status=PaymentStatus.succeeded,
                    created_at=now))
                # what notices.to_buyer_and_seller writes: the buyer's and the staff's notices
                to_buyer = Notice(Msg("订单 %(n)s 已付款，等待商家发货", n=number),
                                  "orders.order_page", {"order_id": order_id}).columns()
                to_staff = Notice(Msg("新订单 %(n)s 已付款，请尽快发货", n=number),
                                  "seller_orders.index",
                                  {"seller": fx.seller_id, "status": OrderStatus.paid}).columns()
                conn.execute(insert(t_note), [
                    {"user_id": uid, "url": "", "created_at": now, **told} for uid, told in
                    [(buyer, to_buyer), *((uid, to_staff) for uid in fx.staff_ids)]])
                conn.execute(insert(t_outbox).values(kind=OutboxKind.product,
                                                     entity_id=product_id, created_at=now))
            if (i + 1) % step == 0:
                progress(f"    floor: {i + 1}/{count}")
        seconds = time.perf_counter() - t0
        after = table_counts(conn)
        conn.commit()
    return FloorResult(count, seconds,
                       {k: (after[k] - before[k]) / count for k in after})


# ---- the oversell check ------------------------------------------------------------------------

@dataclass
class StockCheck:
    product_id: int
    initial: int
    remaining: int  # the free units (products.stock)
    sold: int  # units on orders that hold or bought them (not cancelled)
    paid_orders: int
    payments: int  # succeeded payment rows for those orders
    held: int = 0  # products.held
    holding: int = 0  # units on orders waiting for payment with their stock held

    @property
    def oversell(self) -> int:
        """Units sold beyond the initial stock, plus any negative remaining stock."""
        return max(0, self.sold - self.initial) + max(0, -self.remaining)

    @property
    def consistent(self) -> bool:
        """Free units are what was not sold or held, held units are those unpaid orders hold
        (so on hand, free + held, is the initial stock less the units paid for)."""
        return self.initial - self.remaining == self.sold and self.remaining >= 0 \
            and self.sold <= self.initial and self.held == self.holding


def stock_check(conn, product_id: int, initial: int) -> StockCheck:
    remaining, held_units = conn.execute(select(Product.stock, Product.held)
                                         .where(Product.id == product_id)).one()
    holding = conn.execute(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product_id, Order.status == OrderStatus.pending_payment,
               Order.stock_held.is_(True))).scalar_one()
    held = (OrderStatus.pending_payment, OrderStatus.paid, OrderStatus.shipped,
            OrderStatus.received, OrderStatus.completed)
    sold = conn.execute(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product_id, Order.status.in_(held))).scalar_one()
    paid_ids = (select(OrderLine.order_id).join(Order, Order.id == OrderLine.order_id)
                .where(OrderLine.product_id == product_id, Order.status == OrderStatus.paid))
    paid = conn.execute(select(func.count()).select_from(paid_ids.subquery())).scalar_one()
    payments = conn.execute(select(func.count()).select_from(Payment).where(
        Payment.order_id.in_(paid_ids), Payment.status == PaymentStatus.succeeded)).scalar_one()
    return StockCheck(product_id, initial, int(remaining), int(sold), int(paid), int(payments),
                      int(held_units), int(holding))
