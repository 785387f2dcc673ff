from __future__ import annotations

from flask import Flask, request, url_for
from flask_babel import get_locale

from marketplace.core.money import fen_to_yuan_text, format_fen
from marketplace.core.time import CHINA


def _localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if hasattr(value, "astimezone"):
        value = value.astimezone(CHINA)
    return value.strftime(fmt)


def percent_text(bp: int | None) -> str:
    """Basis points as a percent without trailing zeros: 3000 -> '30%', 1250 -> '12.5%',
    -250 -> '-2.5%'."""
    if bp is None:
        return ""
    sign = "-" if int(bp) < 0 else ""
    whole, part = divmod(abs(int(bp)), 100)
    return sign + (f"{whole}%" if not part else f"{whole}.{part:02d}".rstrip("0") + "%")


def _url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def _category_name(category) -> str:
    return category.name_for(str(get_locale() or "zh")) if category else ""


def register(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_fen
    app.jinja_env.filters["yuan"] = fen_to_yuan_text
    app.jinja_env.filters["localtime"] = _localtime
    app.jinja_env.filters["percent"] = percent_text
    app.jinja_env.globals["url_with"] = _url_with
    app.jinja_env.globals["category_name"] = _category_name
    from marketplace.core.i18n import translate_message
    app.jinja_env.globals["translate"] = translate_message  # a service's Msg, in the page language
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
