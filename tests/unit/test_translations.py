"""The English catalogue is complete: every string the code and templates show has a translation.

A new Chinese string without an English translation fails here. To fix it, run
`flask --app marketplace:create_app i18n update` and fill in its msgstr in
marketplace/translations/en/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

import re
import shutil

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations
from babel.util import pathmatch
from jinja2 import Environment

from marketplace.config import PROJECT_ROOT
from marketplace.core import i18n

PO_PATH = PROJECT_ROOT / "marketplace" / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# %(name)s, %s, %d, %.2f ... and {name}, {0}, {name!r:>8}; a JSON example like {"amount": ...}
# is not a placeholder
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[sdifrxXeEgGc%]"
                         r"|\{\w*(?:[!:][^{}]*)?\}")

# Chinese text in templates that is meant to stay Chinese: the language switch names itself
TEMPLATE_TEXT_KEPT = {("base.html", "中文")}


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def extracted():
    return i18n.extract_catalog(PROJECT_ROOT)


@pytest.fixture(scope="module")
def english():
    with PO_PATH.open("rb") as fh:
        return read_po(fh, locale="en")


def _where(message) -> str:
    return ", ".join(f"{f}:{n}" for f, n in message.locations[:3])


def test_the_extractor_finds_every_kind_of_string(extracted):
    ids = {_key(m) for m in extracted if m.id}
    samples = {
        "页面不存在，或您无权查看。": "_() in Python (core/errorhandlers.py)",
        "请输入邮箱或手机号": "lazy_gettext: a WTForms validator message (accounts/forms.py)",
        "邮箱或手机号": "lazy_gettext: a WTForms label (accounts/forms.py)",
        "账号或密码不正确": "a DomainError message (accounts/services.py)",
        "户主姓名应为 2 到 16 个字": "a message collected into an errors dict (households/services.py)",
        "已上架": "a label table (catalog/models.py PRODUCT_STATUS_LABELS)",
        "每个商品最多 %(limit)s 张图片": "a Msg template (catalog/services.py)",
        "第 %(line)s 行：%(problem)s": "a Msg template (regions/services.py)",
        "密码过于简单": "a plain return value (core/validators.py)",
        "以购代捐，消费帮扶": "_() in a template (storefront/home.html)",
        "第 %(n)s / %(m)s 页": "_() with variables in a macro (macros.html)",
    }
    missing = {text: kind for text, kind in samples.items() if text not in ids}
    assert not missing, f"the extractor misses: {missing}"
    # terminal output of the flask commands and the demo data are not page text
    assert not any(loc[0].startswith(("marketplace/cli.py", "marketplace/seed/"))
                   for m in extracted for loc in m.locations)


def test_every_extracted_string_has_an_english_translation(extracted, english):
    problems = []
    for message in extracted:
        if not message.id:
            continue
        entry = english.get(message.id, context=message.context)
        if entry is None:
            problems.append(f"not in messages.po: {_key(message)!r} ({_where(message)})")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {_key(message)!r} ({_where(message)})")
        elif not (entry.string if isinstance(entry.string, str) else all(entry.string)):
            problems.append(f"no English: {_key(message)!r} ({_where(message)})")
    assert not problems, (
        f"{len(problems)} untranslated string(s); run `flask --app marketplace:create_app i18n "
        f"update` and fill in messages.po:\n" + "\n".join(problems))


def test_no_fuzzy_entries_and_no_copied_chinese(english):
    assert not english.fuzzy, "the catalogue header is marked fuzzy"
    fuzzy = [_key(m) for m in english if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    # a translation may quote a Chinese name as an example, but is not the Chinese copied over
    copied = [_key(m) for m in english if m.id and m.string == m.id]
    assert not copied, f"msgstr is the Chinese msgid: {copied}"


def test_placeholders_match(english):
    problems = []
    for message in english:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        want = _placeholders(ids[0])
        for translated in strings:
            if translated and _placeholders(translated) != want:
                problems.append(f"{ids[0]!r}: {want} vs {translated!r}: "
                                f"{_placeholders(translated)}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_no_untranslatable_chinese_f_strings():
    """A formatted string has no catalogue entry: use Msg("... %(name)s ...", name=value)."""
    problems = []
    for path in sorted((PROJECT_ROOT / "marketplace").rglob("*.py")):
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        if any(pathmatch(pattern, rel) for pattern in i18n.KEYWORD_ONLY_FILES):
            continue
        for lineno, text in i18n.chinese_literals(path.read_text(encoding="utf-8")):
            if text is None:
                problems.append(f"{rel}:{lineno}")
    assert not problems, f"Chinese f-strings cannot be translated: {problems}"


def test_templates_have_no_chinese_outside_gettext(extracted):
    ids = {_key(m) for m in extracted if m.id}
    env = Environment(extensions=["jinja2.ext.i18n"])
    problems = []
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        rel = path.relative_to(PROJECT_ROOT / "templates").as_posix()
        for lineno, kind, value in env.lex(path.read_text(encoding="utf-8")):
            if not i18n.IDEOGRAPH.search(value):
                continue
            if kind == "data":
                text = value.strip()
                if not any(t == rel and kept in text for t, kept in TEMPLATE_TEXT_KEPT):
                    problems.append(f"{rel}:{lineno}: text {text[:40]!r}")
            elif kind == "string" and value[1:-1] not in ids:
                problems.append(f"{rel}:{lineno}: string {value[:40]} not inside _()")
    assert not problems, "Chinese text that is never translated:\n" + "\n".join(problems)


def test_the_compiled_catalogue_answers_in_english(tmp_path):
    """ensure_compiled turns the .po into a .mo that gettext reads (as at start-up)."""
    target = tmp_path / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(PO_PATH, target / "messages.po")
    i18n.ensure_compiled(tmp_path)
    translations = Translations.load(str(tmp_path), ["en"])
    assert "Page not found" in translations.gettext("页面不存在，或您无权查看。")


def test_msg_is_translated_when_shown(tmp_path):
    from flask import Flask
    from flask_babel import Babel, force_locale

    target = tmp_path / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(PO_PATH, target / "messages.po")
    i18n.ensure_compiled(tmp_path)
    app = Flask(__name__)
    Babel(app, default_locale="zh", default_translation_directories=str(tmp_path))
    label = i18n.Msg("第 %(index)s 张图片（%(name)s）", index=2, name=i18n.Msg("未命名"))
    message = i18n.Msg("%(label)s是空文件", label=label)
    assert message == "第 2 张图片（未命名）是空文件"  # a plain Chinese str everywhere else
    with app.test_request_context():
        assert i18n.translate_message(message) == message
        with force_locale("en"):
            assert i18n.translate_message(message) == "Image 2 (unnamed) is an empty file"
            assert i18n.translate_message("账号或密码不正确") == "Wrong account or password"
