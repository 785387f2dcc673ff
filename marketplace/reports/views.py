"""Office report pages (帮扶成效统计): the dashboard of a region and a period, its tables as xlsx
and CSV, the households without income, the ranking of sub-regions.

Who sees what (core.policy.report_roots): an office its subtrees (one region root per office
grant; with several, the page first asks which), a platform admin everywhere (region None at
the top, the provinces below). A region outside them answers 404. The period is a preset link
(`period=2026-11`, `2026-Q4`, `2026`) or dates (`from`, `to`); a bad one is a Chinese message on
the page (400), never a 500. Figures are read through `reports_session` (the replica when
MARKETPLACE_REPORTS_DATABASE_URL is set), and the page says how fresh they are (数据截至).
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length

from marketplace.accounts.models import Role
from marketplace.catalog.models import Category
from marketplace.core import db as dbsetup
from marketplace.core import policy
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.forms import Form, commit_or_flash, submit
from marketplace.core.i18n import Msg, translate_message
from marketplace.core.inputs import bounded_int
from marketplace.core.pager import Page, page_number, requested_page
from marketplace.core.policy import roles_required
from marketplace.core.time import CHINA, as_aware, now_utc, today_china
from marketplace.extensions import db
from marketplace.help.needs import matching
from marketplace.households.models import HOUSEHOLD_STATUS_LABELS, Household
from marketplace.regions.models import Region, RegionLevel
from marketplace.reports import assessment, exports, figures, periods, targeting
from marketplace.reports.periods import Period

bp = Blueprint("reports", __name__)

PRESET_LABELS = {"this_month": "本月", "last_month": "上月", "this_quarter": "本季度",
                 "last_quarter": "上季度", "this_year": "本年", "last_year": "上年"}
CHOOSE = object()  # an office with several regions that has not said which
TREND_MONTHS = 12
CHART_BARS = 30  # sub-regions drawn side by side at most (the table has them all)
PER_PAGE = 50  # households without income on a page
PUBLISHED_SHOWN = 24  # published assessments listed (newest first)


# ---- scope and period -------------------------------------------------------------------------

def _region(session, roots: list[Region] | None, code: str | None):
    """The region asked for (`region` code), checked against the user's roots; without one:
    the office's only root, CHOOSE when it has several, None (everywhere) for admins."""
    code = (code or "").strip()
    if not code:
        if roots is None:
            return None
        if len(roots) != 1:
            return CHOOSE
        code = roots[0].code
    region = session.scalar(select(Region).where(Region.code == code)) if len(code) <= 12 else None
    if region is None:
        raise NotFound(_("该地区不存在，或不在您的管辖范围内"))
    policy.check_report_region(current_user, region)
    return region


def period_args(period: Period) -> dict:
    """The query arguments that name `period` again (links, downloads)."""
    if period.kind in (periods.MONTH, periods.QUARTER, periods.YEAR):
        return {"period": period.name}
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def _scope_args(region: Region | None, period: Period) -> dict:
    return {"region": region.code if region is not None else None, **period_args(period)}


def _breadcrumb(region: Region | None, roots: list[Region] | None) -> list[tuple[str, str]]:
    """(code, name) of the region's ancestors the user may open, from the top ('' for
    everywhere), ending with the region itself."""
    crumbs = [("", _("全国"))] if roots is None else []
    if region is None:
        return crumbs
    codes = region.path_codes
    for i, (code, name) in enumerate(zip(codes, region.path_names, strict=False)):
        path = "/" + "/".join(codes[:i + 1]) + "/"
        if roots is None or any(path.startswith(r.path) for r in roots):
            crumbs.append((code, name))
    return crumbs


def _chooser(roots: list[Region], period: Period | None):
    return render_template("reports/choose.html", roots=roots,
                           args=period_args(period) if period else {})


# ---- the dashboard ----------------------------------------------------------------------------

