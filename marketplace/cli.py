"""Flask commands: `flask regions import`, `flask seed demo`, `flask users create-admin|grant`,
`flask search reindex|sync|status`, `flask orders expire|advance`, `flask ledger verify|head`,
`flask payments retry-refunds`, `flask campaigns close-due`, `flask reports export`.

Run them as `flask --app marketplace:create_app <group> <command>`. `flask db upgrade` and the
other migration commands come from Flask-Migrate. Progress goes to standard error, results to
standard output; a failure exits non-zero and writes nothing.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from marketplace.accounts.models import ROLE_LABELS, Role
from marketplace.core.errors import DomainError
from marketplace.core.money import format_fen
from marketplace.extensions import db

regions_cli = AppGroup("regions", help="行政区划 (regions): import the GB/T 2260 tree from CSV.")
seed_cli = AppGroup("seed", help="演示数据 (demo data).")
users_cli = AppGroup("users", help="用户与角色 (users and roles).")
search_cli = AppGroup("search", help="商品搜索 (search index): reindex, sync, status.")
orders_cli = AppGroup("orders", help="订单 (orders): expire unpaid orders, advance shipped ones.")
ledger_cli = AppGroup("ledger", help="帮扶收入台账 (attribution ledger): verify the chain, print its head.")
payments_cli = AppGroup("payments", help="付款 (payments): pay back captures orders could not take.")
units_cli = AppGroup("units", help="单位 (units): remind budget units of their annual filing.")
campaigns_cli = AppGroup("campaigns", help="团购 (group purchases): close those past their deadline.")
reports_cli = AppGroup("reports", help="帮扶报表 (office reports): export a report to xlsx.")
pool_cli = AppGroup("pool", help="捐赠资金池 (donation pool): verify its hash-chained ledger.")
needs_cli = AppGroup("needs", help="帮扶需求 (needs): lapse claims past their hold, expire needs.")


def register(app: Flask) -> None:
    for group in (regions_cli, seed_cli, users_cli, search_cli, orders_cli, ledger_cli,
                  payments_cli, campaigns_cli):
        app.cli.add_command(group)
    app.cli.add_command(units_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(pool_cli)
    app.cli.add_command(needs_cli)


def _fail(message: str, lines: list[str] | None = None, code: int = 1):
    db.session.rollback()
    click.echo(message, err=True)
    for line in lines or []:
        click.echo(f"  {line}", err=True)
    sys.exit(code)


@contextmanager
def _bar(label: str, total: int) -> Iterator:
    """A progress bar on standard error; on a non-terminal it prints the label once."""
    with click.progressbar(length=max(total, 0), label=f"{label} ({total})", show_pos=True,
                           file=sys.stderr) as bar:
        yield lambda n=1: bar.update(n)


# ---- regions ----------------------------------------------------------------------------------

@regions_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_regions(file: Path) -> None:
    """Import FILE.csv (columns code,name,parent_code): all lines or none.

    Every bad line is reported with its line number. Existing codes are renamed when their name
    changed and left alone otherwise, so importing the same file twice changes nothing.
    """
    from marketplace.regions.services import (
        RegionImportError,
        import_rows,
        read_region_csv,
        validate_rows,
    )
    try:
        text = file.read_text("utf-8-sig")
    except UnicodeDecodeError:
        _fail("区划文件有错误，未导入任何数据", ["第 1 行：文件不是 UTF-8 编码"])
    try:
        rows = read_region_csv(text)
        errors = validate_rows(db.session, rows)
        if errors:
            raise RegionImportError(errors)
        with _bar("导入行政区划", len(rows)) as step:
            report = import_rows(db.session, rows, progress=step)
    except RegionImportError as err:
        _fail(err.message, err.lines)
    db.session.commit()
    click.echo(f"导入完成：新建 {report.created}，改名 {report.renamed}，未变 {report.unchanged}"
               f"（共 {len(rows)} 行）")


# ---- demo data --------------------------------------------------------------------------------

@seed_cli.command("demo")
@click.option("--image-size", type=click.IntRange(32, 1200), default=640, show_default=True,
              help="Side of the generated product pictures, in pixels.")
def seed_demo_command(image_size: int) -> None:
    """Load the demo data of seed/: regions, households, sellers, products, demo accounts.

    Idempotent: whatever exists already is skipped (已存在，跳过), so it is safe to run again.
    Refused in production mode, because the demo accounts share a published password.
    """
    from marketplace.seed import SeedDataError, seed_demo
    mode = current_app.config["MARKETPLACE_MODE"]
    if mode not in ("demo", "test"):
        _fail(f"演示数据只能在 demo 或 test 模式下加载（当前 MARKETPLACE_MODE={mode}）。"
              "演示账号的密码是公开的，不能进入生产环境。")
    try:
        report = seed_demo(db.session, image_size=image_size, progress=_bar)
    except (DomainError, SeedDataError) as err:
        _fail(f"演示数据加载失败，未写入任何数据：{getattr(err, 'message', err)}")
    db.session.commit()
    click.echo("演示数据：")
    for label, tally in report.tallies.items():
        click.echo(f"  {label}：新建 {tally.created}，已存在，跳过 {tally.skipped}")
    click.echo("")
    click.echo(f"演示账号（密码均为 {report.password}）：")
    width = max(len(a.login) for a in report.accounts) if report.accounts else 0
    for account in report.accounts:
        click.echo(f"  {account.login.ljust(width)}  {account.note}")


# ---- users ------------------------------------------------------------------------------------

@users_cli.command("create-admin")
@click.argument("login")
@click.option("--password", help="Password (asked for when not given).")
@click.option("--name", default="平台管理员", show_default=True, help="Display name.")
def create_admin(login: str, password: str | None, name: str) -> None:
    """Create a platform admin LOGIN (e-mail or mobile), or make an existing user one."""
    from marketplace.accounts.services import Registration, find_by_login, grant_role, register_user
    try:
        user = find_by_login(db.session, login)
        if user is None:
            if password is None:
                password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
            user = register_user(db.session, Registration(login, password, name),
                                 roles=(Role.platform_admin,))
            message = f"已创建平台管理员 {user.login_name}"
        else:
            if password is not None:
                click.echo("该用户已存在：保留原密码，只授予平台管理员角色。", err=True)
            grant_role(db.session, user, Role.platform_admin)
            message = f"{user.login_name} 现在是平台管理员"
    except DomainError as err:
        _fail(err.message)
    db.session.commit()
    click.echo(message)


@users_cli.command("grant")
@click.argument("login")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--seller", "seller_id", type=int, help="Seller id (for seller_staff).")
@click.option("--region", "region_code", help="Region code (for office).")
def grant(login: str, role: str, seller_id: int | None, region_code: str | None) -> None:
    """Give user LOGIN the role ROLE (seller_staff needs --seller, office needs --region)."""
    from marketplace.accounts.services import find_by_login, grant_role
    from marketplace.regions.services import get_by_code
    from marketplace.sellers.models import Seller
    try:
        user = find_by_login(db.session, login)
        if user is None:
            _fail(f"未找到用户 {login}")
        if seller_id is not None and db.session.get(Seller, seller_id) is None:
            _fail(f"未找到经营主体 {seller_id}")
        region_id = get_by_code(db.session, region_code).id if region_code else None
        grant_role(db.session, user, Role(role), seller_id=seller_id, region_id=region_id)
    except DomainError as err:
        _fail(err.message)
    db.session.commit()
    click.echo(f"{user.login_name}：{ROLE_LABELS[Role(role)]}（{', '.join(user.roles)}）")


# ---- search -----------------------------------------------------------------------------------

@search_cli.command("reindex")
def search_reindex() -> None:
    """Build a new index beside the live one from the database and swap it in atomically.

    Search keeps answering from the old index while the new one is built."""
    from marketplace.search import search_root, service
    total = service.visible_count(db.session)
    with _bar("重建搜索索引", total) as step:
        done = [0]

        def progress(n: int, _total: int) -> None:
            step(n - done[0])
            done[0] = n
        directory, count = service.reindex(db.session, search_root(), progress=progress)
    click.echo(f"搜索索引已重建：{count} 件商品（{directory.name}）")


@search_cli.command("sync")
def search_sync() -> None:
    """Apply the outbox to the index (and prune outbox rows older than 7 days)."""
    from marketplace.search import search_root, service
    report = service.sync(db.session, search_root(), timeout=30.0)
    pruned = service.prune(db.session)
    db.session.commit()
    if report.skipped == "no index":
        _fail("还没有搜索索引：请先运行 flask search reindex")
    if report.skipped:
        _fail(f"索引正被其他进程写入，稍后再试（{report.skipped}）")
    click.echo(f"已同步：处理 {report.rows} 条变更，更新 {report.upserted} 件、移除 {report.deleted} 件；"
               f"水位 {report.watermark}；清理旧记录 {pruned} 条")


@search_cli.command("status")
def search_status() -> None:
    """Print the index's document count and the outbox lag."""
    from marketplace.search import search_root, service
    info = service.status(db.session, search_root())
    click.echo(f"索引目录：{info['directory'] or '（无）'}")
    click.echo(f"索引文档数：{info['documents'] if info['documents'] is not None else '—'}")
    click.echo(f"在售商品数：{info['visible_products']}")
    click.echo(f"已应用到：outbox #{info['watermark'] if info['watermark'] is not None else '—'}")
    click.echo(f"待应用变更（lag）：{info['lag'] if info['lag'] is not None else '—'}")
    if info["error"]:
        click.echo(f"索引不可用：{info['error']}（运行 flask search reindex 修复）", err=True)
        sys.exit(1)


