"""Sellers: applications, verification, cooperative members."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, RoleGrant, User
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
from marketplace.core.i18n import Msg
from marketplace.core.inputs import rejection_reason
from marketplace.core.time import now_utc
from marketplace.core.validators import normalize_credit_code, normalize_mobile
from marketplace.households.models import Household
from marketplace.households.services import matches_id_number
from marketplace.notifications.services import notify
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


@dataclass
class _Checked:
    """An application's values once every rule holds."""
    kind: SellerKind
    name: str
    region: Region
    contact_name: str
    contact_mobile: str
    description: str
    credit_code: str | None
    household: Household | None


def _checked(session: Session, actor: User, data: SellerApplication,
             seller: Seller | None = None) -> _Checked:
    """The application's values, every input problem reported at once, and no name, credit code
    or household another seller holds (`seller`: the application sent again, which may keep
    its own)."""
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

    _check_unused(session, actor, seller, "name", Seller.name == name,
                  "该名称已被其他经营主体使用")
    if credit_code:
        _check_unused(session, actor, seller, "credit_code", Seller.credit_code == credit_code,
                      "该统一社会信用代码已登记")
    if household is not None:
        _check_unused(session, actor, seller, "household_code",
                      Seller.household_id == household.id, "该帮扶对象已开设农户店铺")
    return _Checked(kind=kind, name=name, region=region, contact_name=contact,
                    contact_mobile=mobile, description=(data.description or "").strip()[:2000],
                    credit_code=credit_code, household=household)


def _check_unused(session: Session, actor: User, seller: Seller | None, field: str, taken,
                  message: str) -> None:
    """Duplicate when another seller holds the value; the actor's own turned-down application
    that holds it is named, so that they send that one again instead."""
    other = session.scalar(select(Seller).where(taken).limit(1))
    if other is None or other is seller:
        return
    if other.status == SellerStatus.rejected and other.applicant_id == actor.id:
        raise Duplicate(Msg("您的入驻申请“%(name)s”未通过审核，请在商家中心修改后重新提交，"
                            "不必另行申请", name=other.name), field=field)
    raise Duplicate(message, field=field)


def apply(session: Session, actor: User, data: SellerApplication) -> Seller:
    """Create a pending seller and make the applicant its staff."""
    policy.require_user(actor)
    values = _checked(session, actor, data)
    seller = Seller(kind=values.kind, name=values.name, credit_code=values.credit_code,
                    household=values.household, region=values.region,
                    contact_name=values.contact_name, contact_mobile=values.contact_mobile,
                    description=values.description,
                    status=SellerStatus.pending, applicant_id=actor.id)
    session.add(seller)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Duplicate("名称、信用代码或帮扶对象已被登记", field="name") from None
    grant_role(session, actor, Role.seller_staff, seller_id=seller.id, actor=actor)
    return seller


def resubmit(session: Session, actor: User, seller: Seller, data: SellerApplication) -> Seller:
    """The applicant sends a turned-down application again, changed as they see fit: the same
    seller (its staff, products and members stay) with the same rules as a new application,
    pending again. The reason it was turned down stays for the reviewer to compare."""
    policy.check_manage_seller(actor, seller)
    if seller.status != SellerStatus.rejected:
        raise IllegalTransition("只有未通过审核的入驻申请可以修改后重新提交")
    values = _checked(session, actor, data, seller=seller)
    before = {"status": seller.status}
    after = {"status": SellerStatus.pending}
    for field, old, new in (("name", seller.name, values.name),
                            ("kind", seller.kind, values.kind),
                            ("region", seller.region.code, values.region.code),
                            ("credit_code", seller.credit_code, values.credit_code),
                            ("household", seller.household.code if seller.household else None,
                             values.household.code if values.household else None)):
        if old != new:
            before[field], after[field] = old, new
    seller.kind, seller.name, seller.region = values.kind, values.name, values.region
    seller.credit_code, seller.household = values.credit_code, values.household
    seller.contact_name, seller.contact_mobile = values.contact_name, values.contact_mobile
    seller.description = values.description
    seller.status = SellerStatus.pending
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Duplicate("名称、信用代码或帮扶对象已被登记", field="name") from None
    record(session, actor, AuditAction.seller_resubmitted, AuditObject.seller, seller.id,
           before=before, after=after)
    return seller


