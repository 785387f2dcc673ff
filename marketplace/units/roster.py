"""A unit's people: invites (a code or a link, expiring, renewable, revocable), joining,
leaving, members removed, admins made and unmade (never the last one), and the leaderboards'
opt-ins (a unit's, a buyer's nickname). Services take an explicit session and actor and never
commit.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.accounts.services import grant_role
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.audit.services import record
from marketplace.core import policy
from marketplace.core.errors import (
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.notifications.services import notify
from marketplace.units.models import Unit, UnitMember, UnitStatus
from marketplace.units.services import NOT_FOUND, membership

INVITE_DAYS = 30  # an invite code is valid this long unless renewed or revoked
INVITE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed
INVITE_LENGTH = 8


# ---- invites ----------------------------------------------------------------------------------

def _new_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


def new_invite(session: Session, actor: User, unit: Unit, *, days: int = INVITE_DAYS,
               now: datetime | None = None) -> str:
    """Create or renew the unit's invite: a new code (the old one stops working), valid for
    `days`."""
    policy.check_manage_unit(actor, unit, membership(session, actor, unit.id))
    if unit.status != UnitStatus.verified:
        raise RuleBroken("单位通过认证后才能邀请成员")
    if not 1 <= days <= 365:
        raise ValidationFailed("邀请有效期应为 1 到 365 天", field="days")
    now = now or now_utc()
    for _attempt in range(5):
        code = _new_code()
        if session.scalar(select(Unit.id).where(Unit.invite_code == code)) is None:
            break
    unit.invite_code, unit.invite_expires_at = code, now + timedelta(days=days)
    session.flush()
    return code


def revoke_invite(session: Session, actor: User, unit: Unit) -> None:
    """The code and link stop working at once (members who joined stay)."""
    policy.check_manage_unit(actor, unit, membership(session, actor, unit.id))
    unit.invite_code, unit.invite_expires_at = None, None
    session.flush()


def invite_valid(unit: Unit, code: str, now: datetime | None = None) -> bool:
    code = (code or "").strip().upper()
    return bool(unit.status == UnitStatus.verified and unit.invite_code and code
                and secrets.compare_digest(unit.invite_code, code)
                and unit.invite_expires_at is not None
                and (now or now_utc()) < unit.invite_expires_at)


def find_by_invite(session: Session, code: str) -> Unit | None:
    """The verified unit whose current code this is (valid or expired); None for another."""
    code = (code or "").strip().upper()
    if not code or len(code) > 16:
        return None
    return session.scalar(select(Unit).where(Unit.invite_code == code,
                                             Unit.status == UnitStatus.verified))


def join(session: Session, user: User, unit: Unit, code: str,
         now: datetime | None = None) -> tuple[UnitMember, bool]:
    """Join with the unit's invite code: (the membership, whether it is new). A member joins
    again without a code check (idempotent). 404 for a unit not verified; 422 for a wrong,
    revoked or expired code."""
    policy.require_user(user)
    if unit is None or unit.status != UnitStatus.verified:
        raise NotFound(NOT_FOUND)
    existing = membership(session, user, unit.id)
    if existing is not None:
        return existing, False
    if not invite_valid(unit, code, now):
        raise RuleBroken("邀请码不正确或已过期，请向单位管理员索取新的邀请码", field="code",
                         code="invalid_invite")
    member = UnitMember(unit_id=unit.id, user_id=user.id, is_admin=False,
                        joined_at=now or now_utc())
    session.add(member)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # joined at the same moment in another request
        return membership(session, user, unit.id), False
    return member, True


# ---- members and admins -----------------------------------------------------------------------

def _lock(session: Session, unit: Unit) -> None:
    """Take the unit's row, so that two admins changing admins at once keep one admin."""
    session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())


def _admin_count(session: Session, unit: Unit) -> int:
    return session.scalar(select(func.count()).select_from(UnitMember).where(
        UnitMember.unit_id == unit.id, UnitMember.is_admin.is_(True))) or 0


LAST_ADMIN = "单位至少需要一名管理员：请先指定另一名成员为管理员"


