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


def translate_message(message: str) -> str:
    """A domain error's Chinese message in the user's language, when the catalogue has it."""
    from flask_babel import gettext
    try:
        return gettext(message) if message else message
    except Exception:  # outside a request, or a message with a stray % sign
        return message


def extract_catalog(project_root: Path):
    """Collect every translatable string of the code and templates (a babel Catalog)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(locale=None, charset="utf-8")
    method_map = [("marketplace/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
                "_l": None}
    # domain errors carry Chinese messages that are translated when shown (core.forms,
    # core.errorhandlers); collect their literal first arguments too
    for name in ("DomainError", "ValidationFailed", "NotFound", "Forbidden", "Unauthorized",
                 "Conflict", "Duplicate", "RuleBroken", "IllegalTransition"):
        keywords[name] = (1,)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(project_root), method_map=method_map, keywords=keywords,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update_catalog(project_root: Path, locale: str = "en") -> tuple[int, list[str]]:
    """Merge newly extracted strings into translations/<locale>/LC_MESSAGES/messages.po.
    Answers (number of messages, msgids still untranslated)."""
    from babel.messages.pofile import read_po, write_po

    template = extract_catalog(project_root)
    po_path = Path(__file__).resolve().parent.parent / "translations" / locale / "LC_MESSAGES" \
        / "messages.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    with po_path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=False)
    missing = [m.id for m in catalog if m.id and not m.string]
    return len([m for m in catalog if m.id]), missing


def register_cli(app: Flask) -> None:
    import click

    @app.cli.group("i18n", help="Translations: update the English catalogue from the sources.")
    def i18n_group():
        pass

    @i18n_group.command("update")
    def update_cmd():
        """Extract strings from code and templates into translations/en (keeps translations)."""
        from marketplace.config import PROJECT_ROOT
        total, missing = update_catalog(PROJECT_ROOT)
        click.echo(f"{total} messages, {len(missing)} without an English translation")
        for msgid in missing[:50]:
            click.echo(f"  - {msgid}")
