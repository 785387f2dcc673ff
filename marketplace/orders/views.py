"""Cart, checkout, the buyer's orders and the simulated payment page (the seller's order pages
are `seller_views`, a blueprint of their own)."""
from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in
from sqlalchemy import select

from marketplace.core.forms import commit_or_flash, form_status, posted_text, submit
from marketplace.core.inputs import BIGINT_MAX, bounded_int, id_value
from marketplace.core.pager import requested_page
from marketplace.core.policy import login_required
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.help.events import tags as event_tags
from marketplace.ledger import shares as household_shares
from marketplace.ledger.impact import buyer_impact, order_impact
from marketplace.orders import addresses, cart, fulfilment, invoices, lists, reading, services
from marketplace.orders.forms import CheckoutForm, amount_from_form, fill_address_steps
from marketplace.orders.models import Invoice, Order, OrderStatus
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import payback, refunds, transfers
from marketplace.payments.capture import record_payment
from marketplace.payments.models import Refund
from marketplace.payments.providers import providers
from marketplace.units import services as units

bp = Blueprint("orders", __name__)


def _user():
    return current_user if current_user.is_authenticated else None


def _int(name: str, default: int | None = None) -> int | None:
    """A posted whole number that fits the database (core.inputs), else `default`."""
    raw = request.form.get(name, "")
    if not raw:
        return default
    return bounded_int(raw, -BIGINT_MAX, BIGINT_MAX)


@user_logged_in.connect
def _merge_cart(app, user, **_extra):
    """A visitor's cart joins the buyer's at sign-in."""
    try:
        if cart.merge(db.session, user, session):
            db.session.commit()
    except Exception:  # never stand between a buyer and signing in
        db.session.rollback()
        app.logger.exception("cart merge failed")


@bp.app_context_processor
def _cart_count():
    """cart_count(): the units in the cart (the header and the phone's tab bar show it)."""
    return {"cart_count": lambda: cart.count(db.session, _user(), session)}


# ---- cart ---------------------------------------------------------------------------------------

def _shares(groups) -> dict:
    """What each buyable line gives households if paid now (one query), their sum and the
    goods it is part of: `line_shares`, `shares_total`, `goods_fen` for orders/_share.html."""
    lines = [(line.product, line.quantity) for g in groups for line in g.lines
             if not line.problem]
    found = household_shares.for_lines(db.session, lines)
    return {"line_shares": found, "shares_total": household_shares.total(found.values()),
            "goods_fen": sum(g.goods_fen for g in groups)}


@bp.get("/cart")
def cart_page():
    groups = cart.lines(db.session, _user(), session)
    return render_template("orders/cart.html", groups=groups, **_shares(groups),
                           total_fen=sum(g.total_fen for g in groups),
                           blocked=any(line.problem for g in groups for line in g.lines))


@bp.post("/cart/add")
def cart_add():
    product_id = _int("product_id")
    quantity = _int("quantity", 1)
    if product_id is None:
        abort(400)
    ok, now = commit_or_flash(lambda: cart.set_quantity(db.session, _user(), session,
                                                        product_id, quantity, add=True))
    if not ok:
        return redirect(url_for("storefront.product", product_id=product_id))
    flash(_("已加入购物车（共 %(n)s 件）", n=now), "success")
    return redirect(url_for("orders.cart_page"))


@bp.post("/buy-now")
def buy_now():
    """立即购买 on the product page: the quantity checked as the cart would check it, then
    checkout with just this line (`?product=&quantity=`); the cart is left as it is."""
    product_id = _int("product_id")
    quantity = _int("quantity", 1)
    if product_id is None:
        abort(400)
    ok, _value = commit_or_flash(lambda: cart.check_line(db.session, product_id, quantity))
    if not ok:
        return redirect(url_for("storefront.product", product_id=product_id))
    return redirect(url_for("orders.checkout", product=product_id, quantity=quantity))


@bp.post("/cart/update")
def cart_update():
    product_id, quantity = _int("product_id"), _int("quantity")
    if product_id is None or quantity is None:
        flash(_("数量必须是整数"), "error")
        return redirect(url_for("orders.cart_page"))
    commit_or_flash(lambda: cart.set_quantity(db.session, _user(), session, product_id,
                                              max(quantity, 0)))
    return redirect(url_for("orders.cart_page"))


