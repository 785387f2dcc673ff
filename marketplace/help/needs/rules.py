"""Pure rules of needs and micro-wishes: limits and the checks of what a poster or a donor typed.
Plain values in, plain values out (or a ValidationFailed naming every bad field); no database."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.inputs import clean_text, text_problem
from marketplace.core.money import format_fen
from marketplace.help.needs.models import NeedCategory, NeedKind, NeedWhat

TITLE_MIN, TITLE_MAX = 4, 60
DESCRIPTION_MAX = 2000
SERVICE_MAX = 200
BENEFICIARY_MAX = 40
ITEMS_MAX = 10
ITEM_NAME_MAX = 40
ITEM_UNIT_MAX = 8
ITEM_QUANTITY_MAX = 100_000
AMOUNT_MAX_FEN = 10_000_000  # ¥100,000: larger needs go through the office's own channels
EXPIRY_DEFAULT_DAYS = 60
EXPIRY_MAX_DAYS = 365
REASON_MIN, REASON_MAX = 2, 200
NOTE_MAX = 500

# defaults of the configurable limits (config.py holds the values in force)
WISH_CAP_FEN = 50_000  # HELP_WISH_CAP_FEN: ¥500
CLAIM_HOLD_DAYS = 7  # HELP_CLAIM_HOLD_DAYS
POSTS_PER_DAY = 20  # HELP_POSTS_PER_DAY
OPEN_NEEDS_PER_HOUSEHOLD = 3  # HELP_OPEN_NEEDS_PER_HOUSEHOLD


@dataclass
class NeedInput:
    """What a poster typed (already parsed from a form or JSON; amounts in fen)."""

    category: str
    title: str
    what: str
    kind: str = NeedKind.need
    description: str = ""
    items: list = field(default_factory=list)  # [{"name", "quantity", "unit"}]
    amount_fen: int | None = None
    service: str = ""
    beneficiary: str = ""
    expires_on: date | None = None


@dataclass
class CleanNeed:
    kind: NeedKind
    category: NeedCategory
    title: str
    description: str
    what: NeedWhat
    items: list | None
    amount_fen: int | None
    service: str
    beneficiary: str
    expires_on: date


def _text(value, name: str, errors: dict, *, multiline: bool = False) -> str:
    """A typed text, stripped; a control or hidden character is an error on its field."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = ["应为字符串"]
        return ""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        errors[name] = [problem]
        return ""
    return clean_text(value, multiline=multiline).strip()


def _enum(enum, value, name: str, label: str, errors: dict):
    try:
        return enum(value)
    except ValueError:
        errors[name] = [Msg("请选择%(label)s", label=label)]
        return None


def clean_items(raw, errors: dict) -> list[dict]:
    """Goods: 1 to ITEMS_MAX lines of {"name", "quantity" (1..ITEM_QUANTITY_MAX), "unit"}."""
    if not isinstance(raw, list) or not raw:
        errors["items"] = ["请至少填写一项所需物资（名称和数量）"]
        return []
    if len(raw) > ITEMS_MAX:
        errors["items"] = [Msg("所需物资最多 %(n)s 项", n=ITEMS_MAX)]
        return []
    out = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) - {"name", "quantity", "unit"}:
            errors["items"] = [Msg("第 %(i)s 项物资应为 {\"name\", \"quantity\", \"unit\"}",
                                   i=index)]
            return []
        name = item.get("name")
        quantity = item.get("quantity")
        unit = item.get("unit", "") or ""
        if not isinstance(name, str) or text_problem(name) is not None \
                or not name.strip() or len(name.strip()) > ITEM_NAME_MAX:
            errors["items"] = [Msg("第 %(i)s 项物资的名称应为 1 到 %(n)s 个字", i=index,
                                   n=ITEM_NAME_MAX)]
            return []
        if isinstance(quantity, bool) or not isinstance(quantity, int) \
                or not 1 <= quantity <= ITEM_QUANTITY_MAX:
            errors["items"] = [Msg("第 %(i)s 项物资的数量应为 1 到 %(n)s 的整数", i=index,
                                   n=ITEM_QUANTITY_MAX)]
            return []
        if not isinstance(unit, str) or text_problem(unit) is not None \
                or len(unit.strip()) > ITEM_UNIT_MAX:
            errors["items"] = [Msg("第 %(i)s 项物资的单位最多 %(n)s 个字", i=index,
                                   n=ITEM_UNIT_MAX)]
            return []
        out.append({"name": clean_text(name).strip(), "quantity": quantity,
                    "unit": clean_text(unit).strip()})
    return out


def check_expiry(expires_on: date | None, today: date, errors: dict) -> date:
    """The last day on the wall: default EXPIRY_DEFAULT_DAYS from today, after today and at most
    EXPIRY_MAX_DAYS ahead."""
    if expires_on is None:
        return today + timedelta(days=EXPIRY_DEFAULT_DAYS)
    if expires_on <= today:
        errors["expires_on"] = ["截止日期应晚于今天"]
    elif expires_on > today + timedelta(days=EXPIRY_MAX_DAYS):
        errors["expires_on"] = [Msg("截止日期最多在 %(n)s 天之后", n=EXPIRY_MAX_DAYS)]
    return expires_on


