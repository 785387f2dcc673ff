"""Data and database work for bench/campaigns.py, run inside an app context of the bench database
(after `flask seed demo`: regions, categories, households).

- `make_shop`: a verified cooperative with member households (so a sale posts ledger entries),
  a verified budget unit with an admin, and listed products of the cooperative.
- `add_users`: users with one known password (one scrypt hash), the buyer role, optionally
  members of the unit; Core bulk inserts.
- `make_close_campaign`: a members' campaign with individual delivery past its deadline, with
  N paid participants in the state `participations.join` + `participations.pay` leave: the first two
  joined and paid through the services, the others written in bulk from the row the services
  made (participation, its line, one succeeded payment; the product's units moved from stock to
  held).
- `close_rows` / `floor`: the rows a close wrote, and the same rows inserted again with plain
  Core executemany statements in one transaction (the baseline of the close's time).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import MetaData, Table, func, insert, select, update

from marketplace.accounts.models import RoleGrant, User
from marketplace.accounts.services import hash_password
from marketplace.catalog.models import Category, Product, ProductStatus
from marketplace.core.roles import Role
from marketplace.core.time import now_utc
from marketplace.households.models import Household
from marketplace.ledger import chain
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderLine
from marketplace.orders.services import AddressInput, LineInput, order_number
from marketplace.payments.models import Payment
from marketplace.payments.providers import SimulatedProvider
from marketplace.regions.models import Region
from marketplace.sellers.models import CooperativeMember, Seller, SellerKind, SellerStatus
from marketplace.units import campaigns, participations
from marketplace.units.campaigns import CampaignInput, ProductTerms
from marketplace.units.models import (
    Audience,
    Campaign,
    Participation,
    ParticipationLine,
    ParticipationPayment,
    Unit,
    UnitKind,
    UnitMember,
    UnitStatus,
)
from marketplace.units.rules import Tier

PASSWORD = "bench-secret-123"
PROVIDERS = {"simulated": SimulatedProvider()}
REGION_CODE = "431224"  # 溆浦县 in the demo data: the participants' addresses
ADDRESS = AddressInput("王小红", "13912345678", REGION_CODE, "卢峰镇建设路8号")
PRICE_FEN = 5000


@dataclass
class Shop:
    seller_id: int
    unit_id: int
    admin_id: int
    products: dict[str, int] = field(default_factory=dict)  # role -> product id


def make_shop(session, *, members: int, products: dict[str, int]) -> Shop:
    """`products` maps a role ('close', 'join', 'order') to its initial stock."""
    region = session.scalar(select(Region).where(Region.code == REGION_CODE))
    category_id = session.scalar(select(Category.id).order_by(Category.id).limit(1))
    households = list(session.scalars(select(Household.id).order_by(Household.id).limit(members)))
    if region is None or category_id is None or len(households) < members:
        raise RuntimeError("the demo data is missing (regions, categories, households): did "
                           "`flask seed demo` run?")
    now = now_utc()
    seller = Seller(kind=SellerKind.cooperative, name="团购压测合作社", region_id=region.id,
                    contact_name="压测", contact_mobile="13800138000",
                    status=SellerStatus.verified, verified_at=now, household_share_bp=3000)
    session.add(seller)
    session.flush()
    session.add_all([CooperativeMember(seller_id=seller.id, household_id=h, weight=i + 1)
                     for i, h in enumerate(households)])
    admin = User(email="campaign.admin@bench.test", display_name="压测单位管理员",
                 password_hash=hash_password(PASSWORD))
    admin.grants += [RoleGrant(role=Role.buyer), RoleGrant(role=Role.unit_admin)]
    session.add(admin)
    session.flush()
    from stdnum.cn import uscc
    body = "93431224MA4B00001"
    unit = Unit(kind=UnitKind.budget, name="团购压测单位",
                credit_code=body + uscc.calc_check_digit(body),
                region_id=region.id, office_region_id=region.id, contact_name="王五",
                contact_mobile="13900139000", address_detail="卢峰镇建设路1号",
                status=UnitStatus.verified, verified_at=now)
    session.add(unit)
    session.flush()
    session.add(UnitMember(unit_id=unit.id, user_id=admin.id, is_admin=True, joined_at=now))
    shop = Shop(seller.id, unit.id, admin.id)
    for role, stock in products.items():
        product = Product(sku=f"CAMPAIGN-{role}"[:32], seller_id=seller.id,
                          category_id=category_id, origin_id=region.id,
                          name=f"团购压测商品 {role}", spec="1件", description="",
                          price_fen=PRICE_FEN, stock=stock, status=ProductStatus.listed,
                          listed_at=now)
        session.add(product)
        session.flush()
        shop.products[role] = product.id
    session.flush()
    return shop


def add_users(session, count: int, *, prefix: str, unit_id: int | None = None,
              digest: str | None = None) -> list[int]:
    """`count` buyers (logins prefix{i}@bench.test) in bulk; members of `unit_id` if given."""
    conn = session.connection()
    digest = digest or hash_password(PASSWORD)
    now = now_utc()
    ids: list[int] = []
    for start in range(0, count, 5000):
        rows = [{"email": f"{prefix}{i}@bench.test", "display_name": f"压测参团人{i}",
                 "password_hash": digest, "created_at": now, "updated_at": now}
                for i in range(start, min(count, start + 5000))]
        made = conn.execute(insert(User).returning(User.id, sort_by_parameter_order=True),
                            rows).scalars().all()
        conn.execute(insert(RoleGrant), [{"user_id": u, "role": Role.buyer, "created_at": now}
                                         for u in made])
        if unit_id is not None:
            conn.execute(insert(UnitMember), [{"unit_id": unit_id, "user_id": u,
                                               "is_admin": False, "joined_at": now}
                                              for u in made])
        ids += made
    return ids


def open_campaign(session, shop: Shop, product_id: int, *, tiers: list[Tier], minimum: int,
                  limit: int, audience: str, now: datetime, deadline: datetime) -> Campaign:
    admin = session.get(User, shop.admin_id)
    return campaigns.open_campaign(session, admin, CampaignInput(
        unit_id=shop.unit_id, title=f"团购压测 {audience} {product_id}",
        products=[ProductTerms(product_id, tiers)], minimum_quantity=minimum,
        per_person_limit=limit, deadline=deadline, audience=audience), now=now)


# ---- the close --------------------------------------------------------------------------------

@dataclass
class CloseCampaign:
    campaign_id: int
    product_id: int
    participants: int
    units: int  # committed in all
    starting_price: int
    final_price: int  # the tier the close should land on
    initial_stock: int
    close_at: datetime


def close_tiers(participants: int) -> list[Tier]:
    return [Tier(1, 4800), Tier(max(2, participants // 2), 4500), Tier(participants, 4170)]


def make_close_campaign(session, shop: Shop, participants: int, *, seed: int,
                        progress=lambda _: None) -> CloseCampaign:
    """A members' campaign past its deadline with `participants` paid participants (1-3 units
    each, so the total passes the deepest tier and everyone gets a difference back)."""
    product_id = shop.products["close"]
    product = session.get(Product, product_id)
    initial = product.stock
    opened = now_utc() - timedelta(hours=3)
    tiers = close_tiers(participants)
    campaign = open_campaign(session, shop, product_id, tiers=tiers,
                             minimum=max(1, participants // 10), limit=3,
                             audience=Audience.members, now=opened,
                             deadline=opened + timedelta(hours=2))
    users = add_users(session, participants, prefix="campaign.close", unit_id=shop.unit_id)
    rng = random.Random(seed)
    quantities = [rng.randint(1, 3) for _ in users]
    joined = opened + timedelta(minutes=5)
    by_service = min(2, participants)
    for user_id, q in zip(users[:by_service], quantities, strict=False):
        user = session.get(User, user_id)
        part = participations.join(session, user, campaign, [LineInput(product_id, q)], ADDRESS,
                              idempotency_key=f"bench-close-{user_id}", now=joined)
        participations.pay(session, user, part, PROVIDERS, now=joined)
    session.flush()
    conn = session.connection()
    # the rest: copies of the first service-made participation, line and payment
    model = dict(conn.execute(select(Participation.__table__)
                              .where(Participation.campaign_id == campaign.id)
                              .order_by(Participation.id).limit(1)).mappings().one())
    pay_model = dict(conn.execute(select(ParticipationPayment.__table__).where(
        ParticipationPayment.participation_id == model["id"])).mappings().one())
    start = model["amount_due_fen"] // quantities[0]
    rest = list(zip(users[by_service:], quantities[by_service:], strict=True))
    for begin in range(0, len(rest), 5000):
        chunk = rest[begin:begin + 5000]
        rows = [{**{k: v for k, v in model.items() if k != "id"}, "user_id": u,
                 "idempotency_key": f"bench-close-{u}", "amount_due_fen": q * start,
                 "paid_fen": q * start} for u, q in chunk]
        ids = conn.execute(insert(Participation).returning(Participation.id,
                                                           sort_by_parameter_order=True),
                           rows).scalars().all()
        conn.execute(insert(ParticipationLine), [
            {"participation_id": pid, "product_id": product_id, "quantity": q}
            for pid, (_, q) in zip(ids, chunk, strict=True)])
        conn.execute(insert(ParticipationPayment), [
            {**{k: v for k, v in pay_model.items() if k != "id"}, "participation_id": pid,
             "reference": f"sim-campaign-{pid}-1", "amount_fen": q * start}
            for pid, (_, q) in zip(ids, chunk, strict=True)])
        progress(f"    participants: {by_service + begin + len(chunk)}/{participants}")
    bulk_units = sum(q for _, q in rest)
    conn.execute(update(Product).where(Product.id == product_id)
                 .values(stock=Product.stock - bulk_units, held=Product.held + bulk_units))
    units = sum(quantities)
    final = min((t.price_fen for t in tiers if t.min_quantity <= units))
    return CloseCampaign(campaign.id, product_id, participants, units, start, final, initial,
                         opened + timedelta(hours=2, minutes=1))


@dataclass
class CloseCheck:
    orders: int
    participants_settled: int
    refunded: int  # sum of refunds (and refunds still due) over the participants
    differences: int  # sum of (paid - final amount), computed from the tiers
    exact: bool  # every participant: paid - refunded == their order's total
    stock: int
    held: int
    expected_stock: int
    ledger: str
    ledger_ok: bool

    @property
    def ok(self) -> bool:
        return (self.orders == self.participants_settled and self.refunded == self.differences
                and self.exact and self.held == 0 and self.stock == self.expected_stock
                and self.ledger_ok)


def check_close(session, cc: CloseCampaign) -> CloseCheck:
    conn = session.connection()
    p, o = Participation.__table__, Order.__table__
    rows = conn.execute(
        select(p.c.paid_fen, p.c.refunded_fen, p.c.refund_due_fen, p.c.status, o.c.total_fen,
               ParticipationLine.quantity)
        .join(ParticipationLine, ParticipationLine.participation_id == p.c.id)
        .outerjoin(o, o.c.id == p.c.order_id)
        .where(p.c.campaign_id == cc.campaign_id)).all()
    orders = conn.execute(select(func.count()).select_from(o)
                          .where(o.c.campaign_id == cc.campaign_id)).scalar_one()
    refunded = sum(r.refunded_fen + r.refund_due_fen for r in rows)
    differences = sum(r.quantity * (cc.starting_price - cc.final_price) for r in rows)
    exact = all(r.total_fen is not None and r.paid_fen - r.refunded_fen - r.refund_due_fen
                == r.total_fen == r.quantity * cc.final_price for r in rows)
    stock, held = conn.execute(select(Product.stock, Product.held)
                               .where(Product.id == cc.product_id)).one()
    verdict = chain.verify(session)
    ledger = (f"{verdict.entries} entries verified" if verdict.ok
              else f"BROKEN at entry {verdict.seq}: {verdict.problem}")
    return CloseCheck(orders, sum(1 for r in rows if r.status == "settled"), refunded,
                      differences, exact, stock, held, cc.initial_stock - cc.units, ledger,
                      verdict.ok)


# ---- the baseline: the same rows, plain inserts ----------------------------------------------

@dataclass
class CloseRows:
    checkouts: list[dict]
    orders: list[dict]  # each with its checkout's index
    lines: list[dict]
    events: list[dict]
    payments: list[dict]
    entries: list[dict]

    def counts(self) -> dict[str, int]:
        return {"checkouts": len(self.checkouts), "orders": len(self.orders),
                "order_lines": len(self.lines), "order_events": len(self.events),
                "payments": len(self.payments), "ledger_entries": len(self.entries)}


def close_rows(conn, campaign_id: int, entries_after: int) -> CloseRows:
    """The rows the close inserted (read back, their ids dropped; foreign keys to each other as
    indexes into these lists)."""
    def rows(stmt) -> list[dict]:
        return [dict(r) for r in conn.execute(stmt).mappings()]
    orders = rows(select(Order.__table__).where(Order.campaign_id == campaign_id)
                  .order_by(Order.id))
    order_at = {o["id"]: i for i, o in enumerate(orders)}
    checkouts = rows(select(Checkout.__table__).where(
        Checkout.id.in_(select(Order.checkout_id).where(Order.campaign_id == campaign_id)))
        .order_by(Checkout.id))
    checkout_at = {c["id"]: i for i, c in enumerate(checkouts)}
    ids = select(Order.id).where(Order.campaign_id == campaign_id)
    lines = rows(select(OrderLine.__table__).where(OrderLine.order_id.in_(ids))
                 .order_by(OrderLine.id))
    line_at = {ln["id"]: i for i, ln in enumerate(lines)}
    events = rows(select(OrderEvent.__table__).where(OrderEvent.order_id.in_(ids))
                  .order_by(OrderEvent.id))
    payments = rows(select(Payment.__table__).where(Payment.order_id.in_(ids))
                    .order_by(Payment.id))
    entries = rows(select(chain.ENTRIES).where(chain.ENTRIES.c.seq > entries_after)
                   .order_by(chain.ENTRIES.c.seq))
    for row in checkouts:
        row.pop("id")
        row["idempotency_key"] = "floor-" + row["idempotency_key"]
    for row in orders:
        row.pop("id")
        row["checkout_id"] = checkout_at[row["checkout_id"]]
    for group in (lines, events, payments):
        for row in group:
            row.pop("id")
            row["order_id"] = order_at[row["order_id"]]
    for row in payments:
        row["reference"] = "floor-" + row["reference"]
    for row in entries:
        row["order_line_id"] = line_at[row["order_line_id"]]
    return CloseRows(checkouts, orders, lines, events, payments, entries)


def floor(engine, rows: CloseRows) -> float:
    """The close's rows inserted again with plain executemany Core INSERTs in one transaction,
    committed: seconds. Checkouts, orders and lines return their ids (in parameter order: the
    next rows refer to them, as the close's do); the ledger entries go to a copy of the ledger's
    table (same columns, their indexes, no chain: the real one would no longer verify)."""
    copy = Table("ledger_floor", MetaData(), *(c._copy() for c in chain.ENTRIES.columns))
    copy.create(engine)
    t_checkout, t_order, t_line = Checkout.__table__, Order.__table__, OrderLine.__table__
    with engine.connect() as conn:
        now = now_utc()
        t0 = time.perf_counter()
        with conn.begin():
            checkout_ids = conn.execute(
                insert(t_checkout).returning(t_checkout.c.id, sort_by_parameter_order=True),
                rows.checkouts).scalars().all()
            orders = [{**o, "checkout_id": checkout_ids[o["checkout_id"]],
                       "number": order_number(now, checkout_ids[o["checkout_id"]], 0)}
                      for o in rows.orders]
            order_ids = conn.execute(
                insert(t_order).returning(t_order.c.id, sort_by_parameter_order=True),
                orders).scalars().all()
            line_ids = conn.execute(
                insert(t_line).returning(t_line.c.id, sort_by_parameter_order=True),
                [{**ln, "order_id": order_ids[ln["order_id"]]} for ln in rows.lines]
            ).scalars().all()
            conn.execute(insert(OrderEvent.__table__),
                         [{**e, "order_id": order_ids[e["order_id"]]} for e in rows.events])
            conn.execute(insert(Payment.__table__),
                         [{**p, "order_id": order_ids[p["order_id"]]} for p in rows.payments])
            for start in range(0, len(rows.entries), 10_000):
                conn.execute(insert(copy), [{**e, "order_line_id": line_ids[e["order_line_id"]]}
                                            for e in rows.entries[start:start + 10_000]])
        return time.perf_counter() - t0


def write_counts(conn) -> dict[str, int]:
    """Rows per table the close writes to (the difference before/after is what it wrote)."""
    tables = {"checkouts": Checkout, "orders": Order, "order_lines": OrderLine,
              "order_events": OrderEvent, "payments": Payment}
    out = {name: conn.execute(select(func.count()).select_from(m)).scalar_one()
           for name, m in tables.items()}
    out["ledger_entries"] = conn.execute(select(func.count()).select_from(chain.ENTRIES)
                                         ).scalar_one()
    from marketplace.notifications.models import Notification
    out["notifications"] = conn.execute(select(func.count()).select_from(Notification)
                                        ).scalar_one()
    return out
