"""The pool's pages: public totals and allocations (masked), donating and the receipt (another
user's answers 404), an office's allocation page (another region's need 404), a seller's
pledges."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.help.pool import allocations, chain, donations
from marketplace.help.pool.models import Allocation, Donation, Pledge
from marketplace.ledger.models import SalesDay
from tests.fixtures.factories import make_household, make_seller, make_user, region
from tests.services.test_pool import make_need


@contextmanager
def within(app):
    """The database outside the requests (a fresh app context each time: none is shared with
    the test client's requests)."""
    with app.app_context():
        yield db.session
        db.session.commit()


def scalar(app, query):
    with within(app) as session:
        return session.scalar(query)


def setup(session):
    office = make_user(session, Role.office, login="office@example.test",
                       region_obj=region(session, "430525"))
    other = make_user(session, Role.office, login="other@example.test",
                      region_obj=region(session, "431224"))
    donor = make_user(session, login="donor@example.test")
    stranger = make_user(session, login="stranger@example.test")
    need = make_need(session, make_household(session, name="张三明"))
    session.commit()
    return {"office": office, "other": other, "donor": donor, "stranger": stranger,
            "need": need, "need_id": need.id}


def test_the_public_page_shows_totals_and_masked_allocations(app, client):
    with within(app) as session:
        w = setup(session)
        donations.donate(session, w["donor"], 30_000)
        allocations.allocate(session, w["office"], w["need"], 12_000, "学费")
    page = client.get("/pool")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "¥300.00" in html and "¥120.00" in html and "¥180.00" in html
    assert "张*明" in html and "洪溪村" in html and "张三明" not in html
    assert "登录后捐赠" in html


def test_a_donor_donates_and_sees_the_receipt(app, client, make_client):
    with within(app) as session:
        setup(session)
    client.login("donor@example.test")
    bad = client.post_form("/pool/donate", {"amount": "abc"})
    assert bad.status_code == 400 and "请填写金额" in bad.get_data(as_text=True)
    resp = client.post_form("/pool/donate", {"amount": "50", "display_name": "一位老师"})
    assert resp.status_code == 302
    with within(app) as session:
        donation = session.scalar(select(Donation))
        session.expunge(donation)
    assert resp.headers["Location"].endswith(f"/pool/donations/{donation.id}")
    receipt = client.get(f"/pool/donations/{donation.id}").get_data(as_text=True)
    assert donation.receipt_no in receipt and "¥50.00" in receipt
    assert donation.receipt_no in client.get("/pool/mine").get_data(as_text=True)
    other = make_client()
    other.login("stranger@example.test")
    assert other.get(f"/pool/donations/{donation.id}").status_code == 404
    with within(app) as session:
        assert chain.totals(session).received == 5_000


def test_an_office_allocates_on_its_page(app, client, make_client):
    with within(app) as session:
        w = setup(session)
        donations.donate(session, w["donor"], 30_000)
    client.login("office@example.test")
    page = client.get("/pool/allocate").get_data(as_text=True)
    assert "孩子学费" in page and "¥300.00" in page
    url = f"/pool/needs/{w['need_id']}/allocate"
    client.post_form(url, {"amount": "400", "reason": ""})
    assert "余额" in client.get("/pool/allocate").get_data(as_text=True)
    assert scalar(app, select(Allocation.id)) is None
    resp = client.post_form(url, {"amount": "100", "reason": "学费"})
    assert resp.status_code == 302
    assert scalar(app, select(Allocation.amount_fen)) == 10_000
    other = make_client()
    other.login("other@example.test")
    assert other.post_form(url, {"amount": "1"}).status_code == 404
    assert "孩子学费" not in other.get("/pool/allocate").get_data(as_text=True)
    donor = make_client()
    donor.login("donor@example.test")
    assert donor.get("/pool/allocate").status_code == 403


def test_a_seller_pledges_and_pays_a_month(app, client):
    with within(app) as session:
        seller = make_seller(session, name="爱心超市")
        make_user(session, Role.seller_staff, seller=seller, login="shop@example.test")
        session.add(SalesDay(day=date(2026, 10, 5), seller_id=seller.id, channel="individual",
                             category_id=1, seller_kind=str(seller.kind), month=202610,
                             sales_fen=100_000, refunds_fen=0, orders=1))
    client.login("shop@example.test")
    assert client.get("/seller/pledges").status_code == 200
    bad = client.post_form("/seller/pledges", {"share": "x", "starts_on": "2026-10-01",
                                               "ends_on": "2027-09-30"})
    assert bad.status_code == 400 and "承诺比例" in bad.get_data(as_text=True)
    resp = client.post_form("/seller/pledges", {"share": "2", "starts_on": "2026-10-01",
                                                "ends_on": "2027-09-30", "note": "2%"})
    assert resp.status_code == 302
    pledge_id = scalar(app, select(Pledge.id))
    page = client.get("/seller/pledges").get_data(as_text=True)
    assert "¥20.00" in page
    paid = client.post_form(f"/seller/pledges/{pledge_id}/months/202610/pay")
    assert paid.status_code == 302 and "/pool/donations/" in paid.headers["Location"]
    public = client.get("/pool").get_data(as_text=True)
    assert "爱心超市" in public and "2%" in public
