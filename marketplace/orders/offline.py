"""Offline sales (线下销售): what a seller's staff sold at a fair or a market, recorded as an order
of channel `offline` that takes the road of an online sale from `orders` on.

This module checks a sale (`clean_sale`: every problem at once, each line's by its position)
and writes its order (`write_sale`): made already paid and handed over (status received: the
goods changed hands at the stall, so nothing is shipped and the seller's 待发货 list stays
clean; refunds stay possible until the order closes, like any received order), buyer = the
staff member who recorded it, address = the seller's region and the place, the receipt number
once per seller (unique index). Stock: the units sold leave the product's stock like a sale's
(taken free -> held -> sold with `services.reserve_units` and `sell_units`, so every short line
is named in one InsufficientStock and nothing is written). The payment and the ledger posting
are `payments.offline` (a layer above), which calls this; corrections are refunds
(`payments.refunds`), never edits. The CSV and xlsx import is `orders.offline_import`.

Services take an explicit session and actor and never commit.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core import policy
from marketplace.core.db import attach, loaded
from marketplace.core.errors import Conflict, RuleBroken, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.inputs import id_value, text_problem
from marketplace.core.money import MAX_PRICE_FEN, MoneyFormatError, parse_yuan
from marketplace.core.pager import Page
from marketplace.core.time import CHINA
from marketplace.orders import services
from marketplace.orders.models import (
    Channel,
    Checkout,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
)
from marketplace.regions.models import address_name
from marketplace.sellers.models import Seller, SellerStatus

MAX_AGE_DAYS = 90  # a sale is recorded at most this many days after it was made
MAX_LINES = 50  # lines of one receipt
MAX_QUANTITY = 99_999
PLACE_MAX = 100
RECEIPT_MAX = 32
SELLABLE = (ProductStatus.listed, ProductStatus.delisted)  # reviewed products of the seller


class PaymentMethod(StrEnum):
    cash = "cash"  # 现金
    transfer = "transfer"  # 转账 (WeChat, Alipay, bank)


PAYMENT_METHOD_LABELS = {PaymentMethod.cash: "现金", PaymentMethod.transfer: "转账"}
# the payments row's provider for each method (payments.offline records the capture)
PROVIDERS = {PaymentMethod.cash: "offline_cash", PaymentMethod.transfer: "offline_transfer"}
METHOD_OF_PROVIDER = {provider: method for method, provider in PROVIDERS.items()}


@dataclass(frozen=True)
class OfflineLine:
    """A line as given: the product by id (or by SKU, from a file), the quantity, the unit
    price (int: fen; text: yuan, as typed on a page or in a file)."""
    product_id: object = None
    quantity: object = None
    unit_price: object = None
    sku: str = ""


@dataclass(frozen=True)
class OfflineSaleInput:
    sold_on: object  # a date, or YYYY-MM-DD
    place: str
    lines: Sequence[OfflineLine]
    payment_method: str  # cash | transfer
    receipt_no: str
    event_id: object = None  # None, or an EventRef (help.events.tags.offline_event)


@dataclass(frozen=True)
class EventRef:
    """A fair or live-sale event a sale may be recorded against, checked by the entry point
    (`help.events.tags.offline_event`: published), since `help` sits above `orders`; the
    sale's date must fall on one of its days (China), `clean_sale` checks that."""
    id: int
    title: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class CleanLine:
    product: Product
    quantity: int
    unit_price_fen: int

    @property
    def amount_fen(self) -> int:
        return self.unit_price_fen * self.quantity


@dataclass(frozen=True)
class CleanSale:
    sold_on: date
    place: str
    payment_method: PaymentMethod
    receipt_no: str
    lines: tuple[CleanLine, ...]
    event_id: int | None = None

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    @property
    def provider(self) -> str:
        return PROVIDERS[self.payment_method]

    def signature(self) -> tuple:
        """What makes two records of one receipt the same sale."""
        return (self.sold_on, self.place, self.provider, tuple(sorted(
            (line.product.id, line.quantity, line.unit_price_fen) for line in self.lines)),
            self.event_id)


def order_signature(order: Order) -> tuple:
    """`CleanSale.signature` of a recorded offline sale."""
    return (order.sold_on, order.place, order.payment_method, tuple(sorted(
        (line.product_id, line.quantity, line.unit_price_fen) for line in order.lines)),
        order.event_id)


# ---- who may, and the event --------------------------------------------------------------------

