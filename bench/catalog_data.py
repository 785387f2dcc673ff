"""A large, realistic catalogue for the storefront benchmark, written with SQLAlchemy Core.

The places are the real counties, townships and villages of ../shared/FIELD-FACTS.md plus
neighbouring townships; township and village codes below the county are INVENTED (they have the
right shape, 9 and 12 digits, but are not the official GB/T 2260 / statistical codes). Village
names other than the four named in the reports are invented. Sellers other than the real ones
named in the reports are invented. Every product is listed and every seller verified.

Usage (inside an app context of a migrated database):
    build_catalog(db.session, products=10_000, sellers=300, upload_folder=...)
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from marketplace.catalog import images as image_store
from marketplace.catalog.models import Category, Product, ProductImage, ProductStatus
from marketplace.core.time import now_utc
from marketplace.regions.models import Region
from marketplace.regions.services import RegionRow, import_rows
from marketplace.sellers.models import Seller, SellerKind, SellerStatus

# (code, name, parent_code); counties are real GB/T 2260 codes
UPPER = [
    ("43", "湖南省", ""),
    ("4305", "邵阳市", "43"),
    ("430525", "洞口县", "4305"),
    ("4312", "怀化市", "43"),
    ("431224", "溆浦县", "4312"),
    ("431230", "通道侗族自治县", "4312"),
    ("431281", "洪江市", "4312"),
    ("51", "四川省", ""),
    ("5109", "遂宁市", "51"),
    ("510923", "大英县", "5109"),
    ("5134", "凉山彝族自治州", "51"),
    ("513431", "昭觉县", "5134"),
]
# townships per county (real names); the first villages listed are the ones named in the reports
TOWNSHIPS = {
    "430525": [("月溪镇", ["洪溪村"]), ("古楼乡", ["古楼村"]), ("高沙镇", []), ("竹市镇", []),
               ("石江镇", []), ("山门镇", []), ("黄桥镇", [])],
    "431224": [("舒溶溪乡", ["曹家溪村"]), ("三江镇", []), ("卢峰镇", []), ("龙潭镇", []),
               ("低庄镇", [])],
    "431230": [("陇城镇", ["洞雷村"]), ("双江镇", []), ("县溪镇", []), ("牙屯堡镇", [])],
    "431281": [("黔城镇", []), ("安江镇", []), ("托口镇", []), ("雪峰镇", [])],
    "510923": [("玉峰镇", []), ("河边镇", ["兰泥村"]), ("蓬莱镇", []), ("天保镇", []),
               ("卓筒井镇", [])],
    "513431": [("新城镇", []), ("竹核乡", []), ("四开乡", [])],
}
VILLAGE_STEMS = ["大坪", "石门", "枫树", "杨柳", "青山", "竹林", "桃花", "上堡", "下湾", "茶园",
                 "白沙", "龙井", "新田", "黄泥", "高坪", "长冲", "金鸡", "和平", "团结", "红旗",
                 "五星", "凤凰", "梅花", "柏树", "岩头", "水口", "塘湾", "田心", "荷叶", "永兴"]
VILLAGES_PER_TOWNSHIP = 6

# category slug -> (items, specs, (min, max) price in fen)
GOODS = {
    "tea": (["云雾绿茶", "高山红茶", "毛尖", "野生白茶", "黑茶茯砖", "雪峰云雾茶", "明前春茶",
             "古树红茶"], ["250g/罐", "100g/袋", "500g/盒", "50g×5袋"], (4800, 38800)),
    "fruit": (["脐橙", "冰糖橙", "猕猴桃", "黄桃", "杨梅", "金秋梨", "葡萄", "椪柑"],
              ["5斤/箱", "10斤/箱", "3kg/箱"], (2990, 12800)),
    "jujube": (["鹤珠枣", "灰枣", "红枣干", "蜜枣", "枣夹核桃"],
               ["500g/袋", "1kg/箱", "250g×2袋"], (1990, 8800)),
    "rice-grain": (["生态红糯米", "高山大米", "富硒米", "小米", "荞麦面", "玉米糁"],
                   ["5kg/袋", "2.5kg/袋", "10kg/袋"], (2990, 16800)),
    "oil": (["山茶油", "菜籽油", "压榨花生油", "茶籽油"], ["2.5L/桶", "5L/桶", "500ml/瓶"],
            (3980, 29800)),
    "dried": (["香菇", "黑木耳", "竹笋干", "腊肉", "剁辣椒", "干豆角", "红薯干"],
              ["250g/袋", "500g/袋"], (1590, 12800)),
    "poultry-eggs": (["土鸡蛋", "散养土鸡", "麻鸭", "腊鸭", "鹅蛋"],
                     ["30枚/箱", "约1.5kg/只", "20枚/盒"], (3580, 19800)),
    "herbs": (["金银花", "黄精", "茯苓", "天麻", "杜仲", "玉竹"], ["250g/袋", "500g/罐"],
              (2800, 26800)),
    "crafts": (["竹编果篮", "侗锦围巾", "苗绣挂件", "草编收纳篮", "木雕摆件", "蜡染桌布"],
               ["1件", "1套"], (3900, 39800)),
}
BLURBS = ["高山云雾，生态种植", "农户手工采摘，当季发货", "合作社统一标准、统一收购",
          "保底收购价收购，带动脱贫户增收", "不打农药，人工除草", "传统工艺，小批量制作",
          "产地直发，坏果包赔", "村集体经济项目，收益分配到户"]
# the real sellers of FIELD-FACTS.md: (name, kind, county)
REAL_SELLERS = [
    ("湖南古楼雪峰云雾茶有限公司", SellerKind.enterprise, "430525"),
    ("溆浦县枣子产业协会", SellerKind.cooperative, "431224"),
    ("怀化市水果行业协会", SellerKind.cooperative, "431281"),
    ("通道县洞雷村生态红糯米专业合作社", SellerKind.cooperative, "431230"),
    ("洞口县尚君生态农业科技有限公司", SellerKind.enterprise, "430525"),
    ("农家好伙计电子商务有限公司", SellerKind.enterprise, "430525"),
    ("洪江市志愿者协会爱心超市", SellerKind.enterprise, "431281"),
]
COOP_WORDS = {"tea": "茶叶", "fruit": "果业", "jujube": "红枣", "rice-grain": "粮油",
              "oil": "油茶", "dried": "山珍特产", "poultry-eggs": "生态养殖", "herbs": "中药材",
              "crafts": "手工艺"}
COMPANY_WORDS = ["生态农业", "农业科技", "农产品开发", "食品", "电子商务", "茶业", "林业开发"]
BRANDS = ["雪峰", "武陵", "沅水", "巫水", "侗乡", "青溪", "金凤", "云台", "涪江", "红土",
          "山里红", "绿源", "丰禾", "好伙计", "乡味", "溪源", "翠峰", "禾丰", "福满", "穗香"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"


@dataclass
class Built:
    regions: int
    villages: int
    sellers: int
    products: int
    images: int


def region_rows() -> list[RegionRow]:
    rows = [RegionRow(i, c, n, p) for i, (c, n, p) in enumerate(UPPER, start=2)]
    line = len(rows) + 2
    for county, townships in TOWNSHIPS.items():
        for t_index, (t_name, named) in enumerate(townships, start=1):
            kind = 1 if t_name.endswith("镇") else 2  # 1xx towns, 2xx townships (invented)
            t_code = f"{county}{kind}{t_index:02d}"
            rows.append(RegionRow(line, t_code, t_name, county))
            line += 1
            stems = [v.removesuffix("村") for v in named]
            stems += [s for s in VILLAGE_STEMS[(t_index * 7) % len(VILLAGE_STEMS):]
                      + VILLAGE_STEMS if s not in stems]
            for v_index, stem in enumerate(stems[:VILLAGES_PER_TOWNSHIP], start=1):
                rows.append(RegionRow(line, f"{t_code}2{v_index:02d}", stem + "村", t_code))
                line += 1
    return rows


def credit_code(prefix: str, county: str, n: int) -> str:
    body = f"{prefix}{county}{n:09d}"
    return body + uscc.calc_check_digit(body)


def _short(name: str) -> str:
    for suffix in ("侗族自治县", "彝族自治州", "瑶族乡", "县", "市", "镇", "乡", "村"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _image(slug: str, color: tuple[int, int, int]) -> bytes:
    img = Image.new("RGB", (640, 640), color)
    draw = ImageDraw.Draw(img)
    for i in range(0, 640, 40):
        draw.line([(i, 0), (640, 640 - i)], fill=tuple(min(255, c + 40) for c in color), width=6)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def build_catalog(session: Session, *, products: int, sellers: int, upload_folder: str,
                  seed: int = 20240601, progress=print) -> Built:
    rnd = random.Random(seed)
    now = now_utc()
    import_rows(session, region_rows())
    session.flush()
    regions = list(session.scalars(select(Region)))
    villages = [r for r in regions if r.level == "village"]
    by_county: dict[str, list[Region]] = {}
    for v in villages:
        by_county.setdefault(v.code[:6], []).append(v)
    counties = {r.code: r for r in regions if r.level == "county"}
    categories = {c.slug: c for c in session.scalars(select(Category))}
    progress(f"  regions: {len(regions)} ({len(villages)} villages)")

    # sellers: the real ones first, then invented cooperatives and enterprises
    seller_rows, names = [], set()
    specialty: list[list[str]] = []
    slugs = list(GOODS)
    for i in range(sellers):
        specialty.append(rnd.sample(slugs, 2))
        if i < len(REAL_SELLERS):
            name, kind, county = REAL_SELLERS[i]
        else:
            county = rnd.choice(list(counties))
            kind = SellerKind.cooperative if rnd.random() < 0.7 else SellerKind.enterprise
            for _attempt in range(50):
                if kind == SellerKind.cooperative:
                    village = rnd.choice(by_county[county])
                    name = (f"{counties[county].name}{_short(village.name)}"
                            f"{COOP_WORDS[specialty[i][0]]}专业合作社")
                else:
                    name = (f"{counties[county].name}{rnd.choice(BRANDS)}"
                            f"{rnd.choice(COMPANY_WORDS)}有限公司")
                if name not in names:
                    break
            else:
                name = f"{counties[county].name}帮扶经营主体{i}号"
        names.add(name)
        seller_rows.append({
            "id": i + 1, "kind": kind, "name": name,
            "credit_code": credit_code("93" if kind == SellerKind.cooperative else "91", county,
                                       i + 1),
            "household_id": None, "region_id": counties[county].id,
            "contact_name": rnd.choice(SURNAMES) + rnd.choice(["建国", "春梅", "志强", "秀英",
                                                               "红军", "桂花", "德明"]),
            "contact_mobile": f"13{rnd.randint(0, 9)}{rnd.randint(10_000_000, 99_999_999)}",
            "description": f"{name}带动周边农户发展特色产业。", "status": SellerStatus.verified,
            "status_note": "", "verified_at": now, "applicant_id": None,
            "created_at": now, "updated_at": now,
        })
    session.execute(insert(Seller.__table__), seller_rows)
    progress(f"  sellers: {len(seller_rows)}")

    # one shared picture per category (products reference it; files are tiny and few)
    palette = [(46, 125, 50), (239, 108, 0), (183, 28, 28), (158, 122, 60), (205, 160, 20),
               (109, 76, 65), (230, 200, 150), (56, 142, 60), (121, 85, 72)]
    pictures = {}
    for slug, color in zip(slugs, palette, strict=True):
        pictures[slug] = image_store.store(_image(slug, color), upload_folder,
                                           max_bytes=5 * 1024 * 1024, max_side=1200,
                                           thumb_side=400)

    weights = [rnd.paretovariate(1.2) for _ in seller_rows]  # a few big sellers, many small
    seller_ids = list(range(1, len(seller_rows) + 1))
    product_rows, image_rows = [], []
    chunk = 2000
    today = date.today()
    for pid in range(1, products + 1):
        sid = rnd.choices(seller_ids, weights)[0]
        seller = seller_rows[sid - 1]
        county = next(c for c, r in counties.items() if r.id == seller["region_id"])
        slug = rnd.choice(specialty[sid - 1]) if rnd.random() < 0.85 else rnd.choice(slugs)
        items, specs, (lo, hi) = GOODS[slug]
        village = rnd.choice(by_county[county])
        place = rnd.choice([_short(village.name), _short(village.name_path.split("/")[3]),
                            _short(counties[county].name)])
        certified = rnd.random() < 0.2
        listed_at = now - timedelta(minutes=rnd.randint(0, 180 * 24 * 60))
        product_rows.append({
            "id": pid, "sku": f"B{pid:08d}", "seller_id": sid,
            "category_id": categories[slug].id, "origin_id": village.id,
            "name": f"{place}{rnd.choice(items)}", "spec": rnd.choice(specs),
            "description": (f"产自{village.short_place}。{rnd.choice(BLURBS)}，"
                            f"{rnd.choice(BLURBS)}。由{seller['name']}组织农户生产。"),
            "price_fen": rnd.randrange(lo, hi, 10), "stock": 0 if rnd.random() < 0.05
            else rnd.randint(1, 800),
            "status": ProductStatus.listed, "review_note": "",
            "certificate_no": f"帮扶认字{today.year}-{pid:05d}" if certified else "",
            "certificate_valid_until": today + timedelta(days=rnd.randint(30, 700))
            if certified else None,
            "certificate_checked": certified, "featured": rnd.random() < 0.01,
            "submitted_at": listed_at - timedelta(hours=6), "listed_at": listed_at,
            "created_at": listed_at - timedelta(days=1), "updated_at": listed_at,
        })
        pic = pictures[slug]
        image_rows.append({"product_id": pid, "position": 1, "filename": pic.filename,
                           "thumb_filename": pic.thumb_filename, "width": pic.width,
                           "height": pic.height})
        if len(product_rows) >= chunk or pid == products:
            session.execute(insert(Product.__table__), product_rows)
            session.execute(insert(ProductImage.__table__), image_rows)
            product_rows, image_rows = [], []
            progress(f"  products: {pid}/{products}")
    return Built(regions=len(regions), villages=len(villages), sellers=len(seller_rows),
                 products=products, images=products)
