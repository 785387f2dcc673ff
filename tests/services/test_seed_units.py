"""The demo's units, filings and group purchases (issue 16, point 10), loaded by `flask seed
demo` through the real services, on both engines (the demo seeded once: tests.fixtures.demo)."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.accounts.services import find_by_login
from marketplace.core import policy
from marketplace.core.time import now_utc, today_china
from marketplace.extensions import db
from marketplace.ledger import chain
from marketplace.units import campaigns, counting, rules
from marketplace.units.models import (
    Campaign,
    CampaignStatus,
    FilingStatus,
    Unit,
    UnitFiling,
    UnitKind,
    UnitMember,
)


def test_demo_units_filings_and_campaigns(demo_app):
    with demo_app.app_context():
        session = db.session
        year = today_china().year
        unit_admin = find_by_login(session, "unit@demo.test")
        finance = session.scalar(select(Unit).where(Unit.name == "洞口县财政局"))
        assert finance.kind == UnitKind.budget and finance.region.code == "430525"
        assert finance.id in campaigns.admin_unit_ids(session, unit_admin)
        office = find_by_login(session, "office@demo.test")
        assert policy.office_covers(office, finance.office_region)
        filings = {f.year: f for f in session.scalars(
            select(UnitFiling).where(UnitFiling.unit_id == finance.id))}
        assert filings[year].status == FilingStatus.approved and year + 1 not in filings
        counted = counting.counted_in_year(session, [finance.id], year)[finance.id]
        assert 0 < rules.progress_bp(counted, filings[year].reserved_fen) < 10000
        buyer2 = find_by_login(session, "buyer2@demo.test")
        assert session.scalar(select(UnitMember).where(UnitMember.unit_id == finance.id,
                                                       UnitMember.user_id == buyer2.id)) is None
        by_status = {u.name: f.status for f, u in session.execute(
            select(UnitFiling, Unit).join(Unit, Unit.id == UnitFiling.unit_id)
            .where(UnitFiling.year == year))}
        assert by_status["洞口县教育局"] == FilingStatus.sent_back
        assert "洞口县农业农村局" not in by_status  # overdue: nothing filed after 31 March
        kinds = set(session.scalars(select(Unit.kind)))
        assert {UnitKind.enterprise, UnitKind.union} <= kinds
        states = {c.title: c for c in session.scalars(select(Campaign))}
        assert sorted(c.status for c in states.values()) == sorted(
            [CampaignStatus.open, CampaignStatus.succeeded, CampaignStatus.failed])
        open_one = next(c for c in states.values() if c.status == CampaignStatus.open)
        state = campaigns.fill(session, open_one, now_utc())
        product = state.products[0]
        assert product.current_tier is not None and product.next_tier is not None
        assert product.next_tier[1] <= 3  # a few units short of its next price
        assert session.scalar(select(func.count()).select_from(Campaign)) == 3
        assert chain.verify(session).ok
