"""Supply lots through the test client (both engines): a cooperative records lots and sets a
product's rule, bad input is answered in Chinese and writes nothing, a lot below the guaranteed
price is flagged on the seller's page and on the offices' page over the household only, other
sellers' lots are 404, and an undrawn lot can be deleted after confirming."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.ledger.models import SupplyLot
from tests.fixtures.factories import make_user, region


def text(resp) -> str:
    return resp.get_data(as_text=True)


def n_lots(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SupplyLot))


@pytest.fixture
def coop(app, client, make):
    make.regions()
    household = make.household(name="张三明", n=6161)
    seller = make.seller(name="古楼茶叶专业合作社", members=[(household, 1)])
    make.staff(seller, login="staff@example.test")
    tea = make.product(seller, name="古楼云雾茶", spec="250g/罐")
    client.login("staff@example.test")
    return SimpleNamespace(seller=seller, tea=tea, household=household)


def lot_form(coop, **kw) -> dict:
    data = {"product_id": str(coop.tea.id), "household_code": coop.household.code,
            "quantity": "20", "unit_price": "15.50", "purchased_on": date.today().isoformat()}
    data.update(kw)
    return data


def test_a_cooperative_records_lots_and_sets_the_rule(app, client, coop):
    page = text(client.get("/seller/lots"))
    assert "登记收购批次" in page and "古楼云雾茶" in page
    assert "按成员户权重" in text(client.get("/seller/rules"))
    resp = client.post_form(f"/seller/rules/products/{coop.tea.id}",
                            {"share": "12.5", "lot_backed": "y", "guaranteed_price": "16"})
    assert resp.status_code == 302
    with app.app_context():
        tea = db.session.get(Product, coop.tea.id)
        assert (tea.household_share_bp, tea.lot_backed, tea.guaranteed_price_fen) == (
            1250, True, 1600)
    resp = client.post_form("/seller/lots", lot_form(coop), follow_redirects=True)
    html = text(resp)
    assert resp.status_code == 200 and "收购价低于保底收购价" in html
    assert "低于保底价 ¥16.00" in html and "张*明" in html and "张三明" not in html
    assert "0 / 20" in html and "按收购批次" in text(client.get("/seller/rules"))
    notices = text(client.get("/notifications"))
    assert "收购批次低于保底收购价" in notices


def test_bad_lot_input_is_answered_in_chinese_and_writes_nothing(app, client, coop):
    future = (date.today() + timedelta(days=3)).isoformat()
    resp = client.post_form("/seller/lots", lot_form(
        coop, household_code="NOBODY", quantity="-1", unit_price="abc", purchased_on=future))
    html = text(resp)
    assert resp.status_code == 400
    for message in ("未找到该帮扶对象编号", "数量应为 1 到 1000000 之间的整数",
                    "请输入正确的价格", "收购日期不能晚于今天"):
        assert message in html
    assert n_lots(app) == 0
    assert client.post_form("/seller/lots", lot_form(coop), csrf=False).status_code == 400
    assert n_lots(app) == 0


def test_the_flag_reaches_the_offices_over_the_household_only(app, client, make, coop):
    make(lambda s: make_user(s, Role.office, login="dongkou@example.test",
                             region_obj=region(s, "430525")))
    make(lambda s: make_user(s, Role.office, login="xupu@example.test",
                             region_obj=region(s, "431224")))
    client.post_form(f"/seller/rules/products/{coop.tea.id}", {"guaranteed_price": "16"})
    client.post_form("/seller/lots", lot_form(coop, unit_price="12"))
    client.logout()
    client.login("dongkou@example.test")
    html = text(client.get("/office"))
    assert "低于保底收购价的收购批次" in html and "张*明" in html and "¥12.00" in html
    client.logout()
    client.login("xupu@example.test")
    html = text(client.get("/office"))
    assert "辖区内没有低于保底收购价的收购批次" in html and "¥12.00" not in html


def test_other_sellers_lots_are_404_and_an_undrawn_lot_is_deleted(app, client, make, coop):
    other = make.seller(name="溆浦红枣合作社", region_code="431224")
    assert client.get(f"/seller/lots?seller={other.id}").status_code == 404
    client.post_form("/seller/lots", lot_form(coop))
    with app.app_context():
        lot_id = db.session.scalar(select(SupplyLot.id))
    page = text(client.get("/seller/lots"))
    assert "确定删除该收购批次吗？" in page
    assert client.post_form(f"/seller/lots/{lot_id}/remove?seller={other.id}").status_code == 404
    assert n_lots(app) == 1
    resp = client.post_form(f"/seller/lots/{lot_id}/remove", follow_redirects=True)
    assert "已删除该收购批次" in text(resp) and n_lots(app) == 0


def test_a_household_shop_has_no_lots(app, client, make):
    make.regions()
    household = make.household(n=6262)
    from marketplace.sellers.models import SellerKind
    shop = make.seller(kind=SellerKind.household_shop, household=household, name="张家小店")
    make.staff(shop, login="shop@example.test")
    client.login("shop@example.test")
    html = text(client.get("/seller/lots"))
    assert "只有农民专业合作社和带农企业登记收购批次" in html
    assert client.post_form("/seller/lots", {"product_id": "1"}).status_code == 200
    assert n_lots(app) == 0


def test_the_sellers_share_and_a_products_own_share_are_set_in_percent(app, client, coop):
    from marketplace.sellers.models import Seller
    resp = client.post_form("/seller/rules/share", {"share": "30"}, follow_redirects=True)
    assert "已保存帮扶比例" in text(resp)
    resp = client.post_form("/seller/rules/share", {"share": "101"}, follow_redirects=True)
    assert "帮扶比例应为 0 到 100 之间的百分数" in text(resp)
    resp = client.post_form(f"/seller/rules/products/{coop.tea.id}",
                            {"share": "abc", "guaranteed_price": "-1"}, follow_redirects=True)
    assert "帮扶比例应为 0 到 100 之间的百分数" in text(resp)
    with app.app_context():
        assert db.session.get(Seller, coop.seller.id).household_share_bp == 3000
        tea = db.session.get(Product, coop.tea.id)
        assert (tea.household_share_bp, tea.guaranteed_price_fen) == (None, None)
    page = text(client.get("/seller/rules"))
    assert 'value="30.00"' in page and "默认 30.00" in page
