"""The OpenAPI document's part for the offices' reports (api.reports) and the households list
(api.households): `paths` and `schemas`, taken in by api.openapi."""
from __future__ import annotations

from marketplace.api.reports import FORMATS, PER_PAGE
from marketplace.core.pager import MAX_PAGE
from marketplace.help.needs.models import NeedCategory, NeedKind
from marketplace.reports.exports import XLSX_MIMETYPE

WHO = ("Offices read the regions of their subtree (a region outside it answers 404, as an "
       "unknown code does; without region, the office's own region), platform admins any "
       "region (without region: everywhere); anyone else 403. ")
PERIOD = ("The period: period (2026-11 a month, 2026-Q3 a quarter, 2026 a year), or from and "
          "to (China dates, both included; either may be left out: the first of to's month, "
          "today); this month when none is given. A bad period or date answers 400 naming the "
          "argument. ")
FILES = ("format=xlsx answers the same table(s) as an xlsx workbook (a title row with region and "
         "period, Chinese headers, yuan as numbers with two decimals, frozen header); "
         "format=csv as UTF-8 CSV with a BOM (yuan as text with two decimals); both as an "
         "attachment whose UTF-8 file name is in Content-Disposition (filename*). ")


def _params(query, *extra) -> list[dict]:
    return [
        query("region", {"type": "string", "pattern": "^[0-9]{2,12}$"},
              "Region code (GB/T 2260); the report covers its subtree."),
        query("period", {"type": "string", "pattern": r"^[0-9]{4}(-([0-9]{1,2}|[Qq][1-4]))?$"},
              "2026-11, 2026-Q3 or 2026; takes precedence over from/to."),
        query("from", {"type": "string", "format": "date"}, "First day, YYYY-MM-DD."),
        query("to", {"type": "string", "format": "date"}, "Last day, YYYY-MM-DD."),
        query("format", {"type": "string", "enum": list(FORMATS), "default": "json"},
              "json, or a download: xlsx or csv."),
        *extra]


def _answer(ref, schema: str, description: str) -> dict:
    return {"description": description, "content": {
        "application/json": {"schema": ref(schema)},
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": {"type": "string"}}}}


MASKED = {"type": "string", "description": "The head's name, masked."}


def paths(json, errors, query, ref, secured) -> dict:
    def report(operation: str, summary: str, description: str, schema: str, *extra) -> dict:
        return {"get": {
            "tags": ["reports"], "operationId": operation, "security": secured,
            "summary": summary, "description": WHO + PERIOD + description + FILES,
            "parameters": _params(query, *extra),
            "responses": {"200": _answer(ref, schema, "The report."),
                          **errors(400, 401, 403, 404)}}}

    return {
        "/api/v1/reports/summary": report(
            "getReportSummary", "A region's figures for a period: sales online and offline, "
                                "attributed income, households reached, coverage, splits",
            "Sales are the goods paid minus the goods refunded of the sellers placed under the "
            "region; attributed income (net of reversals) that of its households, equal to "
            "the sum of their statements' entries of the period. With the period before and "
            "the same period a year before (change_bp: null when there was nothing before) "
            "and a monthly trend of the 12 months up to the period's end. as_of: the data "
            "include every change committed before it (a replica may lag). The xlsx has a "
            "sheet each for the summary, channels, categories, seller kinds and trend; the "
            "CSV is the summary table. ", "ReportSummary"),
        "/api/v1/reports/regions": report(
            "getReportRegions", "The sub-regions one level down side by side (under a "
                                "village: its households)",
            "Every sub-region, also those without figures, by code; sales of sellers placed "
            "at the region itself are one more item (kind own_sellers, code null). total is "
            "the region's figures. ", "ReportRegions"),
        "/api/v1/reports/ranking": report(
            "getReportRanking", "The assessment of the sub-regions: rank, rank in the period "
                                "before, score and indicators",
            "The ranking as it is now with the office's weights, or a published version "
            "(version: 404 when the period has no such version); published lists the versions "
            "published for the period. score is 0.00 to 100.00 points. ", "ReportRanking",
            query("version", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                  "A published version of the period's assessment.")),
        "/api/v1/reports/targeting": report(
            "getReportTargeting", "Registered households without attributed income in the "
                                  "period, monitored households first",
            f"Paged, {PER_PAGE} a page (page); the downloads hold them all. ",
            "ReportTargeting",
            query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                  "Page number.")),
        "/api/v1/reports/needs": report(
            "getReportNeeds", "The match rate of needs and micro-wishes: matched / approved, "
                              "with the median hours to review and to a match",
            "approved: the needs approved in the period (China dates), but those withdrawn or "
            "removed on a flag; matched: of those, the ones claims or the donation pool cover "
            "whole (whenever that happened); match_rate_bp: matched / approved in basis points "
            "rounded half up (null with nothing approved). median_hours_to_review: the median "
            "hours from posting to review of the needs reviewed (approved or sent back) in the "
            "period; median_hours_to_match: from posting to a match of the needs matched in "
            "the period (one decimal, rounded half up; the mean of the two middle ones for an "
            "even count; null without any). reviewed and matched_in_period count those. "
            "by_region: the sub-regions one level down with any figure; by_category: every "
            "category (or the one asked for). Both kinds unless kind is given. ",
            "ReportNeeds",
            query("kind", {"type": "string", "enum": [k.value for k in NeedKind]},
                  "need, or wish (a micro-wish); both when left out."),
            query("category", {"type": "string", "enum": [c.value for c in NeedCategory]},
                  "One category of needs.")),
        "/api/v1/households": {"get": {
            "tags": ["households"], "operationId": "listHouseholds", "security": secured,
            "summary": "Households: a liaison's own, an office's subtree, all for platform admins",
            "description": f"By village and id, {PER_PAGE} a page. region narrows the list to a "
                           "subtree (an office: one of its subtree, else 404; unknown: 404). "
                           "Names are masked. Others than liaisons, offices and admins: 403.",
            "parameters": [
                query("region", {"type": "string", "pattern": "^[0-9]{2,12}$"},
                      "Region code; the households of its subtree."),
                query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                               "default": 1}, "Page number.")],
            "responses": {"200": json(ref("HouseholdList"), "One page of households."),
                          **errors(400, 401, 403, 404)}}},
    }


