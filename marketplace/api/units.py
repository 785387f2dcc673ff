"""GET/POST /api/v1/units, GET /api/v1/units/{id}, POST /api/v1/units/{id}/members (join with
the invite code). Their part of the OpenAPI document is `openapi_paths` and `openapi_schemas`
(api.openapi and api.schemas take them in)."""
from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from marketplace.api import bp
from marketplace.api.common import api_user, check_types, json_body, reject_unknown, token_required
from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.inputs import bounded_int
from marketplace.core.money import money_json
from marketplace.core.pager import MAX_PAGE
from marketplace.core.policy import is_admin
from marketplace.core.time import today_china
from marketplace.extensions import db
from marketplace.regions.services import find_by_code
from marketplace.units import counting, roster
from marketplace.units import services as units
from marketplace.units.models import Unit, UnitFiling, UnitKind

MAX_PER_PAGE = 100
APPLY_FIELDS = ("kind", "name", "credit_code", "region_code", "contact_name", "contact_mobile",
                "address_detail", "invoice_title")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def unit_item(unit: Unit, members: int) -> dict:
    return {"id": unit.id, "name": unit.name, "kind": str(unit.kind), "status": str(unit.status),
            "region": {"code": unit.region.code, "name": unit.region.name,
                       "path_names": unit.region.path_names},
            "members": members}


def filing_json(session, unit: Unit, year: int) -> dict | None:
    """This year's filing (written by units.filings), with what counted toward the unit."""
    filing = session.scalar(select(UnitFiling).where(UnitFiling.unit_id == unit.id,
                                                     UnitFiling.year == year))
    if filing is None:
        return None
    counted = counting.counted_in_year(session, [unit.id], year)[unit.id]
    return {"id": filing.id, "year": filing.year, "status": str(filing.status),
            "no_canteen": filing.no_canteen, "reserved": money_json(filing.reserved_fen),
            "counted": money_json(counted)}


def unit_detail(session, unit: Unit, member, admin: bool) -> dict:
    year = today_china().year
    out = unit_item(unit, units.member_counts(session, [unit.id])[unit.id])
    out.update({
        "office_region": {"code": unit.office_region.code, "name": unit.office_region.name},
        "is_member": member is not None, "is_admin": bool(member and member.is_admin),
        "on_leaderboard": unit.on_leaderboard,
        "year": year,
        "counted": money_json(counting.counted_in_year(session, [unit.id], year)[unit.id]),
        "filing": filing_json(session, unit, year),
        "rejection_reason": unit.rejection_reason or None,
    })
    if admin:
        out.update({"invite_code": unit.invite_code,
                    "invite_expires_at": _iso(unit.invite_expires_at),
                    "credit_code": unit.credit_code,
                    "invoice_title": unit.invoice_title or unit.name,
                    "contact": {"name": unit.contact_name, "mobile": unit.contact_mobile},
                    "address_detail": unit.address_detail})
    return out


