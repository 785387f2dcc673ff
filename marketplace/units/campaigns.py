"""Group purchases (团购): who may open, see, join and manage a campaign, opening one (every
problem named at once), and reading its fill (committed quantities against the tiers and the
minimum) and lists. Joining, paying, changing and withdrawing are `units.participations`;
closing is `units.settlement`.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core import policy
from marketplace.core.errors import (
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.orders import services as orders
from marketplace.orders.services import AddressInput
from marketplace.sellers.models import SellerStatus
from marketplace.units import rules
from marketplace.units import services as units
from marketplace.units.models import (
    Audience,
    Campaign,
    CampaignProduct,
    CampaignStatus,
    CampaignTier,
    Delivery,
    Participation,
    ParticipationLine,
    ParticipationStatus,
    Unit,
    UnitMember,
    UnitStatus,
)

MAX_PRODUCTS = 20
MAX_DAYS = 90  # a campaign runs at most this long
MAX_PARTICIPANT_QUANTITY = 999


# ---- input --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProductTerms:
    product_id: int
    tiers: Sequence[rules.Tier]


@dataclass(frozen=True)
class CampaignInput:
    unit_id: int | None
    title: str
    products: Sequence[ProductTerms]
    minimum_quantity: int
    per_person_limit: int
    deadline: datetime
    delivery: str = Delivery.individual
    audience: str = Audience.members
    starts_at: datetime | None = None
    description: str = ""
    address: AddressInput | None = None  # consolidated: the unit's (default: its own address)


# ---- who may do what ---------------------------------------------------------------------------

def admin_unit_ids(session: Session, user) -> set[int]:
    """The verified units `user` administers (those they may buy for)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return {unit.id for unit in units.countable_units(session, user, admin=True)}


