"""Fairs and live-sale events (消费帮扶集市, 直播带货): their organisers create, edit, publish and
cancel them (audited); anyone reads the published ones; a checkout placed from an event's page
and an offline sale recorded at it carry the event (`checkout_tag`, `offline_event`).

Who organises: an office over the event's region (any region of its subtree), the admins of a
verified unit (the unit's region), platform admins; anyone else gets 404 for an event they may
not manage. Times are stored in UTC and typed in China time.

Services take an explicit session and actor and never commit.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.audit import services as audit
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core import policy
from marketplace.core.errors import (
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.inputs import id_value, text_problem
from marketplace.core.pager import Page
from marketplace.core.time import CHINA, as_aware
from marketplace.help.events.models import (
    Event,
    EventKind,
    EventProduct,
    EventSeller,
    EventStatus,
)
from marketplace.regions.models import Region
from marketplace.sellers.models import Seller, SellerStatus
from marketplace.units.models import Unit, UnitMember, UnitStatus

TITLE_MAX = 80
DESCRIPTION_MAX = 2000
PLACE_MAX = 120
ORGANISER_MAX = 80
URL_MAX = 300
MAX_FEATURED = 20  # sellers, and products, of one event
MAX_DAYS = 31  # an event lasts at most this long
OFFICE_SUFFIX = "帮扶办"  # an office's event is organised by "<region>帮扶办" unless named
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")


class Phase(StrEnum):
    upcoming = "upcoming"  # not begun
    now = "now"  # under way
    past = "past"  # ended


PHASE_LABELS = {Phase.upcoming: "即将开始", Phase.now: "正在进行", Phase.past: "已结束"}


@dataclass(frozen=True)
class EventInput:
    kind: str
    title: str
    starts_at: object  # an aware datetime, or "YYYY-MM-DDTHH:MM" in China time
    ends_at: object
    description: str = ""
    place: str = ""
    online: bool = False
    stream_url: str = ""
    organiser: str = ""
    region_code: str = ""  # an office's event: a region of its subtree
    unit_id: object = None  # or a unit's event: a verified unit the actor administers
    seller_ids: Sequence = ()
    product_ids: Sequence = ()


def phase_of(event: Event, now: datetime) -> Phase:
    if now < as_aware(event.starts_at):
        return Phase.upcoming
    return Phase.now if now < as_aware(event.ends_at) else Phase.past


def days_of(event: Event) -> tuple[date, date]:
    """The event's first and last day in China (an end at midnight ends the day before)."""
    last = as_aware(event.ends_at).astimezone(CHINA) - timedelta(microseconds=1)
    return as_aware(event.starts_at).astimezone(CHINA).date(), last.date()


# ---- checking the input ----------------------------------------------------------------------

def _text(value, field: str, label: str, low: int, high: int, *, multiline=False) -> str:
    text = str(value or "").strip() if multiline else " ".join(str(value or "").split())
    problem = text_problem(text, multiline=multiline)
    if problem is not None:
        raise ValidationFailed(Msg("%(label)s%(problem)s", label=label, problem=problem),
                               field=field)
    if not low <= len(text) <= high:
        raise ValidationFailed(Msg("%(label)s应为 %(low)s–%(high)s 个字", label=label, low=low,
                                   high=high), field=field)
    return text


def _time(value, field: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=CHINA) if value.tzinfo is None else value
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=CHINA)
        except ValueError:
            continue
    raise ValidationFailed("请填写正确的时间（年-月-日 时:分，北京时间）", field=field)


_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s]*$", re.IGNORECASE)


def _url(value) -> str:
    text = str(value or "").strip()
    if text and (len(text) > URL_MAX or not _URL.match(text) or text_problem(text)):
        raise ValidationFailed(Msg("直播链接应为以 http:// 或 https:// 开头的网址（不超过 %(n)s 个字符）",
                                   n=URL_MAX), field="stream_url")
    return text


