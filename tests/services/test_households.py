import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.errors import Duplicate, Forbidden, ValidationFailed
from marketplace.households import services
from marketplace.households.models import Household, HouseholdStatus
from tests.fixtures.factories import make_user, valid_id_number


def data(**kw):
    base = dict(village_code="430525101201", head_name="王建国", id_number=valid_id_number(11),
                size=4, status="poor")
    base.update(kw)
    return services.HouseholdInput(**base)


def n_households(session):
    return session.scalar(select(func.count()).select_from(Household))


def test_liaison_registers_for_themselves(session, regions):
    liaison = make_user(session, Role.liaison)
    hh = services.register_household(session, liaison, data())
    assert hh.liaison_id == liaison.id
    assert hh.status == HouseholdStatus.poor
    assert hh.masked_name == "王*国"
    assert hh.id_last4 == valid_id_number(11)[-4:]
    # the number itself is nowhere in the row
    row = session.execute(select(Household.__table__)).one()._mapping
    assert all(valid_id_number(11) not in str(v) for v in row.values())


@pytest.mark.parametrize("kw,field", [
    (dict(id_number="430525197001010071"), "id_number"),  # wrong check digit
    (dict(id_number=valid_id_number(1, birth="19701340")), "id_number"),  # no such date
    (dict(size=0), "size"),
    (dict(size="many"), "size"),
    (dict(status="rich"), "status"),
    (dict(head_name="王"), "head_name"),
    (dict(village_code="430525"), "village_code"),  # a county, not a village
])
def test_bad_input_writes_nothing(session, regions, kw, field):
    liaison = make_user(session, Role.liaison)
    with pytest.raises(ValidationFailed) as info:
        services.register_household(session, liaison, data(**kw))
    assert field in info.value.errors
    assert n_households(session) == 0


def test_duplicate_id_number(session, regions):
    liaison = make_user(session, Role.liaison)
    services.register_household(session, liaison, data())
    with pytest.raises(Duplicate):
        services.register_household(session, liaison, data(head_name="王建军"))
    assert n_households(session) == 1


def test_office_only_in_its_subtree(session, regions):
    office = make_user(session, Role.office, region_obj=regions["430525"])
    liaison = make_user(session, Role.liaison)
    hh = services.register_household(session, office, data(liaison_id=liaison.id))
    assert hh.liaison_id == liaison.id
    with pytest.raises(Forbidden):
        services.register_household(session, office, data(
            village_code="431224210201", id_number=valid_id_number(12)))
    buyer = make_user(session, Role.buyer)
    with pytest.raises(Forbidden):
        services.register_household(session, buyer, data(id_number=valid_id_number(13)))


def test_visibility(session, regions):
    l1 = make_user(session, Role.liaison)
    l2 = make_user(session, Role.liaison)
    services.register_household(session, l1, data())
    services.register_household(session, l2, data(village_code="431224210201",
                                                  id_number=valid_id_number(14)))
    office = make_user(session, Role.office, region_obj=regions["430525"])
    admin = make_user(session, Role.platform_admin)
    assert services.visible_households(session, l1)[1] == 1
    assert services.visible_households(session, office)[1] == 1
    assert services.visible_households(session, office)[0][0].village.code == "430525101201"
    assert services.visible_households(session, admin)[1] == 2
