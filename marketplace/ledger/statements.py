"""A household's statement: every entry of the ledger for it, by month (China time), with the
product, the channel of the order, the amount and the running total; the same for a period
(opening balance, entries, totals, closing balance: the API's statement); and what its public
page shows (contributions without order numbers, buyers or anything personal)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core.money import fen_to_yuan_text
from marketplace.core.time import CHINA
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Order, OrderLine
from marketplace.sellers.models import Seller

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
    seq: int = 0  # the ledger entry
    seller: str = ""


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


def statement_rows(session: Session, household_id: int) -> list[StatementRow]:
    """All the household's entries in ledger order, with the running total."""
    rows = session.execute(
        select(LedgerEntry.seq, LedgerEntry.created_at, Order.number, OrderLine.name,
               Order.channel, LedgerEntry.amount_fen, Seller.name)
        .join(OrderLine, OrderLine.id == LedgerEntry.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Seller, Seller.id == Order.seller_id)
        .where(LedgerEntry.household_id == household_id).order_by(LedgerEntry.seq)).all()
    out, running = [], 0
    for seq, at, number, product, channel, amount, seller in rows:
        running += amount
        out.append(StatementRow(at.astimezone(CHINA), number, product, str(channel), amount,
                                running, seq, seller))
    return out


def household_statement(session: Session, household_id: int) -> Statement:
    months: dict[str, StatementMonth] = {}
    for row in statement_rows(session, household_id):
        key = f"{row.at:%Y-%m}"
        months.setdefault(key, StatementMonth(key)).rows.append(row)
    return Statement(sorted(months.values(), key=lambda m: m.month, reverse=True))


@dataclass
class PeriodStatement:
    start: date | None  # China dates, both included; None: open-ended
    end: date | None
    opening_fen: int  # what the household held before the period
    rows: list[StatementRow]

    @property
    def sales_fen(self) -> int:
        return sum(r.amount_fen for r in self.rows if r.amount_fen > 0)

    @property
    def reversals_fen(self) -> int:  # <= 0
        return sum(r.amount_fen for r in self.rows if r.amount_fen < 0)

    @property
    def net_fen(self) -> int:
        return self.sales_fen + self.reversals_fen

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.net_fen


def period_statement(session: Session, household_id: int, start: date | None,
                     end: date | None) -> PeriodStatement:
    """The entries of China dates start..end (both included) with the balance before them."""
    rows = statement_rows(session, household_id)
    before = [r for r in rows if start is not None and r.at.date() < start]
    inside = [r for r in rows if (start is None or r.at.date() >= start)
              and (end is None or r.at.date() <= end)]
    return PeriodStatement(start, end, before[-1].running_fen if before else 0, inside)


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
