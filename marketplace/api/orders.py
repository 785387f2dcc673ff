"""POST /api/v1/orders, GET /api/v1/orders/{id}, POST /api/v1/orders/{id}/payments and
/refunds."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, jsonify, request, url_for

from marketplace.accounts.models import Role
from marketplace.api import bp
from marketplace.api.common import (
    api_user,
    check_types,
    json_body,
    money_in,
    reject_unknown,
    seller_json,
    token_required,
)
from marketplace.core.errors import Forbidden, RuleBroken, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.money import money_json
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.help.events import tags as event_tags
from marketplace.ledger.impact import order_impact
from marketplace.orders import reading, services
from marketplace.orders.models import Channel, Order
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import payback, refunds
from marketplace.payments.capture import record_payment
from marketplace.payments.models import Payment, PaymentStatus
from marketplace.payments.payables import ensure_payable
from marketplace.payments.providers import ProviderUnavailable, providers
from marketplace.units import services as units

ORDER_TYPES = {"lines": "array", "address": "object", "channel": "string",
               "idempotency_key": "string", "purpose": "string"}
ADDRESS_FIELDS = ("recipient", "mobile", "region_code", "detail")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def order_json(order: Order) -> dict:
    return {
        "id": order.id, "number": order.number, "seller": seller_json(order.seller),
        "status": str(order.status), "channel": str(order.channel),
        "goods": money_json(order.goods_fen), "shipping": money_json(order.shipping_fen),
        "total": money_json(order.total_fen), "paid": money_json(order.paid_fen),
        "refunded": money_json(order.refunded_fen),
        "lines": [{"product_id": ln.product_id, "name": ln.name, "spec": ln.spec,
                   "quantity": ln.quantity, "unit_price": money_json(ln.unit_price_fen),
                   "amount": money_json(ln.amount_fen)} for ln in order.lines],
        "reserved_until": _iso(order.reserved_until),
        "address": {"recipient": order.recipient, "mobile": order.mobile,
                    "region": order.region_names, "detail": order.address_detail},
        "created_at": _iso(order.created_at), "paid_at": _iso(order.paid_at),
        "unit_id": order.unit_id, "purpose": order.unit_purpose or None,
        "event_id": order.event_id,
    }


def _lines(value) -> list[LineInput]:
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) - {"product_id", "quantity"}:
            raise ValidationFailed(Msg("第 %(n)s 行应为 {\"product_id\", \"quantity\"}", n=i + 1),
                                   field="lines")
        pid, qty = item.get("product_id"), item.get("quantity")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (pid, qty)):
            raise ValidationFailed(Msg("第 %(n)s 行的 product_id 和 quantity 应为整数", n=i + 1),
                                   field="lines")
        out.append(LineInput(pid, qty))
    return out


def _address(value: dict) -> AddressInput:
    unknown = set(value) - set(ADDRESS_FIELDS)
    if unknown or not all(isinstance(value.get(k, ""), str) for k in ADDRESS_FIELDS):
        raise ValidationFailed("收货地址应为 {recipient, mobile, region_code, detail}（字符串）",
                               field="address")
    return AddressInput(*(value.get(k, "") for k in ADDRESS_FIELDS))


@bp.post("/orders")
@token_required()
def create_orders():
    user = api_user()
    data = json_body()
    reject_unknown(data, set(ORDER_TYPES) | {"unit_id", "event_id"})
    check_types(data, ORDER_TYPES)
    event_id = data.get("event_id")
    if event_id is not None and (not isinstance(event_id, int) or isinstance(event_id, bool)):
        raise ValidationFailed("event_id 应为整数或 null", field="event_id")
    channel = data.get("channel", Channel.individual)
    unit_id = data.get("unit_id")
    key = data.get("idempotency_key") or request.headers.get("Idempotency-Key", "")
    window = timedelta(minutes=current_app.config["ORDER_PAYMENT_WINDOW_MINUTES"])
    lines = _lines(data.get("lines") or [])
    if channel in units.UNIT_CHANNELS and event_id is not None:
        raise RuleBroken("计入单位的订单不能同时计入帮扶活动", field="event_id")
    if channel in units.UNIT_CHANNELS:  # counted toward a unit: units.services checks who may
        address = _address(data["address"]) if data.get("address") is not None else None
        if address is None and channel != Channel.unit_purchase:
            raise ValidationFailed("请填写收货地址（address）", field="address")
        orders = units.checkout_for_unit(db.session, user, lines, address, channel=channel,
                                         unit_id=unit_id, idempotency_key=key,
                                         purpose=data.get("purpose", ""), window=window)
    else:
        if channel != Channel.individual or unit_id is not None or data.get("purpose"):
            raise RuleBroken("购买渠道应为 individual、unit_member 或 unit_purchase；"
                             "unit_id 和 purpose 只用于计入单位的订单", field="channel")
        orders = services.checkout(db.session, user, lines, _address(data.get("address") or {}),
                                   idempotency_key=key, channel=Channel.individual,
                                   window=window, event=None if event_id is None else
                                   event_tags.require_checkout_tag(db.session, event_id, now_utc()))
    body = {"orders": [order_json(o) for o in orders]}
    db.session.commit()
    return jsonify(body), 201


@bp.get("/orders/<int:order_id>")
@token_required()
def get_order(order_id: int):
    return jsonify(order_json(reading.order_for(db.session, api_user(), order_id)))


@bp.get("/orders/<int:order_id>/impact")
@token_required()
def get_order_impact(order_id: int):
    order = reading.order_for(db.session, api_user(), order_id)
    impact = order_impact(db.session, order)
    return jsonify({"order_id": order.id, "attributable": money_json(impact.attributable_fen),
                    "households": [{"code": r.code, "display_name": r.masked_name,
                                    "village": r.village, "amount": money_json(r.amount_fen)}
                                   for r in impact.households]})


@bp.post("/orders/<int:order_id>/payments")
@token_required(Role.buyer)
def pay_order(order_id: int):
    user = api_user()
    order = reading.order_for(db.session, user, order_id)
    if order.buyer_id != user.id:
        raise Forbidden("只有下单人可以付款")
    data = json_body()
    reject_unknown(data, {"provider"})
    provider = data.get("provider", "simulated")
    enabled = providers(current_app.config)
    if provider not in enabled:
        raise RuleBroken("该支付方式未启用", field="provider", code="provider_unavailable")
    if provider != "simulated":
        ensure_payable(order)
        back = url_for("orders.order_page", order_id=order.id, _external=True)
        try:
            start = enabled[provider].start(order, success_url=back, cancel_url=back)
        except Exception as exc:  # unreachable or refused: nothing started, the order waits
            current_app.logger.warning("%s: starting a payment failed: %r", provider, exc)
            raise ProviderUnavailable("暂时无法连接支付服务，请稍后再试") from exc
        return jsonify({"order": order_json(order), "redirect_url": start.redirect_url,
                        "reference": start.reference, "test_mode": enabled[provider].test_mode})
    outcome = record_payment(
        db.session, order, provider="simulated", reference=f"sim-{order.id}",
        amount_fen=order.total_fen, currency=order.currency)
    payment = outcome.payment
    if payment.status == PaymentStatus.refund_due:  # the order could not take it: it goes back
        payment_id = payment.id
        db.session.commit()
        payback.settle(db.session, payment_id, enabled, commit=db.session.commit)
        payment = db.session.get(Payment, payment_id)
    body = {"order": order_json(order), "test_mode": True,
            "payment": {"provider": "simulated", "status": str(payment.status),
                        "reason": payment.reason, "amount": money_json(payment.amount_fen)}}
    db.session.commit()
    return jsonify(body), 200


@bp.post("/orders/<int:order_id>/refunds")
@token_required(Role.seller_staff)
def refund_order(order_id: int):
    """Its seller's staff (or an admin) gives money back: `amount` for part, none for all."""
    user = api_user()
    order = reading.order_for(db.session, user, order_id)
    data = json_body()
    reject_unknown(data, {"amount", "reason"})
    check_types(data, {"reason": "string"})
    amount = money_in(data["amount"], field="amount") if data.get("amount") is not None else None
    record = refunds.refund(db.session, user, order, amount_fen=amount,
                            reason=data.get("reason", ""), providers=providers(current_app.config))
    body = {"order": order_json(order),
            "refund": {"id": record.id, "amount": money_json(record.amount_fen),
                       "status": str(record.status)}}
    db.session.commit()
    return jsonify(body), 201
