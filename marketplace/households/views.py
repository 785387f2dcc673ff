"""Household pages: a liaison's own households, registration, and an office's region overview.

Names: only a household's own liaison sees the head's full name; everyone else (offices,
admins) sees it masked (张*明). The ID number is never shown after it was typed: pages show
"****" and the last four characters, and a form that comes back with errors is emptied of it.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload

from marketplace.accounts.models import Role
from marketplace.audit import services as audit
from marketplace.audit.models import AuditObject
from marketplace.core import policy
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.forms import commit_or_flash, form_status, submit
from marketplace.core.pager import Page, requested_page
from marketplace.core.policy import login_required, roles_required
from marketplace.extensions import db
from marketplace.households import services
from marketplace.households.forms import HouseholdForm, PublicPageForm
from marketplace.households.models import HOUSEHOLD_STATUS_LABELS, Household, HouseholdStatus
from marketplace.ledger import income, lots, statements
from marketplace.regions.models import Region, RegionLevel
from marketplace.regions.services import regions_at_level, villages_under, within

bp = Blueprint("households", __name__)

PER_PAGE = 50


def shown_name(household: Household) -> str:
    """The head's name as the signed-in user may see it."""
    if household.liaison_id is not None and household.liaison_id == current_user.id:
        return household.head_name
    return household.masked_name


@bp.app_context_processor
def _helpers():
    return {"household_name": shown_name}


# ---- statements -------------------------------------------------------------------------------

def _visible_household(household_id: int) -> Household:
    """A household its liaison, the offices over it and admins may see; 404 for anyone else."""
    household = db.session.get(Household, household_id)
    policy.check_view_household(current_user, household)
    return household


def _statement_period(args):
    """The period a statement link asks for (`period`, or `from`/`to`, as the office reports
    write them), or None for the whole statement; a bad one is a Chinese 400."""
    from marketplace.core.time import today_china
    from marketplace.reports import periods
    if not any(args.get(k) for k in ("period", "from", "to")):
        return None
    return periods.from_args(args, today_china())


@bp.get("/households/<int:household_id>/statement")
@login_required
def household_statement(household_id: int):
    household = _visible_household(household_id)
    period = _statement_period(request.args)
    in_period = (statements.period_statement(db.session, household.id, period.start, period.end)
                 if period is not None else None)
    return render_template("liaison/statement.html", household=household,
                           period=period, in_period=in_period,
                           statement=statements.household_statement(db.session, household.id),
                           channels=statements.CHANNEL_LABELS, public_form=PublicPageForm(),
                           consents=services.consents(db.session, household),
                           audit_entries=audit.object_entries(
                               db.session, current_user, AuditObject.household, household))


@bp.get("/households/<int:household_id>/statement.csv")
@login_required
def household_statement_csv(household_id: int):
    household = _visible_household(household_id)
    body = statements.statement_csv(statements.household_statement(db.session, household.id))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=statement-{household.code}.csv"})


# ---- the public page (opt-in, revocable) ------------------------------------------------------

@bp.post("/households/<int:household_id>/public")
@login_required
def household_public(household_id: int):
    """Give (action=open) or withdraw (action=close) consent to the public page."""
    household = _visible_household(household_id)
    form = PublicPageForm()
    opening = request.form.get("action") == "open"
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
    else:
        commit_or_flash(lambda: services.set_public(
            db.session, current_user, household, opening, form.method.data or ""),
            _("已开启公开页面") if opening else _("已关闭公开页面，原地址不再可用"))
    return redirect(url_for("households.household_statement", household_id=household_id))


@bp.get("/h/<token>")
def public_page(token: str):
    """A household's contributions for anyone to see, while it consents: its village, and for
    each purchase the date, product, seller, channel and amount. No name, code, order number or
    buyer."""
    household = services.public_household(db.session, token)
    rows = statements.statement_rows(db.session, household.id)
    return render_template("households/public.html", household=household,
                           rows=list(reversed(rows)), total=rows[-1].running_fen if rows else 0,
                           channels=statements.CHANNEL_LABELS)


# ---- liaison ----------------------------------------------------------------------------------

@bp.route("/liaison")
@roles_required(Role.liaison)
def liaison_index():
    page = requested_page(request.args)
    search = services.HouseholdSearch.from_args(request.args)
    rows, total = services.visible_households(
        db.session, current_user, search=search, own=not policy.is_admin(current_user),
        page=page, per_page=PER_PAGE)
    return render_template("liaison/index.html", households=rows,
                           income=income.by_household(db.session, [h.id for h in rows]),
                           pager=Page(rows, total, page, PER_PAGE), search=search,
                           status_labels=HOUSEHOLD_STATUS_LABELS, can_register=True)


# ---- registration -----------------------------------------------------------------------------

def _office_regions(user) -> list[Region]:
    return [g.region for g in user.grants if g.role == Role.office and g.region is not None]


def _allowed_villages(user) -> list[Region]:
    """Villages the user may register in: liaisons and admins any, offices their subtrees."""
    if policy.is_admin(user) or user.has_role(Role.liaison):
        return villages_under(db.session, None)
    seen: dict[str, Region] = {}
    for region in _office_regions(user):
        for village in villages_under(db.session, region):
            seen.setdefault(village.code, village)
    return sorted(seen.values(), key=lambda r: r.code)


def _chooses_liaison(user) -> bool:
    return policy.is_admin(user) or user.has_role(Role.office)


