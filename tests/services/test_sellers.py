import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.errors import (
    Duplicate,
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.sellers import services
from marketplace.sellers.models import Seller, SellerKind, SellerStatus
from tests.fixtures.factories import (
    make_household,
    make_seller,
    make_user,
    valid_credit_code,
    valid_id_number,
)


def app_data(**kw):
    base = dict(kind="cooperative", name="洞口县雪峰茶叶专业合作社", region_code="430525",
                contact_name="李四", contact_mobile="13800138000",
                credit_code=valid_credit_code(901))
    base.update(kw)
    return services.SellerApplication(**base)


def n_sellers(session):
    return session.scalar(select(func.count()).select_from(Seller))


def test_apply_makes_applicant_staff(session, regions):
    user = make_user(session)
    seller = services.apply(session, user, app_data())
    assert seller.status == SellerStatus.pending
    assert user.seller_ids() == {seller.id}


@pytest.mark.parametrize("kw,field", [
    (dict(credit_code="91430525MA4L00010X"), "credit_code"),
    (dict(credit_code=""), "credit_code"),
    (dict(contact_mobile="12345"), "contact_mobile"),
    (dict(kind="bank"), "kind"),
    (dict(region_code="999999"), "region_code"),
])
def test_bad_application(session, regions, kw, field):
    user = make_user(session)
    with pytest.raises(ValidationFailed) as info:
        services.apply(session, user, app_data(**kw))
    assert field in info.value.errors
    assert n_sellers(session) == 0 and not user.has_role(Role.seller_staff)


def test_duplicates(session, regions):
    user = make_user(session)
    services.apply(session, user, app_data())
    with pytest.raises(Duplicate):
        services.apply(session, user, app_data(name="另一个合作社"))  # same credit code
    with pytest.raises(Duplicate):
        services.apply(session, user, app_data(credit_code=valid_credit_code(902)))  # same name
    assert n_sellers(session) == 1


def test_household_shop_needs_its_household(session, regions):
    hh = make_household(session, n=31)
    stranger = make_user(session)
    with pytest.raises(ValidationFailed) as info:
        services.apply(session, stranger, app_data(kind="household_shop", name="王家小店",
                                                   household_code=hh.code,
                                                   household_id_number=valid_id_number(32)))
    assert "household_id_number" in info.value.errors
    shop = services.apply(session, stranger, app_data(
        kind="household_shop", name="王家小店", household_code=hh.code,
        household_id_number=valid_id_number(31), credit_code=""))
    assert shop.household_id == hh.id and shop.credit_code is None
    with pytest.raises(Duplicate):
        services.apply(session, stranger, app_data(
            kind="household_shop", name="王家二店", household_code=hh.code,
            household_id_number=valid_id_number(31)))


def test_verify_and_suspend(session, regions):
    admin = make_user(session, Role.platform_admin)
    buyer = make_user(session)
    seller = make_seller(session, status=SellerStatus.pending)
    with pytest.raises(Forbidden):
        services.verify(session, buyer, seller)
    services.verify(session, admin, seller)
    assert seller.status == SellerStatus.verified and seller.verified_at
    with pytest.raises(IllegalTransition):
        services.verify(session, admin, seller)
    with pytest.raises(ValidationFailed):
        services.suspend(session, admin, seller, "")
    services.suspend(session, admin, seller, "证照过期")
    assert seller.status == SellerStatus.suspended


def test_members(session, regions):
    coop = make_seller(session)
    staff = make_user(session, Role.seller_staff, seller=coop)
    other = make_user(session)
    hh = make_household(session)
    member = services.set_member(session, staff, coop, hh.code, 3)
    assert member.weight == 3
    services.set_member(session, staff, coop, hh.code, 5)
    assert len(coop.members) == 1 and coop.members[0].weight == 5
    with pytest.raises(NotFound):
        services.set_member(session, other, coop, hh.code, 1)
    with pytest.raises(ValidationFailed):
        services.set_member(session, staff, coop, hh.code, 0)
    # an enterprise keeps a list of its linked households (the households its lots name)
    enterprise = make_seller(session, kind=SellerKind.enterprise)
    linked = services.set_member(session, make_user(session, Role.seller_staff, seller=enterprise),
                                 enterprise, hh.code, 1)
    assert services.member_households(session, enterprise) == [hh] and linked.weight == 1
    shop = make_seller(session, kind=SellerKind.household_shop, household=make_household(session))
    with pytest.raises(RuleBroken):
        services.set_member(session, make_user(session, Role.seller_staff, seller=shop),
                            shop, hh.code, 1)
