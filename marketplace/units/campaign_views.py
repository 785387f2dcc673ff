"""Group purchase pages (团购): the list (open campaigns, one's own participations by status),
opening a campaign, the campaign page (fill bar, tiers, join, one's own part, the managers'
participants, share link and close), the share link, the simulated payment of a participation,
the campaign's orders for its seller's staff and managers, and the consolidated distribution
list (xlsx).

Every page and action of a campaign past its deadline closes it first (`settlement.close_if_due`,
committed), so the first read after the deadline settles it."""
from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.core import policy
from marketplace.core.errors import NotFound
from marketplace.core.forms import commit_or_flash, form_status, submit
from marketplace.core.pager import Page, requested_page
from marketplace.core.policy import login_required
from marketplace.core.time import as_aware, now_utc
from marketplace.extensions import db
from marketplace.orders.forms import fill_address_steps
from marketplace.orders.models import Order
from marketplace.orders.services import LineInput
from marketplace.payments.providers import providers
from marketplace.units import campaign_forms as forms
from marketplace.units import campaigns, exports, participations, settlement
from marketplace.units.campaigns import CampaignInput
from marketplace.units.models import (
    HOLDING,
    Campaign,
    CampaignStatus,
    Delivery,
    Participation,
    ParticipationStatus,
    Unit,
)

bp = Blueprint("campaigns", __name__)

PER_PAGE = 20
# 我的参团 tabs: the statuses each shows
MINE_TABS = {"all": (), "active": HOLDING,
             "settled": (ParticipationStatus.settled,),
             "ended": (ParticipationStatus.withdrawn, ParticipationStatus.expired,
                       ParticipationStatus.failed)}


def _user():
    return current_user if current_user.is_authenticated else None


def _providers():
    return providers(current_app.config)


