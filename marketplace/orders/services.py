"""Checkout and stock reservations; expiry, cancellation and the sale at payment are in
`orders.holds` (re-exported here).

What the seller holds of a product (on hand) is `products.stock` (the units free to sell) plus
`products.held` (those unpaid orders hold); the seller sets on hand (catalog.services), and
every statement here keeps on hand = stock + held. Stock is reserved with one conditional
UPDATE per product (`... SET stock = stock - q, held = held + q WHERE id = ? AND stock >= q`),
products in id order: every short line is collected, and if any is short the units taken are
put back and one `InsufficientStock` names them all. The row itself is the lock on both engines
(PostgreSQL row lock; SQLite's single writer), and `stock >= 0` and `held >= 0` are CHECK
constraints. Unpaid orders hold their units until `reserved_until`; `expire()` and `cancel()`
give them back (held to free: `flask orders expire`, and at checkout when a product is short);
a payment sells them (`sell_held`: they leave held, so on hand goes down by what was sold).

Creating an order is a hot path: it reads and writes with the prebuilt statements of
`orders.sql` (one statement reads the products, their sellers and the address's region;
INSERT ... ON CONFLICT DO NOTHING takes the idempotency key) and hands the rows to the session
as loaded objects (`core.db.loaded`), so callers get ordinary Order objects without a flush.
Payments are recorded by `payments.capture`, which marks the order paid through `mark_paid`.

Services take an explicit session and actor and never commit: the caller does (and rolls back
on a DomainError).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Row,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.db import attach, insert_many, loaded, row_object, split_row
from marketplace.core.errors import (
    Conflict,
    IllegalTransition,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.time import CHINA, now_utc
from marketplace.core.validators import normalize_mobile
from marketplace.orders.holds import (  # noqa: F401  (re-exported: callers use services.*)
    _expire_stock,
    cancel,
    expire,
    sell_held,
    transition,
)
from marketplace.orders.models import (
    Channel,
    Order,
    OrderEventKind,
    OrderLine,
    OrderStatus,
)
from marketplace.orders.sql import (
    CHECKOUTS,
    EVENTS,
    INSERT_CHECKOUT,
    INSERT_EVENTS,
    INSERT_LINES,
    INSERT_ORDERS,
    LINES,
    ORDERS,
    PRODUCTS,
    PRODUCTS_FOR_CHECKOUT,
    PUT_BACK_STOCK,
    REGION_BY_CODE,
    SELL_HELD,
    SELLERS,
    TAKE_STOCK,
)
from marketplace.regions.models import LEVEL_CODE_LENGTH, RegionLevel, address_name
from marketplace.search import outbox
from marketplace.search.models import OutboxKind
from marketplace.sellers.models import Seller, SellerStatus

PAYMENT_WINDOW = timedelta(minutes=30)
MAX_LINES = 50
MAX_QUANTITY = 999


class InsufficientStock(Conflict):
    code = "insufficient_stock"


# ---- input --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineInput:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class EventTag:
    """The fair or live-sale event a checkout was placed from (`help.events.services.
    checkout_tag` makes it: a published event under way): the orders of its featured sellers,
    and those holding one of its featured products, carry its id (`orders.event_id`)."""
    id: int
    seller_ids: frozenset[int] = frozenset()
    product_ids: frozenset[int] = frozenset()

    def covers(self, seller_id: int, product_ids) -> bool:
        return seller_id in self.seller_ids or not self.product_ids.isdisjoint(product_ids)


@dataclass(frozen=True)
class AddressInput:
    recipient: str
    mobile: str
    region_code: str
    detail: str


def _clean_lines(lines: Sequence[LineInput]) -> dict[int, int]:
    """Quantities by product id (the same product twice is added up)."""
    if not lines:
        raise ValidationFailed("购物清单为空", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(Msg("一次最多结算 %(n)s 种商品", n=MAX_LINES), field="lines")
    out: dict[int, int] = {}
    for line in lines:
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) \
                or line.quantity < 1:
            raise ValidationFailed("购买数量必须是正整数", field="lines")
        out[line.product_id] = out.get(line.product_id, 0) + line.quantity
        if out[line.product_id] > MAX_QUANTITY:
            raise ValidationFailed(Msg("每种商品一次最多购买 %(n)s 件", n=MAX_QUANTITY),
                                   field="lines")
    return out


_LOOK_UP = object()


def _clean_address(session: Session, address: AddressInput,
                   region=_LOOK_UP) -> tuple[dict, Row]:
    """The address's fields and its region (a row: id, code, name_path; looked up by its code
    unless the caller read it already: None for no such region)."""
    errors: dict[str, list[str]] = {}
    recipient = (address.recipient or "").strip()
    if not 1 <= len(recipient) <= 32:
        errors["recipient"] = ["请填写收件人（不超过 32 个字）"]
    mobile = normalize_mobile(address.mobile or "")
    if mobile is None:
        errors["mobile"] = ["请填写正确的 11 位手机号码"]
    detail = (address.detail or "").strip()
    if not 2 <= len(detail) <= 200:
        errors["detail"] = ["请填写详细地址（2–200 个字）"]
    code = (address.region_code or "").strip()
    if region is _LOOK_UP:
        region = (session.connection().execute(REGION_BY_CODE, {"code": code}).first()
                  if code else None)
    if region is None or len(region.code) < LEVEL_CODE_LENGTH[RegionLevel.county]:
        errors["region_code"] = ["请选择收货地区（至少到区县）"]
    if errors:
        raise ValidationFailed("收货地址不完整", errors=errors)
    return {"recipient": recipient, "mobile": mobile, "address_detail": detail}, region


def fingerprint(quantities: dict[int, int], address: AddressInput, channel: str,
                unit_id: int | None = None, unit_purpose: str = "",
                event_id: int | None = None) -> str:
    """What a submission asked for, so that a reused idempotency key can be told apart."""
    data = {"lines": sorted(quantities.items()), "channel": str(channel),
            "address": [address.recipient, address.mobile, address.region_code, address.detail]}
    if unit_id is not None or unit_purpose:  # (absent for a plain order: fingerprints kept)
        data["unit"] = [unit_id, unit_purpose]
    if event_id is not None:  # (absent without an event: fingerprints kept)
        data["event"] = event_id
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


# ---- rules --------------------------------------------------------------------------------------

def shipping_fee(goods_fen: int, fee_fen: int, free_from_fen: int | None) -> int:
    """A seller's flat fee, waived when the goods reach its threshold."""
    if free_from_fen is not None and goods_fen >= free_from_fen:
        return 0
    return max(0, fee_fen)


