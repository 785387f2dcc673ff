"""Liaison and office pages: registering households, who sees which names, scopes."""
import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.extensions import db
from marketplace.households.models import Household, HouseholdStatus
from tests.fixtures.factories import make_user, region, valid_id_number

HONGXI = "430525101201"  # 洞口县 月溪镇 洪溪村
GULOU = "430525101202"  # 洞口县 月溪镇 古楼村
CAOJIAXI = "431224210201"  # 溆浦县 舒溶溪乡 曹家溪村
NEW = "/households/new"


def n_households(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Household))


def households(app) -> list[Household]:
    with app.app_context():
        rows = list(db.session.scalars(select(Household).order_by(Household.id)))
        for r in rows:
            db.session.expunge(r)
        return rows


def form(**kw) -> dict:
    data = {"village_code": HONGXI, "head_name": "王建国", "id_number": valid_id_number(11),
            "size": "4", "status": "poor"}
    data.update(kw)
    return data


@pytest.fixture
def liaison(make, client):
    make.regions()
    user = make.user(Role.liaison, login="liaison@example.test", name="联络人甲")
    client.login("liaison@example.test")
    return user


def office_user(make, county="430525", login="office@example.test"):
    return make(lambda s: make_user(s, Role.office, login=login, name="洞口县帮扶办",
                                    region_obj=region(s, county)))


# ---- liaison registers ------------------------------------------------------------------------

def test_liaison_registers_a_household(client, app, liaison):
    page = client.get(NEW)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "登记帮扶对象" in html and HONGXI in html and CAOJIAXI in html  # any village
    assert 'name="liaison_id"' not in html  # a liaison registers for themselves

    id_number = valid_id_number(11)
    resp = client.post_form(NEW, form(), follow_redirects=True)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "****" + id_number[-4:] in html
    assert id_number not in html
    assert "王建国" in html  # the household's own liaison sees the full name

    [hh] = households(app)
    assert hh.liaison_id == liaison.id and hh.registered_by_id == liaison.id
    assert hh.village.code == HONGXI and hh.size == 4 and hh.status == HouseholdStatus.poor
    assert hh.id_last4 == id_number[-4:]


