"""Households: registration with ID-number checks, the views liaisons and offices get, and the
consent to a household's public page (recorded each time, revocable)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.audit.services import record
from marketplace.core import policy
from marketplace.core.errors import Duplicate, NotFound, RuleBroken, ValidationFailed
from marketplace.core.time import now_utc
from marketplace.core.validators import id_number_hash, normalize_id_number
from marketplace.households.models import Household, HouseholdConsent, HouseholdStatus
from marketplace.regions.models import Region, RegionLevel
from marketplace.regions.services import subtree_condition


@dataclass
class HouseholdInput:
    village_code: str
    head_name: str
    id_number: str
    size: int
    status: str
    liaison_id: int | None = None


def hash_key() -> str:
    return current_app.config["HOUSEHOLD_ID_HASH_KEY"]


def new_code() -> str:
    return "H" + secrets.token_hex(5).upper()


def register_household(session: Session, actor: User, data: HouseholdInput,
                       *, key: str | None = None) -> Household:
    errors: dict[str, list[str]] = {}
    village = session.scalar(select(Region).where(Region.code == (data.village_code or "").strip()))
    if village is None or village.level != RegionLevel.village:
        errors["village_code"] = ["请选择帮扶对象所在的村"]
    name = (data.head_name or "").strip()
    if not (2 <= len(name) <= 16):
        errors["head_name"] = ["户主姓名应为 2 到 16 个字"]
    id_number = normalize_id_number(data.id_number)
    if id_number is None:
        errors["id_number"] = ["身份证号码无效：请检查位数、出生日期和末位校验码"]
    try:
        size = int(data.size)
        if not 1 <= size <= 30:
            raise ValueError
    except (TypeError, ValueError):
        errors["size"] = ["家庭人口应为 1 到 30 之间的整数"]
        size = 0
    try:
        status = HouseholdStatus(data.status)
    except ValueError:
        errors["status"] = ["请选择帮扶对象类别"]
        status = None
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors=errors)
    policy.check_register_household(actor, village)

    liaison_id = data.liaison_id
    if not (policy.is_admin(actor) or policy.office_covers(actor, village)):
        liaison_id = actor.id  # a liaison registers households for themselves
    if liaison_id:
        liaison = session.get(User, liaison_id)
        if liaison is None or not liaison.has_role(Role.liaison):
            raise ValidationFailed("所选帮扶联络人不存在", field="liaison_id")

    digest = id_number_hash(id_number, key or hash_key())
    if session.scalar(select(Household.id).where(Household.id_hash == digest)) is not None:
        raise Duplicate("该身份证号码已登记为帮扶对象户主，不能重复登记", field="id_number")
    household = Household(code=new_code(), village=village, head_name=name, id_hash=digest,
                          id_last4=id_number[-4:], size=size, status=status,
                          liaison_id=liaison_id, registered_by_id=actor.id)
    session.add(household)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Duplicate("该身份证号码已登记为帮扶对象户主，不能重复登记",
                        field="id_number") from None
    record(session, actor, AuditAction.household_registered, AuditObject.household, household.id,
           after={"code": household.code, "village": village.code, "head": household.masked_name,
                  "size": size, "status": status, "liaison_id": liaison_id})
    return household


def matches_id_number(household: Household, id_number: str, key: str | None = None) -> bool:
    normalized = normalize_id_number(id_number)
    return bool(normalized) and id_number_hash(normalized, key or hash_key()) == household.id_hash


def get_by_code(session: Session, code: str) -> Household:
    household = session.scalar(select(Household).where(Household.code == (code or "").strip()))
    if household is None:
        raise NotFound("未找到该帮扶对象")
    return household


@dataclass(frozen=True)
class HouseholdSearch:
    """What a staff list of households is narrowed to: `q` a piece of the head's name (staff who
    may see the household may find it by the name they know, though pages show it masked), of
    its code or of its village's place names; `status` one kind of household. Empty: all."""
    q: str = ""
    status: HouseholdStatus | None = None

    @classmethod
    def from_args(cls, args) -> HouseholdSearch:
        q = " ".join((args.get("q") or "").split())[:MAX_QUERY]
        try:
            status = HouseholdStatus(args.get("status") or "")
        except ValueError:
            status = None
        return cls(q, status)

    @property
    def active(self) -> bool:
        return bool(self.q or self.status)


