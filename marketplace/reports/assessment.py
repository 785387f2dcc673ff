"""The monthly assessment and quarterly ranking of sub-regions (一月一考核、一季度一排名).

Indicators of each sub-region one level under the office's region, for a period:

- `income`: attributed income per registered household (fen);
- `coverage`: households reached / registered (bp);
- `growth`: attributed income against the period before (bp; none when it had nothing);
- `units`: budget units' reserved-share progress for the period's year, counted / reserved of
  the verified budget units placed in the sub-region with a filing that is not sent back (bp,
  capped at 100%; none without such units);
- `match`: the match rate (对接率) of the needs and micro-wishes approved in the period, matched /
  approved (bp; none without approved needs: help.needs.matching).

Each indicator is scaled over the sub-regions to 0..10000 (the best is 10000, the lowest 0;
all equal: 10000; none: 0), the score is the office's weighted sum (percent weights summing to
100), in hundredths of a point (0..10000 is 0.00..100.00). Equal scores share a rank (1, 1, 3).
Where no sub-region has any approved need (the help side not used there yet), the match rate
is left out and the score is the other weights' sum scaled to 100 (with the default weights,
whose first four keep the old 40/30/15/15 in proportion, the scores are then those of before).
`previous_rank` is the rank in the period before with the same weights.

`publish` keeps a ranking as published: rows written once, version 1, 2, ... per region and
period; never updated (versions published before the match rate have none: shown as such). Every weight change and publication is in the audit trail.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.audit import services as audit
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.help.needs import matching
from marketplace.regions.models import Region
from marketplace.reports import figures, periods, shapes
from marketplace.reports.models import Assessment, AssessmentRow, AssessmentWeights
from marketplace.reports.periods import Period
from marketplace.units import counting
from marketplace.units.models import FilingStatus, Unit, UnitFiling, UnitKind, UnitStatus

INDICATORS = ("income", "coverage", "growth", "units", "match")
INDICATOR_LABELS = {"income": "户均归属收入", "coverage": "覆盖率", "growth": "环比增长",
                    "units": "单位预留份额完成率", "match": "需求对接率"}
FULL = 10000


@dataclass(frozen=True)
class Weights:
    """Percent weights of the indicators. `Weights()` (and four values) is the weighting of
    before the match rate (match 0); an office without its own weights has DEFAULT_WEIGHTS."""
    income: int = 40
    coverage: int = 30
    growth: int = 15
    units: int = 15
    match: int = 0

    def check(self) -> Weights:
        values = [self.income, self.coverage, self.growth, self.units, self.match]
        if any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 100
               for v in values):
            raise ValidationFailed("每项权重应为 0 到 100 的整数", field="weights")
        if sum(values) != 100:
            raise ValidationFailed(Msg("各项权重之和应为 100，现为 %(n)s", n=sum(values)),
                                   field="weights")
        return self


# the old four (40/30/15/15) in proportion (x 0.8) and the match rate 20
DEFAULT_WEIGHTS = Weights(32, 24, 12, 12, 20)


@dataclass
class RankRow:
    code: str
    name: str
    rank: int
    previous_rank: int | None
    score: int  # hundredths of a point
    indicators: dict[str, int | None]  # income (fen), coverage, growth, units, match (bp)
    attributed_fen: int = 0
    reached: int = 0
    registered: int = 0

    @property
    def rank_change(self) -> int | None:
        """Places gained (> 0) or lost (< 0) since the period before."""
        return None if self.previous_rank is None else self.previous_rank - self.rank


@dataclass
class Ranking:
    region: Region | None
    period: Period
    weights: Weights
    rows: list[RankRow] = field(default_factory=list)


# ---- weights ------------------------------------------------------------------------------------

def weights_for(session: Session, region: Region | None) -> Weights:
    row = session.get(AssessmentWeights, region.id) if region is not None else None
    if row is None:
        return DEFAULT_WEIGHTS
    return Weights(row.income_weight, row.coverage_weight, row.growth_weight, row.units_weight,
                   row.match_weight)


def set_weights(session: Session, actor, region: Region, weights: Weights, *,
                now: datetime) -> Weights:
    """The office's weights for its region (audited)."""
    weights.check()
    before = weights_for(session, region)
    values = {"income_weight": weights.income, "coverage_weight": weights.coverage,
              "growth_weight": weights.growth, "units_weight": weights.units,
              "match_weight": weights.match, "updated_by": actor.id, "updated_at": now}
    row = session.get(AssessmentWeights, region.id)
    if row is None:
        session.add(AssessmentWeights(region_id=region.id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    audit.record(session, actor, "assessment_weights_set", "region", region.id,
                 before=asdict(before), after=asdict(weights))
    return weights


# ---- ranking ------------------------------------------------------------------------------------

def _units_progress(session: Session, region: Region | None, year: int,
                    depth: int) -> dict[str, int]:
    """Sub-region code -> counted / reserved (bp, capped) of its budget units' filings."""
    place = Region
    rows = session.execute(
        select(Unit.id, place.path, UnitFiling.reserved_fen)
        .join(place, place.id == Unit.region_id)
        .join(UnitFiling, (UnitFiling.unit_id == Unit.id) & (UnitFiling.year == year))
        .where(Unit.kind == UnitKind.budget, Unit.status == UnitStatus.verified,
               UnitFiling.no_canteen.is_(False), UnitFiling.reserved_fen > 0,
               UnitFiling.status != FilingStatus.sent_back,
               shapes.within(place.path, region))).all()
    counted = counting.counted_in_year(session, [r[0] for r in rows], year)
    reserved: dict[str, int] = {}
    got: dict[str, int] = {}
    for unit_id, path, fen in rows:
        code = shapes.child_key(path, depth)
        reserved[code] = reserved.get(code, 0) + int(fen)
        got[code] = got.get(code, 0) + min(counted.get(unit_id, 0), int(fen))
    return {code: min(FULL, periods.share_bp(got[code], reserved[code])) for code in reserved}


def _scaled(values: dict[str, int | None]) -> dict[str, int]:
    """Each value scaled to 0..FULL between the lowest and the highest (None: 0)."""
    present = [v for v in values.values() if v is not None]
    if not present:
        return dict.fromkeys(values, 0)
    low, high = min(present), max(present)
    return {k: 0 if v is None else (FULL if high == low else
                                    periods.round_half_up((v - low) * FULL, high - low))
            for k, v in values.items()}


def _ranks(scores: Sequence[int]) -> list[int]:
    """Competition ranks of scores, highest first (equal scores share a rank)."""
    return [1 + sum(1 for other in scores if other > s) for s in scores]


def _score(session: Session, region: Region | None, period: Period,
           weights: Weights) -> list[RankRow]:
    now = figures.report(session, region, period, trend_months=0)
    before = figures.report(session, region, periods.previous(period), trend_months=0)
    depth = len(region.path_codes) if region is not None else 0
    units = _units_progress(session, region, period.end.year, depth)
    matches = matching.match_rates(session, region, period.start, period.end)
    earlier = {c.key: c.figures.attributed_fen for c in before.children}
    kids = [c for c in now.children if not c.own]
    values = {
        "income": {c.key: c.figures.per_registered_fen for c in kids},
        "coverage": {c.key: c.figures.coverage_bp for c in kids},
        "growth": {c.key: periods.change_bp(c.figures.attributed_fen, earlier.get(c.key, 0))
                   for c in kids},
        "units": {c.key: units.get(c.key) for c in kids},
        "match": {c.key: matches.get(c.key) for c in kids},
    }
    scaled = {name: _scaled(values[name]) for name in INDICATORS}
    # the match rate counts where some sub-region has approved needs (see the module's doc)
    used = [n for n in INDICATORS if n != "match" or any(v is not None
                                                         for v in values["match"].values())]
    total = sum(getattr(weights, name) for name in used)
    rows = []
    for c in kids:
        score = (periods.round_half_up(sum(getattr(weights, name) * scaled[name][c.key]
                                           for name in used), total) if total else 0)
        rows.append(RankRow(c.key, c.name, 0, None, score,
                            {name: values[name][c.key] for name in INDICATORS},
                            c.figures.attributed_fen, c.figures.reached, c.figures.registered))
    for row, rank in zip(rows, _ranks([r.score for r in rows]), strict=True):
        row.rank = rank
    return rows


def ranking(session: Session, region: Region | None, period: Period,
            weights: Weights | None = None) -> Ranking:
    """The sub-regions ranked for the period, best first, with their rank in the period
    before."""
    weights = (weights or weights_for(session, region)).check()
    rows = _score(session, region, period, weights)
    before = {r.code: r.rank for r in _score(session, region, periods.previous(period), weights)}
    for row in rows:
        row.previous_rank = before.get(row.code)
    rows.sort(key=lambda r: (r.rank, r.code))
    return Ranking(region, period, weights, rows)


# ---- publishing ---------------------------------------------------------------------------------

def publish(session: Session, actor, region: Region | None, period: Period, *, now: datetime,
            note: str = "") -> Assessment:
    """Keep the ranking as it is now: a new version for the region and period (audited)."""
    found = ranking(session, region, period)
    region_id = region.id if region is not None else None
    last = session.scalar(select(func.max(Assessment.version)).where(
        Assessment.region_id.is_(None) if region_id is None else Assessment.region_id == region_id,
        Assessment.period == period.name)) or 0
    assessment = Assessment(region_id=region_id, period=period.name, version=last + 1,
                            weights=json.dumps(asdict(found.weights)), published_by=actor.id,
                            published_at=now, note=(note or "").strip()[:200])
    session.add(assessment)
    session.flush()
    for position, row in enumerate(found.rows, start=1):
        session.add(AssessmentRow(
            assessment_id=assessment.id, position=position, code=row.code, name=row.name[:64],
            rank=row.rank, previous_rank=row.previous_rank, score=row.score,
            income_per_household_fen=row.indicators["income"] or 0,
            coverage_bp=row.indicators["coverage"] or 0, growth_bp=row.indicators["growth"],
            units_progress_bp=row.indicators["units"],
            match_rate_bp=row.indicators["match"], attributed_fen=row.attributed_fen,
            households_reached=row.reached, households_registered=row.registered))
    session.flush()
    audit.record(session, actor, "assessment_published", "region", region_id or 0,
                 after={"period": period.name, "version": assessment.version,
                        "rows": len(found.rows)}, note=assessment.note)
    return assessment


def published(session: Session, region: Region | None, period_name: str | None = None,
              ) -> list[Assessment]:
    """The region's published assessments, newest first (one period's, if given)."""
    stmt = select(Assessment).where(
        Assessment.region_id.is_(None) if region is None else Assessment.region_id == region.id)
    if period_name:
        stmt = stmt.where(Assessment.period == period_name)
    return list(session.scalars(stmt.order_by(Assessment.published_at.desc(),
                                              Assessment.id.desc())))


def get_published(session: Session, assessment_id: int, region: Region | None) -> Assessment:
    """A published assessment of `region` (404 for one of another region)."""
    found = session.get(Assessment, assessment_id)
    if found is None or found.region_id != (region.id if region is not None else None):
        raise NotFound("未找到该考核通报")
    return found


def rows_of(assessment: Assessment) -> list[RankRow]:
    """A published assessment's rows as RankRows (for pages and exports)."""
    return [RankRow(r.code, r.name, r.rank, r.previous_rank, r.score,
                    {"income": r.income_per_household_fen, "coverage": r.coverage_bp,
                     "growth": r.growth_bp, "units": r.units_progress_bp,
                     "match": r.match_rate_bp},
                    r.attributed_fen, r.households_reached, r.households_registered)
            for r in assessment.rows]
