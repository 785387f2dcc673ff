"""Seller console forms. Shape checks only; the services own the rules and their messages.

Selects whose choices come from the database (regions, categories, villages) are filled by the
view and do not validate the choice themselves: the service answers a bad value in Chinese.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marketplace.core.forms import Form
from marketplace.sellers.models import SellerKind


def kind_choices():
    return [
        (SellerKind.cooperative.value, _l("农民专业合作社")),
        (SellerKind.enterprise.value, _l("带农企业")),
        (SellerKind.household_shop.value, _l("农户店铺")),
    ]


class ApplyForm(Form):
    kind = SelectField(_l("经营主体类型"), choices=kind_choices, validate_choice=False)
    name = StringField(_l("名称"), validators=[Length(max=100)])
    region_code = SelectField(_l("所在地区"), choices=[], validate_choice=False)
    contact_name = StringField(_l("联系人"), validators=[Length(max=32)])
    contact_mobile = StringField(_l("联系手机"), validators=[Length(max=20)])
    description = TextAreaField(_l("简介"), validators=[Length(max=2000)])
    credit_code = StringField(_l("统一社会信用代码"), validators=[Optional(), Length(max=30)])
    household_code = StringField(_l("帮扶对象编号"), validators=[Optional(), Length(max=16)])
    household_id_number = StringField(_l("户主身份证号码"),
                                      validators=[Optional(), Length(max=30)])


class ProductForm(Form):
    name = StringField(_l("商品名称"), validators=[Length(max=100)])
    category = SelectField(_l("分类"), choices=[], validate_choice=False)
    spec = StringField(_l("规格"), validators=[Length(max=64)])
    description = TextAreaField(_l("商品介绍"), validators=[Length(max=5000)])
    price = StringField(_l("价格（元）"), validators=[Length(max=20)])
    stock = StringField(_l("库存"), validators=[Length(max=12)])
    origin_code = SelectField(_l("产地（村）"), choices=[], validate_choice=False)
    certificate_no = StringField(_l("帮扶产品认定证书号"), validators=[Length(max=64)])
    certificate_valid_until = StringField(_l("证书有效期至"), validators=[Length(max=10)])
    images = MultipleFileField(_l("商品图片"))


class MemberForm(Form):
    household_code = StringField(_l("帮扶对象编号"), validators=[Length(max=16)])
    weight = StringField(_l("权重"), default="1", validators=[Length(max=8)])


class LotForm(Form):
    product_id = SelectField(_l("商品"), choices=[], validate_choice=False)
    # the seller's own households (members, linked households), filled by the view
    household_code = SelectField(_l("农户"), choices=[], validate_choice=False)
    quantity = StringField(_l("数量（按商品规格计）"), validators=[Length(max=8)])
    unit_price = StringField(_l("收购单价（元）"), validators=[Length(max=20)])
    purchased_on = StringField(_l("收购日期"), validators=[Length(max=10)])


class ProductTermsForm(Form):
    share = StringField(_l("帮扶比例（%）"), validators=[Length(max=8)])
    lot_backed = BooleanField(_l("帮扶收入按收购批次计入农户"))
    guaranteed_price = StringField(_l("保底收购价（元，每件）"), validators=[Length(max=20)])


class SellerShareForm(Form):
    share = StringField(_l("帮扶比例（%）"), validators=[Length(max=8)])


# the fields of ProductForm that map onto catalog.services.ProductInput
PRODUCT_FIELDS = ("name", "category", "spec", "description", "price", "stock", "origin_code",
                  "certificate_no", "certificate_valid_until")
