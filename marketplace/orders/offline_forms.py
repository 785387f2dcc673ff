"""The offline sale page's form (the head of the sale; its lines are rows of plain fields that
orders.offline_views reads) and the import's upload form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import Length

from marketplace.core.forms import Form
from marketplace.orders import offline


class OfflineSaleForm(Form):
    sold_on = StringField(_l("销售日期"), validators=[Length(max=10)])
    place = StringField(_l("地点或活动"), validators=[Length(max=offline.PLACE_MAX)])
    payment_method = RadioField(_l("付款方式"), choices=[
        (offline.PaymentMethod.cash.value, _l("现金")),
        (offline.PaymentMethod.transfer.value, _l("转账"))], validate_choice=False,
        default=offline.PaymentMethod.cash.value)
    receipt_no = StringField(_l("收据号"), validators=[Length(max=offline.RECEIPT_MAX)])
    # a published fair or live-sale event (the view fills the choices; "" for none)
    event_id = SelectField(_l("帮扶活动"), choices=[("", _l("不属于帮扶活动"))],
                           validate_choice=False)


class OfflineImportForm(Form):
    file = FileField(_l("CSV 或 xlsx 文件"))