def _ids(values, field: str, label: str) -> list[int]:
    if isinstance(values, str):
        values = re.split(r"[\s,，、;；]+", values.strip()) if values.strip() else []
    out: list[int] = []
    for raw in values or ():
        ident = id_value(raw)
        if not ident:
            raise ValidationFailed(Msg("%(label)s应为编号（数字），用逗号或空格分开", label=label),
                                   field=field)
        if ident not in out:
            out.append(ident)
    if len(out) > MAX_FEATURED:
        raise ValidationFailed(Msg("%(label)s最多 %(n)s 个", label=label, n=MAX_FEATURED),
                               field=field)
    return out


def _clean(session: Session, data: EventInput) -> dict:
    """The event's fields (and its featured sellers and products), or one ValidationFailed
    naming every bad field."""
    errors: dict[str, list] = {}
    values: dict = {}

    def check(name, fn, *args, **kwargs):
        try:
            values[name] = fn(*args, **kwargs)
        except ValidationFailed as err:
            errors[name] = [err.message]

    try:
        values["kind"] = EventKind(str(data.kind or ""))
    except ValueError:
        errors["kind"] = [Msg("请选择活动类型（帮扶集市或直播带货）")]
    check("title", _text, data.title, "title", "标题", 2, TITLE_MAX)
    check("description", _text, data.description, "description", "介绍", 0, DESCRIPTION_MAX,
          multiline=True)
    check("place", _text, data.place, "place", "地点", 0, PLACE_MAX)
    check("organiser", _text, data.organiser, "organiser", "主办单位", 0, ORGANISER_MAX)
    check("stream_url", _url, data.stream_url)
    check("starts_at", _time, data.starts_at, "starts_at")
    check("ends_at", _time, data.ends_at, "ends_at")
    check("seller_ids", _ids, data.seller_ids, "seller_ids", "参与经营主体")
    check("product_ids", _ids, data.product_ids, "product_ids", "推荐商品")
    values["online"] = bool(data.online)
    if "starts_at" in values and "ends_at" in values:
        if values["ends_at"] <= values["starts_at"]:
            errors["ends_at"] = [Msg("结束时间应晚于开始时间")]
        elif values["ends_at"] - values["starts_at"] > timedelta(days=MAX_DAYS):
            errors["ends_at"] = [Msg("一场活动最长 %(n)s 天", n=MAX_DAYS)]
    if "place" in values and not values["place"] and not values["online"]:
        errors["place"] = [Msg("请填写活动地点，或勾选“线上活动”")]
    if values.get("kind") == EventKind.live and "stream_url" in values \
            and not values["stream_url"]:
        errors["stream_url"] = [Msg("直播带货活动请填写直播链接")]
    if "seller_ids" in values:
        found = set(session.scalars(select(Seller.id).where(
            Seller.id.in_(values["seller_ids"]), Seller.status == SellerStatus.verified)))
        missing = [i for i in values["seller_ids"] if i not in found]
        if missing:
            errors["seller_ids"] = [Msg("未找到已认证的经营主体：%(ids)s",
                                        ids="、".join(map(str, missing)))]
    if "product_ids" in values:
        found = set(session.scalars(select(Product.id).where(
            Product.id.in_(values["product_ids"]), Product.status == ProductStatus.listed)))
        missing = [i for i in values["product_ids"] if i not in found]
        if missing:
            errors["product_ids"] = [Msg("未找到已上架的商品：%(ids)s",
                                         ids="、".join(map(str, missing)))]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return values


# ---- who organises ---------------------------------------------------------------------------

def _is_unit_admin(session: Session, actor: User, unit_id: int | None) -> bool:
    if unit_id is None or not getattr(actor, "is_authenticated", False):
        return False
    return session.scalar(select(UnitMember.id).where(
        UnitMember.unit_id == unit_id, UnitMember.user_id == actor.id,
        UnitMember.is_admin.is_(True))) is not None


def organising_units(session: Session, actor: User) -> list[Unit]:
    """The verified units the actor administers (each may organise events)."""
    return list(session.scalars(select(Unit).join(UnitMember, UnitMember.unit_id == Unit.id)
                                .where(UnitMember.user_id == actor.id,
                                       UnitMember.is_admin.is_(True),
                                       Unit.status == UnitStatus.verified).order_by(Unit.id)))