@orders_cli.command("expire")
def orders_expire() -> None:
    """Cancel unpaid orders whose payment window has passed and give their stock back."""
    from marketplace.orders import services
    count = services.expire(db.session)
    db.session.commit()
    click.echo(f"已关闭超时未付款订单 {count} 笔，库存已释放")


@orders_cli.command("advance")
def orders_advance() -> None:
    """Shipped orders count as received 10 days after shipping; received ones close after 7."""
    from marketplace.orders import fulfilment
    received, completed = fulfilment.advance(db.session)
    db.session.commit()
    click.echo(f"自动确认收货 {received} 笔，完成 {completed} 笔")


# ---- payments ---------------------------------------------------------------------------------

@payments_cli.command("retry-refunds")
def payments_retry_refunds() -> None:
    """Pay back every capture whose refund is still due (its order could not take it and the
    provider could not be reached then), each through the provider that took it, at most once.

    A cron runs it (every few minutes). Prints how many went back and how many are still due;
    exits 1 while the provider of some is unreachable. Those whose provider is not enabled here
    (a bank transfer) are listed: someone pays them back by hand."""
    from collections import Counter

    from marketplace.payments import payback
    from marketplace.payments.providers import providers
    enabled = providers(current_app.config)
    due = payback.due_ids(db.session)
    db.session.commit()
    tally: Counter = Counter()
    by_hand: list[int] = []
    with _bar("退回款项", len(due)) as step:
        for payment_id in due:
            settled = payback.settle(db.session, payment_id, enabled, commit=db.session.commit)
            tally[settled] += 1
            if settled == payback.Settled.no_provider:
                by_hand.append(payment_id)
            step()
    db.session.commit()
    s = payback.Settled
    click.echo(f"待退回款项 {len(due)} 笔：已原路退回 {tally[s.refunded]} 笔，"
               f"支付服务不可用仍待退回 {tally[s.failed]} 笔，"
               f"支付方式未启用需人工退回 {tally[s.no_provider]} 笔，"
               f"其他进程处理中 {tally[s.busy]} 笔")
    if by_hand:
        click.echo(f"需人工退回的付款编号：{', '.join(map(str, by_hand))}", err=True)
    if tally[s.failed]:
        sys.exit(1)


