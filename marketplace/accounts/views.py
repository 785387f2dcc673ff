from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from marketplace.accounts import services
from marketplace.accounts.forms import LoginForm, PasswordForm, RegisterForm
from marketplace.accounts.models import ROLE_LABELS
from marketplace.core.errors import ValidationFailed
from marketplace.core.forms import form_status, submit
from marketplace.core.inputs import safe_next
from marketplace.core.policy import login_required
from marketplace.extensions import db

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("storefront.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    done = submit(form, lambda: services.authenticate(db.session, form.login.data,
                                                      form.password.data),
                  success=lambda user: _("欢迎回来，%(name)s", name=user.display_name))
    if done.ok:
        login_user(done.value, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), form_status(form)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("storefront.home"))
    form = RegisterForm()
    done = submit(form, lambda: services.register_user(db.session, services.Registration(
        form.login.data, form.password.data, form.display_name.data)),
        success=_("注册成功，欢迎加入消费帮扶！"))
    if done.ok:
        login_user(done.value)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/register.html", form=form), form_status(form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("您已退出登录"), "success")
    return redirect(url_for("storefront.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    done = submit(form, lambda: _change_password(form), success=_("密码已修改"))
    if done.ok:
        return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form, role_labels=ROLE_LABELS)


def _change_password(form: PasswordForm) -> None:
    if not check_password_hash(current_user.password_hash, form.current.data):
        raise ValidationFailed(_("当前密码不正确"), field="current")
    services.set_password(current_user, form.password.data)
