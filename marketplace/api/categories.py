"""GET /api/v1/categories: every category with its number of visible products."""
from __future__ import annotations

from flask import jsonify

from marketplace.api import bp
from marketplace.api.common import category_json
from marketplace.catalog import queries
from marketplace.extensions import db


@bp.get("/categories")
def list_categories():
    items = []
    for category, count in queries.category_counts(db.session):
        item = category_json(category)
        item.update({"icon": category.icon, "product_count": count})
        items.append(item)
    return jsonify({"items": items})