# ---- group purchases ----------------------------------------------------------------------------

@campaigns_cli.command("close-due")
def campaigns_close_due() -> None:
    """Close every group purchase past its deadline (a cron runs it; pages also close a
    campaign on the first read after its deadline): each settles once, in its own transaction,
    whoever else closes it at the same time. Also retries refunds a provider could not make."""
    from marketplace.payments.providers import providers
    from marketplace.units import settlement
    enabled = providers(current_app.config)
    due = settlement.due_ids(db.session)
    with _bar("结算到期团购", len(due)) as step:
        closed = settlement.close_due(db.session, enabled, commit=db.session.commit,
                                      progress=lambda i, n: step())
    here = [c for c in closed if c.closed_here]
    won = sum(1 for c in here if c.status == "succeeded")
    click.echo(f"到期团购 {len(closed)} 个：本次结算 {len(here)} 个（成团 {won} 个，"
               f"生成订单 {sum(c.orders for c in here)} 笔；未成团 {len(here) - won} 个，"
               f"已全额退款），其他进程已结算 {len(closed) - len(here)} 个")


# ---- ledger -----------------------------------------------------------------------------------

@ledger_cli.command("verify")
@click.option("--anchor", "anchors", multiple=True, metavar="SEQ:HASH",
              help="An entry's number and hash written down earlier (as `flask ledger head` "
                   "printed it); the chain must still pass through it. May be given again.")