def order_number(created: datetime, checkout_id: int, index: int) -> str:
    """Date (China) + checkout id + position: readable, unique, and no counter to contend on."""
    return f"{created.astimezone(CHINA):%Y%m%d}{checkout_id:07d}{index + 1:02d}"


# ---- checkout -----------------------------------------------------------------------------------

def checkout(session: Session, buyer: User, lines: Sequence[LineInput], address: AddressInput, *,
             idempotency_key: str, channel: Channel = Channel.individual,
             now: datetime | None = None, window: timedelta = PAYMENT_WINDOW,
             unit_id: int | None = None, unit_purpose: str = "",
             event: EventTag | None = None) -> list[Order]:
    """One order per seller for the lines, stock reserved for the payment window. The same
    idempotency key with the same request answers the orders made the first time. `unit_id`
    (and a union's `unit_purpose`) is stored on the orders as given: who may count toward a
    unit is checked by units.services.checkout_for_unit, the way to call this for one.
    `event`: the event the buyer came from; the orders it covers carry its id."""
    key = (idempotency_key or "").strip()
    if not 8 <= len(key) <= 64:
        raise ValidationFailed("缺少提交编号（idempotency_key，8–64 个字符）",
                               field="idempotency_key")
    quantities = _clean_lines(lines)
    try:
        channel = Channel(channel)
    except ValueError:
        raise ValidationFailed("未知的购买渠道", field="channel") from None
    print_ = fingerprint(quantities, address, channel, unit_id, unit_purpose,
                         event.id if event is not None else None)
    now = now or now_utc()
    try:
        products, region = _products(session, quantities, (address.region_code or "").strip())
        address_fields, region = _clean_address(session, address, region)
        _check_available(quantities, products)
    except ValidationFailed:
        # a retry of a submission accepted before answers its orders, whatever changed since
        existing = _existing(session, buyer, key, print_)
        if existing is not None:
            return existing
        raise
    conn = session.connection()
    checkout_id = conn.execute(INSERT_CHECKOUT, {
        "buyer_id": buyer.id, "idempotency_key": key, "fingerprint": print_,
        "created_at": now}).scalar()
    if checkout_id is None:  # the key was used before (or by a concurrent request just now)
        existing = _existing(session, buyer, key, print_)
        if existing is None:
            raise Conflict("该提交正在处理，请稍后刷新订单列表")
        return existing
    short = _reserve_or_expire(session, quantities, products, now)
    if short:
        conn.execute(delete(CHECKOUTS).where(CHECKOUTS.c.id == checkout_id))
        raise _shortage(short)
    return _make_orders(session, buyer, checkout_id, quantities, products, address_fields,
                        region, channel, now, now + window,
                        unit={"unit_id": unit_id, "unit_purpose": unit_purpose}, event=event)


