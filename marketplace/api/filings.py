"""POST /api/v1/units/{id}/filings (a budget unit's annual filing, by its admins),
GET /api/v1/filings/{id} and POST /api/v1/filings/{id}/review (the office over the unit)."""
from __future__ import annotations

from flask import current_app, jsonify

from marketplace.api import bp
from marketplace.api.common import (
    api_user,
    check_types,
    json_body,
    money_in,
    reject_unknown,
    token_required,
)
from marketplace.core import policy
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.inputs import id_value
from marketplace.core.money import money_json
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.units import filings, rules
from marketplace.units.counting import counted_in_year
from marketplace.units.models import Unit, UnitFiling

FILING_TYPES = {"year": "integer", "canteen_spend": "object", "reserved_share_bp": "integer",
                "no_canteen": "boolean", "shared_with_unit_id": "integer"}
REVIEW_TYPES = {"decision": "string", "reason": "string"}


def filing_json(filing: UnitFiling) -> dict:
    counted = counted_in_year(db.session, [filing.unit_id], filing.year)[filing.unit_id]
    month_day = current_app.config["FILING_DEADLINE"]
    return {
        "id": filing.id, "unit_id": filing.unit_id, "year": filing.year,
        "status": str(filing.status), "no_canteen": filing.no_canteen,
        "shared_with_unit_id": filing.shared_with_unit_id,
        "canteen_spend": money_json(filing.canteen_spend_fen),
        "reserved_share_bp": filing.reserved_share_bp,
        "reserved": money_json(filing.reserved_fen), "counted": money_json(counted),
        "progress_bp": rules.progress_bp(counted, filing.reserved_fen),
        "reason": filing.reason, "deadline": filings.deadline(filing.year, month_day).isoformat(),
    }


def _filing_input(data: dict) -> filings.FilingInput:
    if "year" not in data:
        raise ValidationFailed("缺少 year（年度）", field="year")
    year = data["year"]
    no_canteen = data.get("no_canteen") is True
    shared = data.get("shared_with_unit_id")
    canteen = "canteen_spend" in data or "reserved_share_bp" in data
    if sum((no_canteen, shared is not None, canteen)) != 1:
        raise ValidationFailed("请只填写一种：canteen_spend 和 reserved_share_bp，或 "
                               "no_canteen: true，或 shared_with_unit_id", field="no_canteen")
    if no_canteen:
        return filings.FilingInput(year, no_canteen=True)
    if shared is not None:
        # an id no row can have is simply no such unit (the service's 422)
        return filings.FilingInput(year, shared_with_unit_id=id_value(shared) or 0)
    missing = [k for k in ("canteen_spend", "reserved_share_bp") if k not in data]
    if missing:
        raise ValidationFailed("有食堂时须同时填写 canteen_spend 和 reserved_share_bp",
                               errors={k: ["必填"] for k in missing})
    return filings.FilingInput(year, canteen_spend_fen=money_in(data["canteen_spend"],
                                                                "canteen_spend"),
                               reserved_share_bp=data["reserved_share_bp"])


@bp.post("/units/<int:unit_id>/filings")
@token_required()
def file_filing(unit_id: int):
    user = api_user()
    unit = db.session.get(Unit, unit_id) if id_value(unit_id) else None
    policy.check_file_for_unit(user, unit)
    data = json_body()
    reject_unknown(data, FILING_TYPES)
    check_types(data, FILING_TYPES)
    year = data.get("year")
    existed = (filings.filing_for(db.session, unit.id, year)
               if isinstance(year, int) and filings.FIRST_YEAR <= year <= 2100 else None)
    filing = filings.submit(db.session, user, unit, _filing_input(data), now=now_utc(),
                            default_bp=current_app.config["UNIT_RESERVE_MIN_BP"])
    db.session.commit()
    return jsonify(filing_json(filing)), 200 if existed is not None else 201


def _filing(filing_id: int) -> UnitFiling:
    filing = db.session.get(UnitFiling, filing_id) if id_value(filing_id) else None
    if filing is None:
        raise NotFound("未找到该填报")
    return filing


@bp.get("/filings/<int:filing_id>")
@token_required()
def get_filing(filing_id: int):
    filing = _filing(filing_id)
    policy.check_view_unit_filings(api_user(), filing.unit)
    return jsonify(filing_json(filing))


@bp.post("/filings/<int:filing_id>/review")
@token_required()
def review_filing(filing_id: int):
    user = api_user()
    filing = _filing(filing_id)
    policy.check_review_filing(user, filing)
    data = json_body()
    reject_unknown(data, REVIEW_TYPES)
    check_types(data, REVIEW_TYPES)
    if "decision" not in data:
        raise ValidationFailed("缺少 decision（approve 或 send_back）", field="decision")
    filings.review(db.session, user, filing, data["decision"], data.get("reason") or "",
                   now=now_utc())
    db.session.commit()
    return jsonify(filing_json(filing))
