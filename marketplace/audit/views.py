"""The audit log's pages: the platform admins' list at /admin/audit (filters: action, kind of
object and its id, actor, dates; paged; a CSV export of what the filters select), and the
template global `audit_changes` every object page's "操作记录" shows an entry's fields with
(values in words: statuses and roles by their labels)."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.audit import services
from marketplace.audit.models import (
    ACTION_LABELS,
    FIELD_LABELS,
    OBJECT_LABELS,
    AuditAction,
    AuditEntry,
    AuditObject,
)
from marketplace.catalog.models import PRODUCT_STATUS_LABELS
from marketplace.core.inputs import id_value
from marketplace.core.pager import requested_page
from marketplace.core.policy import roles_required
from marketplace.core.roles import ROLE_LABELS, Role
from marketplace.core.time import CHINA
from marketplace.extensions import db
from marketplace.households.models import HOUSEHOLD_STATUS_LABELS
from marketplace.sellers.models import SELLER_KIND_LABELS, SELLER_STATUS_LABELS

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
PER_PAGE = 50
STATUS_LABELS = {AuditObject.seller: SELLER_STATUS_LABELS,
                 AuditObject.product: PRODUCT_STATUS_LABELS,
                 AuditObject.household: HOUSEHOLD_STATUS_LABELS}


@bp.before_request
@roles_required(Role.platform_admin)
def _platform_admins_only():
    return None


# ---- an entry in words --------------------------------------------------------------------------

def _value(entry: AuditEntry, field: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    labels = (STATUS_LABELS.get(entry.object_type, {}) if field == "status"
              else ROLE_LABELS if field == "role"
              else SELLER_KIND_LABELS if field == "kind" and entry.object_type == AuditObject.seller
              else {})
    label = labels.get(value)
    return _(label) if label else str(value)


def changes(entry: AuditEntry) -> list[tuple[str, str | None, str | None]]:
    """The entry's fields as (name, before, after) in words; a side without the field is None."""
    before, after = entry.before, entry.after
    rows = []
    for field in sorted(before.keys() | after.keys(),
                        key=lambda f: (list(FIELD_LABELS).index(f) if f in FIELD_LABELS
                                       else len(FIELD_LABELS), f)):
        name = _(FIELD_LABELS[field]) if field in FIELD_LABELS else field
        rows.append((name, _value(entry, field, before[field]) if field in before else None,
                     _value(entry, field, after[field]) if field in after else None))
    return rows


def actor_shown(entry: AuditEntry) -> str:
    if entry.actor_id is None:
        return _("系统")
    return f"{entry.actor_name or _('用户')} (#{entry.actor_id})"


@bp.app_template_global("audit_changes")
def _audit_changes(entry: AuditEntry):
    return changes(entry)


@bp.app_template_global("audit_actor")
def _audit_actor(entry: AuditEntry) -> str:
    return actor_shown(entry)


# ---- the platform admins' list ------------------------------------------------------------------

def _choice(enum, raw):
    try:
        return enum(raw) if raw else None
    except ValueError:
        return None


def _day(raw) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()) if raw else None
    except ValueError:
        return None


def _filters(args) -> tuple[services.AuditFilter, dict]:
    """The filters in the query string (what is not understood narrows nothing), and the form's
    values to show again."""
    actor = (args.get("actor") or "").strip()[:64]
    actor_id = id_value(actor) if actor.isdigit() else None
    filters = services.AuditFilter(
        action=_choice(AuditAction, args.get("action")),
        object_type=_choice(AuditObject, args.get("object_type")),
        object_id=id_value(args.get("object_id")),
        actor_id=actor_id, actor_name="" if actor_id is not None else actor,
        since=_day(args.get("from")), until=_day(args.get("to")))
    shown = {"action": filters.action or "", "object_type": filters.object_type or "",
             "object_id": filters.object_id or "", "actor": actor,
             "from": filters.since.isoformat() if filters.since else "",
             "to": filters.until.isoformat() if filters.until else ""}
    return filters, shown


@bp.get("")
def index():
    filters, shown = _filters(request.args)
    page = services.search(db.session, current_user, filters,
                           page=requested_page(request.args), per_page=PER_PAGE)
    return render_template("audit/index.html", page=page, shown=shown,
                           actions=ACTION_LABELS, objects=OBJECT_LABELS)


@bp.get("/export.csv")
def export():
    """What the filters select as CSV (newest first, at most services.EXPORT_LIMIT rows), with
    a BOM so that Excel reads the Chinese."""
    filters, _shown = _filters(request.args)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("编号"), _("时间"), _("操作人"), _("操作"), _("对象"), _("对象编号"),
                     _("所属"), _("变更"), _("备注")])
    for e in services.matching(db.session, current_user, filters):
        parent = (f"{_(OBJECT_LABELS[AuditObject(e.parent_type)])} #{e.parent_id}"
                  if e.parent_type in OBJECT_LABELS else "")
        writer.writerow([e.id, f"{e.at.astimezone(CHINA):%Y-%m-%d %H:%M:%S}", actor_shown(e),
                         _(e.action_label), _(e.object_label), e.object_id, parent,
                         "; ".join(f"{name}: {b or '—'} → {a or '—'}"
                                   for name, b, a in changes(e)), e.note])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=audit-log.csv"})
