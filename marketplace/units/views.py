"""Unit pages: my units (/units), applying (/units/apply), a unit (/units/<id>) with its
invite, members and what counted toward it this year, joining by link (/units/join/<code>), the
leaderboards (/units/board) and the platform admins' queue (/units/review).

Views stay thin: form -> units.services -> domain error back onto the form -> commit ->
redirect (core.forms.submit; one-click buttons: commit_or_flash). Another's unit answers 404.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.accounts.models import Role, User
from marketplace.core.errors import NotFound
from marketplace.core.forms import commit_or_flash, form_messages, form_status, submit
from marketplace.core.pager import requested_page
from marketplace.core.policy import is_admin, login_required, roles_required
from marketplace.core.time import today_china
from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.regions.models import RegionLevel
from marketplace.units import counting, roster, rules
from marketplace.units import services as units
from marketplace.units.forms import JoinForm, RejectForm, UnitApplyForm
from marketplace.units.models import (
    UNIT_STATUS_LABELS,
    Unit,
    UnitFiling,
    UnitStatus,
)

bp = Blueprint("units", __name__)

PERIODS = ("month", "year", "range")
PERIOD_LABELS = {"month": "本月", "year": "本年", "range": "自选日期"}


def _region_choices():
    found = (regions.regions_at_level(db.session, RegionLevel.county)
             + regions.regions_at_level(db.session, RegionLevel.township))
    found.sort(key=lambda r: r.code)
    return [("", _("请选择单位所在的县或乡镇"))] + [
        (r.code, " · ".join(r.path_names[1:]) or r.name) for r in found]


# ---- my units and applying --------------------------------------------------------------------

@bp.get("/units")
@login_required
def mine():
    rows = units.my_units(db.session, current_user)
    counts = units.member_counts(db.session, [u.id for u, _m in rows])
    return render_template("units/mine.html", rows=rows, counts=counts, join_form=JoinForm())


@bp.post("/units/join")
@login_required
def join_by_code():
    """The code typed on /units: to its join page (the confirmation)."""
    form = JoinForm()
    code = (form.code.data or "").strip().upper() if form.validate_on_submit() else ""
    if not code:
        return redirect(url_for("units.mine"))
    return redirect(url_for("units.join", code=code))


@bp.route("/units/apply", methods=["GET", "POST"])
@login_required
def apply():
    form = UnitApplyForm()
    form.region_code.choices = _region_choices()
    done = submit(form, lambda: units.apply(db.session, current_user, units.UnitApplication(
        kind=form.kind.data or "", name=form.name.data or "",
        credit_code=form.credit_code.data or "", region_code=form.region_code.data or "",
        contact_name=form.contact_name.data or "", contact_mobile=form.contact_mobile.data or "",
        address_detail=form.address_detail.data or "",
        invoice_title=form.invoice_title.data or "")),
        success=_("单位申请已提交，等待平台审核。审核通过后您将成为该单位的管理员。"))
    if done.ok:
        return redirect(url_for("units.detail", unit_id=done.value.id))
    return render_template("units/apply.html", form=form), form_status(form)


# ---- one unit ----------------------------------------------------------------------------------

def _filing(unit: Unit, year: int) -> UnitFiling | None:
    return db.session.scalar(select(UnitFiling).where(UnitFiling.unit_id == unit.id,
                                                      UnitFiling.year == year))


@bp.get("/units/<int:unit_id>")
@login_required
def detail(unit_id: int):
    unit, member = units.get_visible(db.session, current_user, unit_id)
    manages = is_admin(current_user) or bool(member and member.is_admin)
    year = today_china().year
    counted = counting.counted_in_year(db.session, [unit.id], year)[unit.id]
    filing = _filing(unit, year)
    progress = (rules.progress_bp(counted, filing.reserved_fen)
                if filing is not None and filing.status == "approved" else None)
    page = units.members(db.session, unit, requested_page(request.args)) if member or manages \
        else None
    invite_url = (url_for("units.join", code=unit.invite_code, _external=True)
                  if manages and unit.invite_code else "")
    return render_template("units/detail.html", unit=unit, member=member, manages=manages,
                           year=year, counted=counted, filing=filing, progress=progress,
                           page=page, invite_url=invite_url,
                           invite_expired=bool(unit.invite_code
                                               and not roster.invite_valid(unit,
                                                                          unit.invite_code)),
                           member_count=units.member_counts(db.session, [unit.id])[unit.id])


def _back(unit_id: int):
    return redirect(url_for("units.detail", unit_id=unit_id))


def _managed(unit_id: int) -> Unit:
    return units.get_managed(db.session, current_user, unit_id)[0]


@bp.post("/units/<int:unit_id>/invite")
@login_required
def invite(unit_id: int):
    unit = _managed(unit_id)
    commit_or_flash(lambda: roster.new_invite(db.session, current_user, unit),
                    _("已生成新的邀请码，有效期 %(n)s 天；旧邀请码已失效", n=roster.INVITE_DAYS))
    return _back(unit_id)


@bp.post("/units/<int:unit_id>/invite/revoke")
@login_required
def revoke_invite(unit_id: int):
    unit = _managed(unit_id)
    commit_or_flash(lambda: roster.revoke_invite(db.session, current_user, unit),
                    _("邀请码已作废"))
    return _back(unit_id)


@bp.post("/units/<int:unit_id>/leaderboard")
@login_required
def leaderboard(unit_id: int):
    unit = _managed(unit_id)
    on = request.form.get("on") == "1"
    commit_or_flash(lambda: roster.set_leaderboard(db.session, current_user, unit, on),
                    _("已加入爱心单位榜") if on else _("已退出爱心单位榜"))
    return _back(unit_id)


@bp.post("/units/<int:unit_id>/leave")
@login_required
def leave(unit_id: int):
    unit, _member = units.get_visible(db.session, current_user, unit_id)
    done, _v = commit_or_flash(lambda: roster.leave(db.session, current_user, unit),
                               _("您已退出单位“%(name)s”", name=unit.name))
    return redirect(url_for("units.mine")) if done else _back(unit_id)


@bp.post("/units/<int:unit_id>/members/<int:member_id>/remove")
@login_required
def remove_member(unit_id: int, member_id: int):
    unit = _managed(unit_id)
    commit_or_flash(lambda: roster.remove_member(db.session, current_user, unit, member_id),
                    _("已移出该成员"), reraise_access=True)
    return _back(unit_id)


@bp.post("/units/<int:unit_id>/members/<int:member_id>/admin")
@login_required
def set_admin(unit_id: int, member_id: int):
    unit = _managed(unit_id)
    on = request.form.get("on") == "1"
    commit_or_flash(lambda: roster.set_admin(db.session, current_user, unit, member_id, on),
                    _("已设为管理员") if on else _("已取消管理员"), reraise_access=True)
    return _back(unit_id)


# ---- joining by link or code ------------------------------------------------------------------

@bp.route("/units/join/<code>", methods=["GET", "POST"])
@login_required
def join(code: str):
    """The invite link: who invites, and a button to join (nothing happens on GET)."""
    unit = roster.find_by_invite(db.session, code)
    if unit is None:
        raise NotFound("邀请码不正确或已作废，请向单位管理员索取新的邀请链接")
    member = units.membership(db.session, current_user, unit.id)
    form = JoinForm(data={"code": code})
    status = 200
    if request.method == "POST":
        done = submit(form, lambda: roster.join(db.session, current_user, unit, code),
                      success=_("已加入单位“%(name)s”", name=unit.name))
        if done.ok:
            return _back(unit.id)
        status = done.error.status if done.error else form_status(form)
    return render_template("units/join.html", unit=unit, member=member, form=form,
                           valid=roster.invite_valid(unit, code)), status


# ---- the leaderboards -------------------------------------------------------------------------

def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get("/units/board")
def board():
    """爱心单位榜 (units by counted amount or households reached) and the buyers' board."""
    tab = "buyers" if request.args.get("tab") == "buyers" else "units"
    period = request.args.get("period") if request.args.get("period") in PERIODS else "month"
    by = "households" if request.args.get("by") == "households" else "amount"
    start_day, end_day = _date("from"), _date("to")
    start, end = counting.period_bounds(period, today_china(), start_day, end_day)
    region = regions.find_by_code(db.session, request.args.get("region"))
    rows = (counting.buyer_board(db.session, start, end) if tab == "buyers"
            else counting.unit_board(db.session, start, end, region=region, by=by))
    return render_template("units/board.html", tab=tab, period=period, by=by, rows=rows,
                           region=region, periods=PERIODS, period_labels=PERIOD_LABELS,
                           start_day=start_day, end_day=end_day)


