"""Forms of the donation pool's pages: shape checks only; the services own the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length

from marketplace.core.forms import Form


class DonateForm(Form):
    amount = StringField(_l("捐赠金额（元）"), validators=[Length(max=20)])
    display_name = StringField(_l("公示署名（可不填，默认匿名）"), validators=[Length(max=40)])


class AllocateForm(Form):
    amount = StringField(_l("拨付金额（元）"), validators=[Length(max=20)])
    reason = StringField(_l("拨付说明"), validators=[Length(max=200)])


class PledgeForm(Form):
    share = StringField(_l("承诺比例（%）"), validators=[Length(max=8)])
    starts_on = StringField(_l("开始日期"), validators=[Length(max=10)])
    ends_on = StringField(_l("结束日期"), validators=[Length(max=10)])
    note = StringField(_l("承诺说明"), validators=[Length(max=200)])


class ActionForm(Form):
    """A one-click POST (pay a month, end a pledge): its CSRF token only."""