MAX_QUERY = 32


def search_condition(search: HouseholdSearch, village) -> ColumnElement[bool]:
    """A WHERE clause for `search`; `village` is the Region (or its alias) joined as the
    household's village."""
    conds = []
    if search.q:
        conds.append(or_(Household.head_name.contains(search.q, autoescape=True),
                         func.upper(Household.code).contains(search.q.upper(), autoescape=True),
                         village.name_path.contains(search.q, autoescape=True)))
    if search.status is not None:
        conds.append(Household.status == search.status)
    return and_(true(), *conds)


def visible_households(session: Session, actor: User, *, region: Region | None = None,
                       search: HouseholdSearch = HouseholdSearch(), own: bool = False,
                       page: int = 1, per_page: int = 50) -> tuple[list[Household], int]:
    """Households the actor may see: their own (liaison), their subtree (office), all (admin);
    `own`: only those the actor is the liaison of, whatever else they may see."""
    stmt = select(Household).join(Household.village)
    if own:
        stmt = stmt.where(Household.liaison_id == actor.id)
    elif not policy.is_admin(actor):
        conds = [Household.liaison_id == actor.id]
        conds += [Region.path.like(p + "%") for p in policy.office_paths(actor)]
        stmt = stmt.where(or_(*conds))
    if region is not None:
        stmt = stmt.where(subtree_condition(Region.path, region))
    stmt = stmt.where(search_condition(search, Region))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Region.code, Household.id)
                           .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total or 0


def liaisons(session: Session) -> list[User]:
    from marketplace.accounts.models import RoleGrant
    return list(session.scalars(select(User).join(RoleGrant).where(
        RoleGrant.role == Role.liaison).order_by(User.id)).unique())


# ---- the public page ------------------------------------------------------------------------

def set_public(session: Session, actor: User, household: Household, public: bool, method: str,
               *, now: datetime | None = None) -> HouseholdConsent:
    """Record the household's consent to its public page (`public`) or its withdrawal, by its
    liaison, an office over it or an admin (404 for anyone else). Giving consent needs how it
    was given; the page gets a new address each time, and none once consent is withdrawn."""
    policy.check_view_household(actor, household)
    method = " ".join((method or "").split())
    if public and not method:
        raise ValidationFailed("请填写户主同意的方式，例如：户主书面签字", field="method")
    if len(method) > 100:
        raise ValidationFailed("同意方式最多 100 个字", field="method")
    if public == (household.public_token is not None):
        raise RuleBroken("该户的公开页面已开启" if public else "该户的公开页面未开启")
    now = now or now_utc()
    consent = HouseholdConsent(household_id=household.id, public=public,
                               method=method or "撤回同意", recorded_by_id=actor.id,
                               created_at=now)
    session.add(consent)
    household.public_token = secrets.token_urlsafe(12) if public else None
    household.public_since = now if public else None
    session.flush()
    record(session, actor,
           AuditAction.consent_given if public else AuditAction.consent_withdrawn,
           AuditObject.household, household.id, before={"public": not public},
           after={"public": public, "method": consent.method})
    return consent


def consents(session: Session, household: Household) -> list[HouseholdConsent]:
    return list(session.scalars(select(HouseholdConsent).where(
        HouseholdConsent.household_id == household.id).order_by(HouseholdConsent.id.desc())))


def public_household(session: Session, token: str) -> Household:
    """The household whose public page `token` opens, while it consents; 404 otherwise."""
    household = None
    if token and len(token) <= 24:
        household = session.scalar(select(Household).where(Household.public_token == token))
    if household is None:
        raise NotFound("该公开页面不存在或已关闭")
    return household
