"""GET /api/v1/households: the households a liaison looks after, those of an office's subtree,
all for platform admins (`region` narrows to a subtree, `page`); GET
/api/v1/households/{code}/statement: a household's entries and totals for a period, for its
liaison, the offices over it and admins (404 for anyone else, as for an unknown code)."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request

from marketplace.accounts.models import Role
from marketplace.api import bp
from marketplace.api.common import api_user, token_required
from marketplace.core import policy
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.money import money_json
from marketplace.core.pager import page_number
from marketplace.extensions import db
from marketplace.households import services as households
from marketplace.ledger import statements
from marketplace.regions.services import find_by_code

PER_PAGE = 50


def _date_arg(name: str) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", field=name) from None


@bp.get("/households/<code>/statement")
@token_required()
def household_statement(code: str):
    user = api_user()
    household = households.get_by_code(db.session, code)
    policy.check_view_household(user, household)
    start, end = _date_arg("from"), _date_arg("to")
    if start and end and start > end:
        raise ValidationFailed("开始日期不能晚于结束日期", field="from")
    period = statements.period_statement(db.session, household.id, start, end)
    return jsonify({
        "household": {"code": household.code, "display_name": household.masked_name,
                      "village": household.village.short_place},
        "from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
        "opening": money_json(period.opening_fen),
        "entries": [{"seq": r.seq, "at": r.at.isoformat(), "order_number": r.order_number,
                     "product": r.product, "seller": r.seller, "channel": r.channel,
                     "kind": "sale" if r.amount_fen > 0 else "reversal",
                     "amount": money_json(r.amount_fen),
                     "running_total": money_json(r.running_fen)} for r in period.rows],
        "totals": {"sales": money_json(period.sales_fen),
                   "reversals": money_json(period.reversals_fen),
                   "net": money_json(period.net_fen), "count": len(period.rows)},
        "closing": money_json(period.closing_fen),
    })


@bp.get("/households")
@token_required(Role.liaison, Role.office)
def list_households():
    """Liaisons: the households they look after; offices: those of their subtrees (a `region`
    outside them answers 404); platform admins: all."""
    user = api_user()
    raw = request.args.get("page")
    page = page_number(raw) if raw not in (None, "") else 1
    if page is None:
        raise ValidationFailed("页码应为 1 到 10000 的整数", field="page")
    code = (request.args.get("region") or "").strip()
    region = None
    if code:
        region = find_by_code(db.session, code) if code.isdigit() and len(code) <= 12 else None
        if region is None or not (policy.is_admin(user) or policy.office_covers(user, region)
                                  or user.has_role(Role.liaison)):
            raise NotFound("该地区不存在，或不在您的管辖范围内")
    rows, total = households.visible_households(db.session, user, region=region, page=page,
                                                per_page=PER_PAGE)
    return jsonify({"items": [{"code": h.code, "display_name": h.masked_name,
                               "village": h.village.short_place, "village_code": h.village.code,
                               "status": str(h.status)} for h in rows],
                    "total": total, "page": page, "per_page": PER_PAGE})
