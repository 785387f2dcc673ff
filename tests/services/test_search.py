"""Search on a temporary index: behaviour, the outbox, reindex, fallback and repair, several
processes writing at once. Every test runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import multiprocessing
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.time import now_utc
from marketplace.regions.models import Region
from marketplace.search import engine, search_root, service
from marketplace.search.models import SearchOutbox
from marketplace.sellers.models import SellerStatus
from tests.fixtures.factories import make_product, make_seller

TEA, DATES, RICE = "tea", "jujube", "rice-grain"


@pytest.fixture
def catalogue(session):
    """A small catalogue over the real test tree (洞口县 洪溪村/古楼村, 溆浦县 曹家溪村)."""
    gulou = make_seller(session, name="湖南古楼雪峰云雾茶有限公司")
    xupu = make_seller(session, name="溆浦县枣子产业协会", region_code="431224")
    p = {
        "yunwu": make_product(session, gulou, name="雪峰云雾茶·明前特级绿茶", spec="250g/罐",
                              description="海拔八百米的云雾茶园"),
        "black": make_product(session, gulou, name="古楼黑茶茯砖", spec="1kg/块", stock=0,
                              origin_code="430525101202", description="传统工艺"),
        "zao": make_product(session, xupu, name="溆浦鹤珠红枣", category_slug=DATES,
                            spec="5斤/箱", origin_code="431224210201", price_fen=6800,
                            description="生长在沅水边"),
        "rice": make_product(session, xupu, name="溆浦红糯米", category_slug=RICE, spec="5斤/袋",
                             origin_code="431224210201", price_fen=4500,
                             description="适合煮粥，配红枣和茶点"),
        "desc_only": make_product(session, gulou, name="山茶油礼盒", category_slug="oil",
                                  spec="500ml×2瓶", description="云雾茶乡的老树山茶籽"),
    }
    session.commit()
    service.reindex(session, search_root())
    return {k: v.id for k, v in p.items()}


def ask(q: str, **kw) -> engine.SearchResult:
    return service.search(search_root(), engine.SearchRequest(q=q, **kw))


@pytest.mark.parametrize("q, expected", [
    ("茶", {"yunwu", "black", "desc_only", "rice"}),  # every text with 茶 (name, description)
    ("云雾茶", {"yunwu", "desc_only", "black"}),  # black: its seller's name has 云雾茶
    ("雪峰", {"yunwu", "black", "desc_only"}),  # also the seller 湖南古楼雪峰云雾茶有限公司
    ("红糯米", {"rice"}),
    ("枣", {"zao", "rice"}),
    ("溆浦", {"zao", "rice"}),
    ("洞口", {"yunwu", "black", "desc_only"}),
    ("chaye", {"yunwu", "black"}),  # the category 茶叶
    ("hongnuomi", {"rice"}),  # hong + nuo + mi: segmentation made 红 + 糯米 of the name
    ("溆浦 枣", {"zao", "rice"}),
    ("溆浦 红枣", {"zao", "rice"}),
    ("5斤", {"zao", "rice"}),
    ("250g", {"yunwu"}),
])
def test_queries_find_their_products(catalogue, q, expected):
    result = ask(q)
    assert set(result.ids) == {catalogue[k] for k in expected}
    assert result.total == len(expected)


def test_initials_find_tea(catalogue):
    # 茶叶 (the category) → cy; 产业 in 溆浦县枣子产业协会 has the same initials
    assert {catalogue["yunwu"], catalogue["black"]} <= set(ask("cy").ids)


@pytest.fixture
def initials_catalogue(catalogue, session):
    """Names whose segmentation cuts what a shopper types the initials of: 麻阳 冰糖 橙,
    溆浦 红 糯米 (the catalogue's rice), 雪峰 土 鸡蛋; and 雪峰云雾茶 itself, listed before four
    longer names that start with it (so that without its whole-name initials it would rank
    after them)."""
    farm = make_seller(session, name="麻阳果蔬合作社")
    p = {
        "orange": make_product(session, farm, name="麻阳冰糖橙 10斤", category_slug="fruit",
                               description="甜"),
        "eggs": make_product(session, farm, name="雪峰土鸡蛋礼盒", category_slug="poultry-eggs",
                             description="散养"),
        "exact": make_product(session, farm, name="雪峰云雾茶", description="高山"),
    }
    session.flush()
    for name in ("雪峰云雾茶礼盒", "雪峰云雾茶叶 高山", "雪峰云雾茶园·特级", "雪峰云雾茶新茶"):
        make_product(session, farm, name=name, description="高山")
    session.commit()
    service.reindex(session, search_root())
    return {**catalogue, **{k: v.id for k, v in p.items()}}


@pytest.mark.parametrize("q, key", [
    ("btc", "orange"), ("bt", "orange"), ("mybtc", "orange"), ("BTC", "orange"),
    ("hnm", "rice"), ("xphnm", "rice"),
    ("tjd", "eggs"), ("xftjd", "eggs"),
    ("xf", "exact"), ("xfy", "exact"), ("xfyw", "exact"), ("xfywc", "exact"),
])
def test_initials_of_any_start_find_the_product(initials_catalogue, q, key):
    assert initials_catalogue[key] in ask(q, limit=100).ids


@pytest.mark.parametrize("q, key", [
    ("bingtangcheng", "orange"), ("mayang", "orange"), ("hongnuomi", "rice"),
    ("tujidan", "eggs"), ("xuefengyunwucha", "exact"), ("yunwucha", "exact"),
])
def test_full_pinyin_still_finds_the_product(initials_catalogue, q, key):
    assert initials_catalogue[key] in ask(q, limit=100).ids


def test_initials_do_not_match_across_unrelated_names(initials_catalogue):
    assert initials_catalogue["orange"] not in ask("hnm", limit=100).ids
    assert initials_catalogue["rice"] not in ask("btc", limit=100).ids
    assert ask("zzzq").total == 0


@pytest.mark.parametrize("q, key", [("xfywc", "exact"), ("mybtc", "orange"),
                                    ("xftjdlh", "eggs"), ("xphnm", "rice")])
def test_whole_name_initials_rank_in_the_first_three(initials_catalogue, q, key):
    ids = ask(q).ids
    assert initials_catalogue[key] in ids[:3], ids
    # "雪峰云雾茶" was listed before the four longer names that start with it: its whole-name
    # initials, not its age, put it first (雪峰云雾茶·明前特级绿茶 reads xfywc as well, and is
    # older)
    assert ids[0] == initials_catalogue[key]


def test_whole_name_initials_are_the_first_run_of_the_name(initials_catalogue, session):
    farm = make_seller(session, name="安化茶农合作社")
    own = make_product(session, farm, name="雨前黑茶 1kg/块")
    # newer, and yqhc has as many letters as its whole-name initials (ahhc): still not its name
    make_product(session, farm, name="【安化黑茶】雨前黑茶")
    session.commit()
    service.sync(session, search_root())
    assert ask("yqhc").ids[0] == own.id


def test_whole_name_initials_follow_changes(initials_catalogue, session):
    product = session.get(Product, initials_catalogue["exact"])
    product.name = "雪峰云雾茶礼"
    session.commit()
    service.sync(session, search_root())
    ids = ask("xfywcl").ids
    assert ids[0] == initials_catalogue["exact"]  # 雪峰云雾茶礼盒 also starts with xfywcl
    assert initials_catalogue["exact"] in ask("xfywc").ids


def test_an_index_built_before_the_whole_initials_column_takes_changes(catalogue, session,
                                                                      monkeypatch):
    from marketplace.search import writing
    schema, columns = writing.schema, writing._product_columns

    def older_schema():
        out = schema()
        out.remove("c_whole")
        return out

    monkeypatch.setattr(writing, "schema", older_schema)
    monkeypatch.setattr(writing, "_product_columns", lambda doc: {
        k: v for k, v in columns(doc).items() if k != "c_whole"})
    service.reindex(session, search_root())
    monkeypatch.undo()
    product = session.get(Product, catalogue["rice"])
    product.name = "溆浦高山红糯米"
    session.commit()
    assert service.sync(session, search_root()).upserted >= 1
    assert ask("xpgshnm").ids == [catalogue["rice"]]  # found; no whole-name ranking there


def test_opening_reads_ahead_and_a_missing_index_is_no_error(catalogue, tmp_path):
    root = search_root()
    service.forget(root)
    index = service.index_for(root).open()
    assert index._snapshot is not None  # opened (and warmed) before any query
    assert ask("hnm").ids == [catalogue["rice"]]
    with pytest.raises(engine.SearchUnavailable):
        engine.SearchIndex(tmp_path / "nothing").open()


def test_a_process_opens_the_index_at_its_first_request(catalogue, app, database_url, tmp_path):
    import threading

    from marketplace import create_app
    from marketplace.config import test_config
    root = search_root()
    service.forget(root)
    warm = create_app({**test_config(tmp_path / "other", database_url),
                       "SEARCH_ROOT": str(root), "SEARCH_WARM": True})
    assert app.config["SEARCH_WARM"] is False  # off in test mode unless asked for
    try:
        warm.test_client().get("/")
        for thread in threading.enumerate():
            if thread.name == "search-open":
                thread.join(30)
        assert service.index_for(root)._snapshot is not None
    finally:
        from marketplace.extensions import db
        with warm.app_context():
            db.session.remove()
            db.engine.dispose()


def test_name_matches_rank_above_description_matches(catalogue):
    # name first; then seller name / description, where the sold-out one comes last
    assert ask("云雾茶").ids == [catalogue["yunwu"], catalogue["desc_only"], catalogue["black"]]


def test_in_stock_ranks_above_sold_out_at_equal_relevance(catalogue):
    ids = ask("洞口 茶").ids
    # yunwu and black both have 茶 in the name; black is sold out
    assert ids.index(catalogue["yunwu"]) < ids.index(catalogue["black"])


def test_facets_filters_and_sorting(catalogue, session):
    result = ask("溆浦")
    dates = session.scalar(select(Product.category_id).where(Product.id == catalogue["zao"]))
    assert result.category_counts[dates] == 1 and sum(result.category_counts.values()) == 2
    assert result.county_counts == {"431224": 2}
    only = ask("溆浦", category_id=dates)
    assert only.ids == [catalogue["zao"]]
    assert only.category_counts == result.category_counts  # other categories still counted
    assert ask("溆浦", sort="price_asc").ids == [catalogue["rice"], catalogue["zao"]]
    assert ask("溆浦", sort="price_desc").ids == [catalogue["zao"], catalogue["rice"]]
    assert ask("溆浦", max_price=5000).ids == [catalogue["rice"]]
    assert ask("茶", in_stock=True).total == 3
    village = session.scalar(select(Region.id).where(Region.code == "430525101202"))
    assert ask("茶", region_id=village).ids == [catalogue["black"]]
    county = session.scalar(select(Region.id).where(Region.code == "431224"))
    assert set(ask("茶", region_id=county).ids) == {catalogue["rice"]}
    assert ask("溆浦", offset=1, limit=1).ids == ask("溆浦").ids[1:2]


@pytest.mark.parametrize("q", ['"', "*", "AND(", "AND", "OR NOT", "😀😀", "茶" * 10_000,
                               "a" * 10_000, "\x00\x01", "((", "云雾茶\"*?", "-", "   "])
def test_junk_input_never_raises(catalogue, q):
    result = ask(q)
    assert result.total >= 0


def test_changes_reach_the_index_through_the_outbox(catalogue, session):
    product = session.get(Product, catalogue["zao"])
    product.name = "溆浦鹤珠大红枣"
    session.commit()
    assert session.scalar(select(func.count()).select_from(SearchOutbox)
                          .where(SearchOutbox.id > engine.read_watermark(
                              engine.live_directory(search_root())))) >= 1
    assert catalogue["zao"] not in ask("大红枣").ids  # not yet applied
    report = service.sync(session, search_root())
    assert report.upserted >= 1 and service.lag(session, search_root()) == 0
    assert ask("大红枣").ids == [catalogue["zao"]]

    product.status = ProductStatus.delisted
    session.commit()
    service.sync(session, search_root())
    assert catalogue["zao"] not in ask("红枣").ids


def test_seller_and_region_changes_follow(catalogue, session):
    from marketplace.sellers.models import Seller
    seller = session.get(Product, catalogue["zao"]).seller
    seller.status = SellerStatus.suspended
    session.commit()
    service.sync(session, search_root())
    assert set(ask("溆浦").ids) == set()
    seller = session.get(Seller, seller.id)
    seller.status = SellerStatus.verified
    session.commit()
    service.sync(session, search_root())
    assert len(ask("溆浦").ids) == 2

    village = session.scalar(select(Region).where(Region.code == "431224210201"))
    village.name = "鹤珠村"
    village.name_path = village.name_path.rsplit("/", 1)[0] + "/鹤珠村"
    session.commit()
    service.sync(session, search_root())
    assert set(ask("鹤珠村").ids) == {catalogue["zao"], catalogue["rice"]}


def test_a_late_commit_below_the_watermark_is_applied_when_it_shows(catalogue, session):
    """A transaction that took a lower outbox id but committed after a sync (PostgreSQL) is a
    gap of the index: counted in the lag once it shows, applied by the next sync."""
    from sqlalchemy import delete, insert
    rice = session.get(Product, catalogue["rice"])
    rice.name = "溆浦高山红糯米"
    session.commit()
    late = session.scalar(select(SearchOutbox).order_by(SearchOutbox.id.desc()))
    row = {"id": late.id, "kind": late.kind, "entity_id": late.entity_id,
           "created_at": late.created_at}
    session.get(Product, catalogue["zao"]).stock = 7
    session.commit()
    session.execute(delete(SearchOutbox).where(SearchOutbox.id == row["id"]))  # not visible yet
    session.commit()
    service.sync(session, search_root())
    applied = engine.read_applied(engine.live_directory(search_root()))
    assert applied.outbox_id > row["id"] and row["id"] in applied.gaps
    assert service.lag(session, search_root()) == 0 and ask("高山红糯米").ids == []

    session.execute(insert(SearchOutbox), [row])  # the late transaction commits
    session.commit()
    assert service.lag(session, search_root()) == 1
    assert service.sync(session, search_root()).rows == 1
    assert ask("高山红糯米").ids == [catalogue["rice"]]
    assert engine.read_applied(engine.live_directory(search_root())).gaps == {}
    assert service.lag(session, search_root()) == 0


def test_a_busy_minute_does_not_stall_the_index(catalogue, session, monkeypatch):
    """More rows in the last minute than one batch: every one is applied, in batches."""
    monkeypatch.setattr(service, "BATCH", 3)
    for i in range(10):
        session.get(Product, catalogue["zao"]).stock = 20 + i
        session.commit()
    service.sync(session, search_root())
    session.get(Product, catalogue["black"]).name = "古楼黑茶千两茶"
    session.commit()
    report = service.sync(session, search_root())
    assert report.rows == 1 and service.lag(session, search_root()) == 0
    assert ask("千两茶").ids == [catalogue["black"]]


def test_prune_drops_old_rows_but_the_newest(catalogue, session):
    from sqlalchemy import update
    session.get(Product, catalogue["rice"]).stock = 3
    session.commit()
    session.execute(update(SearchOutbox).values(created_at=now_utc() - timedelta(days=8)))
    session.commit()
    newest = session.scalar(select(func.max(SearchOutbox.id)))
    assert service.prune(session) >= 1
    # SQLite gives a deleted newest id again: it stays, so new rows stay above every watermark
    assert list(session.scalars(select(SearchOutbox.id))) == [newest]


def test_reindex_swaps_atomically_and_search_keeps_answering(catalogue, session):
    root = search_root()
    old = engine.live_directory(root)
    before = ask("茶").ids
    seen = []
    service.reindex(session, root, progress=lambda n, total: seen.append(ask("茶").ids))
    new = engine.live_directory(root)
    assert new != old and old.exists()  # one older generation is kept for readers still on it
    service.reindex(session, root)
    assert not old.exists() and new.exists()
    assert all(ids == before for ids in seen)
    assert ask("茶").ids == before


def test_missing_or_corrupt_index_is_unavailable_and_reindex_repairs(catalogue, session):
    root = search_root()
    live = engine.live_directory(root)
    for f in live.glob("*.seg"):
        f.write_bytes(b"garbage")
    for f in live.glob("_MAIN_*.toc"):
        f.write_bytes(b"garbage")
    service.forget(root)
    with pytest.raises(engine.SearchUnavailable):
        ask("茶")
    service.reindex(session, root)
    assert set(ask("红糯米").ids) == {catalogue["rice"]}
    shutil.rmtree(root)
    service.forget(root)
    with pytest.raises(engine.SearchUnavailable):
        ask("茶")


def _sync_process(url: str, root: str, rounds: int, queue) -> None:
    """Another web worker: applies the outbox to the shared index again and again."""
    import pathlib
    import time as _time

    from marketplace import create_app
    from marketplace.config import test_config
    from marketplace.extensions import db
    from marketplace.search import service as svc
    try:
        app = create_app({**test_config(pathlib.Path(root).parent, url), "SEARCH_ROOT": root})
        with app.app_context():
            for _ in range(rounds):
                report = svc.sync(db.session, pathlib.Path(root), timeout=30)
                assert report.skipped in ("", None), report.skipped
                svc.search(pathlib.Path(root), engine.SearchRequest(q="茶"))
                _time.sleep(0.02)
        queue.put("ok")
    except BaseException:  # noqa: BLE001 - reported to the parent
        import traceback
        queue.put(traceback.format_exc())


def test_several_processes_write_at_once_without_lock_errors(catalogue, app, session):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    root = str(search_root())
    procs = [ctx.Process(target=_sync_process, args=(url, root, 15, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    ids = [catalogue["yunwu"], catalogue["zao"], catalogue["rice"], catalogue["black"]]
    for i in range(20):  # changes keep coming while the workers sync
        product = session.get(Product, ids[i % len(ids)])
        product.stock = 10 + i
        session.commit()
        service.sync(session, search_root(), timeout=30)
    for p in procs:
        p.join(180)
    results = [queue.get(timeout=5) for _ in procs]
    assert results == ["ok"] * len(procs), "\n".join(results)
    service.sync(session, search_root())
    assert service.lag(session, search_root()) == 0
    assert ask("茶", in_stock=True).total == 4  # black (stock 0 before) has stock now
