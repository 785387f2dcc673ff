"""Units (单位): applying and verification, reading, and counting an order toward a unit
(`checkout_for_unit`); a unit's people (invites, members, admins) are `units.roster`.

Who may see a unit: its members, its applicant, the offices over its region and platform
admins (core.policy.check_view_unit); its admins manage it. Another's unit answers 404, except
that verified units are listed publicly (`public_units`), so that counting an order toward a
verified unit one does not belong to is a broken rule (422), not a hidden object.

Services take an explicit session and actor and never commit.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    Duplicate,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.inputs import rejection_reason
from marketplace.core.pager import Page
from marketplace.core.time import now_utc
from marketplace.core.validators import normalize_credit_code, normalize_mobile
from marketplace.notifications.services import notify
from marketplace.orders import services as orders
from marketplace.orders.models import Channel, Order
from marketplace.orders.services import PAYMENT_WINDOW, AddressInput, LineInput
from marketplace.regions.models import LEVEL_CODE_LENGTH, Region, RegionLevel
from marketplace.regions.services import subtree_condition
from marketplace.units.models import Campaign, Unit, UnitKind, UnitMember, UnitStatus

COUNTY = LEVEL_CODE_LENGTH[RegionLevel.county]
UNIT_CHANNELS = (Channel.unit_member, Channel.unit_purchase)
# a union's purchase for the unit: what it is for
PURPOSES = {"welfare": "福利", "condolence": "慰问"}
NOT_FOUND = "未找到该单位"


# ---- applying and verification -------------------------------------------------------------

@dataclass
class UnitApplication:
    kind: str
    name: str
    credit_code: str
    region_code: str
    contact_name: str
    contact_mobile: str
    address_detail: str = ""
    invoice_title: str = ""


@dataclass
class _Checked:
    kind: UnitKind
    name: str
    credit_code: str
    region: Region
    office_region: Region
    contact_name: str
    contact_mobile: str
    address_detail: str
    invoice_title: str


def county_over(session: Session, region: Region) -> Region:
    """The county (区县) at or above `region`: by default the office that supervises a unit."""
    if len(region.code) == COUNTY:
        return region
    return session.scalar(select(Region).where(Region.code == region.code[:COUNTY])) or region


def _checked(session: Session, data: UnitApplication) -> _Checked:
    """The application's values, every input problem reported at once."""
    errors: dict[str, list[str]] = {}
    try:
        kind = UnitKind(data.kind)
    except ValueError:
        errors["kind"] = ["请选择单位类型（预算单位、企业、工会或社会组织）"]
        kind = None
    name = " ".join((data.name or "").split())
    if not 2 <= len(name) <= 100:
        errors["name"] = ["单位名称应为 2 到 100 个字"]
    credit_code = normalize_credit_code(data.credit_code or "")
    if credit_code is None:
        errors["credit_code"] = ["统一社会信用代码无效：应为 18 位，且末位校验码正确"]
    code = (data.region_code or "").strip()
    region = session.scalar(select(Region).where(Region.code == code)) if code else None
    if region is None or len(region.code) < COUNTY:
        errors["region_code"] = ["请选择单位所在地区（至少到区县）"]
    contact = (data.contact_name or "").strip()
    if not 2 <= len(contact) <= 32:
        errors["contact_name"] = ["请填写联系人姓名（2–32 个字）"]
    mobile = normalize_mobile(data.contact_mobile or "")
    if mobile is None:
        errors["contact_mobile"] = ["请输入有效的 11 位手机号"]
    address = " ".join((data.address_detail or "").split())
    if len(address) > 200:
        errors["address_detail"] = ["地址最多 200 个字"]
    invoice_title = " ".join((data.invoice_title or "").split())
    if len(invoice_title) > 100:
        errors["invoice_title"] = ["发票抬头最多 100 个字"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return _Checked(kind=kind, name=name, credit_code=credit_code, region=region,
                    office_region=county_over(session, region), contact_name=contact,
                    contact_mobile=mobile, address_detail=address,
                    invoice_title=invoice_title)


def apply(session: Session, actor: User, data: UnitApplication) -> Unit:
    """A pending unit; its applicant becomes its first admin once a platform admin verifies
    it. The applicant's own turned-down application with the same credit code is sent again
    (changed as given) instead of refused as a duplicate."""
    policy.require_user(actor)
    values = _checked(session, data)
    unit = session.scalar(select(Unit).where(Unit.credit_code == values.credit_code))
    if unit is not None and not (unit.status == UnitStatus.rejected
                                 and unit.applied_by == actor.id):
        raise Duplicate("该统一社会信用代码已登记：一个单位只能申请一次，"
                        "请联系该单位的管理员邀请您加入", field="credit_code")
    if unit is None:
        unit = Unit(credit_code=values.credit_code, applied_by=actor.id)
        session.add(unit)
    for name in ("kind", "name", "region", "office_region", "contact_name", "contact_mobile",
                 "address_detail", "invoice_title"):
        setattr(unit, name, getattr(values, name))
    unit.status = UnitStatus.pending
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same code applied for at the same moment
        raise Duplicate("该统一社会信用代码已登记", field="credit_code") from None
    return unit


def verify(session: Session, actor: User, unit: Unit) -> None:
    """A platform admin verifies a pending (or turned-down, or suspended) unit: its applicant
    becomes its first admin (role unit_admin) and is told."""
    policy.check_admin(actor)
    if unit.status == UnitStatus.verified:
        raise IllegalTransition("该单位已认证")
    before = unit.status
    unit.status = UnitStatus.verified
    unit.verified_at = now_utc()
    unit.rejection_reason = ""
    record(session, actor, AuditAction.unit_verified, AuditObject.unit, unit.id,
           before={"status": before}, after={"status": unit.status})
    applicant = session.get(User, unit.applied_by) if unit.applied_by else None
    if applicant is not None:
        if membership(session, applicant, unit.id) is None:
            session.add(UnitMember(unit_id=unit.id, user_id=applicant.id, is_admin=True,
                                   joined_at=now_utc()))
        grant_role(session, applicant, Role.unit_admin, actor=actor)
        notify(session, [applicant.id],
               Msg("单位“%(name)s”已通过认证，您是该单位的管理员，可以邀请成员加入。",
                   name=unit.name), "units.detail", unit_id=unit.id)
    session.flush()


def reject(session: Session, actor: User, unit: Unit, reason: str) -> None:
    """Turn a pending application down with a reason the applicant reads (a notice, the
    unit's page); they may change it and apply again with the same credit code."""
    policy.check_admin(actor)
    reason = rejection_reason(reason)
    if unit.status != UnitStatus.pending:
        raise IllegalTransition("只能驳回待审核的单位申请")
    unit.status = UnitStatus.rejected
    unit.rejection_reason = reason
    record(session, actor, AuditAction.unit_rejected, AuditObject.unit, unit.id,
           before={"status": UnitStatus.pending}, after={"status": unit.status}, note=reason)
    if unit.applied_by:
        notify(session, [unit.applied_by],
               Msg("单位申请“%(name)s”未通过审核：%(reason)s。修改后可以重新提交。",
                   name=unit.name, reason=reason), "units.detail", unit_id=unit.id)


def queue(session: Session, status: UnitStatus, page: int = 1, per_page: int = 20) -> Page[Unit]:
    """The platform admins' queue: units of one status, oldest application first."""
    where = Unit.status == status
    total = session.scalar(select(func.count()).select_from(Unit).where(where)) or 0
    items = list(session.scalars(select(Unit).where(where).order_by(Unit.created_at, Unit.id)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, total, page, per_page)


def count_by_status(session: Session) -> dict[str, int]:
    return {str(status): int(n) for status, n in session.execute(
        select(Unit.status, func.count()).group_by(Unit.status))}


# ---- reading ----------------------------------------------------------------------------------

def membership(session: Session, user: User | None, unit_id: int) -> UnitMember | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return session.scalar(select(UnitMember).where(UnitMember.unit_id == unit_id,
                                                   UnitMember.user_id == user.id))


def get_visible(session: Session, actor: User, unit_id: int) -> tuple[Unit, UnitMember | None]:
    """The unit and the actor's membership of it; 404 for a unit the actor may not see."""
    unit = session.get(Unit, unit_id)
    member = membership(session, actor, unit_id) if unit is not None else None
    policy.check_view_unit(actor, unit, member)
    return unit, member


def get_managed(session: Session, actor: User, unit_id: int) -> tuple[Unit, UnitMember | None]:
    """The unit its admin (or a platform admin) manages: 404 unseen, 403 seen but not theirs."""
    unit = session.get(Unit, unit_id)
    member = membership(session, actor, unit_id) if unit is not None else None
    policy.check_manage_unit(actor, unit, member)
    return unit, member


def my_units(session: Session, user: User) -> list[tuple[Unit, UnitMember | None]]:
    """The units the user belongs to, and their own applications not (yet) verified."""
    rows = session.execute(select(Unit, UnitMember).join(UnitMember, UnitMember.unit_id == Unit.id)
                           .where(UnitMember.user_id == user.id).order_by(Unit.name, Unit.id))
    out = [(unit, member) for unit, member in rows]
    seen = {unit.id for unit, _m in out}
    out += [(unit, None) for unit in session.scalars(
        select(Unit).where(Unit.applied_by == user.id, Unit.status != UnitStatus.verified)
        .order_by(Unit.id)) if unit.id not in seen]
    return out


def countable_units(session: Session, user: User, *, admin: bool = False) -> list[Unit]:
    """The verified units the user may count an order toward (`admin`: buy for)."""
    stmt = (select(Unit).join(UnitMember, UnitMember.unit_id == Unit.id)
            .where(UnitMember.user_id == user.id, Unit.status == UnitStatus.verified))
    if admin:
        stmt = stmt.where(UnitMember.is_admin.is_(True))
    return list(session.scalars(stmt.order_by(Unit.name, Unit.id)))


def public_units(session: Session, *, page: int = 1, per_page: int = 20,
                 region: Region | None = None, kind: UnitKind | None = None) -> Page[Unit]:
    """Verified units, by name (anyone may list them)."""
    where = [Unit.status == UnitStatus.verified]
    if kind is not None:
        where.append(Unit.kind == kind)
    stmt = select(Unit).where(*where)
    count = select(func.count()).select_from(Unit).where(*where)
    if region is not None:
        stmt = stmt.join(Region, Region.id == Unit.region_id).where(
            subtree_condition(Region.path, region))
        count = count.join(Region, Region.id == Unit.region_id).where(
            subtree_condition(Region.path, region))
    total = session.scalar(count) or 0
    items = list(session.scalars(stmt.order_by(Unit.name, Unit.id)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, total, page, per_page)


def member_counts(session: Session, unit_ids: Sequence[int]) -> dict[int, int]:
    ids = list(unit_ids)
    out = dict.fromkeys(ids, 0)
    if ids:
        out.update({uid: int(n) for uid, n in session.execute(
            select(UnitMember.unit_id, func.count()).where(UnitMember.unit_id.in_(ids))
            .group_by(UnitMember.unit_id))})
    return out


def members(session: Session, unit: Unit, page: int = 1,
            per_page: int = 50) -> Page[UnitMember]:
    """A unit's members, admins first, then by when they joined."""
    where = UnitMember.unit_id == unit.id
    total = session.scalar(select(func.count()).select_from(UnitMember).where(where)) or 0
    items = list(session.scalars(
        select(UnitMember).where(where)
        .order_by(UnitMember.is_admin.desc(), UnitMember.joined_at, UnitMember.id)
        .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, total, page, per_page)


# ---- counting an order toward a unit ----------------------------------------------------------

def unit_invoice_header(session: Session, order: Order) -> tuple[str, str] | None:
    """(title, tax number) a unit's own order is invoiced to: a unit's purchase, or the one
    order of a consolidated group purchase; None for an order a person paid for."""
    if order.unit_id is None:
        return None
    consolidated = order.channel == Channel.group_purchase and session.scalar(
        select(Campaign.id).where(Campaign.order_id == order.id)) is not None
    if order.channel != Channel.unit_purchase and not consolidated:
        return None
    unit = session.get(Unit, order.unit_id)
    return (unit.invoice_title or unit.name), unit.credit_code


def unit_address(unit: Unit) -> AddressInput:
    """The unit's address as an order's (prefilled for a unit's purchase)."""
    return AddressInput(unit.contact_name, unit.contact_mobile, unit.region.code,
                        unit.address_detail)


def check_countable(session: Session, buyer: User, unit_id, channel, purpose: str = "") -> Unit:
    """The unit an order of `buyer` may count toward, or the reason not: 404 for an unknown
    unit or one not verified that the buyer may not see; 422 (rule_broken) for a unit not
    verified, a buyer who is not its member (unit_member) or admin (unit_purchase), or a
    purpose other than a union's purchase for welfare or condolence."""
    try:
        channel = Channel(channel)
    except ValueError:
        raise ValidationFailed("未知的购买渠道", field="channel") from None
    if channel not in UNIT_CHANNELS:
        raise ValidationFailed("计入单位的购买渠道应为 unit_member 或 unit_purchase",
                               field="channel")
    if unit_id is None:  # a rule of the channel (422), like counting toward a unit one left
        raise RuleBroken("计入单位的订单须选择要计入的单位（unit_id）", field="unit_id")
    if not isinstance(unit_id, int) or isinstance(unit_id, bool):
        raise ValidationFailed("unit_id 应为整数", field="unit_id")
    unit = session.get(Unit, unit_id)
    member = membership(session, buyer, unit_id) if unit is not None else None
    if unit is None or (unit.status != UnitStatus.verified
                        and not policy.can_view_unit(buyer, unit, member)):
        raise NotFound(NOT_FOUND)
    if unit.status != UnitStatus.verified:
        raise RuleBroken("该单位尚未通过认证，订单暂不能计入该单位", field="unit_id")
    if member is None:
        raise RuleBroken("您不是该单位的成员，不能计入该单位", field="unit_id")
    if channel == Channel.unit_purchase and not member.is_admin:
        raise RuleBroken("只有单位管理员可以为单位采购", field="channel")
    if purpose:
        if purpose not in PURPOSES:
            raise ValidationFailed("采购用途应为 welfare（福利）或 condolence（慰问）",
                                   field="purpose")
        if channel != Channel.unit_purchase or unit.kind != UnitKind.union:
            raise RuleBroken("只有工会为单位采购时可以标记福利或慰问", field="purpose")
    return unit


def checkout_for_unit(session: Session, buyer: User, lines: Sequence[LineInput],
                      address: AddressInput | None, *, channel, unit_id, idempotency_key: str,
                      purpose: str = "", window: timedelta = PAYMENT_WINDOW,
                      now: datetime | None = None) -> list[Order]:
    """orders.services.checkout for an order counted toward a unit (its orders carry
    `unit_id`), once `check_countable` holds; nothing is written otherwise. A unit's purchase
    without an address goes to the unit's address."""
    unit = check_countable(session, buyer, unit_id, channel, purpose)
    if address is None:
        address = unit_address(unit)
    return orders.checkout(session, buyer, lines, address, idempotency_key=idempotency_key,
                           channel=Channel(channel), unit_id=unit.id, unit_purpose=purpose,
                           window=window, now=now)
