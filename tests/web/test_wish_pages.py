"""Micro-wish pages (help.needs.wish_views): the phone page a card's QR code opens, printable A6
cards and the village wall sheet, and who may print them."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from marketplace.accounts.models import Role
from marketplace.core.time import today_china
from marketplace.help.needs.models import Need, NeedKind, NeedStatus, NeedWhat
from tests.fixtures.factories import make_household, make_user, region

HONGXI = "430525101201"  # 洞口县 月溪镇 洪溪村
GULOU = "430525101202"  # 洞口县 月溪镇 古楼村


def make_wish(session, household, *, title="一个新书包", status=NeedStatus.open,
              kind=NeedKind.wish, amount_fen=12000, days=30, poster=None) -> Need:
    """A wish row as the needs core leaves it (the pages do not care how it got there)."""
    need = Need(kind=kind, household_id=household.id, village_id=household.village_id,
                category="education", title=title, what=NeedWhat.amount, amount_fen=amount_fen,
                beneficiary="孙女，8岁", description="上小学二年级，想要一个新书包",
                expires_on=today_china() + timedelta(days=days), status=status,
                posted_by_id=(poster or household.liaison).id)
    session.add(need)
    session.flush()
    return need


@pytest.fixture
def wall(make):
    """洪溪村: 张三明's household (liaison A) with two open wishes, one claimed, one pending, one
    expired by date, and an ordinary need; 李四 (liaison B) with one open wish; 古楼村: one."""
    def build(session):
        a = make_user(session, Role.liaison, login="liaison-a@example.test", name="联络人甲")
        b = make_user(session, Role.liaison, login="liaison-b@example.test", name="联络人乙")
        make_user(session, Role.liaison, login="liaison-c@example.test")  # none in 洪溪村
        make_user(session, Role.office, login="county@example.test",
                  region_obj=region(session, "430525"))
        make_user(session, Role.office, login="xupu@example.test",
                  region_obj=region(session, "431224"))
        make_user(session, Role.buyer, login="donor@example.test")
        zhang = make_household(session, name="张三明", liaison=a)
        li = make_household(session, name="李四", liaison=b)
        gulou = make_household(session, name="王五", liaison=b, village_code=GULOU)
        return {
            "bag": make_wish(session, zhang).id,
            "shoes": make_wish(session, zhang, title="一双冬天的棉鞋", amount_fen=8000).id,
            "claimed": make_wish(session, zhang, title="一套课外读物",
                                 status=NeedStatus.claimed).id,
            "pending": make_wish(session, zhang, title="一盏护眼台灯",
                                 status=NeedStatus.pending).id,
            "old": make_wish(session, zhang, title="一件旧的心愿", days=-1).id,
            "need": make_wish(session, zhang, title="修缮屋顶", kind=NeedKind.need).id,
            "li": make_wish(session, li, title="一副老花镜", amount_fen=6000).id,
            "gulou": make_wish(session, gulou, title="一个保温杯", amount_fen=5000).id,
        }
    return make(build)


def text(resp) -> str:
    return resp.get_data(as_text=True)


def no_inline_code(html: str) -> None:
    """The CSP forbids inline scripts and style attributes: the pages use neither."""
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


# ---- the phone page --------------------------------------------------------------------------

def test_anyone_opens_an_open_wish_with_masked_names(client, wall):
    resp = client.get(f"/wishes/{wall['bag']}")
    assert resp.status_code == 200
    html = text(resp)
    assert "一个新书包" in html and "孙女，8岁" in html and "张*明" in html
    assert "张三明" not in html
    assert "洞口县月溪镇洪溪村" in html and "¥120.00" in html and "待认领" in html
    # signed out: the claim button signs in and comes back here
    assert f'href="/login?next=/wishes/{wall["bag"]}"' in html and "登录后认领" in html
    assert "打印心愿卡" not in html
    no_inline_code(html)


def test_a_signed_in_donor_sees_the_claim_button(client, wall):
    client.login("donor@example.test")
    html = text(client.get(f"/wishes/{wall['bag']}"))
    assert f'action="/wishes/{wall["bag"]}/claim"' in html and "认领这个心愿" in html


def test_a_claimed_wish_says_so(client, wall):
    html = text(client.get(f"/wishes/{wall['claimed']}"))
    assert "已认领" in html and "正在送达" in html and "认领这个心愿" not in html


def test_unpublished_wishes_and_needs_are_not_found(client, wall):
    assert client.get(f"/wishes/{wall['pending']}").status_code == 404
    assert client.get(f"/wishes/{wall['need']}").status_code == 404  # a need, not a wish
    assert client.get("/wishes/999999").status_code == 404
    client.login("liaison-a@example.test")  # the household's liaison sees its pending wish
    html = text(client.get(f"/wishes/{wall['pending']}"))
    assert "待审核" in html and "打印心愿卡" in html and "张三明" not in html


# ---- printing ----------------------------------------------------------------------------------

def test_the_liaison_prints_a_card(client, wall):
    client.login("liaison-a@example.test")
    resp = client.get(f"/wishes/{wall['bag']}/card")
    assert resp.status_code == 200
    html = text(resp)
    assert html.count('class="wish-card"') == 1
    assert "一个新书包" in html and "张*明" in html and "张三明" not in html
    assert "¥120.00" in html and "有效期至" in html
    assert '<svg role="img"' in html and 'class="qr-code"' in html
    assert f"http://localhost/wishes/{wall['bag']}" in html  # the absolute address encoded
    assert "data-print" in html and "wish-print" in html
    no_inline_code(html)


@pytest.mark.parametrize("login,status", [
    (None, 302), ("donor@example.test", 404), ("liaison-b@example.test", 404),
    ("xupu@example.test", 404), ("county@example.test", 200)])
def test_who_prints_a_card(client, wall, login, status):
    if login:
        client.login(login)
    resp = client.get(f"/wishes/{wall['bag']}/card")
    assert resp.status_code == status
    if status == 302:
        assert "/login" in resp.headers["Location"]


def test_the_office_prints_every_open_wish_of_the_village(client, wall):
    client.login("county@example.test")
    html = text(client.get(f"/villages/{HONGXI}/wishes/cards"))
    assert html.count('class="wish-card"') == 3 and html.count('class="qr-code"') == 3
    for title in ("一个新书包", "一双冬天的棉鞋", "一副老花镜"):
        assert title in html
    for title in ("一套课外读物", "一盏护眼台灯", "一件旧的心愿", "修缮屋顶", "一个保温杯"):
        assert title not in html  # claimed, pending, past its expiry, a need, another village
    assert "李*" in html and "李四" not in html
    no_inline_code(html)


def test_a_liaison_prints_only_their_households_wishes(client, wall):
    client.login("liaison-b@example.test")
    html = text(client.get(f"/villages/{HONGXI}/wishes/cards"))
    assert html.count('class="wish-card"') == 1 and "一副老花镜" in html
    html = text(client.get(f"/villages/{HONGXI}/wishes/wall"))
    assert html.count('class="wish-tile"') == 1 and "一副老花镜" in html


@pytest.mark.parametrize("login,code", [
    ("liaison-c@example.test", HONGXI), ("donor@example.test", HONGXI),
    ("xupu@example.test", HONGXI), ("county@example.test", "430525"),
    ("county@example.test", "999999999999")])
def test_village_sheets_are_not_found_for_others(client, wall, login, code):
    client.login(login)
    assert client.get(f"/villages/{code}/wishes/cards").status_code == 404
    assert client.get(f"/villages/{code}/wishes/wall").status_code == 404


def test_the_wall_sheet(client, wall):
    client.login("county@example.test")
    resp = client.get(f"/villages/{HONGXI}/wishes/wall")
    assert resp.status_code == 200
    html = text(resp)
    assert "洪溪村 微心愿墙" in html
    assert html.count('class="wish-tile"') == 3 and html.count('class="qr-code"') == 3
    assert f"http://localhost/wishes/{wall['li']}" not in html  # the codes, not the text
    no_inline_code(html)


def test_another_village_and_an_empty_one(client, wall):
    client.login("liaison-b@example.test")
    html = text(client.get(f"/villages/{GULOU}/wishes/cards"))
    assert html.count('class="wish-card"') == 1 and "一个保温杯" in html  # 王五's
    client.logout()
    client.login("liaison-a@example.test")
    assert client.get(f"/villages/{GULOU}/wishes/cards").status_code == 404
    html = text(client.get(f"/villages/{HONGXI}/wishes/cards"))
    assert html.count('class="wish-card"') == 2


def test_the_print_index_lists_the_villages(client, wall):
    client.login("county@example.test")
    html = text(client.get("/wishes/print"))
    assert "洞口县月溪镇洪溪村" in html and "3 个待认领" in html
    assert "洞口县月溪镇古楼村" in html and "1 个待认领" in html
    assert f"/villages/{HONGXI}/wishes/cards" in html and f"/villages/{HONGXI}/wishes/wall" in html
    client.logout()
    client.login("liaison-a@example.test")
    html = text(client.get("/wishes/print"))
    assert "2 个待认领" in html and "古楼村" not in html
    client.logout()
    client.login("liaison-c@example.test")
    assert "没有待认领的微心愿" in text(client.get("/wishes/print"))


def test_the_pages_in_english(client, wall):
    client.get("/lang/en")
    client.login("county@example.test")
    html = text(client.get(f"/villages/{HONGXI}/wishes/cards"))
    assert "Micro-wish cards" in html and "Scan with your phone to claim this wish" in html


# ---- claiming, delivering, confirming (through the needs core) -------------------------------

def post_wish(session, liaison, office, household, *, title="一个新书包", value=12000) -> Need:
    """A wish of goods as the needs core posts and approves it."""
    from marketplace.help.needs import rules, services
    need = services.post(session, liaison, household, rules.NeedInput(
        kind="wish", category="education", title=title, what="items",
        items=[{"name": "书包", "quantity": 1, "unit": "个"}], amount_fen=value,
        beneficiary="孙女，8岁", description="上小学二年级"))
    services.review(session, office, need, "approve")
    return need


@pytest.fixture
def posted(make):
    def build(session):
        liaison = make_user(session, Role.liaison, login="liaison-a@example.test")
        office = make_user(session, Role.office, login="county@example.test",
                           region_obj=region(session, "430525"))
        make_user(session, Role.buyer, login="donor@example.test")
        make_user(session, Role.buyer, login="other@example.test")
        household = make_household(session, name="张三明", liaison=liaison)
        return post_wish(session, liaison, office, household).id
    return make(build)


def test_claim_deliver_confirm_on_the_phone_page(client, make_client, posted, app):
    page = f"/wishes/{posted}"
    resp = client.post_form(f"{page}/claim")  # signed out: sign in first
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]

    client.login("donor@example.test")
    html = text(client.get(page))
    assert "书包 × 1个" in html and "待认领" in html
    resp = client.post_form(f"{page}/claim")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(page)
    html = text(client.get(page))
    assert "心愿已认领" in html and "正在送达" in html and "我已送达" in html
    with app.app_context():
        from marketplace.extensions import db
        need = db.session.get(Need, posted)
        assert need.status == NeedStatus.claimed
        [claim] = need.claims
        claim_id = claim.id

    other = make_client()
    other.login("other@example.test")
    assert other.post_form(f"{page}/claims/{claim_id}/delivered").status_code == 404
    assert "认领这个心愿" not in text(other.get(page))  # claimed: no button for others

    resp = client.post_form(f"{page}/claims/{claim_id}/delivered", {"note": "已送到村委会"})
    assert resp.status_code == 302
    assert "等待帮扶联络人确认收到" in text(client.get(page))
    # the donor cannot confirm their own delivery
    assert client.post_form(f"{page}/claims/{claim_id}/confirm").status_code == 404

    liaison = make_client()
    liaison.login("liaison-a@example.test")
    html = text(liaison.get(page))
    assert "已送到村委会" in html and "确认收到" in html
    resp = liaison.post_form(f"{page}/claims/{claim_id}/confirm", {"note": "孩子很喜欢"})
    assert resp.status_code == 302
    html = text(liaison.get(page))
    assert "已确认收到" in html and "心愿已实现" in html
    assert "心愿已实现" in text(make_client().get(page))  # anyone sees it fulfilled
    with app.app_context():
        from marketplace.extensions import db
        assert db.session.get(Need, posted).status == NeedStatus.fulfilled


def test_the_liaison_cannot_claim_their_own_wish(client, posted):
    client.login("liaison-a@example.test")
    resp = client.post_form(f"/wishes/{posted}/claim", follow_redirects=True)
    assert "不能认领自己发布或负责的需求" in text(resp) and "待认领" in text(resp)


def test_a_bad_note_writes_nothing(client, posted):
    client.login("donor@example.test")
    client.post_form(f"/wishes/{posted}/claim")
    html = text(client.get(f"/wishes/{posted}"))
    claim_id = re.search(r"/claims/(\d+)/delivered", html).group(1)
    resp = client.post_form(f"/wishes/{posted}/claims/{claim_id}/delivered",
                            {"note": "送到\u202e了"}, follow_redirects=True)
    assert "我已送达" in text(resp)  # still held
