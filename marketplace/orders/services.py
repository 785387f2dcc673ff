"""Checkout, stock reservations, expiry, cancellation and recorded payments.

Stock is reserved by decrementing `products.stock` with one conditional UPDATE per product
(`... SET stock = stock - q WHERE id = ? AND stock >= q`), products in id order, inside a
savepoint: every short line is collected, and if any is short the savepoint is rolled back and
one `InsufficientStock` names them all. The row itself is the lock on both engines (PostgreSQL
row lock; SQLite's single writer), and `stock >= 0` is also a CHECK constraint, so stock never
goes below zero. Unpaid orders hold their units until `reserved_until`; `expire()` gives them
back (`flask orders expire`, and before each checkout for the products it touches).

Services take an explicit session and actor and never commit: the caller does.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, lazyload

from marketplace.accounts.models import User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.core.validators import normalize_mobile
from marketplace.orders import notices
from marketplace.orders.models import (
    Channel,
    Checkout,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from marketplace.regions.models import LEVEL_CODE_LENGTH, Region, RegionLevel
from marketplace.search import outbox
from marketplace.search.models import OutboxKind
from marketplace.sellers.models import SellerStatus

PAYMENT_WINDOW = timedelta(minutes=30)
MAX_LINES = 50
MAX_QUANTITY = 999
CHINA = timedelta(hours=8)


class InsufficientStock(Conflict):
    code = "insufficient_stock"


# ---- input --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineInput:
    product_id: int
    quantity: int


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


def _clean_address(session: Session, address: AddressInput) -> tuple[dict, Region]:
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
    region = None
    code = (address.region_code or "").strip()
    if code:
        region = session.scalar(select(Region).where(Region.code == code))
    if region is None or len(region.code) < LEVEL_CODE_LENGTH[RegionLevel.county]:
        errors["region_code"] = ["请选择收货地区（至少到区县）"]
    if errors:
        raise ValidationFailed("收货地址不完整", errors=errors)
    return {"recipient": recipient, "mobile": mobile, "address_detail": detail}, region


def fingerprint(quantities: dict[int, int], address: AddressInput, channel: str) -> str:
    """What a submission asked for, so that a reused idempotency key can be told apart."""
    data = {"lines": sorted(quantities.items()), "channel": str(channel),
            "address": [address.recipient, address.mobile, address.region_code, address.detail]}
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


# ---- rules --------------------------------------------------------------------------------------

def shipping_fee(goods_fen: int, fee_fen: int, free_from_fen: int | None) -> int:
    """A seller's flat fee, waived when the goods reach its threshold."""
    if free_from_fen is not None and goods_fen >= free_from_fen:
        return 0
    return max(0, fee_fen)


def order_number(created: datetime, checkout_id: int, index: int) -> str:
    """Date (China) + checkout id + position: readable, unique, and no counter to contend on."""
    return f"{(created + CHINA):%Y%m%d}{checkout_id:07d}{index + 1:02d}"


# ---- checkout -----------------------------------------------------------------------------------