def time_left(seconds: int) -> str:
    """剩 2 天 3 小时, 剩 5 小时 20 分钟, 剩 8 分钟, or 已截止."""
    if seconds <= 0:
        return _("已截止")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(1, rest // 60) if not days and not hours else rest // 60
    if days:
        return _("剩 %(d)s 天 %(h)s 小时", d=days, h=hours)
    if hours:
        return _("剩 %(h)s 小时 %(m)s 分钟", h=hours, m=minutes)
    return _("剩 %(m)s 分钟", m=minutes)


def _close_if_due(campaign: Campaign) -> None:
    """The lazy close: a campaign past its deadline settles before anything else (committed)."""
    settlement.close_on_read(db.session, campaign, _providers(), commit=db.session.commit)


def _campaign(campaign_id: int, *, staff_too: bool = True) -> Campaign:
    """A campaign the user may see (may join it, manages it, or sells in it); 404 otherwise;
    closed first when its deadline has passed."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not (
            campaigns.can_join(db.session, _user(), campaign)
            or (staff_too and policy.staff_of(_user(), campaign.seller_id))):
        raise NotFound("未找到该团购")
    _close_if_due(campaign)
    return campaign


def _participation(participation_id: int) -> Participation:
    """One of the user's own participations; 404 otherwise."""
    part = db.session.get(Participation, participation_id)
    if part is None or part.user_id != current_user.id:
        raise NotFound("未找到该参团记录")
    _close_if_due(part.campaign)
    db.session.refresh(part)
    return part


# ---- the list -----------------------------------------------------------------------------------

@bp.get("/campaigns")
def index():
    user = _user()
    page = requested_page(request.args)
    found, total = campaigns.visible(db.session, user, page=page, per_page=PER_PAGE,
                                     open_only=True)
    for campaign in found:
        _close_if_due(campaign)
    tab = request.args.get("tab") if request.args.get("tab") in MINE_TABS else "all"
    mine = None
    if user is not None:
        parts, count = campaigns.participations_of(db.session, user.id, MINE_TABS[tab],
                                                   per_page=50)
        mine = Page(parts, count, 1, 50)
    return render_template("units/campaigns/list.html", page=Page(found, total, page, PER_PAGE),
                           fills={c.id: campaigns.fill(db.session, c) for c in found},
                           mine=mine, tab=tab, tabs=list(MINE_TABS), time_left=time_left,
                           can_open=_can_open(user))


def _can_open(user) -> bool:
    return user is not None and bool(
        campaigns.admin_unit_ids(db.session, user) or user.seller_ids() or policy.is_admin(user))


# ---- opening ------------------------------------------------------------------------------------

@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new():
    if not _can_open(current_user):
        raise NotFound("页面不存在")
    units = db.session.scalars(select(Unit).where(
        Unit.id.in_(campaigns.admin_unit_ids(db.session, current_user) or {0}))
        .order_by(Unit.name)).all()
    form = forms.CampaignForm()
    form.unit.choices = [(str(u.id), u.name) for u in units]
    if current_user.seller_ids():
        form.unit.choices.append(("", _("公开团购（商家发起，凭链接参加）")))
    if request.method == "GET" and units:
        unit = units[0]
        form.recipient.data, form.mobile.data = unit.contact_name, unit.contact_mobile
        form.region_code.data, form.detail.data = unit.region.code, unit.address_detail
    fill_address_steps(db.session, form)
    count = forms.row_count(request.form)
    rows = forms.product_rows(request.form, count)
    stepping = request.method == "POST" and (request.form.get("region_step")
                                              or request.form.get("add_product"))
    if not stepping:
        terms = forms.product_terms(rows) if request.method == "POST" else None

        def open_it():
            if terms is None:
                from marketplace.core.errors import ValidationFailed
                raise ValidationFailed("请检查各商品的价格档位")
            return campaigns.open_campaign(db.session, current_user, CampaignInput(
                unit_id=int(form.unit.data) if form.unit.data else None, title=form.title.data,
                description=form.description.data or "", products=terms,
                minimum_quantity=form.minimum_quantity.data,
                per_person_limit=form.per_person_limit.data,
                deadline=form.utc(form.deadline.data), starts_at=form.utc(form.starts_at.data),
                delivery=form.delivery.data, audience=form.audience.data,
                address=form.address() if form.delivery.data == Delivery.consolidated
                else None))

        done = submit(form, open_it, success=_("团购已发起，可以分享给参与者了"))
        if done.ok:
            return redirect(url_for("campaigns.campaign_page", campaign_id=done.value.id))
        if done.error is not None:
            for name, messages in (getattr(done.error, "errors", None) or {}).items():
                if name.startswith("products[") and name[9:-1].isdigit():
                    index = int(name[9:-1])
                    filled = [r for r in rows if r.product_id]
                    if index < len(filled):
                        filled[index].errors.extend(messages)
    return render_template("units/campaigns/new.html", form=form, rows=rows,
                           product_choices=forms.product_choices(db.session, current_user, bool(units)),
                           max_rows=forms.MAX_PRODUCT_ROWS), form_status(form)


# ---- the campaign page --------------------------------------------------------------------------

@bp.get("/campaigns/<int:campaign_id>")
def campaign_page(campaign_id: int):
    campaign = _campaign(campaign_id)
    user = _user()
    manages = campaigns.can_manage(db.session, user, campaign)
    own = None
    if user is not None:
        own = participations.active_participation(db.session, campaign.id, user.id) or \
            db.session.scalar(select(Participation).where(
                Participation.campaign_id == campaign.id, Participation.user_id == user.id)
                .order_by(Participation.id.desc()).limit(1))
    join_form = forms.JoinForm()
    join_form.idempotency_key.data = uuid.uuid4().hex
    if user is not None and user.mobile:
        join_form.mobile.data = user.mobile
    fill_address_steps(db.session, join_form)
    return _render_page(campaign, manages, own, join_form), 200


def _render_page(campaign: Campaign, manages: bool, own, join_form):
    fill = campaigns.fill(db.session, campaign)
    sells = policy.staff_of(_user(), campaign.seller_id)
    orders = []
    if campaign.status == CampaignStatus.succeeded and (manages or sells):
        orders = db.session.scalars(select(Order).where(Order.campaign_id == campaign.id)
                                    .order_by(Order.id).limit(200)).all()
    is_open = campaign.status == CampaignStatus.open and fill.seconds_left > 0
    return render_template(
        "units/campaigns/campaign.html", campaign=campaign, fill=fill, manages=manages,
        sells=sells, own=own, holding=own is not None and own.status in HOLDING,
        join_form=join_form, is_open=is_open, started=as_aware(campaign.starts_at) <= now_utc(),
        can_join=_user() is not None and campaigns.can_join(db.session, _user(), campaign),
        starting=campaigns.starting_prices(campaign), time_left=time_left(fill.seconds_left),
        participants=campaigns.participants(db.session, campaign.id) if manages else [],
        orders=orders, statuses=CampaignStatus,
        share_url=url_for("campaigns.join_link", link_code=campaign.link_code, _external=True))


@bp.get("/campaigns/join/<link_code>")
def join_link(link_code: str):
    campaign = db.session.scalar(select(Campaign).where(Campaign.link_code == link_code[:16]))
    if campaign is None:
        raise NotFound("未找到该团购")
    return redirect(url_for("campaigns.campaign_page", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/join")
@login_required
def join(campaign_id: int):
    campaign = _campaign(campaign_id, staff_too=False)
    form = forms.JoinForm()
    fill_address_steps(db.session, form)
    back = url_for("campaigns.campaign_page", campaign_id=campaign.id)
    if request.form.get("region_step"):
        return _render_page(campaign, campaigns.can_manage(db.session, current_user, campaign),
                            None, form), 200
    wanted = forms.quantities(request.form, [cp.product_id for cp in campaign.products])

    def take():
        if wanted is None:
            from marketplace.core.errors import ValidationFailed
            raise ValidationFailed("参团数量必须是整数", field="lines")
        address = form.address() if campaign.delivery == Delivery.individual else None
        return participations.join(db.session, current_user, campaign,
                              [LineInput(pid, q) for pid, q in wanted.items()], address,
                              idempotency_key=form.idempotency_key.data or "")

    done = submit(form, take, success=_("已参团，数量已为您保留"))
    if done.ok:
        part = done.value
        if part.status == ParticipationStatus.pending_payment:
            return redirect(url_for("campaigns.pay", participation_id=part.id))
        return redirect(back)
    if not form.errors and not form.form_errors:
        flash(_("表单已过期，请重试"), "error")
        return redirect(back)
    return _render_page(campaign, campaigns.can_manage(db.session, current_user, campaign),
                        None, form), 400


# ---- one's own participation ----------------------------------------------------------------------

@bp.route("/campaigns/participations/<int:participation_id>/pay", methods=["GET", "POST"])
@login_required
def pay(participation_id: int):
    """The simulated provider's page for a participation: clearly a test payment."""
    part = _participation(participation_id)
    back = url_for("campaigns.campaign_page", campaign_id=part.campaign_id)
    if request.method == "GET":
        if part.status != ParticipationStatus.pending_payment:
            return redirect(back)
        return render_template("units/campaigns/pay.html", part=part)
    outcome = request.form.get("outcome")
    if outcome == "fail":
        flash(_("测试支付：付款失败，参团仍待付款"), "error")
        return redirect(back)
    if outcome != "success":
        abort(400)
    commit_or_flash(lambda: participations.pay(db.session, current_user, part, _providers()),
                    _("付款成功（测试支付），已参团"))
    return redirect(back)


@bp.post("/campaigns/participations/<int:participation_id>/change")
@login_required
def change(participation_id: int):
    part = _participation(participation_id)
    wanted = forms.quantities(request.form, [cp.product_id for cp in part.campaign.products])
    if wanted is None:
        flash(_("参团数量必须是整数"), "error")
    else:
        commit_or_flash(lambda: participations.change(
            db.session, current_user, part, [LineInput(pid, q) for pid, q in wanted.items()],
            _providers()), _("参团数量已修改"))
    return redirect(url_for("campaigns.campaign_page", campaign_id=part.campaign_id))


@bp.post("/campaigns/participations/<int:participation_id>/withdraw")
@login_required
def withdraw(participation_id: int):
    part = _participation(participation_id)
    commit_or_flash(lambda: participations.withdraw(db.session, current_user, part, _providers()),
                    _("已退出团购，付款将原路退回"))
    return redirect(url_for("campaigns.campaign_page", campaign_id=part.campaign_id))


# ---- managers and the seller's staff --------------------------------------------------------------

@bp.post("/campaigns/<int:campaign_id>/close")
@login_required
def close(campaign_id: int):
    campaign = _campaign(campaign_id)
    if not campaigns.can_manage(db.session, current_user, campaign):
        raise NotFound("未找到该团购")
    if campaign.status == CampaignStatus.open and as_aware(campaign.deadline) > now_utc():
        flash(_("团购尚未截止，截止后才能结束"), "error")
    else:
        commit_or_flash(lambda: settlement.close(db.session, campaign, _providers(),
                                                 actor=current_user), _("团购已结束并结算"))
    return redirect(url_for("campaigns.campaign_page", campaign_id=campaign_id))


def _sees_orders(campaign: Campaign) -> None:
    if not policy.sees_campaign_orders(
            current_user, campaign.seller_id,
            campaigns.can_manage(db.session, current_user, campaign)):
        raise NotFound("未找到该团购")


@bp.get("/campaigns/<int:campaign_id>/orders")
@login_required
def campaign_orders(campaign_id: int):
    """The campaign's orders together: its seller's staff and its managers."""
    campaign = _campaign(campaign_id)
    _sees_orders(campaign)
    orders = db.session.scalars(select(Order).where(Order.campaign_id == campaign.id)
                                .order_by(Order.id)).all()
    return render_template("units/campaigns/orders.html", campaign=campaign, orders=orders,
                           total_fen=sum(o.total_fen for o in orders))


@bp.get("/campaigns/<int:campaign_id>/distribution.xlsx")
@login_required
def distribution(campaign_id: int):
    """Who gets what (consolidated delivery): each participant's quantities at the price
    reached, for the unit to hand out."""
    campaign = _campaign(campaign_id)
    _sees_orders(campaign)
    prices = {pf.product_id: pf.price_fen for pf in campaigns.fill(db.session, campaign).products}
    names = {cp.product_id: cp.product.name for cp in campaign.products}
    counted = (ParticipationStatus.joined, ParticipationStatus.settled)
    rows = [(part, line) for part in campaigns.participants(db.session, campaign.id)
            if part.status in counted for line in part.lines]
    body = exports.workbook_bytes(
        _("团购「%(t)s」分发清单", t=campaign.title),
        [_("序号"), _("参与人"), _("手机"), _("商品"), _("数量"), _("单价（元）"), _("金额（元）"),
         _("状态")],
        [(n, part.user.display_name, part.user.mobile or "", names.get(line.product_id, ""),
          line.quantity, exports.Money(prices.get(line.product_id, 0)),
          exports.Money(prices.get(line.product_id, 0) * line.quantity), _(part.status_label))
         for n, (part, line) in enumerate(rows, start=1)], sheet=_("分发清单"))
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument"
                                              ".spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             f"attachment; filename=campaign-{campaign.id}-distribution.xlsx"})