def _existing(session: Session, buyer: User, key: str, print_: str) -> list[Order] | None:
    found = session.connection().execute(
        select(CHECKOUTS.c.id, CHECKOUTS.c.fingerprint)
        .where(CHECKOUTS.c.buyer_id == buyer.id, CHECKOUTS.c.idempotency_key == key)).first()
    if found is None:
        return None
    if found.fingerprint != print_:
        raise Conflict("这个提交编号已用于另一笔不同的下单", field="idempotency_key",
                       code="idempotency_key_reused")
    return list(session.scalars(select(Order).where(Order.checkout_id == found.id)
                                .order_by(Order.id)))


@dataclass(frozen=True)
class _Item:
    """What a checkout needs of a product (read with Core; its seller is the session's)."""
    name: str
    spec: str
    price_fen: int
    seller_id: int
    seller: Seller


def _products(session: Session, quantities: dict[int, int], region_code: str):
    """The products that can be sold (listed, of a verified seller) among those asked for, and
    the region of the address (a row, None if there is no such code), in one statement."""
    rows = session.connection().execute(
        PRODUCTS_FOR_CHECKOUT, {"ids": list(quantities), "code": region_code}).all()
    if not rows:  # nothing to read the region with
        return {}, _LOOK_UP
    found, sellers = {}, {}
    for row in rows:
        pid, name, spec, price_fen, status = row[:5]
        seller_values = split_row(row[5:], SELLERS)[0]
        seller = sellers.get(seller_values["id"])
        if seller is None:
            seller = sellers[seller_values["id"]] = row_object(session, Seller, seller_values)
        if status == ProductStatus.listed and seller.status == SellerStatus.verified:
            found[pid] = _Item(name, spec, price_fen, seller.id, seller)
    region_id, region_path = rows[0][-2:]
    return found, (_Region(region_id, region_code, region_path) if region_id is not None
                   else None)


@dataclass(frozen=True)
class _Region:
    id: int
    code: str
    name_path: str


def _check_available(quantities: dict[int, int], products: dict[int, _Item]) -> None:
    unavailable = [pid for pid in quantities if pid not in products]
    if unavailable:
        raise ValidationFailed("有商品已下架或不存在", field="lines",
                               details={"product_ids": unavailable})


def _reserve(session: Session, quantities: dict[int, int], products: dict) -> list[dict]:
    """Take the units (free to held), products in id order, and record them for the search
    index. If any line is short, the units taken are put back (nothing is kept) and the short
    lines are returned."""
    conn = session.connection()
    short, taken = [], []
    for pid in sorted(quantities):
        if conn.execute(TAKE_STOCK, {"pid": pid, "q": quantities[pid],
                                     "p_at": now_utc()}).rowcount == 1:
            taken.append(pid)
            continue
        available = conn.execute(select(PRODUCTS.c.stock).where(PRODUCTS.c.id == pid)).scalar()
        short.append({"product_id": pid, "name": products[pid].name,
                      "requested": quantities[pid], "available": int(available or 0)})
    if short and taken:
        conn.execute(PUT_BACK_STOCK, [{"pid": pid, "q": quantities[pid]} for pid in taken])
    if taken:  # the search index learns of every product touched, also of those put back
        outbox.record(session, OutboxKind.product, taken)
    _expire_stock(session, quantities)
    return short


