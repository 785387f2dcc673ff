"""The staff's long lists page and filter (both engines): the admins' users (by text and role),
a seller's supply lots (by product, household, flagged; the household picked from the seller's
own households, never typed) and the households of a liaison and of an office (by the head's
name, the code or the village, and the kind; an office only in its subtree, a liaison only
their own)."""
from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.households.models import HouseholdStatus
from marketplace.ledger.models import SupplyLot
from marketplace.sellers.models import Seller, SellerKind
from tests.fixtures.factories import make_user, region

GULOU = "430525101202"  # 洞口县 月溪镇 古楼村
CAOJIAXI = "431224210201"  # 溆浦县 舒溶溪乡 曹家溪村


def text(resp) -> str:
    return resp.get_data(as_text=True)


def rows(html: str, cls: str = "row") -> int:
    return len(re.findall(rf'<li class="{cls}[ "]', html))


# ---- users ------------------------------------------------------------------------------------

@pytest.fixture
def people(make, client):
    make.regions()
    make.user(Role.platform_admin, login="admin@example.test", name="平台管理员")
    for i in range(33):
        make.user(Role.buyer, login=f"buyer{i:02d}@example.test", name=f"买家{i:02d}")
    for i in range(3):
        make.user(Role.liaison, login=f"liaison{i}@example.test", name=f"联络人{i}")
    client.login("admin@example.test")


def test_users_page_by_thirty_newest_first(client, people):
    first = text(client.get("/admin/users"))
    assert "共 37 个用户" in first and "第 1 / 2 页" in first
    assert first.count('id="user-') == 30
    assert first.index("联络人2") < first.index("买家32")  # newest first
    second = text(client.get("/admin/users?page=2"))
    assert second.count('id="user-') == 7 and "平台管理员" in second


def test_users_filter_by_role_and_text_and_the_forms_keep_them(client, people):
    html = text(client.get("/admin/users?role=liaison"))
    assert "找到 3 个用户" in html and html.count('id="user-') == 3
    assert '<option value="liaison" selected>' in html
    html = text(client.get("/admin/users?q=buyer1&role=buyer"))
    assert "找到 10 个用户" in html and "买家10" in html and "买家20" not in html
    assert "q=buyer1" in html and "role=buyer" in html  # the grant forms post back to the list
    html = text(client.get("/admin/users?role=nobody&q=%20%20"))  # unknown role: no narrowing
    assert "共 37 个用户" in html
    html = text(client.get("/admin/users?q=nobody-at-all"))
    assert "找到 0 个用户" in html and "没有找到用户。" in html


# ---- supply lots ------------------------------------------------------------------------------

@pytest.fixture
def coop(app, client, make):
    make.regions()
    members = [make.household(name="张三明", n=7101), make.household(name="李四光", n=7102,
                                                                    village_code=GULOU)]
    outsider = make.household(name="王五福", n=7103)
    seller = make.seller(name="古楼茶叶专业合作社", members=[(h, 1) for h in members])
    make.staff(seller, login="staff@example.test")
    tea = make.product(seller, name="古楼云雾茶", spec="250g/罐")
    oil = make.product(seller, name="山茶油", spec="500ml")
    client.login("staff@example.test")
    return SimpleNamespace(seller=seller, members=members, outsider=outsider, tea=tea, oil=oil)


def lot_form(product, household, **kw) -> dict:
    data = {"product_id": str(product.id), "household_code": household.code,
            "quantity": "20", "unit_price": "15.50", "purchased_on": date.today().isoformat()}
    data.update(kw)
    return data


def n_lots(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SupplyLot))


def test_the_lot_form_picks_from_the_sellers_households(app, client, coop):
    html = text(client.get("/seller/lots"))
    picker = html[html.index('name="household_code"'):]
    picker = picker[:picker.index("</select>")]
    for h in coop.members:
        assert f'value="{h.code}"' in picker
    assert "张*明 · " in picker and "李*光 · " in picker and "张三明" not in picker
    assert coop.outsider.code not in picker and "王*福" not in picker
    assert "<optgroup" in picker  # grouped by village
    resp = client.post_form("/seller/lots", lot_form(coop.tea, coop.outsider))
    assert resp.status_code == 400
    assert "该农户不在本经营主体登记的农户名单中" in text(resp) and n_lots(app) == 0
    resp = client.post_form("/seller/lots", lot_form(coop.tea, coop.members[1]))
    assert resp.status_code == 302 and n_lots(app) == 1


def test_a_seller_with_no_households_is_sent_to_list_them(client, make):
    make.regions()
    firm = make.seller(name="古楼雪峰云雾茶有限公司", kind=SellerKind.enterprise)
    make.staff(firm, login="firm@example.test")
    client.login("firm@example.test")
    html = text(client.get("/seller/lots"))
    assert "还没有登记农户" in html and f"/seller/members?seller={firm.id}" in html
    # an enterprise lists its linked households on the members page, without weights
    household = make.household(name="赵六顺", n=7201)
    page = text(client.get("/seller/members"))
    assert "带动农户" in page and 'name="weight"' not in page
    resp = client.post_form("/seller/members", {"household_code": household.code},
                            follow_redirects=True)
    assert "赵*顺" in text(resp)
    html = text(client.get("/seller/lots"))
    assert f'value="{household.code}"' in html and "还没有登记农户" not in html


