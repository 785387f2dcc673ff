"""The events' demo (marketplace/seed/help_events.py) on both engines: the reports demo's fair
of last month is a published past event whose report holds its offline sales, households reached
and attributed income; a live sale is upcoming with its stream link. (Named *demo*: CI runs it
on the worker that seeds the demo.)"""
from __future__ import annotations

from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.help.events import report, services


def test_the_demo_has_a_past_fair_with_its_sales_and_an_upcoming_live_sale(demo_app):
    with demo_app.app_context():
        now = now_utc()
        past = services.public_events(db.session, now, phase="past").items
        fair = next(e for e in past if e.kind == "fair")
        built = report.build(db.session, fair)
        assert built.offline_orders == 4 and built.attributed_fen > 0
        assert built.households_reached > 0
        upcoming = services.public_events(db.session, now, phase="upcoming").items
        assert any(e.kind == "live" and e.stream_url and e.products for e in upcoming)
