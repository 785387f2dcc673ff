"""GET /api/v1/reports/summary, /regions, /ranking, /targeting, /needs: an office's reports for a
region and a period, as JSON, or as xlsx (`format=xlsx`) or CSV (`format=csv`) through
reports.exports. Offices read the regions of their subtree (another region answers 404, as an
unknown one does; no `region` is their own region), platform admins any region (no `region` is
everywhere); anyone else 403. The period is `period` (2026-11, 2026-Q3, 2026) or `from`/`to`
(dates; this month when none is given). Figures come from reports.figures, read from the
replica when one is configured (core.db.reports_session); the match rate of needs (/needs)
from help.needs.matching. Its part of the OpenAPI document is
api.report_docs."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict

from flask import Response, jsonify, request
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.api import bp
from marketplace.api.common import api_user, token_required
from marketplace.catalog.models import Category
from marketplace.core import policy
from marketplace.core.db import data_as_of, reports_session
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.money import money_json
from marketplace.core.pager import page_number
from marketplace.core.time import today_china
from marketplace.help.needs import matching
from marketplace.help.needs.models import NeedCategory, NeedKind
from marketplace.regions.models import Region
from marketplace.reports import assessment, exports, figures, periods, targeting
from marketplace.reports.periods import Period
from marketplace.reports.shapes import Figures, Report

FORMATS = ("json", "xlsx", "csv")
PER_PAGE = 50
_CODE = re.compile(r"^[0-9]{2,12}$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


# ---- arguments --------------------------------------------------------------------------------

def requested_format() -> str:
    value = (request.args.get("format") or "json").strip().lower()
    if value not in FORMATS:
        raise ValidationFailed("format 应为 json、xlsx 或 csv", field="format")
    return value


def requested_period() -> Period:
    """`period`, or `from`/`to`; 400 naming the argument for anything else."""
    out_of_range = ValidationFailed("统计期应在 2000 年到 2100 年之间", field="from")
    try:
        period = periods.from_args(request.args, today_china())
    except (ValueError, OverflowError):  # the year 9999's month ends past date.max
        raise out_of_range from None
    if period.start.year < FIRST_YEAR or period.end.year > LAST_YEAR:
        raise out_of_range
    return period


def requested_region(session, user) -> Region | None:
    """The region asked for (`region`, a code), one the user may report on; without it, an
    office's own region (the first by code when it has several), everywhere for admins."""
    roots = policy.report_roots(user)
    code = (request.args.get("region") or "").strip()
    if not code:
        if roots is None:
            return None
        region = min(roots, key=lambda r: r.code) if roots else None
    else:
        region = (session.scalar(select(Region).where(Region.code == code))
                  if _CODE.match(code) else None)
        if region is None:
            raise NotFound("该地区不存在，或不在您的管辖范围内")
    policy.check_report_region(user, region)
    return region


def requested_page() -> int:
    raw = request.args.get("page")
    if raw in (None, ""):
        return 1
    page = page_number(raw)
    if page is None:
        raise ValidationFailed("页码应为 1 到 10000 的整数", field="page")
    return page


# ---- shapes -----------------------------------------------------------------------------------

def region_ref(region: Region | None) -> dict | None:
    if region is None:
        return None
    return {"code": region.code, "name": region.name, "level": str(region.level),
            "path_names": region.path_names}


def _head(region: Region | None, period: Period, as_of) -> dict:
    return {"region": region_ref(region), "period": period.name,
            "period_label": str(period.label), "from": period.start.isoformat(),
            "to": period.end.isoformat(), "as_of": as_of.isoformat()}


def figures_json(f: Figures) -> dict:
    return {"sales": {"total": money_json(f.sales_fen), "online": money_json(f.online_fen),
                      "offline": money_json(f.offline_fen)},
            "attributed": money_json(f.attributed_fen),
            "households_reached": f.reached, "households_registered": f.registered,
            "coverage_bp": f.coverage_bp,
            "monitored": {"registered": f.monitored, "reached": f.monitored_reached,
                          "coverage_bp": f.monitored_coverage_bp},
            "average": money_json(f.average_fen)}


