"""The bare page of the storefront benchmark: the same template, the same 24 products, no database.

`make_app()` is a gunicorn app factory (`bench.bare:make_app()`). It builds the real application
with `create_app()` -- the catalogue template extends base.html, which needs the app's url_for
endpoints, current_user, csrf_token, Babel's `_`, the money filter and the url_with global, so a
from-scratch Flask() would not render the same page -- then, once at start-up:

1. builds the catalogue's context exactly as the view does (`catalog_context(session, args)`
   for /products) and renders it once, so that everything the template touches is loaded;
2. copies that context into plain in-memory objects (`freeze`): every ORM instance (the
   categories of the chips, ...) becomes an instance of a plain class carrying the loaded column
   and relationship values plus the model's own properties and methods (name_for, ...); the
   page's product cards (`catalog.cards.ProductCard`) are plain objects already and are kept;
3. replaces the view function of endpoint `storefront.catalog` with one that only renders
   `storefront/catalog.html` from those objects, and makes any further SQL raise.

So the two servers answer the same URL with the same template and the same page; what differs
is exactly the database work and the ORM objects of the catalogue view.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import types

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoInspectionAvailable

_MISSING = object()


@functools.cache
def _plain_class(model: type) -> type:
    """A plain class with the model's own properties and methods, no SQLAlchemy machinery."""
    from marketplace.extensions import db

    framework = set(db.Model.__mro__)
    members: dict = {}
    for klass in model.__mro__:
        if klass in framework or klass is object:
            continue
        for name, value in vars(klass).items():
            if name.startswith("__"):
                continue
            if isinstance(value, (property, functools.cached_property, types.FunctionType,
                                  staticmethod, classmethod)):
                members.setdefault(name, value)
    members["__repr__"] = lambda self: f"<Plain{model.__name__} {getattr(self, 'id', '')}>"
    return type(f"Plain{model.__name__}", (), members)


def _mapped_state(value):
    if isinstance(value, type):
        return None
    try:
        return sa_inspect(value)
    except NoInspectionAvailable:
        return None


def freeze(value, memo: dict | None = None):
    """A deep copy of a view context in which ORM instances are plain objects."""
    memo = {} if memo is None else memo
    key = id(value)
    if key in memo:
        return memo[key]
    state = _mapped_state(value)
    if state is not None and hasattr(state, "mapper"):
        plain = _plain_class(type(value)).__new__(_plain_class(type(value)))
        memo[key] = plain
        for attr in state.mapper.attrs:
            loaded = state.dict.get(attr.key, _MISSING)
            if loaded is not _MISSING:
                setattr(plain, attr.key, freeze(loaded, memo))
        return plain
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        clone = copy.copy(value)
        memo[key] = clone
        for f in dataclasses.fields(value):
            object.__setattr__(clone, f.name, freeze(getattr(value, f.name), memo))
        return clone
    if isinstance(value, list):
        out: list = []
        memo[key] = out
        out.extend(freeze(v, memo) for v in value)
        return out
    if isinstance(value, tuple):
        items = [freeze(v, memo) for v in value]
        result = type(value)._make(items) if hasattr(value, "_fields") else tuple(items)
        memo[key] = result
        return result
    if isinstance(value, dict):
        out_d: dict = {}
        memo[key] = out_d
        for k, v in value.items():
            out_d[k] = freeze(v, memo)
        return out_d
    return value  # str, int, enum, date, forms and other non-ORM values are kept as they are


class DatabaseUsed(RuntimeError):
    """The bare page touched the database; it must not."""


def make_app(path: str = "/products"):
    from flask import render_template, request

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.storefront.views import catalog_context

    app = create_app()
    with app.test_request_context(path):
        context = catalog_context(db.session, request.args,
                                  per_page=app.config.get("PER_PAGE", 24))  # as the view does
        render_template("storefront/catalog.html", **context)  # loads what the template touches
        frozen = freeze(context)
        db.session.remove()

    with app.app_context():
        def _forbid(*_args, **_kwargs):
            raise DatabaseUsed("the bare benchmark page must not query the database")
        event.listen(db.engine, "before_cursor_execute", _forbid)

    def catalog_from_memory():
        return render_template("storefront/catalog.html", **frozen)

    catalog_from_memory.__doc__ = "The catalogue page rendered from in-memory objects."
    app.view_functions["storefront.catalog"] = catalog_from_memory
    return app
