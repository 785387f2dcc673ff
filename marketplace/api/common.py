"""Shared pieces of the JSON API: bearer authentication, JSON bodies, serialisers.

Errors are raised as DomainError subclasses; core.errorhandlers turns them into
{"error": {"code", "message", "details"}} for every /api URL.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import wraps

from flask import current_app, g, request, url_for
from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.accounts.services import user_from_token
from marketplace.catalog.models import Product
from marketplace.core import policy
from marketplace.core.errors import Unauthorized, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.inputs import MAX_JSON_DEPTH, check_json
from marketplace.core.money import CURRENCY, money_json
from marketplace.extensions import db
from marketplace.ledger import shares
from marketplace.sellers.models import CooperativeMember, SellerKind


class InvalidJson(ValidationFailed):
    """The body is not a JSON object (bad syntax, wrong content type, an array...)."""

    code = "invalid_json"


# ---- authentication ---------------------------------------------------------------------------

def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_user() -> User:
    """The user named by the bearer token; 401 when it is missing, bad or expired."""
    if "api_user" in g:
        return g.api_user
    token = bearer_token()
    if token is None:
        raise Unauthorized("缺少访问令牌：请在 Authorization 头中发送 Bearer <token>")
    user = user_from_token(db.session, token, current_app.config["SECRET_KEY"],
                           current_app.config["API_TOKEN_MAX_AGE"])
    g.api_user = user
    return user


def token_required(*roles: Role):
    """Route decorator: a valid bearer token (401), and one of `roles` if given (403).
    Platform admins pass every role check (policy.require_any_role)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = api_user()
            if roles:
                policy.require_any_role(user, *roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# ---- JSON bodies ------------------------------------------------------------------------------

# fields of a JSON body that may hold several lines (newline and tab allowed)
MULTILINE_FIELDS = frozenset({"description"})


def json_body() -> dict:
    """The request body as a JSON object, or 400 invalid_json (also for JSON nested deeper than
    core.inputs.MAX_JSON_DEPTH: core.jsonio refuses it while parsing); every string and whole
    number in it passes core.inputs.check_json (400 validation_failed naming the fields)."""
    if not request.is_json:
        raise InvalidJson("请求体必须是 JSON（Content-Type: application/json）")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidJson(Msg("请求体必须是一个 JSON 对象（嵌套不超过 %(depth)s 层）",
                              depth=MAX_JSON_DEPTH))
    check_json(data, multiline=MULTILINE_FIELDS)
    return data


def reject_unknown(data: dict, allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = sorted(k for k in data if k not in allowed)
    if unknown:
        errors = {k: ["不支持的字段"] for k in unknown}
        raise ValidationFailed(Msg("不支持的字段：%(unknown)s；可用字段：%(allowed)s",
                                   unknown=", ".join(unknown), allowed=", ".join(sorted(allowed))),
                               errors=errors)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


TYPE_CHECKS = {
    "string": (lambda v: isinstance(v, str), "应为字符串"),
    "integer": (_is_int, "应为整数"),
    "boolean": (lambda v: isinstance(v, bool), "应为 true 或 false"),
    "string_or_null": (lambda v: v is None or isinstance(v, str), "应为字符串或 null"),
    "array": (lambda v: isinstance(v, list), "应为数组"),
    "object": (lambda v: isinstance(v, dict), "应为对象"),
}


def check_types(data: dict, schema: dict[str, str]) -> None:
    """Every present field of `schema` has its JSON type; all problems in one 400."""
    errors: dict[str, list[str]] = {}
    for name, kind in schema.items():
        if name in data:
            check, message = TYPE_CHECKS[kind]
            if not check(data[name]):
                errors[name] = [message]
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(f"{first} {errors[first][0]}", errors=errors)


def money_in(value, field: str = "price") -> int:
    """A money value from a client: exactly {"amount": <int fen>, "currency": "CNY"}.
    A bare number is refused (is 12 yuan or fen?), so are floats, strings and booleans."""
    shape = "金额应为 {\"amount\": <分>, \"currency\": \"CNY\"}"
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        raise ValidationFailed(shape, field=field)
    if value["currency"] != CURRENCY:
        raise ValidationFailed("只支持人民币（CNY）", field=field)
    if not _is_int(value["amount"]):
        raise ValidationFailed("金额必须是以分为单位的整数（例如 1250 表示 12.50 元）",
                               field=field)
    return value["amount"]


# ---- serialisers ------------------------------------------------------------------------------

def category_json(category) -> dict:
    return {"slug": category.slug, "name": category.name_zh, "name_en": category.name_en}


def seller_json(seller) -> dict:
    return {"id": seller.id, "name": seller.name, "kind": str(seller.kind)}


def region_json(region) -> dict:
    return {"code": region.code, "name": region.name, "path_names": region.path_names}


def product_item(product: Product, share: shares.Share | None = None) -> dict:
    """A product as the list shows it; `share` is its households' share of one unit (read for
    a whole page at once by `shares.for_products`; read here when not given)."""
    share = share or shares.for_products(db.session, [product])[product.id]
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "spec": product.spec,
        "price": money_json(product.price_fen),
        "stock": product.stock,
        "category": category_json(product.category),
        "seller": seller_json(product.seller),
        "origin": region_json(product.origin),
        "certified": product.certified,
        "url": url_for("storefront.product", product_id=product.id, _external=True),
        "households_share_bp": share.share_bp,
        "households_share_estimate": money_json(share.amount_fen),
    }


def beneficiary_count(product: Product) -> int:
    """Households the product's sales help: a household shop its one household, a cooperative
    its member households, a lot-backed product the households whose supply lots still hold
    units (the next sales go to them)."""
    from marketplace.ledger.lots import is_lot_backed
    from marketplace.ledger.models import SupplyLot
    seller = product.seller
    if seller.kind == SellerKind.household_shop:
        return 1
    if is_lot_backed(seller, product.lot_backed):
        return db.session.scalar(select(func.count(func.distinct(SupplyLot.household_id))).where(
            SupplyLot.product_id == product.id, SupplyLot.remaining > 0)) or 0
    if seller.kind == SellerKind.cooperative:
        return db.session.scalar(select(func.count()).select_from(CooperativeMember).where(
            CooperativeMember.seller_id == seller.id)) or 0
    return 0


def product_detail(product: Product) -> dict:
    out = product_item(product)
    out.update({
        "description": product.description,
        "images": [{
            "url": url_for("media.image", name=img.filename, _external=True),
            "thumb_url": url_for("media.image", name=img.thumb_filename, _external=True),
            "width": img.width, "height": img.height,
        } for img in product.images],
        "beneficiary_count": beneficiary_count(product),
        "certificate": ({"number": product.certificate_no,
                         "valid_until": product.certificate_valid_until.isoformat()
                         if product.certificate_valid_until else None}
                        if product.certified else None),
    })
    return out


def managed_product(product: Product) -> dict:
    """What the product's own seller staff see: the detail plus its workflow state, and the
    units on hand (what PATCH stock sets) and held by unpaid orders (`stock` is the free ones:
    on_hand = stock + held)."""
    out = product_detail(product)
    out.update({
        "on_hand": product.on_hand,
        "held": product.held,
        "status": str(product.status),
        "review_note": product.review_note,
        "certificate_no": product.certificate_no,
        "certificate_valid_until": (product.certificate_valid_until.isoformat()
                                    if product.certificate_valid_until else None),
    })
    return out
