"""The national region file (seed/regions-national.csv) and how region names read in an
address: pure checks, no database."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from marketplace.regions.models import GROUP_NAMES, address_name, choice_label

SEED = Path(__file__).resolve().parents[2] / "seed"


def rows(name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO((SEED / name).read_text("utf-8-sig"))))


@pytest.mark.parametrize("name_path, address", [
    ("北京市/市辖区/朝阳区", "北京市朝阳区"),
    ("重庆市/县/丰都县", "重庆市丰都县"),
    ("湖北省/省直辖县级行政区划/仙桃市", "湖北省仙桃市"),
    ("新疆维吾尔自治区/自治区直辖县级行政区划/石河子市", "新疆维吾尔自治区石河子市"),
    ("广东省/东莞市/东莞市", "广东省东莞市"),
    ("新疆维吾尔自治区/乌鲁木齐市/天山区", "新疆维吾尔自治区乌鲁木齐市天山区"),
    ("湖南省/怀化市/溆浦县/舒溶溪乡/曹家溪村", "湖南省怀化市溆浦县舒溶溪乡曹家溪村"),
    ("湖南省", "湖南省"),
])
def test_an_address_skips_group_nodes_and_repeats(name_path, address):
    assert address_name(name_path) == address


@pytest.mark.parametrize("name_path, label", [
    ("北京市/市辖区", "北京市"), ("重庆市/市辖区", "重庆市"), ("重庆市/县", "重庆市（县）"),
    ("湖北省/省直辖县级行政区划", "省直辖县级行政区划"), ("新疆维吾尔自治区/乌鲁木齐市", "乌鲁木齐市"),
    ("北京市/市辖区/朝阳区", "朝阳区"), ("新疆维吾尔自治区", "新疆维吾尔自治区"),
])
def test_a_choice_reads_as_people_say_it(name_path, label):
    assert choice_label(name_path) == label


def test_the_national_file_is_a_whole_tree_in_the_import_format():
    text = (SEED / "regions-national.csv").read_text("utf-8")
    assert text.splitlines()[0] == "code,name,parent_code"
    national = rows("regions-national.csv")
    codes = [r["code"] for r in national]
    assert codes == sorted(codes) and len(codes) == len(set(codes))
    by_length = {n: sum(1 for c in codes if len(c) == n) for n in (2, 4, 6)}
    assert by_length == {2: 31, 4: 342, 6: 2978} and len(codes) == 3351
    known = set(codes)
    for row in national:
        code, parent = row["code"], row["parent_code"]
        assert (parent == "") if len(code) == 2 else (
            parent in known and code.startswith(parent) and len(parent) == len(code) - 2), row
        assert row["name"] and len(row["name"]) <= 64
    names = {r["code"]: r["name"] for r in national}
    # the municipalities and the provinces' directly governed places sit at depth 2 too
    assert names["1101"] == "市辖区" and names["110105"] == "朝阳区"
    assert names["5002"] == "县" and names["500230"] == "丰都县"
    assert names["4290"] == "省直辖县级行政区划" and names["429004"] == "仙桃市"
    assert names["4419"] == names["441900"] == "东莞市"
    assert names["65"] == "新疆维吾尔自治区" and names["6501"] == "乌鲁木齐市"
    assert names["650102"] == "天山区"
    assert {n for c, n in names.items() if len(c) == 4 and n in GROUP_NAMES} == GROUP_NAMES
    # every city has at least one county: the third step never comes up empty
    assert {c[:4] for c in codes if len(c) == 6} == {c for c in codes if len(c) == 4}


def test_the_demo_tree_agrees_with_the_national_file():
    """The demo's provinces, cities and counties have the national codes and names, so that
    importing both (in either order) renames nothing and duplicates nothing."""
    national = {r["code"]: r["name"] for r in rows("regions-national.csv")}
    demo = {r["code"]: r["name"] for r in rows("regions.csv")}
    upper = {c: n for c, n in demo.items() if len(c) <= 6}
    assert upper and all(national.get(c) == n for c, n in upper.items()), {
        c: (n, national.get(c)) for c, n in upper.items() if national.get(c) != n}
    assert not {c for c in demo if len(c) > 6} & set(national)
