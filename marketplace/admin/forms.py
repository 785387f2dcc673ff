"""Platform-admin console forms: shape checks only; the services own the rules and messages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length

from marketplace.accounts.models import Role
from marketplace.core.forms import Form


def role_choices():
    return [
        (Role.buyer.value, _l("买家")),
        (Role.seller_staff.value, _l("经营主体员工")),
        (Role.liaison.value, _l("帮扶联络人")),
        (Role.office.value, _l("帮扶办")),
        (Role.unit_admin.value, _l("单位管理员")),
        (Role.platform_admin.value, _l("平台管理员")),
    ]


class VerifyForm(Form):
    """Nothing to fill in: the button and its CSRF token."""


class SuspendForm(Form):
    note = StringField(_l("暂停原因"), validators=[Length(max=200)])


class ApproveForm(Form):
    certificate_checked = BooleanField(_l("证书已核验"))


class RejectForm(Form):
    reason = StringField(_l("驳回原因"), validators=[Length(max=200)])


class GrantForm(Form):
    role = SelectField(_l("角色"), choices=role_choices, validate_choice=False)
    seller_id = SelectField(_l("经营主体"), choices=[], validate_choice=False)
    region_code = StringField(_l("行政区划代码"), validators=[Length(max=12)])


class RegionAddForm(Form):
    code = StringField(_l("代码"), validators=[Length(max=12)])
    name = StringField(_l("名称"), validators=[Length(max=64)])


class RegionRenameForm(Form):
    """Rendered with prefix='rename' so that its `name` does not clash with RegionAddForm's."""

    name = StringField(_l("新名称"), validators=[Length(max=64)])


class RegionImportForm(Form):
    file = FileField(_l("区划 CSV 文件"))