def _arg_int(name: str, low: int, high: int, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = bounded_int(raw, low, high)
    if value is None:
        raise ValidationFailed(Msg("%(name)s 应为 %(low)s 到 %(high)s 之间的整数", name=name,
                                   low=low, high=high), field=name)
    return value


@bp.route("/units", methods=["GET", "POST"])
def units_collection():
    """One rule for both methods (tests/api/test_openapi.py reads one rule per path)."""
    return apply_unit() if request.method == "POST" else list_units()


def list_units():
    page = _arg_int("page", 1, MAX_PAGE, 1)
    per_page = _arg_int("per_page", 1, MAX_PER_PAGE, 20)
    region = None
    if request.args.get("region"):
        region = find_by_code(db.session, request.args["region"])
        if region is None:
            raise ValidationFailed("未知的地区代码", field="region")
    kind = None
    if request.args.get("kind"):
        try:
            kind = UnitKind(request.args["kind"])
        except ValueError:
            raise ValidationFailed("单位类型应为 budget、enterprise、union 或 social_org",
                                   field="kind") from None
    found = units.public_units(db.session, page=page, per_page=per_page, region=region,
                               kind=kind)
    counts = units.member_counts(db.session, [u.id for u in found.items])
    return jsonify({"items": [unit_item(u, counts[u.id]) for u in found.items],
                    "total": found.total, "page": found.page, "per_page": found.per_page})


@token_required()
def apply_unit():
    user = api_user()
    data = json_body()
    reject_unknown(data, APPLY_FIELDS)
    check_types(data, dict.fromkeys(APPLY_FIELDS, "string"))
    unit = units.apply(db.session, user, units.UnitApplication(
        **{name: data.get(name, "") for name in APPLY_FIELDS}))
    body = unit_detail(db.session, unit, None, admin=False)
    db.session.commit()
    return jsonify(body), 201


@bp.get("/units/<int:unit_id>")
@token_required()
def get_unit(unit_id: int):
    user = api_user()
    unit, member = units.get_visible(db.session, user, unit_id)
    admin = is_admin(user) or bool(member and member.is_admin)
    return jsonify(unit_detail(db.session, unit, member, admin))


@bp.post("/units/<int:unit_id>/members")
@token_required()
def join_unit(unit_id: int):
    user = api_user()
    data = json_body()
    reject_unknown(data, {"code"})
    check_types(data, {"code": "string"})
    if not (data.get("code") or "").strip():
        raise ValidationFailed("请填写邀请码", field="code")
    unit = db.session.get(Unit, unit_id)
    member, created = roster.join(db.session, user, unit, data["code"])
    body = {"unit": unit_item(unit, units.member_counts(db.session, [unit.id])[unit.id]),
            "member": {"user_id": member.user_id, "is_admin": member.is_admin,
                       "joined_at": _iso(member.joined_at)},
            "joined": created}
    db.session.commit()
    return jsonify(body), 201 if created else 200


# ---- the OpenAPI document's part ---------------------------------------------------------------

def openapi_paths(json, errors, query, ref, secured) -> dict:
    unit_id = {"name": "unit_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1}}
    return {
        "/api/v1/units": {
            "get": {
                "tags": ["units"], "operationId": "listUnits",
                "summary": "Verified units, by name, paged",
                "parameters": [
                    query("region", {"type": "string", "pattern": "^[0-9]+$"},
                          "Region code; matches the units in its subtree."),
                    query("kind", {"type": "string", "enum": [k.value for k in UnitKind]},
                          "Kind of unit."),
                    query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                   "default": 1}, "Page number."),
                    query("per_page", {"type": "integer", "minimum": 1,
                                       "maximum": MAX_PER_PAGE, "default": 20},
                          "Items per page.")],
                "responses": {"200": json(ref("UnitList"), "One page of units."),
                              **errors(400)}},
            "post": {
                "tags": ["units"], "operationId": "applyUnit", "security": secured,
                "summary": "Apply as a unit: pending until a platform admin verifies it; the "
                           "applicant then becomes its first admin",
                "description": "The unified social credit code must pass its checksum (400) "
                               "and be new (409 duplicate), except the caller's own turned-down "
                               "application, which is sent again.",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": ref("UnitApplication")}}},
                "responses": {"201": json(ref("Unit"), "The pending unit."),
                              **errors(400, 401, 409)}}},
        "/api/v1/units/{unit_id}": {"get": {
            "tags": ["units"], "operationId": "getUnit", "security": secured,
            "summary": "One unit: its members, its applicant, the offices over it and platform "
                       "admins; 404 for anyone else",
            "description": "With this year's filing (reserved, counted) or null; its admins "
                           "also see the invite code and when it expires.",
            "parameters": [unit_id],
            "responses": {"200": json(ref("Unit"), "The unit."), **errors(401, 404)}}},
        "/api/v1/units/{unit_id}/members": {"post": {
            "tags": ["units"], "operationId": "joinUnit", "security": secured,
            "summary": "Join a verified unit with its invite code",
            "description": "201 joined; 200 already a member (nothing changes); 404 unknown "
                           "or unverified unit; 422 invalid_invite for a wrong, revoked or "
                           "expired code.",
            "parameters": [unit_id],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["code"], "additionalProperties": False,
                "properties": {"code": {"type": "string", "minLength": 1,
                                        "maxLength": 16}}}}}},
            "responses": {"200": json(ref("UnitJoin"), "Already a member."),
                          "201": json(ref("UnitJoin"), "Joined."),
                          **errors(400, 401, 404, 422)}}},
    }