def check_may_record(actor: User, seller: Seller) -> None:
    """The seller's staff (and platform admins) record its sales; anyone else: 404. A seller
    that is not verified sells nothing (422)."""
    policy.check_manage_seller(actor, seller)
    if seller.status != SellerStatus.verified:
        raise RuleBroken("经营主体通过认证后才能录入线下销售", code="seller_not_verified")


def check_event(event) -> None:
    """A sale's event: None, or an EventRef the entry point checked (a bare id is refused)."""
    if event is not None and not isinstance(event, EventRef):
        raise RuleBroken("请从帮扶活动列表中选择活动", field="event_id", code="event_unavailable")


def check_event_day(event: EventRef | None, sold_on: date) -> int | None:
    """The event's id when the sale's date is one of its days; RuleBroken (422) otherwise."""
    if event is None:
        return None
    if not event.first_day <= sold_on <= event.last_day:
        raise RuleBroken(Msg("销售日期 %(day)s 不在活动“%(title)s”的日期内（%(first)s 至 %(last)s）",
                             day=sold_on.isoformat(), title=event.title,
                             first=event.first_day.isoformat(), last=event.last_day.isoformat()),
                         field="event_id", code="event_not_on_date")
    return event.id


# ---- checking a sale ---------------------------------------------------------------------------

def today_of(now: datetime) -> date:
    return now.astimezone(CHINA).date()


_DATE_PARTS = re.compile(r"[-/.\u5e74\u6708]")  # - / . and the year's and month's characters
_DAY = chr(0x65E5)  # the day's character, at the end


def parse_day(value) -> date:
    """A date: a date object, or 2026-11-15, 2026/11/15, 2026.11.15, 2026年11月15日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    try:
        year, month, dom = (int(part) for part in _DATE_PARTS.split(text.removesuffix(_DAY)))
        return date(year, month, dom)
    except ValueError:
        raise ValidationFailed("请填写正确的销售日期（年-月-日）", field="sold_on") from None


def sold_on_value(value, today: date) -> date:
    """The date a sale was made: not after today (China), at most MAX_AGE_DAYS before it."""
    day = parse_day(value)
    if day > today:
        raise ValidationFailed("销售日期不能晚于今天", field="sold_on")
    if day < today - timedelta(days=MAX_AGE_DAYS):
        raise ValidationFailed(Msg("只能录入 %(n)s 天以内的销售", n=MAX_AGE_DAYS), field="sold_on")
    return day


def place_value(value) -> str:
    text = " ".join(str(value or "").split())
    problem = text_problem(text)
    if problem is not None:
        raise ValidationFailed(Msg("地点%(problem)s", problem=problem), field="place")
    if not 2 <= len(text) <= PLACE_MAX:
        raise ValidationFailed(Msg("请填写销售地点或活动名称（2–%(n)s 个字）", n=PLACE_MAX),
                               field="place")
    return text


def receipt_value(value) -> str:
    """A receipt number as the seller wrote it; full-width letters and digits become ASCII."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if text_problem(text) is not None or any(ch.isspace() for ch in text) \
            or not 1 <= len(text) <= RECEIPT_MAX:
        raise ValidationFailed(Msg("请填写收据号（1–%(n)s 个字符，不含空格）", n=RECEIPT_MAX),
                               field="receipt_no")
    return text


PAYMENT_WORDS = {"cash": PaymentMethod.cash, "现金": PaymentMethod.cash,
                 "transfer": PaymentMethod.transfer, "转账": PaymentMethod.transfer}


def method_value(value) -> PaymentMethod:
    method = PAYMENT_WORDS.get(unicodedata.normalize("NFKC", str(value or "")).strip().lower())
    if method is None:
        raise ValidationFailed("付款方式应为现金（cash）或转账（transfer）", field="payment_method")
    return method


def quantity_value(value) -> int:
    if isinstance(value, bool):
        value = None
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
    text = text.removesuffix(".0")  # a spreadsheet's whole number
    if not text.isdigit() or not 1 <= int(text) <= MAX_QUANTITY:
        raise ValidationFailed(Msg("数量应为 1 到 %(n)s 之间的整数", n=MAX_QUANTITY),
                               field="quantity")
    return int(text)


def price_value(value) -> int:
    """A unit price: fen when an int, yuan when text (at most two decimals)."""
    if isinstance(value, int) and not isinstance(value, bool):
        fen = value
    else:
        try:
            fen = parse_yuan(None if value is None or isinstance(value, bool) else str(value))
        except MoneyFormatError:
            raise ValidationFailed("请填写正确的单价（元，最多两位小数）", field="unit_price") from None
    if not 1 <= fen <= MAX_PRICE_FEN:
        raise ValidationFailed("单价应在 0.01 到 99,999.99 元之间", field="unit_price")
    return fen


