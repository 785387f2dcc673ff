"""A large, deterministic product catalogue for the search benchmark (bench/search.py).

Pure Python: no database, no Flask. Produces product records with the fields of
`marketplace.search.engine.SearchDoc` (any callable taking those keyword arguments can be given
as `factory`), plus the query mix.

The places: the region tree of seed/regions.csv (the places of ../shared/FIELD-FACTS.md), plus
the other townships named in bench/catalog_data.py, plus more real counties of Hunan (real
GB/T 2260 county codes, real township names as far as known). Township and village codes below
the county are INVENTED (right shape, not the official codes); village names other than the
ones named in the reports (and 十八洞村, 黄金村) are invented. Sellers: the real ones of the
reports and the demo sellers of seed/sellers.toml, then invented cooperatives, enterprises and
household shops. Prices, stock, specs and descriptions are invented.
"""
from __future__ import annotations

import csv
import random
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed"

# listed_at is spread over the two years before this fixed moment (deterministic output)
REFERENCE_TIME = 1_748_736_000  # 2025-06-01T00:00:00Z
TWO_YEARS = 2 * 365 * 24 * 3600

# the 9 categories of migrations/versions/0001_foundation.py, in insertion order (ids 1..9)
CATEGORIES = [
    (1, "tea", "茶叶"), (2, "fruit", "新鲜水果"), (3, "jujube", "红枣"),
    (4, "rice-grain", "米面粮油"), (5, "oil", "食用油"), (6, "dried", "干货特产"),
    (7, "poultry-eggs", "禽蛋肉类"), (8, "herbs", "中药材"), (9, "crafts", "手工艺品"),
]
CATEGORY_NAME = {cid: name for cid, _slug, name in CATEGORIES}
CATEGORY_ID = {slug: cid for cid, slug, _name in CATEGORIES}

# ---- places -------------------------------------------------------------------------------------
# more real counties (real GB/T 2260 codes): code -> (name, parent code)
EXTRA_UPPER = [
    ("4309", "益阳市", "43"),
    ("4331", "湘西土家族苗族自治州", "43"),
    ("430524", "隆回县", "4305"), ("430527", "绥宁县", "4305"),
    ("430529", "城步苗族自治县", "4305"), ("430581", "武冈市", "4305"),
    ("430923", "安化县", "4309"),
    ("431221", "中方县", "4312"), ("431222", "沅陵县", "4312"), ("431223", "辰溪县", "4312"),
    ("431225", "会同县", "4312"), ("431226", "麻阳苗族自治县", "4312"),
    ("431227", "新晃侗族自治县", "4312"), ("431228", "芷江侗族自治县", "4312"),
    ("431229", "靖州苗族侗族自治县", "4312"),
    ("433123", "凤凰县", "4331"), ("433124", "花垣县", "4331"), ("433125", "保靖县", "4331"),
    ("433126", "古丈县", "4331"),
]
# townships (real names) per county, with real village names where known; added to the
# townships of seed/regions.csv (existing names are skipped)
EXTRA_TOWNSHIPS: dict[str, list[tuple[str, list[str]]]] = {
    "430525": [("竹市镇", []), ("石江镇", []), ("黄桥镇", [])],
    "431224": [("龙潭镇", []), ("低庄镇", [])],
    "431230": [("双江镇", []), ("县溪镇", []), ("牙屯堡镇", [])],
    "431281": [("安江镇", []), ("雪峰镇", [])],
    "510923": [("蓬莱镇", []), ("天保镇", [])],
    "513431": [("新城镇", []), ("四开乡", [])],
    "430524": [("桃洪镇", []), ("小沙江镇", []), ("金石桥镇", []), ("司门前镇", [])],
    "430527": [("长铺镇", []), ("武阳镇", []), ("黄桑坪苗族乡", [])],
    "430529": [("儒林镇", []), ("丹口镇", [])],
    "430581": [("邓元泰镇", []), ("湾头桥镇", [])],
    "430923": [("东坪镇", []), ("梅城镇", []), ("江南镇", []), ("小淹镇", []), ("烟溪镇", []),
               ("马路镇", []), ("冷市镇", [])],
    "431221": [("中方镇", []), ("桐木镇", [])],
    "431222": [("沅陵镇", []), ("官庄镇", []), ("五强溪镇", [])],
    "431223": [("辰阳镇", []), ("火马冲镇", [])],
    "431225": [("林城镇", []), ("若水镇", []), ("高椅乡", [])],
    "431226": [("高村镇", []), ("锦和镇", []), ("吕家坪镇", []), ("兰里镇", [])],
    "431227": [("晃州镇", []), ("波洲镇", [])],
    "431228": [("芷江镇", []), ("新店坪镇", [])],
    "431229": [("渠阳镇", []), ("坳上镇", [])],
    "433123": [("沱江镇", []), ("廖家桥镇", [])],
    "433124": [("花垣镇", []), ("双龙镇", ["十八洞村"])],
    "433125": [("迁陵镇", []), ("葫芦镇", ["黄金村"])],
    "433126": [("古阳镇", []), ("默戎镇", [])],
}
VILLAGE_STEMS = ["大坪", "石门", "枫树", "杨柳", "青山", "竹林", "桃花", "上堡", "下湾", "茶园",
                 "白沙", "龙井", "新田", "黄泥", "高坪", "长冲", "金鸡", "和平", "团结", "红旗",
                 "五星", "凤凰", "梅花", "柏树", "岩头", "水口", "塘湾", "田心", "荷叶", "永兴",
                 "樟树", "松林", "花桥", "马头", "双河", "杉木", "李家", "向家", "舒家", "陈家"]
