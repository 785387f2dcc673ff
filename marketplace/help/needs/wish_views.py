"""The blueprint of micro-wishes (微心愿): a wish's phone page (what its card's QR code opens),
printable A6 wish cards and the village wall sheet (issue 18, point 3).

Cards and sheets are printed by a household's liaison (their households' wishes) and by the
offices over the village (every wish of it); anyone else gets 404. The phone page is public
for wishes on the wall or past it (open, claimed, fulfilled, expired), with masked names.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from marketplace.core import policy
from marketplace.core.errors import NotFound
from marketplace.core.forms import commit_or_flash, posted_text
from marketplace.core.policy import login_required
from marketplace.core.time import today_china
from marketplace.extensions import db
from marketplace.help.needs import cards, claims
from marketplace.help.needs.models import DeliveryKind, Need, NeedKind, NeedStatus, NeedWhat
from marketplace.households.models import Household
from marketplace.regions.models import Region, RegionLevel

bp = Blueprint("wishes", __name__)


def _wish(need_id: int) -> Need:
    need = cards.get_wish(db.session, need_id)
    if need is None:
        raise NotFound("未找到该微心愿")
    return need


def _tidy() -> None:
    """Lapse held claims and expire wishes past their time first (the needs core's tidy), so
    that a page opened from an old card tells the truth without a scheduler."""
    if claims.tidy(db.session) != (0, 0):
        db.session.commit()


def _printer(need: Need) -> bool:
    return policy.prints_wishes_of(current_user, need.household)


@bp.get("/wishes/<int:need_id>")
def wish(need_id: int):
    """A wish on a phone: what it is, for whom, what remains, its state and the claim button."""
    _tidy()
    need = _wish(need_id)
    printer = _printer(need)
    if need.status not in cards.PUBLIC_STATES and not printer:
        raise NotFound("未找到该微心愿")
    return render_template("help/wishes/wish.html", need=need, card=cards.card(need),
                           printer=printer, **_claim_context(need))


def _claim_context(need: Need) -> dict:
    """The donor's own claims of this wish (to show them their step), and where signing in
    comes back to."""
    mine = ([c for c in need.claims if c.donor_id == current_user.id]
            if current_user.is_authenticated else [])
    confirmer = current_user.is_authenticated and (
        policy.is_admin(current_user) or need.household.liaison_id == current_user.id)
    return {"my_claims": mine, "confirmer": confirmer,
            "login_url": url_for("accounts.login", next=url_for("wishes.wish", need_id=need.id))}


# ---- claiming on the phone, confirming receipt (the needs core's claims) ---------------------

@bp.post("/wishes/<int:need_id>/claim")
@login_required
def claim(need_id: int):
    """A signed-in donor claims the whole wish (the needs core's claim: held for some days)."""
    need = _wish(need_id)
    commit_or_flash(lambda: claims.claim(db.session, current_user, need),
                    _("谢谢您！心愿已认领，请在约定时间内送达。"))
    return redirect(url_for("wishes.wish", need_id=need_id))


def _claim_of(need: Need, claim_id: int):
    found = next((c for c in need.claims if c.id == claim_id), None)
    if found is None:
        raise NotFound("未找到该认领")
    return found


@bp.post("/wishes/<int:need_id>/claims/<int:claim_id>/delivered")
@login_required
def deliver(need_id: int, claim_id: int):
    """The donor records the delivery: the goods of a wish of goods, or its amount paid online
    (the needs core's record_delivery; another donor's claim answers 404)."""
    need = _wish(need_id)
    found = _claim_of(need, claim_id)
    kind = DeliveryKind.money if need.what == NeedWhat.amount else DeliveryKind.goods
    commit_or_flash(lambda: claims.record_delivery(
        db.session, current_user, found, kind, posted_text("note", "送达情况")),
        _("已登记送达，等待帮扶联络人确认收到。"), reraise_access=True)
    return redirect(url_for("wishes.wish", need_id=need_id))


@bp.post("/wishes/<int:need_id>/claims/<int:claim_id>/confirm")
@login_required
def confirm(need_id: int, claim_id: int):
    """The household's liaison confirms a claim's wish was received (with an optional note)."""
    need = _wish(need_id)
    found = _claim_of(need, claim_id)
    commit_or_flash(lambda: claims.confirm(db.session, current_user, found,
                                           posted_text("note", "收到情况")),
                    _("已确认收到"), reraise_access=True)
    return redirect(url_for("wishes.wish", need_id=need_id))


# ---- printing: one card, a village's cards, the wall sheet ------------------------------------

@bp.get("/wishes/<int:need_id>/card")
@login_required
def wish_card(need_id: int):
    need = _wish(need_id)
    policy.check_print_wish(current_user, need.household)
    return render_template("help/wishes/cards.html", village=need.village,
                           cards=[cards.card(need)], single=True)


def _village_wishes(code: str) -> tuple[Region, list[Need]]:
    """A village and the open wishes the user may print of it (404 for anyone who may print
    none of its wishes)."""
    _tidy()
    village = db.session.scalar(select(Region).where(Region.code == code,
                                                     Region.level == RegionLevel.village))
    if village is None:
        raise NotFound("未找到该村")
    if policy.prints_village_wishes(current_user, village):
        return village, cards.open_wishes(db.session, village.id, today_china())
    mine = list(db.session.scalars(select(Household.id).where(
        Household.village_id == village.id, Household.liaison_id == current_user.id)))
    if not mine:
        raise NotFound("未找到该村")
    return village, cards.open_wishes(db.session, village.id, today_china(), mine)


@bp.get("/villages/<code>/wishes/cards")
@login_required
def village_cards(code: str):
    village, needs = _village_wishes(code)
    return render_template("help/wishes/cards.html", village=village,
                           cards=[cards.card(n) for n in needs], single=False)


@bp.get("/villages/<code>/wishes/wall")
@login_required
def village_wall(code: str):
    village, needs = _village_wishes(code)
    return render_template("help/wishes/wall.html", village=village,
                           cards=[cards.card(n) for n in needs], today=today_china())


@bp.get("/wishes/print")
@login_required
def print_index():
    """The villages whose open wishes the user may print: their households' villages (a
    liaison), the villages under their offices, with how many wishes are open in each."""
    stmt = (select(Region, func.count(Need.id))
            .join(Need, Need.village_id == Region.id)
            .where(Need.kind == NeedKind.wish, Need.status == NeedStatus.open,
                   Need.expires_on >= today_china())
            .group_by(Region.id).order_by(Region.path))
    if not policy.is_admin(current_user):
        paths = policy.office_paths(current_user)
        mine = select(Household.id).where(Household.liaison_id == current_user.id)
        reach = [Need.household_id.in_(mine)] + [Region.path.startswith(p) for p in paths]
        stmt = stmt.where(or_(*reach))
    return render_template("help/wishes/print_index.html",
                           villages=list(db.session.execute(stmt).tuples()))
