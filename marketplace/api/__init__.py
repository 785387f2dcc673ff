"""The JSON API under /api/v1 (bearer tokens, JSON in and out; errors as JSON, never HTML).

Layer: an entry point, thin over the services of every domain; nothing imports it but the app.

- `common`: tokens, JSON bodies, money and error shapes; `openapi`: the OpenAPI document.
- one module per resource: `auth`, `products`, `categories`, `seller_products`, `orders`
  (checkout, payments through `payments.capture`, refunds, impact), `households`, `regions`
  (the tree one level at a time, for address choices), `reports` (offices' reports, as JSON,
  xlsx or CSV; documented by `report_docs`).
"""
from flask import Blueprint

from marketplace.core.errorhandlers import json_error
from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import translate_message
from marketplace.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(ValidationFailed)
def _validation_failed(err: ValidationFailed):
    """Like core.errorhandlers, but every 400 names its fields in details.fields, also when a
    service raised the error with a single `field`."""
    db.session.rollback()
    details = dict(err.details)
    if err.errors and "fields" not in details:
        details["fields"] = {name: [translate_message(m) for m in messages]
                             for name, messages in err.errors.items()}
    details.pop("field", None)
    return json_error(err.status, str(err.code), translate_message(err.message), details)


@bp.after_request
def _api_headers(response):
    if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    response.headers.setdefault("Cache-Control", "no-store")
    return response


from marketplace.api import (  # noqa: F401
    auth,
    campaigns,
    categories,
    events,
    filings,
    households,
    needs,
    offline_sales,
    openapi,
    orders,
    pool,
    products,
    regions,
    reports,
    seller_products,
    units,
)