def _drop_admin_role(session: Session, user_id: int, actor: User) -> None:
    """The unit_admin role goes when the user administers no unit any more. Their sessions
    stay (accounts.services.revoke_grant would end them): what a unit's admin may do is read
    from their membership, not from the role, which only names them."""
    still = session.scalar(select(func.count()).select_from(UnitMember).where(
        UnitMember.user_id == user_id, UnitMember.is_admin.is_(True)))
    user = session.get(User, user_id)
    if still or user is None:
        return
    for grant in [g for g in user.grants if g.role == Role.unit_admin]:
        user.grants.remove(grant)
        record(session, actor, AuditAction.role_revoked, AuditObject.user, user.id,
               before={"role": Role.unit_admin})
    session.flush()


def _member(session: Session, unit: Unit, member_id: int) -> UnitMember:
    member = session.get(UnitMember, member_id)
    if member is None or member.unit_id != unit.id:
        raise NotFound("未找到该成员")
    return member


def leave(session: Session, user: User, unit: Unit) -> None:
    """A member leaves (the last admin cannot: another admin first)."""
    member = membership(session, user, unit.id)
    if member is None:
        raise NotFound(NOT_FOUND)
    _lock(session, unit)
    if member.is_admin and _admin_count(session, unit) <= 1:
        raise RuleBroken(LAST_ADMIN)
    was_admin = member.is_admin
    session.delete(member)
    session.flush()
    if was_admin:
        _drop_admin_role(session, user.id, user)


def remove_member(session: Session, actor: User, unit: Unit, member_id: int) -> None:
    """An admin removes a member (also another admin; never the last one)."""
    policy.check_manage_unit(actor, unit, membership(session, actor, unit.id))
    member = _member(session, unit, member_id)
    _lock(session, unit)
    if member.is_admin and _admin_count(session, unit) <= 1:
        raise RuleBroken(LAST_ADMIN)
    user_id, was_admin = member.user_id, member.is_admin
    record(session, actor, AuditAction.unit_member_removed, AuditObject.unit, unit.id,
           before={"user_id": user_id, "is_admin": was_admin})
    session.delete(member)
    session.flush()
    if was_admin:
        _drop_admin_role(session, user_id, actor)
    notify(session, [user_id], Msg("您已被移出单位“%(name)s”。", name=unit.name))


def set_admin(session: Session, actor: User, unit: Unit, member_id: int, admin: bool) -> None:
    """An admin makes a member admin (role unit_admin) or no longer admin (never the last)."""
    policy.check_manage_unit(actor, unit, membership(session, actor, unit.id))
    member = _member(session, unit, member_id)
    if member.is_admin == admin:
        return
    _lock(session, unit)
    if not admin and _admin_count(session, unit) <= 1:
        raise RuleBroken(LAST_ADMIN)
    member.is_admin = admin
    session.flush()
    record(session, actor, AuditAction.unit_admin_changed, AuditObject.unit, unit.id,
           before={"user_id": member.user_id, "is_admin": not admin},
           after={"user_id": member.user_id, "is_admin": admin})
    if admin:
        grant_role(session, session.get(User, member.user_id), Role.unit_admin, actor=actor)
        notify(session, [member.user_id], Msg("您已成为单位“%(name)s”的管理员。", name=unit.name),
               "units.detail", unit_id=unit.id)
    else:
        _drop_admin_role(session, member.user_id, actor)


def set_leaderboard(session: Session, actor: User, unit: Unit, on: bool) -> None:
    """Its admins put the unit on the public 爱心单位榜 or take it off."""
    policy.check_manage_unit(actor, unit, membership(session, actor, unit.id))
    unit.on_leaderboard = bool(on)
    session.flush()


def set_board_nickname(session: Session, user: User, nickname: str) -> None:
    """A buyer's name on the buyers' leaderboard; "" takes them off it."""
    policy.require_user(user)
    nickname = " ".join((nickname or "").split())
    if len(nickname) > 32:
        raise ValidationFailed("榜单昵称最多 32 个字", field="board_nickname")
    user.board_nickname = nickname
    session.flush()
