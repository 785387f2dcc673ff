"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of this API.

Written by hand so that it can say what each route means; tests/api/test_openapi.py walks the
app's URL map and fails when a /api/v1 route or method is missing here.
"""
from __future__ import annotations

from flask import jsonify

from marketplace.api import bp
from marketplace.api.campaign_docs import paths as _campaign_paths
from marketplace.api.campaign_docs import schemas as _campaign_schemas
from marketplace.api.events import openapi_paths as _event_paths
from marketplace.api.events import openapi_schemas as _event_schemas
from marketplace.api.needs import openapi_paths as _need_paths
from marketplace.api.needs import openapi_schemas as _need_schemas
from marketplace.api.offline_sales import openapi_paths as _offline_paths
from marketplace.api.offline_sales import openapi_schemas as _offline_schemas
from marketplace.api.pool import openapi_paths as _pool_paths
from marketplace.api.pool import openapi_schemas as _pool_schemas
from marketplace.api.report_docs import paths as _report_paths
from marketplace.api.report_docs import schemas as _report_schemas
from marketplace.api.schemas import ref as _ref
from marketplace.api.schemas import schemas as _schemas
from marketplace.api.units import openapi_paths as _unit_paths
from marketplace.api.units import openapi_schemas as _unit_schemas
from marketplace.catalog.filters import MAX_PER_PAGE, Sort
from marketplace.core.pager import MAX_PAGE


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
FILING_ID = {"name": "filing_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1}}


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
                          **_errors(400, 401, 404, 409, 422)}}},
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
        "/api/v1/units/{unit_id}/filings": {"post": {
            "tags": ["filings"], "operationId": "fileUnitFiling", "security": SECURED,
            "summary": "A budget unit's annual filing (its unit admins): canteen spend and "
                       "reserved share, or no canteen, or a canteen shared with another unit",
            "description": "Exactly one of: canteen_spend with reserved_share_bp (at least the "
                           "minimum of the unit's region: 422 below_minimum with "
                           "details.minimum_bp), no_canteen: true, or shared_with_unit_id (a "
                           "verified budget unit: 422 shared_unit_invalid otherwise). Filings "
                           "for a year open on 1 October of the year before (422 "
                           "filing_not_open). Filing again while pending or sent back replaces "
                           "it (200); an approved filing is fixed (422 filing_fixed). 404 for a "
                           "unit the caller does not administer.",
            "parameters": [{"name": "unit_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1}}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("FilingInput")}}},
            "responses": {"201": _json(_ref("Filing"), "The new filing (pending review)."),
                          "200": _json(_ref("Filing"), "The filing, filed again (pending)."),
                          **_errors(400, 401, 403, 404, 409, 422)}}},
        "/api/v1/filings/{filing_id}": {"get": {
            "tags": ["filings"], "operationId": "getFiling", "security": SECURED,
            "summary": "A filing with the unit's counted amount and progress (the unit's "
                       "members, the office over it, platform admins; 404 for others)",
            "parameters": [FILING_ID],
            "responses": {"200": _json(_ref("Filing"), "The filing."),
                          **_errors(401, 404)}}},
        "/api/v1/filings/{filing_id}/review": {"post": {
            "tags": ["filings"], "operationId": "reviewFiling", "security": SECURED,
            "summary": "Approve a pending filing (its reserved amount is fixed) or send it back "
                       "with a reason (the office over the unit, platform admins)",
            "description": "send_back needs a reason of 2-200 characters. 409 not_pending when "
                           "the filing is not pending; 404 for anyone else.",
            "parameters": [FILING_ID],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("FilingReview")}}},
            "responses": {"200": _json(_ref("Filing"), "The filing after the decision."),
                          **_errors(400, 401, 404, 409, 422)}}},
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
        "tags": [{"name": "auth"}, {"name": "catalogue"}, {"name": "regions"}, {"name": "units"},
                 {"name": "seller"}, {"name": "orders"}, {"name": "households"}, {"name": "filings"},
                 {"name": "needs"},
                 {"name": "campaigns"}, {"name": "reports"}, {"name": "events"}, {"name": "pool"}, {"name": "meta"}],
        "paths": {**paths, **_campaign_paths(),
                  **_unit_paths(_json, _errors, _query, _ref, SECURED),
                  **_offline_paths(_json, _errors, _ref, SECURED),
                  **_need_paths(_json, _errors, _query, _ref, SECURED),
                  **_pool_paths(_json, _errors, _query, _ref, SECURED),
                  **_event_paths(_json, _errors, _query),
                  **_report_paths(_json, _errors, _query, _ref, SECURED)},
        "components": {
            "schemas": {**_schemas(), **_campaign_schemas(), **_unit_schemas(_ref),
                        **_need_schemas(_ref),
                        **_offline_schemas(_ref), **_event_schemas(), **_report_schemas(_ref),
                        **_pool_schemas(_ref)},
            "responses": {f"E{s}": _json(_ref("Error"), text) for s, text in ERROR_TEXT.items()},
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A token from POST /api/v1/auth/token."}},
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())