def _reserve_or_expire(session: Session, quantities: dict[int, int], products: dict,
                       now: datetime) -> list[dict]:
    """`_reserve`; when a product is short, units held past their window are given back
    (`expire`) and the reservation tried once more. The short lines (empty: all taken)."""
    short = _reserve(session, quantities, products)
    if short and expire(session, now=now, product_ids=[line["product_id"] for line in short]):
        short = _reserve(session, quantities, products)
    return short


def _shortage(short: list[dict]) -> InsufficientStock:
    """The one error that names every short line."""
    return InsufficientStock(
        Msg("库存不足：%(lines)s", lines="；".join(
            Msg("%(name)s 仅剩 %(n)s 件", name=s["name"], n=s["available"]) for s in short)),
        details={"lines": short})


def _make_orders(session, buyer, checkout_id, quantities, products, address_fields, region,
                 channel, now, reserved_until, unit: dict | None = None,
                 event: EventTag | None = None) -> list[Order]:
    """The orders (one per seller), their lines and 'created' events, written as Core
    statements (a checkout is the hot path) and returned as loaded Order objects."""
    by_seller: dict[int, list[int]] = {}
    for pid in sorted(quantities):
        by_seller.setdefault(products[pid].seller_id, []).append(pid)
    order_rows, line_rows = [], []
    for index, seller_id in enumerate(sorted(by_seller)):
        seller = products[by_seller[seller_id][0]].seller
        lines = [{"product_id": pid, "name": products[pid].name, "spec": products[pid].spec,
                  "unit_price_fen": products[pid].price_fen, "quantity": quantities[pid],
                  "amount_fen": products[pid].price_fen * quantities[pid]}
                 for pid in by_seller[seller_id]]
        line_rows.append(lines)
        goods = sum(line["amount_fen"] for line in lines)
        shipping = shipping_fee(goods, seller.shipping_fee_fen or 0, seller.free_shipping_from_fen)
        order_rows.append({
            "number": order_number(now, checkout_id, index), "checkout_id": checkout_id,
            "buyer_id": buyer.id, "seller_id": seller_id, "channel": channel,
            "status": OrderStatus.pending_payment, "goods_fen": goods, "shipping_fen": shipping,
            "total_fen": goods + shipping, "paid_fen": 0, "refunded_fen": 0, "currency": "CNY",
            "reserved_until": reserved_until, "stock_held": True, "cancel_reason": "",
            "paid_at": None, "payment_method": "", "voucher_filename": "",
            "voucher_uploaded_at": None, "carrier": "", "tracking_no": "", "shipped_at": None,
            "received_at": None, "region_id": region.id,
            "region_names": address_name(region.name_path), "created_at": now,
            "updated_at": now, **address_fields,
            **(unit or {"unit_id": None, "unit_purpose": ""}),
            "event_id": (event.id if event is not None
                         and event.covers(seller_id, by_seller[seller_id]) else None)})
    order_ids, line_ids = _write_orders(session.connection(), order_rows, line_rows)
    ids = iter(line_ids)
    orders = []
    for order_id, row, lines in zip(order_ids, order_rows, line_rows, strict=True):
        lines = [loaded(OrderLine, {**line, "id": next(ids)}) for line in lines]
        orders.append(attach(session, loaded(
            Order, {**row, "id": order_id}, lines=lines,
            seller=products[lines[0].product_id].seller)))
    return orders


BULK = 50  # from this many orders at once (a group purchase's close) rows go in as a bulk


