"""Demo units (seed/units.toml): applied for, verified, joined by invite code, filed and reviewed,
counted toward, and group purchases opened, joined, paid and closed, all through the real
services, so that every figure on the unit, office and campaign pages is what real use makes.

Loaded once: when the first unit's credit code exists the step is skipped. Times are passed to
the services explicitly (a closed campaign was opened and joined weeks ago and closes now), so
the ledger's entries still come in the order of their times.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.services import Registration, find_by_login, register_user
from marketplace.catalog.models import Product
from marketplace.core.money import parse_yuan
from marketplace.core.roles import Role
from marketplace.core.time import CHINA
from marketplace.notifications.models import Notification
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments.capture import record_payment
from marketplace.payments.providers import SimulatedProvider
from marketplace.units import campaigns, filings, participations, roster, settlement
from marketplace.units import services as units
from marketplace.units.models import Unit
from marketplace.units.rules import Tier

PROVIDERS = {"simulated": SimulatedProvider()}


class UnitSeeder:
    def __init__(self, session: Session, data: dict, users: dict[str, User], admin: User,
                 password: str, now: datetime):
        self.session, self.data, self.users = session, data, users
        self.admin, self.password, self.now = admin, password, now
        self.units: dict[str, Unit] = {}

    def loaded(self) -> bool:
        first = self.data["units"][0]["credit_code"]
        return self.session.scalar(select(Unit.id).where(Unit.credit_code == first)) is not None

    def steps(self) -> int:
        data = self.data
        return (data["member_count"] + len(data["units"]) + len(data.get("counted", []))
                + len(data.get("campaigns", [])))

    def run(self, step) -> int:
        """Load everything; the notifications the steps leave are marked read (a demo account
        should not start with dozens of unread messages)."""
        before = self.session.scalar(select(func.max(Notification.id))) or 0
        made = 0
        for i in range(1, self.data["member_count"] + 1):
            self._user(f"{self.data['member_prefix']}{i:02d}", f"单位职工{i:02d}")
            step()
        for spec in self.data["units"]:
            self._unit(spec)
            made += 1
            step()
        for spec in self.data.get("counted", []):
            self._counted(spec)
            step()
        for spec in self.data.get("campaigns", []):
            self._campaign(spec)
            step()
        login, nickname = self.data.get("nickname", ["", ""])
        if login:
            roster.set_board_nickname(self.session, self._login(login), nickname)
        self.session.execute(update(Notification).where(Notification.id > before)
                             .values(read_at=self.now))
        self.session.flush()
        return made

    # ---- people -------------------------------------------------------------------------------
    def _login(self, name: str) -> User:
        login = name if "@" in name else f"{name}@demo.test"
        user = self.users.get(login) or find_by_login(self.session, login)
        if user is None:
            raise RuntimeError(f"seed/units.toml: no account {login}")
        self.users[login] = user
        return user

    def _user(self, name: str, display: str) -> User:
        login = f"{name}@demo.test"
        user = find_by_login(self.session, login)
        if user is None:
            user = register_user(self.session, Registration(login, self.password, display),
                                 roles=(Role.buyer,))
        self.users[login] = user
        return user

    # ---- units: apply, verify, invite, join, file, review ------------------------------------
    def _unit(self, spec: dict) -> None:
        session, now = self.session, self.now
        admin = self._login(spec["admin"])
        unit = units.apply(session, admin, units.UnitApplication(
            kind=spec["kind"], name=spec["name"], credit_code=spec["credit_code"],
            region_code=spec["region"], contact_name=admin.display_name[:32],
            contact_mobile="13807390000", address_detail=spec["address"]))
        units.verify(session, self.admin, unit)
        code = roster.new_invite(session, admin, unit, now=now)
        for name in spec.get("members", []):
            roster.join(session, self._login(name), unit, code, now=now)
        if spec.get("on_leaderboard"):
            roster.set_leaderboard(session, admin, unit, True)
        self.units[spec["key"]] = unit
        filing = spec.get("filing")
        if filing:
            year = now.astimezone(CHINA).year
            config = current_app.config
            filed = filings.submit(session, admin, unit, filings.FilingInput(
                year=year, canteen_spend_fen=parse_yuan(filing["canteen_spend"]),
                reserved_share_bp=filings.parse_percent(filing["share_percent"])),
                now=now - timedelta(days=200), default_bp=config["UNIT_RESERVE_MIN_BP"])
            office = self._login("office@demo.test")
            filings.review(session, office, filed, "approve" if filing["decision"] == "approved"
                           else "send_back", filing.get("reason", ""),
                           now=now - timedelta(days=190))

    # ---- orders counted toward a unit ----------------------------------------------------------
    def _sku(self, sku: str) -> Product:
        product = self.session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            raise RuntimeError(f"seed/units.toml: no product {sku}")
        return product

    def _counted(self, spec: dict) -> None:
        buyer, unit = self._login(spec["buyer"]), self.units[spec["unit"]]
        lines = [LineInput(self._sku(sku).id, q) for sku, q in spec["lines"]]
        address = None if spec["channel"] == "unit_purchase" else self._address(unit)
        made = units.checkout_for_unit(
            self.session, buyer, lines, address, channel=spec["channel"], unit_id=unit.id,
            idempotency_key=f"demo-unit-{unit.id}-{buyer.id}-{len(lines)}",
            purpose=spec.get("purpose", ""), now=self.now - timedelta(days=6))
        for order in made:
            record_payment(self.session, order, provider="simulated",
                           reference=f"sim-demo-unit-{order.id}", amount_fen=order.total_fen,
                           currency="CNY", now=self.now - timedelta(days=6, minutes=-3))

    @staticmethod
    def _address(unit: Unit) -> AddressInput:
        return AddressInput("王职工", "13807391234", unit.region.code, unit.address_detail)

    # ---- group purchases -------------------------------------------------------------------------
    def _campaign(self, spec: dict) -> None:
        session, now = self.session, self.now
        unit = self.units[spec["unit"]]
        opener = self._login(next(s["admin"] for s in self.data["units"]
                                  if s["key"] == spec["unit"]))
        opened = now - timedelta(days=spec["opened"])
        products = [campaigns.ProductTerms(self._sku(sku).id, [Tier(q, parse_yuan(price))
                                                               for q, price in tiers])
                    for sku, tiers in spec["products"]]
        campaign = campaigns.open_campaign(session, opener, campaigns.CampaignInput(
            unit_id=unit.id, title=spec["title"], products=products,
            minimum_quantity=spec["minimum"], per_person_limit=spec["per_person_limit"],
            deadline=now + timedelta(days=spec["deadline"]), delivery=spec["delivery"],
            audience=spec["audience"], starts_at=opened), now=opened)
        for i, (name, sku, quantity) in enumerate(spec["joins"]):
            person, at = self._login(name), opened + timedelta(hours=2 + 5 * i)
            part = participations.join(session, person, campaign, [LineInput(self._sku(sku).id,
                                                                        quantity)],
                                  self._address(unit), idempotency_key=f"demo-join-{i:03d}",
                                  now=at)
            if campaign.delivery == "individual":
                participations.pay(session, person, part, PROVIDERS, now=at + timedelta(minutes=2))
        if spec["deadline"] < 0:
            settlement.close(session, campaign, PROVIDERS, now=now)