def member_unit_ids(session: Session, user) -> set[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(session.scalars(select(UnitMember.unit_id).where(UnitMember.user_id == user.id)))


def can_manage(session: Session, user, campaign: Campaign) -> bool:
    """Its unit's admins (a public campaign: its seller's staff) and platform admins."""
    if policy.is_admin(user):
        return True
    if campaign.unit_id is not None:
        member = units.membership(session, user, campaign.unit_id)
        return bool(member is not None and member.is_admin
                    and campaign.unit.status == UnitStatus.verified)
    return policy.staff_of(user, campaign.seller_id)


def can_join(session: Session, user, campaign: Campaign) -> bool:
    """Anyone with the link; for a members' campaign, the unit's members."""
    if campaign.audience == Audience.link:
        return True
    return can_manage(session, user, campaign) or (
        campaign.unit_id is not None
        and units.membership(session, user, campaign.unit_id) is not None)


def campaign_for(session: Session, user, campaign_id: int) -> Campaign:
    """A campaign `user` may see (who may join it, and who manages it); 404 otherwise."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not can_join(session, user, campaign):
        raise NotFound("未找到该团购")
    return campaign


def participation_for(session: Session, user, participation_id: int) -> Participation:
    """Its participant's, or the campaign's managers'; 404 otherwise."""
    part = session.get(Participation, participation_id)
    if part is None or not (part.user_id == getattr(user, "id", None)
                            or can_manage(session, user, part.campaign)):
        raise NotFound("未找到该参团记录")
    return part


# ---- opening ------------------------------------------------------------------------------------

def open_campaign(session: Session, actor: User, data: CampaignInput, *,
                  now: datetime | None = None) -> Campaign:
    """A unit admin opens a campaign for the unit (a verified seller's staff a public one, by
    link, for their own products). Every problem is named at once; nothing is written then."""
    policy.require_user(actor)
    now = now or now_utc()
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    title = (data.title or "").strip()
    if not 2 <= len(title) <= 100:
        bad("title", "请填写团购名称（2–100 个字）")
    unit = session.get(Unit, data.unit_id) if data.unit_id is not None else None
    if data.unit_id is not None and (unit is None or (
            unit.id not in admin_unit_ids(session, actor) and not policy.is_admin(actor))):
        raise NotFound("未找到该单位")
    if unit is not None and unit.status != UnitStatus.verified:
        raise RuleBroken("单位通过认证后才能发起团购", field="unit_id")
    try:
        delivery, audience = Delivery(data.delivery), Audience(data.audience)
    except ValueError:
        raise ValidationFailed(
            "配送方式应为 individual 或 consolidated，参与范围应为 members 或 link",
            field="delivery") from None
    if unit is None and (delivery == Delivery.consolidated or audience == Audience.members):
        bad("unit_id", "统一配送和仅限单位成员的团购须由单位发起")
    for name, value, top in (("minimum_quantity", data.minimum_quantity, 100_000),
                             ("per_person_limit", data.per_person_limit,
                              MAX_PARTICIPANT_QUANTITY)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
            bad(name, Msg("应为 1–%(top)s 的整数", top=top))
    starts = data.starts_at or now
    if data.deadline <= now:
        bad("deadline", "截止时间必须晚于现在")
    elif data.deadline <= starts:
        bad("deadline", "截止时间必须晚于开始时间")
    elif data.deadline - starts > timedelta(days=MAX_DAYS):
        bad("deadline", Msg("团购最长进行 %(n)s 天", n=MAX_DAYS))
    terms = _product_terms(session, actor, unit, data.products, bad)
    if terms and "minimum_quantity" not in errors:
        stock = sum(product.stock for product, _ in terms)
        if data.minimum_quantity > stock:
            bad("minimum_quantity", Msg("成团数量不能超过现有库存（%(n)s 件）", n=stock))
    address = None
    if delivery == Delivery.consolidated and unit is not None:
        given = data.address or AddressInput(unit.contact_name, unit.contact_mobile,
                                             unit.region.code, unit.address_detail)
        try:
            address = orders.clean_address(session, given)
        except ValidationFailed as exc:
            for field, messages in (exc.errors or {"address": [exc.message]}).items():
                for message in messages:
                    bad(f"address.{field}", message)
    if errors:
        raise ValidationFailed("团购信息有误，请检查", errors=errors)
    campaign = Campaign(
        unit_id=unit.id if unit else None, seller_id=terms[0][0].seller_id,
        created_by=actor.id, title=title, description=(data.description or "").strip()[:2000],
        minimum_quantity=data.minimum_quantity, per_person_limit=data.per_person_limit,
        starts_at=starts, deadline=data.deadline, delivery=delivery, audience=audience,
        link_code=secrets.token_urlsafe(9)[:12], status=CampaignStatus.open,
        created_at=now, updated_at=now)
    if address is not None:
        fields, region = address
        campaign.recipient, campaign.mobile = fields["recipient"], fields["mobile"]
        campaign.address_detail, campaign.region_id = fields["address_detail"], region.id
    session.add(campaign)
    session.flush()
    for product, tiers in terms:
        cp = CampaignProduct(campaign_id=campaign.id, product_id=product.id,
                             list_price_fen=product.price_fen)
        session.add(cp)
        session.flush()
        session.add_all([CampaignTier(campaign_product_id=cp.id, min_quantity=t.min_quantity,
                                      price_fen=t.price_fen) for t in tiers])
    session.flush()
    session.refresh(campaign)
    return campaign


def _product_terms(session, actor, unit, products: Sequence[ProductTerms], bad):
    if not products:
        bad("products", "请至少选择一件商品")
        return []
    if len(products) > MAX_PRODUCTS:
        bad("products", Msg("一次团购最多 %(n)s 种商品", n=MAX_PRODUCTS))
        return []
    out, sellers = [], set()
    for i, item in enumerate(products):
        product = session.get(Product, item.product_id) if isinstance(item.product_id, int) \
            else None
        field = f"products[{i}]"
        if product is None or product.status != ProductStatus.listed \
                or product.seller.status != SellerStatus.verified:
            bad(field, "商品不存在或未上架")
            continue
        if any(p.id == product.id for p, _ in out):
            bad(field, "同一商品只能出现一次")
            continue
        tiers = sorted(item.tiers, key=lambda t: t.min_quantity)
        for problem in rules.tier_problems(product.price_fen, list(item.tiers)):
            bad(field, Msg("%(name)s：%(p)s", name=product.name, p=problem))
        sellers.add(product.seller_id)
        out.append((product, tiers))
    if len(sellers) > 1:
        bad("products", "一次团购的商品须来自同一个经营主体")
    if unit is None and out and not (policy.is_admin(actor)
                                     or policy.staff_of(actor, out[0][0].seller_id)):
        bad("products", "公开团购只能由商品所属经营主体发起")
    return out


# ---- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProductFill:
    product_id: int
    name: str
    list_price_fen: int
    tiers: list[rules.Tier]
    committed: int
    price_fen: int  # what a unit costs at the committed quantity
    current_tier: int | None  # index into tiers
    next_tier: tuple[rules.Tier, int] | None  # (tier, units missing)


@dataclass(frozen=True)
class Fill:
    committed: int
    minimum: int
    missing: int  # to the minimum
    products: list[ProductFill]
    seconds_left: int


def committed(session: Session, campaign_id: int) -> dict[int, int]:
    """Product id -> units committed (joined participations)."""
    rows = session.execute(
        select(ParticipationLine.product_id, func.sum(ParticipationLine.quantity))
        .join(Participation, Participation.id == ParticipationLine.participation_id)
        .where(Participation.campaign_id == campaign_id,
               Participation.status.in_([ParticipationStatus.joined, ParticipationStatus.settled]))
        .group_by(ParticipationLine.product_id))
    return {pid: int(q) for pid, q in rows}


def tiers_of(cp: CampaignProduct) -> list[rules.Tier]:
    return [rules.Tier(t.min_quantity, t.price_fen) for t in cp.tiers]


def fill(session: Session, campaign: Campaign, now: datetime | None = None) -> Fill:
    totals = committed(session, campaign.id)
    products = []
    for cp in campaign.products:
        tiers, q = tiers_of(cp), totals.get(cp.product_id, 0)
        products.append(ProductFill(cp.product_id, cp.product.name, cp.list_price_fen, tiers, q,
                                    rules.unit_price(cp.list_price_fen, tiers, q),
                                    rules.tier_index(tiers, q), rules.next_tier(tiers, q)))
    total = sum(totals.values())
    left = int((campaign.deadline - (now or now_utc())).total_seconds())
    return Fill(total, campaign.minimum_quantity, max(0, campaign.minimum_quantity - total),
                products, max(0, left))


def starting_prices(campaign: Campaign) -> dict[int, int]:
    return {cp.product_id: rules.starting_price(cp.list_price_fen, tiers_of(cp))
            for cp in campaign.products}


def visible(session: Session, user, *, page: int = 1, per_page: int = 20,
            open_only: bool = False) -> tuple[list[Campaign], int]:
    """The campaigns a list shows `user`: open ones anyone may join by link, and those of the
    units the user belongs to (every status unless `open_only`); open first, by deadline."""
    unit_ids = member_unit_ids(session, user)
    mine = Campaign.unit_id.in_(unit_ids) if unit_ids else None
    public = (Campaign.audience == Audience.link) & (Campaign.status == CampaignStatus.open)
    where = public if mine is None else (public | mine)
    if open_only:
        where = where & (Campaign.status == CampaignStatus.open)
    total = session.scalar(select(func.count()).select_from(Campaign).where(where)) or 0
    rows = session.scalars(
        select(Campaign).where(where)
        .order_by((Campaign.status == CampaignStatus.open).desc(), Campaign.deadline, Campaign.id)
        .offset((page - 1) * per_page).limit(per_page)).unique().all()
    return list(rows), total


def participations_of(session: Session, user_id: int, statuses=None, *, page: int = 1,
                      per_page: int = 20) -> tuple[list[Participation], int]:
    """A person's participations (optionally of some statuses), newest first."""
    where = [Participation.user_id == user_id]
    if statuses:
        where.append(Participation.status.in_(list(statuses)))
    total = session.scalar(select(func.count()).select_from(Participation).where(*where)) or 0
    rows = session.scalars(select(Participation).where(*where)
                           .order_by(Participation.created_at.desc(), Participation.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).unique().all()
    return list(rows), total


def participants(session: Session, campaign_id: int) -> list[Participation]:
    """Every participation of a campaign (its managers' list), in the order they came."""
    return list(session.scalars(select(Participation).where(
        Participation.campaign_id == campaign_id).order_by(Participation.id)).unique())
