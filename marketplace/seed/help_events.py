"""Demo data: fairs and live-sale events (help.events), through the events' services. The
reports demo's fair of last month (its offline sales, receipts JSJ-…, recorded at 洞口县消费帮扶集市)
becomes a published event of 洞口县's office, its sales filed under it (so /events shows a past
fair and its report has offline sales, households reached and attributed income); and the tea
company's live sale a few days from now. See /events and /console/events (office@demo.test).

Loaded once: skipped when an event exists."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.services import find_by_login
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.time import CHINA, now_utc
from marketplace.help.events import services as events
from marketplace.help.events import tags as event_tags
from marketplace.help.events.models import Event
from marketplace.orders.models import Channel, Order
from marketplace.sellers.models import Seller

OFFICE = "office@demo.test"
COUNTY = "430525"  # 洞口县
FAIR_RECEIPTS = "JSJ-"  # the reports demo's fair (seed/reports.toml)
LIVE_SELLER = "湖南古楼雪峰云雾茶有限公司"
STREAM = "https://live.example.com/dongkou-tea"


def _local(day, hour: int) -> str:
    return datetime.combine(day, time(hour)).strftime("%Y-%m-%dT%H:%M")


def seed(session: Session, tally) -> None:
    office = find_by_login(session, OFFICE)
    if office is None:
        return
    if session.scalar(select(Event.id).limit(1)) is not None:
        tally.skipped += 1
        return
    sales = list(session.scalars(select(Order).where(
        Order.channel == Channel.offline, Order.receipt_no.startswith(FAIR_RECEIPTS))
        .order_by(Order.id)))
    if sales:
        day = sales[0].sold_on
        fair = events.create(session, office, events.EventInput(
            kind="fair", title="洞口县消费帮扶集市", region_code=COUNTY,
            starts_at=_local(day, 9), ends_at=_local(day, 17), place=sales[0].place,
            description="全县合作社、帮扶车间和脱贫户现场展销茶叶、土鸡蛋、红枣等农产品。",
            seller_ids=sorted({o.seller_id for o in sales})))
        events.publish(session, office, fair)
        event_tags.file_offline_sales(session, office, fair,
                                  [o for o in sales if o.sold_on == day])
        tally.created += 1
    seller = session.scalar(select(Seller).where(Seller.name == LIVE_SELLER))
    if seller is not None:
        products = session.scalars(select(Product.id).where(
            Product.seller_id == seller.id, Product.status == ProductStatus.listed)
            .order_by(Product.id).limit(3)).all()
        day = (now_utc().astimezone(CHINA) + timedelta(days=5)).date()
        live = events.create(session, office, events.EventInput(
            kind="live", title="雪峰云雾茶直播带货专场", region_code=COUNTY,
            starts_at=_local(day, 20), ends_at=_local(day, 22), online=True,
            stream_url=STREAM, description="茶园实景直播，县帮扶办负责人和茶农一起介绍新茶。",
            seller_ids=[seller.id], product_ids=list(products)))
        events.publish(session, office, live)
        tally.created += 1
    session.flush()