def _charts(report: figures.Report, names: dict[str, str]) -> dict:
    """What report-charts.js draws (amounts in fen; names in the page's language)."""
    sales, income = _("销售额"), _("归属收入")
    trend = {"kind": "trend", "labels": [p.label for p in report.trend],
             "series": [{"name": sales, "values": [p.sales_fen for p in report.trend]},
                        {"name": income, "values": [p.attributed_fen for p in report.trend]}]}
    channels = {"kind": "pie", "name": income,
                "items": [{"name": _(s.label or s.key), "value": s.attributed_fen}
                          for s in report.by_channel if s.attributed_fen > 0]}
    shown = report.children[:CHART_BARS]
    subregions = {"kind": "bars",
                  "labels": [names.get(c.key, c.name) for c in shown],
                  "series": [{"name": sales, "values": [c.figures.sales_fen for c in shown]},
                             {"name": income, "values": [c.figures.attributed_fen for c in shown]}]}
    if report.households_level:  # a village's households sell nothing of their own here
        subregions["series"] = subregions["series"][1:]
    return {"trend": trend, "channels": channels, "subregions": subregions}


def _category_names(session, report: figures.Report) -> dict[str, str]:
    locale = str(get_locale() or "zh")
    ids = [int(s.key) for s in report.by_category if s.key.isdigit()]
    if not ids:
        return {}
    return {str(c.id): c.name_for(locale)
            for c in session.scalars(select(Category).where(Category.id.in_(ids)))}


def _household_ids(session, report: figures.Report) -> dict[str, int]:
    if not report.households_level:
        return {}
    return dict(session.execute(select(Household.code, Household.id).where(
        Household.village_id == report.region.id)).all())


def _page_context(roots, region, period: Period | None) -> dict:
    today = today_china()
    return {"roots": roots, "region": region, "period": period,
            "presets": [(key, PRESET_LABELS[key], p) for key, p in periods.presets(today)],
            "crumbs": _breadcrumb(region, roots), "period_args": period_args,
            "change_bp": periods.change_bp, "share_bp": periods.share_bp,
            "status_labels": HOUSEHOLD_STATUS_LABELS,
            "export_url": (lambda table, fmt, **more: export_url(table, fmt, region, period,
                                                                 **more)),
            "tab_url": (lambda endpoint: url_for(endpoint, **(
                _scope_args(region, period) if period else {"region": region.code if region
                                                            else None})))}


@bp.get("/office/reports")
@roles_required(Role.office)
def dashboard():
    roots = policy.report_roots(current_user)
    with dbsetup.reports_session() as session:
        region, period, error = _scope(session, roots)
        if region is CHOOSE:
            return _chooser(roots, period)
        if error is not None:
            return render_template("reports/dashboard.html", report=None, error=error,
                                   **_page_context(roots, region, None)), 400
        report = figures.report(session, region, period, trend_months=TREND_MONTHS)
        names = {c.key: (_("本级经营主体") if c.own else c.name) for c in report.children}
        return render_template(
            "reports/dashboard.html", report=report, error=None, names=names,
            charts=_charts(report, names), categories=_category_names(session, report),
            household_ids=_household_ids(session, report),
            match=matching.match_report(session, region, period.start, period.end),
            as_of=dbsetup.data_as_of(session), **_page_context(roots, region, period))


# ---- downloads --------------------------------------------------------------------------------

EXPORT_TABLES = "summary,regions,channels,categories,seller_kinds,trend,ranking,targeting,needs"


@bp.get(f"/office/reports/<any({EXPORT_TABLES}):table>.<any(xlsx,csv):fmt>")
@roles_required(Role.office)
def export(table: str, fmt: str):
    """One table of the report as xlsx (title row, Chinese headers, yuan as numbers) or CSV
    (UTF-8 with a BOM), for the same region and period as the page it was linked from; the
    ranking with `version`: that published notice (通报)."""
    roots = policy.report_roots(current_user)
    with dbsetup.reports_session() as session:
        region = _region(session, roots, request.args.get("region"))
        if region is CHOOSE:
            raise NotFound(_("请先选择地区"))
        period = periods.from_args(request.args, today_china())
        sources, heading = _sources(session, table, region, period)
        if fmt == "xlsx":
            body = exports.workbook_of([exports.sheet(table, region, period, heading=heading,
                                                      **sources)])
            mimetype = exports.XLSX_MIMETYPE
        else:
            headers, rows = exports.table(table, **sources)
            body, mimetype = exports.csv_text(headers, rows).encode("utf-8"), exports.CSV_MIMETYPE
    name = exports.filename(table, region, period, fmt)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": exports.content_disposition(name)})


