"""Fairs and live-sale events (help.events) on both engines: who organises (an office over the
region, a verified unit's admins, 404 for another region's event), the checks with Chinese
messages, publish and cancel audited; checkouts carry a published event under way onto the
orders of its featured sellers and products; offline sales recorded against a published event
whose days cover the sale; the event's report (paid sales net of refunds, offline sales,
households reached, attributed income net of reversals) and its xlsx."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.core.errors import (
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.time import CHINA, now_utc, today_china
from marketplace.help.events import report, services, tags
from marketplace.help.events.models import EventStatus
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.offline import OfflineLine, OfflineSaleInput
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import offline, refunds
from marketplace.payments.capture import record_payment
from tests.fixtures.factories import (
    make_cooperative,
    make_product,
    make_seller,
    make_user,
    region,
)
from tests.fixtures.units import add_member, make_unit

ADDRESS = AddressInput("张三", "13800138000", "430525", "人民路 1 号")


def at(days: float) -> str:
    return (now_utc() + timedelta(days=days)).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


def event_input(**kw) -> services.EventInput:
    values = {"kind": "fair", "title": "洞口县消费帮扶集市", "starts_at": at(-1),
              "ends_at": at(1), "place": "县文化广场", "region_code": "430525"}
    values.update(kw)
    return services.EventInput(**values)


@pytest.fixture
def fair(session):
    seller, households = make_cooperative(session, first=900, weights=(1, 1), share_bp=1000)
    tea = make_product(session, seller, name="云雾茶", price_fen=10000, stock=20)
    other = make_seller(session, name="别家合作社")
    rice = make_product(session, other, name="大米", price_fen=5000, stock=20)
    office = make_user(session, "office", region_obj=region(session, "430525"))
    staff = make_user(session, "buyer", "seller_staff", seller=seller)
    buyer = make_user(session, "buyer")
    session.commit()
    return {"seller": seller, "tea": tea, "other": other, "rice": rice, "office": office,
            "staff": staff, "buyer": buyer, "households": households}


def published(session, fair, **kw):
    event = services.create(session, fair["office"], event_input(
        seller_ids=[fair["seller"].id], **kw))
    services.publish(session, fair["office"], event)
    session.commit()
    return event


def test_an_office_creates_publishes_and_cancels_audited(session, fair):
    event = services.create(session, fair["office"], event_input(
        seller_ids=f"{fair['seller'].id}", product_ids=[fair["tea"].id]))
    assert event.status == EventStatus.draft and event.organiser == "洞口县帮扶办"
    assert [s.seller_id for s in event.sellers] == [fair["seller"].id]
    services.publish(session, fair["office"], event)
    with pytest.raises(IllegalTransition):
        services.publish(session, fair["office"], event)
    services.update(session, fair["office"], event, event_input(title="洞口县年货节",
                                                                product_ids=[fair["tea"].id]))
    assert event.title == "洞口县年货节" and event.sellers == []
    with pytest.raises(ValidationFailed):
        services.cancel(session, fair["office"], event, "")
    services.cancel(session, fair["office"], event, "天气原因")
    with pytest.raises(IllegalTransition):
        services.update(session, fair["office"], event, event_input())
    session.commit()
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "event", AuditEntry.object_id == event.id)
        .order_by(AuditEntry.id)).all()
    assert actions == ["event_created", "event_published", "event_updated", "event_cancelled"]


def test_bad_input_names_every_field_in_chinese(session, fair):
    with pytest.raises(ValidationFailed) as err:
        services.create(session, fair["office"], event_input(
            kind="party", title="x", starts_at="明天", ends_at="2026-13-01T10:00", place="",
            stream_url="javascript:alert(1)", seller_ids="abc", product_ids=[999999]))
    assert set(err.value.errors) >= {"kind", "title", "starts_at", "ends_at", "stream_url",
                                     "seller_ids", "product_ids"}
    with pytest.raises(ValidationFailed) as err:
        services.create(session, fair["office"], event_input(starts_at=at(2), ends_at=at(1)))
    assert "结束时间" in err.value.errors["ends_at"][0]
    with pytest.raises(ValidationFailed) as err:
        services.create(session, fair["office"], event_input(kind="live", place="",
                                                             online=True))
    assert "直播链接" in err.value.errors["stream_url"][0]


def test_another_regions_office_may_not(session, fair):
    event = published(session, fair)
    stranger = make_user(session, "office", region_obj=region(session, "431224"))
    with pytest.raises(Forbidden):
        services.create(session, stranger, event_input())
    with pytest.raises(NotFound):
        services.managed(session, stranger, event.id)
    with pytest.raises(NotFound):
        services.cancel(session, fair["buyer"], event, "不想办了")
    assert services.managed_events(session, stranger).total == 0
    assert services.managed_events(session, fair["office"]).total == 1


def test_a_verified_units_admin_organises(session, fair):
    unit = make_unit(session)
    admin = make_user(session, "buyer", "unit_admin")
    add_member(session, unit, admin, is_admin=True)
    member = make_user(session, "buyer")
    add_member(session, unit, member)
    event = services.create(session, admin, event_input(region_code="", unit_id=unit.id))
    assert event.unit_id == unit.id and event.organiser == unit.name
    assert services.managed(session, admin, event.id) is event
    with pytest.raises(NotFound):
        services.create(session, member, event_input(region_code="", unit_id=unit.id))
    with pytest.raises(NotFound):
        services.managed(session, member, event.id)


def test_public_lists_by_phase(session, fair):
    now_ = published(session, fair)
    soon = published(session, fair, title="直播带货专场", kind="live", place="", online=True,
                     stream_url="https://live.example.com/room/1", starts_at=at(3),
                     ends_at=at(3.2))
    services.create(session, fair["office"], event_input(title="草稿活动"))
    session.commit()
    now = now_utc()
    assert [e.id for e in services.public_events(session, now).items] == [soon.id, now_.id]
    assert [e.id for e in services.public_events(session, now, phase="upcoming").items] == [
        soon.id]
    assert [e.id for e in services.public_events(session, now, phase="now").items] == [now_.id]
    assert services.public_events(session, now, phase="past").total == 0
    assert services.public_events(session, now, region=region(session, "431224")).total == 0


def buy(session, fair, tag, key, lines):
    made = orders.checkout(session, fair["buyer"], [LineInput(p.id, q) for p, q in lines],
                           ADDRESS, idempotency_key=key, event=tag)
    for order in made:
        record_payment(session, order, provider="simulated", reference=f"ref-{order.id}",
                       amount_fen=order.total_fen, currency="CNY")
    session.commit()
    return made


def test_a_checkout_from_the_event_carries_it_to_featured_orders(session, fair):
    event = published(session, fair)
    tag = tags.checkout_tag(session, event.id, now_utc())
    made = buy(session, fair, tag, "event-key-1", [(fair["tea"], 2), (fair["rice"], 1)])
    by_seller = {o.seller_id: o.event_id for o in made}
    assert by_seller == {fair["seller"].id: event.id, fair["other"].id: None}
    # a featured product brings its seller's order in too
    services.update(session, fair["office"], event, event_input(product_ids=[fair["rice"].id]))
    tag = tags.checkout_tag(session, event.id, now_utc())
    made = buy(session, fair, tag, "event-key-2", [(fair["tea"], 1), (fair["rice"], 1)])
    assert {o.seller_id: o.event_id for o in made} == {fair["seller"].id: None,
                                                       fair["other"].id: event.id}
    soon = published(session, fair, starts_at=at(2), ends_at=at(3))
    assert tags.checkout_tag(session, soon.id, now_utc()) is None
    with pytest.raises(RuleBroken) as err:
        tags.require_checkout_tag(session, soon.id, now_utc())
    assert err.value.code == "event_unavailable"
    store = {}
    tags.remember(store, soon, now_utc())
    assert store == {}
    tags.remember(store, event, now_utc())
    assert tags.remembered_tag(session, store, now_utc()).id == event.id
    assert tags.remembered_tag(session, store, now_utc() + timedelta(days=2)) is None
    assert store == {}


def sale(fair, event, receipt="F-1", days=0, **kw):
    return OfflineSaleInput(
        sold_on=today_china() - timedelta(days=days), place="县文化广场",
        lines=[OfflineLine(fair["tea"].id, 2, 9000)], payment_method="cash",
        receipt_no=receipt, event_id=event, **kw)


def test_offline_sales_against_an_event(session, fair):
    event = published(session, fair)
    ref = tags.offline_event(session, event.id)
    order = offline.record_offline_sale(session, fair["staff"], fair["seller"], sale(fair, ref))
    session.commit()
    assert order.event_id == event.id
    again = offline.record(session, fair["staff"], fair["seller"], sale(fair, ref))
    assert not again.created and again.order.id == order.id
    with pytest.raises(RuleBroken) as err:
        offline.record_offline_sale(session, fair["staff"], fair["seller"],
                                    sale(fair, ref, receipt="F-2", days=5))
    assert err.value.code == "event_not_on_date" and "不在活动" in err.value.message
    session.rollback()
    draft = services.create(session, fair["office"], event_input())
    session.commit()
    for bad in (draft.id, 999999, "x"):
        with pytest.raises(RuleBroken) as err:
            tags.offline_event(session, bad)
        assert err.value.code == "event_unavailable"
    assert tags.offline_event(session, None) is None
    assert [e.id for e in tags.recordable_events(session, today_china())] == [event.id]


def test_the_report_and_its_workbook(session, fair):
    event = published(session, fair, product_ids=[fair["rice"].id])
    tag = tags.checkout_tag(session, event.id, now_utc())
    made = buy(session, fair, tag, "event-report-1", [(fair["tea"], 3)])
    buy(session, fair, None, "event-report-2", [(fair["tea"], 1)])  # not from the event
    offline.record_offline_sale(session, fair["staff"], fair["seller"],
                                sale(fair, tags.offline_event(session, event.id)))
    session.commit()
    refunds.refund(session, fair["staff"], made[0], amount_fen=10000)
    session.commit()
    built = report.build(session, event)
    assert (built.online_orders, built.online_fen) == (1, made[0].total_fen - 10000)
    assert (built.offline_orders, built.offline_fen) == (1, 18000)
    # 10% of (30000 - 10000) online and of 18000 offline, to two households
    assert built.attributed_fen == 2000 + 1800
    assert built.households_reached == 2
    assert [r.seller_id for r in built.sellers] == [fair["seller"].id]
    book = load_workbook(io.BytesIO(report.workbook(built)))
    assert book.sheetnames == ["汇总", "分经营主体", "带动帮扶对象"]
    values = [c for row in book["汇总"].iter_rows(values_only=True) for c in row]
    assert 38.0 in values and 2 in values
    assert report.filename(event).endswith(".xlsx")


def test_an_organiser_files_earlier_offline_sales(session, fair):
    day = datetime.combine(today_china() - timedelta(days=3), datetime.min.time(), CHINA)
    order = offline.record_offline_sale(session, fair["staff"], fair["seller"],
                                        sale(fair, None, days=3))
    event = published(session, fair, starts_at=day.replace(hour=8).strftime("%Y-%m-%dT%H:%M"),
                      ends_at=day.replace(hour=18).strftime("%Y-%m-%dT%H:%M"))
    assert tags.file_offline_sales(session, fair["office"], event, [order]) == 1
    assert tags.file_offline_sales(session, fair["office"], event, [order]) == 0
    session.commit()
    assert session.get(Order, order.id).event_id == event.id
    late = offline.record_offline_sale(session, fair["staff"], fair["seller"],
                                       sale(fair, None, receipt="F-9"))
    with pytest.raises(RuleBroken):
        tags.file_offline_sales(session, fair["office"], event, [late])

