"""Group purchases (团购): GET/POST /api/v1/campaigns, GET /api/v1/campaigns/{id},
POST /api/v1/campaigns/{id}/participations and /close, GET/PATCH/DELETE
/api/v1/participations/{id} and POST /api/v1/participations/{id}/payments.

Every read and every change of a campaign past its deadline closes it first
(`settlement.close_if_due`, committed on its own), so a join after the deadline finds it closed
(422 campaign_closed). Times go out in China time (ISO 8601 with +08:00) and come in as ISO 8601
with an offset. The OpenAPI paths and schemas are `api.campaign_docs`.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, jsonify, request, url_for

from marketplace.api import bp
from marketplace.api.common import (
    api_user,
    bearer_token,
    check_types,
    json_body,
    money_in,
    reject_unknown,
    seller_json,
    token_required,
)
from marketplace.api.orders import _address, _lines
from marketplace.core.errors import Forbidden, RuleBroken, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.money import money_json
from marketplace.core.pager import page_number
from marketplace.core.time import CHINA, as_aware, now_utc
from marketplace.extensions import db
from marketplace.payments.providers import providers
from marketplace.units import campaigns, participations, rules, settlement
from marketplace.units.campaigns import CampaignInput, ProductTerms
from marketplace.units.models import Campaign, CampaignStatus, Participation

CREATE_TYPES = {"unit_id": "integer", "title": "string", "description": "string",
                "products": "array", "minimum_quantity": "integer",
                "per_person_limit": "integer", "starts_at": "string", "deadline": "string",
                "delivery": "string", "audience": "string", "address": "object"}
JOIN_TYPES = {"lines": "array", "address": "object", "idempotency_key": "string"}
MAX_PER_PAGE = 50
MAX_TIER_QUANTITY = 100_000


# ---- reading a request ------------------------------------------------------------------------

def _viewer():
    """The bearer token's user when one is sent (401 when it is bad), else None."""
    return api_user() if bearer_token() is not None else None


def _when(value, field: str) -> datetime:
    """An ISO 8601 time with its offset (2025-06-01T18:00:00+08:00), as UTC."""
    problem = Msg("应为带时区的 ISO 8601 时间，例如 2025-06-01T18:00:00+08:00")
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValidationFailed(problem, field=field)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ValidationFailed(problem, field=field) from None


def _tier(value, field: str) -> rules.Tier:
    if not isinstance(value, dict) or set(value) != {"min_quantity", "price"}:
        raise ValidationFailed("每一档应为 {\"min_quantity\", \"price\"}", field=field)
    quantity = value["min_quantity"]
    if not isinstance(quantity, int) or isinstance(quantity, bool) \
            or not 1 <= quantity <= MAX_TIER_QUANTITY:
        raise ValidationFailed(Msg("起团数量应为 1–%(top)s 的整数", top=MAX_TIER_QUANTITY),
                               field=field)
    return rules.Tier(quantity, money_in(value["price"], field=field))


def _products(value) -> list[ProductTerms]:
    out = []
    for i, item in enumerate(value):
        field = f"products[{i}]"
        if not isinstance(item, dict) or set(item) - {"product_id", "tiers"} \
                or not isinstance(item.get("product_id"), int) \
                or isinstance(item.get("product_id"), bool) \
                or not isinstance(item.get("tiers"), list):
            raise ValidationFailed("每个商品应为 {\"product_id\": 整数, \"tiers\": [...]}",
                                   field=field)
        if len(item["tiers"]) > rules.MAX_TIERS:
            raise ValidationFailed(Msg("每个商品最多设置 %(n)s 档价格", n=rules.MAX_TIERS),
                                   field=field)
        out.append(ProductTerms(item["product_id"],
                                [_tier(t, f"{field}.tiers") for t in item["tiers"]]))
    return out


def _paging() -> tuple[int, int]:
    page = page_number(request.args.get("page", "1"))
    per_page = request.args.get("per_page", "20")
    per_page = int(per_page) if per_page.isdigit() and len(per_page) < 4 else 0
    errors = {}
    if page is None:
        errors["page"] = ["应为正整数"]
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = [Msg("应为 1–%(top)s 的整数", top=MAX_PER_PAGE)]
    if errors:
        raise ValidationFailed("分页参数有误", errors=errors)
    return page, per_page


# ---- writing a response -----------------------------------------------------------------------

def _china(value) -> str | None:
    return as_aware(value).astimezone(CHINA).isoformat() if value else None


