"""Demo data: a micro-wish wall (微心愿墙) for 洪溪村 (洞口县月溪镇), posted by the households'
liaison and approved by 洞口县's office through the needs core's services; one wish already came
true (claimed by a donor, delivered, receipt confirmed by the liaison), so that the phone page
shows both states. Open the wall at /villages/430525101201/wishes/wall (office@demo.test or
liaison@demo.test) and a wish at /wishes/<id>.

Loaded once: skipped when the village already has the first wish below."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.services import find_by_login
from marketplace.core.time import now_utc
from marketplace.help.needs import claims, rules, services
from marketplace.help.needs.models import Need, NeedKind
from marketplace.households.models import Household
from marketplace.regions.models import Region

VILLAGE = "430525101201"  # 洪溪村
LIAISON, OFFICE, DONOR = "liaison@demo.test", "office@demo.test", "buyer2@demo.test"

# title, beneficiary, category, items, value (fen): each within the wish cap (¥500)
WISHES = [
    ("一个新书包和一套文具", "孙女，8岁，上二年级", "education",
     [("书包", 1, "个"), ("文具盒", 1, "个")], 12000),
    ("一件过冬的棉衣", "奶奶，76岁", "daily", [("棉衣", 1, "件")], 18000),
    ("一副老花镜", "爷爷，72岁", "medical", [("老花镜", 1, "副")], 8000),
    ("一套课外读物", "孙子，11岁，喜欢看科普书", "education", [("课外书", 10, "本")], 15000),
    ("一盏护眼台灯", "孙女，13岁，晚上在家写作业", "education", [("护眼台灯", 1, "盏")], 16000),
    ("一双雨靴和一把雨伞", "外婆，68岁", "daily", [("雨靴", 1, "双"), ("雨伞", 1, "把")], 9000),
]
FULFILLED = 2  # the third wish (老花镜) came true last week


def seed(session: Session, tally) -> None:
    """Post, approve (and for one, claim, deliver and confirm) the wall's wishes; `tally` counts
    them (created, or skipped when the wall is there already)."""
    village = session.scalar(select(Region).where(Region.code == VILLAGE))
    liaison, office, donor = (find_by_login(session, login) for login in (LIAISON, OFFICE, DONOR))
    if village is None or None in (liaison, office, donor):
        return
    if session.scalar(select(Need.id).where(Need.village_id == village.id,
                                            Need.kind == NeedKind.wish,
                                            Need.title == WISHES[0][0])) is not None:
        tally.skipped += len(WISHES)
        return
    households = list(session.scalars(select(Household).where(
        Household.village_id == village.id, Household.liaison_id == liaison.id)
        .order_by(Household.code)))
    if not households:
        return
    now = now_utc()
    for index, (title, who, category, items, value) in enumerate(WISHES):
        # a few days ago, a day apart (the poster's daily limit counts the day before each)
        posted = now - timedelta(days=len(WISHES) + 8 - index)
        need = _post(session, liaison, office, households[index % len(households)], posted,
                     title, who, category, items, value)
        if index == FULFILLED:
            _come_true(session, donor, liaison, need, posted + timedelta(days=1))
        tally.created += 1
    session.flush()


def _post(session: Session, liaison, office, household: Household, at: datetime, title: str,
          who: str, category: str, items: list, value: int) -> Need:
    data = rules.NeedInput(
        kind=NeedKind.wish, category=category, title=title, what="items",
        items=[{"name": n, "quantity": q, "unit": u} for n, q, u in items], amount_fen=value,
        beneficiary=who, description=f"{who}的心愿，由帮扶联络人代为发布。",
        expires_on=(at + timedelta(days=75)).date())
    need = services.post(session, liaison, household, data, now=at)
    services.review(session, office, need, "approve", now=at + timedelta(hours=20))
    return need


def _come_true(session: Session, donor, liaison, need: Need, at: datetime) -> None:
    claim = claims.claim(session, donor, need, now=at)
    claims.record_delivery(session, donor, claim, "goods", "已把老花镜送到村委会",
                           now=at + timedelta(days=2))
    claims.confirm(session, liaison, claim, "爷爷试戴过，很合适，谢谢！",
                   now=at + timedelta(days=3))