def clean_need(data: NeedInput, *, today: date, wish_cap_fen: int = WISH_CAP_FEN) -> CleanNeed:
    """Every field checked; one ValidationFailed naming all the bad ones."""
    errors: dict[str, list] = {}
    kind = _enum(NeedKind, data.kind, "kind", "类型（帮扶需求或微心愿）", errors)
    category = _enum(NeedCategory, data.category, "category", "类别", errors)
    what = _enum(NeedWhat, data.what, "what", "所需内容（物资、资金或服务）", errors)
    title = _text(data.title, "title", errors)
    if "title" not in errors and not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = [Msg("标题应为 %(a)s 到 %(b)s 个字", a=TITLE_MIN, b=TITLE_MAX)]
    description = _text(data.description, "description", errors, multiline=True)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [Msg("说明最多 %(n)s 个字", n=DESCRIPTION_MAX)]
    items, amount, service = None, None, ""
    if what == NeedWhat.items:
        items = clean_items(data.items, errors)
    elif what == NeedWhat.amount:
        amount = data.amount_fen
        if isinstance(amount, bool) or not isinstance(amount, int) \
                or not 1 <= amount <= AMOUNT_MAX_FEN:
            errors["amount"] = [Msg("金额应在 ¥0.01 到 %(max)s 之间",
                                    max=format_fen(AMOUNT_MAX_FEN))]
    elif what == NeedWhat.service:
        service = _text(data.service, "service", errors)
        if "service" not in errors and not 2 <= len(service) <= SERVICE_MAX:
            errors["service"] = [Msg("请说明需要的服务（2 到 %(n)s 个字）", n=SERVICE_MAX)]
    beneficiary = _text(data.beneficiary, "beneficiary", errors)
    if len(beneficiary) > BENEFICIARY_MAX:
        errors["beneficiary"] = [Msg("受助人最多 %(n)s 个字", n=BENEFICIARY_MAX)]
    if kind == NeedKind.wish:
        if not beneficiary:
            errors["beneficiary"] = ["微心愿需要写明受助人（例如：孙女，8岁）"]
        if what == NeedWhat.service:
            errors["what"] = ["微心愿是物品或资金，价值不超过上限"]
        if what == NeedWhat.items:
            amount = data.amount_fen  # a wish of goods states their value
        if "amount" not in errors and (isinstance(amount, bool) or not isinstance(amount, int)
                                       or not 1 <= amount <= wish_cap_fen):
            errors["amount"] = [Msg("微心愿的价值应在 ¥0.01 到 %(cap)s 之间",
                                    cap=format_fen(wish_cap_fen))]
    expires_on = check_expiry(data.expires_on, today, errors)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors=errors)
    return CleanNeed(kind, category, title, description, what, items or None, amount, service,
                     beneficiary, expires_on)


def check_reason(reason: str | None, field_name: str = "reason") -> str:
    """A send-back reason or a flag's decision note: REASON_MIN to REASON_MAX characters."""
    errors: dict = {}
    text = _text(reason, field_name, errors)
    if errors:
        raise ValidationFailed(errors[field_name][0], field=field_name)
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise ValidationFailed(Msg("请填写理由（%(a)s 到 %(b)s 个字）", a=REASON_MIN,
                                   b=REASON_MAX), field=field_name)
    return text


def check_note(note: str | None, field_name: str = "note", *, required: bool = False) -> str:
    errors: dict = {}
    text = _text(note, field_name, errors, multiline=True)
    if errors:
        raise ValidationFailed(errors[field_name][0], field=field_name)
    if len(text) > NOTE_MAX:
        raise ValidationFailed(Msg("备注最多 %(n)s 个字", n=NOTE_MAX), field=field_name)
    if required and not text:
        raise ValidationFailed("请填写备注", field=field_name)
    return text


def claim_share(what: NeedWhat, amount_fen: int | None, claimed_fen: int,
                requested_fen: int | None) -> int | None:
    """What a new claim covers: for an amount need `requested_fen` (None: all that remains),
    at least 0.01 and at most what remains; goods and services are claimed whole (None)."""
    if what != NeedWhat.amount or amount_fen is None:
        if requested_fen is not None:
            raise ValidationFailed("物资和服务类需求只能整体认领，不能填写金额", field="amount")
        return None
    remaining = amount_fen - claimed_fen
    if remaining <= 0:
        raise ValidationFailed("该需求已被全部认领", field="amount")
    if requested_fen is None:
        return remaining
    if isinstance(requested_fen, bool) or not isinstance(requested_fen, int) \
            or not 1 <= requested_fen <= remaining:
        raise ValidationFailed(Msg("认领金额应在 ¥0.01 到 %(max)s 之间",
                                   max=format_fen(remaining)), field="amount")
    return requested_fen


def hold_until(now: datetime, days: int = CLAIM_HOLD_DAYS) -> datetime:
    return now + timedelta(days=max(1, int(days)))


def search_document(title: str, description: str, token_texts) -> str:
    """The need's search tokens, space-separated with a space at each end (so that one token is
    found with LIKE '% token %'): `token_texts` is search.analysis.token_texts."""
    tokens = sorted(set(token_texts(f"{title}\n{description}", pinyin=True)))
    return f" {' '.join(tokens)} " if tokens else ""
