"""The OpenAPI document's schemas (components.schemas): money, products, orders, payments,
errors. api.openapi writes the paths with them."""
from __future__ import annotations

from marketplace.catalog.services import MAX_STOCK


def ref(name: str) -> dict:
    """A JSON reference to one of the schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def schemas() -> dict:
    """components.schemas of the OpenAPI document (api.openapi): the shapes every route's
    request and response bodies are made of."""
    money = {
        "type": "object", "required": ["amount", "currency"], "additionalProperties": False,
        "description": "An amount of money in integer fen (1/100 yuan). 1250 is ¥12.50.",
        "properties": {"amount": {"type": "integer"},
                       "currency": {"type": "string", "const": "CNY"}},
    }
    price_in = {
        "description": "A price as a Money object in integer fen, 1 to 9,999,999 (¥99,999.99). "
                       "Bare numbers, floats and strings are refused.",
        "allOf": [ref("Money")],
    }
    image = {"type": "object", "required": ["url", "thumb_url", "width", "height"],
             "properties": {"url": {"type": "string", "format": "uri"},
                            "thumb_url": {"type": "string", "format": "uri"},
                            "width": {"type": "integer"}, "height": {"type": "integer"}}}
    item_props = {
        "id": {"type": "integer"},
        "sku": {"type": "string"},
        "name": {"type": "string"},
        "spec": {"type": "string", "description": "e.g. 250g/罐"},
        "price": ref("Money"),
        "stock": {"type": "integer", "minimum": 0,
                  "description": "The units free to buy now: what the seller has on hand less "
                                 "the units unpaid orders hold."},
        "category": ref("CategoryRef"),
        "seller": ref("SellerRef"),
        "origin": ref("Origin"),
        "certified": {"type": "boolean",
                      "description": "A checked, unexpired poverty-alleviation certificate."},
        "url": {"type": "string", "format": "uri", "description": "The product's web page."},
        "households_share_bp": {
            "type": "integer", "minimum": 0, "maximum": 10000,
            "description": "The households' share of the goods amount (shipping excluded), in "
                           "basis points (3000 is 30%): the product's own, else its seller's. "
                           "Paid lines keep the share they were paid with."},
        "households_share_estimate": {
            "allOf": [ref("Money")],
            "description": "What one unit paid now gives households: floor(price x share / "
                           "10000), the amount posting credits for a product without supply "
                           "lots (0 when its seller has no households to give to). For a "
                           "lot-backed product (an enterprise's, or a cooperative's that says "
                           "so) an estimate from the lots held now: 0 when none hold a unit."},
    }
    detail_props = {
        "description": {"type": "string"},
        "images": {"type": "array", "items": image},
        "beneficiary_count": {
            "type": "integer", "minimum": 0,
            "description": "Households the product helps: 1 for a household shop, the member "
                           "households of a cooperative; for a product attributed through "
                           "supply lots (an enterprise's, or a cooperative's that says so), the "
                           "households whose lots still hold units."},
        "certificate": {"oneOf": [{"type": "null"}, {
            "type": "object", "properties": {
                "number": {"type": "string"},
                "valid_until": {"type": ["string", "null"], "format": "date"}}}]},
    }
    managed_props = {
        "on_hand": {"type": "integer", "minimum": 0,
                    "description": "The units the seller has on hand (what PATCH stock sets): "
                                   "on_hand = stock + held."},
        "held": {"type": "integer", "minimum": 0,
                 "description": "The units unpaid orders hold; they go back to stock when an "
                                "order expires or is cancelled, and leave on_hand when it is "
                                "paid."},
        "status": {"type": "string",
                   "enum": ["draft", "pending", "listed", "rejected", "delisted"]},
        "review_note": {"type": "string", "description": "Why a reviewer rejected it."},
        "certificate_no": {"type": "string"},
        "certificate_valid_until": {"type": ["string", "null"], "format": "date"},
    }
    order_line = {"type": "object", "properties": {
        "product_id": {"type": "integer"}, "name": {"type": "string"},
        "spec": {"type": "string"}, "quantity": {"type": "integer"},
        "unit_price": ref("Money"), "amount": ref("Money")}}
    order = {
        "type": "object",
        "required": ["id", "number", "seller", "status", "total", "lines", "reserved_until"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string", "description": "Readable and unique: date, checkout, "
                                                        "position."},
            "seller": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "kind": {"type": "string"}}},
            "status": {"type": "string", "enum": ["pending_payment", "paid", "shipped",
                                                  "received", "completed", "cancelled"]},
            "channel": {"type": "string"},
            "goods": ref("Money"), "shipping": ref("Money"), "total": ref("Money"),
            "paid": ref("Money"), "refunded": ref("Money"),
            "lines": {"type": "array", "items": order_line},
            "reserved_until": {"type": ["string", "null"], "format": "date-time",
                               "description": "Stock is held until then while unpaid."},
            "address": {"type": "object"},
            "created_at": {"type": "string", "format": "date-time"},
            "paid_at": {"type": ["string", "null"], "format": "date-time"},
            "unit_id": {"type": ["integer", "null"],
                        "description": "The unit it counts toward, if any."},
            "purpose": {"type": ["string", "null"], "enum": ["welfare", "condolence", None]},
            "event_id": {"type": ["integer", "null"],
                         "description": "The fair or live-sale event it was placed from (or, "
                                        "offline, sold at), if any."}}}
    order_create = {
        "type": "object", "required": ["lines", "idempotency_key"],
        "additionalProperties": False,
        "description": "address is required except for a unit_purchase (the unit's address).",
        "properties": {
            "lines": {"type": "array", "minItems": 1, "maxItems": 50, "items": {
                "type": "object", "required": ["product_id", "quantity"],
                "properties": {"product_id": {"type": "integer"},
                               "quantity": {"type": "integer", "minimum": 1,
                                            "maximum": 999}}}},
            "address": {"type": "object",
                        "required": ["recipient", "mobile", "region_code", "detail"],
                        "properties": {
                            "recipient": {"type": "string"},
                            "mobile": {"type": "string", "description": "Mainland mobile."},
                            "region_code": {"type": "string",
                                            "description": "GB/T 2260, county or below "
                                                           "(anywhere in the country: see "
                                                           "/api/v1/regions)."},
                            "detail": {"type": "string"}}},
            "channel": {"type": "string",
                        "enum": ["individual", "unit_member", "unit_purchase"],
                        "default": "individual",
                        "description": "unit_member: a member counts the order toward one of "
                                       "their verified units; unit_purchase: a unit's admin "
                                       "buys for it (without an address, to the unit's). "
                                       "Both need unit_id: 404 for a unit one cannot see, "
                                       "422 rule_broken for one not verified or when the "
                                       "caller is not its member (admin for unit_purchase); "
                                       "nothing is written then."},
            "unit_id": {"type": ["integer", "null"],
                        "description": "The unit the order counts toward (unit channels)."},
            "purpose": {"type": "string", "enum": ["", "welfare", "condolence"],
                        "description": "A union's unit_purchase: welfare (福利) or "
                                       "condolence (慰问)."},
            "event_id": {"type": ["integer", "null"],
                         "description": "Placed from a fair or live-sale event's page "
                                        "(GET /api/v1/events): a published event under way; "
                                        "the orders of its featured sellers, and those "
                                        "holding one of its featured products, carry it. "
                                        "422 event_unavailable for any other event; not "
                                        "with the unit channels."},
            "idempotency_key": {"type": "string", "minLength": 8, "maxLength": 64,
                                "description": "The same key and request again answers the "
                                               "same orders; with another request, 409."}}}
    return {
        "Order": order,
        "OrderCreate": order_create,
        "OrderList": {"type": "object", "required": ["orders"], "properties": {
            "orders": {"type": "array", "items": ref("Order")}}},
        "PaymentResult": {"type": "object", "properties": {
            "order": ref("Order"), "test_mode": {"type": "boolean"},
            "payment": {"type": "object", "properties": {
                "provider": {"type": "string"},
                "status": {"type": "string", "enum": ["succeeded", "refund_due", "refunded"],
                           "description": "refund_due, then refunded: money the order could "
                                          "not take, paid back through its provider"},
                "reason": {"type": "string", "description": "Why it goes back: already_paid, "
                           "amount_mismatch, cancelled or sold_out; empty when succeeded."},
                "amount": ref("Money")}}}},
        "Money": money,
        "PriceInput": price_in,
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "description": "snake_case, e.g. not_found, "
                             "validation_failed, unauthorized, forbidden, duplicate"},
                    "message": {"type": "string", "description": "Human text (Chinese)."},
                    "details": {"type": "object", "description": "For bad input: "
                                "{\"fields\": {\"<name>\": [\"<message>\", ...]}}."},
                }}},
        },
        "CategoryRef": {"type": "object", "required": ["slug", "name"],
                        "properties": {"slug": {"type": "string"}, "name": {"type": "string"},
                                       "name_en": {"type": "string"}}},
        "SellerRef": {"type": "object", "required": ["id", "name", "kind"],
                      "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                     "kind": {"type": "string", "enum": [
                                         "household_shop", "cooperative", "enterprise"]}}},
        "Origin": {"type": "object", "required": ["code", "name", "path_names"],
                   "description": "The village the product comes from (GB/T 2260 code).",
                   "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                  "path_names": {"type": "array",
                                                 "items": {"type": "string"}}}},
        "ProductItem": {"type": "object", "required": list(item_props),
                        "properties": item_props},
        "ProductDetail": {"allOf": [ref("ProductItem"), {
            "type": "object", "required": ["description", "images", "beneficiary_count"],
            "properties": detail_props}]},
        "ManagedProduct": {"allOf": [ref("ProductDetail"), {
            "type": "object", "required": ["status", "on_hand", "held"],
            "properties": managed_props}]},
        "ProductList": {"type": "object", "required": ["items", "total", "page", "per_page"],
                        "properties": {"items": {"type": "array", "items": ref("ProductItem")},
                                       "total": {"type": "integer"},
                                       "page": {"type": "integer"},
                                       "per_page": {"type": "integer"}}},
        "Category": {"allOf": [ref("CategoryRef"), {
            "type": "object", "required": ["product_count"],
            "properties": {"icon": {"type": "string"},
                           "product_count": {"type": "integer"}}}]},
        "CategoryList": {"type": "object", "required": ["items"],
                         "properties": {"items": {"type": "array", "items": ref("Category")}}},
        "Place": {"type": "object", "required": ["code", "name", "label", "level"],
                  "properties": {
                      "code": {"type": "string", "pattern": "^[0-9]{2,12}$"},
                      "name": {"type": "string", "description": "The GB/T 2260 name."},
                      "label": {"type": "string", "description":
                                "How it reads among its siblings in an address choice: its "
                                "name, but a municipality's 市辖区 is the municipality "
                                "(北京市) and its 县 重庆市（县）."},
                      "level": {"type": "string", "enum": [
                          "province", "city", "county", "township", "village"]}}},
        "PlaceList": {"type": "object", "required": ["items"],
                      "properties": {"items": {"type": "array", "items": ref("Place")}}},
        "TokenRequest": {"type": "object", "required": ["login", "password"],
                         "properties": {"login": {"type": "string", "description":
                                                  "E-mail address or mainland mobile number."},
                                        "password": {"type": "string"}}},
        "TokenResponse": {
            "type": "object", "required": ["token", "user"],
            "properties": {
                "token": {"type": "string"}, "token_type": {"type": "string", "const": "Bearer"},
                "expires_in": {"type": "integer", "description": "Seconds."},
                "user": {"type": "object", "required": ["id", "roles"], "properties": {
                    "id": {"type": "integer"},
                    "roles": {"type": "array", "items": {"type": "string"}}}}}},
        "ProductCreate": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "category", "price", "stock", "origin_code"],
            "properties": {
                "seller_id": {"type": "integer", "description":
                              "Required when the caller staffs several sellers."},
                "name": {"type": "string", "minLength": 2, "maxLength": 100},
                "category": {"type": "string", "description": "A category slug."},
                "spec": {"type": "string", "maxLength": 64},
                "description": {"type": "string", "maxLength": 5000},
                "price": ref("PriceInput"),
                "stock": {"type": "integer", "minimum": 0, "maximum": MAX_STOCK,
                          "description": "The units on hand."},
                "origin_code": {"type": "string", "description": "12-digit village code."},
                "certificate_no": {"type": "string", "maxLength": 64},
                "certificate_valid_until": {"type": ["string", "null"], "format": "date"},
                "submit": {"type": "boolean", "default": False, "description":
                           "true: submit for review at once (status pending); else draft."},
            }},
        "ProductPatch": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "price": ref("PriceInput"),
                "stock": {"type": "integer", "minimum": 0, "maximum": MAX_STOCK,
                          "description": "The units on hand (what the seller holds, counting "
                                         "those unpaid orders hold); the free units (the "
                                         "response's stock) become this less held. Fewer "
                                         "than held is refused (400, details.fields.stock)."},
                "description": {"type": "string", "maxLength": 5000},
                "status": {"type": "string", "enum": ["pending", "delisted", "listed"],
                           "description": "pending submits for review, delisted takes it off "
                                          "sale; listed is for platform admins."},
            }},
        **filing_schemas(),
    }


def filing_schemas() -> dict:
    """A budget unit's annual filing (api.filings)."""
    return {
        "FilingInput": {
            "type": "object", "additionalProperties": False, "required": ["year"],
            "description": "One of: canteen_spend with reserved_share_bp; no_canteen: true; "
                           "shared_with_unit_id.",
            "properties": {
                "year": {"type": "integer", "minimum": 2021, "maximum": 2100},
                "canteen_spend": {"allOf": [ref("Money")], "description":
                                  "The year's canteen food spend, more than 0."},
                "reserved_share_bp": {"type": "integer", "minimum": 0, "maximum": 10000,
                                      "description": "Reserved share in basis points (1500 "
                                                     "is 15%), at least the region's minimum."},
                "no_canteen": {"type": "boolean", "description": "true: no canteen, no quota."},
                "shared_with_unit_id": {"type": "integer", "minimum": 1, "description":
                                        "The verified budget unit whose canteen this one "
                                        "shares (it files; no quota here)."}}},
        "FilingReview": {
            "type": "object", "additionalProperties": False, "required": ["decision"],
            "properties": {
                "decision": {"type": "string", "enum": ["approve", "send_back"]},
                "reason": {"type": "string", "maxLength": 200,
                           "description": "Required (2-200 characters) to send back."}}},
        "Filing": {
            "type": "object",
            "required": ["id", "unit_id", "year", "status", "no_canteen", "canteen_spend",
                         "reserved_share_bp", "reserved", "counted"],
            "properties": {
                "id": {"type": "integer"}, "unit_id": {"type": "integer"},
                "year": {"type": "integer"},
                "status": {"type": "string", "enum": ["pending", "sent_back", "approved"]},
                "no_canteen": {"type": "boolean"},
                "shared_with_unit_id": {"type": ["integer", "null"]},
                "canteen_spend": ref("Money"),
                "reserved_share_bp": {"type": "integer", "minimum": 0, "maximum": 10000},
                "reserved": {"allOf": [ref("Money")], "description":
                             "canteen_spend x share, rounded up to the fen; fixed once "
                             "approved."},
                "counted": {"allOf": [ref("Money")], "description":
                            "What the unit's orders paid in the year, net of refunds."},
                "progress_bp": {"type": ["integer", "null"], "description":
                                "counted / reserved in basis points; null without a reserved "
                                "amount."},
                "reason": {"type": "string", "description": "Why it was sent back."},
                "deadline": {"type": "string", "format": "date"}}},
    }
