"""Chinese by default, English on request; catalogues compiled from .po on start when stale."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from flask_babel import get_locale

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def ensure_compiled(directory: Path) -> None:
    """Compile every messages.po whose .mo is missing or older (the .mo files are not in git)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo)


@bp.route("/lang/<code>")
def switch(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.args.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("storefront.home")
    return redirect(target)


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _locale():
        loc = str(get_locale() or "zh")
        return {"current_locale": loc, "html_lang": "zh-CN" if loc == "zh" else loc}