def schemas(ref) -> dict:
    money, bp, count = ref("Money"), {"type": "integer"}, {"type": "integer", "minimum": 0}
    change = {"type": ["integer", "null"],
              "description": "Change in basis points (+1250 is +12.5%); null against nothing."}
    figures = {
        "type": "object",
        "required": ["sales", "attributed", "households_reached", "households_registered",
                     "coverage_bp", "monitored", "average"],
        "properties": {
            "sales": {"type": "object", "required": ["total", "online", "offline"],
                      "properties": {"total": money, "online": money, "offline": money}},
            "attributed": money, "households_reached": count, "households_registered": count,
            "coverage_bp": {**bp, "description": "Households reached / registered."},
            "monitored": {"type": "object", "properties": {
                "registered": count, "reached": count, "coverage_bp": bp},
                "description": "Monitored households (under monitoring against falling back)."},
            "average": {**money, "description": "Attributed income per household reached."}}}
    head = {
        "type": "object", "required": ["region", "period", "from", "to", "as_of"],
        "properties": {
            "region": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"},
                "level": {"type": "string"},
                "path_names": {"type": "array", "items": {"type": "string"}}}}],
                "description": "null: everywhere."},
            "period": {"type": "string", "description": "2026-11, 2026-Q3, 2026 or dates."},
            "period_label": {"type": "string"},
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "as_of": {"type": "string", "format": "date-time"}}}

    def split(key: str) -> dict:
        return {"type": "array", "items": {"type": "object", "properties": {
            key: {"type": ["string", "null"]}, "label": {"type": "string"},
            "sales": money, "attributed": money}}}

    compared = {"allOf": [ref("ReportFigures"), {"type": "object", "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "period": {"type": "string"},
        "change_bp": {"type": "object", "properties": {
            "sales": change, "attributed": change, "households_reached": change}}}}]}
    rank_item = {"type": "object", "required": ["code", "name", "rank", "previous_rank",
                                                "score", "indicators"],
                 "properties": {
                     "code": {"type": "string"}, "name": {"type": "string"},
                     "rank": {"type": "integer", "minimum": 1},
                     "previous_rank": {"type": ["integer", "null"]},
                     "rank_change": {"type": ["integer", "null"],
                                     "description": "Places gained (> 0) or lost."},
                     "score": {"type": "number", "minimum": 0, "maximum": 100},
                     "indicators": {"type": "object", "properties": {
                         "income_per_household": money,
                         "coverage_bp": {"type": ["integer", "null"]},
                         "growth_bp": change,
                         "units_progress_bp": {"type": ["integer", "null"]},
                         "match_rate_bp": {"type": ["integer", "null"],
                                           "description": "Needs matched / approved; null "
                                                          "without approved needs (and in "
                                                          "versions published before it)."}}},
                     "attributed": money, "households_reached": count,
                     "households_registered": count}}
    hours = {"type": ["number", "null"], "minimum": 0,
             "description": "Median hours, one decimal; null without any."}
    matched = {"type": "object", "required": [
        "approved", "matched", "match_rate_bp", "median_hours_to_review",
        "median_hours_to_match"], "properties": {
        "approved": count, "matched": count,
        "match_rate_bp": {"type": ["integer", "null"], "minimum": 0, "maximum": 10000},
        "median_hours_to_review": hours, "median_hours_to_match": hours,
        "reviewed": count, "matched_in_period": count}}
    return {
        "ReportNeedFigures": matched,
        "ReportNeeds": {"allOf": [ref("ReportHead"), ref("ReportNeedFigures"), {
            "type": "object", "required": ["by_region", "by_category"], "properties": {
                "kind": {"type": ["string", "null"]},
                "category": {"type": ["string", "null"]},
                "by_region": {"type": "array", "items": {"allOf": [
                    ref("ReportNeedFigures"), {"type": "object", "properties": {
                        "code": {"type": "string"}, "name": {"type": "string"}}}]}},
                "by_category": {"type": "array", "items": {"allOf": [
                    ref("ReportNeedFigures"), {"type": "object", "properties": {
                        "category": {"type": "string"}, "label": {"type": "string"}}}]}}}}]},
        "ReportFigures": figures,
        "ReportHead": head,
        "ReportSummary": {"allOf": [ref("ReportHead"), ref("ReportFigures"), {
            "type": "object",
            "required": ["by_channel", "by_seller_kind", "by_category", "previous",
                         "year_before"],
            "properties": {
                "by_channel": split("channel"), "by_seller_kind": split("seller_kind"),
                "by_category": split("category"),
                "trend": {"type": "array", "items": {"type": "object", "properties": {
                    "month": {"type": "string"}, "sales": money, "attributed": money}}},
                "previous": compared, "year_before": compared}}]},
        "ReportRegions": {"allOf": [ref("ReportHead"), {
            "type": "object", "required": ["items", "total"], "properties": {
                "items": {"type": "array", "items": {"allOf": [ref("ReportFigures"), {
                    "type": "object", "properties": {
                        "code": {"type": ["string", "null"]}, "name": {"type": "string"},
                        "kind": {"type": "string",
                                 "enum": ["region", "household", "own_sellers"]},
                        "status": {"type": "string"}}}]}},
                "total": ref("ReportFigures")}}]},
        "ReportRanking": {"allOf": [ref("ReportHead"), {
            "type": "object", "required": ["items", "published"], "properties": {
                "weights": {"type": "object", "additionalProperties": {"type": "integer"}},
                "version": {"type": ["integer", "null"]},
                "published": {"type": "array", "items": {"type": "object", "properties": {
                    "version": {"type": "integer"},
                    "published_at": {"type": "string", "format": "date-time"},
                    "note": {"type": "string"}}}},
                "items": {"type": "array", "items": rank_item}}}]},
        "ReportTargeting": {"allOf": [ref("ReportHead"), {
            "type": "object", "required": ["items", "total"], "properties": {
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string"},
                    "display_name": MASKED,
                    "village": {"type": "string"}, "village_code": {"type": "string"},
                    "township": {"type": "string"}, "status": {"type": "string"},
                    "liaison": {"type": ["string", "null"]}}}},
                "total": count, "monitored": count, "page": {"type": "integer"},
                "per_page": {"type": "integer"}}}]},
        "HouseholdList": {"type": "object", "required": ["items", "total"], "properties": {
            "items": {"type": "array", "items": {"type": "object",
                                                 "required": ["code", "display_name",
                                                              "village", "status"],
                                                 "properties": {
                "code": {"type": "string"},
                "display_name": MASKED,
                "village": {"type": "string"}, "village_code": {"type": "string"},
                "status": {"type": "string", "enum": ["poor", "lifted", "monitored"]}}}},
            "total": count, "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
    }
