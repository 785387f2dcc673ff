from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from marketplace.accounts import guard, services
from marketplace.accounts.forms import LoginForm, PasswordForm, RegisterForm
from marketplace.accounts.models import ROLE_LABELS
from marketplace.core.errors import Unauthorized, ValidationFailed
from marketplace.core.forms import commit_or_flash, form_status, submit
from marketplace.core.inputs import safe_next
from marketplace.core.policy import login_required
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.orders import lists
from marketplace.units import roster
from marketplace.units.forms import NicknameForm

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("storefront.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    done = submit(form, lambda: _authenticate(form.login.data, form.password.data),
                  success=lambda user: _("欢迎回来，%(name)s", name=user.display_name))
    if done.ok:
        login_user(done.value, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")))
    page = render_template("accounts/login.html", form=form)
    if isinstance(done.error, guard.TooManyAttempts):
        return page, 429, {"Retry-After": str(done.error.retry_after(now_utc()))}
    return page, form_status(form)


def _client_address() -> str:
    """The client's address for the sign-in guard (behind TRUSTED_PROXIES reverse proxies)."""
    return guard.client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                                current_app.config["TRUSTED_PROXIES"])


def _authenticate(login: str, password: str):
    try:
        return services.authenticate(db.session, login, password, address=_client_address())
    except (Unauthorized, guard.TooManyAttempts):
        db.session.commit()  # the failure stays counted
        raise


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
    if current_user.is_authenticated:  # this session and every other one of the user end
        services.sign_out_everywhere(db.session, current_user._get_current_object())
        db.session.commit()
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
    return _account_page(form, NicknameForm(
        data={"board_nickname": current_user.board_nickname}))


@bp.post("/account/board-nickname")
@login_required
def board_nickname():
    """The buyers' leaderboard nickname ("" = not on it): units.roster.set_board_nickname."""
    nickname_form = NicknameForm()
    done = submit(nickname_form, lambda: roster.set_board_nickname(
        db.session, current_user._get_current_object(), nickname_form.board_nickname.data or ""),
        success=_("榜单昵称已保存"))
    if done.ok:
        return redirect(url_for("accounts.account", _anchor="board-nickname"))
    return _account_page(PasswordForm(formdata=None), nickname_form), form_status(nickname_form)


def _account_page(form, nickname_form):
    return render_template("accounts/account.html", form=form, nickname_form=nickname_form,
                           role_labels=ROLE_LABELS,
                           order_tabs=[t for t in lists.BuyerTab if t is not lists.BuyerTab.all],
                           order_labels=lists.BUYER_TAB_LABELS,
                           order_counts=lists.buyer_counts(db.session, current_user.id))


def _change_password(form: PasswordForm) -> None:
    if not check_password_hash(current_user.password_hash, form.current.data):
        raise ValidationFailed(_("当前密码不正确"), field="current")
    services.set_password(current_user._get_current_object(), form.password.data)
    _stay_signed_in()


def _stay_signed_in() -> None:
    """This browser stays signed in, in the user's new session generation (remembered again if
    it was); the sessions issued before are over."""
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    login_user(current_user._get_current_object(), remember=remembered)


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """Every other browser, device and API token of the user is signed out; this one stays."""
    user = current_user._get_current_object()
    done, _value = commit_or_flash(lambda: services.sign_out_everywhere(db.session, user),
                                   _("已退出其他所有设备上的登录，API 令牌也已失效"))
    if done:
        _stay_signed_in()
    return redirect(url_for("accounts.account"))
