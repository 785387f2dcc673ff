"""Group purchase pages through the test client, both engines: opening (CSRF, bad tiers named,
nothing written), the campaign page in each state, joining, paying, changing, withdrawing, the
lazy close on the next read, the orders page for the seller's staff and the distribution list."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.time import CHINA, now_utc
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.units import campaigns
from marketplace.units.campaign_views import time_left
from marketplace.units.campaigns import CampaignInput, ProductTerms
from marketplace.units.models import Campaign, Participation, ParticipationStatus
from marketplace.units.rules import Tier
from tests.fixtures.factories import make_product, make_seller, make_user
from tests.fixtures.units import make_unit


@pytest.fixture
def shop(app):
    with app.app_context():
        db.session().expire_on_commit = False
        admin = make_user(db.session, name="单位管理员")
        members = [make_user(db.session, name=f"职工{i}") for i in range(2)]
        outsider = make_user(db.session, name="外人")
        unit = make_unit(db.session, admin=admin, members=members)
        seller = make_seller(db.session)
        staff = make_user(db.session, Role.buyer, Role.seller_staff, seller=seller)
        tea = make_product(db.session, seller, name="洪溪云雾茶", price_fen=5000, stock=30)
        db.session.commit()
        return {"admin": admin, "members": members, "outsider": outsider, "unit": unit,
                "staff": staff, "tea": tea}


def _open(app, shop, *, delivery="individual", minimum=3, deadline=timedelta(days=2)) -> int:
    with app.app_context():
        campaign = campaigns.open_campaign(db.session, db.session.merge(shop["admin"]),
                                           CampaignInput(
            unit_id=shop["unit"].id, title="机关食堂团购云雾茶",
            products=[ProductTerms(shop["tea"].id, [Tier(1, 4800), Tier(5, 4500)])],
            minimum_quantity=minimum, per_person_limit=5, deadline=now_utc() + deadline,
            delivery=delivery))
        db.session.commit()
        return campaign.id


def _past_deadline(app, campaign_id):
    with app.app_context():
        db.session.get(Campaign, campaign_id).deadline = now_utc() - timedelta(minutes=1)
        db.session.commit()


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _join_form(shop, quantity=2, key="web-join-key-1"):
    return {"q_%s" % shop["tea"].id: str(quantity), "recipient": "张三",
            "mobile": "13800138000", "province": "43", "city": "4305",
            "region_code": "430525", "detail": "人民路 1 号", "idempotency_key": key}


def test_time_left_text():
    assert time_left(0) == "已截止"
    assert time_left(2 * 86400 + 3 * 3600 + 59) == "剩 2 天 3 小时"
    assert time_left(5 * 3600 + 20 * 60) == "剩 5 小时 20 分钟"
    assert time_left(30) == "剩 1 分钟"


def test_open_a_campaign_through_the_form(client, app, shop):
    client.login(shop["admin"].email)
    page = client.get("/campaigns/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "洪溪云雾茶" in text and "人民路 1 号" in text  # the product and the unit's address
    deadline = (now_utc() + timedelta(days=3)).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")
    form = {"unit": str(shop["unit"].id), "title": "团购云雾茶", "minimum_quantity": "3",
            "per_person_limit": "5", "deadline": deadline, "delivery": "individual",
            "audience": "members", "product_rows": "1", "product_0": str(shop["tea"].id),
            "tier_0_0_min": "1", "tier_0_0_price": "48", "tier_0_1_min": "5",
            "tier_0_1_price": "60.00"}
    # bad tiers (above the catalogue price, not falling): named, nothing written
    bad = client.post_form("/campaigns/new", form)
    assert bad.status_code == 400
    assert "原价" in bad.get_data(as_text=True)
    assert _count(app, Campaign) == 0
    # without the CSRF token: refused
    assert client.post_form("/campaigns/new", form, csrf=False).status_code == 400
    form["tier_0_1_price"] = "45.00"
    done = client.post_form("/campaigns/new", form)
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]
    assert _count(app, Campaign) == 1
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "团购云雾茶" in shown and "分享链接" in shown and "剩 2 天" in shown


def test_add_product_row_keeps_what_was_typed(client, shop):
    client.login(shop["admin"].email)
    resp = client.post_form("/campaigns/new", {"title": "团购", "product_rows": "1",
                                               "add_product": "1", "tier_0_0_min": "4"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'name="product_1"' in text and 'value="4"' in text


def test_who_sees_what(client, app, shop):
    campaign_id = _open(app, shop)
    client.login(shop["outsider"].email)
    assert client.get(f"/campaigns/{campaign_id}").status_code == 404
    assert client.get("/campaigns/new").status_code == 404
    client.logout()
    client.login(shop["members"][0].email)
    text = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "参加团购" in text and "分享链接" not in text and "<progress" in text
    assert client.get(f"/campaigns/{campaign_id}/orders").status_code == 404
    with app.app_context():
        code = db.session.get(Campaign, campaign_id).link_code
    assert client.get(f"/campaigns/join/{code}").status_code == 302
    assert client.get("/campaigns").status_code == 200


def test_join_pay_change_withdraw(client, app, shop):
    campaign_id = _open(app, shop)
    client.login(shop["members"][0].email)
    joined = client.post_form(f"/campaigns/{campaign_id}/join", _join_form(shop))
    assert joined.status_code == 302 and "/pay" in joined.headers["Location"]
    pay_page = client.get(joined.headers["Location"]).get_data(as_text=True)
    assert "测试支付" in pay_page and "¥96.00" in pay_page
    paid = client.post_form(joined.headers["Location"], {"outcome": "success"})
    assert paid.status_code == 302
    text = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "已参团" in text and "修改数量" in text and "退出团购" in text
    with app.app_context():
        part_id = db.session.scalar(select(Participation.id))
    changed = client.post_form(f"/campaigns/participations/{part_id}/change",
                               {"q_%s" % shop["tea"].id: "3"})
    assert changed.status_code == 302
    with app.app_context():
        part = db.session.get(Participation, part_id)
        assert part.quantity == 3 and part.paid_fen - part.refunded_fen == 3 * 4800
    # another person's participation: 404
    client.logout()
    client.login(shop["members"][1].email)
    assert client.post_form(f"/campaigns/participations/{part_id}/withdraw").status_code == 404
    client.logout()
    client.login(shop["members"][0].email)
    client.post_form(f"/campaigns/participations/{part_id}/withdraw")
    with app.app_context():
        part = db.session.get(Participation, part_id)
        assert part.status == ParticipationStatus.withdrawn
        assert part.refunded_fen == part.paid_fen


def test_join_with_bad_address_shows_the_form(client, app, shop):
    campaign_id = _open(app, shop)
    client.login(shop["members"][0].email)
    form = _join_form(shop)
    form["mobile"] = "12"
    resp = client.post_form(f"/campaigns/{campaign_id}/join", form)
    assert resp.status_code == 400
    assert _count(app, Participation) == 0
    over = client.post_form(f"/campaigns/{campaign_id}/join", _join_form(shop, quantity=9))
    assert over.status_code == 400 and "每人最多" in over.get_data(as_text=True)


def test_deadline_passes_and_the_next_read_closes(client, app, shop):
    campaign_id = _open(app, shop)
    for i, member in enumerate(shop["members"]):
        client.login(member.email)
        joined = client.post_form(f"/campaigns/{campaign_id}/join",
                                  _join_form(shop, quantity=3, key=f"web-key-{i}-000"))
        client.post_form(joined.headers["Location"], {"outcome": "success"})
        client.logout()
    _past_deadline(app, campaign_id)
    client.login(shop["members"][0].email)
    text = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "已成团" in text and "查看我的订单" in text and "已截止" in text
    assert "当前档位" in text
    assert _count(app, Order, Order.campaign_id == campaign_id) == 2
    # joining now: refused
    late = client.post_form(f"/campaigns/{campaign_id}/join", _join_form(shop, key="late-key-1"))
    assert late.status_code in (302, 400)
    assert _count(app, Participation) == 2
    client.logout()
    client.login(shop["admin"].email)
    text = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "参与人（2）" in text and "团购订单" in text
    client.logout()
    client.login(shop["staff"].email)
    orders = client.get(f"/campaigns/{campaign_id}/orders")
    assert orders.status_code == 200 and "共 2 个订单" in orders.get_data(as_text=True)
    assert client.get(f"/campaigns/{campaign_id}").status_code == 200


def test_close_button_before_the_deadline_refuses(client, app, shop):
    campaign_id = _open(app, shop)
    client.login(shop["admin"].email)
    resp = client.post_form(f"/campaigns/{campaign_id}/close", follow_redirects=True)
    assert "尚未截止" in resp.get_data(as_text=True)
    client.logout()
    client.login(shop["members"][0].email)
    assert client.post_form(f"/campaigns/{campaign_id}/close").status_code == 404


def test_consolidated_distribution_list(client, app, shop):
    from openpyxl import load_workbook
    campaign_id = _open(app, shop, delivery="consolidated")
    client.login(shop["members"][0].email)
    joined = client.post_form(f"/campaigns/{campaign_id}/join",
                              {"q_%s" % shop["tea"].id: "3", "idempotency_key": "consol-key-1"})
    assert joined.status_code == 302 and "/pay" not in joined.headers["Location"]
    client.logout()
    _past_deadline(app, campaign_id)
    client.login(shop["admin"].email)
    text = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "单位订单" in text and "分发清单" in text
    sheet = client.get(f"/campaigns/{campaign_id}/distribution.xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[2][1] == "职工0" and rows[2][4] == 3 and rows[2][5] == 48.0
    client.logout()
    client.login(shop["members"][1].email)
    assert client.get(f"/campaigns/{campaign_id}/distribution.xlsx").status_code == 404