def _products(session: Session, seller: Seller, lines: Sequence[OfflineLine]):
    """The seller's reviewed products the lines name: by id and by SKU."""
    ids = {i for i in (id_value(ln.product_id) for ln in lines) if i}
    skus = {unicodedata.normalize("NFKC", ln.sku).strip().upper() for ln in lines if ln.sku}
    if not ids and not skus:
        return {}, {}
    found = session.scalars(select(Product).where(
        Product.seller_id == seller.id, Product.status.in_(SELLABLE),
        (Product.id.in_(ids) | func.upper(Product.sku).in_(skus)))).all()
    return {p.id: p for p in found}, {p.sku.upper(): p for p in found}


def clean_lines(session: Session, seller: Seller, lines: Sequence[OfflineLine], *,
                found: tuple[dict, dict] | None = None
                ) -> tuple[list[CleanLine], dict[int, list[str]]]:
    """The lines checked: (the clean lines, merged by product and price; position (1-based) ->
    its problems). A product twice at one price is one line; at two prices, a problem.
    `found`: the seller's products by id and by SKU (upper case), when read already."""
    by_id, by_sku = found or _products(session, seller, lines)
    clean: dict[int, CleanLine] = {}
    problems: dict[int, list[str]] = {}
    for n, line in enumerate(lines, start=1):
        errors = []
        ident = id_value(line.product_id)
        product = (by_id.get(ident) if ident else
                   by_sku.get(unicodedata.normalize("NFKC", line.sku).strip().upper())
                   if line.sku else None)
        if product is None:
            errors.append(Msg("未找到本经营主体的商品 %(p)s（草稿和待审核的商品不能录入）",
                              p=line.sku or line.product_id or "") if (line.sku or ident)
                          else Msg("请选择商品"))
        values = {}
        for name, check, raw in (("quantity", quantity_value, line.quantity),
                                 ("unit_price", price_value, line.unit_price)):
            try:
                values[name] = check(raw)
            except ValidationFailed as err:
                errors.append(err.message)
        if not errors:
            before = clean.get(product.id)
            if before is not None and before.unit_price_fen != values["unit_price"]:
                errors.append(Msg("%(name)s 在这张收据中出现两次且单价不同，请合并为一行",
                                  name=product.name))
            else:
                quantity = values["quantity"] + (before.quantity if before else 0)
                if quantity > MAX_QUANTITY:
                    errors.append(Msg("数量应为 1 到 %(n)s 之间的整数", n=MAX_QUANTITY))
                else:
                    clean[product.id] = CleanLine(product, quantity, values["unit_price"])
        if errors:
            problems[n] = errors
    return list(clean.values()), problems


def clean_sale(session: Session, seller: Seller, data: OfflineSaleInput, today: date
               ) -> CleanSale:
    """The sale checked, or one ValidationFailed naming every problem: fields by name; lines in
    errors["lines"] ("第 n 行：...") and in details["lines"] ([{"line": n, "messages"}])."""
    errors: dict[str, list[str]] = {}
    values = {}
    for name, check, raw in (("sold_on", lambda v: sold_on_value(v, today), data.sold_on),
                             ("place", place_value, data.place),
                             ("payment_method", method_value, data.payment_method),
                             ("receipt_no", receipt_value, data.receipt_no)):
        try:
            values[name] = check(raw)
        except ValidationFailed as err:
            errors[name] = [err.message]
    lines, problems = clean_lines(session, seller, data.lines)
    if not data.lines:
        errors["lines"] = [Msg("请至少填写一行商品")]
    elif len(data.lines) > MAX_LINES:
        errors["lines"] = [Msg("一张收据最多 %(n)s 行", n=MAX_LINES)]
    elif problems:
        errors["lines"] = [Msg("第 %(n)s 行：%(problem)s", n=n, problem="；".join(messages))
                           for n, messages in problems.items()]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors, details={
            "lines": [{"line": n, "messages": list(m)} for n, m in problems.items()]})
    check_event(data.event_id)
    event_id = check_event_day(data.event_id, values["sold_on"])
    return CleanSale(values["sold_on"], values["place"], values["payment_method"],
                     values["receipt_no"], tuple(lines), event_id)


# ---- the receipt number, once per seller -------------------------------------------------------

def find(session: Session, seller_id: int, receipt_no: str) -> Order | None:
    return session.scalar(select(Order).where(Order.seller_id == seller_id,
                                              Order.receipt_no == receipt_no))


