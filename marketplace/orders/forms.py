"""The checkout form, and reading an amount typed in yuan from a form."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from marketplace.core.errors import ValidationFailed
from marketplace.core.forms import Form, posted_text
from marketplace.core.money import MoneyFormatError, parse_yuan
from marketplace.regions import services as regions


class CheckoutForm(Form):
    recipient = StringField(_l("收件人"), validators=[DataRequired(_l("请填写收件人")),
                                                   Length(max=32)])
    mobile = StringField(_l("手机号码"), validators=[DataRequired(_l("请填写手机号码")),
                                                  Length(max=20)])
    # 省 > 市 > 区县: the choices follow what is chosen above (regions.address_steps); only
    # region_code, the county (or a place below it), is the address's region
    province = SelectField(_l("省份"), validate_choice=False)
    city = SelectField(_l("城市"), validate_choice=False)
    region_code = SelectField(_l("区县"), validators=[DataRequired(_l("请选择收货地区"))],
                              validate_choice=False)
    detail = StringField(_l("详细地址"), validators=[DataRequired(_l("请填写详细地址")),
                                                  Length(max=200)])
    save_address = BooleanField(_l("保存到地址簿"), default=True)
    idempotency_key = HiddenField()


def amount_from_form(name: str = "amount") -> int | None:
    """An optional amount in yuan from the request's form (None when left empty)."""
    text = posted_text(name, _l("退款金额"))
    try:
        return parse_yuan(text) if text else None
    except MoneyFormatError:
        raise ValidationFailed("退款金额格式不对，例如 12.50", field=name) from None


def fill_address_steps(session, form) -> None:
    """Fill a form's 省 > 市 > 区县 selects (fields province, city, region_code) from what it
    holds (a saved address, or what was posted): each lists the children of the choice above
    it. The checkout and a group purchase's join form share it."""
    steps = regions.address_steps(session, form.province.data, form.city.data,
                                  form.region_code.data)
    for select_field, prompt, places, chosen in (
            (form.province, _("请选择省份"), steps.provinces, steps.province),
            (form.city, _("请选择城市"), steps.cities, steps.city),
            (form.region_code, _("请选择区县"), steps.counties, steps.county)):
        select_field.choices = [("", prompt)] + [(p.code, p.label) for p in places]
        select_field.data = chosen
