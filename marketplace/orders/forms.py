from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class CheckoutForm(FlaskForm):
    recipient = StringField(_l("收件人"), validators=[DataRequired(_l("请填写收件人")),
                                                   Length(max=32)])
    mobile = StringField(_l("手机号码"), validators=[DataRequired(_l("请填写手机号码")),
                                                  Length(max=20)])
    region_code = SelectField(_l("所在地区"), validators=[DataRequired(_l("请选择收货地区"))],
                              validate_choice=False)
    detail = StringField(_l("详细地址"), validators=[DataRequired(_l("请填写详细地址")),
                                                  Length(max=200)])
    save_address = BooleanField(_l("保存到地址簿"), default=True)
    idempotency_key = HiddenField()
