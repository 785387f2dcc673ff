"""Demo data: needs (帮扶需求) in every state for households of 洞口县's villages (洪溪村 keeps its
wish wall), posted by their liaison, reviewed by 洞口县's office, claimed by the demo's buyers,
all through the needs services: pending, sent back, open (one partly claimed), claimed and held,
delivered, fulfilled (one paid through the simulated provider), expired, withdrawn, removed (a
flag upheld), and one whose first claim lapsed. The wall is at /needs, the office's queue at
/needs/review (office@demo.test), the liaison's at /needs/mine (liaison@demo.test).

Loaded once: skipped when the first need below is there already."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.services import find_by_login
from marketplace.core.time import now_utc
from marketplace.help.needs import claims, flags, rules, services
from marketplace.help.needs.models import Need
from marketplace.households.models import Household
from marketplace.regions.models import Region

COUNTY = "430525"  # 洞口县
SKIP_VILLAGE = "430525101201"  # 洪溪村: the micro-wish wall (seed.help_wishes)
LIAISON, OFFICE = "liaison@demo.test", "office@demo.test"
DONORS = ("buyer@demo.test", "buyer2@demo.test")

# state, category, title, description, what (items / amount fen / service)
NEEDS = [
    ("fulfilled", "education", "孩子上高中需要学费补贴", "家中两个孩子上学，今年学费有缺口。",
     ("amount", 300_000)),
    ("fulfilled", "daily", "冬天需要棉被和电热毯", "老人独居，房子冬天阴冷。",
     ("items", [("棉被", 2, "床"), ("电热毯", 1, "条")])),
    ("delivered", "production", "养蜂需要新蜂箱", "去年扩群，蜂箱不够用。",
     ("items", [("蜂箱", 10, "个")])),
    ("claimed", "housing", "厨房屋顶漏雨需要修补", "雨季前要修好，需要瓦片和人工。",
     ("service", "屋顶翻修，约两天工")),
    ("open_part", "medical", "老人做白内障手术的自付费用", "医保报销后还需自付一部分。",
     ("amount", 200_000)),
    ("lapsed_open", "training", "想学电商直播卖自家茶叶", "有茶园，不会网上卖货。",
     ("service", "每周一次直播带货辅导，一个月")),
    ("open", "employment", "求县城附近的季节性工作", "家里劳动力一人，农闲时想打工。",
     ("service", "介绍县城附近的季节性工作")),
    ("open", "daily", "孩子需要一辆上学用的自行车", "上学路远，步行一小时。",
     ("items", [("自行车", 1, "辆")])),
    ("pending", "production", "油茶林需要有机肥", "十亩油茶林，今年想改用有机肥。",
     ("items", [("有机肥", 40, "袋")])),
    ("sent_back", "education", "需要一台电脑", "孩子上网课用。",
     ("items", [("电脑", 1, "台")])),
    ("expired", "daily", "需要一台洗衣机", "家中有卧床老人，换洗多。",
     ("items", [("洗衣机", 1, "台")])),
    ("withdrawn", "medical", "需要一台轮椅", "已由村卫生室借到，撤回。",
     ("items", [("轮椅", 1, "台")])),
    ("removed", "daily", "需要一台电视机", "与另一条需求重复。",
     ("items", [("电视机", 1, "台")])),
]


def _input(category, title, description, what, expires_on) -> rules.NeedInput:
    kind, value = what
    data = rules.NeedInput(category=category, title=title, description=description, what=kind,
                           expires_on=expires_on)
    if kind == "amount":
        data.amount_fen = value
    elif kind == "items":
        data.items = [{"name": n, "quantity": q, "unit": u} for n, q, u in value]
    else:
        data.service = value
    return data


def seed(session: Session, tally) -> None:
    liaison, office = find_by_login(session, LIAISON), find_by_login(session, OFFICE)
    donors = [find_by_login(session, login) for login in DONORS]
    if None in (liaison, office, *donors):
        return
    if session.scalar(select(Need.id).where(Need.title == NEEDS[0][2])) is not None:
        tally.skipped += len(NEEDS)
        return
    households = list(session.scalars(
        select(Household).join(Region, Household.village_id == Region.id)
        .where(Region.path.like(f"%/{COUNTY}/%"), Region.code != SKIP_VILLAGE,
               Household.liaison_id == liaison.id)
        .order_by(Household.code).limit(len(NEEDS))))
    if len(households) < len(NEEDS):
        return
    now = now_utc()
    for index, (state, category, title, description, what) in enumerate(NEEDS):
        _make(session, state, households[index], liaison, office, donors, now, index,
              _input(category, title, description, what, None))
        tally.created += 1
    session.flush()


def _make(session: Session, state: str, household: Household, liaison, office, donors,
          now: datetime, index: int, data: rules.NeedInput) -> None:
    days_ago = 40 if state in ("expired", "lapsed_open") else 20 - index
    at = now - timedelta(days=days_ago, hours=index)
    data.expires_on = (at + timedelta(days=30 if state == "expired" else 90)).date()
    need = services.post(session, liaison, household, data, now=at)
    if state == "pending":
        return
    reviewed = at + timedelta(hours=18)
    if state == "sent_back":
        services.review(session, office, need, "send_back", "请补充孩子的年级和学校", now=reviewed)
        return
    if state == "withdrawn":
        services.withdraw(session, liaison, need, now=reviewed)
        return
    services.review(session, office, need, "approve", now=reviewed)
    donor = donors[index % 2]
    claimed = reviewed + timedelta(days=1)
    if state == "expired":
        services.expire_due(session, now=now)
    elif state == "removed":
        row = flags.flag(session, donor, need, "duplicate", "和同村另一条需求重复", now=claimed)
        flags.decide(session, office, row, True, "确认重复，已下架", now=claimed + timedelta(hours=5))
    elif state == "open_part":
        claims.claim(session, donor, need, 80_000, now=now - timedelta(days=1))
    elif state == "lapsed_open":
        claims.claim(session, donor, need, now=claimed)  # never delivered: lapses after 7 days
        claims.lapse_due(session, now=now)
    elif state in ("claimed", "delivered", "fulfilled"):
        claim = claims.claim(session, donor, need, now=now - timedelta(days=3 + index % 2))
        if state == "claimed":
            return
        if need.what == "amount":
            claims.record_delivery(session, donor, claim, "money", "在线捐款",
                                   now=now - timedelta(days=2))
        else:
            kind = "service" if need.what == "service" else "goods"
            claims.record_delivery(session, donor, claim, kind, "已送到村委会",
                                   now=now - timedelta(days=2))
        if state == "fulfilled":
            claims.confirm(session, liaison, claim, "已收到，户主表示感谢",
                           now=now - timedelta(days=1))
