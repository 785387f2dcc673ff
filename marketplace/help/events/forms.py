"""The organiser's event form and the cancel form (help.events.views)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from marketplace.core.forms import Form
from marketplace.help.events import services
from marketplace.help.events.models import EventKind


class EventForm(Form):
    kind = RadioField(_l("活动类型"), choices=[(EventKind.fair.value, _l("帮扶集市")),
                                             (EventKind.live.value, _l("直播带货"))],
                      default=EventKind.fair.value, validate_choice=False)
    title = StringField(_l("标题"), validators=[Length(max=services.TITLE_MAX)])
    # "region:<code>" (an office's region) or "unit:<id>" (a unit's event): the view's choices
    organiser_scope = SelectField(_l("主办方"), choices=[], validate_choice=False)
    organiser = StringField(_l("主办单位名称（显示在活动页）"),
                            validators=[Length(max=services.ORGANISER_MAX)])
    starts_at = StringField(_l("开始时间（北京时间）"), validators=[Length(max=19)])
    ends_at = StringField(_l("结束时间（北京时间）"), validators=[Length(max=19)])
    place = StringField(_l("地点"), validators=[Length(max=services.PLACE_MAX)])
    online = BooleanField(_l("线上活动"))
    stream_url = StringField(_l("直播链接"), validators=[Length(max=services.URL_MAX)])
    seller_ids = StringField(_l("参与经营主体编号"), validators=[Length(max=400)])
    product_ids = StringField(_l("推荐商品编号"), validators=[Length(max=400)])
    description = TextAreaField(_l("活动介绍"), validators=[Length(max=services.DESCRIPTION_MAX)])


class CancelForm(Form):
    reason = StringField(_l("取消原因"), validators=[Length(max=200)])