VILLAGES_PER_TOWNSHIP = 5
# short names used in product names for the ones that are known by another name
PLACE_ALIASES = {"431281": ["黔阳", "洪江"], "430525": ["洞口", "雪峰"], "513431": ["大凉山", "昭觉"],
                 "433123": ["湘西", "凤凰"], "433125": ["保靖"], "430923": ["安化"]}
# mountains and areas used as brands in names
AREA_BRANDS = ["雪峰", "雪峰山", "武陵", "武陵山", "湘西", "沅水", "巫水", "侗乡", "苗乡",
               "大凉山", "梅山", "怀化"]

# ---- goods --------------------------------------------------------------------------------------
# category slug -> [(kind, specs, (min fen, max fen))]
GOODS: dict[str, list[tuple[str, list[str], tuple[int, int]]]] = {
    "tea": [
        (k, ["250g/罐", "100g/袋", "500g/盒", "50g×5袋", "125g×2罐", "1kg/块", "300g/盒"],
         (2800, 58800))
        for k in ["云雾茶", "绿茶", "红茶", "黑茶", "毛尖", "茯砖", "白茶", "黄金茶", "千两茶",
                  "天尖", "碣滩茶", "银针", "苦荞茶", "袋泡茶", "工夫红茶", "云雾绿茶", "花卷茶",
                  "擂茶"]
    ],
    "fruit": [
        (k, ["5斤/箱", "10斤/箱", "3kg/箱", "2.5kg/箱", "5kg/箱", "9斤/箱"], (1990, 16800))
        for k in ["冰糖橙", "脐橙", "猕猴桃", "黄桃", "杨梅", "椪柑", "沃柑", "砂糖橘", "香柚",
                  "葡萄", "刺葡萄", "金秋梨", "脆红李", "枇杷", "蓝莓", "柑橘", "红心猕猴桃",
                  "水蜜桃"]
    ],
    "jujube": [
        (k, ["500g/袋", "1kg/箱", "250g×2袋", "2.5kg/箱", "1.5kg/盒", "200g/袋"], (1590, 12800))
        for k in ["红枣", "鸡蛋枣", "灰枣", "红枣干", "蜜枣", "枣夹核桃", "红枣脆片", "鲜枣",
                  "枣片", "大枣", "黑枣", "枣干"]
    ],
    "rice-grain": [
        (k, ["5kg/袋", "2.5kg/袋", "10kg/袋", "5斤/袋", "500g/袋", "1kg/盒"], (1290, 19800))
        for k in ["红糯米", "大米", "富硒米", "生态大米", "糯米", "小米", "苦荞米", "荞麦面",
                  "挂面", "红薯粉丝", "糍粑", "玉米糁", "米粉", "五色糯米", "香米", "黑米"]
    ],
    "oil": [
        (k, ["2.5L/桶", "5L/桶", "500ml/瓶", "1L/瓶", "750ml×2瓶", "5斤/桶"], (2980, 39800))
        for k in ["山茶油", "茶籽油", "菜籽油", "花生油", "芝麻油", "核桃油", "油茶籽油",
                  "压榨菜籽油", "木姜子油"]
    ],
    "dried": [
        (k, ["250g/袋", "500g/袋", "1kg/箱", "200g×3袋", "5斤/箱", "500g/罐"], (990, 16800))
        for k in ["香菇", "黑木耳", "笋干", "腊肉", "剁辣椒", "干豆角", "红薯干", "葛根粉",
                  "蜂蜜", "土蜂蜜", "板栗", "花生", "井盐", "腊肠", "豆腐乳", "红薯粉", "酸萝卜",
                  "辣椒粉", "核桃"]
    ],
    "poultry-eggs": [
        (k, ["30枚/箱", "20枚/盒", "约1.5kg/只", "60枚/箱", "2kg/份", "500g/袋"], (2580, 29800))
        for k in ["土鸡蛋", "鸭蛋", "鹅蛋", "土鸡", "麻鸭", "腊鸭", "跑山鸡", "黑猪肉", "土猪肉",
                  "稻花鱼", "咸鸭蛋", "乌鸡", "芷江鸭", "腊鱼"]
    ],
    "herbs": [
        (k, ["250g/袋", "500g/罐", "100g/盒", "1kg/袋", "50g×4袋"], (1800, 36800))
        for k in ["金银花", "黄精", "茯苓", "天麻", "杜仲", "玉竹", "百合", "葛根", "灵芝",
                  "艾叶", "石斛", "龙牙百合", "黄精片", "茯苓块", "杜仲茶"]
    ],
    "crafts": [
        (k, ["1件", "1套", "2件装", "1个", "3件套"], (2900, 59800))
        for k in ["竹编果篮", "竹编收纳篮", "侗锦围巾", "侗锦桌旗", "苗绣挂件", "苗绣香包",
                  "草编提篮", "木雕摆件", "蜡染桌布", "土家织锦", "银饰手镯", "刺绣香包",
                  "竹编提篮", "侗锦手提包", "竹筷"]
    ],
}
QUALIFIERS = {
    "tea": ["明前", "雨前", "特级", "一级", "有机", "高山", "头春", "古树", "手工", "生态", "春茶",
            "野生", "农家"],
    "fruit": ["新鲜", "当季", "大果", "精品", "有机", "高山", "特级", "农家", "生态", "现摘"],
    "jujube": ["特级", "一级", "有机", "农家", "手工", "精选", "自家晒", "无核", "生态"],
    "rice-grain": ["新米", "富硒", "生态", "有机", "农家", "高山", "手工", "当季", "石磨"],
    "oil": ["冷榨", "压榨", "有机", "农家", "古法", "一级", "野生", "高山"],
    "dried": ["农家", "手工", "野生", "高山", "柴火", "古法", "特级", "有机", "土"],
    "poultry-eggs": ["散养", "农家", "生态", "高山", "林下", "土", "放养", "谷物喂养"],
    "herbs": ["野生", "林下", "九蒸九晒", "特级", "有机", "高山", "道地", "精选"],
    "crafts": ["手工", "传统", "非遗", "精品", "手织", "纯手工"],
}
# county -> (category slug, kind) specialties; sellers of the county prefer them
SPECIALTIES: dict[str, list[tuple[str, str]]] = {
    "430525": [("tea", "云雾茶"), ("tea", "绿茶"), ("poultry-eggs", "土鸡蛋"), ("oil", "山茶油")],
    "431224": [("jujube", "鸡蛋枣"), ("jujube", "红枣"), ("jujube", "灰枣"), ("jujube", "蜜枣")],
    "431230": [("rice-grain", "红糯米"), ("crafts", "侗锦桌旗"), ("rice-grain", "五色糯米")],
    "431281": [("fruit", "冰糖橙"), ("fruit", "脐橙"), ("herbs", "茯苓")],
    "510923": [("dried", "井盐"), ("dried", "花生"), ("poultry-eggs", "土鸡蛋"),
               ("crafts", "竹编收纳篮")],
    "513431": [("rice-grain", "苦荞米"), ("tea", "苦荞茶"), ("crafts", "刺绣香包")],
    "430524": [("herbs", "金银花"), ("herbs", "龙牙百合")],
    "430527": [("dried", "笋干"), ("dried", "香菇")],
    "430529": [("rice-grain", "大米"), ("dried", "腊肉")],
    "430581": [("dried", "腊肉"), ("poultry-eggs", "土鸡")],
    "430923": [("tea", "黑茶"), ("tea", "茯砖"), ("tea", "千两茶"), ("tea", "天尖")],
    "431221": [("fruit", "刺葡萄"), ("fruit", "葡萄")],
    "431222": [("tea", "碣滩茶"), ("tea", "绿茶")],
    "431223": [("fruit", "椪柑"), ("poultry-eggs", "稻花鱼")],
    "431225": [("dried", "笋干"), ("herbs", "杜仲")],
    "431226": [("fruit", "冰糖橙"), ("fruit", "冰糖橙"), ("fruit", "柑橘")],
    "431227": [("poultry-eggs", "黑猪肉"), ("dried", "腊肉")],
    "431228": [("poultry-eggs", "芷江鸭"), ("poultry-eggs", "麻鸭")],
    "431229": [("fruit", "杨梅"), ("herbs", "茯苓")],
    "433123": [("fruit", "猕猴桃"), ("dried", "腊肉"), ("crafts", "苗绣挂件")],
    "433124": [("fruit", "猕猴桃"), ("fruit", "红心猕猴桃"), ("crafts", "苗绣香包")],
    "433125": [("tea", "黄金茶"), ("tea", "绿茶")],
    "433126": [("tea", "毛尖"), ("tea", "绿茶")],
}
BLURBS = {
    "tea": ["汤色嫩绿明亮，栗香持久", "一芽一叶手工采摘", "条索紧细，白毫显露", "三泡有余香",
            "高山云雾茶园，海拔八百米以上", "茶园常年雇用脱贫户采茶务工", "滋味醇厚，回甘明显",
            "传统工艺压制，越陈越香"],
    "fruit": ["皮薄化渣，甜度高", "果肉细嫩，汁多味甜", "树上自然成熟，现摘现发",
              "统一分级、统一包装", "坏果包赔", "单果大小均匀", "“瓜果飘香”项目统一收购"],
    "jujube": ["肉厚核小，甜而不腻", "保底收购价回收枣子", "统一供苗、统一技术、统一加工",
               "自然晾晒，不加糖", "千亩枣园出品", "适合煲汤煮粥"],
    "rice-grain": ["当年新米，颗粒饱满", "梯田种植，不施化肥", "稻鱼共生，米香浓郁",
                   "亲友预订，按需碾米", "石磨加工，口感细腻", "煮粥软糯香甜"],
    "oil": ["古法压榨，不添加任何成分", "油茶林在高山向阳坡", "色泽清亮，香味浓郁",
            "低温冷榨，保留营养", "农户自种油茶籽"],
    "dried": ["农户自家晾晒", "柴火熏制，腊香浓郁", "林下采集，自然晒干", "无硫熏，无添加",
              "泡发率高，肉质厚实", "地道山里风味"],
    "poultry-eggs": ["林下散养，吃虫草玉米", "蛋黄橙红，蛋清浓稠", "养殖一年以上才出栏",
                     "带动周边脱贫户养殖增收", "每日现捡现发", "谷物喂养，不喂饲料"],
    "herbs": ["林下仿野生种植", "九蒸九晒传统炮制", "道地药材，产地直供", "切片均匀，便于煲汤",
              "合作社统一种植、统一收购"],
    "crafts": ["手工编织，每件略有不同", "非遗传承人带领妇女制作", "传统纹样，色彩鲜明",
               "留守妇女在家就能做的活计", "可作伴手礼"],
}
COMMON_BLURBS = ["合作社统一标准、统一收购", "保底收购价收购，带动脱贫户增收", "产地直发，顺丰包邮",
                 "村集体经济项目，收益分配到户", "以购代捐，消费帮扶", "单位工会集中采购优选",
                 "帮扶车间生产", "脱贫户自产自销"]
