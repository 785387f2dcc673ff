"""Forms of needs: posting and editing, review, claiming, delivery, confirmation, flags. They
only collect values; help.needs.rules checks them, so every message comes from one place."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marketplace.core.errors import ValidationFailed
from marketplace.core.forms import Form
from marketplace.core.i18n import Msg
from marketplace.core.money import MoneyFormatError, parse_yuan
from marketplace.help.needs import rules
from marketplace.help.needs.models import (
    FLAG_REASON_LABELS,
    NEED_CATEGORY_LABELS,
    NEED_KIND_LABELS,
    NEED_WHAT_LABELS,
)

KIND_CHOICES = [(str(k), _l(v)) for k, v in NEED_KIND_LABELS.items()]
CATEGORY_CHOICES = [(str(k), _l(v)) for k, v in NEED_CATEGORY_LABELS.items()]
WHAT_CHOICES = [(str(k), _l(v)) for k, v in NEED_WHAT_LABELS.items()]
FLAG_CHOICES = [(str(k), _l(v)) for k, v in FLAG_REASON_LABELS.items()]
DELIVERY_CHOICES = [("goods", _l("物资")), ("money", _l("资金（在线支付）")),
                    ("service", _l("服务"))]


class NeedForm(Form):
    household_code = StringField(_l("帮扶对象编号"), validators=[Length(max=16)])
    kind = SelectField(_l("类型"), choices=KIND_CHOICES, validate_choice=False)
    category = SelectField(_l("类别"), choices=CATEGORY_CHOICES, validate_choice=False)
    title = StringField(_l("标题"), validators=[Length(max=rules.TITLE_MAX)])
    description = TextAreaField(_l("说明"), validators=[Length(max=rules.DESCRIPTION_MAX)])
    what = SelectField(_l("所需内容"), choices=WHAT_CHOICES, validate_choice=False)
    items = TextAreaField(_l("所需物资"), validators=[Length(max=1000)])
    amount = StringField(_l("金额（元）"), validators=[Length(max=20)])
    service = StringField(_l("所需服务"), validators=[Length(max=rules.SERVICE_MAX)])
    beneficiary = StringField(_l("受助人"), validators=[Length(max=rules.BENEFICIARY_MAX)])
    expires_on = StringField(_l("截止日期"), validators=[Optional(), Length(max=10)])
    photo = FileField(_l("照片（可选）"))

    def to_input(self) -> rules.NeedInput:
        """The typed values as a rules.NeedInput (a bad amount, date or item line: 400 on its
        field)."""
        from datetime import date
        errors: dict[str, list] = {}
        amount = None
        if (self.amount.data or "").strip():
            try:
                amount = parse_yuan(self.amount.data)
            except MoneyFormatError:
                errors["amount"] = ["金额格式不正确，例如 200 或 199.50"]
        expires = None
        if (self.expires_on.data or "").strip():
            try:
                expires = date.fromisoformat(self.expires_on.data.strip())
            except ValueError:
                errors["expires_on"] = ["日期格式应为 YYYY-MM-DD"]
        items = parse_item_lines(self.items.data or "", errors)
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        return rules.NeedInput(
            kind=self.kind.data or "need", category=self.category.data or "",
            title=self.title.data or "", description=self.description.data or "",
            what=self.what.data or "", items=items, amount_fen=amount,
            service=self.service.data or "", beneficiary=self.beneficiary.data or "",
            expires_on=expires)

    def fill(self, need) -> None:
        from marketplace.core.money import fen_to_yuan_text
        self.kind.data, self.category.data, self.what.data = (
            str(need.kind), str(need.category), str(need.what))
        self.title.data, self.description.data = need.title, need.description
        self.items.data = item_lines(need.items)
        self.amount.data = fen_to_yuan_text(need.amount_fen) if need.amount_fen else ""
        self.service.data, self.beneficiary.data = need.service, need.beneficiary
        self.expires_on.data = need.expires_on.isoformat()


def parse_item_lines(text: str, errors: dict) -> list[dict]:
    """One item a line: 名称 数量 [单位] (书包 1 个)."""
    out = []
    for number, line in enumerate((x.strip() for x in text.splitlines()), start=1):
        if not line:
            continue
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            errors["items"] = [Msg("第 %(n)s 行应为：名称 数量 单位，例如：书包 1 个", n=number)]
            return []
        out.append({"name": parts[0], "quantity": int(parts[1]),
                    "unit": " ".join(parts[2:])})
    return out


def item_lines(items) -> str:
    return "\n".join(f"{i['name']} {i['quantity']} {i.get('unit', '')}".strip()
                     for i in items or [])


class ReviewForm(Form):
    reason = StringField(_l("理由"), validators=[Length(max=rules.REASON_MAX)])


class ClaimForm(Form):
    amount = StringField(_l("认领金额（元，不填则认领剩余全部）"), validators=[Length(max=20)])

    def amount_fen(self) -> int | None:
        if not (self.amount.data or "").strip():
            return None
        try:
            return parse_yuan(self.amount.data)
        except MoneyFormatError:
            raise ValidationFailed("金额格式不正确，例如 200 或 199.50", field="amount") from None


class DeliveryForm(Form):
    kind = SelectField(_l("交付方式"), choices=DELIVERY_CHOICES, validate_choice=False)
    note = TextAreaField(_l("交付说明"), validators=[Length(max=rules.NOTE_MAX)])


class ConfirmForm(Form):
    note = TextAreaField(_l("收到情况"), validators=[Length(max=rules.NOTE_MAX)])
    photo = FileField(_l("照片（可选）"))


class FlagForm(Form):
    reason = SelectField(_l("举报原因"), choices=FLAG_CHOICES, validate_choice=False)
    note = StringField(_l("补充说明"), validators=[Length(max=200)])
