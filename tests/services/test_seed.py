"""`flask seed demo` on an empty database, twice: everything is there, the second run changes
nothing, the demo accounts log in. The first run is the demo the tests share (seeded once per
engine and process, tests.fixtures.demo); the second runs on this test's copy of it."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.accounts.services import authenticate
from marketplace.catalog.filters import CatalogFilters
from marketplace.catalog.models import Category, Product, ProductStatus
from marketplace.catalog.queries import browse
from marketplace.core.validators import mask_name, normalize_credit_code
from marketplace.extensions import db
from marketplace.households.models import Household, HouseholdStatus
from marketplace.regions.models import Region, RegionLevel
from marketplace.seed import load_data
from marketplace.sellers.models import CooperativeMember, Seller, SellerKind, SellerStatus

DEMO_LOGINS = ["admin@demo.test", "seller@demo.test", "buyer@demo.test", "buyer2@demo.test",
               "office@demo.test", "liaison@demo.test", "unit@demo.test"]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def all_counts() -> dict[str, object]:
    """Rows per table, and the latest change of the tables that keep one."""
    out: dict[str, object] = {}
    for table in db.metadata.sorted_tables:
        out[table.name] = db.session.scalar(select(func.count()).select_from(table))
        if "updated_at" in table.c:
            out[table.name + ".updated_at"] = db.session.scalar(select(func.max(table.c.updated_at)))
    return out


def test_seed_demo_twice(demo):
    app, first_output = demo.app, demo.output  # `seed demo --image-size 48`, exit code 0
    runner = app.test_cli_runner()
    assert "演示账号" in first_output and "demo12345" in first_output
    assert "全国省市县：新建 3351，已存在，跳过 0" in first_output
    for login in DEMO_LOGINS:
        assert login in first_output

    with app.app_context():
        levels = dict(db.session.execute(
            select(Region.level, func.count()).group_by(Region.level)).all())
        assert levels[RegionLevel.county] >= 5
        # the national list of seed/regions-national.csv, with the demo's tree under it
        assert levels[RegionLevel.province] == 31 and levels[RegionLevel.city] == 342
        assert levels[RegionLevel.county] == 2978
        for code, address in [("110105", "北京市朝阳区"),
                              ("650102", "新疆维吾尔自治区乌鲁木齐市天山区")]:
            assert db.session.scalar(select(Region).where(Region.code == code)).address_name \
                == address
        assert levels[RegionLevel.township] >= 15
        assert levels[RegionLevel.village] >= 40
        for code, name in [("430525", "洞口县"), ("431224", "溆浦县"), ("431230", "通道侗族自治县"),
                           ("431281", "洪江市"), ("510923", "大英县")]:
            assert db.session.scalar(select(Region.name).where(Region.code == code)) == name
        for village in ["洪溪村", "曹家溪村", "洞雷村", "兰泥村"]:
            assert count(Region, Region.name == village, Region.level == RegionLevel.village) == 1

        assert count(Household) >= 300
        shares = dict(db.session.execute(select(Seller.kind, func.max(
            Seller.household_share_bp)).group_by(Seller.kind)).all())
        assert shares == {"household_shop": 10000, "cooperative": 3000, "enterprise": 1500}
        statuses = dict(db.session.execute(
            select(Household.status, func.count()).group_by(Household.status)).all())
        assert set(statuses) == set(HouseholdStatus)
        sizes = set(db.session.scalars(select(Household.size).distinct()))
        assert sizes <= set(range(1, 8)) and len(sizes) == 7
        assert count(Household, Household.liaison_id.is_(None)) == 0
        household = db.session.scalar(select(Household).order_by(Household.code))
        assert len(household.id_hash) == 64 and len(household.id_last4) == 4
        assert household.masked_name == mask_name(household.head_name)

        assert count(Seller) >= 12
        assert count(Seller, Seller.status == SellerStatus.verified) >= 12
        assert count(Seller, Seller.status == SellerStatus.pending) >= 1
        for seller in db.session.scalars(select(Seller)):
            if seller.kind == SellerKind.household_shop:
                assert seller.household is not None and seller.credit_code is None
            else:
                assert normalize_credit_code(seller.credit_code) == seller.credit_code
            if seller.kind == SellerKind.cooperative:
                assert seller.members, seller.name
        gulou = db.session.scalar(select(Seller).where(Seller.name == "湖南古楼雪峰云雾茶有限公司"))
        assert gulou.kind == SellerKind.enterprise and gulou.status == SellerStatus.verified
        assert count(CooperativeMember) > 0
        # every enterprise product is lot-backed with lots, and the jujube association's (it
        # buys its members' jujubes back); one lot is flagged to the offices of each county
        from marketplace.ledger.lots import flagged_lots
        from marketplace.ledger.models import SupplyLot
        lot_products = list(db.session.scalars(select(Product).join(Seller).where(
            (Seller.kind == SellerKind.enterprise) | (Seller.name == "溆浦县枣子产业协会"))))
        assert all(p.lot_backed and p.guaranteed_price_fen for p in lot_products)
        assert count(SupplyLot) >= len(lot_products) * 4
        flagged = flagged_lots(db.session, [db.session.scalar(
            select(Region).where(Region.code == "430525"))])
        assert len(flagged) == 1 and flagged[0].seller_id == gulou.id
        assert len(flagged_lots(db.session, [db.session.scalar(
            select(Region).where(Region.code == "431224"))])) == 1

        # demo orders, bought and paid through the services: the ledger has their households'
        # income and verifies; some were refunded; two households opened a public page
        from marketplace.ledger import chain as ledger
        from marketplace.ledger.impact import buyer_impact
        from marketplace.ledger.models import LedgerEntry
        from marketplace.notifications.models import Notification
        from marketplace.orders.models import Order, OrderStatus
        statuses = dict(db.session.execute(select(Order.status, func.count())
                                           .group_by(Order.status)).all())
        assert {OrderStatus.shipped, OrderStatus.received, OrderStatus.completed,
                OrderStatus.cancelled} <= statuses.keys()  # and paid ones, when one is recent
        assert OrderStatus.pending_payment not in statuses
        assert sum(statuses.values()) >= 50 and statuses[OrderStatus.completed] >= 30
        assert count(Order, Order.refunded_fen > 0, Order.refunded_fen < Order.paid_fen) >= 3
        assert count(LedgerEntry, LedgerEntry.kind == "reversal") >= 5
        verdict = ledger.verify(db.session)  # with the reports' pre-aggregates
        assert verdict.ok and verdict.entries == count(LedgerEntry) > 300
        # the reports' demo: last month's fair (offline sales) and the published ranking
        from marketplace.core.time import today_china
        from marketplace.reports import assessment, figures, periods
        today = today_china()
        last_month = periods.previous(periods.month(today.year, today.month))
        county = db.session.scalar(select(Region).where(Region.code == "430525"))
        seen = figures.report(db.session, county, last_month)
        assert seen.now.offline_fen > 0 and seen.now.attributed_fen > 0
        assert len(seen.children) >= 4 and seen.now.reached < seen.now.registered
        [published] = assessment.published(db.session, county)
        assert published.period == last_month.name and len(published.rows) >= 4
        buyer = db.session.scalar(select(User).where(User.email == "buyer@demo.test"))
        helped = buyer_impact(db.session, buyer.id)
        assert helped.households >= 20 and len(helped.counties) >= 4
        public = list(db.session.scalars(select(Household).where(
            Household.public_token.is_not(None))))
        assert len(public) == 2 and all(
            db.session.scalar(select(func.sum(LedgerEntry.amount_fen))
                              .where(LedgerEntry.household_id == h.id)) > 0 for h in public)
        assert count(Notification, Notification.read_at.is_(None)) <= 3  # only the flagged lots

        listed = list(db.session.scalars(select(Product).where(
            Product.status == ProductStatus.listed)))
        assert len(listed) >= 60
        assert count(Product, Product.status == ProductStatus.pending) >= 2
        slugs = set(db.session.scalars(select(Category.slug).join(Product).where(
            Product.status == ProductStatus.listed)))
        assert slugs == {"tea", "fruit", "jujube", "rice-grain", "oil", "dried", "poultry-eggs",
                         "herbs", "crafts"}
        assert any(p.stock == 0 for p in listed)
        assert any(p.featured for p in listed)
        assert any(p.certified for p in listed)
        assert all(p.origin.level == RegionLevel.village for p in listed)
        folder = Path(app.config["UPLOAD_FOLDER"])
        for product in listed:
            assert 1 <= len(product.images) <= 2, product.sku
            for image in product.images:
                assert (folder / image.filename).is_file()
                assert (folder / image.thumb_filename).is_file()
        # shoppers see them: listed products of verified sellers
        page = browse(db.session, CatalogFilters(per_page=100))
        assert page.total == len(listed)

        for login in DEMO_LOGINS:
            assert authenticate(db.session, login, "demo12345").login_name == login
        seller_user = authenticate(db.session, "seller@demo.test", "demo12345")
        assert gulou.id in seller_user.seller_ids()
        office = authenticate(db.session, "office@demo.test", "demo12345")
        assert [g.region.code for g in office.grants if g.role == Role.office] == ["430525"]
        assert authenticate(db.session, "admin@demo.test", "demo12345").has_role(
            Role.platform_admin)
        assert authenticate(db.session, "unit@demo.test", "demo12345").has_role(Role.unit_admin)
        liaison = authenticate(db.session, "liaison@demo.test", "demo12345")
        assert count(Household, Household.liaison_id == liaison.id) >= 50
        db.session.rollback()  # authenticate() stamped last_login_at; keep the rows as seeded
        before = all_counts()
        files_before = sorted(p.name for p in folder.iterdir())

    second = runner.invoke(args=["seed", "demo", "--image-size", "48"])
    assert second.exit_code == 0, second.output
    assert "已存在，跳过" in second.output
    assert "新建 0" in second.output and "新建 1" not in second.output
    with app.app_context():
        assert all_counts() == before
        assert sorted(p.name for p in folder.iterdir()) == files_before


def test_seed_data_files_agree_with_each_other():
    """The data files reference each other by key: every reference resolves."""
    data = load_data()
    codes = {line.split(",")[0] for line in data.regions_csv.splitlines()[1:] if line}
    sellers = {s["key"]: s for s in data.sellers}
    assert len(sellers) == len(data.sellers)
    for seller in data.sellers:
        assert seller["region"] in codes
        for village in seller.get("members", {}).get("villages", []):
            assert village in codes and len(village) == 12
    skus = [p["sku"] for p in data.products]
    assert len(skus) == len(set(skus))
    for product in data.products:
        assert product["seller"] in sellers
        assert product["origin"] in codes and len(product["origin"]) == 12
    for account in data.accounts["accounts"]:
        if account.get("seller"):
            assert account["seller"] in sellers
        if account.get("region"):
            assert account["region"] in codes
    logins = {a["login"] for a in data.accounts["accounts"]}
    buyers = {p["buyer"] for p in data.orders["purchases"]} | set(data.orders["random"]["count"])
    assert buyers <= logins and buyers <= set(data.orders["addresses"])
    assert {p_sku for p in data.orders["purchases"] for p_sku, _ in p["lines"]} <= set(skus)
    for address in data.orders["addresses"].values():
        assert address["region"] in codes and len(address["region"]) == 6
    for ref in data.orders["public"]:
        assert ref["village"] in codes


def test_seed_refused_in_production_mode(app, monkeypatch):
    app.config["MARKETPLACE_MODE"] = "production"
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code != 0
    assert "demo" in result.output
    with app.app_context():
        assert count(Region) == 0
