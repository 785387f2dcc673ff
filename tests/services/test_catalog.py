from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog import queries, services
from marketplace.catalog.filters import parse_filters
from marketplace.catalog.models import Product, ProductImage, ProductStatus
from marketplace.core.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from marketplace.sellers.models import SellerStatus
from tests.fixtures.factories import image_bytes, make_product, make_seller, make_user


def inp(**kw):
    base = dict(name="雪峰云雾茶", category="tea", spec="250g/罐", description="高山茶园",
                price="128.00", stock="20", origin_code="430525101201", certificate_no="",
                certificate_valid_until="")
    base.update(kw)
    return services.ProductInput(**base)


def counts(session, app):
    files = list(Path(app.config["UPLOAD_FOLDER"]).iterdir())
    return (session.scalar(select(func.count()).select_from(Product)),
            session.scalar(select(func.count()).select_from(ProductImage)), len(files))


@pytest.fixture
def shop(session, regions):
    seller = make_seller(session)
    return seller, make_user(session, Role.seller_staff, seller=seller)


def test_create_with_images(session, app, shop):
    seller, staff = shop
    uploads = [services.UploadedImage("a.png", image_bytes("PNG", (2000, 1000))),
               services.UploadedImage("b.webp", image_bytes("WEBP")),
               services.UploadedImage("c.jpg", image_bytes("JPEG"))]
    product = services.create_product(session, staff, seller, inp(), uploads)
    assert product.price_fen == 12800 and product.stock == 20
    assert product.status == ProductStatus.draft
    assert [i.position for i in product.images] == [1, 2, 3]
    big = product.images[0]
    assert (big.width, big.height) == (1200, 600)  # resized, aspect kept
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert (folder / big.filename).read_bytes()[:2] == b"\xff\xd8"  # re-encoded as JPEG
    assert (folder / big.thumb_filename).exists()


@pytest.mark.parametrize("kw,field", [
    (dict(price="-1"), "price"), (dict(price="0"), "price"), (dict(price="abc"), "price"),
    (dict(price="999999999"), "price"), (dict(price="1.234"), "price"),
    (dict(stock="-3"), "stock"), (dict(stock="2.5"), "stock"),
    (dict(name="茶"), "name"), (dict(category="nope"), "category"),
    (dict(origin_code="430525"), "origin"), (dict(certificate_valid_until="2025-13-01"),
                                             "certificate_valid_until"),
])
def test_bad_fields(session, app, shop, kw, field):
    seller, staff = shop
    before = counts(session, app)
    with pytest.raises(ValidationFailed) as info:
        services.create_product(session, staff, seller, inp(**kw))
    assert field in info.value.errors
    assert counts(session, app) == before


def test_all_problems_reported_at_once(session, shop):
    seller, staff = shop
    with pytest.raises(ValidationFailed) as info:
        services.create_product(session, staff, seller, inp(price="-1", stock="x", name=""))
    assert {"price", "stock", "name"} <= set(info.value.errors)


@pytest.mark.parametrize("data,message", [
    (b"not an image", "不是有效的图片"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "不是有效的图片"),
    (image_bytes("GIF"), "格式不支持"),
    (b"\x89PNG" + b"\0" * (5 * 1024 * 1024), "超过 5 MB"),
])
def test_bad_images_write_nothing(session, app, shop, data, message):
    seller, staff = shop
    product = make_product(session, seller, status=ProductStatus.draft)
    session.commit()
    before = counts(session, app)
    good = services.UploadedImage("ok.png", image_bytes())
    with pytest.raises(ValidationFailed) as info:
        services.add_images(session, staff, product, [good, services.UploadedImage("x.png", data)])
    assert message in info.value.message
    session.rollback()
    assert counts(session, app) == before  # the good one's files were removed too


def test_at_most_five_images(session, shop):
    seller, staff = shop
    product = make_product(session, seller)
    services.add_images(session, staff, product,
                        [services.UploadedImage(f"{i}.png", image_bytes()) for i in range(5)])
    with pytest.raises(ValidationFailed):
        services.add_images(session, staff, product, [services.UploadedImage("6.png",
                                                                              image_bytes())])
    services.remove_image(session, staff, product, product.images[0].id)
    assert len(product.images) == 4


