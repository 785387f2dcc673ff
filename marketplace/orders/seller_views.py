"""Seller console for orders (/seller/orders), its own blueprint `seller_orders`: orders by
status with a count per status (opening on 待发货, or the first status that has orders), ship
with tracking, refunds, bank transfers confirmed."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.core.forms import commit_or_flash, posted_text
from marketplace.core.pager import requested_page
from marketplace.core.policy import roles_required
from marketplace.extensions import db
from marketplace.orders import fulfilment, lists, reading
from marketplace.orders.forms import amount_from_form
from marketplace.orders.models import Order
from marketplace.payments import refunds, transfers
from marketplace.payments.models import Refund, RefundStatus
from marketplace.payments.providers import providers
from marketplace.sellers.console import console_seller

bp = Blueprint("seller_orders", __name__)

def _order(order_id: int) -> Order:
    return reading.seller_order(db.session, current_user, order_id)  # another's: 404


@bp.get("/seller/orders")
@roles_required(Role.seller_staff)
def index():
    mine, seller = console_seller()
    counts = lists.seller_counts(db.session, seller.id)
    status = lists.seller_tab(request.args.get("status"), counts)
    page = lists.seller_orders(db.session, seller.id, status, requested_page(request.args))
    requests_ = db.session.scalars(select(Refund).join(Order, Refund.order_id == Order.id)
                                   .where(Order.seller_id == seller.id,
                                          Refund.status == RefundStatus.requested)
                                   .order_by(Refund.id)).all()
    return render_template("orders/seller_orders.html", sellers=mine, seller=seller,
                           page=page, status=status, counts=counts, tabs=lists.SELLER_TABS,
                           labels=lists.SELLER_TAB_LABELS,
                           refund_requests=requests_)


def _act(order: Order, work, done: str):
    """One action on an order, then back to the list it was on (or the one it moved to)."""
    ok, _value = commit_or_flash(work, done)
    status = order.status.value if ok else (request.form.get("from") or order.status.value)
    return redirect(url_for("seller_orders.index", seller=order.seller_id, status=status))


@bp.post("/seller/orders/<int:order_id>/ship")
@roles_required(Role.seller_staff)
def ship(order_id: int):
    order = _order(order_id)
    return _act(order, lambda: fulfilment.ship(
        db.session, current_user, order, carrier=posted_text("carrier", _("物流公司")),
        tracking_no=posted_text("tracking_no", _("运单号"))),
        _("已发货：%(number)s", number=order.number))


@bp.post("/seller/orders/<int:order_id>/refund")
@roles_required(Role.seller_staff)
def refund(order_id: int):
    order = _order(order_id)
    return _act(order, lambda: refunds.refund(
        db.session, current_user, order, amount_fen=amount_from_form(),
        reason=posted_text("reason", _("退款原因")), providers=providers(current_app.config)),
        _("已退款：%(number)s", number=order.number))


@bp.post("/seller/refunds/<int:refund_id>/<any(approve, reject):decision>")
@roles_required(Role.seller_staff)
def refund_decision(refund_id: int, decision: str):
    refund = refunds.refund_for(db.session, current_user, refund_id)  # another's: 404
    order = refund.order
    if decision == "approve":
        return _act(order, lambda: refunds.approve_refund(
            db.session, current_user, refund, providers=providers(current_app.config)),
            _("退款申请已处理"))
    return _act(order, lambda: refunds.reject_refund(
        db.session, current_user, refund, reason=posted_text("reason", _("驳回原因"))),
        _("退款申请已处理"))


@bp.post("/seller/orders/<int:order_id>/confirm-transfer")
@roles_required(Role.seller_staff)
def confirm_transfer(order_id: int):
    order = _order(order_id)
    return _act(order, lambda: transfers.confirm(db.session, current_user, order),
                _("已确认到账：%(number)s", number=order.number))