def ledger_verify(anchors: tuple[str, ...]) -> None:
    """Walk the whole attribution ledger: every entry's number, link and hash, the head row, no
    household below zero on a line, what the paid and refunded lines imply, and the anchors
    given. Names the first entry that does not fit; exits 1 then."""
    from marketplace.ledger import chain
    expected = {}
    for text in anchors:
        try:
            seq, digest = chain.parse_anchor(text)
        except ValueError:
            _fail(f"锚点格式不对：{text}（应为 编号:哈希，如 flask ledger head 所示）", code=2)
        expected[seq] = digest
    with _bar("核对台账", chain.entry_count(db.session)) as step:
        verdict = chain.verify(db.session, anchors=expected, progress=step)
    if not verdict.ok:
        where = f"第 {verdict.seq} 条" if verdict.seq is not None else "台账末尾"
        _fail(f"台账核对失败：{where}：{verdict.problem}（此前 {verdict.entries} 条完好）")
    head = chain.head(db.session)
    click.echo(f"台账完好：{verdict.entries} 条记录，哈希链、编号与余额均核对无误"
               + (f"，{len(expected)} 个锚点相符" if expected else ""))
    click.echo(f"末条锚点：{head.anchor}")


@ledger_cli.command("head")
def ledger_head() -> None:
    """Print the last entry's anchor (number:hash) and time. Keep it outside the database; a
    later `flask ledger verify --anchor ...` proves the ledger up to it was not rewritten."""
    from marketplace.core.time import CHINA
    from marketplace.ledger import chain
    head = chain.head(db.session)
    if not head.seq:
        click.echo("台账还没有记录")
        return
    click.echo(head.anchor)
    click.echo(f"第 {head.seq} 条，记于 {head.at.astimezone(CHINA):%Y-%m-%d %H:%M:%S}（北京时间）",
               err=True)


# ---- units: annual filings ----------------------------------------------------------------------

@units_cli.command("remind")
def units_remind() -> None:
    """Remind the admins of budget units that have not filed (or were sent back) 30 and 7 days
    before the year's deadline: each reminder once, however often it runs (a daily cron), also
    when two run at once (the reminder's unique row decides; each is committed on its own)."""
    from marketplace.core.time import now_utc
    from marketplace.units import filings
    now, month_day = now_utc(), current_app.config["FILING_DEADLINE"]
    due = filings.due_reminders(db.session, now, month_day)
    db.session.commit()
    sent = 0
    with _bar("填报提醒", len(due)) as step:
        for unit_id, year, days in due:
            sent += filings.send_reminder(db.session, unit_id, year, days, now=now,
                                          month_day=month_day)
            db.session.commit()
            step()
    click.echo(f"已发送填报提醒 {sent} 条（待发 {len(due)} 条，其余已由其他进程发送）")


# ---- office reports -----------------------------------------------------------------------------

@reports_cli.command("export")
@click.option("--region", "region_code", metavar="CODE",
              help="Region code (GB/T 2260); the report covers its subtree. Everywhere when "
                   "left out.")
@click.option("--period", metavar="PERIOD",
              help="2026-11 (a month), 2026-Q3 (a quarter) or 2026 (a year).")
@click.option("--from", "start", metavar="DATE",
              help="First day, YYYY-MM-DD (instead of --period).")
@click.option("--to", "end", metavar="DATE", help="Last day, YYYY-MM-DD (instead of --period).")
@click.option("--out", required=True, metavar="FILE.xlsx",
              type=click.Path(dir_okay=False, path_type=Path), help="The xlsx file to write.")
