"""Pages of needs: the wall (masked names, filters, search), posting with CSRF, the office's
review (404 for another region's office), claiming, delivery and confirmation, flags."""
from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.help.needs import rules, services
from marketplace.help.needs.models import Claim, Need, NeedStatus
from tests.fixtures.factories import make_household, make_user, region


@pytest.fixture
def w(app, make):
    def build(session):
        liaison = make_user(session, Role.liaison, name="李联络")
        office = make_user(session, Role.office, region_obj=region(session, "430525"))
        other = make_user(session, Role.office, region_obj=region(session, "431224"))
        donor = make_user(session, Role.buyer)
        household = make_household(session, liaison=liaison, name="张三明")
        need = services.post(session, liaison, household, rules.NeedInput(
            category="education", title="孩子上学需要书包", what="items",
            items=[{"name": "书包", "quantity": 1, "unit": "个"}]))
        services.review(session, office, need, "approve")
        return type("W", (), dict(liaison=liaison, office=office, other=other, donor=donor,
                                  household=household, need_id=need.id))
    return make(build)


def test_the_wall_masks_names_and_searches(client, w):
    page = client.get("/needs").get_data(as_text=True)
    assert "孩子上学需要书包" in page and "张*明" in page and "张三明" not in page
    assert "洪溪村" in page
    assert "孩子上学" in client.get("/needs?q=书包").get_data(as_text=True)
    assert "孩子上学" not in client.get("/needs?q=轮椅").get_data(as_text=True)
    assert "孩子上学" not in client.get("/needs?category=medical").get_data(as_text=True)
    assert "孩子上学" in client.get("/needs?region=430525").get_data(as_text=True)
    assert "孩子上学" not in client.get("/needs?region=431224").get_data(as_text=True)
    assert client.get("/needs?region=999").status_code == 404
    assert client.get(f"/needs/{w.need_id}").status_code == 200


def test_posting_needs_csrf_and_review_is_scoped(client, make_client, w, app):
    client.login(w.liaison.email)
    form = {"household_code": w.household.code, "kind": "need", "category": "daily",
            "title": "冬天需要棉被两床", "what": "items", "items": "棉被 2 床"}
    assert client.post_form("/needs/new", form, csrf=False).status_code == 400
    resp = client.post_form("/needs/new", form)
    assert resp.status_code == 302
    need_id = int(re.search(r"/needs/(\d+)", resp.headers["Location"]).group(1))
    bad = client.post_form("/needs/new", {**form, "items": "棉被 两床"})
    assert bad.status_code == 400 and "名称 数量 单位" in bad.get_data(as_text=True)
    # pending: not on the wall, 404 for strangers
    anon = make_client()
    assert anon.get(f"/needs/{need_id}").status_code == 404
    other = make_client()
    other.login(w.other.email)
    assert other.get(f"/needs/{need_id}").status_code == 404
    assert other.post_form(f"/needs/{need_id}/review", {"decision": "approve"}).status_code == 404
    office = make_client()
    office.login(w.office.email)
    queue = office.get("/needs/review").get_data(as_text=True)
    assert "冬天需要棉被两床" in queue
    office.post_form(f"/needs/{need_id}/review", {"decision": "send_back", "reason": "请补充照片"})
    with app.app_context():
        assert db.session.get(Need, need_id).status == NeedStatus.sent_back
    page = client.get(f"/needs/{need_id}/edit").get_data(as_text=True)
    assert "请补充照片" in page
    resp = client.post_form(f"/needs/{need_id}/edit", {**form, "action": "resubmit"})
    assert resp.status_code == 302
    office.post_form(f"/needs/{need_id}/review", {"decision": "approve"})
    with app.app_context():
        assert db.session.get(Need, need_id).status == NeedStatus.open


def test_claim_deliver_confirm(client, make_client, w, app):
    client.login(w.donor.email)
    client.post_form(f"/needs/{w.need_id}/claim", {})
    with app.app_context():
        claim = db.session.query(Claim).filter_by(need_id=w.need_id).one()
        assert db.session.get(Need, w.need_id).status == NeedStatus.claimed
    page = client.get(f"/needs/{w.need_id}").get_data(as_text=True)
    assert "登记交付" in page
    client.post_form(f"/claims/{claim.id}/delivered", {"kind": "goods", "note": "快递已寄出"})
    # only the household's liaison confirms
    assert client.post_form(f"/claims/{claim.id}/confirm", {"note": "x"}).status_code == 404
    liaison = make_client()
    liaison.login(w.liaison.email)
    assert "确认收到" in liaison.get(f"/needs/{w.need_id}").get_data(as_text=True)
    liaison.post_form(f"/claims/{claim.id}/confirm", {"note": "已收到"})
    with app.app_context():
        assert db.session.get(Need, w.need_id).status == NeedStatus.fulfilled
    assert "帮扶完成" in client.get(f"/needs/{w.need_id}").get_data(as_text=True)
    assert "孩子上学需要书包" in client.get("/needs/mine").get_data(as_text=True)


def test_flag_and_office_decides(client, make_client, w, app):
    client.login(w.donor.email)
    client.post_form(f"/needs/{w.need_id}/flag", {"reason": "duplicate", "note": "重复"})
    office = make_client()
    office.login(w.office.email)
    page = office.get("/needs/review").get_data(as_text=True)
    flag_id = int(re.search(r"/needs/flags/(\d+)/decide", page).group(1))
    other = make_client()
    other.login(w.other.email)
    assert other.post_form(f"/needs/flags/{flag_id}/decide",
                           {"decision": "uphold"}).status_code == 404
    with app.app_context():
        assert db.session.get(Need, w.need_id).status == NeedStatus.open
    office.post_form(f"/needs/flags/{flag_id}/decide", {"decision": "uphold", "note": "重复"})
    with app.app_context():
        assert db.session.get(Need, w.need_id).status == NeedStatus.removed
    assert client.get(f"/needs/{w.need_id}").status_code == 404
