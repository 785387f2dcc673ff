"""Turning an application down through the pages (both engines): the admin's 驳回 asks first and
needs a reason, the applicant reads it on their console and on the apply page, changes the
application and sends it again, and the admin finds it pending with the last reason."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.sellers.models import Seller, SellerStatus
from tests.fixtures.factories import valid_credit_code

REASON = "请补充说明带动农户的方式"


def text(resp) -> str:
    return resp.get_data(as_text=True)


def status(app, seller_id) -> tuple:
    with app.app_context():
        seller = db.session.get(Seller, seller_id)
        return seller.status, seller.rejection_reason


@pytest.fixture
def applied(app, client, make, make_client):
    """An application sent through the apply page; (the applicant's browser, the admin's, id)."""
    make.regions()
    make.user(Role.buyer, login="applicant@example.test", name="申请人")
    make.user(Role.platform_admin, login="admin@example.test", name="审核员")
    client.login("applicant@example.test")
    resp = client.post_form("/seller/apply", {
        "kind": "cooperative", "name": "洞口县雪峰茶叶专业合作社", "region_code": "430525",
        "contact_name": "李四", "contact_mobile": "13800138000",
        "credit_code": valid_credit_code(961), "description": "主营高山绿茶"})
    assert resp.status_code == 302
    with app.app_context():
        seller_id = db.session.query(Seller.id).scalar()
    admin = make_client()
    admin.login("admin@example.test")
    return client, admin, seller_id


def test_turning_down_asks_first_and_needs_a_reason(app, applied):
    _client, admin, seller_id = applied
    queue = text(admin.get("/admin/sellers"))
    at = queue.index(f"/admin/sellers/{seller_id}/reject")
    form = queue[queue.rindex("<form", 0, at):queue.index("</form>", at)]
    assert 'data-confirm="确定驳回该入驻申请吗？' in form
    assert 'name="reason"' in form and "required" in form and "btn-danger" in form
    resp = admin.post_form(f"/admin/sellers/{seller_id}/reject", {"reason": "  "})
    assert resp.status_code == 400 and "请填写驳回原因" in text(resp)
    assert status(app, seller_id) == (SellerStatus.pending, "")
    resp = admin.post_form(f"/admin/sellers/{seller_id}/reject", {"reason": REASON},
                           follow_redirects=True)
    assert "已驳回入驻申请：洞口县雪峰茶叶专业合作社" in text(resp)
    assert status(app, seller_id) == (SellerStatus.rejected, REASON)
    html = text(admin.get("/admin/sellers?status=rejected"))
    assert "驳回原因" in html and REASON in html and "驳回入驻申请" in html  # and the log
    assert f"/admin/sellers/{seller_id}/reject" not in html  # only pending ones are turned down
    resp = admin.post_form(f"/admin/sellers/{seller_id}/reject", {"reason": REASON})
    assert resp.status_code == 409


def test_the_applicant_reads_the_reason_and_sends_it_again(app, applied):
    client, admin, seller_id = applied
    admin.post_form(f"/admin/sellers/{seller_id}/reject", {"reason": REASON})
    console = text(client.get("/seller"))
    assert "入驻申请未通过审核" in console and REASON in console
    assert f"/seller/reapply?seller={seller_id}" in console
    apply_page = text(client.get("/seller/apply"))
    assert REASON in apply_page and f"/seller/reapply?seller={seller_id}" in apply_page
    notices = text(client.get("/notifications"))
    assert "未通过审核" in notices and REASON in notices

    form_page = text(client.get(f"/seller/reapply?seller={seller_id}"))
    assert REASON in form_page and 'value="洞口县雪峰茶叶专业合作社"' in form_page
    assert "重新提交申请" in form_page
    resp = client.post_form(f"/seller/reapply?seller={seller_id}", {
        "kind": "cooperative", "name": "洞口县雪峰茶叶专业合作社", "region_code": "430525",
        "contact_name": "李四", "contact_mobile": "123",
        "credit_code": valid_credit_code(961)})
    assert resp.status_code == 400 and "请输入有效的 11 位手机号" in text(resp)
    resp = client.post_form(f"/seller/reapply?seller={seller_id}", {
        "kind": "cooperative", "name": "洞口县雪峰茶叶专业合作社", "region_code": "430525",
        "contact_name": "李四", "contact_mobile": "13800138000",
        "credit_code": valid_credit_code(961), "description": "带动 32 户脱贫户种茶"},
        follow_redirects=True)
    assert "入驻申请已重新提交，等待平台审核。" in text(resp)
    assert status(app, seller_id) == (SellerStatus.pending, REASON)
    assert client.get(f"/seller/reapply?seller={seller_id}").status_code == 302  # nothing to do
    queue = text(admin.get("/admin/sellers"))
    assert "上次驳回原因" in queue and REASON in queue and "带动 32 户脱贫户种茶" in queue
    assert "重新提交入驻申请" in queue  # the row's log


def test_nobody_else_sends_an_application_again(app, applied, make, make_client):
    _client, admin, seller_id = applied
    admin.post_form(f"/admin/sellers/{seller_id}/reject", {"reason": REASON})
    make.user(Role.buyer, login="other@example.test")
    other = make_client()
    other.login("other@example.test")
    assert other.get(f"/seller/reapply?seller={seller_id}").status_code == 403
    assert status(app, seller_id) == (SellerStatus.rejected, REASON)