def _write_orders(conn, order_rows: list[dict], line_rows: list[list[dict]]):
    """Insert the orders, their lines (line_rows[i] are order i's; each gets its order_id) and
    'created' events (by the buyer): the order ids, and the line ids in line_rows order. Many
    orders at once (a group purchase's close) go through `core.db.insert_many`."""
    many = len(order_rows) >= BULK
    order_ids = (insert_many(conn, ORDERS, order_rows, "id") if many
                 else conn.execute(INSERT_ORDERS, order_rows).scalars().all())
    for order_id, lines in zip(order_ids, line_rows, strict=True):
        for line in lines:
            line["order_id"] = order_id
    lines = [line for lines in line_rows for line in lines]
    line_ids = (insert_many(conn, LINES, lines, "id") if many
                else conn.execute(INSERT_LINES, lines).scalars().all())
    events = [{"order_id": order_id, "kind": OrderEventKind.created, "from_status": "",
               "to_status": OrderStatus.pending_payment, "actor_id": row["buyer_id"], "note": "",
               "created_at": row["created_at"]}
              for order_id, row in zip(order_ids, order_rows, strict=True)]
    if many:
        insert_many(conn, EVENTS, events)
    else:
        conn.execute(INSERT_EVENTS, events)
    return order_ids, line_ids


# ---- units held and orders written for other roads (group purchases) -------------------------

def clean_address(session: Session, address: AddressInput) -> tuple[dict, Row]:
    """An address's checked fields (recipient, mobile, address_detail) and its region row (id,
    code, name_path); ValidationFailed naming every bad field."""
    return _clean_address(session, address)


def reserve_units(session: Session, quantities: dict[int, int], names: dict[int, str],
                  now: datetime | None = None) -> None:
    """Hold units (free to held) for something other than an order (a group purchase's
    participation), products in id order, as checkout does: units other orders hold past their
    window are given back first when a product is short; InsufficientStock names every short
    line and nothing is kept."""
    products = {pid: _Named(names.get(pid, str(pid))) for pid in quantities}
    short = _reserve_or_expire(session, quantities, products, now or now_utc())
    if short:
        raise _shortage(short)


@dataclass(frozen=True)
class _Named:
    name: str


def release_units(session: Session, quantities: dict[int, int]) -> None:
    """Units held for something other than an order go back to free (products in id order)."""
    rows = [{"pid": pid, "q": q} for pid, q in sorted(quantities.items()) if q]
    if rows:
        session.connection().execute(PUT_BACK_STOCK, rows)
        outbox.record(session, OutboxKind.product, [row["pid"] for row in rows])
        _expire_stock(session, [row["pid"] for row in rows])


def sell_units(session: Session, quantities: dict[int, int]) -> None:
    """Held units are sold: they leave the held count (products in id order)."""
    rows = [{"pid": pid, "q": q} for pid, q in sorted(quantities.items()) if q]
    if rows:
        session.connection().execute(SELL_HELD, rows)
        _expire_stock(session, [row["pid"] for row in rows])


write_orders = _write_orders  # orders, lines and 'created' events written in bulk (Core rows)


# ---- a late payment ---------------------------------------------------------------------------

def reserve_again(session: Session, order: Order, now: datetime) -> bool:
    """An order that expired unpaid takes its units again (its payment arrived late): whether
    there were enough (units other orders hold past their window are given back first, as at
    checkout). The order waits for payment again. Raises IllegalTransition if another request
    took it again meanwhile (a second late payment at once): its units are taken once.
    The order's row is taken before its products' rows, as a payment, an expiry and a
    cancellation take them."""
    def hold(value: bool) -> int:
        return session.execute(
            update(Order).where(Order.id == order.id, Order.status == OrderStatus.cancelled,
                                Order.stock_held.is_(not value))
            .values(stock_held=value).execution_options(synchronize_session=False)).rowcount
    if hold(True) != 1:
        raise IllegalTransition("订单状态刚刚发生变化，请刷新后重试")
    quantities = {ln.product_id: ln.quantity for ln in order.lines}
    products = {ln.product_id: session.get(Product, ln.product_id) for ln in order.lines}
    if _reserve_or_expire(session, quantities, products, now):
        hold(False)  # the row stays ours until the caller ends the transaction
        return False
    order.stock_held = True
    transition(order, OrderStatus.pending_payment, OrderEventKind.reserved_again, None, now,
               "付款在时限后到账，库存重新锁定")
    session.flush()
    return True
