"""Seller console for orders (/seller/orders): by status, ship with tracking, refunds."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.errors import DomainError
from marketplace.core.i18n import translate_message
from marketplace.core.money import MoneyFormatError, parse_yuan
from marketplace.core.policy import roles_required
from marketplace.extensions import db
from marketplace.orders import fulfilment, transfers
from marketplace.orders.models import ORDER_STATUS_LABELS, Order, OrderStatus, Refund, RefundStatus
from marketplace.orders.views import bp
from marketplace.payments import providers
from marketplace.sellers import services as sellers

TABS = (OrderStatus.paid, OrderStatus.shipped, OrderStatus.received, OrderStatus.completed,
        OrderStatus.pending_payment, OrderStatus.cancelled)


def _seller():
    wanted = request.args.get("seller", type=int)
    ids = sorted(current_user.seller_ids())
    if wanted is None:
        if not ids:
            abort(404)
        wanted = ids[0]
    return sellers.get_managed(db.session, current_user, wanted)  # 404 for another seller


def _order(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404)
    sellers.get_managed(db.session, current_user, order.seller_id)
    return order


@bp.get("/seller/orders")
@roles_required(Role.seller_staff)
def seller_orders():
    seller = _seller()
    status = request.args.get("status") or OrderStatus.paid.value
    if status not in {s.value for s in OrderStatus}:
        status = OrderStatus.paid.value
    orders = db.session.scalars(select(Order).where(Order.seller_id == seller.id,
                                                    Order.status == status)
                                .order_by(Order.id.desc()).limit(200)).all()
    counts = dict(db.session.execute(select(Order.status, func.count())
                                     .where(Order.seller_id == seller.id)
                                     .group_by(Order.status)).tuples().all())
    requests_ = db.session.scalars(select(Refund).join(Order, Refund.order_id == Order.id)
                                   .where(Order.seller_id == seller.id,
                                          Refund.status == RefundStatus.requested)
                                   .order_by(Refund.id)).all()
    return render_template("orders/seller_orders.html", seller=seller, orders=orders,
                           status=status, counts=counts, tabs=TABS, labels=ORDER_STATUS_LABELS,
                           refund_requests=requests_)


def _back(order: Order):
    return redirect(url_for("orders.seller_orders", seller=order.seller_id,
                            status=order.status.value))


def _done(order: Order, message: str):
    db.session.commit()
    flash(message, "success")
    return _back(order)


def _failed(order: Order, err: DomainError):
    db.session.rollback()
    flash(translate_message(err.message), "error")
    return redirect(url_for("orders.seller_orders", seller=order.seller_id,
                            status=request.form.get("from") or order.status.value))


@bp.post("/seller/orders/<int:order_id>/ship")
@roles_required(Role.seller_staff)
def seller_ship(order_id: int):
    order = _order(order_id)
    try:
        fulfilment.ship(db.session, current_user, order, carrier=request.form.get("carrier", ""),
                        tracking_no=request.form.get("tracking_no", ""))
    except DomainError as err:
        return _failed(order, err)
    return _done(order, _("已发货：%(number)s", number=order.number))


@bp.post("/seller/orders/<int:order_id>/refund")
@roles_required(Role.seller_staff)
def seller_refund(order_id: int):
    order = _order(order_id)
    text = (request.form.get("amount") or "").strip()
    try:
        amount = parse_yuan(text) if text else None
    except MoneyFormatError:
        flash(_("退款金额格式不对，例如 12.50"), "error")
        return _back(order)
    try:
        fulfilment.refund(db.session, current_user, order, amount_fen=amount,
                          reason=request.form.get("reason", ""),
                          gateway=providers(current_app.config))
    except DomainError as err:
        return _failed(order, err)
    return _done(order, _("已退款：%(number)s", number=order.number))


@bp.post("/seller/refunds/<int:refund_id>/<any(approve, reject):decision>")
@roles_required(Role.seller_staff)
def seller_refund_decision(refund_id: int, decision: str):
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        abort(404)
    order = _order(refund.order_id)
    try:
        if decision == "approve":
            fulfilment.approve_refund(db.session, current_user, refund,
                                      gateway=providers(current_app.config))
        else:
            fulfilment.reject_refund(db.session, current_user, refund,
                                     reason=request.form.get("reason", ""))
    except DomainError as err:
        return _failed(order, err)
    return _done(order, _("退款申请已处理"))


@bp.post("/seller/orders/<int:order_id>/confirm-transfer")
@roles_required(Role.seller_staff)
def seller_confirm_transfer(order_id: int):
    order = _order(order_id)
    try:
        transfers.confirm(db.session, current_user, order)
    except DomainError as err:
        return _failed(order, err)
    return _done(order, _("已确认到账：%(number)s", number=order.number))