def _compared(now: Figures, then: Figures, period: Period) -> dict:
    return {"from": period.start.isoformat(), "to": period.end.isoformat(),
            "period": period.name, **figures_json(then),
            "change_bp": {"sales": periods.change_bp(now.sales_fen, then.sales_fen),
                          "attributed": periods.change_bp(now.attributed_fen, then.attributed_fen),
                          "households_reached": periods.change_bp(now.reached, then.reached)}}


def _splits(items, key: str, keys: Callable[[str], str | None] = str) -> list[dict]:
    return [{key: keys(s.key), "label": s.label, "sales": money_json(s.sales_fen),
             "attributed": money_json(s.attributed_fen)} for s in items]


def summary_json(session, report: Report, as_of) -> dict:
    slugs = {str(cid): slug for cid, slug in session.execute(select(Category.id, Category.slug))}
    return {**_head(report.region, report.period, as_of), **figures_json(report.now),
            "by_channel": _splits(report.by_channel, "channel"),
            "by_seller_kind": _splits(report.by_seller_kind, "seller_kind"),
            "by_category": _splits(report.by_category, "category", slugs.get),
            "trend": [{"month": p.label, "sales": money_json(p.sales_fen),
                       "attributed": money_json(p.attributed_fen)} for p in report.trend],
            "previous": _compared(report.now, report.before, report.previous),
            "year_before": _compared(report.now, report.year_ago, report.year_before)}


def regions_json(report: Report, as_of) -> dict:
    kind = "household" if report.households_level else "region"
    items = []
    for child in report.children:
        item = {"code": None if child.own else child.key, "name": child.name,
                "kind": "own_sellers" if child.own else kind, **figures_json(child.figures)}
        if report.households_level:
            item["status"] = child.household_status
        items.append(item)
    return {**_head(report.region, report.period, as_of), "items": items,
            "total": figures_json(report.now)}


# ---- answers ----------------------------------------------------------------------------------

def _file(name: str, region: Region | None, period: Period, fmt: str, build) -> Response:
    """The table(s) as a download: `build()` answers the xlsx bytes, or (headers, rows)."""
    if fmt == "csv":
        headers, rows = build("csv")
        body, mimetype = exports.csv_text(headers, rows).encode("utf-8"), exports.CSV_MIMETYPE
    else:
        body, mimetype = build("xlsx"), exports.XLSX_MIMETYPE
    disposition = exports.content_disposition(exports.filename(name, region, period, fmt),
                                              exports.ascii_filename(name, region, period, fmt))
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})


@contextmanager
def _reading():
    """The arguments checked, then (session, as_of, region, period, format): the session
    reads the replica when one is configured (closed when the answer is made), `as_of` is
    how fresh its data is."""
    user = api_user()
    fmt = requested_format()
    period = requested_period()
    with reports_session() as session:
        region = requested_region(session, user)
        yield session, data_as_of(session), region, period, fmt


@bp.get("/reports/summary")
@token_required(Role.office)
def report_summary():
    with _reading() as (session, as_of, region, period, fmt):
        report = figures.report(session, region, period, children=False)
        if fmt == "json":
            return jsonify(summary_json(session, report, as_of))

        def build(kind: str):
            if kind == "csv":
                return exports.table("summary", report)
            return exports.workbook_of(
                exports.sheet(name, region, period, report=report)
                for name in ("summary", "channels", "categories", "seller_kinds", "trend"))
        return _file("summary", region, period, fmt, build)


@bp.get("/reports/regions")
@token_required(Role.office)
def report_regions():
    with _reading() as (session, as_of, region, period, fmt):
        report = figures.report(session, region, period, trend_months=0)
        if fmt == "json":
            return jsonify(regions_json(report, as_of))
        return _file("regions", region, period, fmt, lambda kind: (
            exports.table("regions", report) if kind == "csv"
            else exports.workbook_of([exports.sheet("regions", region, period, report=report)])))


def requested_version() -> int | None:
    raw = request.args.get("version")
    if raw in (None, ""):
        return None
    version = page_number(raw)
    if version is None:
        raise ValidationFailed("version 应为正整数", field="version")
    return version


