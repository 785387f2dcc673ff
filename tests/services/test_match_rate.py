"""The match rate (对接率) of needs: matched / approved by region, category and period (China
dates), with the median hours to review and to a match; and as the ranking's fifth indicator.
Both engines."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.core.errors import ValidationFailed
from marketplace.help.needs import matching
from marketplace.help.needs.matching import match_report, median_hours
from marketplace.help.needs.models import Need, NeedCategory, NeedKind, NeedStatus, NeedWhat
from marketplace.regions.models import Region
from marketplace.reports import assessment, periods
from marketplace.reports.assessment import DEFAULT_WEIGHTS, Weights
from tests.fixtures.factories import make_household, make_user

NOVEMBER = periods.month(2026, 11)
HONGXI, GULOU, XUPU = "430525101201", "430525101202", "431224210201"


def _region(session, code):
    return session.scalar(select(Region).where(Region.code == code))


def add_need(session, household, poster, *, posted, reviewed=None, approved=True, matched=None,
             category=NeedCategory.education, kind=NeedKind.need, status=None) -> Need:
    """A need posted, reviewed (approved unless `approved` is False) and matched at those
    times (hours after posting when given as numbers)."""
    def at(value):
        return posted + timedelta(hours=value) if isinstance(value, (int, float)) else value
    reviewed, matched = at(reviewed), at(matched)
    if status is None:
        status = (NeedStatus.pending if reviewed is None else
                  NeedStatus.sent_back if not approved else
                  NeedStatus.claimed if matched else NeedStatus.open)
    need = Need(kind=kind, household_id=household.id, village_id=household.village_id,
                category=category, title="书包和文具", what=NeedWhat.items,
                items=[{"name": "书包", "quantity": 1, "unit": "个"}],
                expires_on=date(2027, 3, 1), status=status, posted_by_id=poster.id,
                posted_at=posted, reviewed_at=reviewed,
                approved_at=reviewed if approved else None, matched_at=matched)
    session.add(need)
    session.flush()
    return need


@pytest.fixture
def needs(session):
    poster = make_user(session, "liaison")
    a = make_household(session, village_code=HONGXI, n=501, liaison=poster)
    b = make_household(session, village_code=GULOU, n=502, liaison=poster)
    c = make_household(session, village_code=XUPU, n=503)
    nov = datetime(2026, 11, 3, 2, tzinfo=UTC)
    # 洪溪村: three approved in November (two matched), one of them a wish
    add_need(session, a, poster, posted=nov, reviewed=2, matched=10)
    add_need(session, a, poster, posted=nov, reviewed=4, matched=30,
             category=NeedCategory.medical)
    add_need(session, a, poster, posted=nov, reviewed=6, kind=NeedKind.wish)
    # 古楼村: one approved in November, unmatched; one sent back; one withdrawn (not counted)
    add_need(session, b, poster, posted=nov, reviewed=8)
    add_need(session, b, poster, posted=nov, reviewed=1, approved=False)
    add_need(session, b, poster, posted=nov, reviewed=1, status=NeedStatus.withdrawn)
    # approved on 31 October 23:00 China time (15:00 UTC): October's, matched in November
    add_need(session, b, poster, posted=datetime(2026, 10, 31, 5, tzinfo=UTC),
             reviewed=datetime(2026, 10, 31, 15, tzinfo=UTC),
             matched=datetime(2026, 11, 2, 5, tzinfo=UTC))
    # approved on 1 December 00:30 China time (30 November 16:30 UTC): December's
    add_need(session, b, poster, posted=datetime(2026, 11, 30, 10, tzinfo=UTC),
             reviewed=datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    # 溆浦县 (another county)
    add_need(session, c, poster, posted=nov, reviewed=3, matched=5)
    session.flush()
    return {"poster": poster, "households": (a, b, c)}


def test_the_county_by_village_and_category(session, needs):
    county = _region(session, "430525")
    found = match_report(session, county, NOVEMBER.start, NOVEMBER.end)
    assert (found.total.approved, found.total.matched) == (4, 2)
    assert found.total.match_rate_bp == 5000
    # reviewed in November: 2, 4, 6, 8, 1 (sent back), 1 (withdrawn) hours
    assert found.total.median_hours_to_review == 3.0
    # matched in November: 10, 30 hours, and October's 48 hours
    assert found.total.median_hours_to_match == 30.0
    assert [r.key for r in found.by_region] == ["430525101"]  # 月溪镇, the township
    township = match_report(session, _region(session, "430525101"), NOVEMBER.start,
                            NOVEMBER.end)
    rows = {r.key: r for r in township.by_region}
    assert rows[HONGXI].name == "洪溪村"
    assert (rows[HONGXI].figures.approved, rows[HONGXI].figures.matched) == (3, 2)
    assert rows[HONGXI].figures.match_rate_bp == 6667  # 2/3 rounded half up
    assert (rows[GULOU].figures.approved, rows[GULOU].figures.matched) == (1, 0)
    assert rows[GULOU].figures.match_rate_bp == 0
    categories = {r.key: r.figures for r in found.by_category}
    assert list(categories) == [c.value for c in NeedCategory]
    assert (categories["education"].approved, categories["education"].matched) == (3, 1)
    assert (categories["medical"].approved, categories["medical"].matched) == (1, 1)
    assert categories["housing"].match_rate_bp is None


def test_kind_category_and_periods(session, needs):
    county = _region(session, "430525")
    wishes = match_report(session, county, NOVEMBER.start, NOVEMBER.end, kind="wish")
    assert (wishes.total.approved, wishes.total.matched) == (1, 0)
    medical = match_report(session, county, NOVEMBER.start, NOVEMBER.end, category="medical")
    assert (medical.total.approved, medical.total.matched) == (1, 1)
    assert [r.key for r in medical.by_category] == ["medical"]
    october = match_report(session, county, date(2026, 10, 1), date(2026, 10, 31))
    assert (october.total.approved, october.total.matched) == (1, 1)
    assert october.total.median_hours_to_match is None  # matched in November
    december = match_report(session, county, date(2026, 12, 1), date(2026, 12, 31))
    assert december.total.approved == 1
    everywhere = match_report(session, None, NOVEMBER.start, NOVEMBER.end)
    assert (everywhere.total.approved, everywhere.total.matched) == (5, 3)
    assert {r.key for r in everywhere.by_region} == {"43"}
    nothing = match_report(session, county, date(2025, 1, 1), date(2025, 1, 31))
    assert nothing.total.match_rate_bp is None and nothing.by_region == []
    assert nothing.total.median_hours_to_review is None


def test_medians():
    assert median_hours([]) is None
    assert median_hours([3600]) == 1.0
    assert median_hours([3600, 7200]) == 1.5
    assert median_hours([0, 1, 7200 * 10]) == 0.0
    assert median_hours([180]) == 0.1  # 0.05 h rounds half up
    assert median_hours([179]) == 0.0


# ---- the property -----------------------------------------------------------------------------

HOURS = st.one_of(st.none(), st.integers(0, 24 * 90))
NEEDS = st.lists(st.tuples(st.integers(0, 24 * 60),  # posted, hours after 1 October 00:00 UTC
                           HOURS, st.booleans(), HOURS,  # review after, approved, match after
                           st.sampled_from([HONGXI, GULOU]), st.sampled_from(list(NeedCategory))),
                 max_size=12)


def _median(values):
    values = sorted(values)
    if not values:
        return None
    n = len(values)
    middle = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    return matching.round_half_up(round(middle * 10 * 3600), 3600) / 10


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=NEEDS)
def test_random_needs_match_the_definition(session, specs):
    example = session.begin_nested()
    try:
        poster = make_user(session, "liaison")
        homes = {code: make_household(session, village_code=code, n=600 + i)
                 for i, code in enumerate((HONGXI, GULOU))}
        start = datetime(2026, 10, 1, tzinfo=UTC)
        made = []
        for posted_h, review_h, approved, match_h, village, category in specs:
            posted = start + timedelta(hours=posted_h)
            reviewed = None if review_h is None else posted + timedelta(hours=review_h)
            matched = (None if reviewed is None or not approved or match_h is None
                       else reviewed + timedelta(hours=match_h))
            made.append(add_need(session, homes[village], poster, posted=posted,
                                 reviewed=reviewed, approved=approved, matched=matched,
                                 category=category))
        since, until = matching.bounds(NOVEMBER.start, NOVEMBER.end)
        found = match_report(session, _region(session, "430525"), NOVEMBER.start, NOVEMBER.end)

        def within(t):
            return t is not None and since <= t < until
        approved = [n for n in made if within(n.approved_at)]
        matched = [n for n in approved if n.matched_at is not None]
        assert found.total.matched <= found.total.approved
        assert (found.total.approved, found.total.matched) == (len(approved), len(matched))
        assert found.total.match_rate_bp == (
            None if not approved else matching.round_half_up(len(matched) * 10000,
                                                             len(approved)))
        reviews = [(n.reviewed_at - n.posted_at).total_seconds() / 3600 for n in made
                   if within(n.reviewed_at)]
        matches = [(n.matched_at - n.posted_at).total_seconds() / 3600 for n in made
                   if within(n.matched_at)]
        assert found.total.median_hours_to_review == _median(reviews)
        assert found.total.median_hours_to_match == _median(matches)
        assert sum(r.figures.approved for r in found.by_category) == len(approved)
        assert sum(r.figures.matched for r in found.by_region) == len(matched)
    finally:
        example.rollback()


# ---- the ranking's fifth indicator ------------------------------------------------------------

def test_the_match_rate_ranks_villages(session, needs):
    township = _region(session, "430525101")
    found = assessment.ranking(session, township, NOVEMBER, Weights(0, 0, 0, 0, 100))
    rows = {r.code: r for r in found.rows}
    assert rows[HONGXI].indicators["match"] == 6667 and rows[GULOU].indicators["match"] == 0
    assert rows[HONGXI].score == 10000 and rows[GULOU].score == 0
    assert [r.code for r in found.rows] == [HONGXI, GULOU]
    assert DEFAULT_WEIGHTS == Weights(32, 24, 12, 12, 20)
    assert assessment.weights_for(session, township) == DEFAULT_WEIGHTS
    office = make_user(session, "office", region_obj=_region(session, "430525"))
    assessment.set_weights(session, office, township, Weights(0, 0, 0, 0, 100),
                           now=datetime(2026, 12, 1, tzinfo=UTC))  # the table's check has five
    session.flush()
    assert assessment.weights_for(session, township) == Weights(0, 0, 0, 0, 100)
    with pytest.raises(ValidationFailed):
        Weights(40, 30, 15, 15, 20).check()


def test_without_needs_the_match_rate_is_left_out(session, needs):
    """No sub-region with approved needs: the other four weights scaled to 100 (the default
    weights then score as the old 40/30/15/15 did)."""
    township = _region(session, "430525101")
    september = periods.month(2026, 9)
    found = assessment.ranking(session, township, september)
    old = assessment.ranking(session, township, september, Weights(40, 30, 15, 15))
    assert [(r.code, r.score) for r in found.rows] == [(r.code, r.score) for r in old.rows]
    assert all(r.indicators["match"] is None for r in found.rows)
    only = assessment.ranking(session, township, september, Weights(0, 0, 0, 0, 100))
    assert all(r.score == 0 for r in only.rows)


def test_published_rankings_keep_the_match_rate_and_old_ones_read(session, needs):
    township = _region(session, "430525101")
    office = make_user(session, "office", region_obj=_region(session, "430525"))
    published = assessment.publish(session, office, township, NOVEMBER,
                                   now=datetime(2026, 12, 1, tzinfo=UTC))
    session.flush()
    rows = {r.code: r for r in assessment.rows_of(published)}
    assert rows[HONGXI].indicators["match"] == 6667
    # a version published before the match rate: its rows have none, and read as such
    for row in published.rows:
        row.match_rate_bp = None
    session.flush()
    assert all(r.indicators["match"] is None for r in assessment.rows_of(published))
