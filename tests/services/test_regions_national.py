"""The national list of provinces, cities and counties (seed/regions-national.csv) through
`flask regions import` and the import service, on both engines: counts, a second import that
changes nothing, the demo's tree merged either way round, the municipalities' tree, and the
address steps (省 > 市 > 区县) a checkout offers."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.regions.models import Region, RegionLevel
from tests.fixtures.factories import NATIONAL_CSV, make_regions

SEED_REGIONS = NATIONAL_CSV.parent / "regions.csv"
LEVEL_COUNTS = {RegionLevel.province: 31, RegionLevel.city: 342, RegionLevel.county: 2978}


def levels(session) -> dict:
    return dict(session.execute(select(Region.level, func.count()).group_by(Region.level)).all())


def names(session) -> dict[str, tuple[str, str, str]]:
    return {r.code: (r.name, r.path, r.name_path) for r in session.scalars(select(Region))}


def output(result) -> str:
    return result.output + (getattr(result, "stderr", "") or "")


def test_flask_regions_import_loads_the_national_list_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["regions", "import", str(NATIONAL_CSV)])
    assert first.exit_code == 0, output(first)
    assert "导入行政区划 (3351)" in output(first)  # the progress bar's label
    assert "新建 3351，改名 0，未变 0（共 3351 行）" in first.output
    with app.app_context():
        assert levels(db.session) == LEVEL_COUNTS
        before = names(db.session)
    again = runner.invoke(args=["regions", "import", str(NATIONAL_CSV)])
    assert again.exit_code == 0, output(again)
    assert "新建 0，改名 0，未变 3351" in again.output
    with app.app_context():
        assert names(db.session) == before


def test_the_demo_tree_keeps_its_codes_under_the_national_list(session):
    """Demo first (as on a running demo that gets the national list later) or national first
    (as `flask seed demo` does): the same rows, nothing renamed, no code twice."""
    demo = SEED_REGIONS.read_text("utf-8")
    national = NATIONAL_CSV.read_text("utf-8")
    report = regions.import_csv_text(session, demo)
    assert report.created == 71
    merged = regions.import_csv_text(session, national)
    assert merged.renamed == 0 and merged.unchanged == 12  # 2 provinces, 4 cities, 6 counties
    assert merged.created == 3351 - 12
    one_way = names(session)
    assert len(one_way) == 3351 + 71 - 12
    village = regions.get_by_code(session, "431224210201")
    assert village.path == "/43/4312/431224/431224210/431224210201/"
    assert village.name_path == "湖南省/怀化市/溆浦县/舒溶溪乡/曹家溪村"
    assert regions.get_by_code(session, "431224").parent.code == "4312"
    # and both again, in the other order: nothing changes
    assert regions.import_csv_text(session, national).created == 0
    assert regions.import_csv_text(session, demo).created == 0
    assert names(session) == one_way
    ids = session.scalars(select(Region.code).group_by(Region.code)
                          .having(func.count() > 1)).all()
    assert ids == []


def test_national_on_top_of_the_test_tree(session):
    make_regions(session)
    report = regions.import_csv_text(session, NATIONAL_CSV.read_text("utf-8"))
    assert report.renamed == 0 and report.unchanged == 5  # 湖南, 邵阳, 洞口, 怀化, 溆浦
    assert levels(session)[RegionLevel.village] == 3


def test_municipalities_and_directly_governed_places_are_three_levels(session):
    regions.import_csv_text(session, NATIONAL_CSV.read_text("utf-8"))
    chaoyang = regions.get_by_code(session, "110105")
    assert chaoyang.level == RegionLevel.county and chaoyang.depth == 2
    assert chaoyang.path == "/11/1101/110105/"
    assert chaoyang.name_path == "北京市/市辖区/朝阳区"
    assert chaoyang.address_name == "北京市朝阳区"
    for code, address in [("310101", "上海市黄浦区"), ("120101", "天津市和平区"),
                          ("500101", "重庆市万州区"), ("500230", "重庆市丰都县"),
                          ("429004", "湖北省仙桃市"), ("441900", "广东省东莞市"),
                          ("650102", "新疆维吾尔自治区乌鲁木齐市天山区")]:
        place = regions.get_by_code(session, code)
        assert place.depth == 2 and place.address_name == address, code
    chongqing = regions.children(session, regions.get_by_code(session, "50"))
    assert [(c.code, c.choice_label) for c in chongqing] == [("5001", "重庆市"),
                                                             ("5002", "重庆市（县）")]
    beijing = regions.children(session, regions.get_by_code(session, "11"))
    assert [(c.code, c.name, c.choice_label) for c in beijing] == [("1101", "市辖区", "北京市")]


def test_address_steps_go_down_one_level_at_a_time(session):
    regions.import_csv_text(session, NATIONAL_CSV.read_text("utf-8"))
    start = regions.address_steps(session)
    assert len(start.provinces) == 31 and start.cities == start.counties == []
    assert start.provinces[0] == regions.Place("11", "北京市")

    xinjiang = regions.address_steps(session, "65")
    assert xinjiang.province == "65" and xinjiang.city == "" and xinjiang.counties == []
    assert regions.Place("6501", "乌鲁木齐市") in xinjiang.cities
    urumqi = regions.address_steps(session, "65", "6501")
    assert urumqi.city == "6501" and regions.Place("650102", "天山区") in urumqi.counties
    chosen = regions.address_steps(session, "65", "6501", "650102")
    assert (chosen.province, chosen.city, chosen.county) == ("65", "6501", "650102")

    # a municipality's single city is chosen at once: its districts come with the province
    beijing = regions.address_steps(session, "11")
    assert beijing.city == "1101" and beijing.cities == [regions.Place("1101", "北京市")]
    assert regions.Place("110105", "朝阳区") in beijing.counties
    # a county's code alone (a saved address, an API client) brings its province and city
    alone = regions.address_steps(session, "", "", "110105")
    assert (alone.province, alone.city, alone.county) == ("11", "1101", "110105")
    # a new province empties what was chosen below the old one
    moved = regions.address_steps(session, "11", "6501", "650102")
    assert (moved.province, moved.city, moved.county) == ("11", "1101", "")
    moved = regions.address_steps(session, "65", "6501", "110105")
    assert (moved.province, moved.city, moved.county) == ("65", "6501", "")
    # nonsense is nothing chosen
    for junk in (("99", "", ""), ("", "", "999999"), ("x", "y", "z"), (None, None, None)):
        steps = regions.address_steps(session, *junk)
        assert (steps.province, steps.city, steps.county) == ("", "", "")


def test_address_steps_keep_a_village_of_a_saved_address(session):
    make_regions(session)
    regions.import_csv_text(session, NATIONAL_CSV.read_text("utf-8"))
    steps = regions.address_steps(session, "", "", "430525101201")
    assert (steps.province, steps.city, steps.county) == ("43", "4305", "430525101201")
    assert steps.counties[-1] == regions.Place("430525101201", "洞口县月溪镇洪溪村")
    assert regions.Place("430525", "洞口县") in steps.counties
