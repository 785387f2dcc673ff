"""The OpenAPI paths and schemas of the group purchases (api.campaigns); api.openapi adds them to
the document (kept apart so that the document's modules stay short)."""
from __future__ import annotations

from marketplace.api.schemas import ref

CAMPAIGN_ID = {"name": "campaign_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1}}
PARTICIPATION_ID = {"name": "participation_id", "in": "path", "required": True,
                    "schema": {"type": "integer", "minimum": 1}}
SECURED = [{"bearerAuth": []}]
OPTIONAL = [{}, {"bearerAuth": []}]


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def paths() -> dict:
    return {
        "/api/v1/campaigns": {
            "get": {
                "tags": ["campaigns"], "operationId": "listCampaigns", "security": OPTIONAL,
                "summary": "Group purchases one may see: open ones anyone may join by link, and "
                           "(with a token) those of one's units",
                "parameters": [
                    {"name": "page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 10000,
                                "default": 1}},
                    {"name": "per_page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}}],
                "responses": {"200": _json(ref("CampaignList"), "One page of campaigns."),
                              **_errors(400, 401)}},
            "post": {
                "tags": ["campaigns"], "operationId": "createCampaign", "security": SECURED,
                "summary": "Open a group purchase (a unit's admins; a verified seller's staff "
                           "a public one, by link, without unit_id)",
                "description": "Tiers go up in min_quantity and down in price, none above the "
                               "catalogue price; the deadline lies ahead (at most 90 days after "
                               "the start); the minimum is within the products' stock. Every "
                               "problem is named in details.fields; nothing is written.",
                "requestBody": _body(ref("CampaignCreate")),
                "responses": {"201": _json(ref("Campaign"), "The new campaign."),
                              **_errors(400, 401, 403, 404, 409, 422)}}},
        "/api/v1/campaigns/{campaign_id}": {"get": {
            "tags": ["campaigns"], "operationId": "getCampaign", "security": OPTIONAL,
            "summary": "One campaign: who may join it (anyone for a link campaign, the unit's "
                       "members otherwise); 404 for others",
            "description": "A campaign past its deadline is closed (settled) by this read.",
            "parameters": [CAMPAIGN_ID],
            "responses": {"200": _json(ref("Campaign"), "The campaign."),
                          **_errors(401, 404)}}},
        "/api/v1/campaigns/{campaign_id}/close": {"post": {
            "tags": ["campaigns"], "operationId": "closeCampaign", "security": SECURED,
            "summary": "Settle a campaign past its deadline (its managers, platform admins); "
                       "idempotent",
            "description": "422 campaign_open before the deadline; 403 for someone who may see "
                           "it but not manage it.",
            "parameters": [CAMPAIGN_ID],
            "responses": {"200": _json(ref("Campaign"), "The campaign, closed."),
                          **_errors(401, 403, 404, 409, 422)}}},
        "/api/v1/campaigns/{campaign_id}/participations": {"post": {
            "tags": ["campaigns"], "operationId": "joinCampaign", "security": SECURED,
            "summary": "Join: quantities held from stock; individual delivery pays the starting "
                       "price within 30 minutes",
            "description": "409 insufficient_stock names the short lines in details.lines; 409 "
                           "already_joined; 422 over_limit (the per-person limit), "
                           "campaign_closed (after the deadline), campaign_not_started. The "
                           "same idempotency_key again answers the same participation.",
            "parameters": [CAMPAIGN_ID],
            "requestBody": _body(ref("ParticipationCreate")),
            "responses": {"201": _json(ref("Participation"), "The participation."),
                          **_errors(400, 401, 404, 409, 422)}}},
        "/api/v1/participations/{participation_id}": {
            "get": {
                "tags": ["campaigns"], "operationId": "getParticipation", "security": SECURED,
                "summary": "One participation: its participant and the campaign's managers",
                "parameters": [PARTICIPATION_ID],
                "responses": {"200": _json(ref("Participation"), "The participation."),
                              **_errors(401, 404)}},
            "patch": {
                "tags": ["campaigns"], "operationId": "changeParticipation",
                "security": SECURED,
                "summary": "New quantities until the deadline (a paid one is charged or "
                           "refunded the difference at once)",
                "parameters": [PARTICIPATION_ID],
                "requestBody": _body({"type": "object", "required": ["lines"],
                                      "additionalProperties": False,
                                      "properties": {"lines": ref("ParticipationLines")}}),
                "responses": {"200": _json(ref("Participation"), "The participation."),
                              **_errors(400, 401, 404, 409, 422)}},
            "delete": {
                "tags": ["campaigns"], "operationId": "withdrawParticipation",
                "security": SECURED,
                "summary": "Withdraw before the deadline: units released, paid money refunded",
                "parameters": [PARTICIPATION_ID],
                "responses": {"200": _json(ref("Participation"), "The participation."),
                              **_errors(401, 404, 409, 422)}}},
        "/api/v1/participations/{participation_id}/payments": {"post": {
            "tags": ["campaigns"], "operationId": "payParticipation", "security": SECURED,
            "summary": "Pay what a participation is due (simulated: test mode, at once)",
            "parameters": [PARTICIPATION_ID],
            "requestBody": _body({"type": "object", "additionalProperties": False,
                                  "properties": {"provider": {"type": "string",
                                                              "enum": ["simulated"]}}}),
            "responses": {"200": _json(ref("ParticipationPayment"), "The payment."),
                          **_errors(400, 401, 404, 409, 422)}}},
    }


def schemas() -> dict:
    money = ref("Money")
    tier = {"type": "object", "required": ["min_quantity", "price"], "properties": {
        "min_quantity": {"type": "integer", "minimum": 1}, "price": money}}
    next_tier = {"oneOf": [{"type": "null"}, {
        "type": "object", "required": ["min_quantity", "price", "missing"], "properties": {
            "min_quantity": {"type": "integer"}, "price": money,
            "missing": {"type": "integer", "description": "Units still missing to reach it."}}}]}
    current = {"oneOf": [{"type": "null"}, ref("CampaignTier")]}
    when = {"type": ["string", "null"], "format": "date-time"}
    product = {"type": "object", "required": ["product_id", "name", "tiers", "committed",
                                              "current_tier", "next_tier", "price"],
               "properties": {
                   "product_id": {"type": "integer"}, "name": {"type": "string"},
                   "list_price": money,
                   "price": {"allOf": [money], "description": "A unit's price now: the deepest "
                             "tier reached, else the catalogue price."},
                   "join_price": {"allOf": [money], "description": "What joining pays a unit "
                                  "now (the difference goes back at the close)."},
                   "tiers": {"type": "array", "items": ref("CampaignTier")},
                   "committed": {"type": "integer"}, "current_tier": current,
                   "next_tier": next_tier}}
    line = {"type": "object", "required": ["product_id", "quantity"],
            "additionalProperties": False,
            "properties": {"product_id": {"type": "integer"},
                           "quantity": {"type": "integer", "minimum": 1, "maximum": 999}}}
    address = {"type": "object", "additionalProperties": False,
               "required": ["recipient", "mobile", "region_code", "detail"],
               "properties": {"recipient": {"type": "string"}, "mobile": {"type": "string"},
                              "region_code": {"type": "string"}, "detail": {"type": "string"}}}
    return {
        "CampaignTier": tier,
        "CampaignCreate": {
            "type": "object", "additionalProperties": False,
            "required": ["title", "products", "minimum_quantity", "per_person_limit",
                         "deadline"],
            "properties": {
                "unit_id": {"type": ["integer", "null"],
                            "description": "The unit (its admins); none: a seller's public "
                                           "campaign."},
                "title": {"type": "string", "minLength": 2, "maxLength": 100},
                "description": {"type": "string", "maxLength": 2000},
                "products": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
                    "type": "object", "required": ["product_id", "tiers"],
                    "additionalProperties": False, "properties": {
                        "product_id": {"type": "integer"},
                        "tiers": {"type": "array", "minItems": 1, "maxItems": 10,
                                  "items": {"type": "object", "additionalProperties": False,
                                            "required": ["min_quantity", "price"],
                                            "properties": {
                                                "min_quantity": {"type": "integer",
                                                                 "minimum": 1,
                                                                 "maximum": 100000},
                                                "price": ref("PriceInput")}}}}}},
                "minimum_quantity": {"type": "integer", "minimum": 1, "maximum": 100000},
                "per_person_limit": {"type": "integer", "minimum": 1, "maximum": 999},
                "starts_at": {"type": "string", "format": "date-time",
                              "description": "ISO 8601 with offset; default now."},
                "deadline": {"type": "string", "format": "date-time",
                             "description": "ISO 8601 with offset, e.g. "
                                            "2025-06-01T18:00:00+08:00."},
                "delivery": {"type": "string", "enum": ["individual", "consolidated"]},
                "audience": {"type": "string", "enum": ["members", "link"]},
                "address": {**address, "description": "Consolidated delivery: where the unit "
                                                      "receives (default its own address)."}}},
        "Campaign": {
            "type": "object",
            "required": ["id", "title", "status", "committed", "minimum_quantity",
                         "per_person_limit", "deadline", "starts_at", "delivery", "audience",
                         "seller", "products", "tiers", "current_tier", "next_tier"],
            "properties": {
                "id": {"type": "integer"}, "title": {"type": "string"},
                "description": {"type": "string"},
                "status": {"type": "string", "enum": ["open", "succeeded", "failed"]},
                "committed": {"type": "integer", "description": "Units committed in all."},
                "minimum_quantity": {"type": "integer"},
                "missing": {"type": "integer", "description": "Units missing to the minimum."},
                "per_person_limit": {"type": "integer"},
                "starts_at": when, "deadline": when, "closed_at": when,
                "seconds_left": {"type": "integer", "minimum": 0},
                "delivery": {"type": "string", "enum": ["individual", "consolidated"]},
                "audience": {"type": "string", "enum": ["members", "link"]},
                "unit": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}}}]},
                "seller": ref("SellerRef"),
                "products": {"type": "array", "items": product},
                "tiers": {"type": "array", "items": ref("CampaignTier"),
                          "description": "The first product's tiers."},
                "current_tier": current, "next_tier": next_tier,
                "order_id": {"type": ["integer", "null"],
                             "description": "Consolidated: the unit's order once closed."},
                "url": {"type": "string", "format": "uri"},
                "share_url": {"type": "string", "format": "uri",
                              "description": "The share link (its managers only)."},
                "my_participation_id": {"type": ["integer", "null"]}}},
        "CampaignList": {"type": "object", "required": ["items", "total", "page", "per_page"],
                         "properties": {"items": {"type": "array", "items": ref("Campaign")},
                                        "total": {"type": "integer"},
                                        "page": {"type": "integer"},
                                        "per_page": {"type": "integer"}}},
        "ParticipationLines": {"type": "array", "minItems": 1, "maxItems": 20, "items": line},
        "ParticipationCreate": {
            "type": "object", "additionalProperties": False,
            "required": ["lines", "idempotency_key"],
            "properties": {
                "lines": ref("ParticipationLines"),
                "address": {**address, "description": "Individual delivery: required."},
                "idempotency_key": {"type": "string", "minLength": 8, "maxLength": 64}}},
        "Participation": {
            "type": "object",
            "required": ["id", "campaign_id", "status", "lines", "amount_due", "paid",
                         "refunded", "order_id"],
            "properties": {
                "id": {"type": "integer"}, "campaign_id": {"type": "integer"},
                "status": {"type": "string", "enum": ["pending_payment", "joined", "withdrawn",
                                                      "expired", "settled", "failed"]},
                "lines": {"type": "array", "items": {"type": "object", "properties": {
                    "product_id": {"type": "integer"}, "name": {"type": "string"},
                    "quantity": {"type": "integer"}}}},
                "quantity": {"type": "integer"},
                "amount_due": {"allOf": [money], "description": "At the starting price."},
                "paid": money, "refunded": money,
                "refund_pending": {"allOf": [money], "description": "Still to go back (a "
                                   "provider outage); retried."},
                "pay_by": when, "order_id": {"type": ["integer", "null"]},
                "address": {"oneOf": [{"type": "null"}, {"type": "object"}]},
                "created_at": when}},
        "ParticipationPayment": {
            "type": "object", "required": ["participation", "payment"], "properties": {
                "participation": ref("Participation"), "test_mode": {"type": "boolean"},
                "payment": {"type": "object", "properties": {
                    "provider": {"type": "string"}, "reference": {"type": "string"},
                    "status": {"type": "string"}, "amount": money}}}},
    }