@bp.post("/cart/remove")
def cart_remove():
    product_id = _int("product_id")
    if product_id is not None:
        cart.remove(db.session, _user(), session, [product_id])
        db.session.commit()
        flash(_("已从购物车移除"), "success")
    return redirect(url_for("orders.cart_page"))


# ---- checkout -----------------------------------------------------------------------------------

@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout():
    """The cart's checkout, or with `?product=&quantity=` (立即购买) one line and no cart."""
    one = _one_line()
    groups = cart.one_line(db.session, *one) if one else \
        cart.lines(db.session, current_user, session)
    if not groups:
        flash(_("该商品已下架或不存在") if one else _("购物车是空的"), "info")
        return redirect(url_for("storefront.catalog") if one else url_for("orders.cart_page"))
    form = CheckoutForm()
    saved = addresses.book(db.session, current_user)
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex  # one per checkout page: a double submit
        chosen = None  # yields one set of orders
        wanted = id_value(request.args.get("address"))
        if wanted:
            chosen = next((a for a in saved if a.id == wanted), None)
        chosen = chosen or (saved[0] if saved else None)
        unit_address = _unit_address(id_value(request.args.get("unit_address")))
        if unit_address is not None:  # a unit's purchase: the unit's address
            form.recipient.data, form.mobile.data = unit_address.recipient, unit_address.mobile
            form.region_code.data, form.detail.data = (unit_address.region_code,
                                                       unit_address.detail)
        elif chosen is not None:
            form.recipient.data, form.mobile.data = chosen.recipient, chosen.mobile
            form.region_code.data, form.detail.data = chosen.region.code, chosen.detail
        elif current_user.mobile:
            form.mobile.data = current_user.mobile
    fill_address_steps(db.session, form)
    blocked = any(line.problem for g in groups for line in g.lines)
    window = timedelta(minutes=current_app.config["ORDER_PAYMENT_WINDOW_MINUTES"])

    def place():
        address = AddressInput(form.recipient.data, form.mobile.data, form.region_code.data,
                               form.detail.data)
        lines = [LineInput(line.product.id, line.quantity) for g in groups for line in g.lines]
        toward = _count_toward()
        if toward is not None:  # 计入单位: units.services checks membership (422 otherwise)
            orders = units.checkout_for_unit(
                db.session, current_user, lines, address, channel=toward[0], unit_id=toward[1],
                idempotency_key=form.idempotency_key.data or "", window=window,
                purpose=(request.form.get("unit_purpose") or "").strip())
        else:
            orders = services.checkout(db.session, current_user, lines, address,
                                       idempotency_key=form.idempotency_key.data or "",
                                       window=window, event=event_tags.remembered_tag(
                                           db.session, session, now_utc()))
        if not one:
            cart.remove(db.session, current_user, session,
                        [ln.product_id for o in orders for ln in o.lines])
        if form.save_address.data:
            addresses.save(db.session, current_user, address)
        return orders

    # without JavaScript, "选择下一级" posts the form to show the next level's choices: nothing
    # is placed and everything typed stays
    stepping = request.method == "POST" and bool(request.form.get("region_step"))
    if not blocked and not stepping:
        done = submit(form, place, success=_("下单成功，请在 %(n)s 分钟内付款",
                                             n=int(window.total_seconds() // 60)))
        if done.ok:  # one order: its page; several: the list
            orders = done.value
            return redirect(url_for("orders.order_page", order_id=orders[0].id)
                            if len(orders) == 1 else url_for("orders.my_orders"))
    return render_template("orders/checkout.html", form=form, groups=groups, blocked=blocked,
                           **_shares(groups),
                           saved=saved, member_units=units.countable_units(db.session,
                                                                           current_user),
                           admin_units=units.countable_units(db.session, current_user,
                                                             admin=True),
                           count_toward=request.form.get("count_toward", "")
                           if request.method == "POST"
                           else _toward_from_address(request.args.get("unit_address")),
                           purposes=units.PURPOSES,
                           total_fen=sum(g.total_fen for g in groups)), form_status(form)


# a checkout's "计入单位" choice: "" (not counted), "member:<unit id>" (a member's own order
# counted toward the unit) or "purchase:<unit id>" (an admin buying for the unit)
TOWARD_CHANNELS = {"member": "unit_member", "purchase": "unit_purchase"}


def _count_toward() -> tuple[str, int | None] | None:
    kind, _sep, raw = (request.form.get("count_toward") or "").partition(":")
    if kind not in TOWARD_CHANNELS:
        return None
    return TOWARD_CHANNELS[kind], id_value(raw)


def _unit_address(unit_id: int | None):
    """The address of a unit the user buys for (its admin), None for any other id."""
    if unit_id is None:
        return None
    found = [u for u in units.countable_units(db.session, current_user, admin=True)
             if u.id == unit_id]
    return units.unit_address(found[0]) if found else None


def _toward_from_address(raw) -> str:
    unit_id = id_value(raw)
    return f"purchase:{unit_id}" if _unit_address(unit_id) is not None else ""


def _one_line() -> tuple[int, int] | None:
    """(product id, quantity) of a 立即购买 checkout, None for the cart's."""
    product_id = id_value(request.args.get("product"))
    if product_id is None:
        return None
    return product_id, bounded_int(request.args.get("quantity"), 1, BIGINT_MAX) or 1


# ---- the buyer's orders -------------------------------------------------------------------------

def _own(order_id: int) -> Order:
    return reading.buyer_order(db.session, current_user, order_id)  # another's: 404


@bp.get("/orders")
@login_required
def my_orders():
    """我的订单: tabs by status (全部, 待付款, 待发货, 待收货, 已完成, 退款/售后), a page at a time."""
    tab = lists.buyer_tab(request.args.get("tab"))
    page = lists.buyer_orders(db.session, current_user.id, tab, requested_page(request.args))
    return render_template("orders/list.html", page=page, tab=tab, tabs=list(lists.BuyerTab),
                           labels=lists.BUYER_TAB_LABELS,
                           counts=lists.buyer_counts(db.session, current_user.id))


@bp.get("/orders/<int:order_id>")
@login_required
def order_page(order_id: int):
    order = _own(order_id)
    asked = db.session.scalars(select(Refund).where(Refund.order_id == order.id)
                                 .order_by(Refund.id)).all()
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    return render_template("orders/order.html", order=order, statuses=OrderStatus,
                           refunds=asked, invoice=invoice,
                           unit_invoice=units.unit_invoice_header(db.session, order),
                           impact=order_impact(db.session, order),
                           can_invoice=order.status in invoices.INVOICEABLE,
                           refundable=refunds.refundable_fen(db.session, order),
                           can_refund=order.status in refunds.REFUNDABLE)


@bp.get("/my-help")
@login_required
def my_help():
    """All of the buyer's orders: households reached, amount, by county."""
    return render_template("orders/my_help.html", impact=buyer_impact(db.session, current_user.id))


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def order_cancel(order_id: int):
    order = _own(order_id)
    commit_or_flash(lambda: services.cancel(db.session, current_user, order),
                    _("订单已取消，库存已释放"))
    return redirect(url_for("orders.order_page", order_id=order_id))


@bp.route("/orders/<int:order_id>/pay", methods=["GET", "POST"])
@login_required
def order_pay(order_id: int):
    """The simulated provider's page: clearly a test payment; it can succeed, fail, or
    deliver its confirmation late (after the payment window)."""
    order = _own(order_id)
    if request.method == "GET":
        return render_template("orders/pay.html", order=order, bank_days=current_app.config[
                                   "BANK_TRANSFER_DAYS"],
                               stripe_enabled="stripe" in providers(current_app.config))
    outcome = request.form.get("outcome")
    if outcome == "fail":
        flash(_("测试支付：付款失败，订单仍待付款"), "error")
        return redirect(url_for("orders.order_page", order_id=order_id))
    if outcome not in ("success", "late"):
        abort(400)
    now = None
    if outcome == "late" and order.reserved_until:
        now = order.reserved_until + timedelta(minutes=1)
    ok, result = commit_or_flash(lambda: record_payment(
        db.session, order, provider="simulated", reference=f"sim-{order.id}",
        amount_fen=order.total_fen, currency=order.currency, now=now))
    if ok and result.refunded:  # the simulated provider pays it back at once
        payback.settle(db.session, result.payment.id, providers(current_app.config),
                       commit=db.session.commit)
        flash(_("付款到账时商品已售完，款项将原路退回"), "error")
    elif ok and result.duplicate:
        flash(_("这笔付款已经入账"), "info")
    elif ok:
        flash(_("付款成功（测试支付）"), "success")
    return redirect(url_for("orders.order_page", order_id=order_id))


@bp.post("/orders/<int:order_id>/receive")
@login_required
def order_receive(order_id: int):
    order = _own(order_id)
    commit_or_flash(lambda: fulfilment.confirm_receipt(db.session, current_user, order),
                    _("已确认收货，谢谢您的帮扶"))
    return redirect(url_for("orders.order_page", order_id=order_id))


@bp.post("/orders/<int:order_id>/refund")
@login_required
def order_refund_request(order_id: int):
    order = _own(order_id)
    commit_or_flash(lambda: refunds.request_refund(
        db.session, current_user, order, amount_fen=amount_from_form(),
        reason=posted_text("reason", _("退款原因"))), _("退款申请已提交，等待商家处理"))
    return redirect(url_for("orders.order_page", order_id=order_id))


@bp.post("/orders/<int:order_id>/pay/stripe")
@login_required
def order_pay_stripe(order_id: int):
    """Off to Stripe Checkout; the webhook marks the order paid when the money is in."""
    order = _own(order_id)
    provider = providers(current_app.config).get("stripe")
    if provider is None:
        abort(404)
    if order.status != OrderStatus.pending_payment:
        flash(_("订单不是待付款状态"), "error")
        return redirect(url_for("orders.order_page", order_id=order_id))
    back = url_for("orders.order_page", order_id=order.id, _external=True)
    try:
        start = provider.start(order, success_url=back, cancel_url=back)
    except Exception:  # the provider is unreachable: say so, keep the order
        current_app.logger.exception("stripe checkout session failed")
        flash(_("暂时无法连接支付服务，请稍后再试"), "error")
        return redirect(url_for("orders.order_page", order_id=order_id))
    return redirect(start.redirect_url, code=303)


# ---- bank transfer ------------------------------------------------------------------------------

def _voucher_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "vouchers"


@bp.post("/orders/<int:order_id>/pay/bank")
@login_required
def order_pay_bank(order_id: int):
    order = _own(order_id)
    window = timedelta(days=current_app.config["BANK_TRANSFER_DAYS"])
    commit_or_flash(lambda: transfers.choose(db.session, current_user, order, window=window),
                    _("请按页面上的账户转账，并上传转账凭证"))
    return redirect(url_for("orders.order_page", order_id=order_id))


@bp.post("/orders/<int:order_id>/voucher")
@login_required
def order_voucher_upload(order_id: int):
    order = _own(order_id)
    upload = request.files.get("voucher")
    commit_or_flash(lambda: transfers.upload_voucher(
        db.session, current_user, order, upload.read() if upload else b"", _voucher_folder(),
        max_bytes=current_app.config["MAX_IMAGE_BYTES"]), _("转账凭证已上传，等待商家确认到账"))
    return redirect(url_for("orders.order_page", order_id=order_id))


@bp.get("/orders/<int:order_id>/voucher")
@login_required
def order_voucher(order_id: int):
    """The voucher, to its buyer, the seller's staff and admins only (not a public file)."""
    from flask import send_from_directory
    order = reading.order_for(db.session, current_user, order_id)  # 404 for anyone else
    if not order.voucher_filename:
        abort(404)
    return send_from_directory(_voucher_folder(), order.voucher_filename, max_age=0)


# ---- address book -------------------------------------------------------------------------------

@bp.get("/addresses")
@login_required
def address_book():
    return render_template("orders/addresses.html", entries=addresses.book(db.session,
                                                                            current_user))


@bp.post("/addresses/<int:address_id>/delete")
@login_required
def address_delete(address_id: int):
    addresses.delete(db.session, current_user, address_id)  # another buyer's: 404
    db.session.commit()
    flash(_("地址已删除"), "success")
    return redirect(url_for("orders.address_book"))


# ---- invoices -----------------------------------------------------------------------------------

@bp.post("/orders/<int:order_id>/invoice")
@login_required
def order_invoice_request(order_id: int):
    order = _own(order_id)
    ok, _invoice = commit_or_flash(lambda: invoices.request_invoice(
        db.session, current_user, order, kind=posted_text("kind", _("发票类型")),
        title=posted_text("title", _("发票抬头")), tax_no=posted_text("tax_no", _("税号"))))
    if not ok:
        return redirect(url_for("orders.order_page", order_id=order_id))
    return redirect(url_for("orders.order_invoice", order_id=order_id))


@bp.get("/orders/<int:order_id>/invoice")
@login_required
def order_invoice(order_id: int):
    """The printable invoice: its buyer, the seller's staff and admins."""
    order = reading.order_for(db.session, current_user, order_id)
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    if invoice is None:
        abort(404)
    return render_template("orders/invoice.html", order=order, invoice=invoice)

