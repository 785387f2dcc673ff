"""The household registration form. Values are checked by households.services; the form only
collects them, so every message a user sees comes from one place."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from marketplace.core.forms import Form

STATUS_CHOICES = [
    ("poor", _l("建档立卡户")),
    ("lifted", _l("脱贫户")),
    ("monitored", _l("监测户")),
]


class HouseholdForm(Form):
    # choices are filled per actor by the view; membership is checked there with a Chinese
    # message (WTForms' own "Not a valid choice" would be English)
    village_code = SelectField(_l("所在村"), validate_choice=False,
                               validators=[DataRequired(_l("请选择帮扶对象所在的村"))])
    head_name = StringField(_l("户主姓名"), validators=[
        DataRequired(_l("请填写户主姓名")), Length(max=16, message=_l("户主姓名不能超过 16 个字"))])
    id_number = StringField(_l("户主身份证号码"), validators=[
        DataRequired(_l("请填写户主身份证号码")), Length(max=32, message=_l("身份证号码应为 18 位"))])
    size = StringField(_l("家庭人口"), validators=[DataRequired(_l("请填写家庭人口"))])
    status = SelectField(_l("帮扶对象类别"), choices=STATUS_CHOICES, validate_choice=False,
                         validators=[DataRequired(_l("请选择帮扶对象类别"))])
    liaison_id = SelectField(_l("帮扶联络人"), validate_choice=False)


class PublicPageForm(Form):
    """Consent to the household's public page (given or withdrawn: the view's route says)."""
    method = StringField(_l("户主同意的方式"), validators=[Length(max=100)])