@pytest.mark.parametrize("kw,message", [
    ({"id_number": valid_id_number(11)[:-1] + ("0" if valid_id_number(11)[-1] != "0" else "1")},
     "校验码"),
    ({"id_number": valid_id_number(12, birth="19701340")}, "出生日期"),
    ({"id_number": "43052519700101"}, "身份证号码无效"),
    ({"size": "0"}, "家庭人口应为 1 到 30"),
    ({"size": "many"}, "家庭人口应为 1 到 30"),
    ({"head_name": ""}, "请填写户主姓名"),
    ({"status": "rich"}, "请选择帮扶对象类别"),
    ({"village_code": "430525"}, "请选择帮扶对象所在的村"),  # a county is not a village
])
def test_bad_input_is_400_with_a_message_and_writes_nothing(client, app, liaison, kw, message):
    data = form(**kw)
    resp = client.post_form(NEW, data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert message in html
    assert 'class="error"' in html
    assert n_households(app) == 0
    # the typed ID number does not come back in the page
    assert data["id_number"] not in html


def test_duplicate_id_number_is_refused(client, app, liaison):
    assert client.post_form(NEW, form()).status_code == 302
    resp = client.post_form(NEW, form(head_name="王建军", village_code=GULOU))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "不能重复登记" in html
    assert valid_id_number(11) not in html
    assert n_households(app) == 1


def test_the_same_number_typed_differently_is_still_a_duplicate(client, app, liaison):
    number = valid_id_number(13, birth="19800101")
    assert number.isdigit() or number.endswith("X")
    assert client.post_form(NEW, form(id_number=number)).status_code == 302
    assert client.post_form(NEW, form(id_number=" " + number.lower() + " ")).status_code == 400
    assert n_households(app) == 1


def test_a_form_without_its_csrf_token_writes_nothing(client, app, liaison):
    resp = client.post_form(NEW, form(), csrf=False)
    assert resp.status_code == 400
    assert n_households(app) == 0


# ---- who sees what ----------------------------------------------------------------------------

def test_liaison_sees_only_their_own_households(client, make, liaison):
    other = make.user(Role.liaison, login="other@example.test")
    make.household(name="张三明", liaison=liaison, n=101)
    make.household(name="李四光", liaison=other, n=102, village_code=CAOJIAXI)
    html = client.get("/liaison").get_data(as_text=True)
    assert "张三明" in html
    assert "李四光" not in html and "李*光" not in html
    assert "共 1 户" in html
    assert "洞口县 › 月溪镇 › 洪溪村" in html


@pytest.mark.parametrize("url", ["/liaison", "/office", NEW])
def test_a_buyer_gets_403(client, make, url):
    make.user(Role.buyer, login="buyer@example.test")
    client.login("buyer@example.test")
    resp = client.get(url)
    assert resp.status_code == 403
    assert resp.mimetype == "text/html"


def test_a_buyer_cannot_post_a_household_either(client, app, make):
    make.regions()
    make.user(Role.buyer, login="buyer@example.test")
    client.login("buyer@example.test")
    assert client.post_form(NEW, form()).status_code == 403
    assert n_households(app) == 0


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in ("/liaison", "/office", NEW):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_liaison_is_not_an_office(client, liaison):
    assert client.get("/office").status_code == 403


# ---- offices ----------------------------------------------------------------------------------

def test_office_registers_in_its_county_for_a_liaison(client, app, make):
    make.regions()
    field_worker = make.user(Role.liaison, login="lw@example.test", name="联络人乙")
    office_user(make)
    client.login("office@example.test")
    html = client.get(NEW).get_data(as_text=True)
    assert HONGXI in html and GULOU in html
    assert CAOJIAXI not in html  # another county's village is not offered
    assert 'name="liaison_id"' in html and "联络人乙" in html

    resp = client.post_form(NEW, form(liaison_id=str(field_worker.id)))
    assert resp.status_code == 302
    [hh] = households(app)
    assert hh.liaison_id == field_worker.id
    # the flash on the office page masks the name: the office is not the liaison
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "王*国" in html and "王建国" not in html


def test_office_cannot_register_in_another_county(client, app, make):
    make.regions()
    field_worker = make.user(Role.liaison, login="lw@example.test")
    office_user(make)
    client.login("office@example.test")
    resp = client.post_form(NEW, form(village_code=CAOJIAXI, liaison_id=str(field_worker.id)))
    assert resp.status_code in (400, 403)
    assert "管辖范围" in resp.get_data(as_text=True)
    assert n_households(app) == 0


def test_office_must_choose_a_real_liaison(client, app, make):
    make.regions()
    buyer = make.user(Role.buyer, login="b@example.test")
    office_user(make)
    client.login("office@example.test")
    for value in ("", str(buyer.id), "abc"):
        resp = client.post_form(NEW, form(liaison_id=value))
        assert resp.status_code == 400
        assert "请选择帮扶联络人" in resp.get_data(as_text=True)
    assert n_households(app) == 0


def test_admin_registers_anywhere(client, app, make):
    make.regions()
    field_worker = make.user(Role.liaison, login="lw@example.test")
    make.user(Role.platform_admin, login="admin@example.test")
    client.login("admin@example.test")
    resp = client.post_form(NEW, form(village_code=CAOJIAXI, liaison_id=str(field_worker.id)))
    assert resp.status_code == 302
    assert households(app)[0].village.code == CAOJIAXI


@pytest.fixture
def county(make):
    """Households in 洞口县 (two villages, two liaisons) and one in 溆浦县."""
    make.regions()
    a = make.user(Role.liaison, login="a@example.test", name="联络人甲")
    b = make.user(Role.liaison, login="b@example.test", name="联络人乙")
    make.household(name="张三明", liaison=a, n=201, status=HouseholdStatus.poor)
    make.household(name="欧阳小明", liaison=a, n=202, status=HouseholdStatus.lifted)
    make.household(name="李四光", liaison=b, n=203, village_code=GULOU,
                   status=HouseholdStatus.monitored)
    make.household(name="赵五德", liaison=b, n=204, village_code=CAOJIAXI)
    office_user(make)
    return a, b


def test_office_sees_masked_names_in_its_subtree(client, county):
    client.login("office@example.test")
    resp = client.get("/office")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for masked in ("张*明", "欧**明", "李*光"):
        assert masked in html
    for full in ("张三明", "欧阳小明", "李四光"):
        assert full not in html
    assert "赵*德" not in html  # 溆浦县 is another office's
    assert "共 3 户" in html
    assert "月溪镇" in html  # the by-township summary


def test_office_summary_counts(client, app, county):
    from marketplace.households import views
    with app.app_context():
        root = region(db.session, "430525")
        summary = views._summary([root])
    assert summary["total"] == 3
    assert summary["by_status"] == {"poor": 1, "lifted": 1, "monitored": 1}
    assert summary["townships"] == [{"code": "430525101", "name": "月溪镇", "total": 3,
                                     "by_status": {"poor": 1, "lifted": 1, "monitored": 1}}]


def test_office_filters_by_township_and_village(client, county):
    client.login("office@example.test")
    html = client.get(f"/office?village={GULOU}").get_data(as_text=True)
    assert "李*光" in html and "张*明" not in html and "共 1 户" in html
    html = client.get("/office?township=430525101").get_data(as_text=True)
    assert "共 3 户" in html and "古楼村" in html  # the village select appears


@pytest.mark.parametrize("query", [f"village={CAOJIAXI}", "township=431224210",
                                   "village=999999999999", f"township={HONGXI}"])
def test_office_filter_outside_its_subtree_is_404(client, county, query):
    client.login("office@example.test")
    assert client.get(f"/office?{query}").status_code == 404


def test_offices_liaison_households_show_full_names_only_to_that_liaison(client, make, county):
    """A user who is both office and liaison sees their own households in full."""
    a, _b = county

    def add_office(session):
        from marketplace.accounts.models import User
        from marketplace.accounts.services import grant_role
        grant_role(session, session.get(User, a.id), Role.office,
                   region_id=region(session, "430525").id)
    make(add_office)
    client.login("a@example.test")
    html = client.get("/office").get_data(as_text=True)
    assert "张三明" in html and "欧阳小明" in html  # theirs
    assert "李*光" in html and "李四光" not in html  # another liaison's


def test_office_list_paginates(client, make):
    make.regions()
    lw = make.user(Role.liaison)
    for i in range(55):
        make.household(name=f"陈{i:02d}", liaison=lw, n=300 + i)
    office_user(make)
    client.login("office@example.test")
    first = client.get("/office").get_data(as_text=True)
    assert "共 55 户" in first and "第 1 / 2 页" in first
    second = client.get("/office?page=2").get_data(as_text=True)
    assert first.count("<code>HT") == 50
    assert second.count("<code>HT") == 5 and "第 2 / 2 页" in second


def test_a_households_statement_for_its_liaison_and_offices_only(client, make, make_client):
    from marketplace.orders import services as order_services
    from marketplace.orders.services import AddressInput, LineInput
    from marketplace.payments.capture import record_payment
    from tests.fixtures.factories import DELIVERY, make_household, make_product, make_seller

    make.regions()
    liaison = make.user(Role.liaison, login="liaison@example.test")

    def world(session):
        household = make_household(session, n=990, name="孙二娘", liaison=liaison)
        seller = make_seller(session, members=[(household, 1)])
        seller.household_share_bp = 5000
        product = make_product(session, seller, name="山茶油", price_fen=6000, stock=5)
        buyer = make_user(session, "buyer")
        order, = order_services.checkout(session, buyer, [LineInput(product.id, 1)],
                                         AddressInput(**DELIVERY), idempotency_key="stmt-0001")
        record_payment(session, order, provider="simulated", reference="s-1",
                                      amount_fen=order.total_fen, currency="CNY")
        return household.id

    household_id = make(world)
    client.login("liaison@example.test")
    page = client.get(f"/households/{household_id}/statement").get_data(as_text=True)
    assert "帮扶收入明细" in page and "山茶油" in page and "¥30.00" in page
    csv = client.get(f"/households/{household_id}/statement.csv")
    assert csv.mimetype == "text/csv" and "山茶油" in csv.get_data(as_text=True)
    listed = client.get("/liaison").get_data(as_text=True)
    assert f'/households/{household_id}/statement">¥30.00 · 明细' in listed
    office_user(make)
    office = make_client()
    office.login("office@example.test")
    assert office.get(f"/households/{household_id}/statement").status_code == 200
    overview = office.get("/office").get_data(as_text=True)
    assert "<b>¥30.00</b>计入收入合计" in overview and "<b>1</b>有收入计入的户" in overview
    assert f'/households/{household_id}/statement">¥30.00 · 明细' in overview
    office_user(make, county="431224", login="office2@example.test")  # another county's office
    elsewhere = make_client()
    elsewhere.login("office2@example.test")
    overview = elsewhere.get("/office").get_data(as_text=True)
    assert "<b>¥0.00</b>计入收入合计" in overview and "¥30.00" not in overview
    make.user(Role.liaison, login="other@example.test")
    stranger = make_client()
    stranger.login("other@example.test")
    assert stranger.get(f"/households/{household_id}/statement").status_code == 404
    assert stranger.get(f"/households/{household_id}/statement.csv").status_code == 404


def test_a_public_page_with_recorded_revocable_consent(client, make, make_client, app):
    from marketplace.households.models import HouseholdConsent
    from marketplace.orders import services as order_services
    from marketplace.orders.services import AddressInput, LineInput
    from marketplace.payments.capture import record_payment
    from tests.fixtures.factories import DELIVERY, make_household, make_product, make_seller

    make.regions()
    liaison = make.user(Role.liaison, login="liaison@example.test")
    make.user(Role.buyer, login="buyer@example.test")

    def world(session):
        household = make_household(session, n=991, name="孙二娘", liaison=liaison)
        seller = make_seller(session, name="洪溪茶油合作社", members=[(household, 1)])
        seller.household_share_bp = 5000
        product = make_product(session, seller, name="山茶油", price_fen=6000, stock=5)
        buyer = session.scalar(select(User).where(User.email == "buyer@example.test"))
        order, = order_services.checkout(session, buyer, [LineInput(product.id, 1)],
                                         AddressInput(**DELIVERY), idempotency_key="pub-0001")
        record_payment(session, order, provider="simulated", reference="p-1",
                                      amount_fen=order.total_fen, currency="CNY")
        return household.id, household.code, order.id, order.number

    household_id, code, order_id, number = make(world)
    url = f"/households/{household_id}/public"
    client.login("liaison@example.test")
    statement = client.get(f"/households/{household_id}/statement").get_data(as_text=True)
    assert "记录同意并开启" in statement
    resp = client.post_form(url, {"action": "open", "method": "  "}, follow_redirects=True)
    assert "请填写户主同意的方式" in resp.get_data(as_text=True)
    resp = client.post_form(url, {"action": "open", "method": "户主书面签字"},
                            follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "已开启公开页面" in page and "撤回同意，关闭公开页面" in page
    with app.app_context():
        token = db.session.get(Household, household_id).public_token
    assert token and f"/h/{token}" in page

    anyone = make_client()
    public = anyone.get(f"/h/{token}")
    html = public.get_data(as_text=True)
    assert public.status_code == 200 and "山茶油" in html and "洪溪茶油合作社" in html
    assert "¥30.00" in html and "洪溪村" in html
    for personal in ("孙二娘", "孙*娘", code, number, "王小红"):
        assert personal not in html
    buyer = make_client()
    buyer.login("buyer@example.test")
    assert f"/h/{token}" in buyer.get(f"/orders/{order_id}").get_data(as_text=True)
    assert buyer.post_form(url, {"action": "close"}).status_code == 404  # not theirs

    resp = client.post_form(url, {"action": "close"}, follow_redirects=True)
    assert "已关闭公开页面" in resp.get_data(as_text=True)
    assert anyone.get(f"/h/{token}").status_code == 404
    assert f"/h/{token}" not in buyer.get(f"/orders/{order_id}").get_data(as_text=True)
    client.post_form(url, {"action": "open", "method": "户主口头同意，村干部见证"})
    with app.app_context():
        again = db.session.get(Household, household_id).public_token
        rows = db.session.execute(select(HouseholdConsent.public, HouseholdConsent.method)
                                  .order_by(HouseholdConsent.id)).all()
    assert again and again != token and anyone.get(f"/h/{again}").status_code == 200
    assert [tuple(r) for r in rows] == [(True, "户主书面签字"), (False, "撤回同意"),
                                        (True, "户主口头同意，村干部见证")]
