"""Domain and HTTP errors become a page in the user's language, or JSON under /api."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from marketplace.core.errors import DomainError
from marketplace.core.i18n import translate_message
from marketplace.extensions import db

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "rule_broken", 429: "too_many_requests",
    500: "internal_error",
}


def _messages() -> dict[int, str]:
    return {
        400: _("请求有误，请检查后重试。"),
        401: _("请先登录。"),
        403: _("您没有访问此页面的权限。"),
        404: _("页面不存在，或您无权查看。"),
        405: _("不支持此操作方式。"),
        413: _("上传的内容太大：每张图片不能超过 5 MB。"),
        500: _("服务器开小差了，请稍后再试。我们已记录此问题。"),
    }


def json_error(status: int, code: str, message: str, details: dict | None = None):
    resp = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    resp.status_code = status
    return resp


def _is_api() -> bool:
    """Whether the client reads JSON: the API, and the providers' webhooks (/payments/...)."""
    return request.path.startswith(("/api/", "/payments/"))


def _page(status: int, message: str):
    return render_template("errors/error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        db.session.rollback()
        message = translate_message(err.message)
        if _is_api():
            return json_error(err.status, str(err.code), message, err.details)
        if err.status == 401:
            return app.login_manager.unauthorized()
        return _page(err.status, message)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        db.session.rollback()
        message = _("页面已过期或缺少安全令牌，请刷新页面后重新提交。")
        if _is_api():
            return json_error(400, "csrf_failed", message)
        return _page(400, message)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        if _is_api():
            message = _messages().get(status, err.description or "")
            resp = json_error(status, HTTP_CODES.get(status, "http_error"), message)
            if status == 405 and getattr(err, "valid_methods", None):
                resp.headers["Allow"] = ", ".join(err.valid_methods)
            return resp
        return _page(status, _messages().get(status, err.description or ""))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            db.session.rollback()
        except Exception:  # pragma: no cover - the session itself may be broken
            pass
        if app.config.get("PROPAGATE_EXCEPTIONS_IN_TESTS"):
            raise err
        if _is_api():
            return json_error(500, "internal_error", _messages()[500])
        return _page(500, _messages()[500])