def openapi_schemas(ref) -> dict:
    region = {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"},
        "path_names": {"type": "array", "items": {"type": "string"}}}}
    item = {"id": {"type": "integer"}, "name": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in UnitKind]},
            "status": {"type": "string",
                       "enum": ["pending", "verified", "rejected", "suspended"]},
            "region": region, "members": {"type": "integer", "minimum": 0}}
    return {
        "UnitItem": {"type": "object", "required": list(item), "properties": item},
        "UnitList": {"type": "object", "required": ["items", "total", "page", "per_page"],
                     "properties": {"items": {"type": "array", "items": ref("UnitItem")},
                                    "total": {"type": "integer"}, "page": {"type": "integer"},
                                    "per_page": {"type": "integer"}}},
        "UnitFiling": {"type": ["object", "null"], "properties": {
            "id": {"type": "integer"}, "year": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending", "sent_back", "approved"]},
            "no_canteen": {"type": "boolean"}, "reserved": ref("Money"),
            "counted": ref("Money")}},
        "Unit": {"type": "object", "required": [*item, "filing", "counted"], "properties": {
            **item,
            "office_region": {"type": "object"},
            "is_member": {"type": "boolean"}, "is_admin": {"type": "boolean"},
            "on_leaderboard": {"type": "boolean"}, "year": {"type": "integer"},
            "counted": {"allOf": [ref("Money")], "description":
                        "Paid net of refunds this year by the orders counted toward it."},
            "filing": ref("UnitFiling"),
            "rejection_reason": {"type": ["string", "null"]},
            "invite_code": {"type": ["string", "null"], "description": "Admins only."},
            "invite_expires_at": {"type": ["string", "null"], "format": "date-time"},
            "credit_code": {"type": "string"}, "invoice_title": {"type": "string"},
            "contact": {"type": "object"}, "address_detail": {"type": "string"}}},
        "UnitApplication": {
            "type": "object", "additionalProperties": False,
            "required": ["kind", "name", "credit_code", "region_code", "contact_name",
                         "contact_mobile"],
            "properties": {
                "kind": {"type": "string", "enum": [k.value for k in UnitKind],
                         "description": "budget (a budget unit), enterprise, union (a "
                                        "trade union), social_org (a social organisation)"},
                "name": {"type": "string", "minLength": 2, "maxLength": 100},
                "credit_code": {"type": "string", "description":
                                "Unified social credit code (18 characters, checksum)."},
                "region_code": {"type": "string", "description": "A county or below."},
                "contact_name": {"type": "string", "maxLength": 32},
                "contact_mobile": {"type": "string"},
                "address_detail": {"type": "string", "maxLength": 200},
                "invoice_title": {"type": "string", "maxLength": 100,
                                  "description": "Empty: the unit's name."}}},
        "UnitJoin": {"type": "object", "required": ["unit", "member", "joined"], "properties": {
            "unit": ref("UnitItem"), "joined": {"type": "boolean"},
            "member": {"type": "object", "properties": {
                "user_id": {"type": "integer"}, "is_admin": {"type": "boolean"},
                "joined_at": {"type": "string", "format": "date-time"}}}}},
    }