def _tier_json(tier: rules.Tier) -> dict:
    return {"min_quantity": tier.min_quantity, "price": money_json(tier.price_fen)}


def _product_json(pf: campaigns.ProductFill, starting: dict[int, int]) -> dict:
    following = None
    if pf.next_tier is not None:
        tier, missing = pf.next_tier
        following = {**_tier_json(tier), "missing": missing}
    return {"product_id": pf.product_id, "name": pf.name,
            "list_price": money_json(pf.list_price_fen), "price": money_json(pf.price_fen),
            "join_price": money_json(starting[pf.product_id]),
            "tiers": [_tier_json(t) for t in pf.tiers], "committed": pf.committed,
            "current_tier": None if pf.current_tier is None
            else _tier_json(pf.tiers[pf.current_tier]),
            "next_tier": following}


def campaign_json(campaign: Campaign, user) -> dict:
    fill = campaigns.fill(db.session, campaign)
    starting = campaigns.starting_prices(campaign)
    products = [_product_json(pf, starting) for pf in fill.products]
    first = products[0]
    body = {
        "id": campaign.id, "title": campaign.title, "description": campaign.description,
        "status": str(campaign.status), "committed": fill.committed,
        "minimum_quantity": campaign.minimum_quantity, "missing": fill.missing,
        "per_person_limit": campaign.per_person_limit,
        "starts_at": _china(campaign.starts_at), "deadline": _china(campaign.deadline),
        "seconds_left": fill.seconds_left, "closed_at": _china(campaign.closed_at),
        "delivery": str(campaign.delivery), "audience": str(campaign.audience),
        "unit": {"id": campaign.unit.id, "name": campaign.unit.name} if campaign.unit else None,
        "seller": seller_json(campaign.seller), "products": products,
        "tiers": first["tiers"], "current_tier": first["current_tier"],
        "next_tier": first["next_tier"], "order_id": campaign.order_id,
        "url": url_for("campaigns.campaign_page", campaign_id=campaign.id, _external=True),
        "my_participation_id": None,
    }
    if user is not None:
        own = participations.active_participation(db.session, campaign.id, user.id)
        body["my_participation_id"] = own.id if own else None
        if campaigns.can_manage(db.session, user, campaign):
            body["share_url"] = url_for("campaigns.join_link", link_code=campaign.link_code,
                                        _external=True)
    return body


def participation_json(part: Participation) -> dict:
    names = {cp.product_id: cp.product.name for cp in part.campaign.products}
    return {
        "id": part.id, "campaign_id": part.campaign_id, "status": str(part.status),
        "lines": [{"product_id": ln.product_id, "name": names.get(ln.product_id, ""),
                   "quantity": ln.quantity} for ln in part.lines],
        "quantity": part.quantity, "amount_due": money_json(part.amount_due_fen),
        "paid": money_json(part.paid_fen), "refunded": money_json(part.refunded_fen),
        "refund_pending": money_json(part.refund_due_fen), "pay_by": _china(part.pay_by),
        "order_id": part.order_id,
        "address": {"recipient": part.recipient, "mobile": part.mobile,
                    "region": part.region_names, "detail": part.address_detail}
        if part.region_id else None,
        "created_at": _china(part.created_at),
    }


def _close_if_due(campaign: Campaign) -> None:
    """The lazy close: a campaign past its deadline settles first (committed)."""
    settlement.close_on_read(db.session, campaign, providers(current_app.config),
                             commit=db.session.commit)


# ---- campaigns --------------------------------------------------------------------------------

@bp.route("/campaigns", methods=["GET", "POST"])
def campaigns_collection():
    """GET: the list (anyone); POST: open a campaign (a token)."""
    return create_campaign() if request.method == "POST" else list_campaigns()


def list_campaigns():
    user = _viewer()
    page, per_page = _paging()
    items, total = campaigns.visible(db.session, user, page=page, per_page=per_page)
    for campaign in items:
        _close_if_due(campaign)
    return jsonify({"items": [campaign_json(c, user) for c in items], "total": total,
                    "page": page, "per_page": per_page})