def verify(session: Session, actor: User, seller: Seller) -> None:
    policy.check_admin(actor)
    if seller.status == SellerStatus.verified:
        raise IllegalTransition("该经营主体已认证")
    before = seller.status
    seller.status = SellerStatus.verified
    seller.status_note = ""
    seller.rejection_reason, seller.rejected_at = "", None
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


def reject(session: Session, actor: User, seller: Seller, reason: str) -> None:
    """Turn a pending application down with a reason the applicant reads (on their console and
    in a notice) before they change it and send it again (`resubmit`)."""
    policy.check_admin(actor)
    reason = rejection_reason(reason)
    if seller.status != SellerStatus.pending:
        raise IllegalTransition("只能驳回待审核的入驻申请")
    seller.status = SellerStatus.rejected
    seller.rejection_reason = reason
    seller.rejected_at = now_utc()
    record(session, actor, AuditAction.seller_rejected, AuditObject.seller, seller.id,
           before={"status": SellerStatus.pending}, after={"status": seller.status}, note=reason)
    staff = session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == Role.seller_staff, RoleGrant.seller_id == seller.id))
    notify(session, [*staff, *([seller.applicant_id] if seller.applicant_id else [])],
           Msg("入驻申请“%(name)s”未通过审核：%(reason)s。修改后可以重新提交。",
               name=seller.name, reason=reason), "seller.index", seller=seller.id)


def get_managed(session: Session, actor: User, seller_id: int) -> Seller:
    seller = session.get(Seller, seller_id)
    policy.check_manage_seller(actor, seller)
    return seller


def get_public(session: Session, seller_id: int) -> Seller:
    seller = session.get(Seller, seller_id)
    if seller is None or seller.status != SellerStatus.verified:
        raise NotFound("未找到该经营主体")
    return seller


# sellers with a list of their own households: a cooperative's members (who share its sales by
# weight and sell it their produce) and an enterprise's linked households (带动农户, whom it buys
# from; its sales go to them through supply lots, so their weight is not used)
MEMBER_SELLERS = (SellerKind.cooperative, SellerKind.enterprise)


def set_member(session: Session, actor: User, seller: Seller, household_code: str,
               weight: int) -> CooperativeMember:
    policy.check_manage_seller(actor, seller)
    if seller.kind not in MEMBER_SELLERS:
        raise RuleBroken("只有农民专业合作社和带农企业登记农户名单")
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


def member_households(session: Session, seller: Seller) -> list[Household]:
    """The seller's own households (members, linked households), by village and code."""
    return list(session.scalars(
        select(Household).join(CooperativeMember, CooperativeMember.household_id == Household.id)
        .join(Region, Region.id == Household.village_id)
        .where(CooperativeMember.seller_id == seller.id)
        .order_by(Region.code, Household.code)))


def is_member(session: Session, seller: Seller, household_id: int) -> bool:
    return session.scalar(select(CooperativeMember.id).where(
        CooperativeMember.seller_id == seller.id,
        CooperativeMember.household_id == household_id)) is not None


def queue(session: Session, status: SellerStatus | None = SellerStatus.pending) -> list[Seller]:
    stmt = select(Seller).order_by(Seller.created_at, Seller.id)
    if status is not None:
        stmt = stmt.where(Seller.status == status)
    return list(session.scalars(stmt))


def count_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Seller.status, func.count()).group_by(Seller.status)).all())


__all__ = ["SellerApplication", "apply", "resubmit", "verify", "reject", "suspend", "get_managed",
           "get_public", "MEMBER_SELLERS", "set_member", "remove_member", "member_households",
           "is_member", "queue", "count_by_status", "IntegrityError"]
