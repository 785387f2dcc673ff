import pytest

from marketplace.accounts import services
from marketplace.accounts.models import Role
from marketplace.core.errors import Duplicate, Unauthorized, ValidationFailed
from tests.fixtures.factories import make_seller


def reg(login="li@example.com", password="abc12345", name="小李"):
    return services.Registration(login=login, password=password, display_name=name)


def test_register_by_email_and_by_mobile(session):
    a = services.register_user(session, reg("Li@Example.com"))
    b = services.register_user(session, reg("+86 139 0013 9000"))
    assert a.email == "li@example.com" and a.mobile is None
    assert b.mobile == "13900139000"
    assert a.roles == ["buyer"]
    assert a.password_hash != "abc12345" and "abc12345" not in a.password_hash


@pytest.mark.parametrize("data,field", [
    (reg(login="not-a-login"), "login"),
    (reg(login="12345678901"), "login"),
    (reg(password="short1"), "password"),
    (reg(password="onlyletters"), "password"),
    (reg(name="  "), "display_name"),
])
def test_register_rejects_bad_input(session, data, field):
    with pytest.raises(ValidationFailed) as info:
        services.register_user(session, data)
    assert info.value.field == field


def test_duplicate_login(session):
    services.register_user(session, reg())
    with pytest.raises(Duplicate):
        services.register_user(session, reg(login="LI@example.com"))


def test_authenticate(session):
    services.register_user(session, reg())
    assert services.authenticate(session, "li@example.com", "abc12345").email == "li@example.com"
    with pytest.raises(Unauthorized):
        services.authenticate(session, "li@example.com", "wrong123")
    with pytest.raises(Unauthorized):
        services.authenticate(session, "nobody@example.com", "abc12345")


def test_roles_with_scope(session, regions):
    user = services.register_user(session, reg())
    seller = make_seller(session)
    with pytest.raises(ValidationFailed):
        services.grant_role(session, user, Role.seller_staff)
    with pytest.raises(ValidationFailed):
        services.grant_role(session, user, Role.office)
    services.grant_role(session, user, Role.seller_staff, seller_id=seller.id)
    services.grant_role(session, user, Role.office, region_id=regions["430525"].id)
    services.grant_role(session, user, Role.office, region_id=regions["430525"].id)  # no dup
    assert user.seller_ids() == {seller.id}
    assert user.office_region_ids() == {regions["430525"].id}
    assert len(user.grants) == 3
    grant = next(g for g in user.grants if g.role == Role.office)
    services.revoke_grant(session, user, grant.id)
    assert not user.has_role(Role.office)


def test_tokens(session, app):
    user = services.register_user(session, reg())
    session.flush()
    token = services.issue_token(user, "k" * 32)
    assert services.user_from_token(session, token, "k" * 32, 60).id == user.id
    with pytest.raises(Unauthorized):
        services.user_from_token(session, token, "other" * 8, 60)
    with pytest.raises(Unauthorized):
        services.user_from_token(session, token + "x", "k" * 32, 60)
    services.set_password(user, "newpass123")
    with pytest.raises(Unauthorized):  # a new password invalidates old tokens
        services.user_from_token(session, token, "k" * 32, 60)