def may_organise(session: Session, actor: User) -> bool:
    return bool(policy.is_admin(actor) or policy.office_paths(actor)
                or organising_units(session, actor))


def _scope(session: Session, actor: User, data: EventInput) -> tuple[Region, Unit | None]:
    """The event's region and unit: a unit's event for its admins, else an office's region."""
    unit_id = id_value(data.unit_id) if data.unit_id not in (None, "") else None
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is None or not (policy.is_admin(actor) or _is_unit_admin(session, actor,
                                                                        unit_id)):
            raise NotFound("未找到该单位", field="unit_id")
        if unit.status != UnitStatus.verified:
            raise RuleBroken("单位通过认证后才能举办活动", field="unit_id", code="unit_not_verified")
        return unit.region, unit
    code = (data.region_code or "").strip()
    region = session.scalar(select(Region).where(Region.code == code)) if code else None
    if region is None:
        raise ValidationFailed("请选择活动所在地区", field="region_code")
    if not (policy.is_admin(actor) or policy.office_covers(actor, region)):
        raise Forbidden("该地区不在您所在帮扶办的管辖范围内")
    return region, None


def check_manage(session: Session, actor: User, event: Event | None) -> Event:
    policy.check_manage_event(actor, event, event is not None
                              and _is_unit_admin(session, actor, event.unit_id))
    return event


def can_manage(session: Session, actor: User, event: Event) -> bool:
    return policy.can_manage_event(actor, event, event is not None
                                   and _is_unit_admin(session, actor, event.unit_id))


def managed(session: Session, actor: User, event_id) -> Event:
    """An event the actor organises (404 for any other, and for another region's)."""
    ident = id_value(event_id)
    return check_manage(session, actor, session.get(Event, ident) if ident else None)


def managed_events(session: Session, actor: User, page: int = 1, per_page: int = 20
                   ) -> Page[Event]:
    """The events the actor organises, the latest first."""
    query = select(Event)
    if not policy.is_admin(actor):
        paths = policy.office_paths(actor)
        units = [u.id for u in organising_units(session, actor)]
        conds = [Region.path.startswith(p) for p in paths]
        if units:
            conds.append(Event.unit_id.in_(units))
        if not conds:
            return Page([], 0, page, per_page)
        query = query.join(Region, Region.id == Event.region_id).where(or_(*conds))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(Event.starts_at.desc(), Event.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), total, page, per_page)


# ---- changing an event -----------------------------------------------------------------------

FIELDS = ("kind", "title", "description", "starts_at", "ends_at", "place", "online",
          "stream_url", "organiser")


def _snapshot(event: Event) -> dict:
    out = {name: getattr(event, name) for name in FIELDS}
    out.update(sellers=[s.seller_id for s in event.sellers],
               products=[p.product_id for p in event.products])
    return {k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, StrEnum)
                else v) for k, v in out.items()}


def _featured(session: Session, event: Event, values: dict) -> None:
    """The featured sellers and products, in the organiser's order, replaced."""
    session.flush()
    session.execute(delete(EventSeller).where(EventSeller.event_id == event.id))
    session.execute(delete(EventProduct).where(EventProduct.event_id == event.id))
    session.add_all([EventSeller(event_id=event.id, seller_id=sid, position=n)
                     for n, sid in enumerate(values["seller_ids"])])
    session.add_all([EventProduct(event_id=event.id, product_id=pid, position=n)
                     for n, pid in enumerate(values["product_ids"])])
    session.flush()
    session.expire(event, ["sellers", "products"])


def _apply(event: Event, values: dict, region: Region, unit: Unit | None) -> None:
    for name in FIELDS:
        setattr(event, name, values[name])
    event.region_id, event.region = region.id, region
    event.unit_id = unit.id if unit is not None else None
    if not event.organiser:
        event.organiser = unit.name if unit is not None else region.name + OFFICE_SUFFIX