COOP_WORDS = {"tea": "茶叶", "fruit": "果业", "jujube": "红枣", "rice-grain": "粮油",
              "oil": "油茶", "dried": "山珍特产", "poultry-eggs": "生态养殖", "herbs": "中药材",
              "crafts": "手工艺"}
COMPANY_WORDS = ["生态农业", "农业科技", "农产品开发", "食品", "电子商务", "茶业", "林业开发",
                 "农业发展", "特色农产品"]
SHOP_WORDS = ["农家小铺", "土特产小铺", "特产店", "山货铺", "小铺"]
BRANDS = ["雪峰", "武陵", "沅水", "巫水", "侗乡", "青溪", "金凤", "云台", "涪江", "红土",
          "山里红", "绿源", "丰禾", "好伙计", "乡味", "溪源", "翠峰", "禾丰", "福满", "穗香"]


@dataclass
class Region:
    id: int
    code: str
    name: str
    level: str  # province | city | county | township | village
    parent: Region | None

    @property
    def chain(self) -> list[Region]:
        """This region and its ancestors, village first."""
        out, r = [], self
        while r is not None:
            out.append(r)
            r = r.parent
        return out

    @property
    def short(self) -> str:
        return short_name(self.name)


@dataclass
class Seller:
    id: int
    name: str
    county: Region
    home: Region  # the township or village of cooperatives and shops, else the county
    categories: list[str]
    weight: float


