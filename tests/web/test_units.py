"""Unit pages through the test client, on both engines: applying (CSRF), the admins' queue,
a unit's page (404 for others), invites and joining by link, members, the leaderboards, the
account's nickname and counting an order toward a unit at checkout."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.units.models import Unit, UnitMember, UnitStatus
from tests.fixtures.factories import DELIVERY, valid_credit_code
from tests.fixtures.units import make_unit

APPLY = {"kind": "union", "name": "洞口县总工会", "credit_code": valid_credit_code(7300),
         "region_code": "430525", "address_detail": "文昌路 2 号", "contact_name": "陈主席",
         "contact_mobile": "13900003333", "invoice_title": ""}


def text(resp) -> str:
    return resp.get_data(as_text=True)


def scalar(app, stmt):
    with app.app_context():
        return db.session.scalar(stmt)


@pytest.fixture
def people(make):
    make.regions()
    return {"admin": make.user(login="unitadmin@example.test"),
            "member": make.user(login="member@example.test"),
            "stranger": make.user(login="stranger@example.test"),
            "platform": make.user(Role.platform_admin, login="root@example.test")}


@pytest.fixture
def unit(make, people):
    def build(session):
        unit = make_unit(session, admin=session.get(User, people["admin"].id),
                         members=[session.get(User, people["member"].id)])
        unit.invite_code, unit.invite_expires_at = "JOIN2345", now_utc() + timedelta(days=5)
        return unit
    return make(build)


def signed_in(make_client, login):
    client = make_client()
    client.login(login)
    return client


def test_apply_needs_csrf_then_the_admin_verifies(app, client, make_client, people):
    client.login("stranger@example.test")
    assert client.get("/units/apply").status_code == 200
    assert client.post_form("/units/apply", APPLY, csrf=False).status_code == 400
    assert scalar(app, select(func.count()).select_from(Unit)) == 0
    bad = client.post_form("/units/apply", {**APPLY, "credit_code": "91430525MA4L0001XZ"})
    assert bad.status_code == 400 and "校验码" in text(bad)
    resp = client.post_form("/units/apply", APPLY)
    assert resp.status_code == 302
    unit_id = scalar(app, select(Unit.id))
    assert "待审核" in text(client.get(f"/units/{unit_id}"))
    root = signed_in(make_client, "root@example.test")
    queue = text(root.get("/units/review"))
    assert "洞口县总工会" in queue and "data-confirm" in queue
    assert client.get("/units/review").status_code == 403
    assert root.post_form(f"/units/review/{unit_id}/reject", {"reason": " "}).status_code == 400
    assert root.post_form(f"/units/review/{unit_id}/verify").status_code == 302
    assert scalar(app, select(Unit.status)) == UnitStatus.verified
    assert scalar(app, select(UnitMember.is_admin).where(UnitMember.unit_id == unit_id))
    page = text(client.get(f"/units/{unit_id}"))
    assert "生成邀请码" in page


def test_other_peoples_units_answer_404(make_client, unit):
    stranger = signed_in(make_client, "stranger@example.test")
    assert stranger.get(f"/units/{unit.id}").status_code == 404
    assert stranger.post_form(f"/units/{unit.id}/invite").status_code == 404
    member = signed_in(make_client, "member@example.test")
    page = text(member.get(f"/units/{unit.id}"))
    assert "JOIN2345" not in page and "退出本单位" in page
    assert member.post_form(f"/units/{unit.id}/invite").status_code == 403


def test_invite_link_join_and_leave(app, make_client, unit):
    admin = signed_in(make_client, "unitadmin@example.test")
    page = text(admin.get(f"/units/{unit.id}"))
    assert "/units/join/JOIN2345" in page and 'readonly' in page
    stranger = signed_in(make_client, "stranger@example.test")
    join_page = stranger.get("/units/join/JOIN2345")
    assert join_page.status_code == 200 and "确认加入" in text(join_page)
    assert stranger.get("/units/join/NOPE9999").status_code == 404
    assert stranger.post_form("/units/join/JOIN2345", csrf=False).status_code == 400
    resp = stranger.post_form("/units/join/JOIN2345")
    assert resp.status_code == 302
    assert scalar(app, select(func.count()).select_from(UnitMember)) == 3
    # the code typed on /units leads to the same page
    assert stranger.post_form("/units/join", {"code": "join2345"}).headers["Location"] \
        .endswith("/units/join/JOIN2345")
    assert "退出本单位" in text(stranger.get(f"/units/{unit.id}"))
    stranger.post_form(f"/units/{unit.id}/leave")
    assert scalar(app, select(func.count()).select_from(UnitMember)) == 2
    # renewing makes the old link stop working
    admin.post_form(f"/units/{unit.id}/invite")
    assert stranger.get("/units/join/JOIN2345").status_code == 404


def test_an_expired_invite_says_so(make, make_client, unit):
    def expire(session):
        session.get(Unit, unit.id).invite_expires_at = now_utc() - timedelta(minutes=1)
    make(expire)
    stranger = signed_in(make_client, "stranger@example.test")
    page = text(stranger.get("/units/join/JOIN2345"))
    assert "已过期" in page and "确认加入" not in page
    assert stranger.post_form("/units/join/JOIN2345").status_code == 422


def test_members_are_removed_after_a_confirmation_and_the_last_admin_stays(app, make_client,
                                                                           unit, people):
    admin = signed_in(make_client, "unitadmin@example.test")
    page = text(admin.get(f"/units/{unit.id}"))
    assert page.count("data-confirm") >= 3
    member_id = scalar(app, select(UnitMember.id).where(
        UnitMember.user_id == people["member"].id))
    admin_row = scalar(app, select(UnitMember.id).where(UnitMember.user_id == people["admin"].id))
    admin.post_form(f"/units/{unit.id}/leave")  # the last admin: refused
    assert scalar(app, select(func.count()).select_from(UnitMember)) == 2
    assert "至少需要一名管理员" in text(admin.get(f"/units/{unit.id}"))
    assert admin.post_form(f"/units/{unit.id}/members/{admin_row}/remove").status_code == 302
    assert scalar(app, select(func.count()).select_from(UnitMember)) == 2
    assert admin.post_form(f"/units/{unit.id}/members/999999/remove").status_code == 404
    admin.post_form(f"/units/{unit.id}/members/{member_id}/remove")
    assert scalar(app, select(func.count()).select_from(UnitMember)) == 1


def test_my_units_and_the_leaderboard(app, client, make_client, unit):
    member = signed_in(make_client, "member@example.test")
    assert unit.name in text(member.get("/units"))
    admin = signed_in(make_client, "unitadmin@example.test")
    admin.post_form(f"/units/{unit.id}/leaderboard", {"on": "1"})
    assert scalar(app, select(Unit.on_leaderboard))
    for url in ("/units/board", "/units/board?tab=buyers", "/units/board?by=households",
                "/units/board?period=year&region=430525",
                "/units/board?period=range&from=2026-01-01&to=bad"):
        resp = client.get(url)
        assert resp.status_code == 200 and "爱心单位榜" in text(resp)


def test_board_nickname_on_the_account_page(app, make_client, people):
    member = signed_in(make_client, "member@example.test")
    assert "爱心榜昵称" in text(member.get("/account"))
    assert member.post_form("/account/board-nickname", {"board_nickname": "茶友"}) \
        .status_code == 302
    assert scalar(app, select(User.board_nickname).where(User.id == people["member"].id)) \
        == "茶友"
    assert member.post_form("/account/board-nickname",
                            {"board_nickname": "长" * 40}).status_code == 400


def checkout_key(client) -> str:
    page = text(client.get("/checkout"))
    return re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page) \
        .group(1), page


def test_checkout_counts_an_order_toward_a_unit(app, make, make_client, unit, goods):
    member = signed_in(make_client, "member@example.test")
    member.post_form("/cart/add", {"product_id": goods["tea"], "quantity": 1})
    key, page = checkout_key(member)
    assert "计入单位" in page and f"member:{unit.id}" in page
    assert f"purchase:{unit.id}" not in page  # not its admin
    resp = member.post_form("/checkout", {**DELIVERY, "idempotency_key": key,
                                          "count_toward": f"purchase:{unit.id}"})
    assert resp.status_code == 400 and "只有单位管理员" in text(resp)
    assert scalar(app, select(func.count()).select_from(Order)) == 0
    resp = member.post_form("/checkout", {**DELIVERY, "idempotency_key": key,
                                          "count_toward": f"member:{unit.id}"})
    assert resp.status_code == 302
    assert scalar(app, select(Order.unit_id)) == unit.id


def test_a_unit_admin_buys_for_the_unit_at_its_address(app, make_client, unit, goods):
    admin = signed_in(make_client, "unitadmin@example.test")
    admin.post_form("/cart/add", {"product_id": goods["tea"], "quantity": 1})
    page = text(admin.get(f"/checkout?unit_address={unit.id}"))
    assert "人民路 1 号" in page and f'value="purchase:{unit.id}" checked' in page
    assert unit.credit_code in page


def test_a_units_own_order_offers_the_units_invoice_header(app, make_client, unit, goods):
    admin = signed_in(make_client, "unitadmin@example.test")
    admin.post_form("/cart/add", {"product_id": goods["tea"], "quantity": 1})
    key, _page = checkout_key(admin)
    assert admin.post_form("/checkout", {**DELIVERY, "idempotency_key": key,
                                         "count_toward": f"purchase:{unit.id}"}).status_code == 302
    order_id = scalar(app, select(Order.id))
    with app.app_context():
        from marketplace.payments.capture import record_payment
        order = db.session.get(Order, order_id)
        record_payment(db.session, order, provider="simulated", reference=f"sim-{order_id}",
                       amount_fen=order.total_fen, currency="CNY")
        db.session.commit()
    page = text(admin.get(f"/orders/{order_id}"))
    assert f'name="tax_no" maxlength="18" autocapitalize="characters" value="{unit.credit_code}"' \
        in page and 'value="company" checked' in page
    member = signed_in(make_client, "member@example.test")
    member.post_form("/cart/add", {"product_id": goods["tea"], "quantity": 1})
    key, _page = checkout_key(member)
    member.post_form("/checkout", {**DELIVERY, "idempotency_key": key,
                                   "count_toward": f"member:{unit.id}"})
    own = scalar(app, select(Order.id).where(Order.buyer_id != scalar(
        app, select(Order.buyer_id).where(Order.id == order_id))))
    assert unit.credit_code not in text(member.get(f"/orders/{own}"))  # a member pays personally
