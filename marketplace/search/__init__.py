"""Chinese product search: derived data, rebuildable from the database at any time.

Layer: above `catalog`, `sellers` and `regions` (it indexes products with their seller and
origin); below `orders` (stock changes write its outbox) and the storefront.

- `analysis`: segmentation, pinyin and initials; `documents`: a product as indexed.
- `engine`: the Whoosh index (`writing`, `reading` with `segments` and `snapshot`,
  `generations`, `bits`).
- `models`, `outbox`: the outbox written in the changing transaction.
- `service`: the application's use of it (search, reindex, applying the outbox).
- `catchup`: a reading process applies changes made through other app servers (at most one
  check a second) and builds a missing index.
`register(app)` wires it into a Flask app.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from flask import Flask, current_app

log = logging.getLogger(__name__)


def search_root(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config["SEARCH_ROOT"])


def catalog_searcher(app: Flask | None = None):
    """A `catalog.filters.Searcher` over this app's index: None (the database answers, and a
    warning is logged) when the index is missing or broken."""
    from marketplace.catalog.filters import SearchHits
    from marketplace.catalog.models import Category
    from marketplace.regions.models import Region
    from marketplace.search import engine, service

    flask_app = app or current_app._get_current_object()
    root = search_root(flask_app)
    if not flask_app.config.get("SEARCH_ENABLED", True):
        return None

    def search(session, f):
        from sqlalchemy import select
        category_id = region_id = None
        if f.category:
            category_id = session.scalar(select(Category.id).where(Category.slug == f.category))
            if category_id is None:
                return SearchHits(ids=[], total=0)
        if f.region:
            region_id = session.scalar(select(Region.id).where(Region.code == f.region))
            if region_id is None:
                return SearchHits(ids=[], total=0)
        request = engine.SearchRequest(
            q=f.q, category_id=category_id, region_id=region_id, seller_id=f.seller,
            min_price=f.min_price, max_price=f.max_price, in_stock=f.in_stock,
            sort=str(f.sort), offset=(f.page - 1) * f.per_page, limit=f.per_page)
        catch_up(flask_app)
        try:
            result = service.search(root, request)
        except engine.SearchUnavailable as exc:
            log.warning("search index unavailable, searching the database instead: %s", exc)
            return None
        return SearchHits(ids=result.ids, total=result.total,
                          category_counts=result.category_counts,
                          county_counts=result.county_counts, terms=result.terms)

    return search


def catch_up(app: Flask | None = None):
    """Before the index answers: apply what other app servers changed, when this process last
    looked SEARCH_CATCHUP_SECONDS ago or more (see `catchup`). Off with SEARCH_SYNC = 'off' or
    a negative interval. Never raises; returns the `catchup.Outcome` (None when off)."""
    from sqlalchemy.orm import Session

    from marketplace.extensions import db
    from marketplace.search import catchup

    app = app or current_app._get_current_object()
    seconds = app.config.get("SEARCH_CATCHUP_SECONDS", 1.0)
    if app.config.get("SEARCH_SYNC") != "inline" or seconds is None or float(seconds) < 0:
        return None
    try:
        bind = db.engine  # the primary: the outbox is written there
    except Exception:  # pragma: no cover - no app context: nothing to check against
        log.exception("no database to check the search outbox against")
        return catchup.Outcome.failed
    return catchup.catch_up(search_root(app), lambda: Session(bind),
                            interval=float(seconds),
                            build_missing=bool(app.config.get("SEARCH_BUILD_MISSING")))


def _open_index(root: Path) -> None:
    from marketplace.search import engine, service
    try:
        service.index_for(root).open()
    except engine.SearchUnavailable as exc:
        log.info("search index not opened ahead: %s", exc)
    except Exception:  # a background nicety: the first search reports real problems
        log.exception("opening the search index ahead failed")


def register(app: Flask) -> None:
    """Config defaults, the outbox hooks, and applying the outbox right after a request that
    changed something and, for changes made through other servers, on reads (`catch_up`)
    (SEARCH_SYNC = 'inline', the default; 'off' leaves both to `flask search sync`). With
    SEARCH_WARM (on outside test mode) the first request a process serves opens the index in a
    background thread, so that its first search does not wait for the index to be read (about
    a second at 300,000 products); with SEARCH_BUILD_MISSING (on outside test mode) a missing
    index is built in the background (`catchup`)."""
    from marketplace.extensions import db
    from marketplace.search import outbox, service

    app.config.setdefault("SEARCH_ROOT", str(Path(app.instance_path) / "search"))
    app.config.setdefault("SEARCH_SYNC", "inline")
    app.config.setdefault("SEARCH_ENABLED", True)
    app.config.setdefault("SEARCH_CATCHUP_SECONDS", 1.0)
    app.config.setdefault("SEARCH_WARM", app.config.get("MARKETPLACE_MODE") != "test")
    app.config.setdefault("SEARCH_BUILD_MISSING", app.config.get("MARKETPLACE_MODE") != "test")
    outbox.install()

    if app.config["SEARCH_WARM"] and app.config["SEARCH_ENABLED"]:
        opened_in: set[int] = set()  # process ids (a preloaded app forks into workers)

        @app.before_request
        def _open_search_index():
            pid = os.getpid()
            if pid not in opened_in:
                opened_in.add(pid)
                threading.Thread(target=_open_index, args=(search_root(app),),
                                 name="search-open", daemon=True).start()

    @app.after_request
    def _apply_outbox(response):
        session = db.session
        if session.info.pop(outbox.PENDING, False) and app.config["SEARCH_SYNC"] == "inline":
            try:
                service.sync(session, search_root(app), timeout=5.0)
            except Exception:  # the change is committed; the outbox keeps it for later
                session.rollback()
                log.exception("applying the search outbox failed; `flask search sync` retries")
        return response