def checkout(session: Session, buyer: User, lines: Sequence[LineInput], address: AddressInput, *,
             idempotency_key: str, channel: Channel = Channel.individual,
             now: datetime | None = None, window: timedelta = PAYMENT_WINDOW) -> list[Order]:
    """One order per seller for the lines, stock reserved for the payment window. The same
    idempotency key with the same request answers the orders made the first time."""
    key = (idempotency_key or "").strip()
    if not 8 <= len(key) <= 64:
        raise ValidationFailed("缺少提交编号（idempotency_key，8–64 个字符）",
                               field="idempotency_key")
    quantities = _clean_lines(lines)
    try:
        channel = Channel(channel)
    except ValueError:
        raise ValidationFailed("未知的购买渠道", field="channel") from None
    print_ = fingerprint(quantities, address, channel)
    existing = _existing(session, buyer, key, print_)
    if existing is not None:
        return existing
    address_fields, region = _clean_address(session, address)
    now = now or now_utc()
    products = _products(session, quantities)
    expire(session, now=now, product_ids=list(quantities))
    savepoint = session.begin_nested()
    try:
        record = Checkout(buyer_id=buyer.id, idempotency_key=key, fingerprint=print_,
                          created_at=now)
        session.add(record)
        session.flush()
    except IntegrityError:  # the same key committed by a concurrent request meanwhile
        savepoint.rollback()
        existing = _existing(session, buyer, key, print_)
        if existing is None:
            raise Conflict("该提交正在处理，请稍后刷新订单列表") from None
        return existing
    short = _reserve(session, quantities, products)
    if short:
        savepoint.rollback()
        raise InsufficientStock(
            Msg("库存不足：%(lines)s", lines="；".join(
                Msg("%(name)s 仅剩 %(n)s 件", name=s["name"], n=s["available"]) for s in short)),
            details={"lines": short})
    savepoint.commit()
    orders = _make_orders(session, buyer, record, quantities, products, address_fields, region,
                          channel, now, now + window)
    outbox.record(session, OutboxKind.product, sorted(quantities))
    return orders


def _existing(session: Session, buyer: User, key: str, print_: str) -> list[Order] | None:
    found = session.scalar(select(Checkout).where(Checkout.buyer_id == buyer.id,
                                                  Checkout.idempotency_key == key))
    if found is None:
        return None
    if found.fingerprint != print_:
        raise Conflict("这个提交编号已用于另一笔不同的下单", field="idempotency_key",
                       code="idempotency_key_reused")
    return list(found.orders)


def _products(session: Session, quantities: dict[int, int]) -> dict[int, Product]:
    # the product and its seller only (not the category, origin, images, seller's region...)
    rows = session.execute(
        select(Product).where(Product.id.in_(list(quantities)))
        .options(lazyload("*"), joinedload(Product.seller).lazyload("*"))).unique().scalars().all()
    found = {p.id: p for p in rows}
    unavailable = [pid for pid in quantities
                   if pid not in found or found[pid].status != ProductStatus.listed
                   or found[pid].seller.status != SellerStatus.verified]
    if unavailable:
        raise ValidationFailed("有商品已下架或不存在", field="lines",
                               details={"product_ids": unavailable})
    return found


