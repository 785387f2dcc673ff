"""An application turned down with a reason (both engines): the reason is kept and logged, the
applicant is told, changes the application and sends it again (the same seller, pending), and
the unique name and credit code rules still hold, also against the turned-down one."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEntry
from marketplace.core.errors import (
    Duplicate,
    Forbidden,
    IllegalTransition,
    NotFound,
    ValidationFailed,
)
from marketplace.notifications.models import Notification
from marketplace.sellers import services
from marketplace.sellers.models import Seller, SellerStatus
from tests.fixtures.factories import make_user, valid_credit_code

REASON = "营业执照照片不清晰，请补充说明带动农户的方式"


def application(**kw) -> services.SellerApplication:
    base = dict(kind="cooperative", name="洞口县雪峰茶叶专业合作社", region_code="430525",
                contact_name="李四", contact_mobile="13800138000",
                credit_code=valid_credit_code(951), description="主营高山绿茶")
    base.update(kw)
    return services.SellerApplication(**base)


def entries(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                .order_by(AuditEntry.id)))


@pytest.fixture
def applied(session, regions):
    applicant = make_user(session, name="申请人")
    admin = make_user(session, Role.platform_admin, name="审核员")
    seller = services.apply(session, applicant, application())
    session.commit()
    return applicant, admin, seller


def test_a_pending_application_is_turned_down_with_its_reason(session, applied):
    applicant, admin, seller = applied
    services.reject(session, admin, seller, f"  {REASON} \n")
    session.commit()
    assert seller.status == SellerStatus.rejected and seller.rejection_reason == REASON
    assert seller.rejected_at is not None
    (entry,) = entries(session, "seller_rejected")
    assert (entry.object_type, entry.object_id, entry.actor_id) == ("seller", seller.id, admin.id)
    assert (entry.before, entry.after, entry.note) == (
        {"status": "pending"}, {"status": "rejected"}, REASON)
    (notice,) = session.scalars(select(Notification).where(
        Notification.user_id == applicant.id)).all()
    assert notice.endpoint == "seller.index"
    assert json.loads(notice.message_values)["reason"] == REASON
    assert REASON in notice.text


def test_refused_rejections_write_nothing(session, applied):
    applicant, admin, seller = applied
    with pytest.raises(ValidationFailed) as info:
        services.reject(session, admin, seller, "   ")
    assert "reason" in info.value.errors
    with pytest.raises(ValidationFailed):
        services.reject(session, admin, seller, "太" * 201)
    with pytest.raises(Forbidden):
        services.reject(session, applicant, seller, REASON)
    services.verify(session, admin, seller)
    with pytest.raises(IllegalTransition):  # a verified seller is suspended, not rejected
        services.reject(session, admin, seller, REASON)
    session.commit()
    assert entries(session, "seller_rejected") == []
    assert seller.status == SellerStatus.verified and seller.rejection_reason == ""


def test_the_applicant_changes_the_application_and_sends_it_again(session, applied):
    applicant, admin, seller = applied
    services.reject(session, admin, seller, REASON)
    session.commit()
    with pytest.raises(NotFound):  # somebody else's application is not theirs to send
        services.resubmit(session, make_user(session), seller, application())
    again = services.resubmit(session, applicant, seller, application(
        name="洞口县雪峰云雾茶叶专业合作社", description="带动 32 户脱贫户种茶"))
    session.commit()
    assert again is seller and seller.status == SellerStatus.pending
    assert (seller.name, seller.description) == ("洞口县雪峰云雾茶叶专业合作社", "带动 32 户脱贫户种茶")
    assert seller.rejection_reason == REASON  # the reviewer compares with what was asked
    assert session.scalar(select(func.count()).select_from(Seller)) == 1
    (entry,) = entries(session, "seller_resubmitted")
    assert entry.actor_id == applicant.id
    assert entry.before == {"status": "rejected", "name": "洞口县雪峰茶叶专业合作社"}
    assert entry.after == {"status": "pending", "name": "洞口县雪峰云雾茶叶专业合作社"}
    with pytest.raises(IllegalTransition):  # pending again: nothing to send again
        services.resubmit(session, applicant, seller, application())
    services.verify(session, admin, seller)
    assert seller.rejection_reason == "" and seller.rejected_at is None


def test_sending_it_again_follows_the_rules_of_a_new_application(session, applied):
    applicant, admin, seller = applied
    other = services.apply(session, make_user(session), application(
        name="溆浦县枣子产业协会", credit_code=valid_credit_code(952)))
    services.reject(session, admin, seller, REASON)
    session.commit()
    with pytest.raises(ValidationFailed) as info:
        services.resubmit(session, applicant, seller, application(contact_mobile="123"))
    assert "contact_mobile" in info.value.errors
    with pytest.raises(Duplicate) as info:  # another seller's credit code
        services.resubmit(session, applicant, seller, application(credit_code=other.credit_code))
    assert info.value.field == "credit_code"
    with pytest.raises(Duplicate):
        services.resubmit(session, applicant, seller, application(name=other.name))
    session.rollback()
    assert session.get(Seller, seller.id).status == SellerStatus.rejected
    # keeping its own name and credit code is no duplicate
    services.resubmit(session, applicant, seller, application())
    assert seller.status == SellerStatus.pending


def test_a_new_application_with_a_turned_down_credit_code(session, applied):
    applicant, admin, seller = applied
    services.reject(session, admin, seller, REASON)
    session.commit()
    with pytest.raises(Duplicate) as info:  # the applicant is sent to their own application
        services.apply(session, applicant, application(name="另一个名字合作社"))
    assert "修改后重新提交" in str(info.value.message) and info.value.field == "credit_code"
    with pytest.raises(Duplicate) as info:  # anyone else: the code is taken
        services.apply(session, make_user(session), application(name="另一个名字合作社"))
    assert "该统一社会信用代码已登记" in str(info.value.message)
    assert session.scalar(select(func.count()).select_from(Seller)) == 1


def test_a_turned_down_seller_is_not_shown_to_buyers(session, applied):
    _applicant, admin, seller = applied
    services.reject(session, admin, seller, REASON)
    with pytest.raises(NotFound):
        services.get_public(session, seller.id)
    assert services.queue(session, SellerStatus.rejected) == [seller]
    assert services.count_by_status(session)[SellerStatus.rejected] == 1
