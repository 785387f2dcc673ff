"""Flags: a signed-in user reports a need on the wall as a duplicate or inappropriate; an office
over the need upholds the flag (the need is removed from the wall, held claims released) or
dismisses it. Decisions go to the audit log and the need's history."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from marketplace.audit import services as audit
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.core import policy
from marketplace.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from marketplace.core.time import now_utc
from marketplace.help.needs import history, rules, services
from marketplace.help.needs.models import (
    ClaimStatus,
    FlagReason,
    FlagStatus,
    Need,
    NeedFlag,
    NeedStatus,
)
from marketplace.regions.models import Region


def flag(session: Session, user, need: Need, reason: str, note: str = "", *,
         now: datetime | None = None) -> NeedFlag:
    now = now or now_utc()
    policy.require_user(user)
    if need is None or need.status not in services.PUBLIC:
        raise NotFound("未找到该需求")
    try:
        reason = FlagReason(reason)
    except ValueError:
        raise ValidationFailed("请选择举报原因：重复发布或内容不当", field="reason") from None
    note = rules.check_note(note)[:200]
    exists = session.scalar(select(NeedFlag.id).where(NeedFlag.need_id == need.id,
                                                      NeedFlag.reporter_id == user.id))
    if exists is not None:
        raise Conflict("您已举报过该需求，帮扶办会尽快处理", code="already_flagged")
    row = NeedFlag(need_id=need.id, reporter_id=user.id, reason=reason, note=note,
                   status=FlagStatus.open, created_at=now)
    session.add(row)
    session.flush()
    history.record(session, need, "flagged", user.id, str(reason), now=now)
    return row


def decide(session: Session, office, flag_row: NeedFlag | None, uphold: bool, note: str = "", *,
           now: datetime | None = None) -> NeedFlag:
    """Uphold (the need is removed; its other open flags are closed with it) or dismiss."""
    now = now or now_utc()
    if flag_row is None:
        raise NotFound("未找到该举报")
    need = session.get(Need, flag_row.need_id)
    policy.check_review_need(office, need)
    if flag_row.status != FlagStatus.open:
        raise IllegalTransition("该举报已处理", code="flag_decided")
    note = rules.check_note(note)[:200]
    before = {"status": str(need.status)}
    if uphold:
        for other in session.scalars(select(NeedFlag).where(
                NeedFlag.need_id == need.id, NeedFlag.status == FlagStatus.open)):
            other.status, other.decided_by_id, other.decided_at = FlagStatus.upheld, office.id, now
        for c in need.claims:
            if c.status == ClaimStatus.held:
                c.status = ClaimStatus.withdrawn
                history.uncover(need, c.amount_fen)
        need.status = NeedStatus.removed
        history.record(session, need, "flag_upheld", office.id, note, now=now)
        history.record(session, need, "removed", office.id, now=now)
        action = AuditAction.need_flag_upheld
    else:
        flag_row.status, flag_row.decided_by_id, flag_row.decided_at = (
            FlagStatus.dismissed, office.id, now)
        history.record(session, need, "flag_dismissed", office.id, note, now=now)
        action = AuditAction.need_flag_dismissed
    audit.record(session, office, action, AuditObject.need, need.id, before=before,
                 after={"status": str(need.status), "flag": str(flag_row.reason)}, note=note,
                 parent=(AuditObject.household, need.household_id))
    return flag_row


def open_flags(session: Session, office, *, limit: int = 100) -> list[NeedFlag]:
    """Open flags on needs of the office's subtrees (platform admins: all), oldest first."""
    policy.require_user(office)
    village = aliased(Region)
    stmt = (select(NeedFlag).join(Need, NeedFlag.need_id == Need.id)
            .join(village, Need.village_id == village.id)
            .where(NeedFlag.status == FlagStatus.open))
    scope = services._office_scope(office, village)
    if scope is not None:
        stmt = stmt.where(scope)
    return list(session.scalars(stmt.order_by(NeedFlag.created_at, NeedFlag.id).limit(limit)))


def count_open(session: Session, need: Need) -> int:
    return session.scalar(select(func.count(NeedFlag.id)).where(
        NeedFlag.need_id == need.id, NeedFlag.status == FlagStatus.open)) or 0
