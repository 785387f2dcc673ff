"""POST /api/v1/seller/offline-sales: a seller's staff record a sale made at a fair or a market
(payments.offline): an order of channel offline, paid, posted to the ledger. Its part of the
OpenAPI document is `openapi_paths` and `openapi_schemas` (api.openapi takes them in)."""
from __future__ import annotations

from flask import jsonify, url_for

from marketplace.accounts.models import Role
from marketplace.api import bp
from marketplace.api.common import (
    api_user,
    check_types,
    json_body,
    money_in,
    reject_unknown,
    token_required,
)
from marketplace.api.orders import order_json
from marketplace.api.seller_products import _seller_for as seller_for
from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.extensions import db
from marketplace.help.events import tags as event_tags
from marketplace.orders import offline
from marketplace.orders.models import Order
from marketplace.payments import offline as recording

SALE_TYPES = {"seller_id": "integer", "sold_on": "string", "place": "string",
              "lines": "array", "payment_method": "string", "receipt_no": "string"}
LINE_FIELDS = {"product_id", "quantity", "unit_price"}


def offline_sale_json(order: Order) -> dict:
    """The order as api.orders shows it, with what the seller recorded of the sale."""
    return {**order_json(order), "offline": {
        "sold_on": order.sold_on.isoformat() if order.sold_on else None, "place": order.place,
        "receipt_no": order.receipt_no,
        "payment_method": str(offline.METHOD_OF_PROVIDER.get(order.payment_method, ""))}}


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _lines(value: list) -> list[offline.OfflineLine]:
    out = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - LINE_FIELDS or not LINE_FIELDS <= set(item):
            shape = Msg('第 %(n)s 行应为 {"product_id", "quantity", "unit_price"}', n=n)
            raise ValidationFailed(shape, field="lines")
        if not (_int(item["product_id"]) and _int(item["quantity"])):
            raise ValidationFailed(Msg("第 %(n)s 行的 product_id 和 quantity 应为整数", n=n),
                                   field="lines")
        out.append(offline.OfflineLine(item["product_id"], item["quantity"],
                                       money_in(item["unit_price"], field="lines")))
    return out


@bp.post("/seller/offline-sales")
@token_required(Role.seller_staff)
def record_offline_sale():
    user = api_user()
    data = json_body()
    reject_unknown(data, set(SALE_TYPES) | {"event_id"})
    check_types(data, SALE_TYPES)
    event_id = data.get("event_id")
    if event_id is not None and not _int(event_id):
        raise ValidationFailed("event_id 应为整数或 null", field="event_id")
    seller = seller_for(user, data.get("seller_id"))
    event = event_tags.offline_event(db.session, event_id)
    done = recording.record(db.session, user, seller, offline.OfflineSaleInput(
        sold_on=data.get("sold_on"), place=data.get("place", ""),
        lines=_lines(data.get("lines") or []), payment_method=data.get("payment_method", ""),
        receipt_no=data.get("receipt_no", ""), event_id=event))
    body = offline_sale_json(done.order)
    db.session.commit()
    resp = jsonify(body)
    resp.status_code = 201 if done.created else 200
    resp.headers["Location"] = url_for("api.get_order", order_id=done.order.id, _external=True)
    return resp


# ---- the OpenAPI document --------------------------------------------------------------------

def openapi_paths(json, errors, ref, secured) -> dict:
    return {"/api/v1/seller/offline-sales": {"post": {
        "tags": ["seller"], "operationId": "recordOfflineSale", "security": secured,
        "summary": "Record a sale made at a fair or a market: an order of channel "
                   "offline, paid, its households' income posted to the ledger",
        "description": "Seller staff (of the seller; platform admins for any, with seller_id). "
                       "The order is made paid (payment provider offline_cash or "
                       "offline_transfer) and handed over (status received); its units leave "
                       "the products' stock (409 insufficient_stock names every short line). "
                       f"sold_on: not after today (China), at most {offline.MAX_AGE_DAYS} days "
                       "before. Only the seller's listed or delisted products. The unit price may "
                       "differ from the catalogue price. receipt_no is unique per seller: the "
                       "same receipt again with every field identical answers the order recorded "
                       "the first time (200, nothing written); with any field different 409 "
                       "receipt_no_taken. event_id (optional): a published fair or live-sale "
                       "event (GET /api/v1/events) whose days (China) include sold_on; the order "
                       "carries it (422 event_unavailable for an unknown, draft or cancelled "
                       "event, 422 event_not_on_date otherwise). Nothing is written on any error; corrections are "
                       "refunds (POST /api/v1/orders/{order_id}/refunds), never edits.",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": ref("OfflineSaleCreate")}}},
        "responses": {"201": json(ref("OfflineSale"), "The new order."),
                      "200": json(ref("OfflineSale"), "The order recorded before for the same "
                                                      "sale under this receipt number."),
                      **errors(400, 401, 403, 404, 409, 422)}}}}


def openapi_schemas(ref) -> dict:
    return {
        "OfflineSaleCreate": {
            "type": "object", "additionalProperties": False,
            "required": ["sold_on", "place", "lines", "payment_method", "receipt_no"],
            "properties": {
                "seller_id": {"type": "integer", "description": "Needed only by staff of "
                                                                "several sellers and admins."},
                "sold_on": {"type": "string", "format": "date",
                            "description": "The China date of the sale, YYYY-MM-DD."},
                "place": {"type": "string", "minLength": 2, "maxLength": offline.PLACE_MAX,
                          "description": "The fair, market or event where it was sold."},
                "event_id": {"type": ["integer", "null"],
                             "description": "The published event the sale was made at."},
                "lines": {"type": "array", "minItems": 1, "maxItems": offline.MAX_LINES,
                          "items": {"type": "object", "additionalProperties": False,
                                    "required": ["product_id", "quantity", "unit_price"],
                                    "properties": {
                                        "product_id": {"type": "integer"},
                                        "quantity": {"type": "integer", "minimum": 1,
                                                     "maximum": offline.MAX_QUANTITY},
                                        "unit_price": ref("Money")}}},
                "payment_method": {"type": "string", "enum": ["cash", "transfer"]},
                "receipt_no": {"type": "string", "minLength": 1,
                               "maxLength": offline.RECEIPT_MAX,
                               "description": "The seller's receipt number, unique per "
                                              "seller, without spaces."}}},
        "OfflineSale": {"allOf": [ref("Order"), {"type": "object", "properties": {
            "offline": {"type": "object", "properties": {
                "sold_on": {"type": "string", "format": "date"},
                "place": {"type": "string"}, "receipt_no": {"type": "string"},
                "payment_method": {"type": "string", "enum": ["cash", "transfer"]}}}}}]},
    }
