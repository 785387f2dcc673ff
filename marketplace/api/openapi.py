"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of this API.

Written by hand so that it can say what each route means; tests/api/test_openapi.py walks the
app's URL map and fails when a /api/v1 route or method is missing here.
"""
from __future__ import annotations

from flask import jsonify

from marketplace.api import bp
from marketplace.catalog.filters import MAX_PER_PAGE, Sort
from marketplace.catalog.services import MAX_STOCK
from marketplace.core.pager import MAX_PAGE


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


ERROR_TEXT = {
    400: "Bad input: not JSON, wrong types, or invalid values (code validation_failed or "
         "invalid_json; details.fields names each bad field or query argument).",
    401: "Missing, invalid or expired bearer token, or wrong credentials.",
    403: "Authenticated, but the caller's roles do not reach this area.",
    404: "No such object, or one the caller may not see.",
    405: "The path exists but not with this method.",
    409: "Conflict: a duplicate, or a status change not allowed from the current status.",
    422: "Well formed, but a business rule forbids it.",
    429: "Too many failed sign-ins for this login or from this address (code "
         "too_many_attempts): details.until is when it may try again (ISO 8601), also given "
         "in seconds by the Retry-After header.",
    502: "The payment provider could not be reached or refused (code provider_unavailable); "
         "nothing was done, try again later.",
}

PRODUCT_ID = {"name": "product_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1}}
ORDER_ID = {"name": "order_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1}}
SECURED = [{"bearerAuth": []}]


def _schemas() -> dict:
    money = {
        "type": "object", "required": ["amount", "currency"], "additionalProperties": False,
        "description": "An amount of money in integer fen (1/100 yuan). 1250 is ¥12.50.",
        "properties": {"amount": {"type": "integer"},
                       "currency": {"type": "string", "const": "CNY"}},
    }
    price_in = {
        "description": "A price as a Money object in integer fen, 1 to 9,999,999 (¥99,999.99). "
                       "Bare numbers, floats and strings are refused.",
        "allOf": [_ref("Money")],
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
        "price": _ref("Money"),
        "stock": {"type": "integer", "minimum": 0,
                  "description": "The units free to buy now: what the seller has on hand less "
                                 "the units unpaid orders hold."},
        "category": _ref("CategoryRef"),
        "seller": _ref("SellerRef"),
        "origin": _ref("Origin"),
        "certified": {"type": "boolean",
                      "description": "A checked, unexpired poverty-alleviation certificate."},
        "url": {"type": "string", "format": "uri", "description": "The product's web page."},
        "households_share_bp": {
            "type": "integer", "minimum": 0, "maximum": 10000,
            "description": "The households' share of the goods amount (shipping excluded), in "
                           "basis points (3000 is 30%): the product's own, else its seller's. "
                           "Paid lines keep the share they were paid with."},
        "households_share_estimate": {
            "allOf": [_ref("Money")],
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
        "unit_price": _ref("Money"), "amount": _ref("Money")}}
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
            "goods": _ref("Money"), "shipping": _ref("Money"), "total": _ref("Money"),
            "paid": _ref("Money"), "refunded": _ref("Money"),
            "lines": {"type": "array", "items": order_line},
            "reserved_until": {"type": ["string", "null"], "format": "date-time",
                               "description": "Stock is held until then while unpaid."},
            "address": {"type": "object"},
            "created_at": {"type": "string", "format": "date-time"},
            "paid_at": {"type": ["string", "null"], "format": "date-time"}}}
    order_create = {
        "type": "object", "required": ["lines", "address", "idempotency_key"],
        "additionalProperties": False,
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
            "channel": {"type": "string", "enum": ["individual"],
                        "description": "Unit and group channels come with units."},
            "unit_id": {"type": ["integer", "null"]},
            "idempotency_key": {"type": "string", "minLength": 8, "maxLength": 64,
                                "description": "The same key and request again answers the "
                                               "same orders; with another request, 409."}}}
    return {
        "Order": order,
        "OrderCreate": order_create,
        "OrderList": {"type": "object", "required": ["orders"], "properties": {
            "orders": {"type": "array", "items": _ref("Order")}}},
        "PaymentResult": {"type": "object", "properties": {
            "order": _ref("Order"), "test_mode": {"type": "boolean"},
            "payment": {"type": "object", "properties": {
                "provider": {"type": "string"},
                "status": {"type": "string", "enum": ["succeeded", "refund_due", "refunded"],
                           "description": "refund_due, then refunded: money the order could "
                                          "not take, paid back through its provider"},
                "reason": {"type": "string", "description": "Why it goes back: already_paid, "
                           "amount_mismatch, cancelled or sold_out; empty when succeeded."},
                "amount": _ref("Money")}}}},
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
        "ProductDetail": {"allOf": [_ref("ProductItem"), {
            "type": "object", "required": ["description", "images", "beneficiary_count"],
            "properties": detail_props}]},
        "ManagedProduct": {"allOf": [_ref("ProductDetail"), {
            "type": "object", "required": ["status", "on_hand", "held"],
            "properties": managed_props}]},
        "ProductList": {"type": "object", "required": ["items", "total", "page", "per_page"],
                        "properties": {"items": {"type": "array", "items": _ref("ProductItem")},
                                       "total": {"type": "integer"},
                                       "page": {"type": "integer"},
                                       "per_page": {"type": "integer"}}},
        "Category": {"allOf": [_ref("CategoryRef"), {
            "type": "object", "required": ["product_count"],
            "properties": {"icon": {"type": "string"},
                           "product_count": {"type": "integer"}}}]},
        "CategoryList": {"type": "object", "required": ["items"],
                         "properties": {"items": {"type": "array", "items": _ref("Category")}}},
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
                      "properties": {"items": {"type": "array", "items": _ref("Place")}}},
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
                "price": _ref("PriceInput"),
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
                "price": _ref("PriceInput"),
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
    }


def document() -> dict:
    list_params = [
        _query("q", {"type": "string", "maxLength": 200}, "Words in name, description or "
               "seller name (substring match)."),
        _query("category", {"type": "string"}, "Category slug."),
        _query("region", {"type": "string", "pattern": "^[0-9]+$"},
               "Region code; matches the whole subtree (a county finds its villages)."),
        _query("seller", {"type": "integer"}, "Seller id."),
        _query("min_price", {"type": "integer", "minimum": 0}, "Lowest price, in fen."),
        _query("max_price", {"type": "integer", "minimum": 0}, "Highest price, in fen."),
        _query("in_stock", {"type": "boolean"},
               "Only products with free units (stock > 0; 1/true)."),
        _query("sort", {"type": "string", "enum": [s.value for s in Sort],
                        "default": "relevance"}, "Order of the results."),
        _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
               "Page number."),
        _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                            "default": 24}, "Items per page."),
    ]
    paths = {
        "/api/v1/auth/token": {"post": {
            "tags": ["auth"], "operationId": "issueToken", "summary": "Get a bearer token",
            "description": "After 10 failed sign-ins within 15 minutes (the defaults) for a "
                           "login, or from one client address, it waits (429 "
                           "too_many_attempts with details.until) until the oldest of them "
                           "leaves the window; a platform admin may lift the wait. The token "
                           "carries nothing of the password and ends when its user "
                           "signs out, changes the password, loses a role or signs out "
                           "everywhere, and after expires_in seconds.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("TokenRequest")}}},
            "responses": {"200": _json(_ref("TokenResponse"), "A token and who it names."),
                          **_errors(400, 401, 429)}}},
        "/api/v1/products": {"get": {
            "tags": ["catalogue"], "operationId": "listProducts",
            "summary": "Listed products of verified sellers, filtered, sorted and paged",
            "parameters": list_params,
            "responses": {"200": _json(_ref("ProductList"), "One page of products."),
                          **_errors(400)}}},
        "/api/v1/products/{product_id}": {"get": {
            "tags": ["catalogue"], "operationId": "getProduct", "summary": "One product",
            "parameters": [PRODUCT_ID],
            "responses": {"200": _json(_ref("ProductDetail"), "The product."),
                          **_errors(404)}}},
        "/api/v1/categories": {"get": {
            "tags": ["catalogue"], "operationId": "listCategories",
            "summary": "Categories with their numbers of visible products",
            "responses": {"200": _json(_ref("CategoryList"), "Every category.")}}},
        "/api/v1/regions": {"get": {
            "tags": ["regions"], "operationId": "listProvinces",
            "summary": "The provinces (省级), first step of an address choice",
            "responses": {"200": _json(_ref("PlaceList"), "Every province, by code.")}}},
        "/api/v1/regions/{code}/children": {"get": {
            "tags": ["regions"], "operationId": "listRegionChildren",
            "summary": "One level down: a province's cities, a city's counties (区县), ...",
            "description": "The national list of provinces, cities and counties (GB/T 2260); "
                           "townships and villages only where households are registered. "
                           "An order's address takes a county's code (or a place below it).",
            "parameters": [{"name": "code", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": _json(_ref("PlaceList"), "Its children, by code."),
                          **_errors(404)}}},
        "/api/v1/seller/products": {"post": {
            "tags": ["seller"], "operationId": "createProduct", "security": SECURED,
            "summary": "Create a product (draft, or pending review with submit: true)",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("ProductCreate")}}},
            "responses": {"201": _json(_ref("ManagedProduct"), "The new product."),
                          **_errors(400, 401, 403, 404, 409, 422)}}},
        "/api/v1/seller/products/{product_id}": {"patch": {
            "tags": ["seller"], "operationId": "updateProduct", "security": SECURED,
            "summary": "Change price, stock, description or status of one's own product",
            "description": "A description change of a listed product sends it back for "
                           "review; price and stock changes do not. stock sets the units on "
                           "hand; the units unpaid orders hold are counted against it, so the "
                           "free units (the response's stock) are on hand - held, and a stock "
                           "below held is refused with 400. Another seller's product answers "
                           "404.",
            "parameters": [PRODUCT_ID],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("ProductPatch")}}},
            "responses": {"200": _json(_ref("ManagedProduct"), "The product after the change."),
                          **_errors(400, 401, 403, 404, 409, 422)}}},
        "/api/v1/orders": {"post": {
            "tags": ["orders"], "operationId": "createOrders", "security": SECURED,
            "summary": "Check out: one order per seller, stock reserved for the payment window",
            "description": "409 insufficient_stock names every short line in details.lines "
                           "and reserves nothing; 409 idempotency_key_reused when the key was "
                           "used for another request.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("OrderCreate")}}},
            "responses": {"201": _json(_ref("OrderList"), "The orders (the same ones again "
                                                          "for a repeated key)."),
                          **_errors(400, 401, 409, 422)}}},
        "/api/v1/orders/{order_id}": {"get": {
            "tags": ["orders"], "operationId": "getOrder", "security": SECURED,
            "summary": "One order: its buyer, its seller's staff and admins; 404 for others",
            "parameters": [ORDER_ID],
            "responses": {"200": _json(_ref("Order"), "The order."), **_errors(401, 404)}}},
        "/api/v1/orders/{order_id}/impact": {"get": {
            "tags": ["orders"], "operationId": "getOrderImpact", "security": SECURED,
            "summary": "Whom a paid order helped: the households reached (masked names, their "
                       "village) and the amount each holds from it now (after refunds)",
            "parameters": [ORDER_ID],
            "responses": {"200": _json({"type": "object", "properties": {
                "order_id": {"type": "integer"}, "attributable": _ref("Money"),
                "households": {"type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string", "description": "the household's code"},
                    "display_name": {"type": "string", "description": "masked, e.g. 张*明"},
                    "village": {"type": "string"}, "amount": _ref("Money")}}}}},
                "The order's impact."), **_errors(401, 404)}}},
        "/api/v1/orders/{order_id}/payments": {"post": {
            "tags": ["orders"], "operationId": "payOrder", "security": SECURED,
            "summary": "Pay an order: simulated pays at once (test mode); stripe answers a "
                       "redirect_url to Stripe Checkout (when enabled)",
            "description": "Idempotent: paying a paid order again answers it unchanged. An "
                           "order whose window passed takes its stock again if there is "
                           "enough; otherwise the payment is recorded and paid back "
                           "(payment.status refunded, payment.reason sold_out; likewise "
                           "cancelled). 422 provider_unavailable when the provider is not "
                           "enabled; 502 provider_unavailable when Stripe cannot be reached.",
            "parameters": [ORDER_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "provider": {"type": "string", "enum": ["simulated", "stripe"]}}}}}},
            "responses": {"200": _json(_ref("PaymentResult"), "The order after payment."),
                          **_errors(400, 401, 403, 404, 409, 422, 502)}}},
        "/api/v1/orders/{order_id}/refunds": {"post": {
            "tags": ["orders"], "operationId": "refundOrder", "security": SECURED,
            "summary": "Give money back for an order (its seller's staff, admins)",
            "description": "amount for a partial refund; without it, all that is left. Never "
                           "more than paid minus refunded (422 refund_exceeds_paid). A full "
                           "refund of an order not yet shipped cancels it.",
            "parameters": [ORDER_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "properties": {
                    "amount": _ref("Money"), "reason": {"type": "string"}}}}}},
            "responses": {"201": _json({"type": "object", "properties": {
                "order": _ref("Order"), "refund": {"type": "object"}}}, "The refund."),
                **_errors(400, 401, 403, 404, 409, 422, 502)}}},
        "/api/v1/households/{code}/statement": {"get": {
            "tags": ["households"], "operationId": "getHouseholdStatement", "security": SECURED,
            "summary": "A household's income statement for a period: its liaison, the offices "
                       "over it and admins; 404 for anyone else and for unknown codes",
            "description": "Entries of the attribution ledger whose China date is in from..to "
                           "(both included; either may be left out), in ledger order, with the "
                           "balance before the period (opening), the running total after each "
                           "entry, the period's totals and the closing balance. Reversals "
                           "(refunds) have negative amounts.",
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
                _query("from", {"type": "string", "format": "date"}, "First day, YYYY-MM-DD"),
                _query("to", {"type": "string", "format": "date"}, "Last day, YYYY-MM-DD")],
            "responses": {"200": _json({"type": "object", "properties": {
                "household": {"type": "object", "properties": {
                    "code": {"type": "string"},
                    "display_name": {"type": "string", "description": "masked, e.g. 张*明"},
                    "village": {"type": "string"}}},
                "from": {"type": ["string", "null"], "format": "date"},
                "to": {"type": ["string", "null"], "format": "date"},
                "opening": _ref("Money"),
                "entries": {"type": "array", "items": {"type": "object", "properties": {
                    "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                    "order_number": {"type": "string"}, "product": {"type": "string"},
                    "seller": {"type": "string"}, "channel": {"type": "string"},
                    "kind": {"type": "string", "enum": ["sale", "reversal"]},
                    "amount": _ref("Money"), "running_total": _ref("Money")}}},
                "totals": {"type": "object", "properties": {
                    "sales": _ref("Money"), "reversals": _ref("Money"), "net": _ref("Money"),
                    "count": {"type": "integer"}}},
                "closing": _ref("Money")}}, "The statement."), **_errors(400, 401, 404)}}},
        "/api/v1/openapi.json": {"get": {
            "tags": ["meta"], "operationId": "openapi", "summary": "This document",
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {"application/json": {
                                      "schema": {"type": "object"}}}}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "帮扶集市 API (consumption-based poverty alleviation marketplace)",
            "version": "1.0.0",
            "description": "JSON in and out, UTF-8. Money is integer fen "
                           "({\"amount\": 1250, \"currency\": \"CNY\"} is ¥12.50). Errors are "
                           "{\"error\": {\"code\", \"message\", \"details\"}}. Authenticate "
                           "with POST /api/v1/auth/token, then send "
                           "\"Authorization: Bearer <token>\".",
        },
        "tags": [{"name": "auth"}, {"name": "catalogue"}, {"name": "regions"},
                 {"name": "seller"}, {"name": "orders"}, {"name": "households"}, {"name": "meta"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "responses": {f"E{s}": _json(_ref("Error"), text) for s, text in ERROR_TEXT.items()},
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A token from POST /api/v1/auth/token."}},
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())