def _reserve(session: Session, quantities: dict[int, int],
             products: dict[int, Product]) -> list[dict]:
    """Take the units, products in id order; the lines that are short (nothing is kept
    then: the caller rolls the savepoint back)."""
    short = []
    for pid in sorted(quantities):
        wanted = quantities[pid]
        taken = session.execute(
            update(Product).where(Product.id == pid, Product.stock >= wanted)
            .values(stock=Product.stock - wanted)
            .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            available = session.scalar(select(Product.stock).where(Product.id == pid))
            short.append({"product_id": pid, "name": products[pid].name,
                          "requested": wanted, "available": int(available or 0)})
    for pid in quantities:
        session.expire(products[pid], ["stock"])
    return short


def _make_orders(session, buyer, record, quantities, products, address_fields, region, channel,
                 now, reserved_until) -> list[Order]:
    by_seller: dict[int, list[int]] = {}
    for pid in sorted(quantities):
        by_seller.setdefault(products[pid].seller_id, []).append(pid)
    orders = []
    for index, seller_id in enumerate(sorted(by_seller)):
        seller = products[by_seller[seller_id][0]].seller
        lines = [OrderLine(product_id=pid, name=products[pid].name, spec=products[pid].spec,
                           unit_price_fen=products[pid].price_fen, quantity=quantities[pid],
                           amount_fen=products[pid].price_fen * quantities[pid])
                 for pid in by_seller[seller_id]]
        goods = sum(line.amount_fen for line in lines)
        shipping = shipping_fee(goods, seller.shipping_fee_fen or 0, seller.free_shipping_from_fen)
        order = Order(
            number=order_number(now, record.id, index), checkout=record, buyer_id=buyer.id,
            seller_id=seller_id, seller=seller, channel=channel,
            status=OrderStatus.pending_payment,
            goods_fen=goods, shipping_fen=shipping, total_fen=goods + shipping,
            paid_fen=0, refunded_fen=0, currency="CNY",
            reserved_until=reserved_until, stock_held=True, region_id=region.id,
            region_names="".join(region.path_names), lines=lines,
            created_at=now, updated_at=now, **address_fields)
        order.events.append(OrderEvent(kind="created", to_status=OrderStatus.pending_payment,
                                       actor_id=buyer.id, created_at=now))
        session.add(order)
        orders.append(order)
    session.flush()
    return orders


# ---- releasing stock ----------------------------------------------------------------------------

def _release(session: Session, order: Order) -> None:
    """Give an unpaid order's units back, products in id order."""
    if not order.stock_held:
        return
    for line in sorted(order.lines, key=lambda ln: ln.product_id):
        session.execute(update(Product).where(Product.id == line.product_id)
                        .values(stock=Product.stock + line.quantity)
                        .execution_options(synchronize_session=False))
    order.stock_held = False
    outbox.record(session, OutboxKind.product, [ln.product_id for ln in order.lines])


def transition(order: Order, to: OrderStatus, kind: str, actor: User | None, now: datetime,
                note: str = "") -> None:
    order.events.append(OrderEvent(kind=kind, from_status=order.status, to_status=to,
                                   actor_id=actor.id if actor else None, note=note,
                                   created_at=now))
    order.status = to
    order.updated_at = now


def expire(session: Session, *, now: datetime | None = None,
           product_ids: Iterable[int] | None = None) -> int:
    """Cancel the unpaid orders whose payment window has passed (those holding any of
    `product_ids`, or all) and give their units back. Returns how many."""
    now = now or now_utc()
    stmt = (select(Order.id).where(Order.status == OrderStatus.pending_payment,
                                   Order.stock_held.is_(True), Order.reserved_until < now)
            .order_by(Order.id))
    if product_ids is not None:
        ids = list(product_ids)
        if not ids:
            return 0
        stmt = stmt.where(Order.id.in_(select(OrderLine.order_id)
                                       .where(OrderLine.product_id.in_(ids))))
    due = session.scalars(stmt).all()  # almost always none: only then are orders loaded
    if not due:
        return 0
    count = 0
    for order in session.scalars(select(Order).where(Order.id.in_(due)).order_by(Order.id)):
        _release(session, order)
        order.cancel_reason = "expired"
        transition(order, OrderStatus.cancelled, "expired", None, now, "付款时间已过，库存已释放")
        notices.to_buyer(session, order, Msg("订单 %(n)s 付款超时，已自动取消", n=order.number))
        count += 1
    if count:
        session.flush()
    return count


def cancel(session: Session, actor: User, order: Order, *, now: datetime | None = None) -> Order:
    """The buyer (or an admin) cancels an unpaid order; its units go back."""
    now = now or now_utc()
    if order.status != OrderStatus.pending_payment:
        raise IllegalTransition(Msg("订单%(status)s，不能取消", status=Msg(order.status_label)))
    _release(session, order)
    order.cancel_reason = "buyer"
    transition(order, OrderStatus.cancelled, "cancelled", actor, now)
    session.flush()
    return order


# ---- payments -----------------------------------------------------------------------------------

@dataclass
class PaymentOutcome:
    payment: Payment
    order: Order
    duplicate: bool = False  # this confirmation had been recorded before
    refunded: bool = False  # the order could not be served any more: the money goes back


def record_payment(session: Session, order: Order, *, provider: str, reference: str,
                   amount_fen: int, currency: str, now: datetime | None = None) -> PaymentOutcome:
    """A provider says money was captured for an order. Recorded once per (provider,
    reference); the amount and currency must be the order's. A payment for an order whose
    window passed takes the units again if there are enough, else it is marked for refund."""
    now = now or now_utc()
    existing = session.scalar(select(Payment).where(Payment.provider == provider,
                                                    Payment.reference == reference))
    if existing is not None:
        return PaymentOutcome(existing, order, duplicate=True,
                              refunded=existing.status == PaymentStatus.refunded)
    if currency.upper() != order.currency or amount_fen != order.total_fen:
        raise RuleBroken("付款金额或币种与订单不符，未入账", code="amount_mismatch",
                         details={"expected": order.total_fen, "received": amount_fen})
    if order.status == OrderStatus.pending_payment and order.stock_held \
            and order.reserved_until and order.reserved_until < now:
        expire(session, now=now, product_ids=[ln.product_id for ln in order.lines])
        session.refresh(order)
    if order.status == OrderStatus.cancelled and order.cancel_reason == "expired" \
            and order.paid_fen == 0:
        quantities = {ln.product_id: ln.quantity for ln in order.lines}
        products = {ln.product_id: session.get(Product, ln.product_id) for ln in order.lines}
        savepoint = session.begin_nested()
        short = _reserve(session, quantities, products)
        if short:
            savepoint.rollback()
            return _turned_away(session, order, provider, reference, amount_fen, currency, now,
                                "付款到账时库存已售出，款项原路退回")
        savepoint.commit()
        order.stock_held = True
        outbox.record(session, OutboxKind.product, list(quantities))
        transition(order, OrderStatus.pending_payment, "reserved_again", None, now,
                    "付款在时限后到账，库存重新锁定")
    elif order.status == OrderStatus.cancelled and order.paid_fen == 0:
        # money for an order the buyer cancelled meanwhile: it cannot be kept
        return _turned_away(session, order, provider, reference, amount_fen, currency, now,
                            "订单已取消，款项原路退回")
    else:
        ensure_payable(order)
    payment = Payment(order_id=order.id, provider=provider, reference=reference,
                      amount_fen=amount_fen, currency=currency.upper(),
                      status=PaymentStatus.succeeded, created_at=now)
    session.add(payment)
    order.paid_fen = amount_fen
    order.paid_at = now
    order.reserved_until = None
    order.stock_held = False  # the units are sold now, not held
    transition(order, OrderStatus.paid, "paid", None, now, f"{provider} {reference}")
    notices.to_buyer(session, order, Msg("订单 %(n)s 已付款，等待商家发货", n=order.number))
    notices.to_seller(session, order, Msg("新订单 %(n)s 已付款，请尽快发货", n=order.number))
    session.flush()
    return PaymentOutcome(payment, order)


def ensure_payable(order: Order) -> None:
    if order.status != OrderStatus.pending_payment:
        raise IllegalTransition(Msg("订单%(status)s，不能付款", status=Msg(order.status_label)))


def _turned_away(session: Session, order: Order, provider: str, reference: str, amount_fen: int,
                 currency: str, now: datetime, note: str) -> PaymentOutcome:
    """Money arrived that the order cannot take: recorded as to be refunded (the caller pays it
    back through the provider) and the buyer sees why on the order."""
    payment = Payment(order_id=order.id, provider=provider, reference=reference,
                      amount_fen=amount_fen, currency=currency.upper(),
                      status=PaymentStatus.refunded, created_at=now)
    session.add(payment)
    order.events.append(OrderEvent(kind="payment_refunded", from_status=order.status,
                                   to_status=order.status, created_at=now, note=note))
    notices.to_buyer(session, order, Msg("订单 %(n)s：%(note)s", n=order.number, note=Msg(note)))
    session.flush()
    return PaymentOutcome(payment, order, refunded=True)


# ---- reading ------------------------------------------------------------------------------------

def order_for(session: Session, user: User, order_id: int) -> Order:
    """An order its buyer, its seller's staff or an admin may see; 404 for anyone else."""
    from marketplace.core import policy
    order = session.get(Order, order_id, options=[joinedload(Order.seller).lazyload("*")])
    if order is None or not (order.buyer_id == user.id or policy.is_admin(user)
                             or policy.staff_of(user, order.seller_id)):
        raise NotFound("未找到该订单")
    return order