def test_review_workflow(session, shop):
    seller, staff = shop
    admin = make_user(session, Role.platform_admin)
    product = services.create_product(session, staff, seller, inp(
        certificate_no="湘认定2024-0315", certificate_valid_until="2099-12-31"))
    with pytest.raises(IllegalTransition):
        services.approve(session, admin, product)  # still a draft
    services.submit_for_review(session, staff, product)
    with pytest.raises(Forbidden):
        services.approve(session, staff, product)
    with pytest.raises(ValidationFailed):
        services.reject(session, admin, product, " ")
    services.reject(session, admin, product, "图片不清晰")
    assert product.status == ProductStatus.rejected and product.review_note == "图片不清晰"
    services.submit_for_review(session, staff, product)
    services.approve(session, admin, product, certificate_checked=True)
    assert product.status == ProductStatus.listed and product.certified
    # price and stock edits keep it listed; a new name goes back to review
    services.update_product(session, staff, product, services.ProductInput(
        price="99.5", stock="3", provided={"price", "stock"}))
    assert product.status == ProductStatus.listed and product.price_fen == 9950
    services.update_product(session, staff, product, services.ProductInput(
        name="雪峰云雾茶 特级", provided={"name"}))
    assert product.status == ProductStatus.pending
    services.approve(session, admin, product)
    services.delist(session, staff, product)
    assert product.status == ProductStatus.delisted
    with pytest.raises(IllegalTransition):
        services.delist(session, staff, product)


def test_other_sellers_staff_get_not_found(session, shop):
    seller, staff = shop
    other_seller = make_seller(session)
    product = make_product(session, other_seller)
    with pytest.raises(NotFound):
        services.get_managed(session, staff, product.id)
    with pytest.raises(NotFound):
        services.update_product(session, staff, product, services.ProductInput(
            price="1", provided={"price"}))
    with pytest.raises(NotFound):
        services.create_product(session, staff, other_seller, inp())


def test_only_listed_products_of_verified_sellers_are_visible(session, regions):
    good = make_product(session, name="洞雷村生态红糯米", category_slug="rice-grain")
    make_product(session, name="草稿茶", status=ProductStatus.draft)
    make_product(session, name="待审茶", status=ProductStatus.pending)
    make_product(session, name="下架茶", status=ProductStatus.delisted)
    make_product(session, make_seller(session, status=SellerStatus.pending), name="未认证茶")
    make_product(session, make_seller(session, status=SellerStatus.suspended), name="暂停茶")
    filters, problems = parse_filters({}, per_page_default=24, money_in_fen=True)
    page = queries.browse(session, filters)
    assert [p.name for p in page.items] == [good.name] and page.total == 1
    assert queries.get_visible(session, good.id).id == good.id
    hidden = session.scalar(select(Product).where(Product.name == "暂停茶"))
    with pytest.raises(NotFound):
        queries.get_visible(session, hidden.id)


def test_filters_sorting_and_pages(session, regions):
    seller = make_seller(session)
    make_product(session, seller, name="雪峰云雾茶", price_fen=12800, stock=0)
    make_product(session, seller, name="溆浦红枣", category_slug="jujube", price_fen=3990,
                 origin_code="431224210201")
    make_product(session, seller, name="古楼绿茶", price_fen=5600, origin_code="430525101202")

    def names(**args):
        f, problems = parse_filters(args, per_page_default=24, money_in_fen=True)
        assert not problems
        return [p.name for p in queries.browse(session, f).items]

    assert names(region="430525", sort="price_asc") == ["古楼绿茶", "雪峰云雾茶"]
    assert names(region="431224") == ["溆浦红枣"]
    assert names(region="43", sort="price_desc") == ["雪峰云雾茶", "古楼绿茶", "溆浦红枣"]
    assert names(category="jujube") == ["溆浦红枣"]
    assert names(min_price="4000", max_price="6000") == ["古楼绿茶"]
    assert sorted(names(in_stock="1")) == ["古楼绿茶", "溆浦红枣"]
    assert names(q="红枣") == ["溆浦红枣"]
    assert names(q="100%_") == []
    f, _ = parse_filters({"per_page": "2", "page": "2", "sort": "price_asc"},
                         per_page_default=24, money_in_fen=True)
    page = queries.browse(session, f)
    assert [p.name for p in page.items] == ["雪峰云雾茶"] and page.total == 3 and page.pages == 2


def test_bad_filter_values_are_reported(session):
    f, problems = parse_filters(
        {"page": "-1", "per_page": "1000", "sort": "cheap", "min_price": "abc",
         "region": "湖南"}, per_page_default=24, money_in_fen=False)
    assert set(problems) == {"page", "per_page", "sort", "min_price", "region"}
    assert f.page == 1 and f.per_page == 24


def test_files_follow_the_transaction(session, app, shop):
    seller, staff = shop
    product = make_product(session, seller)
    session.commit()
    folder = Path(app.config["UPLOAD_FOLDER"])
    services.add_images(session, staff, product, [services.UploadedImage("a.png", image_bytes())])
    assert len(list(folder.iterdir())) == 2
    session.rollback()  # e.g. a later step of the request failed
    assert list(folder.iterdir()) == []
    services.add_images(session, staff, product, [services.UploadedImage("a.png", image_bytes())])
    session.commit()
    image = product.images[0]
    services.remove_image(session, staff, product, image.id)
    assert len(list(folder.iterdir())) == 2  # still there until the removal is committed
    session.commit()
    assert list(folder.iterdir()) == []
