"""A household's statement: every entry of the ledger for it, by month (China time), with the
product, the channel of the order, the amount and the running total."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core.money import fen_to_yuan_text
from marketplace.core.time import CHINA
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Order, OrderLine

CHANNEL_LABELS = {"individual": "个人购买", "unit_member": "单位职工", "unit_purchase": "单位采购",
                  "group_purchase": "团购", "procurement": "政府采购", "offline": "线下销售"}


@dataclass(frozen=True)
class StatementRow:
    at: datetime  # China time
    order_number: str
    product: str
    channel: str
    amount_fen: int  # < 0 for money taken back by a refund
    running_fen: int


@dataclass
class StatementMonth:
    month: str  # 2026-11
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def total_fen(self) -> int:
        return sum(r.amount_fen for r in self.rows)


@dataclass
class Statement:
    months: list[StatementMonth] = field(default_factory=list)  # newest first

    @property
    def total_fen(self) -> int:
        return sum(m.total_fen for m in self.months)


def household_statement(session: Session, household_id: int) -> Statement:
    rows = session.execute(
        select(LedgerEntry.created_at, Order.number, OrderLine.name, Order.channel,
               LedgerEntry.amount_fen)
        .join(OrderLine, OrderLine.id == LedgerEntry.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(LedgerEntry.household_id == household_id).order_by(LedgerEntry.seq)).all()
    months: dict[str, StatementMonth] = {}
    running = 0
    for at, number, product, channel, amount in rows:
        running += amount
        local = at.astimezone(CHINA)
        month = months.setdefault(f"{local:%Y-%m}", StatementMonth(f"{local:%Y-%m}"))
        month.rows.append(StatementRow(local, number, product, str(channel), amount, running))
    return Statement(sorted(months.values(), key=lambda m: m.month, reverse=True))


CSV_HEADER = ["月份", "时间", "订单号", "商品", "渠道", "金额（元）", "累计（元）"]


def statement_csv(statement: Statement) -> str:
    """The statement as CSV (oldest first), with a BOM so that Excel reads the Chinese."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for month in reversed(statement.months):
        for r in month.rows:
            writer.writerow([month.month, f"{r.at:%Y-%m-%d %H:%M}", r.order_number, r.product,
                             CHANNEL_LABELS.get(r.channel, r.channel),
                             _signed_yuan(r.amount_fen), _signed_yuan(r.running_fen)])
    return out.getvalue()


def _signed_yuan(fen: int) -> str:
    return ("-" if fen < 0 else "") + fen_to_yuan_text(abs(fen))
