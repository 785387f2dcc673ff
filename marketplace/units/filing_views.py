"""Filing pages: a budget unit's annual filings and progress (/units/<id>/filings), a filing's
history with the office's review (/filings/<id>), the office's units (/office/units and its xlsx
export) and the regional minimums a platform admin sets (/admin/reserve-minimums)."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import Length, Optional

from marketplace.accounts.models import Role, User
from marketplace.core import policy
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.forms import Form, commit_or_flash, form_messages, form_status, submit
from marketplace.core.inputs import bounded_int, id_value, safe_next
from marketplace.core.money import MoneyFormatError, fen_to_yuan_text, parse_yuan
from marketplace.core.policy import login_required, roles_required
from marketplace.core.templating import percent_text
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.units import exports, filings, rules
from marketplace.units.counting import counted_in_year
from marketplace.units.models import FilingStatus, Unit, UnitFiling, UnitKind, UnitStatus

bp = Blueprint("filings", __name__)

MODES = [("canteen", _l("有食堂：填报食材支出和预留比例")), ("no_canteen", _l("无食堂")),
         ("shared", _l("与其他单位共用食堂（由对方单位填报）"))]


class FilingForm(Form):
    mode = RadioField(_l("食堂情况"), choices=MODES, default="canteen")
    canteen_spend = StringField(_l("年度食堂食材支出（元）"), validators=[Optional(), Length(max=20)])
    reserved_share_bp = StringField(_l("预留比例（%）"), validators=[Optional(), Length(max=8)])
    shared_with_unit_id = SelectField(_l("共用食堂的单位"), choices=[], validate_choice=False)


class ReviewForm(Form):
    decision = HiddenField()
    reason = StringField(_l("退回原因"), validators=[Optional(), Length(max=200)])


class MinimumForm(Form):
    region_code = StringField(_l("行政区划代码"), validators=[Length(min=2, max=12)])
    share = StringField(_l("最低预留比例（%）"), validators=[Length(min=1, max=8)])


def _settings() -> tuple[int, str]:
    return current_app.config["UNIT_RESERVE_MIN_BP"], current_app.config["FILING_DEADLINE"]


def _year(now) -> int:
    """?year= (2021..the latest open year), else this year."""
    this = filings.china_day(now).year
    return bounded_int(request.args.get("year"), filings.FIRST_YEAR,
                       filings.latest_open_year(now)) or this


def _filing_input(form: FilingForm, year: int) -> filings.FilingInput:
    if form.mode.data == "no_canteen":
        return filings.FilingInput(year, no_canteen=True)
    if form.mode.data == "shared":
        other = id_value(form.shared_with_unit_id.data)
        if other is None:
            raise ValidationFailed("请选择共用食堂的单位", field="shared_with_unit_id")
        return filings.FilingInput(year, shared_with_unit_id=other)
    try:
        spend = parse_yuan(form.canteen_spend.data)
    except MoneyFormatError:
        raise ValidationFailed("请输入金额，如 120000 或 120000.50（元）",
                               field="canteen_spend") from None
    share = filings.parse_percent(form.reserved_share_bp.data, "reserved_share_bp")
    return filings.FilingInput(year, canteen_spend_fen=spend, reserved_share_bp=share)


def _prefill(form: FilingForm, filing: UnitFiling | None) -> None:
    if filing is None:
        return
    form.mode.data = ("no_canteen" if filing.no_canteen else
                      "shared" if filing.shared_with_unit_id else "canteen")
    if form.mode.data == "canteen":
        form.canteen_spend.data = fen_to_yuan_text(filing.canteen_spend_fen)
        form.reserved_share_bp.data = percent_text(filing.reserved_share_bp).removesuffix("%")
    form.shared_with_unit_id.data = str(filing.shared_with_unit_id or "")


def _unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    policy.check_view_unit_filings(current_user, unit)
    return unit


@bp.route("/units/<int:unit_id>/filings", methods=["GET", "POST"])
@login_required
def unit_filings(unit_id: int):
    unit = _unit(unit_id)
    now = now_utc()
    default_bp, month_day = _settings()
    year = _year(now)
    filing = filings.filing_for(db.session, unit.id, year)
    files = policy.files_for_unit(current_user, unit) and unit.kind == UnitKind.budget
    form = FilingForm()
    form.shared_with_unit_id.choices = [("", _("请选择"))] + [
        (str(u.id), u.name) for u in db.session.scalars(select(Unit).where(
            Unit.kind == UnitKind.budget, Unit.status == UnitStatus.verified,
            Unit.office_region_id == unit.office_region_id, Unit.id != unit.id)
            .order_by(Unit.name))]
    if request.method == "POST":
        if not files:
            raise NotFound("未找到该单位")
        done = submit(form, lambda: filings.submit(
            db.session, current_user, unit, _filing_input(form, year), now=now,
            default_bp=default_bp), success=_("已提交 %(year)s 年度填报，等待主管部门审核", year=year))
        if done.ok:
            return redirect(url_for("filings.unit_filings", unit_id=unit.id, year=year))
        status = done.error.status if done.error else form_status(form)
    else:
        status = 200
        _prefill(form, filings.prefill(db.session, unit.id, year))
    counted = counted_in_year(db.session, [unit.id], year)[unit.id]
    history = list(db.session.scalars(select(UnitFiling).where(UnitFiling.unit_id == unit.id)
                                      .order_by(UnitFiling.year.desc())))
    return render_template(
        "units/filings/unit.html", unit=unit, year=year, filing=filing, form=form,
        can_file=files and (filing is None or filing.status != FilingStatus.approved),
        minimum_bp=filings.minimum_for(db.session, unit, default_bp),
        deadline=filings.deadline(year, month_day), opens=filings.opens_on(year),
        years=range(filings.latest_open_year(now), filings.FIRST_YEAR - 1, -1),
        counted=counted, progress=rules.progress_bp(counted, filing.reserved_fen if filing else 0),
        history=history), status


def _event_text(event) -> str:
    if event.kind == "filed":
        parts = filings.event_parts(event.note)
        if parts["kind"] == "canteen":
            return _("提交：食材支出 %(spend)s，预留 %(share)s，预留金额 %(reserved)s",
                     spend=fen_to_yuan_text(parts["spend_fen"]) + _("元"),
                     share=percent_text(parts["share_bp"]),
                     reserved=fen_to_yuan_text(parts["reserved_fen"]) + _("元"))
        if parts["kind"] == "shared":
            other = db.session.get(Unit, parts["unit_id"])
            return _("提交：与“%(unit)s”共用食堂", unit=other.name if other else parts["unit_id"])
        return _("提交：无食堂")
    if event.kind == "approved":
        return _("审核通过") + (f"：{event.note}" if event.note else "")
    return _("退回：%(reason)s", reason=event.note)


@bp.get("/filings/<int:filing_id>")
@login_required
def filing_detail(filing_id: int):
    filing = filings.get_filing(db.session, filing_id)
    policy.check_view_unit_filings(current_user, filing.unit)
    actors = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([e.actor_id for e in filing.events if e.actor_id])))}
    counted = counted_in_year(db.session, [filing.unit_id], filing.year)[filing.unit_id]
    return render_template(
        "units/filings/detail.html", filing=filing, unit=filing.unit, actors=actors,
        events=[(e, _event_text(e)) for e in filing.events], counted=counted,
        progress=rules.progress_bp(counted, filing.reserved_fen),
        can_review=(policy.reviews_filings_of(current_user, filing.unit)
                    and filing.status == FilingStatus.pending),
        review_form=ReviewForm())


@bp.post("/filings/<int:filing_id>/review")
@login_required
def review(filing_id: int):
    filing = filings.get_filing(db.session, filing_id)
    policy.check_review_filing(current_user, filing)
    back = safe_next(request.form.get("next"),
                     url_for("filings.filing_detail", filing_id=filing.id))
    form = ReviewForm()
    if not form.validate_on_submit():
        flash("；".join(form_messages(form)) or _("表单已过期，请重试"), "error")
        return redirect(back)
    decision = form.decision.data
    commit_or_flash(lambda: filings.review(db.session, current_user, filing, decision,
                                           form.reason.data or "", now=now_utc()),
                    _("已审核通过") if decision == "approve" else _("已退回，单位会收到退回原因"),
                    reraise_access=True)
    return redirect(back)


# ---- the office's units -------------------------------------------------------------------------

def _office_rows():
    now = now_utc()
    year = _year(now)
    _default, month_day = _settings()
    rows = filings.office_units(db.session, current_user, year, now=now, month_day=month_day)
    return now, year, month_day, rows


def _area() -> str:
    roots = filings.office_roots(current_user)
    if roots is None:
        return _("全部地区")
    return "、".join("".join(r.path_names[2:]) or r.name for r in roots)


@bp.get("/office/units")
@roles_required(Role.office)
def office_units():
    now, year, month_day, rows = _office_rows()
    return render_template(
        "units/filings/office.html", rows=rows, year=year, area=_area(),
        deadline=filings.deadline(year, month_day),
        target_bp=filings.target_bp(year, filings.china_day(now)),
        overdue=[r for r in rows if r.overdue], under=[r for r in rows if r.under_target],
        queue=filings.review_queue(db.session, current_user), review_form=ReviewForm(),
        years=range(filings.latest_open_year(now), filings.FIRST_YEAR - 1, -1),
        is_admin=policy.is_admin(current_user))


@bp.get("/office/units.xlsx")
@roles_required(Role.office)
def office_units_xlsx():
    _now, year, _md, rows = _office_rows()
    headers = [_("单位名称"), _("统一社会信用代码"), _("所在地区"), _("填报状态"),
               _("食堂食材支出（元）"), _("预留比例"), _("预留金额（元）"), _("已计入金额（元）"),
               _("完成比例"), _("逾期未报"), _("低于进度")]
    body = [[r.unit.name, r.unit.credit_code, r.unit.region.short_place, _(r.status_label),
             exports.Money(r.filing.canteen_spend_fen if r.filing else 0),
             exports.Percent(r.filing.reserved_share_bp if r.filing else None),
             exports.Money(r.reserved_fen), exports.Money(r.counted_fen),
             exports.Percent(r.progress_bp), _("是") if r.overdue else "",
             _("是") if r.under_target else ""] for r in rows]
    data = exports.workbook_bytes(_("%(area)s %(year)s 年度预算单位预留份额", area=_area(),
                                    year=year), headers, body, sheet=str(year))
    return Response(data, mimetype=exports.XLSX_MIMETYPE, headers={
        "Content-Disposition": f"attachment; filename=units-{year}.xlsx"})


# ---- regional minimums (platform admins) ------------------------------------------------------

@bp.route("/admin/reserve-minimums", methods=["GET", "POST"])
@roles_required(Role.platform_admin)
def minimums():
    default_bp, _md = _settings()
    form = MinimumForm()
    done = submit(form, lambda: filings.set_minimum(
        db.session, current_user, form.region_code.data or "",
        filings.parse_percent(form.share.data, "share")), success=_("已保存最低预留比例"))
    if done.ok:
        return redirect(url_for("filings.minimums"))
    return render_template("units/filings/minimums.html", form=form, default_bp=default_bp,
                           rows=filings.minimum_rows(db.session)), form_status(form)


@bp.post("/admin/reserve-minimums/<int:minimum_id>/delete")
@roles_required(Role.platform_admin)
def minimum_delete(minimum_id: int):
    if Form().validate_on_submit():
        commit_or_flash(lambda: filings.remove_minimum(db.session, current_user, minimum_id),
                        _("已取消该地区的最低预留比例"), reraise_access=True)
    return redirect(url_for("filings.minimums"))