def repeated(order: Order, sale: CleanSale) -> Order:
    """The order recorded before for the sale's receipt number: the same sale (every field
    identical) answers it; another sale under the number is a conflict (409)."""
    if order_signature(order) != sale.signature():
        raise Conflict(Msg("收据号 %(no)s 已录入另一笔销售（订单 %(n)s）；更正请对原订单退款",
                           no=sale.receipt_no, n=order.number), field="receipt_no",
                       code="receipt_no_taken", details={"order_id": order.id})
    return order


# ---- writing the order -------------------------------------------------------------------------

def write_sale(session: Session, actor: User, seller: Seller, sale: CleanSale,
               now: datetime) -> Order | None:
    """The sale's order, made paid and handed over, its units taken from stock; None when a
    concurrent request recorded the receipt number just now (nothing written here then). The
    caller records the payment (payments.offline) and then `handed_over`."""
    quantities = {line.product.id: line.quantity for line in sale.lines}
    names = {line.product.id: line.product.name for line in sale.lines}
    lines = [{"product_id": ln.product.id, "name": ln.product.name, "spec": ln.product.spec,
              "unit_price_fen": ln.unit_price_fen, "quantity": ln.quantity,
              "amount_fen": ln.amount_fen} for ln in sorted(sale.lines,
                                                            key=lambda ln: ln.product.id)]
    try:
        with session.begin_nested():  # the unique receipt number: a concurrent record waits
            conn = session.connection()  # the savepoint's (SAVEPOINT is said here)
            checkout_id = conn.execute(insert(Checkout.__table__).returning(
                Checkout.__table__.c.id), {
                "buyer_id": actor.id, "idempotency_key": f"offline-{seller.id}-{sale.receipt_no}",
                "fingerprint": "offline", "created_at": now}).scalar_one()
            row = _order_row(actor, seller, sale, checkout_id, now)
            (order_id,), line_ids = services.write_orders(conn, [row], [lines])
    except IntegrityError:
        return None
    services.reserve_units(session, quantities, names, now)  # InsufficientStock names all
    services.sell_units(session, quantities)
    order_lines = [loaded(OrderLine, {**line, "id": line_id, "share_bp": None,
                                      "attributable_fen": None})
                   for line, line_id in zip(lines, line_ids, strict=True)]
    return attach(session, loaded(Order, {**row, "id": order_id}, lines=order_lines,
                                  seller=seller))


def _order_row(actor: User, seller: Seller, sale: CleanSale, checkout_id: int,
               now: datetime) -> dict:
    total = sale.total_fen
    return {
        "number": services.order_number(now, checkout_id, 0), "checkout_id": checkout_id,
        "buyer_id": actor.id, "seller_id": seller.id, "channel": Channel.offline,
        "unit_id": None, "campaign_id": None, "unit_purpose": "",
        "status": OrderStatus.received, "goods_fen": total, "shipping_fen": 0,
        "total_fen": total, "paid_fen": total, "refunded_fen": 0, "currency": "CNY",
        "reserved_until": None, "stock_held": False, "cancel_reason": "", "paid_at": now,
        "payment_method": sale.provider, "voucher_filename": "", "voucher_uploaded_at": None,
        "carrier": "", "tracking_no": "", "shipped_at": None, "received_at": now,
        "recipient": "", "mobile": "", "region_id": seller.region_id,
        "region_names": address_name(seller.region.name_path), "address_detail": sale.place,
        "sold_on": sale.sold_on, "place": sale.place, "receipt_no": sale.receipt_no,
        "event_id": sale.event_id, "created_at": now, "updated_at": now}


def handed_over(session: Session, order: Order, actor: User, now: datetime) -> None:
    """The 'received' event after the 'paid' one: the goods changed hands at the stall."""
    session.add(OrderEvent(order_id=order.id, kind=OrderEventKind.received,
                           from_status=OrderStatus.paid, to_status=OrderStatus.received,
                           actor_id=actor.id, created_at=now,
                           note=Msg("线下销售，现场交付（收据号 %(no)s）", no=order.receipt_no)))
    session.flush()


# ---- reading -----------------------------------------------------------------------------------

def recent_sales(session: Session, seller_id: int, page: int = 1, per_page: int = 20
                 ) -> Page[Order]:
    """A seller's offline sales, the latest sale date first."""
    where = (Order.seller_id == seller_id, Order.channel == Channel.offline)
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    items = session.scalars(select(Order).where(*where)
                            .order_by(Order.sold_on.desc(), Order.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), total, page, per_page)