def reports_export(region_code: str | None, period: str | None, start: str | None,
                   end: str | None, out: Path) -> None:
    """Write a region's report for a period to FILE.xlsx, one sheet per table: summary (with the
    period before and a year before), sub-regions, channels, categories, seller kinds, monthly
    trend, the ranking of the sub-regions and the households without income.

    This month when no period is given. A bad region or period writes nothing and exits 1."""
    from marketplace.core.db import reports_session
    from marketplace.core.time import today_china
    from marketplace.regions.services import find_by_code
    from marketplace.reports import assessment, exports, figures, periods, targeting
    if out.suffix.lower() != ".xlsx":
        _fail(f"输出文件应以 .xlsx 结尾：{out}")
    if not out.parent.is_dir():
        _fail(f"输出目录不存在：{out.parent}")
    try:
        chosen = periods.from_args({"period": period, "from": start, "to": end}, today_china())
    except DomainError as err:
        _fail(f"统计期有误，未导出：{err.message}")
    except (ValueError, OverflowError):  # the year 9999's month ends past date.max
        _fail("统计期应在 2000 年到 2100 年之间，未导出")
    if chosen.start.year < 2000 or chosen.end.year > 2100:
        _fail("统计期应在 2000 年到 2100 年之间，未导出")
    with reports_session() as session:  # the replica when MARKETPLACE_REPORTS_DATABASE_URL is set
        region = None
        if region_code:
            region = find_by_code(session, region_code.strip())
            if region is None:
                _fail(f"未找到行政区划 {region_code}，未导出")
        with _bar("导出报表", 3 + len(exports.TABLES)) as step:
            report = figures.report(session, region, chosen)
            step()
            ranking = assessment.ranking(session, region, chosen)
            step()
            without = targeting.without_income(session, region, chosen)
            step()
            data = exports.workbook(report, ranking=ranking, targeting=without,
                                    progress=lambda _name: step())
            region_label = exports.region_name(region)
    db.session.rollback()
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(data)
    partial.replace(out)
    f = report.now
    names = "、".join(exports.sheet_name(n) for n in exports.TABLES)
    click.echo(f"已导出 {out}：{region_label} {chosen.label}，"
               f"{len(exports.TABLES)} 张表（{names}）")
    click.echo(f"销售额 {format_fen(f.sales_fen)}（线下 {format_fen(f.offline_fen)}），"
               f"归属收入 {format_fen(f.attributed_fen)}，带动增收 {f.reached} 户 / 登记 "
               f"{f.registered} 户，覆盖率 {f.coverage_bp / 100:.2f}%；"
               f"无收入帮扶对象 {without.total} 户（其中监测户 {without.monitored} 户）")


# ---- the donation pool (help.pool) ----------------------------------------------------------------

@pool_cli.command("verify")
def pool_verify() -> None:
    """Walk the whole pool ledger: every entry's number, link, sign and hash, the head row, a
    balance never below zero, and one entry per paid donation and per allocation for its
    amount. Names the first entry that does not fit; exits 1 then."""
    from marketplace.help.pool import chain
    with _bar("核对资金池台账", chain.entry_count(db.session)) as step:
        verdict = chain.verify(db.session, progress=step)
    if not verdict.ok:
        where = f"第 {verdict.seq} 条" if verdict.seq is not None else "台账末尾"
        _fail(f"资金池台账核对失败：{where}：{verdict.problem}（此前 {verdict.entries} 条完好）")
    totals = chain.totals(db.session)
    click.echo(f"资金池台账完好：{verdict.entries} 条记录；收到 {format_fen(totals.received)}，"
               f"拨付 {format_fen(totals.allocated)}，退回 {format_fen(totals.refunded)}，"
               f"余额 {format_fen(totals.balance)}")


# ---- needs (帮扶需求) ------------------------------------------------------------------------------

@needs_cli.command("lapse")
def needs_lapse() -> None:
    """Claims not delivered within their hold lapse (the need opens again); open needs past
    their expiry expire. Pages do the same lazily; a cron may run it (idempotent)."""
    from marketplace.help.needs import claims
    lapsed, expired = claims.tidy(db.session)
    db.session.commit()
    click.echo(f"已释放超时认领 {lapsed} 项，已过期需求 {expired} 条")
