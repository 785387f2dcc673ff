"""Chinese by default, English on request; catalogues compiled from .po on start when stale."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

from flask import Blueprint, Flask, current_app, g, redirect, request, session, url_for
from flask_babel import get_locale, get_translations

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
        tmp = mo.with_suffix(f".mo.{os.getpid()}.tmp")  # several workers may start at once
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo)


@bp.route("/lang/<code>")
def switch(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    from marketplace.core.inputs import safe_next
    return redirect(safe_next(request.args.get("next"), url_for("storefront.home")))


def _translations():
    """The request's translations, looked up once per request instead of once per text (a
    catalogue page has some fifty texts; Flask-Babel resolves the locale on every call)."""
    translations = g.get("_i18n_translations")
    if translations is None:
        translations = g._i18n_translations = get_translations()
    return translations


def register(app: Flask) -> None:
    """After babel.init_app: the language switch, the locale in templates, fast template texts."""
    app.register_blueprint(bp)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )

    @app.context_processor
    def _locale():
        loc = str(get_locale() or "zh")
        return {"current_locale": loc, "html_lang": "zh-CN" if loc == "zh" else loc}


class Msg(str):
    """A Chinese message with named placeholders already filled in, that keeps its template and
    values so that it can still be shown in the user's language: services raise
    `ValidationFailed(Msg("每个商品最多 %(limit)s 张图片", limit=5))` instead of an f-string (a
    formatted string has no catalogue entry). It is a plain str everywhere else. Values that are
    Msg themselves are translated too."""

    template: str
    values: dict

    def __new__(cls, template: str, **values):
        self = super().__new__(cls, template % values if values else template)
        self.template = template
        self.values = values
        return self


def translate_message(message: str) -> str:
    """A domain error's Chinese message in the user's language, when the catalogue has it."""
    from flask_babel import gettext
    try:
        if isinstance(message, Msg):
            values = {k: translate_message(v) if isinstance(v, Msg) else v
                      for k, v in message.values.items()}
            return gettext(message.template, **values) if values else gettext(message.template)
        return gettext(message) if message else message
    except Exception:  # outside a request, or a message with a stray % sign
        return message


# Chinese characters (CJK ideographs); punctuation alone is not text to translate
IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Python files whose Chinese string literals are not text shown to users of the site: terminal
# output of the flask commands, demo data, the OpenAPI document. Only their _()/lazy_gettext/Msg
# calls are extracted. Every other Chinese string literal in marketplace/ is user-facing text
# (label tables, DomainError messages, messages collected into error dicts, Msg templates) that
# is translated when shown (templates' _(label), translate_message) and so is extracted.
KEYWORD_ONLY_FILES = ("marketplace/cli.py", "marketplace/seed/**.py", "marketplace/api/openapi.py",
                      "marketplace/api/schemas.py",
                      "marketplace/search/analysis.py")  # its Chinese is units, not text

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2), "Msg": (1,)}


def chinese_literals(source: str):
    """(lineno, text) of every string literal with Chinese characters in a module, leaving out
    docstrings. Parts of f-strings are answered as (lineno, None): they cannot be translated."""
    import ast

    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
            if any(isinstance(v, ast.Constant) and IDEOGRAPH.search(str(v.value))
                   for v in node.values):
                yield node.lineno, None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in skip and IDEOGRAPH.search(node.value)):
            yield node.lineno, node.value


def extract_python_all_chinese(fileobj, keywords, comment_tags, options):
    """Babel's Python extractor plus every other Chinese string literal of the module (see
    KEYWORD_ONLY_FILES)."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    for lineno, text in chinese_literals(source.decode(options.get("encoding") or "utf-8")):
        if text is not None:
            yield lineno, None, text, []


def extract_catalog(project_root: Path):
    """Collect every translatable string of the code and templates (a babel Catalog)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(locale=None, charset="utf-8")
    method_map = [(pattern, "python") for pattern in KEYWORD_ONLY_FILES]
    method_map += [("marketplace/**.py", extract_python_all_chinese),
                   ("templates/**.html", "jinja2")]
    for filename, lineno, message, comments, context in extract_from_dir(
            str(project_root), method_map=method_map, keywords=KEYWORDS,
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
