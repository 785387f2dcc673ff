"""Event pages through the test client, both engines: the public list and an event's page
(China times, place, organiser, featured sellers and products linked, the stream as an
external link); an office creates, publishes and cancels from its console (Chinese errors,
another region's event 404); a buyer who opened an event under way gets its featured seller's
order carrying it at checkout; the report and its xlsx; a seller records a sale at the event."""
from __future__ import annotations

import io
from datetime import UTC, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from marketplace.core.time import CHINA, now_utc, today_china
from marketplace.extensions import db
from marketplace.help.events.models import Event, EventStatus
from marketplace.orders.models import Order
from tests.fixtures.factories import DELIVERY, make_user, region


def at(days: float) -> str:
    return (now_utc() + timedelta(days=days)).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


def text(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.fixture
def office(make):
    make(lambda s: make_user(s, "office", login="office-ev@example.test",
                             region_obj=region(s, "430525")))
    make(lambda s: make_user(s, "office", login="office-far@example.test",
                             region_obj=region(s, "431224")))
    seller = make.seller(name="古楼茶叶专业合作社")
    tea = make.product(seller, name="古楼云雾茶", price_fen=12800, stock=10)
    return {"seller": seller, "tea": tea}


def event_form(office, **kw) -> dict:
    data = {"kind": "fair", "title": "洞口县消费帮扶集市", "organiser_scope": "region:430525",
            "starts_at": at(-0.5), "ends_at": at(1), "place": "县文化广场",
            "stream_url": "https://live.example.com/room/8",
            "seller_ids": str(office["seller"].id), "product_ids": str(office["tea"].id),
            "description": "本地农产品展销"}
    data.update(kw)
    return data


def the_event(app) -> Event:
    with app.app_context():
        db.session().expire_on_commit = False
        return db.session.scalars(select(Event).order_by(Event.id.desc())).first()


def test_office_console_and_public_pages(app, client, make_client, office):
    client.login("office-ev@example.test")
    resp = client.post_form("/console/events/new", event_form(office, title="x", ends_at="明天"))
    assert resp.status_code == 400
    assert "标题应为" in text(resp) and "请填写正确的时间" in text(resp)
    resp = client.post_form("/console/events/new", event_form(office), follow_redirects=True)
    assert resp.status_code == 200 and "活动已保存为草稿" in text(resp)
    event = the_event(app)
    assert event.status == EventStatus.draft
    assert client.get(f"/events/{event.id}").status_code == 404  # a draft is not public
    resp = client.post_form(f"/console/events/{event.id}/publish", follow_redirects=True)
    assert "活动已发布" in text(resp)
    page = text(client.get(f"/events/{event.id}"))
    assert "洞口县消费帮扶集市" in page and "县文化广场" in page and "洞口县帮扶办" in page
    ends = event.ends_at.replace(tzinfo=event.ends_at.tzinfo or UTC).astimezone(CHINA)
    assert "（北京时间）" in page and f"{ends:%Y-%m-%d %H:%M}" in page
    assert f'href="/sellers/{office["seller"].id}"' in page or "古楼茶叶专业合作社" in page
    assert f'/products/{office["tea"].id}' in page
    assert 'href="https://live.example.com/room/8"' in page and "<iframe" not in page
    listing = text(client.get("/events?phase=now"))
    assert f'/events/{event.id}' in listing
    assert f'/events/{event.id}' not in text(client.get("/events?phase=past"))
    # another region's office: 404 in the console
    other = make_client()
    other.login("office-far@example.test")
    assert other.get(f"/console/events/{event.id}/edit").status_code == 404
    assert other.post_form(f"/console/events/{event.id}/cancel",
                           {"reason": "不办了"}).status_code == 404
    # the edit form keeps the values; the cancel asks first and needs a reason
    edit = text(client.get(f"/console/events/{event.id}/edit"))
    assert 'value="县文化广场"' in edit
    console = text(client.get("/console/events"))
    assert "data-confirm=" in console and "取消活动" in console
    resp = client.post_form(f"/console/events/{event.id}/cancel", {"reason": ""},
                            follow_redirects=True)
    assert "取消原因" in text(resp) and the_event(app).status == EventStatus.published
    resp = client.post_form(f"/console/events/{event.id}/cancel", {"reason": "天气原因"},
                            follow_redirects=True)
    assert "活动已取消" in text(resp) and the_event(app).status == EventStatus.cancelled
    assert "该活动已取消" in text(client.get(f"/events/{event.id}"))


def test_a_buyer_from_the_event_page_and_the_report(app, client, make, make_client, office):
    client.login("office-ev@example.test")
    client.post_form("/console/events/new", event_form(office))
    event = the_event(app)
    client.post_form(f"/console/events/{event.id}/publish")
    make(lambda s: make_user(s, "buyer", login="buyer-ev@example.test"))
    buyer = make_client()
    buyer.login("buyer-ev@example.test")
    assert buyer.get(f"/events/{event.id}").status_code == 200  # remembered in the session
    checkout = f"/checkout?product={office['tea'].id}&quantity=2"
    page = text(buyer.get(checkout))
    import re
    key = re.search(r'name="idempotency_key"[^>]*value="([0-9a-f]+)"', page) or re.search(
        r'value="([0-9a-f]{32})"', page)
    resp = buyer.post_form(checkout, {**{k: DELIVERY[k] for k in DELIVERY},
                                      "idempotency_key": key.group(1)})
    assert resp.status_code == 302, text(resp)[:3000]
    with app.app_context():
        order = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
        assert order.event_id == event.id
    report = text(client.get(f"/console/events/{event.id}/report"))
    assert "活动报表" in report and "线下销售" in report
    xlsx = client.get(f"/console/events/{event.id}/report?format=xlsx")
    assert xlsx.status_code == 200 and "filename*=UTF-8''" in xlsx.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(xlsx.data)).sheetnames == ["汇总", "分经营主体", "带动帮扶对象"]
    # the seller's staff records a sale at the event
    make.staff(office["seller"], login="staff-ev@example.test")
    staff = make_client()
    staff.login("staff-ev@example.test")
    form = text(staff.get("/seller/offline-sales/new"))
    assert f'<option value="{event.id}"' in form
    resp = staff.post_form("/seller/offline-sales/new", {
        "sold_on": today_china().isoformat(), "place": "县文化广场", "payment_method": "cash",
        "receipt_no": "EV-W1", "event_id": str(event.id), "product_id": [str(office["tea"].id)],
        "quantity": ["1"], "unit_price": ["100"]})
    assert resp.status_code == 302, text(resp)[:3000]
    resp = staff.post_form("/seller/offline-sales/new", {
        "sold_on": (today_china() - timedelta(days=3)).isoformat(), "place": "县文化广场",
        "payment_method": "cash", "receipt_no": "EV-W2", "event_id": str(event.id),
        "product_id": [str(office["tea"].id)], "quantity": ["1"], "unit_price": ["100"]})
    assert resp.status_code == 400 and "不在活动" in text(resp)
    with app.app_context():
        offline = db.session.scalar(select(Order).where(Order.receipt_no == "EV-W1"))
        assert offline.event_id == event.id
