"""Writing the audit log (`record`, in the deciding service's transaction) and reading it: the
platform admins' filtered list (`search`, `matching`) and an object's own entries for its page
(`object_entries`, `entries_by_object`, `entries_within`), each behind `core.policy`."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditAction, AuditEntry, AuditObject
from marketplace.core import policy
from marketplace.core.pager import Page
from marketplace.core.time import CHINA, now_utc

EXPORT_LIMIT = 10_000


def _dumps(values: dict | None) -> str:
    return json.dumps(values or {}, ensure_ascii=False, sort_keys=True, default=str,
                      separators=(",", ":"))


def _actor(actor) -> tuple[int | None, str]:
    """The actor's id and name; None and "" for the system (no actor, or nobody signed in)."""
    if actor is None or not getattr(actor, "is_authenticated", True):
        return None, ""
    return getattr(actor, "id", None), (getattr(actor, "display_name", "") or "")[:64]


def record(session: Session, actor, action: AuditAction | str, obj_type: AuditObject | str,
           obj_id: int | None, *, before: dict | None = None, after: dict | None = None,
           note: str = "", parent: tuple[AuditObject | str, int] | None = None) -> AuditEntry:
    """Append one entry for a decision `actor` (a user; None for the system) made on the object
    `obj_type` `obj_id` (already flushed: it has its id; None only for a login or an address,
    which have none), with the fields that changed
    (`before`, `after`: small dicts, personal data masked) and an optional `note` (a reason).
    Added to `session` and never committed here: it is written with the decision or not at
    all."""
    action, obj_type = AuditAction(action), AuditObject(obj_type)
    if not (isinstance(obj_id, int) or (obj_id is None and obj_type == AuditObject.login)):
        raise ValueError("record the decision after its object has an id")
    parent_type, parent_id = (AuditObject(parent[0]), parent[1]) if parent else (None, None)
    actor_id, name = _actor(actor)
    entry = AuditEntry(at=now_utc(), actor_id=actor_id, actor_name=name, action=action,
                       object_type=obj_type, object_id=obj_id, parent_type=parent_type,
                       parent_id=parent_id, before_json=_dumps(before),
                       after_json=_dumps(after), note=(note or "").strip()[:200])
    session.add(entry)
    return entry


# ---- the platform admins' list --------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    """What the admin list is narrowed to; None or "" is no narrowing. Dates are days in
    China, both included."""

    action: AuditAction | None = None
    object_type: AuditObject | None = None
    object_id: int | None = None
    actor_id: int | None = None
    actor_name: str = ""
    since: date | None = None
    until: date | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(timezone.utc)


def _filtered(filters: AuditFilter):
    stmt = select(AuditEntry)
    if filters.action is not None:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.object_type is not None:
        stmt = stmt.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == filters.object_id)
    if filters.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == filters.actor_id)
    if filters.actor_name:
        stmt = stmt.where(AuditEntry.actor_name.contains(filters.actor_name, autoescape=True))
    if filters.since is not None:
        stmt = stmt.where(AuditEntry.at >= _day_start(filters.since))
    if filters.until is not None:
        stmt = stmt.where(AuditEntry.at < _day_start(filters.until + timedelta(days=1)))
    return stmt


def search(session: Session, actor, filters: AuditFilter, *, page: int = 1,
           per_page: int = 50) -> Page[AuditEntry]:
    """One page of the entries `filters` allow, newest first: platform admins only (403)."""
    policy.check_audit_log(actor)
    stmt = _filtered(filters)
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(AuditEntry.id).subquery())) or 0
    items = session.scalars(stmt.order_by(AuditEntry.id.desc())
                            .offset((page - 1) * per_page).limit(per_page))
    return Page(list(items), total, page, per_page)


def matching(session: Session, actor, filters: AuditFilter,
             limit: int = EXPORT_LIMIT) -> list[AuditEntry]:
    """The newest `limit` entries `filters` allow (the export): platform admins only."""
    policy.check_audit_log(actor)
    return list(session.scalars(_filtered(filters).order_by(AuditEntry.id.desc()).limit(limit)))


# ---- an object's own entries, for its page ----------------------------------------------------

def object_entries(session: Session, actor, obj_type: AuditObject | str, obj, *,
                   limit: int = 20) -> list[AuditEntry]:
    """The newest entries about `obj` (of type `obj_type`), for those who may see it (404)."""
    obj_type = AuditObject(obj_type)
    policy.check_view_object(actor, obj_type, obj)
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == obj_type, AuditEntry.object_id == obj.id)
        .order_by(AuditEntry.id.desc()).limit(limit)))


def entries_by_object(session: Session, actor, obj_type: AuditObject | str,
                      objs: Iterable, *, each: int = 5) -> dict[int, list[AuditEntry]]:
    """The newest `each` entries of every object in `objs` (a list's rows), by object id, in
    one statement; every object must be one `actor` may see (404)."""
    obj_type = AuditObject(obj_type)
    ids = []
    for obj in objs:
        policy.check_view_object(actor, obj_type, obj)
        ids.append(obj.id)
    if not ids:
        return {}
    rank = func.row_number().over(partition_by=AuditEntry.object_id,
                                  order_by=AuditEntry.id.desc()).label("rank")
    ranked = (select(AuditEntry.id, rank)
              .where(AuditEntry.object_type == obj_type, AuditEntry.object_id.in_(ids))
              .subquery())
    found: dict[int, list[AuditEntry]] = {}
    for entry in session.scalars(select(AuditEntry).join(ranked, ranked.c.id == AuditEntry.id)
                                 .where(ranked.c.rank <= each)
                                 .order_by(AuditEntry.id.desc())):
        found.setdefault(entry.object_id, []).append(entry)
    return found


def entries_within(session: Session, actor, parent_type: AuditObject | str, parent, *,
                   object_types: Sequence[AuditObject] = (), limit: int = 20
                   ) -> list[AuditEntry]:
    """The newest entries about objects that belong to `parent` (a seller's lots), also those
    deleted since, for those who may see the parent (404)."""
    parent_type = AuditObject(parent_type)
    policy.check_view_object(actor, parent_type, parent)
    stmt = select(AuditEntry).where(AuditEntry.parent_type == parent_type,
                                    AuditEntry.parent_id == parent.id)
    if object_types:
        stmt = stmt.where(AuditEntry.object_type.in_([AuditObject(t) for t in object_types]))
    return list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))