@bp.route("/households/new", methods=["GET", "POST"])
@roles_required(Role.liaison, Role.office)
def register():
    form = HouseholdForm()
    villages = _allowed_villages(current_user)
    form.village_code.choices = [("", _("请选择"))] + [(v.code, v.short_place) for v in villages]
    chooses_liaison = _chooses_liaison(current_user)
    liaisons = services.liaisons(db.session) if chooses_liaison else []
    form.liaison_id.choices = [("", _("请选择"))] + [
        (str(u.id), f"{u.display_name}（{u.login_name}）") for u in liaisons]

    def work():
        _check_choices(form, villages, liaisons if chooses_liaison else None)
        return services.register_household(db.session, current_user, services.HouseholdInput(
            village_code=form.village_code.data, head_name=form.head_name.data,
            id_number=form.id_number.data, size=form.size.data, status=form.status.data,
            liaison_id=int(form.liaison_id.data) if chooses_liaison else None))

    done = submit(form, work, success=lambda household: _(
        "已登记帮扶对象 %(code)s：户主 %(name)s，身份证号 ****%(last4)s",
        code=household.code, name=shown_name(household), last4=household.id_last4))
    if done.ok:
        return redirect(_after_register(done.value))
    form.id_number.data = ""  # never echo an ID number back into a page
    return render_template("liaison/register.html", form=form,
                           chooses_liaison=chooses_liaison), form_status(form)


def _check_choices(form: HouseholdForm, villages: list[Region], liaisons: list | None) -> None:
    """The chosen village and liaison are among those offered (liaisons None: not asked)."""
    errors = {}
    code = form.village_code.data
    if code and code not in {v.code for v in villages}:
        known = db.session.scalar(select(Region.level).where(Region.code == code))
        errors["village_code"] = [_("该村不在您所在帮扶办的管辖范围内")
                                  if known == RegionLevel.village
                                  else _("请选择帮扶对象所在的村")]
    if liaisons is not None and form.liaison_id.data not in {str(u.id) for u in liaisons}:
        errors["liaison_id"] = [_("请选择帮扶联络人")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)


def _after_register(household: Household) -> str:
    if household.liaison_id == current_user.id:
        return url_for("households.liaison_index")
    if current_user.has_role(Role.office):
        return url_for("households.office_index", village=household.village.code)
    return url_for("households.liaison_index")


# ---- office -----------------------------------------------------------------------------------

def _in_scope(roots: list[Region] | None, region: Region) -> bool:
    return roots is None or any(region.path.startswith(r.path) for r in roots)


def _filter_region(roots, code: str | None, level: RegionLevel) -> Region | None:
    code = (code or "").strip()
    if not code:
        return None
    region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None or region.level != level or not _in_scope(roots, region):
        raise NotFound(_("该地区不存在，或不在您的管辖范围内"))
    return region


def _summary(roots) -> dict:
    village = aliased(Region)
    township = aliased(Region)
    scope = within(village.path, roots)
    by_status = dict(db.session.execute(
        select(Household.status, func.count(Household.id))
        .join(village, Household.village_id == village.id)
        .where(scope).group_by(Household.status)).all())
    rows = db.session.execute(
        select(township.code, township.name, Household.status, func.count(Household.id))
        .select_from(Household)
        .join(village, Household.village_id == village.id)
        .join(township, village.parent_id == township.id)
        .where(scope)
        .group_by(township.code, township.name, Household.status)
        .order_by(township.code)).all()
    townships: dict[str, dict] = {}
    for code, name, status, count in rows:
        entry = townships.setdefault(code, {"code": code, "name": name, "total": 0,
                                            "by_status": {}})
        entry["by_status"][str(status)] = count
        entry["total"] += count
    return {"by_status": {str(s): by_status.get(s, 0) for s in HouseholdStatus},
            "total": sum(by_status.values()), "townships": list(townships.values())}


def _office_list(roots, region: Region | None, search: services.HouseholdSearch,
                 page: int) -> tuple[list[Household], int]:
    village = aliased(Region)
    stmt = (select(Household).join(village, Household.village_id == village.id)
            .where(within(village.path, roots), services.search_condition(search, village)))
    if region is not None:
        stmt = stmt.where(village.path.like(region.path + "%"))
    total = db.session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Household.id).subquery())) or 0
    rows = db.session.scalars(stmt.options(selectinload(Household.liaison))
                              .order_by(village.code, Household.id)
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE))
    return list(rows), total


@bp.route("/office")
@roles_required(Role.office)
def office_index():
    roots = _office_regions(current_user)
    if not roots and policy.is_admin(current_user):
        roots = None  # a platform admin without an office sees every region
    township = _filter_region(roots, request.args.get("township"), RegionLevel.township)
    village = _filter_region(roots, request.args.get("village"), RegionLevel.village)
    if township and village and not village.path.startswith(township.path):
        village = None  # the township was changed without clearing the village: follow it
    page = requested_page(request.args)
    search = services.HouseholdSearch.from_args(request.args)
    rows, total = _office_list(roots, village or township, search, page)

    township_options = []
    for root in (roots if roots is not None else [None]):
        township_options += regions_at_level(db.session, RegionLevel.township, under=root)
    village_options = []
    if township is not None:
        village_options = villages_under(db.session, township)

    return render_template(
        "office/index.html", roots=roots, summary=_summary(roots), households=rows,
        income=income.by_household(db.session, [h.id for h in rows]),
        area_income=income.in_regions(db.session, roots),
        flagged_lots=lots.flagged_lots(db.session, roots),
        pager=Page(rows, total, page, PER_PAGE), search=search, township=township,
        village=village,
        township_options=township_options, village_options=village_options,
        status_labels=HOUSEHOLD_STATUS_LABELS)
