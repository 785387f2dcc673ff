"""What carries an event: the tag checkout puts on the orders of an event's featured sellers and
products (from the event's page, remembered in the web session until the event ends, or an API
`event_id`), the event an offline sale is recorded at, and filing earlier offline sales under
an event."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.audit import services as audit
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.core.errors import (
    RuleBroken,
)
from marketplace.core.i18n import Msg
from marketplace.core.inputs import id_value
from marketplace.core.time import CHINA, as_aware
from marketplace.help.events.models import (
    Event,
    EventStatus,
)
from marketplace.help.events.services import Phase, check_manage, days_of, phase_of
from marketplace.orders.models import Channel, Order
from marketplace.orders.offline import MAX_AGE_DAYS, EventRef
from marketplace.orders.services import EventTag

# ---- what carries the event ------------------------------------------------------------------

def checkout_tag(session: Session, event_id, now: datetime) -> EventTag | None:
    """The tag a checkout carries for a published event under way; None for any other."""
    ident = id_value(event_id)
    event = session.get(Event, ident) if ident else None
    if event is None or event.status != EventStatus.published \
            or phase_of(event, now) != Phase.now:
        return None
    return EventTag(event.id, frozenset(s.seller_id for s in event.sellers),
                    frozenset(p.product_id for p in event.products))


def require_checkout_tag(session: Session, event_id, now: datetime) -> EventTag:
    """`checkout_tag`, or RuleBroken (422) naming why the event cannot be carried."""
    tag = checkout_tag(session, event_id, now)
    if tag is None:
        raise RuleBroken("该活动不存在、未发布或不在进行中", field="event_id",
                         code="event_unavailable")
    return tag


def offline_event(session: Session, event_id) -> EventRef | None:
    """The event an offline sale is recorded against (None for none): a published event; its
    days are checked against the sale's date by `orders.offline` (422 event_not_on_date)."""
    if event_id is None or event_id == "":
        return None
    ident = id_value(event_id)
    event = session.get(Event, ident) if ident else None
    if event is None or event.status != EventStatus.published:
        raise RuleBroken("该活动不存在或未发布，不能录入活动销售", field="event_id",
                         code="event_unavailable")
    first, last = days_of(event)
    return EventRef(event.id, event.title, first, last)


def recordable_events(session: Session, today: date) -> list[Event]:
    """Published events a sale of the last MAX_AGE_DAYS days may be recorded against."""
    since = datetime.combine(today - timedelta(days=MAX_AGE_DAYS), datetime.min.time(), CHINA)
    until = datetime.combine(today + timedelta(days=1), datetime.min.time(), CHINA)
    return list(session.scalars(select(Event).where(
        Event.status == EventStatus.published, Event.ends_at > since, Event.starts_at < until)
        .order_by(Event.starts_at.desc()).limit(50)))


def file_offline_sales(session: Session, actor: User, event: Event, orders: Sequence[Order]
                       ) -> int:
    """The organiser files offline sales recorded before the event existed (their place named
    it) under the event: each must be an offline sale of one of the event's days not filed
    under another event. Audited; how many were filed."""
    check_manage(session, actor, event)
    if event.status != EventStatus.published:
        raise RuleBroken("只有已发布的活动可以归入线下销售", code="event_unavailable")
    first, last = days_of(event)
    filed = []
    for order in orders:
        if order.channel != Channel.offline or order.sold_on is None \
                or not first <= order.sold_on <= last:
            raise RuleBroken(Msg("订单 %(n)s 不是该活动日期内的线下销售", n=order.number),
                             field="orders", code="event_not_on_date")
        if order.event_id not in (None, event.id):
            raise RuleBroken(Msg("订单 %(n)s 已归入另一场活动", n=order.number), field="orders")
        if order.event_id is None:
            order.event_id = event.id
            filed.append(order.id)
    session.flush()
    if filed:
        audit.record(session, actor, AuditAction.event_updated, AuditObject.event, event.id,
                     after={"orders": filed}, note="归入线下销售")
    return len(filed)


# ---- the event a buyer came from (the web session) -------------------------------------------
SESSION_KEY = "event"  # {"id", "until"}: the event whose page the buyer opened, until it ends


def remember(store, event: Event, now: datetime) -> None:
    """Remember in `store` (the web session) a published event under way whose page the buyer
    opened: their checkouts until it ends carry it (`remembered_tag`)."""
    if event.status == EventStatus.published and phase_of(event, now) == Phase.now:
        store[SESSION_KEY] = {"id": event.id, "until": as_aware(event.ends_at).isoformat()}


def remembered_tag(session: Session, store, now: datetime) -> EventTag | None:
    """The tag of the remembered event while it is under way (forgotten once it is not)."""
    kept = store.get(SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    tag = checkout_tag(session, kept.get("id"), now)
    if tag is None:
        store.pop(SESSION_KEY, None)
    return tag
