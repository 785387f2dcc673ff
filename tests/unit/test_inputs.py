"""The input rules of marketplace.core.inputs: bounded whole numbers, hidden characters in
texts, JSON depth and values, and the one safe-redirect rule (a table of known bypasses)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.core.errors import ValidationFailed
from marketplace.core.inputs import (
    BIGINT_MAX,
    bounded_int,
    check_json,
    check_text,
    id_value,
    json_depth_exceeds,
    safe_next,
    text_problem,
)

HOME = "/"

# every one of these must stay on the site: the rule answers the default (or a plain path)
BYPASSES = [
    "//evil.example", "///evil.example", "////evil.example", "/\\evil.example",
    "\\\\evil.example", "\\/evil.example", "/\t/evil.example", "/\n/evil.example",
    "/\r\n/evil.example", "\t//evil.example", " //evil.example", "/ /evil.example",
    "/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/%2F/evil.example",
    "/%2f%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%5C%5Cevil.example",
    "/%252F%252Fevil.example", "https:evil.example", "https://evil.example",
    "http://evil.example", "HTTP://evil.example", "//evil.example/%2F..", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>1</script>",
    "vbscript:msgbox(1)", "evil.example", "@evil.example", "/\u3000/evil.example",
    "/\u200b/evil.example", "/\u202e/evil.example", "/\ufeff/evil.example",
    "/\x00/evil.example", "/\x1b/evil.example", "/\x7f/evil.example", "/\u0085/evil.example",
    "\u2028//evil.example", "/\u00a0/evil.example", "/\\\t\\evil.example", "\x00",
    "/\udc80/x", "ftp://evil.example", "//user@evil.example", "https:/evil.example",
    "https:\\\\evil.example", "///\\evil.example", "/.//evil.example/..",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_no_next_leaves_the_site(target):
    result = safe_next(target, HOME)
    assert result.startswith("/") and not result.startswith("//")
    assert "evil.example" not in result.split("/")[1:2] or result == HOME
    assert not any(ord(c) < 0x21 or 0x7f <= ord(c) <= 0x9f for c in result)
    assert "\\" not in result


@pytest.mark.parametrize("target,expected", [
    ("/orders/12?tab=paid", "/orders/12?tab=paid"),
    ("/products?q=%E8%8C%B6", "/products?q=%E8%8C%B6"),
    ("/seller/products#top", "/seller/products#top"),
    ("/搜索?q=茶", "/搜索?q=茶"),
    (None, HOME), ("", HOME), (12, HOME),
])
def test_a_plain_path_is_kept(target, expected):
    assert safe_next(target, HOME) == expected


@given(st.text(max_size=40))
def test_safe_next_never_raises_and_stays_home(text):
    result = safe_next(text, HOME)
    assert result.startswith("/") and not result.startswith("//")
    assert "\\" not in result


@pytest.mark.parametrize("raw,expected", [
    ("12", 12), (" 7 ", 7), ("9223372036854775807", BIGINT_MAX),
    ("9223372036854775808", None), ("99999999999999999999", None), ("0", None), ("-1", None),
    ("1e3", None), ("٣", None), ("１２", None), ("", None), (None, None), ("12abc", None),
    (True, None), (5, 5), (2**64, None), ("9" * 5000, None),
])
def test_id_value(raw, expected):
    assert id_value(raw) == expected


def test_bounded_int_range():
    assert bounded_int("-3", -5, 5) == -3
    assert bounded_int("6", -5, 5) is None


@pytest.mark.parametrize("text,multiline,bad", [
    ("张三", False, False), ("第一行\n第二行", True, False), ("第一行\n第二行", False, True),
    ("a\tb", True, False), ("a\tb", False, True), ("a\x00b", True, True), ("a\x1bb", True, True),
    ("a\u202eb", False, True), ("a\u2066b", False, True), ("a\u200bb", False, True),
    ("a\ufeffb", False, True), ("a\udc80", False, True), ("a\x85b", False, True),
    ("emoji 🍵", False, False), ("全角　空格", False, False),
])
def test_text_problem(text, multiline, bad):
    assert (text_problem(text, multiline=multiline) is not None) is bad


def test_check_text_names_the_field_and_normalises_line_ends():
    with pytest.raises(ValidationFailed) as err:
        check_text("x\u202ey", "name", "商品名称")
    assert err.value.field == "name" and "商品名称" in err.value.message
    assert check_text("a\r\nb\rc", "d", multiline=True) == "a\nb\nc"


def test_check_json_names_every_bad_field():
    body = {"lines": [{"product_id": 2**63, "quantity": 1}], "address": {"name": "a\x00"},
            "description": "一\n二", "note": "ok"}
    with pytest.raises(ValidationFailed) as err:
        check_json(body, multiline=frozenset({"description"}))
    assert set(err.value.errors) == {"lines[0].product_id", "address.name"}
    check_json({"description": "一\n二", "n": -BIGINT_MAX}, multiline=frozenset({"description"}))
    with pytest.raises(ValidationFailed):
        check_json({"bad\u200bkey": 1})
    with pytest.raises(ValidationFailed):
        check_json({"x": float("nan")})


def test_json_depth():
    deep = []
    node = deep
    for _ in range(1000):
        node.append([])
        node = node[0]
    assert json_depth_exceeds(deep)
    assert not json_depth_exceeds([[[{"a": [1]}]]])
    assert json_depth_exceeds([[[{"a": [1]}]]], limit=4)


def test_every_form_keeps_the_rules():
    """Every FlaskForm of the site is a core.forms.Form (a form that skipped it would take
    hidden characters and huge numbers again)."""
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import marketplace
    from marketplace.core.forms import Form
    for info in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
        if info.name.endswith(".forms"):
            importlib.import_module(info.name)
    forms = []
    stack = list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("marketplace."):
            forms.append(cls)
    assert len(forms) > 15
    assert [f.__qualname__ for f in forms if not issubclass(f, Form)] == []
