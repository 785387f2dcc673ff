"""GET /api/v1/regions and /api/v1/regions/{code}/children: the region tree one level at a
time (provinces, then a province's cities, a city's counties, ...), for an address choice.

The checkout page's script (static/js/address.js) fills its 市 and 区县 selects from here; a
mini-program builds the same 省 > 市 > 区县 choice and sends the county's code as the order
address's region_code. Public reference data: anyone, cacheable for an hour.
"""
from __future__ import annotations

from flask import jsonify

from marketplace.api import bp
from marketplace.extensions import db
from marketplace.regions import services as regions

CACHE = "public, max-age=3600"


def _place(region) -> dict:
    return {"code": region.code, "name": region.name, "label": region.choice_label,
            "level": str(region.level)}


def _answer(items):
    response = jsonify({"items": [_place(r) for r in items]})
    response.headers["Cache-Control"] = CACHE
    return response


@bp.get("/regions")
def list_provinces():
    return _answer(regions.children_by_code(db.session, None))


@bp.get("/regions/<code>/children")
def region_children(code: str):
    return _answer(regions.children_by_code(db.session, code))
