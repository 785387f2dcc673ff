"""GET /api/v1/events: published fairs and live-sale events (help.events), anyone may read them.
Its part of the OpenAPI document is `openapi_paths` and `openapi_schemas` (api.openapi takes
them in)."""
from __future__ import annotations

from flask import jsonify, request, url_for

from marketplace.api import bp
from marketplace.catalog.filters import MAX_PER_PAGE
from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.inputs import bounded_int
from marketplace.core.pager import MAX_PAGE
from marketplace.core.time import as_aware, now_utc
from marketplace.extensions import db
from marketplace.help.events import services as events
from marketplace.help.events.models import Event, EventKind
from marketplace.regions.services import find_by_code

PHASES = [p.value for p in events.Phase]


def _arg_int(name: str, low: int, high: int, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = bounded_int(raw, low, high)
    if value is None:
        raise ValidationFailed(Msg("%(name)s 应为 %(low)s 到 %(high)s 之间的整数", name=name,
                                   low=low, high=high), field=name)
    return value


def event_json(event: Event, now) -> dict:
    return {
        "id": event.id, "kind": str(event.kind), "title": event.title,
        "description": event.description,
        "starts_at": as_aware(event.starts_at).isoformat(),
        "ends_at": as_aware(event.ends_at).isoformat(),
        "phase": str(events.phase_of(event, now)), "place": event.place or None,
        "online": event.online, "stream_url": event.stream_url or None,
        "organiser": event.organiser,
        "region": {"code": event.region.code, "name": event.region.name},
        "unit_id": event.unit_id,
        "seller_ids": [s.seller_id for s in event.sellers],
        "product_ids": [p.product_id for p in event.products],
        "url": url_for("events.event_page", event_id=event.id, _external=True)}


@bp.get("/events")
def list_events():
    phase = request.args.get("phase", "")
    if phase and phase not in PHASES:
        raise ValidationFailed("phase 应为 upcoming、now 或 past", field="phase")
    kind = request.args.get("kind", "")
    if kind and kind not in {k.value for k in EventKind}:
        raise ValidationFailed("kind 应为 fair 或 live", field="kind")
    region = None
    if request.args.get("region"):
        region = find_by_code(db.session, request.args["region"])
        if region is None:
            raise ValidationFailed("未知的地区代码", field="region")
    page = _arg_int("page", 1, MAX_PAGE, 1)
    per_page = _arg_int("per_page", 1, MAX_PER_PAGE, 20)
    now = now_utc()
    found = events.public_events(db.session, now, phase=phase, region=region, kind=kind,
                                 page=page, per_page=per_page)
    return jsonify({"items": [event_json(e, now) for e in found.items], "total": found.total,
                    "page": found.page, "per_page": found.per_page})


# ---- the OpenAPI document's part ---------------------------------------------------------------

def openapi_paths(json, errors, query) -> dict:
    return {"/api/v1/events": {"get": {
        "tags": ["events"], "operationId": "listEvents",
        "summary": "Published fairs and live-sale events, paged",
        "description": "Without phase: every published event, the latest start first; "
                       "upcoming: not begun, the soonest first; now: under way; past: ended, "
                       "the latest first. An order placed with POST /api/v1/orders and "
                       "event_id (an event under way) carries it; an offline sale may be "
                       "recorded against one (POST /api/v1/seller/offline-sales, event_id).",
        "parameters": [
            query("phase", {"type": "string", "enum": PHASES}, "upcoming, now or past."),
            query("kind", {"type": "string", "enum": [k.value for k in EventKind]},
                  "fair or live."),
            query("region", {"type": "string", "pattern": "^[0-9]+$"},
                  "Region code; the events organised in its subtree."),
            query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                           "default": 1}, "Page number."),
            query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                               "default": 20}, "Items per page.")],
        "responses": {"200": json({"$ref": "#/components/schemas/EventList"},
                                  "One page of events."), **errors(400)}}}}


def openapi_schemas() -> dict:
    nullable_text = {"type": ["string", "null"]}
    return {
        "Event": {"type": "object", "required": [
            "id", "kind", "title", "starts_at", "ends_at", "phase", "organiser", "region",
            "seller_ids", "product_ids", "url"], "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in EventKind]},
            "title": {"type": "string"}, "description": {"type": "string"},
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"},
            "phase": {"type": "string", "enum": PHASES},
            "place": nullable_text, "online": {"type": "boolean"},
            "stream_url": {**nullable_text, "description": "An external link to the stream."},
            "organiser": {"type": "string", "description": "The organising office or unit."},
            "region": {"type": "object", "properties": {"code": {"type": "string"},
                                                        "name": {"type": "string"}}},
            "unit_id": {"type": ["integer", "null"]},
            "seller_ids": {"type": "array", "items": {"type": "integer"},
                           "description": "Featured sellers."},
            "product_ids": {"type": "array", "items": {"type": "integer"},
                            "description": "Featured products."},
            "url": {"type": "string", "description": "The event's page."}}},
        "EventList": {"type": "object", "required": ["items", "total", "page", "per_page"],
                      "properties": {
                          "items": {"type": "array",
                                    "items": {"$ref": "#/components/schemas/Event"}},
                          "total": {"type": "integer"}, "page": {"type": "integer"},
                          "per_page": {"type": "integer"}}},
    }
