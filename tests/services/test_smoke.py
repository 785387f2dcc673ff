from marketplace.accounts.models import Role
from tests.fixtures.factories import make_product, make_user


def test_models_round_trip(session):
    product = make_product(session)
    user = make_user(session, Role.buyer)
    session.commit()
    assert product.id and user.id
    assert product.origin.path_names == ["湖南省", "邵阳市", "洞口县", "月溪镇", "洪溪村"]
    assert product.seller.region.code == "430525"
