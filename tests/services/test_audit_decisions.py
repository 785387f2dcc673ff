"""Every decision writes one audit entry, with its actor and the fields before and after, in the
deciding service's transaction; a refused decision writes none (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, RoleGrant
from marketplace.audit.models import AuditEntry
from marketplace.catalog import services as catalog
from marketplace.catalog.models import ProductStatus
from marketplace.core.errors import (
    Conflict,
    Duplicate,
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.households import services as households
from marketplace.ledger import lots
from marketplace.ledger.lots import LotInput
from marketplace.sellers import services as sellers
from marketplace.sellers.models import SellerKind, SellerStatus
from tests.fixtures.factories import (
    make_household,
    make_product,
    make_seller,
    make_user,
    valid_id_number,
)


def entries(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def only_entry(session) -> AuditEntry:
    found = entries(session)
    assert len(found) == 1, [(e.action, e.object_type) for e in found]
    return found[0]


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.fixture
def admin(session, regions):
    return make_user(session, Role.platform_admin, name="审核员")


def test_verifying_and_suspending_a_seller(session, admin):
    seller = make_seller(session, status=SellerStatus.pending)
    sellers.verify(session, admin, seller)
    session.commit()
    e = only_entry(session)
    assert (e.actor_id, e.actor_name, e.action, e.object_type, e.object_id) == (
        admin.id, "审核员", "seller_verified", "seller", seller.id)
    assert (e.before, e.after) == ({"status": "pending"}, {"status": "verified"})

    sellers.suspend(session, admin, seller, "食品经营许可证过期")
    session.commit()
    e = entries(session)[-1]
    assert (e.action, e.before, e.after, e.note) == (
        "seller_suspended", {"status": "verified"}, {"status": "suspended"}, "食品经营许可证过期")


def test_a_refused_seller_decision_writes_nothing(session, admin):
    seller = make_seller(session)  # verified already
    with pytest.raises(IllegalTransition):
        sellers.verify(session, admin, seller)
    with pytest.raises(ValidationFailed):
        sellers.suspend(session, admin, seller, "  ")
    with pytest.raises(Forbidden):
        sellers.suspend(session, make_user(session, Role.office), seller, "越权")
    session.commit()
    assert count(session) == 0


def test_approving_and_rejecting_a_product(session, admin):
    product = make_product(session, status=ProductStatus.pending, certified=True)
    other = make_product(session, product.seller, status=ProductStatus.pending)
    catalog.approve(session, admin, product, certificate_checked=True)
    catalog.reject(session, admin, other, "图片与商品不符")
    session.commit()
    approved, rejected = entries(session)
    assert (approved.action, approved.object_type, approved.object_id) == (
        "product_approved", "product", product.id)
    assert approved.before == {"status": "pending", "certificate_checked": True}
    assert approved.after == {"status": "listed", "certificate_checked": True}
    assert (approved.parent_type, approved.parent_id) == ("seller", product.seller_id)
    assert (rejected.action, rejected.before, rejected.after, rejected.note) == (
        "product_rejected", {"status": "pending"}, {"status": "rejected"}, "图片与商品不符")
    with pytest.raises(IllegalTransition):  # listed now: not pending
        catalog.approve(session, admin, product)
    with pytest.raises(ValidationFailed):
        catalog.reject(session, admin, make_product(session, status=ProductStatus.pending), "")
    session.commit()
    assert count(session) == 2


def test_granting_and_revoking_roles(session, admin, regions):
    user = make_user(session)
    seller = make_seller(session)
    accounts.grant_role(session, user, Role.office, region_id=regions["430525"].id, actor=admin)
    accounts.grant_role(session, user, Role.seller_staff, seller_id=seller.id, actor=admin)
    accounts.grant_role(session, user, Role.seller_staff, seller_id=seller.id, actor=admin)  # held
    with pytest.raises(ValidationFailed):
        accounts.grant_role(session, user, Role.seller_staff, seller_id=10**9, actor=admin)
    session.commit()
    office, staff = entries(session)
    assert (office.action, office.object_type, office.object_id, office.actor_id) == (
        "role_granted", "user", user.id, admin.id)
    assert (office.before, office.after) == ({}, {"role": "office", "region": "430525"})
    assert staff.after == {"role": "seller_staff", "seller_id": seller.id, "seller": seller.name}

    grant = session.scalar(select(RoleGrant).where(RoleGrant.user_id == user.id,
                                                   RoleGrant.role == Role.office))
    accounts.revoke_grant(session, user, grant.id, actor=admin)
    with pytest.raises(NotFound):
        accounts.revoke_grant(session, user, grant.id, actor=admin)
    session.commit()
    revoked = entries(session)[-1]
    assert (revoked.action, revoked.before, revoked.after) == (
        "role_revoked", {"role": "office", "region": "430525"}, {})
    assert count(session) == 3


def test_a_grant_by_the_system_and_an_applicants_own(session, regions):
    user = make_user(session)
    accounts.grant_role(session, user, Role.platform_admin)  # e.g. `flask users create-admin`
    seller = sellers.apply(session, user, sellers.SellerApplication(
        kind="household_shop", name="张家土货铺", region_code="430525", contact_name="张三",
        contact_mobile="13800138000",
        household_code=make_household(session, liaison=user).code))
    session.commit()
    system, applied = entries(session)
    assert (system.actor_id, system.after) == (None, {"role": "platform_admin"})
    assert (applied.actor_id, applied.after["role"], applied.after["seller_id"]) == (
        user.id, "seller_staff", seller.id)


def registration(**kw):
    base = dict(village_code="430525101201", head_name="王建国", id_number=valid_id_number(11),
                size=4, status="poor")
    base.update(kw)
    return households.HouseholdInput(**base)


def test_registering_a_household_keeps_no_personal_data_in_the_clear(session, regions):
    liaison = make_user(session, Role.liaison, name="联络员")
    hh = households.register_household(session, liaison, registration())
    with pytest.raises(Duplicate):  # the same ID number again
        households.register_household(session, liaison, registration(head_name="王建军"))
    session.commit()
    e = only_entry(session)
    assert (e.action, e.object_type, e.object_id, e.actor_id) == (
        "household_registered", "household", hh.id, liaison.id)
    assert e.after == {"code": hh.code, "village": "430525101201", "head": "王*国", "size": 4,
                       "status": "poor", "liaison_id": liaison.id}
    stored = e.before_json + e.after_json + e.note
    assert "王建国" not in stored and valid_id_number(11) not in stored
    assert valid_id_number(11)[-4:] not in stored


def test_consent_given_and_withdrawn(session, regions):
    liaison = make_user(session, Role.liaison)
    hh = make_household(session, liaison=liaison)
    households.set_public(session, liaison, hh, True, "户主书面签字")
    with pytest.raises(RuleBroken):  # open already
        households.set_public(session, liaison, hh, True, "户主书面签字")
    with pytest.raises(NotFound):  # not theirs
        households.set_public(session, make_user(session, Role.liaison), hh, False, "")
    households.set_public(session, liaison, hh, False, "")
    session.commit()
    given, withdrawn = entries(session)
    assert (given.action, given.object_id, given.before, given.after) == (
        "consent_given", hh.id, {"public": False}, {"public": True, "method": "户主书面签字"})
    assert (withdrawn.action, withdrawn.before, withdrawn.after) == (
        "consent_withdrawn", {"public": True}, {"public": False, "method": "撤回同意"})


def test_deleting_a_lot(session, regions):
    hh = make_household(session)
    seller = make_seller(session, kind=SellerKind.enterprise, members=[(hh, 1)])
    oil = make_product(session, seller, name="山茶油")
    staff = make_user(session, Role.seller_staff, seller=seller)
    made = lots.record_lot(session, staff, seller, LotInput(oil.id, hh.code, 5, "20.00",
                                                            date(2026, 11, 1)))
    session.commit()
    lots.remove_lot(session, staff, seller, made.id)
    with pytest.raises(NotFound):
        lots.remove_lot(session, staff, seller, made.id)
    session.commit()
    e = only_entry(session)
    assert (e.action, e.object_type, e.object_id, e.actor_id) == (
        "lot_deleted", "supply_lot", made.id, staff.id)
    assert (e.parent_type, e.parent_id) == ("seller", seller.id)
    assert e.before == {"product_id": oil.id, "product": "山茶油", "household": hh.code,
                        "quantity": 5, "unit_price_fen": 2000, "purchased_on": "2026-11-01"}
    assert e.after == {}


def test_a_lot_with_sales_is_not_deleted_and_not_logged(session, regions):
    from tests.services.test_attribution import paid
    hh = make_household(session)
    seller = make_seller(session, kind=SellerKind.enterprise, members=[(hh, 1)])
    seller.household_share_bp = 1000
    oil = make_product(session, seller, name="山茶油", stock=10)
    staff = make_user(session, Role.seller_staff, seller=seller)
    made = lots.record_lot(session, staff, seller, LotInput(oil.id, hh.code, 5, "20.00",
                                                            date.today()))
    session.commit()
    paid(session, make_user(session), [(oil, 1)], "audit-lot-1")
    with pytest.raises(Conflict):
        lots.remove_lot(session, staff, seller, made.id)
    session.commit()
    assert count(session) == 0
