"""Orders, their lines and events, checkouts (idempotency), carts, invoices and address books."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import DynamicMapped, Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, TimestampMixin, str_enum
from marketplace.core.time import now_utc
from marketplace.extensions import db


class OrderStatus(StrEnum):
    pending_payment = "pending_payment"  # stock reserved until reserved_until
    paid = "paid"  # money captured; the seller ships
    shipped = "shipped"  # carrier and tracking number given
    received = "received"  # the buyer confirmed (or 10 days passed)
    completed = "completed"  # closed
    cancelled = "cancelled"  # by the buyer, or the payment window ran out; stock released


class Channel(StrEnum):
    individual = "individual"  # a person buying for themselves
    unit_member = "unit_member"  # a member of a unit, counted toward its share
    unit_purchase = "unit_purchase"  # a unit buying (canteen, union)
    group_purchase = "group_purchase"  # a group-purchase campaign
    procurement = "procurement"  # government procurement
    offline = "offline"  # recorded sale at a fair or market




ORDER_STATUS_LABELS = {
    OrderStatus.pending_payment: "待付款",
    OrderStatus.paid: "已付款",
    OrderStatus.shipped: "已发货",
    OrderStatus.received: "已收货",
    OrderStatus.completed: "已完成",
    OrderStatus.cancelled: "已取消",
}


class OrderEventKind(StrEnum):
    created = "created"  # checkout made the order
    paid = "paid"  # a payment was recorded (note: "<provider> <reference>")
    reserved_again = "reserved_again"  # a late payment took the units again
    payment_refunded = "payment_refunded"  # money the order could not take went back
    bank_transfer = "bank_transfer"  # the buyer chose to pay by bank transfer
    voucher = "voucher"  # the bank's voucher was uploaded
    shipped = "shipped"  # carrier and tracking number given
    received = "received"  # the buyer confirmed receipt (or 10 days passed)
    completed = "completed"  # closed
    cancelled = "cancelled"  # by the buyer or an admin, or refunded in full before shipping
    expired = "expired"  # the payment window ran out
    refund_requested = "refund_requested"  # the buyer asked for money back
    refund_rejected = "refund_rejected"  # the seller refused, with a reason
    refunded = "refunded"  # money went back


# what each kind of order event says on the order page
EVENT_LABELS = {
    "created": "下单",
    "paid": "付款到账",
    "reserved_again": "重新锁定库存",
    "payment_refunded": "款项原路退回",
    "bank_transfer": "选择对公转账",
    "voucher": "上传转账凭证",
    "shipped": "发货",
    "received": "确认收货",
    "completed": "订单完成",
    "cancelled": "订单取消",
    "expired": "超时取消",
    "refund_requested": "申请退款",
    "refund_rejected": "拒绝退款",
    "refunded": "退款",
}
# how a payment's provider is named to people (a 'paid' event's note is "<provider> <reference>")
PROVIDER_LABELS = {"simulated": "测试支付", "stripe": "Stripe 在线支付", "bank_transfer": "对公转账",
                   "offline_cash": "线下现金", "offline_transfer": "线下转账"}


class Checkout(db.Model):
    """One submission of a cart: the idempotency key makes a repeated submission answer the
    orders of the first."""

    __tablename__ = "checkouts"
    __table_args__ = (UniqueConstraint("buyer_id", "idempotency_key",
                                       name="uq_checkouts_buyer_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))  # hash of the request it answered
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)

    orders: Mapped[list[Order]] = relationship(back_populates="checkout", order_by="Order.id")


class Order(TimestampMixin, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_fen = goods_fen + shipping_fen", name="total_sum"),
        CheckConstraint("refunded_fen <= paid_fen", name="refund_within_paid"),
        Index("ix_orders_status_reserved_until", "status", "reserved_until"),
        Index("ix_orders_buyer_created", "buyer_id", "created_at"),
        Index("ix_orders_seller_status", "seller_id", "status"),
        # an offline sale's receipt number, once per seller (NULL for every other order)
        Index("uq_orders_seller_receipt", "seller_id", "receipt_no", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel), default=Channel.individual)
    # the unit it counts toward (channels unit_member, unit_purchase, group_purchase of a unit)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    # the fair or live-sale event it was placed from (or, offline, sold at): help.events
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    # a union's purchase for the unit: "welfare" (福利) or "condolence" (慰问); "" otherwise
    unit_purpose: Mapped[str] = mapped_column(String(16), default="", server_default="")
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus),
                                                default=OrderStatus.pending_payment)
    goods_fen: Mapped[int] = mapped_column(BigInteger)
    shipping_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    reserved_until: Mapped[datetime | None] = mapped_column(AwareDateTime())
    stock_held: Mapped[bool] = mapped_column(default=True)  # its lines' units are reserved
    cancel_reason: Mapped[str] = mapped_column(String(32), default="")
    paid_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    # "" until the buyer picks one; bank_transfer waits for a voucher and the seller's confirmation
    payment_method: Mapped[str] = mapped_column(String(16), default="", server_default="")
    voucher_filename: Mapped[str] = mapped_column(String(64), default="", server_default="")
    voucher_uploaded_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    carrier: Mapped[str] = mapped_column(String(32), default="", server_default="")
    tracking_no: Mapped[str] = mapped_column(String(40), default="", server_default="")
    shipped_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    received_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    # where it goes (a copy: later edits of an address book never change an order)
    recipient: Mapped[str] = mapped_column(String(32))
    mobile: Mapped[str] = mapped_column(String(11))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    region_names: Mapped[str] = mapped_column(String(200))
    address_detail: Mapped[str] = mapped_column(String(200))
    # an offline sale (channel offline, orders.offline): the China date it was sold, the fair or
    # market, the seller's receipt number; None / "" for every other order
    sold_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(100), default="", server_default="")
    receipt_no: Mapped[str | None] = mapped_column(String(32))

    checkout: Mapped[Checkout] = relationship(back_populates="orders")
    seller = relationship("Seller", lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id",
        lazy="selectin")
    # appended without loading the history; iterating it queries (order pages)
    events: DynamicMapped[OrderEvent] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id",
        lazy="dynamic")

    @property
    def status_label(self) -> str:
        return ORDER_STATUS_LABELS[self.status]


def purchases_of(buyer_id: int):
    """The orders a person bought: an offline sale's buyer_id is the seller's staff member who
    recorded it, which makes it no purchase of theirs (their order lists, impact, leaderboard)."""
    return and_(Order.buyer_id == buyer_id, Order.channel != Channel.offline)


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_fen = unit_price_fen * quantity", name="amount_product"),
        UniqueConstraint("order_id", "product_id", name="uq_order_lines_product"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))  # as sold
    spec: Mapped[str] = mapped_column(String(64), default="")
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # set when the payment is captured: the share that applied and what households were given
    share_bp: Mapped[int | None] = mapped_column(Integer)
    attributable_fen: Mapped[int | None] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(db.Model):
    """Append-only: every change of an order (who, when, what)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # created, paid, cancelled, expired, ...
    from_status: Mapped[str] = mapped_column(String(24), default="")
    to_status: Mapped[str] = mapped_column(String(24), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)

    order: Mapped[Order] = relationship(back_populates="events")

    @property
    def label(self) -> str:
        """What happened, in Chinese (translated by the page)."""
        return EVENT_LABELS.get(self.kind, self.kind)

    @property
    def payment_note(self) -> tuple[str, str] | None:
        """A 'paid' event's (provider label, reference); None for other events."""
        if self.kind != "paid":
            return None
        provider, _, reference = self.note.partition(" ")
        return PROVIDER_LABELS.get(provider, provider), reference


class CartItem(db.Model):
    """A signed-in buyer's cart line (visitors keep theirs in the session)."""

    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("user_id", "product_id", name="uq_cart_items_product"),
                      CheckConstraint("quantity > 0", name="quantity_positive"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)


class InvoiceCounter(db.Model):
    """Each seller's last invoice number: taken and raised in the transaction that issues the
    invoice, so numbers run on without gaps (a rolled-back issue gives its number back)."""

    __tablename__ = "invoice_counters"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(db.Model):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("seller_id", "serial", name="uq_invoices_serial"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"))
    serial: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 ... per seller
    kind: Mapped[str] = mapped_column(String(16))  # personal | company
    title: Mapped[str] = mapped_column(String(100))
    tax_no: Mapped[str] = mapped_column(String(18), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))

    order: Mapped[Order] = relationship()

    @property
    def number(self) -> str:
        return f"{self.seller_id:04d}-{self.serial:06d}"


class SavedAddress(TimestampMixin, db.Model):
    """A buyer's address book entry; orders copy what they use, so editing never changes one."""

    __tablename__ = "saved_addresses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(32))
    mobile: Mapped[str] = mapped_column(String(11))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    detail: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(default=False)

    region = relationship("Region", lazy="joined")