def create_campaign():
    user = api_user()
    data = json_body()
    reject_unknown(data, CREATE_TYPES)
    check_types({k: v for k, v in data.items() if not (k == "unit_id" and v is None)},
                CREATE_TYPES)  # unit_id null: a seller's public campaign
    missing = [k for k in ("title", "products", "minimum_quantity", "per_person_limit",
                           "deadline") if k not in data]
    if missing:
        raise ValidationFailed(Msg("缺少字段：%(f)s", f=", ".join(missing)),
                               errors={k: ["必填"] for k in missing})
    campaign = campaigns.open_campaign(db.session, user, CampaignInput(
        unit_id=data.get("unit_id"), title=data["title"], description=data.get("description", ""),
        products=_products(data["products"]), minimum_quantity=data["minimum_quantity"],
        per_person_limit=data["per_person_limit"], deadline=_when(data["deadline"], "deadline"),
        starts_at=_when(data["starts_at"], "starts_at") if data.get("starts_at") else None,
        delivery=data.get("delivery", "individual"), audience=data.get("audience", "members"),
        address=_address(data["address"]) if data.get("address") else None))
    db.session.commit()
    resp = jsonify(campaign_json(campaign, user))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.get_campaign", campaign_id=campaign.id,
                                       _external=True)
    return resp


@bp.get("/campaigns/<int:campaign_id>")
def get_campaign(campaign_id: int):
    user = _viewer()
    campaign = campaigns.campaign_for(db.session, user, campaign_id)
    _close_if_due(campaign)
    return jsonify(campaign_json(campaign, user))


@bp.post("/campaigns/<int:campaign_id>/close")
@token_required()
def close_campaign(campaign_id: int):
    user = api_user()
    campaign = campaigns.campaign_for(db.session, user, campaign_id)
    if not campaigns.can_manage(db.session, user, campaign):
        raise Forbidden("只有团购的发起单位管理员或平台管理员可以结束团购")
    if campaign.status == CampaignStatus.open and as_aware(campaign.deadline) > now_utc():
        raise RuleBroken("团购尚未截止，截止后才能结束", code="campaign_open")
    settlement.close(db.session, campaign, providers(current_app.config), actor=user)
    db.session.commit()
    return jsonify(campaign_json(campaign, user))


@bp.post("/campaigns/<int:campaign_id>/participations")
@token_required()
def join_campaign(campaign_id: int):
    user = api_user()
    campaign = campaigns.campaign_for(db.session, user, campaign_id)
    data = json_body()
    reject_unknown(data, JOIN_TYPES)
    check_types(data, JOIN_TYPES)
    _close_if_due(campaign)
    key = data.get("idempotency_key") or request.headers.get("Idempotency-Key", "")
    part = participations.join(db.session, user, campaign, _lines(data.get("lines") or []),
                          _address(data["address"]) if data.get("address") else None,
                          idempotency_key=key)
    body = participation_json(part)  # read before the commit expires what the join loaded
    db.session.commit()
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.participation_resource",
                                       participation_id=body["id"], _external=True)
    return resp


# ---- participations ---------------------------------------------------------------------------

def _participation(participation_id: int) -> Participation:
    part = campaigns.participation_for(db.session, api_user(), participation_id)
    _close_if_due(part.campaign)
    db.session.refresh(part)
    return part


@bp.route("/participations/<int:participation_id>", methods=["GET", "PATCH", "DELETE"])
@token_required()
def participation_resource(participation_id: int):
    """GET: one participation; PATCH: new quantities; DELETE: withdraw."""
    if request.method == "PATCH":
        return change_participation(participation_id)
    if request.method == "DELETE":
        return withdraw_participation(participation_id)
    return jsonify(participation_json(_participation(participation_id)))


def change_participation(participation_id: int):
    part = _participation(participation_id)
    data = json_body()
    reject_unknown(data, {"lines"})
    check_types(data, {"lines": "array"})
    participations.change(db.session, api_user(), part, _lines(data.get("lines") or []),
                     providers(current_app.config))
    body = participation_json(part)
    db.session.commit()
    return jsonify(body)


def withdraw_participation(participation_id: int):
    part = _participation(participation_id)
    participations.withdraw(db.session, api_user(), part, providers(current_app.config))
    body = participation_json(part)
    db.session.commit()
    return jsonify(body)


@bp.post("/participations/<int:participation_id>/payments")
@token_required()
def pay_participation(participation_id: int):
    part = _participation(participation_id)
    data = json_body()
    reject_unknown(data, {"provider"})
    check_types(data, {"provider": "string"})
    payment = participations.pay(db.session, api_user(), part, providers(current_app.config),
                            provider=data.get("provider", "simulated"))
    body = {"participation": participation_json(part), "test_mode": True,
            "payment": {"provider": payment.provider, "reference": payment.reference,
                        "status": str(payment.status),
                        "amount": money_json(payment.amount_fen)}}
    db.session.commit()
    return jsonify(body)