@dataclass
class Catalogue:
    regions: list[Region]
    villages: list[Region]
    sellers: list[Seller]
    products: list[Any] = field(default_factory=list)


def short_name(name: str) -> str:
    for suffix in ("土家族苗族自治州", "彝族自治州", "苗族侗族自治县", "侗族自治县", "苗族自治县",
                   "苗族乡", "瑶族乡", "县", "市", "镇", "乡", "村", "省"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def build_regions(rnd: random.Random) -> list[Region]:
    rows: list[tuple[str, str, str]] = []
    with open(SEED / "regions.csv", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            rows.append((rec["code"], rec["name"], rec["parent_code"]))
    rows += EXTRA_UPPER
    known = {code for code, _n, _p in rows}
    names_under: dict[str, set[str]] = {}
    for code, name, parent in rows:
        names_under.setdefault(parent, set()).add(name)
    # extra townships with real names, and villages (the named ones first, then invented)
    for county, townships in EXTRA_TOWNSHIPS.items():
        existing = sorted(c for c, _n, p in rows if p == county and len(c) == 9)
        n = len(existing)
        for t_name, named in townships:
            if t_name in names_under.get(county, set()):
                continue
            n += 1
            t_code = f"{county}{1 if t_name.endswith('镇') else 2}{n:02d}"
            while t_code in known:
                n += 1
                t_code = f"{county}{1 if t_name.endswith('镇') else 2}{n:02d}"
            rows.append((t_code, t_name, county))
            known.add(t_code)
            names_under.setdefault(county, set()).add(t_name)
            for v_index, v_name in enumerate(named, start=1):
                rows.append((f"{t_code}2{v_index:02d}", v_name, t_code))
                names_under.setdefault(t_code, set()).add(v_name)
    # top up every township to VILLAGES_PER_TOWNSHIP villages with invented names
    townships = [(c, n) for c, n, _p in rows if len(c) == 9]
    for t_code, _t_name in townships:
        have = names_under.setdefault(t_code, set())
        index = len(have)
        stems = VILLAGE_STEMS[:]
        rnd.shuffle(stems)
        for stem in stems:
            if len(have) >= VILLAGES_PER_TOWNSHIP:
                break
            v_name = stem + "村"
            if v_name in have:
                continue
            index += 1
            code = f"{t_code}2{index:02d}"
            while code in known:
                index += 1
                code = f"{t_code}2{index:02d}"
            known.add(code)
            have.add(v_name)
            rows.append((code, v_name, t_code))
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    level_by_len = {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}
    by_code: dict[str, Region] = {}
    regions = []
    for i, (code, name, parent) in enumerate(rows, start=1):
        r = Region(i, code, name, level_by_len[len(code)], by_code[parent] if parent else None)
        by_code[code] = r
        regions.append(r)
    return regions


def build_sellers(rnd: random.Random, regions: list[Region], count: int) -> list[Seller]:
    by_code = {r.code: r for r in regions}
    counties = [r for r in regions if r.level == "county"]
    villages = [r for r in regions if r.level == "village"]
    townships = [r for r in regions if r.level == "township"]
    slugs = [slug for _i, slug, _n in CATEGORIES]

    def county_of(r: Region) -> Region:
        return next(x for x in r.chain if x.level == "county") if r.level != "city" else \
            next(c for c in counties if c.parent is r)

    def cats_for(county: Region) -> list[str]:
        spec = [slug for slug, _k in SPECIALTIES.get(county.code, [])]
        cats = list(dict.fromkeys(spec))[:1] or [rnd.choice(slugs)]
        extra = rnd.choice(slugs)
        if extra not in cats:
            cats.append(extra)
        return cats

    sellers: list[Seller] = []
    names: set[str] = set()
    with open(SEED / "sellers.toml", "rb") as fh:
        seeded = tomllib.load(fh)["sellers"]
    for rec in seeded:  # the real sellers of the reports and the demo sellers
        home = by_code[rec["region"]]
        county = county_of(home)
        sellers.append(Seller(len(sellers) + 1, rec["name"], county, home, cats_for(county),
                              min(rnd.paretovariate(1.1) * 3, 40.0)))
        names.add(rec["name"])
    while len(sellers) < count:
        county = rnd.choice(counties)
        cats = cats_for(county)
        roll = rnd.random()
        for _attempt in range(100):
            if roll < 0.55:  # cooperative of a village or township
                if rnd.random() < 0.6:
                    home = rnd.choice([v for v in villages if county in v.chain])
                else:
                    home = rnd.choice([t for t in townships if t.parent is county])
                name = f"{county.short}{home.short}{COOP_WORDS[cats[0]]}专业合作社"
                if rnd.random() < 0.3:
                    name = f"{county.name}{home.name}{COOP_WORDS[cats[0]]}专业合作社"
            elif roll < 0.85:  # enterprise
                home = county
                name = f"{county.name}{rnd.choice(BRANDS)}{rnd.choice(COMPANY_WORDS)}有限公司"
                if rnd.random() < 0.3:
                    name = f"{county.parent.short}{rnd.choice(BRANDS)}{rnd.choice(COMPANY_WORDS)}有限公司"
            else:  # household shop
                home = rnd.choice([v for v in villages if county in v.chain])
                name = f"{home.name}{rnd.choice(SHOP_WORDS)}"
            if name not in names:
                break
        else:
            continue
        names.add(name)
        sellers.append(Seller(len(sellers) + 1, name, county, home, cats,
                              min(rnd.paretovariate(1.2), 30.0)))
    return sellers


def _product_name(rnd: random.Random, slug: str, kind: str, spec: str, village: Region,
                  county: Region) -> str:
    township = village.parent
    place_roll = rnd.random()
    if place_roll < 0.45:
        place = rnd.choice(PLACE_ALIASES.get(county.code, [county.short]))
    elif place_roll < 0.62:
        place = township.short
    elif place_roll < 0.72:
        place = village.name if rnd.random() < 0.5 else village.short
    elif place_roll < 0.85:
        place = rnd.choice(AREA_BRANDS)
    else:
        place = ""
    q = rnd.choice(QUALIFIERS[slug])
    q2 = rnd.choice(QUALIFIERS[slug])
    style = rnd.random()
    if style < 0.35:
        name = f"{place}{q}{kind}"
    elif style < 0.5:
        name = f"{place}{kind}·{q}{q2 if q2 != q else ''}{kind[-1] if len(kind) > 2 else kind}"
    elif style < 0.62:
        name = f"【{place or county.short}{kind}】{q}{kind}"
    elif style < 0.72:
        name = f"{place}{kind}（{q}）"
    elif style < 0.8:
        name = f"{q}{kind} {county.short}特产"
    elif style < 0.88:
        name = f"{place}{kind}礼盒"
    else:
        name = f"{place}{kind}"
    if rnd.random() < 0.6:
        name += f" {spec}"
    return name


def _description(rnd: random.Random, slug: str, village: Region, seller: Seller,
                 spec: str, in_name: bool) -> str:
    chain = village.chain  # village, township, county, city, province
    if rnd.random() < 0.5:
        where = f"产自{chain[2].name}{chain[1].name}{chain[0].name}"
    else:
        where = f"产自{chain[3].short}{chain[2].short}{chain[0].name}"
    parts = [where]
    pool = BLURBS[slug] + COMMON_BLURBS
    rnd.shuffle(pool)
    target = rnd.randint(30, 80)
    tail = "" if in_name else f"规格{spec}"
    seller_part = f"由{seller.name}组织农户生产" if rnd.random() < 0.5 else ""
    for extra in [seller_part, tail, *pool]:
        if not extra:
            continue
        if len("，".join(parts)) + len(extra) + 2 > 80:
            continue
        parts.append(extra)
        if len("，".join(parts)) >= target:
            break
    text = "，".join(parts) + "。"
    while len(text) < 30:
        text += rnd.choice(["欢迎选购。", "量大可议价。", "支持单位集采。"])
    return text


def generate(products: int, *, seed: int = 20240601, sellers: int = 300,
             factory: Callable[..., Any] | None = None,
             progress: Callable[[int], None] | None = None) -> Catalogue:
    """N products as `factory(**SearchDoc fields)` (dicts when no factory is given)."""
    rnd = random.Random(seed)
    regions = build_regions(rnd)
    villages = [r for r in regions if r.level == "village"]
    villages_of: dict[int, list[Region]] = {}
    for v in villages:
        villages_of.setdefault(v.chain[2].id, []).append(v)
        villages_of.setdefault(v.parent.id, []).append(v)
        villages_of.setdefault(v.id, []).append(v)
    shop = build_sellers(rnd, regions, sellers)
    weights = [s.weight for s in shop]
    cum = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    make = factory or (lambda **kw: kw)
    out = []
    all_slugs = [slug for _i, slug, _n in CATEGORIES]
    for pid in range(1, products + 1):
        seller = rnd.choices(shop, cum_weights=cum)[0]
        county = seller.county
        specialties = SPECIALTIES.get(county.code, [])
        roll = rnd.random()
        if specialties and roll < 0.45:
            slug, kind = rnd.choice(specialties)
            kinds = {k: (sp, pr) for k, sp, pr in GOODS[slug]}
            specs, prices = kinds[kind]
        else:
            slug = rnd.choice(seller.categories) if roll < 0.9 else rnd.choice(all_slugs)
            kind, specs, prices = rnd.choice(GOODS[slug])
        spec = rnd.choice(specs)
        pool = villages_of.get(seller.home.id) or villages_of[county.id]
        if seller.home.level == "village" and rnd.random() < 0.3:
            pool = villages_of[county.id]
        village = rnd.choice(pool)
        name = _product_name(rnd, slug, kind, spec, village, county)
        description = _description(rnd, slug, village, seller, spec, spec in name)
        chain = village.chain
        lo, hi = prices
        price = rnd.randrange(lo, hi, 10)
        if rnd.random() < 0.4:
            price = price // 100 * 100 + 90  # ¥x.90
        out.append(make(
            id=pid, name=name, description=description,
            category_id=CATEGORY_ID[slug], category_name=CATEGORY_NAME[CATEGORY_ID[slug]],
            seller_id=seller.id, seller_name=seller.name,
            origin_names=[r.name for r in chain], region_ids=[r.id for r in chain],
            county_code=chain[2].code, certified=rnd.random() < 0.2, price_fen=price,
            stock=0 if rnd.random() < 0.1 else rnd.randint(1, 2000),
            listed_at=REFERENCE_TIME - rnd.randrange(TWO_YEARS),
        ))
        if progress and pid % 50_000 == 0:
            progress(pid)
    return Catalogue(regions=regions, villages=villages, sellers=shop, products=out)


# ---- queries ------------------------------------------------------------------------------------
QUERY_POOLS: dict[str, list[str]] = {
    "char": ["茶", "枣", "橙", "米", "油", "蛋", "鸡", "菇", "笋", "桃", "梨", "花", "蜜", "竹",
             "鸭", "肉", "锦", "耳", "椒", "柚", "鱼", "绣", "粉", "精"],
    "word": ["云雾茶", "红糯米", "冰糖橙", "山茶油", "猕猴桃", "土鸡蛋", "黑茶", "茯砖", "毛尖",
             "绿茶", "红茶", "脐橙", "灰枣", "蜜枣", "黄精", "茯苓", "金银花", "天麻", "香菇",
             "木耳", "腊肉", "大米", "菜籽油", "侗锦", "竹编", "苗绣", "笋干", "杨梅", "苦荞",
             "有机", "明前", "高山", "手工", "合作社", "黄金茶", "千两茶", "鸡蛋枣", "礼盒",
             "散养", "糯米"],
    "place": ["溆浦", "洞口", "麻阳", "安化", "通道", "洪江", "黔阳", "大英", "昭觉", "靖州",
              "保靖", "古丈", "花垣", "凤凰", "隆回", "沅陵", "芷江", "会同", "古楼", "雪峰",
              "洞雷", "曹家溪", "十八洞", "三江", "安江", "怀化", "邵阳", "湘西", "四川", "湖南",
              "兰泥", "舒溶溪", "陇城", "大凉山"],
    "pinyin": ["chaye", "hongzao", "xupu", "dongkou", "mayang", "anhua", "yunwucha",
               "hongnuomi", "bingtangcheng", "shanchayou", "mihoutao", "tujidan", "heicha",
               "maojian", "huangjing", "fuling", "xianggu", "larou", "dami", "xuefeng",
               "gulou", "tongdao", "hongjiang", "jingzhou", "baojing", "qianyang", "zao", "cha"],
    "initials": ["cy", "hz", "xp", "dk", "ywc", "hnm", "btc", "scy", "mht", "tjd", "ah", "my",
                 "hc", "hj", "mj", "xg", "lr", "td", "hjc", "qlc",
                 # initials of the start of a name or of a word, across segmentation (issue 15)
                 "xf", "xfy", "xfyw", "xfywc", "bt", "mybtc", "btclh", "gzmj", "ahhc", "xpmz",
                 "sytjd", "tdhnm"],
    "two_terms": ["溆浦 枣", "洞口 茶", "安化 黑茶", "麻阳 冰糖橙", "通道 红糯米", "靖州 杨梅",
                  "雪峰 土鸡蛋", "有机 大米", "明前 绿茶", "高山 茶", "怀化 橙", "大英 花生",
                  "手工 竹编", "湖南 茶", "洞雷 米", "保靖 黄金茶", "xupu 枣", "湘西 腊肉",
                  "古楼 云雾茶", "黔阳 冰糖橙", "花垣 猕猴桃", "昭觉 苦荞", "特级 毛尖",
                  "农家 土鸡蛋", "洪江 脐橙", "隆回 金银花", "芷江 鸭", "古丈 毛尖", "散养 鸡",
                  "山茶油 5L", "红枣 500g", "茶 礼盒", "安化 茯砖", "溆浦 红枣干", "凤凰 腊肉",
                  "合作社 茶", "冰糖橙 10斤", "dongkou 茶", "anhua hc", "通道 侗锦"],
}
QUERY_KINDS = list(QUERY_POOLS)


GENERATED_TWO_TERMS = 160  # place + character/word pairs added to the curated two-term pool


def query_pools() -> dict[str, list[str]]:
    """The query pools: the curated ones, the two-term pool with a long tail of generated
    place + character/word pairs (so that not every query repeats often)."""
    rnd = random.Random(8675309)
    pools = {k: list(v) for k, v in QUERY_POOLS.items()}
    seen = set(pools["two_terms"])
    goods = QUERY_POOLS["char"] + QUERY_POOLS["word"][:30]
    while len(pools["two_terms"]) < len(QUERY_POOLS["two_terms"]) + GENERATED_TWO_TERMS:
        q = f"{rnd.choice(QUERY_POOLS['place'])} {rnd.choice(goods)}"
        if q not in seen:
            seen.add(q)
            pools["two_terms"].append(q)
    return pools


def query_mix(count: int, *, seed: int) -> list[tuple[str, str]]:
    """`count` (kind, query) pairs, the kinds in equal shares, shuffled deterministically."""
    rnd = random.Random(seed * 7919 + count)
    pools = query_pools()
    out: list[tuple[str, str]] = []
    for i in range(count):
        kind = QUERY_KINDS[i % len(QUERY_KINDS)]
        out.append((kind, rnd.choice(pools[kind])))
    rnd.shuffle(out)
    return out


INITIALS_SAMPLE_KINDS = ("prefix", "word", "whole")
_CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")


def initials_samples(products: list[Any], count: int, *, seed: int) -> list[dict]:
    """Initials queries made from `count` products picked at random, for the recall of
    initials (issue 15): "prefix", the initials of the start of the name (2 to 12 of the first
    run of Chinese characters: 雪峰云雾茶 -> xf .. xfywc); "word", from where a later word of
    that run starts (jieba's precise cut: 麻阳冰糖橙 -> bt, btc); "whole", the initials of the
    whole name (as the engine defines them: the first run of two or more Chinese characters).
    Letters are pypinyin's first letters of the run read in context. Each sample: kind, q, id,
    seller (the product's seller id) and name."""
    import pypinyin
    import rjieba

    from marketplace.search.analysis import whole_name_initials

    rnd = random.Random(seed)
    out: list[dict] = []
    for p in rnd.sample(products, min(count, len(products))):
        g = p.get if isinstance(p, dict) else p.__getattribute__
        name = unicodedata.normalize("NFKC", g("name"))
        run = next((r for r in _CJK_RUN.findall(name) if len(r) >= 2), "")
        letters = "".join(pypinyin.lazy_pinyin(run, style=pypinyin.Style.FIRST_LETTER,
                                               errors=lambda chars: ["?"] * len(chars)))
        if len(letters) != len(run) or not (letters.isascii() and letters.isalpha()):
            continue
        base = {"id": g("id"), "seller": g("seller_id"), "name": g("name")}
        out.append({**base, "kind": "prefix",
                    "q": letters[:rnd.randint(2, min(len(run), 12))]})
        starts, pos = [], 0
        for word in rjieba.cut(run):  # jieba's words as the index sees them (HMM on)
            if pos and len(run) - pos >= 2:
                starts.append(pos)
            pos += len(word)
        if starts:
            start = rnd.choice(starts)
            end = rnd.randint(start + 2, min(len(run), start + 12))
            out.append({**base, "kind": "word", "q": letters[start:end]})
        whole = whole_name_initials(g("name"))
        if whole:
            out.append({**base, "kind": "whole", "q": whole})
    return out


def iter_like_rows(products: list[Any]) -> Iterator[tuple]:
    """Rows for the SQLite LIKE baseline from dicts or SearchDoc-like objects."""
    for p in products:
        g = p.get if isinstance(p, dict) else p.__getattribute__
        yield (g("id"), g("name"), g("description"), g("category_id"), g("category_name"),
               g("seller_name"), " ".join(g("origin_names")), g("county_code"),
               int(bool(g("certified"))), g("price_fen"), g("stock"), g("listed_at"))
