"""Load the demo data of seed/ (the national regions and the demo's own, accounts, households,
sellers, products with pictures).

Idempotent: every row has a stable key (region code, login, household code, seller name, product
SKU); whatever already exists is skipped and counted as such, so a second run changes nothing.
Rows go through the real services where they validate (regions import, registration, members,
products, images, review), and households are inserted in bulk with the same checks.
"""
from __future__ import annotations

import random
import tomllib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.accounts.services import Registration, find_by_login, grant_role, register_user
from marketplace.catalog import images as image_store
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, ProductStatus
from marketplace.config import PROJECT_ROOT
from marketplace.core.time import now_utc, today_china
from marketplace.core.validators import (
    id_number_hash,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
)
from marketplace.households.models import Household, HouseholdStatus
from marketplace.ledger import lots as supply
from marketplace.ledger.models import SupplyLot
from marketplace.regions.models import Region
from marketplace.regions.services import get_by_code, import_rows, read_region_csv
from marketplace.seed import artwork, help_events, help_needs, help_pool, help_wishes
from marketplace.seed import orders as demo_orders
from marketplace.seed import reports as demo_reports
from marketplace.seed import units as demo_units
from marketplace.seed.people import household_code, plan_households
from marketplace.sellers import services as sellers
from marketplace.sellers.models import Seller, SellerKind, SellerStatus

SEED_DIR = PROJECT_ROOT / "seed"
NATIONAL_FILE = "regions-national.csv"  # made by seed/make_regions_national.py
DEFAULT_IMAGE_SIZE = 640
DEFAULT_CERTIFICATE_DAYS = 540

Progress = Callable[[int], None]
ProgressFactory = Callable[[str, int], AbstractContextManager[Progress]]

# the households' share of a sale (basis points of the net line) unless sellers.toml gives one:
# a household shop's sales are its household's; cooperatives and enterprises pass on a part
DEFAULT_SHARE_BP = {"household_shop": 10000, "cooperative": 3000, "enterprise": 1500}


@contextmanager
def no_progress(label: str, total: int) -> Iterator[Progress]:
    yield lambda n=1: None


class SeedDataError(RuntimeError):
    """The files in seed/ are inconsistent (a bug in the demo data, not in user input)."""


@dataclass
class Tally:
    created: int = 0
    skipped: int = 0  # already there: left as it is


@dataclass
class DemoAccount:
    login: str
    roles: list[str]
    note: str


@dataclass
class SeedReport:
    password: str = ""
    tallies: dict[str, Tally] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)
    new_files: list[str] = field(default_factory=list)

    def tally(self, label: str) -> Tally:
        return self.tallies.setdefault(label, Tally())


@dataclass
class DemoData:
    regions_csv: str
    accounts: dict
    households: dict
    sellers: list[dict]
    products: list[dict]
    orders: dict = field(default_factory=dict)  # seed/orders.toml (none: no demo orders)
    units: dict = field(default_factory=dict)  # seed/units.toml (none: no demo units)
    reports: dict = field(default_factory=dict)  # seed/reports.toml (a fair, a ranking)
    # seed/regions-national.csv: every province, city and county (none: the demo's alone)
    national_csv: str = ""


def load_data(data_dir: Path | None = None) -> DemoData:
    folder = Path(data_dir or SEED_DIR)

    def toml(name: str) -> dict:
        with open(folder / name, "rb") as fh:
            return tomllib.load(fh)

    return DemoData(regions_csv=(folder / "regions.csv").read_text("utf-8-sig"),
                    accounts=toml("accounts.toml"), households=toml("households.toml"),
                    sellers=toml("sellers.toml")["sellers"],
                    products=toml("products.toml")["products"],
                    orders=toml("orders.toml") if (folder / "orders.toml").is_file() else {},
                    units=toml("units.toml") if (folder / "units.toml").is_file() else {},
                    reports=(toml("reports.toml") if (folder / "reports.toml").is_file()
                             else {}),
                    national_csv=_text(folder / NATIONAL_FILE))


