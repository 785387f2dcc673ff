"""POST /api/v1/seller/products and PATCH /api/v1/seller/products/{id}: seller staff."""
from __future__ import annotations

from flask import jsonify, url_for

from marketplace.accounts.models import Role
from marketplace.api import bp
from marketplace.api.common import (
    api_user,
    check_types,
    json_body,
    managed_product,
    money_in,
    reject_unknown,
    token_required,
)
from marketplace.catalog import services
from marketplace.catalog.services import ProductInput
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.sellers.models import Seller

CREATE_TYPES = {
    "seller_id": "integer", "name": "string", "category": "string", "spec": "string",
    "description": "string", "stock": "integer", "origin_code": "string",
    "certificate_no": "string", "certificate_valid_until": "string_or_null",
    "submit": "boolean",
}
CREATE_FIELDS = set(CREATE_TYPES) | {"price"}
PATCH_TYPES = {"stock": "integer", "description": "string", "status": "string"}
PATCH_FIELDS = set(PATCH_TYPES) | {"price"}


def _seller_for(user, seller_id: int | None) -> Seller:
    """The seller a new product belongs to: the one named, or the user's only seller."""
    if seller_id is None:
        ids = sorted(user.seller_ids())
        if len(ids) != 1:
            raise ValidationFailed("您关联了多个经营主体（或没有关联），请提供 seller_id"
                                   if ids else "请提供 seller_id", field="seller_id")
        seller_id = ids[0]
    seller = db.session.get(Seller, seller_id)
    if seller is None:
        raise NotFound("未找到该经营主体")
    return seller


@bp.post("/seller/products")
@token_required(Role.seller_staff)
def create_product():
    user = api_user()
    data = json_body()
    reject_unknown(data, CREATE_FIELDS)
    check_types(data, CREATE_TYPES)
    seller = _seller_for(user, data.get("seller_id"))
    price = money_in(data["price"]) if "price" in data else None
    product = services.create_product(
        db.session, user, seller,
        ProductInput(name=data.get("name"), category=data.get("category"),
                     spec=data.get("spec", ""), description=data.get("description", ""),
                     price=price, stock=data.get("stock"), origin_code=data.get("origin_code"),
                     certificate_no=data.get("certificate_no", ""),
                     certificate_valid_until=data.get("certificate_valid_until")),
        price_in_fen=True, submit=bool(data.get("submit", False)))
    db.session.commit()
    resp = jsonify(managed_product(product))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.patch_product", product_id=product.id,
                                       _external=True)
    return resp


@bp.patch("/seller/products/<int:product_id>")
@token_required(Role.seller_staff)
def patch_product(product_id: int):
    user = api_user()
    product = services.get_managed(db.session, user, product_id)  # another seller's: 404
    data = json_body()
    reject_unknown(data, PATCH_FIELDS)
    check_types(data, PATCH_TYPES)
    fields = {k for k in ("price", "stock", "description") if k in data}
    if fields:
        services.update_product(
            db.session, user, product,
            ProductInput(price=money_in(data["price"]) if "price" in data else None,
                         stock=data.get("stock"), description=data.get("description"),
                         provided=fields),
            price_in_fen=True)
    if "status" in data:
        services.change_status(db.session, user, product, data["status"])
    db.session.commit()
    return jsonify(managed_product(product))
