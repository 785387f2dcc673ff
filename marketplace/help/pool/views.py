"""The donation pool's pages (/pool): public totals, allocations and pledges; donating and the
donor's receipts; an office's allocation of pool money to approved amount needs; a seller's
charity pledges in the seller console (/seller/pledges)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.core.errors import ValidationFailed
from marketplace.core.forms import commit_or_flash, form_status, submit
from marketplace.core.money import MoneyFormatError, parse_yuan
from marketplace.core.pager import Page, requested_page
from marketplace.core.policy import login_required, roles_required
from marketplace.core.time import today_china
from marketplace.extensions import db
from marketplace.help.pool import allocations, chain, donations, pledges, rules
from marketplace.help.pool.forms import ActionForm, AllocateForm, DonateForm, PledgeForm
from marketplace.help.pool.models import PLEDGE_STATUS_LABELS
from marketplace.payments.providers import providers as configured_providers
from marketplace.sellers.console import console_seller

bp = Blueprint("pool", __name__)

PER_PAGE = 20


def _fen(text: str, field: str = "amount") -> int:
    try:
        return parse_yuan(text)
    except MoneyFormatError:
        raise ValidationFailed("请填写金额，如 100 或 12.50", field=field) from None


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationFailed("请填写日期，如 2026-12-01", field=field) from None


# ---- public -------------------------------------------------------------------------------------

def _index(form: DonateForm):
    page = requested_page(request.args)
    items, total = allocations.published(db.session, page=page, per_page=PER_PAGE)
    return render_template("help/pool/index.html", totals=chain.totals(db.session),
                           allocations=Page(items, total, page, PER_PAGE),
                           pledges=pledges.published(db.session), form=form)


@bp.get("/pool")
def index():
    return _index(DonateForm())


@bp.post("/pool/donate")
@login_required
def donate():
    form = DonateForm()
    done = submit(form, lambda: donations.donate(
        db.session, current_user, _fen(form.amount.data), display_name=form.display_name.data,
        providers=configured_providers(current_app.config)))
    if done.ok:
        flash(_("感谢您的捐赠！"), "success")
        return redirect(url_for("pool.receipt", donation_id=done.value.id))
    return _index(form), form_status(form)


@bp.get("/pool/donations/<int:donation_id>")
@login_required
def receipt(donation_id: int):
    donation = donations.receipt(db.session, current_user, donation_id)
    return render_template("help/pool/receipt.html", donation=donation)


@bp.get("/pool/mine")
@login_required
def mine():
    return render_template("help/pool/mine.html",
                           items=donations.of_donor(db.session, current_user))


# ---- offices ------------------------------------------------------------------------------------

@bp.get("/pool/allocate")
@roles_required(Role.office)
def office():
    needs = allocations.open_amount_needs(db.session, current_user)
    return render_template("help/pool/office.html", totals=chain.totals(db.session),
                           needs=needs, form=AllocateForm())


@bp.post("/pool/needs/<int:need_id>/allocate")
@roles_required(Role.office)
def allocate(need_id: int):
    need = allocations.visible_need(db.session, current_user, need_id)
    form = AllocateForm()
    if form.validate_on_submit():
        commit_or_flash(lambda: allocations.allocate(
            db.session, current_user, need, _fen(form.amount.data), form.reason.data),
            _("已从资金池拨付"), reraise_access=True)
    else:
        flash(_("请检查填写的内容"), "error")
    return redirect(url_for("pool.office"))


# ---- sellers' pledges ---------------------------------------------------------------------------

def _pledges_page(seller, mine, form):
    today = today_china()
    rows = [(p, pledges.dues(db.session, p, today)) for p in pledges.of_seller(db.session,
                                                                               seller.id)]
    return render_template("help/pool/pledges.html", seller=seller, sellers=mine, rows=rows,
                           form=form, action=ActionForm(), labels=PLEDGE_STATUS_LABELS)


@bp.route("/seller/pledges", methods=["GET", "POST"])
@roles_required(Role.seller_staff)
def seller_pledges():
    mine, seller = console_seller()
    form = PledgeForm()

    def create():
        share = rules.percent_to_bp(form.share.data)
        if share is None:
            raise ValidationFailed("请填写承诺比例，如 2 或 2.5", field="share")
        return pledges.create(db.session, current_user, seller, share,
                              _day(form.starts_on.data, "starts_on"),
                              _day(form.ends_on.data, "ends_on"), form.note.data)

    done = submit(form, create, success=_("公益承诺已登记"))
    if done.ok:
        return redirect(url_for("pool.seller_pledges", seller=seller.id))
    return _pledges_page(seller, mine, form), form_status(form)


@bp.post("/seller/pledges/<int:pledge_id>/months/<int:month>/pay")
@roles_required(Role.seller_staff)
def pledge_pay(pledge_id: int, month: int):
    pledge = pledges.managed(db.session, current_user, pledge_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    worked, donation = commit_or_flash(lambda: pledges.pay_month(
        db.session, current_user, pledge, month,
        providers=configured_providers(current_app.config)), reraise_access=True)
    if worked:
        flash(_("承诺款已捐入资金池"), "success")
        return redirect(url_for("pool.receipt", donation_id=donation.id))
    return redirect(url_for("pool.seller_pledges", seller=pledge.seller_id))


@bp.post("/seller/pledges/<int:pledge_id>/end")
@roles_required(Role.seller_staff)
def pledge_end(pledge_id: int):
    pledge = pledges.managed(db.session, current_user, pledge_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    commit_or_flash(lambda: pledges.end(db.session, current_user, pledge), _("公益承诺已撤销"),
                    reraise_access=True)
    return redirect(url_for("pool.seller_pledges", seller=pledge.seller_id))
