"""Sellers: applications, verification, cooperative members."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.accounts.services import grant_role
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.audit.services import record
from marketplace.core import policy
from marketplace.core.errors import (
    Duplicate,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.time import now_utc
from marketplace.core.validators import normalize_credit_code, normalize_mobile
from marketplace.households.models import Household
from marketplace.households.services import matches_id_number
from marketplace.regions.models import Region
from marketplace.sellers.models import CooperativeMember, Seller, SellerKind, SellerStatus


@dataclass
class SellerApplication:
    kind: str
    name: str
    region_code: str
    contact_name: str
    contact_mobile: str
    description: str = ""
    credit_code: str = ""
    household_code: str = ""
    household_id_number: str = ""  # proves a household shop belongs to the applicant


def apply(session: Session, actor: User, data: SellerApplication) -> Seller:
    """Create a pending seller and make the applicant its staff."""
    policy.require_user(actor)
    errors: dict[str, list[str]] = {}
    try:
        kind = SellerKind(data.kind)
    except ValueError:
        errors["kind"] = ["请选择经营主体类型"]
        kind = None
    name = (data.name or "").strip()
    if not (2 <= len(name) <= 100):
        errors["name"] = ["名称应为 2 到 100 个字"]
    region = session.scalar(select(Region).where(Region.code == (data.region_code or "").strip()))
    if region is None:
        errors["region_code"] = ["请选择所在地区"]
    contact = (data.contact_name or "").strip()
    if not (2 <= len(contact) <= 32):
        errors["contact_name"] = ["请填写联系人姓名"]
    mobile = normalize_mobile(data.contact_mobile)
    if mobile is None:
        errors["contact_mobile"] = ["请输入有效的 11 位手机号"]
    credit_code = None
    household = None
    if kind in (SellerKind.cooperative, SellerKind.enterprise):
        credit_code = normalize_credit_code(data.credit_code)
        if credit_code is None:
            errors["credit_code"] = ["统一社会信用代码无效：应为 18 位，且末位校验码正确"]
    elif kind == SellerKind.household_shop:
        household = session.scalar(select(Household).where(
            Household.code == (data.household_code or "").strip()))
        if household is None:
            errors["household_code"] = ["未找到该帮扶对象编号"]
        elif not (policy.is_admin(actor) or household.liaison_id == actor.id
                  or matches_id_number(household, data.household_id_number)):
            errors["household_id_number"] = ["户主身份证号码与该帮扶对象不符"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)

    if session.scalar(select(Seller.id).where(Seller.name == name)) is not None:
        raise Duplicate("该名称已被其他经营主体使用", field="name")
    if credit_code and session.scalar(
            select(Seller.id).where(Seller.credit_code == credit_code)) is not None:
        raise Duplicate("该统一社会信用代码已登记", field="credit_code")
    if household is not None and session.scalar(
            select(Seller.id).where(Seller.household_id == household.id)) is not None:
        raise Duplicate("该帮扶对象已开设农户店铺", field="household_code")

    seller = Seller(kind=kind, name=name, credit_code=credit_code, household=household,
                    region=region, contact_name=contact, contact_mobile=mobile,
                    description=(data.description or "").strip()[:2000],
                    status=SellerStatus.pending, applicant_id=actor.id)
    session.add(seller)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Duplicate("名称、信用代码或帮扶对象已被登记", field="name") from None
    grant_role(session, actor, Role.seller_staff, seller_id=seller.id, actor=actor)
    return seller


def verify(session: Session, actor: User, seller: Seller) -> None:
    policy.check_admin(actor)
    if seller.status == SellerStatus.verified:
        raise IllegalTransition("该经营主体已认证")
    before = seller.status
    seller.status = SellerStatus.verified
    seller.status_note = ""
    seller.verified_at = now_utc()
    record(session, actor, AuditAction.seller_verified, AuditObject.seller, seller.id,
           before={"status": before}, after={"status": seller.status})


def suspend(session: Session, actor: User, seller: Seller, note: str) -> None:
    policy.check_admin(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("请填写暂停原因", field="note")
    if seller.status == SellerStatus.suspended:
        raise IllegalTransition("该经营主体已暂停")
    before = seller.status
    seller.status = SellerStatus.suspended
    seller.status_note = note[:200]
    record(session, actor, AuditAction.seller_suspended, AuditObject.seller, seller.id,
           before={"status": before}, after={"status": seller.status}, note=seller.status_note)


def get_managed(session: Session, actor: User, seller_id: int) -> Seller:
    seller = session.get(Seller, seller_id)
    policy.check_manage_seller(actor, seller)
    return seller


def get_public(session: Session, seller_id: int) -> Seller:
    seller = session.get(Seller, seller_id)
    if seller is None or seller.status != SellerStatus.verified:
        raise NotFound("未找到该经营主体")
    return seller


def set_member(session: Session, actor: User, seller: Seller, household_code: str,
               weight: int) -> CooperativeMember:
    policy.check_manage_seller(actor, seller)
    if seller.kind != SellerKind.cooperative:
        raise RuleBroken("只有农民专业合作社可以登记成员户")
    household = session.scalar(select(Household).where(Household.code == household_code.strip()))
    if household is None:
        raise ValidationFailed("未找到该帮扶对象编号", field="household_code")
    if not isinstance(weight, int) or not 1 <= weight <= 1_000_000:
        raise ValidationFailed("权重应为 1 到 1000000 之间的整数", field="weight")
    member = session.scalar(select(CooperativeMember).where(
        CooperativeMember.seller_id == seller.id, CooperativeMember.household_id == household.id))
    if member is None:
        member = CooperativeMember(seller=seller, household=household, weight=weight)
        session.add(member)
    else:
        member.weight = weight
    session.flush()
    return member


def remove_member(session: Session, actor: User, seller: Seller, member_id: int) -> None:
    policy.check_manage_seller(actor, seller)
    member = session.get(CooperativeMember, member_id)
    if member is None or member.seller_id != seller.id:
        raise NotFound("未找到该成员户")
    session.delete(member)
    session.flush()


def queue(session: Session, status: SellerStatus | None = SellerStatus.pending) -> list[Seller]:
    stmt = select(Seller).order_by(Seller.created_at, Seller.id)
    if status is not None:
        stmt = stmt.where(Seller.status == status)
    return list(session.scalars(stmt))


def count_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Seller.status, func.count()).group_by(Seller.status)).all())


__all__ = ["SellerApplication", "apply", "verify", "suspend", "get_managed", "get_public",
           "set_member", "remove_member", "queue", "count_by_status", "IntegrityError"]