def test_lots_page_and_filter(app, client, coop):
    def add_lots(session):
        seller = session.get(Seller, coop.seller.id)
        today = date.today()
        for i in range(33):
            product, household = ((coop.tea, coop.members[0]) if i % 3
                                  else (coop.oil, coop.members[1]))
            session.add(SupplyLot(
                seller_id=seller.id, product_id=product.id, household_id=household.id,
                quantity=10, remaining=10, unit_price_fen=1000 + i,
                purchased_on=today - timedelta(days=i), guaranteed_price_fen=1010,
                below_guarantee=1000 + i < 1010, recorded_by_id=None,
                created_at=seller.created_at))
    from tests.fixtures.factories import Maker
    Maker(app)(add_lots)
    first = text(client.get("/seller/lots"))
    assert "33 批" in first and "第 1 / 2 页" in first
    assert first.count('data-label="收购日期"') == 30
    assert first.index(date.today().isoformat()) < first.index(
        (date.today() - timedelta(days=29)).isoformat())
    second = text(client.get("/seller/lots?page=2"))
    assert second.count('data-label="收购日期"') == 3
    html = text(client.get(f"/seller/lots?product={coop.oil.id}"))
    assert "11 批" in html and html.count('data-label="收购日期"') == 11
    html = text(client.get(f"/seller/lots?household={coop.members[0].code}"))
    assert "22 批" in html
    html = text(client.get(f"/seller/lots?product={coop.oil.id}&flagged=1"))
    assert "4 批" in html  # i = 0, 3, 6, 9 are oil lots below 1010
    html = text(client.get(f"/seller/lots?household={coop.outsider.code}&product=99999"))
    assert "33 批" in html  # not the seller's: no narrowing
    html = text(client.get(f"/seller/lots?product={coop.tea.id}&household={coop.members[1].code}"))
    assert "0 批" in html and "没有符合筛选条件的收购批次。" in html


# ---- households -------------------------------------------------------------------------------

@pytest.fixture
def county(make):
    """Households in 洞口县 (two villages, two liaisons, one of them also the county's office)
    and one in 溆浦县."""
    make.regions()
    a = make.user(Role.liaison, login="a@example.test", name="联络人甲")
    b = make.user(Role.liaison, login="b@example.test", name="联络人乙")
    hh = SimpleNamespace(
        zhang=make.household(name="张三明", liaison=a, n=7301),
        ouyang=make.household(name="欧阳小明", liaison=a, n=7302, status=HouseholdStatus.lifted),
        li=make.household(name="李四光", liaison=b, n=7303, village_code=GULOU,
                          status=HouseholdStatus.monitored),
        zhao=make.household(name="赵三明", liaison=b, n=7304, village_code=CAOJIAXI))
    make(lambda s: make_user(s, Role.office, login="office@example.test",
                             region_obj=region(s, "430525")))
    return SimpleNamespace(a=a, b=b, hh=hh)


def test_an_office_finds_households_by_name_code_and_village_in_its_subtree(client, county):
    client.login("office@example.test")
    html = text(client.get("/office?q=三明"))  # the full name, typed by who may see it
    assert "找到 1 户" in html and "张*明" in html and "张三明" not in html
    assert "赵*明" not in html  # 溆浦县 is not theirs
    html = text(client.get(f"/office?q={county.hh.li.code.lower()}"))  # codes in any case
    assert "找到 1 户" in html and "李*光" in html
    html = text(client.get("/office?q=古楼"))
    assert "找到 1 户" in html and "李*光" in html
    html = text(client.get("/office?q=月溪镇&status=lifted"))  # a township's name, a kind
    assert "找到 1 户" in html and "欧**明" in html
    html = text(client.get(f"/office?q={county.hh.zhao.code}"))
    assert "找到 0 户" in html and "没有找到符合条件的帮扶对象。" in html
    html = text(client.get("/office?q=%25&status=bogus"))  # LIKE characters are literal
    assert "找到 0 户" in html


def test_a_liaison_finds_only_their_own_households(client, make, county):
    def add_office(session):
        from marketplace.accounts.models import User
        from marketplace.accounts.services import grant_role
        grant_role(session, session.get(User, county.a.id), Role.office,
                   region_id=region(session, "430525").id)
    make(add_office)  # liaison 甲 is also the county's office: /liaison stays theirs
    client.login("a@example.test")
    html = text(client.get("/liaison"))
    assert "共 2 户" in html and "李*光" not in html and "李四光" not in html
    html = text(client.get("/liaison?q=小明"))
    assert "找到 1 户" in html and "欧阳小明" in html  # their own: in full
    html = text(client.get("/liaison?q=李四光"))
    assert "找到 0 户" in html
    html = text(client.get(f"/liaison?status={HouseholdStatus.poor.value}"))
    assert "找到 1 户" in html and "张三明" in html
    assert '<option value="poor" selected>' in html


def test_a_search_keeps_its_words_on_every_page(client, make):
    make.regions()
    lw = make.user(Role.liaison, login="lw@example.test")
    for i in range(52):
        make.household(name=f"陈{i:02d}", liaison=lw, n=7400 + i)
    make.household(name="王大明", liaison=lw, n=7499)
    client.login("lw@example.test")
    html = text(client.get("/liaison?q=陈"))
    assert "找到 52 户" in html and "第 1 / 2 页" in html and "王大明" not in html
    link = re.search(r'href="([^"]*page=2[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "q=" in link
    second = text(client.get(link))
    assert second.count("<code>HT") == 2 and "第 2 / 2 页" in second
