"""GET /api/v1/products and /api/v1/products/{id}: what shoppers see (listed, verified)."""
from __future__ import annotations

from flask import jsonify, request

from marketplace.api import bp
from marketplace.api.common import product_detail, product_item
from marketplace.catalog import queries
from marketplace.catalog.filters import parse_filters
from marketplace.core.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.ledger import shares
from marketplace.search import catalog_searcher


@bp.get("/products")
def list_products():
    filters, problems = parse_filters(request.args, per_page_default=24, money_in_fen=True)
    if problems:
        errors = {k: [v] for k, v in problems.items()}
        first = next(iter(problems))
        raise ValidationFailed(f"{first}: {problems[first]}", errors=errors)
    page = queries.browse(db.session, filters, searcher=catalog_searcher())
    found = shares.for_products(db.session, page.items)  # one query for the page
    return jsonify({"items": [product_item(p, found.get(p.id)) for p in page.items],
                    "total": page.total,
                    "page": page.page, "per_page": page.per_page})


@bp.get("/products/<int:product_id>")
def get_product(product_id: int):
    return jsonify(product_detail(queries.get_visible(db.session, product_id)))
