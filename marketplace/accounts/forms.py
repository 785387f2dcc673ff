from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from marketplace.core.forms import Form


class LoginForm(Form):
    login = StringField(_l("邮箱或手机号"), validators=[DataRequired(_l("请输入邮箱或手机号")),
                                                   Length(max=254)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码")),
                                                  Length(max=128)])
    remember = BooleanField(_l("记住我"))


class RegisterForm(Form):
    login = StringField(_l("邮箱或手机号"), validators=[DataRequired(_l("请输入邮箱或手机号")),
                                                   Length(max=254)])
    display_name = StringField(_l("昵称"), validators=[DataRequired(_l("请填写昵称")),
                                                     Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])
    confirm = PasswordField(_l("确认密码"), validators=[
        DataRequired(_l("请再次输入密码")), EqualTo("password", _l("两次输入的密码不一致"))])


class PasswordForm(Form):
    current = PasswordField(_l("当前密码"), validators=[DataRequired()])
    password = PasswordField(_l("新密码"), validators=[DataRequired()])
    confirm = PasswordField(_l("确认新密码"), validators=[
        DataRequired(), EqualTo("password", _l("两次输入的密码不一致"))])


__all__ = ["LoginForm", "RegisterForm", "PasswordForm", "EmailField"]