@bp.get("/reports/ranking")
@token_required(Role.office)
def report_ranking():
    version = requested_version()
    with _reading() as (session, as_of, region, period, fmt):
        versions = assessment.published(session, region, period.name)
        if version is None:
            found = assessment.ranking(session, region, period)
            rows, weights = found.rows, asdict(found.weights)
        else:
            shown = next((a for a in versions if a.version == version), None)
            if shown is None:
                raise NotFound("该统计期没有这一版考核通报")
            rows, weights = assessment.rows_of(shown), json.loads(shown.weights)
        if fmt == "json":
            return jsonify({**_head(region, period, as_of), "weights": weights,
                            "version": version,
                            "published": [{"version": a.version,
                                           "published_at": a.published_at.isoformat(),
                                           "note": a.note} for a in versions],
                            "items": [rank_item(r) for r in rows]})
        return _file("ranking", region, period, fmt, lambda kind: (
            exports.table("ranking", ranking=rows) if kind == "csv"
            else exports.workbook_of([exports.sheet("ranking", region, period, ranking=rows)])))

def rank_item(r) -> dict:
    return {"code": r.code, "name": r.name, "rank": r.rank, "previous_rank": r.previous_rank,
            "rank_change": r.rank_change, "score": r.score / 100,
            "indicators": {"income_per_household": money_json(r.indicators.get("income") or 0),
                           "coverage_bp": r.indicators.get("coverage"),
                           "growth_bp": r.indicators.get("growth"),
                           "units_progress_bp": r.indicators.get("units"),
                           "match_rate_bp": r.indicators.get("match")},
            "attributed": money_json(r.attributed_fen), "households_reached": r.reached,
            "households_registered": r.registered}


@bp.get("/reports/targeting")
@token_required(Role.office)
def report_targeting():
    page = requested_page()
    with _reading() as (session, as_of, region, period, fmt):
        if fmt != "json":
            found = targeting.without_income(session, region, period)
            return _file("targeting", region, period, fmt, lambda kind: (
                exports.table("targeting", targeting=found) if kind == "csv"
                else exports.workbook_of([exports.sheet("targeting", region, period,
                                                        targeting=found)])))
        found = targeting.without_income(session, region, period, page=page, per_page=PER_PAGE)
        return jsonify({**_head(region, period, as_of),
                        "items": [{"code": r.code, "display_name": r.display_name,
                                   "village": r.village, "village_code": r.village_code,
                                   "township": r.township, "status": r.status,
                                   "liaison": r.liaison or None} for r in found.items],
                        "total": found.total, "monitored": found.monitored, "page": page,
                        "per_page": PER_PAGE})


# ---- the match rate of needs (对接率) ------------------------------------------------------

CATEGORY_MESSAGE = ("需求类别应为 education、medical、housing、production、employment、training "
                    "或 daily")

def requested_choice(name: str, choices: type, message: str) -> str | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if raw not in {c.value for c in choices}:
        raise ValidationFailed(message, field=name)
    return raw


def match_figures_json(f: matching.MatchFigures) -> dict:
    return {"approved": f.approved, "matched": f.matched, "match_rate_bp": f.match_rate_bp,
            "median_hours_to_review": f.median_hours_to_review,
            "median_hours_to_match": f.median_hours_to_match,
            "reviewed": f.reviewed, "matched_in_period": f.matched_in_period}


def needs_json(found: matching.MatchReport, period: Period, as_of, kind: str | None,
               category: str | None) -> dict:
    return {**_head(found.region, period, as_of), "kind": kind, "category": category,
            **match_figures_json(found.total),
            "by_region": [{"code": r.key, "name": r.name, **match_figures_json(r.figures)}
                          for r in found.by_region],
            "by_category": [{"category": r.key, "label": r.name,
                             **match_figures_json(r.figures)} for r in found.by_category]}


@bp.get("/reports/needs")
@token_required(Role.office)
def report_needs():
    with _reading() as (session, as_of, region, period, fmt):
        kind = requested_choice("kind", NeedKind, "kind 应为 need（帮扶需求）或 wish（微心愿）")
        category = requested_choice("category", NeedCategory, CATEGORY_MESSAGE)
        found = matching.match_report(session, region, period.start, period.end, kind=kind,
                                      category=category)
        if fmt == "json":
            return jsonify(needs_json(found, period, as_of, kind, category))
        return _file("needs", region, period, fmt, lambda form: (
            exports.table("needs", match=found) if form == "csv"
            else exports.workbook_of([exports.sheet("needs", region, period, match=found)])))