def _sources(session, table: str, region: Region | None, period: Period) -> tuple[dict, str | None]:
    """What exports.table reads for `table`, and the heading of a published notice."""
    if table == "ranking":
        version = page_number(request.args.get("version")) if request.args.get("version") else None
        if request.args.get("version") and version is None:
            raise NotFound(_("未找到该考核通报"))
        if version is None:
            return {"ranking": assessment.ranking(session, region, period)}, None
        shown = next((a for a in assessment.published(session, region, period.name)
                      if a.version == version), None)
        if shown is None:
            raise NotFound(_("未找到该考核通报"))
        return {"ranking": assessment.rows_of(shown)}, translate_message(Msg(
            "%(title)s（第 %(version)s 版，%(time)s 发布）",
            title=exports.title(table, region, period), version=version,
            time=as_aware(shown.published_at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")))
    if table == "targeting":
        return {"targeting": targeting.without_income(session, region, period)}, None
    if table == "needs":
        return {"match": matching.match_report(session, region, period.start, period.end)}, None
    return {"report": figures.report(session, region, period, children=table == "regions",
                                     trend_months=TREND_MONTHS if table == "trend" else 0)}, None


def export_url(table: str, fmt: str, region: Region | None, period: Period, **more) -> str:
    return url_for("reports.export", table=table, fmt=fmt, **_scope_args(region, period), **more)


# ---- households without income (精准帮扶) ------------------------------------------------

@bp.get("/office/reports/targeting")
@roles_required(Role.office)
def targeting_page():
    """The households under the region with no attributed income in the period, monitored ones
    first, with their village and liaison; a notice to each liaison of theirs."""
    roots = policy.report_roots(current_user)
    page = requested_page(request.args)
    with dbsetup.reports_session() as session:
        region, period, error = _scope(session, roots)
        if region is CHOOSE:
            return _chooser(roots, period)
        found = (targeting.without_income(session, region, period, page=page, per_page=PER_PAGE)
                 if error is None else None)
        ids = [r.household_id for r in found.items] if found else []
        return render_template(
            "reports/targeting.html", found=found, error=error,
            pager=Page(ids, found.total if found else 0, page, PER_PAGE),
            as_of=dbsetup.data_as_of(session), **_page_context(roots, region, period)
        ), 400 if error else 200


def _posted_scope():
    """The region and period a POST (notify, publish) acts on: from its URL, checked like the
    pages' (404 outside the office's subtree, or before a region is chosen)."""
    region = _region(db.session, policy.report_roots(current_user), request.args.get("region"))
    if region is CHOOSE:
        raise NotFound(_("请先选择地区"))
    return region, periods.from_args(request.args, today_china())


@bp.post("/office/reports/targeting/notify")
@roles_required(Role.office)
def notify_liaisons():
    region, period = _posted_scope()
    done, told = commit_or_flash(lambda: targeting.notify_liaisons(
        db.session, current_user, region, period))
    if done:
        liaisons, orphans = told
        flash(_("已通知 %(n)s 位帮扶联络人。", n=liaisons), "success")
        if orphans:
            flash(_("有 %(n)s 户没有帮扶联络人，请先为他们指定。", n=orphans), "warning")
    return redirect(url_for("reports.targeting_page", **_scope_args(region, period)))


def _scope(session, roots):
    """(region, period, error) of a report page: a bad period is a message, not an error page."""
    region = _region(session, roots, request.args.get("region"))
    try:
        return region, periods.from_args(request.args, today_china()), None
    except ValidationFailed as err:
        if region is CHOOSE:
            raise
        return region, None, translate_message(err.message)


# ---- the assessment: ranking, weights, publishing (一月一考核、一季度一排名) ----------------

class WeightsForm(Form):
    income = StringField(_l("户均归属收入"), validators=[Length(max=4)])
    coverage = StringField(_l("覆盖率"), validators=[Length(max=4)])
    growth = StringField(_l("环比增长"), validators=[Length(max=4)])
    units = StringField(_l("单位预留份额完成率"), validators=[Length(max=4)])
    match = StringField(_l("需求对接率"), validators=[Length(max=4)])


class PublishForm(Form):
    note = StringField(_l("说明（可不填）"), validators=[Length(max=200)])


def _weights(form: WeightsForm) -> assessment.Weights:
    values = {}
    for name in assessment.INDICATORS:
        raw = getattr(form, name).data
        if name == "match" and not (raw or "").strip():
            raw = "0"  # the fifth weight left blank (as forms of before the match rate): 0
        value = bounded_int(raw, 0, 100)
        if value is None:
            raise ValidationFailed("每项权重应为 0 到 100 的整数", field=name)
        values[name] = value
    return assessment.Weights(**values).check()


@bp.route("/office/reports/ranking", methods=["GET", "POST"])
@roles_required(Role.office)
def ranking_page():
    """The sub-regions ranked for the period with the change of rank; the office's weights (a
    POST here sets them); publishing; the published versions, each as the notice in xlsx."""
    roots = policy.report_roots(current_user)
    form = WeightsForm()
    if request.method == "POST":
        region = _region(db.session, roots, request.args.get("region"))
        if region is CHOOSE or region is None:
            raise NotFound(_("请先选择地区"))
        done = submit(form, lambda: assessment.set_weights(
            db.session, current_user, region, _weights(form), now=now_utc()),
            success=_("已保存考核指标权重"))
        if done.ok:
            return redirect(url_for("reports.ranking_page", **request.args.to_dict()))
    with dbsetup.reports_session() as session:
        region, period, error = _scope(session, roots)
        if region is CHOOSE:
            return _chooser(roots, period)
        weights = assessment.weights_for(session, region)
        if request.method == "GET":
            for name in assessment.INDICATORS:
                getattr(form, name).data = str(getattr(weights, name))
        rankable = error is None and not (region is not None
                                          and region.level == RegionLevel.village)
        found = assessment.ranking(session, region, period, weights) if rankable else None
        published = [(a, _period_named(a.period)) for a in
                     assessment.published(session, region)[:PUBLISHED_SHOWN]]
        status = 400 if error or form.errors or form.form_errors else 200
        return render_template(
            "reports/ranking.html", found=found, error=error, form=form,
            publish_form=PublishForm(formdata=None), weights=weights, published=published,
            labels=assessment.INDICATOR_LABELS, as_of=dbsetup.data_as_of(session),
            **_page_context(roots, region, period)), status


@bp.post("/office/reports/ranking/publish")
@roles_required(Role.office)
def publish_ranking():
    region, period = _posted_scope()
    form = PublishForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
    else:
        done, made = commit_or_flash(lambda: assessment.publish(
            db.session, current_user, region, period, now=now_utc(), note=form.note.data or ""))
        if done:
            flash(_("已发布%(period)s考核通报第 %(v)s 版。", period=translate_message(
                period.label), v=made.version), "success")
    return redirect(url_for("reports.ranking_page", **_scope_args(region, period)))


def _period_named(name: str) -> Period | None:
    """The period a published assessment names (2026-11, 2026-Q3, 2026, or dates)."""
    try:
        if "~" in name:
            start, end = name.split("~", 1)
            return periods.between(periods.parse_date(start, "from"),
                                   periods.parse_date(end, "to"))
        return periods.parse(name)
    except ValidationFailed:
        return None