# ---- the platform admins' queue ---------------------------------------------------------------

def _status() -> UnitStatus:
    try:
        return UnitStatus(request.args.get("status") or UnitStatus.pending)
    except ValueError:
        return UnitStatus.pending


def _render_queue(row_errors: dict | None = None, code: int = 200):
    status = _status()
    page = units.queue(db.session, status, requested_page(request.args))
    ids = {u.applied_by for u in page.items if u.applied_by}
    applicants = ({u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
                  if ids else {})
    return render_template("units/review.html", page=page, status=status,
                           statuses=list(UnitStatus), labels=UNIT_STATUS_LABELS,
                           counts=units.count_by_status(db.session), applicants=applicants,
                           row_errors=row_errors or {}), code


@bp.get("/units/review")
@roles_required(Role.platform_admin)
def review():
    return _render_queue()


def _queue_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(units.NOT_FOUND)
    return unit


@bp.post("/units/review/<int:unit_id>/verify")
@roles_required(Role.platform_admin)
def verify(unit_id: int):
    unit = _queue_unit(unit_id)
    commit_or_flash(lambda: units.verify(db.session, current_user, unit),
                    _("已认证：%(name)s", name=unit.name))
    return redirect(url_for("units.review", status=request.args.get("status")))


@bp.post("/units/review/<int:unit_id>/reject")
@roles_required(Role.platform_admin)
def reject(unit_id: int):
    unit = _queue_unit(unit_id)
    form = RejectForm()
    done = submit(form, lambda: units.reject(db.session, current_user, unit,
                                             form.reason.data or ""),
                  success=_("已驳回单位申请：%(name)s", name=unit.name))
    if done.ok:
        return redirect(url_for("units.review", status=request.args.get("status")))
    return _render_queue({unit_id: form_messages(form)},
                         done.error.status if done.error else 400)