def _text(path: Path) -> str:
    return path.read_text("utf-8-sig") if path.is_file() else ""


def seed_demo(session: Session, *, data_dir: Path | None = None,
              image_size: int = DEFAULT_IMAGE_SIZE,
              progress: ProgressFactory = no_progress) -> SeedReport:
    """Load everything into `session` (flushed, not committed). On failure, the picture files
    written so far are removed again; the caller rolls the session back."""
    data = load_data(data_dir)
    report = SeedReport(password=data.accounts["password"])
    loader = _Loader(session, data, report, image_size, progress)
    try:
        loader.run()
    except BaseException:
        folder = current_app.config["UPLOAD_FOLDER"]
        image_store.remove_files(folder, *report.new_files)
        raise
    return report


class _Loader:
    def __init__(self, session: Session, data: DemoData, report: SeedReport, image_size: int,
                 progress: ProgressFactory):
        self.session, self.data, self.report = session, data, report
        self.image_size, self.progress = image_size, progress
        self.users: dict[str, User] = {}
        self.sellers: dict[str, Seller] = {}

    def run(self) -> None:
        self.regions()
        self.accounts()
        self.households()
        self.seller_rows()
        self.staff()
        self.products()
        self.supply_lots()
        self.orders()
        self.units()
        self.reports()
        help_wishes.seed(self.session, self.report.tally("微心愿"))
        help_needs.seed(self.session, self.report.tally("帮扶需求"))
        help_pool.seed(self.session, self.report.tally("爱心资金池"))
        help_events.seed(self.session, self.report.tally("帮扶集市与直播"))
        self.session.flush()

    @property
    def admin(self) -> User:
        for spec in self.data.accounts["accounts"]:
            if "platform_admin" in spec["roles"]:
                return self.users[spec["login"]]
        raise SeedDataError("accounts.toml needs a platform_admin account")

    # ---- regions: through the CSV import (validated, all or nothing) -------------------------
    def regions(self) -> None:
        """The national provinces, cities and counties first, then the demo's tree (its
        counties are among them under the same codes and names; its townships and villages,
        where the households live, hang below)."""
        if self.data.national_csv:
            self._import_regions("全国省市县", self.data.national_csv)
        self._import_regions("地区", self.data.regions_csv)

    def _import_regions(self, label: str, text: str) -> None:
        rows = read_region_csv(text)
        existing = {code for code, in self.session.execute(
            select(Region.code).where(Region.code.in_([r.code for r in rows])))}
        new_rows = [r for r in rows if r.code not in existing]
        tally = self.report.tally(label)
        tally.skipped += len(rows) - len(new_rows)
        with self.progress(label, len(rows)) as step:
            step(len(rows) - len(new_rows))
            if new_rows:
                tally.created += import_rows(self.session, new_rows, progress=step).created

    # ---- accounts: through registration (login and password checks) --------------------------
    def accounts(self) -> None:
        password = self.data.accounts["password"]
        tally = self.report.tally("账号")
        specs = self.data.accounts["accounts"]
        with self.progress("账号", len(specs)) as step:
            for spec in specs:
                login = spec["login"]
                user = find_by_login(self.session, login)
                if user is None:
                    plain = [Role(r) for r in spec["roles"]
                             if r not in (Role.seller_staff, Role.office)]
                    user = register_user(self.session, Registration(login, password, spec["name"]),
                                         roles=tuple(plain))
                    if Role.office in spec["roles"]:
                        region = get_by_code(self.session, spec["region"])
                        grant_role(self.session, user, Role.office, region_id=region.id)
                    tally.created += 1
                else:
                    tally.skipped += 1
                self.users[login] = user
                if spec.get("show"):
                    self.report.accounts.append(DemoAccount(login, list(spec["roles"]),
                                                            spec.get("note", "")))
                step(1)

    # ---- households: bulk insert, each ID number validated and hashed -------------------------
    def households(self) -> None:
        villages = [r.code for r in read_region_csv(self.data.regions_csv) if len(r.code) == 12]
        plans = plan_households(villages, self.data.households)
        key = current_app.config["HOUSEHOLD_ID_HASH_KEY"]
        existing = set(self.session.scalars(select(Household.code).where(
            Household.code.in_([p.code for p in plans]))))
        todo = [p for p in plans if p.code not in existing]
        hashes = {p.code: id_number_hash(p.id_number, key) for p in todo}
        taken = set(self.session.scalars(select(Household.id_hash).where(
            Household.id_hash.in_(list(hashes.values()))))) if hashes else set()
        village_ids = dict(self.session.execute(select(Region.code, Region.id).where(
            Region.code.in_(villages))).all())
        tally = self.report.tally("帮扶对象")
        tally.skipped += len(plans) - len(todo)
        with self.progress("帮扶对象", len(plans)) as step:
            step(len(plans) - len(todo))
            for plan in todo:
                if normalize_id_number(plan.id_number) != plan.id_number:
                    raise SeedDataError(f"invalid demo ID number for {plan.code}")
                if hashes[plan.code] in taken:  # registered by hand with the same number
                    tally.skipped += 1
                    step(1)
                    continue
                liaison = self.users[plan.liaison_login]
                self.session.add(Household(
                    code=plan.code, village_id=village_ids[plan.village_code],
                    head_name=plan.head_name, id_hash=hashes[plan.code],
                    id_last4=plan.id_number[-4:], size=plan.size,
                    status=HouseholdStatus(plan.status), liaison_id=liaison.id,
                    registered_by_id=liaison.id))
                tally.created += 1
                step(1)
            self.session.flush()

    # ---- sellers and cooperative members -------------------------------------------------------
    def seller_rows(self) -> None:
        tally, members = self.report.tally("经营主体"), self.report.tally("合作社成员")
        with self.progress("经营主体", len(self.data.sellers)) as step:
            for spec in self.data.sellers:
                seller = self.session.scalar(select(Seller).where(Seller.name == spec["name"]))
                if seller is None:
                    seller = self._new_seller(spec)
                    tally.created += 1
                    if spec.get("members"):
                        members.created += self._members(seller, spec)
                else:
                    tally.skipped += 1
                    members.skipped += len(seller.members)
                self.sellers[spec["key"]] = seller
                step(1)

    def _new_seller(self, spec: dict) -> Seller:
        kind = SellerKind(spec["kind"])
        credit_code = None
        household = None
        if kind == SellerKind.household_shop:
            ref = spec["household"]
            code = household_code(ref["village"], int(ref["seq"]))
            household = self.session.scalar(select(Household).where(Household.code == code))
            if household is None:
                raise SeedDataError(f"{spec['name']}: household {code} is not in the demo data")
        else:
            credit_code = normalize_credit_code(spec["credit_code"])
            if credit_code is None:
                raise SeedDataError(f"{spec['name']}: invalid credit code {spec['credit_code']}")
        mobile = normalize_mobile(spec["contact_mobile"])
        if mobile is None:
            raise SeedDataError(f"{spec['name']}: invalid mobile {spec['contact_mobile']}")
        status = SellerStatus(spec.get("status", "verified"))
        applicant = self.users.get(spec.get("applicant", ""))
        seller = Seller(kind=kind, name=spec["name"], credit_code=credit_code, household=household,
                        region=get_by_code(self.session, spec["region"]),
                        contact_name=spec["contact_name"], contact_mobile=mobile,
                        description=spec.get("description", "").strip(), status=status,
                        verified_at=now_utc() if status == SellerStatus.verified else None,
                        applicant_id=applicant.id if applicant else None,
                        household_share_bp=spec.get("household_share_bp",
                                                    DEFAULT_SHARE_BP[kind]))
        self.session.add(seller)
        self.session.flush()
        return seller

    def _members(self, seller: Seller, spec: dict) -> int:
        rule = spec["members"]
        codes = self._village_households(rule["villages"])
        rng = random.Random(spec["key"])
        chosen = sorted(rng.sample(codes, min(int(rule["count"]), len(codes))))
        for code in chosen:
            weight = rng.randint(int(rule.get("weight_min", 1)), int(rule.get("weight_max", 1)))
            sellers.set_member(self.session, self.admin, seller, code, weight)
        return len(chosen)

    def _village_households(self, villages: list[str]) -> list[str]:
        prefixes = tuple("D" + v for v in villages)
        return sorted(c for c in self.session.scalars(select(Household.code).where(
            Household.code.like("D%"))) if c.startswith(prefixes))

    # ---- supply lots (through ledger.lots, as a seller records them) -------------------------
    def supply_lots(self) -> None:
        tally = self.report.tally("收购批次")
        specs = [s for s in self.data.sellers if s.get("lots")]
        with self.progress("收购批次", len(specs)) as step:
            for spec in specs:
                seller = self.sellers[spec["key"]]
                if self.session.scalar(select(SupplyLot.id).where(
                        SupplyLot.seller_id == seller.id).limit(1)):
                    tally.skipped += 1
                else:
                    tally.created += self._lots(seller, spec)
                step(1)

    def _lots(self, seller: Seller, spec: dict) -> int:
        """A cooperative buys from its members; an enterprise from households of the lots'
        villages, each made one of its linked households first (a lot names one of the seller's
        own households)."""
        rule = spec["lots"]
        rng = random.Random("lots-" + spec["key"])
        linking = seller.kind == SellerKind.enterprise
        codes = (self._village_households(rule["villages"]) if linking
                 else sorted(m.household.code for m in seller.members))
        products = list(self.session.scalars(select(Product).where(
            Product.seller_id == seller.id).order_by(Product.sku)))
        made, today = 0, today_china()
        for index, product in enumerate(products):
            guarantee = product.price_fen * int(rule["guarantee_pct"]) // 100
            supply.set_product_terms(self.session, self.admin, product, lot_backed=True,
                                     guaranteed_price=guarantee)
            chosen = rng.sample(codes, min(int(rule["count"]), len(codes)))
            for n, code in enumerate(chosen):
                if linking:
                    sellers.set_member(self.session, self.admin, seller, code, 1)
                price = product.price_fen * (int(rule["purchase_pct"]) + rng.randint(0, 5)) // 100
                if rule.get("below") and index == 0 and n == len(chosen) - 1:
                    price = guarantee * 9 // 10  # the one the offices are told about
                supply.record_lot(self.session, self.admin, seller, supply.LotInput(
                    product.id, code, rng.randint(10, 40), price,
                    today - timedelta(days=60 - 8 * n)))
                made += 1
        return made

    # ---- demo orders: bought, paid and refunded through the real services -------------------
    def orders(self) -> None:
        if not self.data.orders:
            return
        tally = self.report.tally("演示订单")
        seeder = demo_orders.OrderSeeder(self.session, self.data.orders, self.users, self.admin,
                                         now_utc())
        existing = seeder.existing()
        if existing:
            tally.skipped += existing
            return
        todo = demo_orders.steps(demo_orders.plan(self.data.orders, seeder.eligible_skus(),
                                                  seeder.now), self.data.orders, seeder.now)
        with self.progress("演示订单", len(todo)) as step:
            tally.created += seeder.run(step, todo)

    # ---- demo units, filings and group purchases, through the real services -------------------
    def units(self) -> None:
        if not self.data.units:
            return
        tally = self.report.tally("演示单位")
        seeder = demo_units.UnitSeeder(self.session, self.data.units, self.users, self.admin,
                                       self.data.accounts["password"], now_utc())
        if seeder.loaded():
            tally.skipped += len(self.data.units["units"])
            return
        with self.progress("演示单位与团购", seeder.steps()) as step:
            tally.created += seeder.run(step)

    # ---- the reports' demo: a fair's offline sales last month, a published ranking -----------
    def reports(self) -> None:
        if not self.data.reports:
            return
        tally = self.report.tally("线下销售与考核")
        seeder = demo_reports.ReportSeeder(self.session, self.data.reports, self.users,
                                           self.sellers, now_utc())
        if seeder.loaded():
            tally.skipped += len(seeder.sales())
            return
        with self.progress("线下销售与考核", len(seeder.sales()) + 1) as step:
            tally.created += seeder.run(step)

    # ---- seller staff: demo accounts, and the liaisons of household shops ---------------------
    def staff(self) -> None:
        tally = self.report.tally("店员授权")
        wanted: list[tuple[User, Seller]] = []
        for spec in self.data.accounts["accounts"]:
            if spec.get("seller"):
                wanted.append((self.users[spec["login"]], self.sellers[spec["seller"]]))
        for seller in self.sellers.values():
            if seller.kind == SellerKind.household_shop and seller.household.liaison_id:
                wanted.append((self.session.get(User, seller.household.liaison_id), seller))
        for user, seller in wanted:
            if seller.id in user.seller_ids():
                tally.skipped += 1
            else:
                grant_role(self.session, user, Role.seller_staff, seller_id=seller.id)
                tally.created += 1

    # ---- products: created, pictured and reviewed through the catalogue services --------------
    def products(self) -> None:
        specs = self.data.products
        tally, pictures = self.report.tally("商品"), self.report.tally("商品图片")
        existing = set(self.session.scalars(select(Product.sku).where(
            Product.sku.in_([p["sku"] for p in specs]))))
        now = now_utc()
        with self.progress("商品及图片", len(specs)) as step:
            for index, spec in enumerate(specs):
                if spec["sku"] in existing:
                    tally.skipped += 1
                    pictures.skipped += int(spec.get("images", 1))
                else:
                    # older entries of the file were listed earlier: "newest" shows the file's end
                    listed_at = now - timedelta(hours=3 * (len(specs) - index))
                    pictures.created += self._product(spec, listed_at)
                    tally.created += 1
                step(1)

    def _product(self, spec: dict, listed_at) -> int:
        admin = self.admin
        seller = self.sellers[spec["seller"]]
        certificate = spec.get("certificate", "")
        until = (today_china() + timedelta(days=int(spec.get("certificate_days",
                                                             DEFAULT_CERTIFICATE_DAYS)))
                 if certificate else None)
        product = catalog.create_product(self.session, admin, seller, catalog.ProductInput(
            name=spec["name"], category=spec["category"], spec=spec.get("spec", ""),
            description=spec.get("description", "").strip(), price=spec["price"],
            stock=spec["stock"], origin_code=spec["origin"], certificate_no=certificate,
            certificate_valid_until=until))
        product.sku = spec["sku"]
        region = self.session.get(Region, product.origin_id)
        uploads = []
        for n in range(int(spec.get("images", 1))):
            caption = spec["name"] if n == 0 else f"产地：{region.short_place}"
            uploads.append(catalog.UploadedImage(f"{spec['sku']}-{n + 1}.jpg", artwork.render(
                spec["name"], spec["category"], art=spec.get("art"), caption=caption,
                size=self.image_size, seed=spec["sku"], variant=n)))
        images = catalog.add_images(self.session, admin, product, uploads) if uploads else []
        for image in images:
            self.report.new_files += [image.filename, image.thumb_filename]
        status = ProductStatus(spec.get("status", "listed"))
        if status in (ProductStatus.pending, ProductStatus.listed):
            catalog.submit_for_review(self.session, admin, product)
            product.submitted_at = listed_at - timedelta(hours=1)
        if status == ProductStatus.listed:
            catalog.approve(self.session, admin, product, certificate_checked=bool(certificate))
            product.listed_at = listed_at
            product.featured = bool(spec.get("featured"))
        self.session.flush()
        return len(images)
