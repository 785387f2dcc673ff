"""Unit page forms: shape checks only; units.services owns the rules and their messages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Length

from marketplace.core.forms import Form
from marketplace.units.models import UnitKind


def kind_choices():
    return [("", _l("请选择单位类型")), (UnitKind.budget.value, _l("预算单位")),
            (UnitKind.enterprise.value, _l("企业")), (UnitKind.union.value, _l("工会")),
            (UnitKind.social_org.value, _l("社会组织"))]


class UnitApplyForm(Form):
    kind = SelectField(_l("单位类型"), choices=kind_choices, validate_choice=False)
    name = StringField(_l("单位名称"), validators=[Length(max=100)])
    credit_code = StringField(_l("统一社会信用代码"), validators=[Length(max=30)])
    region_code = SelectField(_l("所在地区"), choices=[], validate_choice=False)
    address_detail = StringField(_l("详细地址"), validators=[Length(max=200)])
    contact_name = StringField(_l("联系人"), validators=[Length(max=32)])
    contact_mobile = StringField(_l("联系手机"), validators=[Length(max=20)])
    invoice_title = StringField(_l("发票抬头（不填则为单位名称）"), validators=[Length(max=100)])


class JoinForm(Form):
    code = StringField(_l("邀请码"), validators=[Length(max=16)])


class RejectForm(Form):
    reason = StringField(_l("驳回原因"), validators=[Length(max=200)])


class NicknameForm(Form):
    board_nickname = StringField(_l("榜单昵称"), validators=[Length(max=32)])
