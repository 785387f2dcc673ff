"""GET /api/v1/pool: the donation pool's public totals, allocations (household names masked)
and pledges; POST /api/v1/pool/donations: a signed-in donor gives to the pool (the simulated
provider pays at once). Its part of the OpenAPI document is `openapi_paths` and
`openapi_schemas` (api.openapi takes them in)."""
from __future__ import annotations

from flask import current_app, jsonify, request, url_for

from marketplace.api import bp
from marketplace.api.common import (
    api_user,
    check_types,
    json_body,
    money_in,
    reject_unknown,
    token_required,
)
from marketplace.core.errors import ValidationFailed
from marketplace.core.money import money_json
from marketplace.core.pager import MAX_PAGE, page_number
from marketplace.extensions import db
from marketplace.help.pool import allocations, chain, donations, pledges, rules
from marketplace.help.pool.models import Donation
from marketplace.payments.providers import providers

PER_PAGE = 50
DONATION_TYPES = {"amount": "object", "provider": "string", "display_name": "string"}


def donation_json(donation: Donation) -> dict:
    return {"id": donation.id, "kind": str(donation.kind), "status": str(donation.status),
            "amount": money_json(donation.amount_fen), "provider": donation.provider,
            "receipt_no": donation.receipt_no, "display_name": donation.display_name,
            "reason": donation.reason, "created_at": donation.created_at.isoformat(),
            "paid_at": donation.paid_at.isoformat() if donation.paid_at else None,
            "receipt_url": url_for("pool.receipt", donation_id=donation.id, _external=True)}


@bp.get("/pool")
def get_pool():
    raw = request.args.get("page")
    page = page_number(raw) if raw not in (None, "") else 1
    if page is None:
        raise ValidationFailed("页码应为 1 到 10000 的整数", field="page")
    totals = chain.totals(db.session)
    items, total = allocations.published(db.session, page=page, per_page=PER_PAGE)
    return jsonify({
        "received": money_json(totals.received), "allocated": money_json(totals.allocated),
        "refunded": money_json(totals.refunded), "balance": money_json(totals.balance),
        "allocations": [{"id": a.id, "at": a.at.isoformat(), "amount": money_json(a.amount_fen),
                         "household": a.household, "village": a.village,
                         "need": {"title": a.need_title, "category": a.category}}
                        for a in items],
        "total": total, "page": page, "per_page": PER_PAGE,
        "pledges": [{"seller": p.seller, "share_bp": p.share_bp,
                     "starts_on": p.starts_on.isoformat(), "ends_on": p.ends_on.isoformat(),
                     "pledged": money_json(p.pledged_fen), "paid": money_json(p.paid_fen)}
                    for p in pledges.published(db.session)]})


@bp.post("/pool/donations")
@token_required()
def create_donation():
    user = api_user()
    data = json_body()
    reject_unknown(data, DONATION_TYPES)
    check_types(data, DONATION_TYPES)
    if "amount" not in data:
        raise ValidationFailed("请填写捐赠金额 amount", field="amount")
    amount = money_in(data["amount"], field="amount")
    donation = donations.donate(db.session, user, amount,
                                provider=data.get("provider", "simulated"),
                                display_name=data.get("display_name", ""),
                                providers=providers(current_app.config))
    body = donation_json(donation)
    db.session.commit()
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = body["receipt_url"]
    return resp


# ---- the OpenAPI document --------------------------------------------------------------------

def openapi_paths(json, errors, query, ref, secured) -> dict:
    return {
        "/api/v1/pool": {"get": {
            "tags": ["pool"], "operationId": "getPool",
            "summary": "The donation pool: received, allocated, refunded and balance (sums of "
                       "its hash-chained ledger), every allocation (newest first, paged, "
                       "household names masked) and the sellers' charity pledges",
            "parameters": [query("page", {"type": "integer", "minimum": 1,
                                          "maximum": MAX_PAGE}, "Page of the allocations.")],
            "responses": {"200": json(ref("Pool"), "The pool's public figures."),
                          **errors(400)}}},
        "/api/v1/pool/donations": {"post": {
            "tags": ["pool"], "operationId": "donateToPool", "security": secured,
            "summary": "Give to the pool (no target): paid at once through the simulated "
                       "provider, with a receipt number",
            "description": "Any signed-in user. amount: 1 fen to "
                           f"{rules.MAX_DONATION_FEN} fen. provider: simulated (the only one "
                           "for donations now). display_name: how the donor wants to be named "
                           "(optional, at most 40 characters). Nothing is written on any error.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": ref("DonationCreate")}}},
            "responses": {"201": json(ref("Donation"), "The paid donation."),
                          **errors(400, 401, 409)}}},
    }


def openapi_schemas(ref) -> dict:
    money = ref("Money")
    return {
        "DonationCreate": {
            "type": "object", "additionalProperties": False, "required": ["amount"],
            "properties": {"amount": money,
                           "provider": {"type": "string", "enum": ["simulated"]},
                           "display_name": {"type": "string", "maxLength": 40}}},
        "Donation": {"type": "object", "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["pool", "claim", "pledge"]},
            "status": {"type": "string", "enum": ["pending", "paid", "failed", "refunded"]},
            "amount": money, "provider": {"type": "string"},
            "receipt_no": {"type": ["string", "null"]}, "display_name": {"type": "string"},
            "reason": {"type": "string"}, "created_at": {"type": "string"},
            "paid_at": {"type": ["string", "null"]}, "receipt_url": {"type": "string"}}},
        "Pool": {"type": "object", "required": ["received", "allocated", "balance",
                                                "allocations"], "properties": {
            "received": money, "allocated": money, "refunded": money, "balance": money,
            "allocations": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "at": {"type": "string"}, "amount": money,
                "household": {"type": "string", "description": "Masked, as on the public pages."},
                "village": {"type": "string"},
                "need": {"type": "object", "properties": {"title": {"type": "string"},
                                                          "category": {"type": "string"}}}}}},
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pledges": {"type": "array", "items": {"type": "object", "properties": {
                "seller": {"type": "string"}, "share_bp": {"type": "integer"},
                "starts_on": {"type": "string", "format": "date"},
                "ends_on": {"type": "string", "format": "date"},
                "pledged": money, "paid": money}}}}},
    }