def create(session: Session, actor: User, data: EventInput) -> Event:
    """A draft event; its organiser is the office's region or the unit (audited)."""
    policy.require_user(actor)
    values = _clean(session, data)
    region, unit = _scope(session, actor, data)
    event = Event(created_by_id=actor.id, status=EventStatus.draft)
    _apply(event, values, region, unit)
    session.add(event)
    session.flush()
    _featured(session, event, values)
    session.flush()
    audit.record(session, actor, AuditAction.event_created, AuditObject.event, event.id,
                 after=_snapshot(event))
    return event


def update(session: Session, actor: User, event: Event, data: EventInput) -> Event:
    """Change a draft or published event (not a cancelled one); audited with what changed."""
    check_manage(session, actor, event)
    if event.status == EventStatus.cancelled:
        raise IllegalTransition("活动已取消，不能再修改")
    values = _clean(session, data)
    region, unit = _scope(session, actor, data)
    before = _snapshot(event)
    _apply(event, values, region, unit)
    _featured(session, event, values)
    session.flush()
    after = _snapshot(event)
    changed = [k for k in after if after[k] != before.get(k)]
    audit.record(session, actor, AuditAction.event_updated, AuditObject.event, event.id,
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return event


def publish(session: Session, actor: User, event: Event) -> Event:
    check_manage(session, actor, event)
    if event.status != EventStatus.draft:
        raise IllegalTransition("只有草稿状态的活动可以发布")
    event.status = EventStatus.published
    session.flush()
    audit.record(session, actor, AuditAction.event_published, AuditObject.event, event.id,
                 before={"status": "draft"}, after={"status": "published"})
    return event


def cancel(session: Session, actor: User, event: Event, reason: str) -> Event:
    """Cancel a draft or published event, with a reason (audited). Orders and sales that carry
    it keep it."""
    check_manage(session, actor, event)
    if event.status == EventStatus.cancelled:
        raise IllegalTransition("活动已经取消")
    reason = _text(reason, "reason", "取消原因", 2, 200)
    before = str(event.status)
    event.status = EventStatus.cancelled
    session.flush()
    audit.record(session, actor, AuditAction.event_cancelled, AuditObject.event, event.id,
                 before={"status": before}, after={"status": "cancelled"}, note=reason)
    return event


# ---- reading ---------------------------------------------------------------------------------

def public_events(session: Session, now: datetime, *, phase: str = "", region: Region | None = None,
                  kind: str = "", page: int = 1, per_page: int = 20) -> Page[Event]:
    """Published events: upcoming (soonest first), now, past (latest first) or all (the latest
    start first); `region`: organised in its subtree."""
    query = select(Event).where(Event.status == EventStatus.published)
    order = (Event.starts_at.desc(), Event.id.desc())
    if phase == Phase.upcoming:
        query, order = query.where(Event.starts_at > now), (Event.starts_at, Event.id)
    elif phase == Phase.now:
        query = query.where(Event.starts_at <= now, Event.ends_at > now)
    elif phase == Phase.past:
        query = query.where(Event.ends_at <= now)
    if kind in set(EventKind):
        query = query.where(Event.kind == EventKind(kind))
    if region is not None:
        query = query.join(Region, Region.id == Event.region_id).where(
            Region.path.startswith(region.path))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(*order).offset((page - 1) * per_page)
                            .limit(per_page)).all()
    return Page(list(items), total, page, per_page)


def public_event(session: Session, event_id) -> Event:
    """A published event (or a cancelled one, shown as cancelled); a draft answers 404."""
    ident = id_value(event_id)
    event = session.get(Event, ident) if ident else None
    if event is None or event.status == EventStatus.draft:
        raise NotFound("未找到该活动")
    return event


def featured_products(session: Session, event: Event) -> list[Product]:
    """The featured products on sale (listed, of a verified seller), in the organiser's order."""
    return list(session.scalars(
        select(Product).join(EventProduct, EventProduct.product_id == Product.id)
        .join(Seller, Seller.id == Product.seller_id)
        .where(EventProduct.event_id == event.id, Product.status == ProductStatus.listed,
               Seller.status == SellerStatus.verified).order_by(EventProduct.position)))
