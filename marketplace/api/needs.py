"""Needs and micro-wishes over the API: GET /api/v1/needs (the public wall, masked), POST
/api/v1/needs (a household's liaison, an office over it, its own account: 201 pending review),
POST /api/v1/needs/{id}/review (an office over the household), POST /api/v1/needs/{id}/claims
(signed-in donors), POST /api/v1/claims/{id}/delivered (the donor), POST
/api/v1/claims/{id}/confirm (the household's liaison). Thin over help.needs; bad input is a
Chinese 400 and nothing is written."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request

from marketplace.api import bp
from marketplace.api.common import (
    api_user,
    check_types,
    json_body,
    money_in,
    reject_unknown,
    token_required,
)
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.money import money_json
from marketplace.core.pager import page_number
from marketplace.extensions import db
from marketplace.help.needs import claims, rules, services
from marketplace.help.needs.history import remaining_fen
from marketplace.help.needs.models import (
    Claim,
    ClaimStatus,
    DeliveryKind,
    Need,
    NeedCategory,
    NeedKind,
    NeedStatus,
    NeedWhat,
)
from marketplace.regions.services import find_by_code

PER_PAGE = 24
STATUSES = [str(s) for s in NeedStatus]


def need_json(need: Need, *, full: bool = False) -> dict:
    remaining = remaining_fen(need)
    out = {
        "id": need.id, "kind": str(need.kind), "category": str(need.category),
        "title": need.title, "description": need.description, "what": str(need.what),
        "items": need.items or [], "service": need.service, "beneficiary": need.beneficiary,
        "amount": money_json(need.amount_fen) if need.amount_fen else None,
        "claimed": money_json(need.claimed_fen),
        "remaining": money_json(remaining) if remaining is not None else None,
        "status": str(need.status),
        "household": {"display_name": need.household.masked_name,
                      "village": need.village.short_place, "village_code": need.village.code},
        "expires_on": need.expires_on.isoformat(), "posted_at": need.posted_at.isoformat(),
        "approved_at": need.approved_at.isoformat() if need.approved_at else None,
        "matched_at": need.matched_at.isoformat() if need.matched_at else None,
        "fulfilled_at": need.fulfilled_at.isoformat() if need.fulfilled_at else None,
        "url": f"/needs/{need.id}",
    }
    if full:
        out["household"]["code"] = need.household.code
        out["review_reason"] = need.review_reason
    return out


def claim_json(row: Claim) -> dict:
    return {"id": row.id, "need_id": row.need_id, "status": str(row.status),
            "amount": money_json(row.amount_fen) if row.amount_fen else None,
            "held_until": row.held_until.isoformat(),
            "delivery_kind": row.delivery_kind or None, "delivery_note": row.delivery_note,
            "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            "donation_id": row.donation_id, "confirm_note": row.confirm_note,
            "confirmed_at": row.confirmed_at.isoformat() if row.confirmed_at else None,
            "need_status": str(row.need.status)}


def _tidy() -> None:
    if claims.tidy(db.session) != (0, 0):
        db.session.commit()


@bp.route("/needs", methods=["GET", "POST"])
def needs_collection():
    """GET: the wall; POST: a new need (bearer token)."""
    if request.method == "POST":
        return post_need()
    return list_needs()


def list_needs():
    _tidy()
    args = request.args
    raw = args.get("page")
    page = page_number(raw) if raw not in (None, "") else 1
    if page is None:
        raise ValidationFailed("页码应为 1 到 10000 的整数", field="page")
    errors = {}
    code = (args.get("region") or "").strip()
    region = None
    if code:
        region = find_by_code(db.session, code) if code.isdigit() and len(code) <= 12 else None
        if region is None:
            raise NotFound("该地区不存在")
    category = args.get("category") or ""
    if category and category not in set(NeedCategory):
        errors["category"] = [Msg("类别应为 %(values)s", values="、".join(NeedCategory))]
    kind = args.get("kind") or ""
    if kind and kind not in set(NeedKind):
        errors["kind"] = ["类型应为 need 或 wish"]
    status = args.get("status") or ""
    if status and status not in {str(s) for s in services.PUBLIC}:
        errors["status"] = ["状态应为 open、claimed 或 fulfilled"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    query = services.WallQuery(region=region, category=category, kind=kind,
                               q=(args.get("q") or "")[:200], status=status)
    rows, total = services.wall(db.session, query, page=page, per_page=PER_PAGE)
    return jsonify({"items": [need_json(n) for n in rows], "total": total, "page": page,
                    "per_page": PER_PAGE})


NEED_FIELDS = {"household_code": "string", "kind": "string", "category": "string",
               "title": "string", "description": "string", "what": "string",
               "items": "array", "amount": "object", "service": "string",
               "beneficiary": "string", "expires_on": "string"}


def _need_input(data: dict) -> rules.NeedInput:
    reject_unknown(data, NEED_FIELDS)
    check_types(data, NEED_FIELDS)
    amount = money_in(data["amount"], "amount") if "amount" in data else None
    what = data.get("what") or (NeedWhat.amount if "amount" in data and "items" not in data
                                else NeedWhat.items if "items" in data
                                else NeedWhat.service if "service" in data else "")
    expires = None
    if data.get("expires_on"):
        try:
            expires = date.fromisoformat(data["expires_on"])
        except ValueError:
            raise ValidationFailed("日期格式应为 YYYY-MM-DD", field="expires_on") from None
    return rules.NeedInput(kind=data.get("kind") or NeedKind.need,
                           category=data.get("category") or "", title=data.get("title") or "",
                           description=data.get("description") or "", what=what,
                           items=data.get("items") or [], amount_fen=amount,
                           service=data.get("service") or "",
                           beneficiary=data.get("beneficiary") or "", expires_on=expires)


@token_required()
def post_need():
    user = api_user()
    data = json_body()
    need_input = _need_input(data)
    if not data.get("household_code"):
        raise ValidationFailed("请填写帮扶对象编号（household_code）", field="household_code")
    household = services.household_by_code(db.session, data["household_code"])
    need = services.post(db.session, user, household, need_input)
    db.session.commit()
    return jsonify(need_json(need, full=True)), 201


def _need(need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None:
        raise NotFound("未找到该需求")
    return need


@bp.post("/needs/<int:need_id>/review")
@token_required()
def review_need(need_id: int):
    user = api_user()
    data = json_body()
    schema = {"decision": "string", "reason": "string"}
    reject_unknown(data, schema)
    check_types(data, schema)
    need = services.visible_need(db.session, user, need_id)
    services.review(db.session, user, need, data.get("decision") or "",
                    data.get("reason") or "")
    db.session.commit()
    return jsonify(need_json(need, full=True))


@bp.post("/needs/<int:need_id>/claims")
@token_required()
def claim_need(need_id: int):
    user = api_user()
    data = json_body()
    reject_unknown(data, {"amount"})
    amount = money_in(data["amount"], "amount") if data.get("amount") is not None else None
    _tidy()
    need = services.visible_need(db.session, user, need_id)
    row = claims.claim(db.session, user, need, amount)
    db.session.commit()
    return jsonify(claim_json(row)), 201


def _claim(claim_id: int) -> Claim:
    row = db.session.get(Claim, claim_id)
    if row is None:
        raise NotFound("未找到该认领")
    return row


@bp.post("/claims/<int:claim_id>/delivered")
@token_required()
def claim_delivered(claim_id: int):
    user = api_user()
    data = json_body()
    schema = {"kind": "string", "note": "string", "provider": "string"}
    reject_unknown(data, schema)
    check_types(data, schema)
    row = _claim(claim_id)
    if row.donor_id != user.id:
        raise NotFound("未找到该认领")
    if data.get("provider") not in (None, "simulated"):
        raise ValidationFailed("provider 目前只支持 simulated", field="provider")
    claims.record_delivery(db.session, user, row, data.get("kind") or "",
                           data.get("note") or "")
    db.session.commit()
    return jsonify(claim_json(row))


@bp.post("/claims/<int:claim_id>/confirm")
@token_required()
def claim_confirm(claim_id: int):
    user = api_user()
    data = json_body()
    schema = {"note": "string"}
    reject_unknown(data, schema)
    check_types(data, schema)
    row = claims.check_confirm(db.session, user, _claim(claim_id))
    claims.confirm(db.session, user, row, data.get("note") or "")
    db.session.commit()
    return jsonify(claim_json(row))


# ---- the OpenAPI document -----------------------------------------------------------------------

def openapi_paths(json, errors, query, ref, secured) -> dict:
    need_id = {"name": "need_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1}}
    claim_id = {"name": "claim_id", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 1}}

    def body(name):
        return {"required": True, "content": {"application/json": {"schema": ref(name)}}}

    return {
        "/api/v1/needs": {
            "get": {"tags": ["needs"], "operationId": "listNeeds",
                    "summary": "The public wall: approved needs and micro-wishes (open, claimed, "
                               "fulfilled), household names masked, newest approved first",
                    "description": "q is searched with the product search's Chinese analysis "
                                   "(words, characters, pinyin) in title and description.",
                    "parameters": [
                        query("region", {"type": "string"}, "A region code: its subtree (404 "
                                                            "for an unknown code)."),
                        query("category", {"type": "string",
                                           "enum": [str(c) for c in NeedCategory]}, "Category."),
                        query("kind", {"type": "string", "enum": ["need", "wish"]}, "Kind."),
                        query("status", {"type": "string",
                                         "enum": ["open", "claimed", "fulfilled"]}, "Status."),
                        query("q", {"type": "string"}, "Search words."),
                        query("page", {"type": "integer", "minimum": 1}, "Page (24 a page).")],
                    "responses": {"200": json({"type": "object", "properties": {
                        "items": {"type": "array", "items": ref("Need")},
                        "total": {"type": "integer"}, "page": {"type": "integer"},
                        "per_page": {"type": "integer"}}}, "A page of needs."),
                        **errors(400, 404)}},
            "post": {"tags": ["needs"], "operationId": "postNeed", "security": secured,
                     "summary": "Post a need or micro-wish for a household (its liaison, an "
                                "office over its village, its own account): 201 pending review",
                     "description": "what is derived from the fields given when absent (amount, "
                                    "items, service). A wish needs a beneficiary and an amount "
                                    "(its value) up to the configured cap. 422 post_limit past "
                                    "the poster's needs a day, 422 household_cap past the "
                                    "household's needs pending, open or claimed. 404 for a "
                                    "household the caller may not post for.",
                     "requestBody": body("NeedCreate"),
                     "responses": {"201": json(ref("Need"), "The new need (pending)."),
                                   **errors(400, 401, 404, 422)}}},
        "/api/v1/needs/{need_id}/review": {"post": {
            "tags": ["needs"], "operationId": "reviewNeed", "security": secured,
            "summary": "Approve a pending need (open on the wall) or send it back with a reason "
                       "(an office over the household; 404 for others)",
            "parameters": [need_id], "requestBody": body("NeedReview"),
            "responses": {"200": json(ref("Need"), "The need after the decision."),
                          **errors(400, 401, 404, 409, 422)}}},
        "/api/v1/needs/{need_id}/claims": {"post": {
            "tags": ["needs"], "operationId": "claimNeed", "security": secured,
            "summary": "Claim an open need: whole, or part of an amount need (amount); it is "
                       "held for the configured days, then lapses back to open",
            "parameters": [need_id], "requestBody": body("ClaimCreate"),
            "responses": {"201": json(ref("Claim"), "The claim (held)."),
                          **errors(400, 401, 404, 409, 422)}}},
        "/api/v1/claims/{claim_id}/delivered": {"post": {
            "tags": ["needs"], "operationId": "claimDelivered", "security": secured,
            "summary": "The donor records the delivery: goods, a service, or money (an amount "
                       "need; paid now through the simulated provider)",
            "parameters": [claim_id], "requestBody": body("ClaimDelivery"),
            "responses": {"200": json(ref("Claim"), "The claim (delivered)."),
                          **errors(400, 401, 404, 409, 422, 502)}}},
        "/api/v1/claims/{claim_id}/confirm": {"post": {
            "tags": ["needs"], "operationId": "confirmClaim", "security": secured,
            "summary": "The household's liaison confirms receipt (note); the need is fulfilled "
                       "when every live claim is confirmed and it is covered",
            "parameters": [claim_id], "requestBody": body("ClaimConfirm"),
            "responses": {"200": json(ref("Claim"), "The claim (confirmed)."),
                          **errors(400, 401, 404, 409, 422)}}},
    }


def openapi_schemas(ref) -> dict:
    money_or_null = {"anyOf": [ref("Money"), {"type": "null"}]}
    when = {"type": ["string", "null"], "format": "date-time"}
    return {
        "Need": {"type": "object", "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["need", "wish"]},
            "category": {"type": "string"}, "title": {"type": "string"},
            "description": {"type": "string"}, "what": {"type": "string"},
            "items": {"type": "array", "items": {"type": "object"}},
            "service": {"type": "string"}, "beneficiary": {"type": "string"},
            "amount": money_or_null, "claimed": ref("Money"), "remaining": money_or_null,
            "status": {"type": "string", "enum": STATUSES},
            "household": {"type": "object", "properties": {
                "display_name": {"type": "string"}, "village": {"type": "string"},
                "village_code": {"type": "string"}, "code": {"type": "string"}}},
            "expires_on": {"type": "string", "format": "date"},
            "posted_at": {"type": "string", "format": "date-time"},
            "approved_at": when, "matched_at": when, "fulfilled_at": when,
            "review_reason": {"type": "string"}, "url": {"type": "string"}}},
        "NeedCreate": {"type": "object", "additionalProperties": False,
                       "required": ["household_code", "category", "title"], "properties": {
                           "household_code": {"type": "string"},
                           "kind": {"type": "string", "enum": ["need", "wish"]},
                           "category": {"type": "string",
                                        "enum": [str(c) for c in NeedCategory]},
                           "title": {"type": "string", "minLength": rules.TITLE_MIN,
                                     "maxLength": rules.TITLE_MAX},
                           "description": {"type": "string",
                                           "maxLength": rules.DESCRIPTION_MAX},
                           "what": {"type": "string", "enum": [str(w) for w in NeedWhat]},
                           "items": {"type": "array", "maxItems": rules.ITEMS_MAX, "items": {
                               "type": "object", "additionalProperties": False,
                               "required": ["name", "quantity"], "properties": {
                                   "name": {"type": "string"},
                                   "quantity": {"type": "integer", "minimum": 1},
                                   "unit": {"type": "string"}}}},
                           "amount": ref("Money"), "service": {"type": "string"},
                           "beneficiary": {"type": "string"},
                           "expires_on": {"type": "string", "format": "date"}}},
        "NeedReview": {"type": "object", "additionalProperties": False,
                       "required": ["decision"], "properties": {
                           "decision": {"type": "string", "enum": ["approve", "send_back"]},
                           "reason": {"type": "string", "maxLength": rules.REASON_MAX}}},
        "ClaimCreate": {"type": "object", "additionalProperties": False, "properties": {
            "amount": ref("Money")}},
        "ClaimDelivery": {"type": "object", "additionalProperties": False,
                          "required": ["kind"], "properties": {
                              "kind": {"type": "string", "enum": [str(k) for k in DeliveryKind]},
                              "note": {"type": "string", "maxLength": rules.NOTE_MAX},
                              "provider": {"type": "string", "enum": ["simulated"]}}},
        "ClaimConfirm": {"type": "object", "additionalProperties": False, "properties": {
            "note": {"type": "string", "maxLength": rules.NOTE_MAX}}},
        "Claim": {"type": "object", "properties": {
            "id": {"type": "integer"}, "need_id": {"type": "integer"},
            "status": {"type": "string", "enum": [str(s) for s in ClaimStatus]},
            "amount": money_or_null, "held_until": {"type": "string", "format": "date-time"},
            "delivery_kind": {"type": ["string", "null"]}, "delivery_note": {"type": "string"},
            "delivered_at": when, "donation_id": {"type": ["integer", "null"]},
            "confirm_note": {"type": "string"}, "confirmed_at": when,
            "need_status": {"type": "string"}}},
    }
