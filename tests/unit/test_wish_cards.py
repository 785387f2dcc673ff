"""Micro-wish cards (help.needs.cards): the QR code is a valid inline SVG drawing exactly the QR
code of the wish's phone address, and a card shows masked names only."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from flask import Flask
from flask_babel import Babel

from marketplace.help.needs import cards
from marketplace.help.needs.models import Need, NeedKind, NeedStatus, NeedWhat
from marketplace.help.needs.wish_views import bp
from marketplace.households.models import Household
from marketplace.regions.models import Region

URL = "https://help.example.test/wishes/42"


def dark_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules an SVG of segno's (scale 1, one path of horizontal runs) draws, as
    (column, row): read back from the path, independently of segno."""
    root = ET.fromstring(svg)
    [path] = [p for p in root.iter() if p.tag.endswith("path") and p.get("stroke")]
    x = y = 0.0
    dark = set()
    for op, a, b in re.findall(r"([Mmh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                dark.add((int(x) + i, int(y)))
            x += float(a)
    return dark


def segno_modules(text: str) -> set[tuple[int, int]]:
    code = cards.qr_code(text)
    return {(c, r) for r, row in enumerate(code.matrix_iter(border=cards.QR_BORDER))
            for c, on in enumerate(row) if on}


def test_the_svg_is_valid_and_labelled():
    svg = str(cards.qr_svg(URL, "微心愿 <书包> 的二维码"))
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == "svg" and root.get("role") == "img"
    assert root.get("aria-label") == "微心愿 <书包> 的二维码"  # escaped, read back whole
    assert root.get("class") == "qr-code"
    assert root.get("viewBox") and root.get("width") is None  # sized by the stylesheet
    assert "style=" not in svg and "<script" not in svg  # nothing the CSP refuses


def test_the_svg_draws_the_qr_code_of_the_url():
    svg = str(cards.qr_svg(URL, "二维码"))
    assert dark_modules(svg) == segno_modules(URL)
    assert dark_modules(svg) != segno_modules(URL.replace("42", "43"))
    code = cards.qr_code(URL)
    assert code.error == "M" and not code.is_micro  # readable by phones' camera apps
    size = code.symbol_size(border=cards.QR_BORDER)[0]
    assert ET.fromstring(svg).get("viewBox") == f"0 0 {size} {size}"


@pytest.fixture
def url_app():
    app = Flask(__name__)
    app.config["SERVER_NAME"] = "help.example.test"
    app.config["PREFERRED_URL_SCHEME"] = "https"
    app.register_blueprint(bp)
    Babel(app)
    return app


def test_the_encoded_text_is_the_absolute_phone_address(url_app):
    with url_app.app_context():
        assert cards.wish_url(42) == URL


def wish(**kw) -> Need:
    village = Region(code="430525101201", name="洪溪村",
                     name_path="湖南省/邵阳市/洞口县/月溪镇/洪溪村")
    values = dict(id=42, kind=NeedKind.wish, title="一个新书包", beneficiary="孙女，8岁",
                  description="上小学二年级", what=NeedWhat.amount, amount_fen=12000,
                  claimed_fen=0, expires_on=date(2026, 12, 31), status=NeedStatus.open,
                  household=Household(head_name="张三明", village=village), village=village)
    values.update(kw)
    return Need(**values)


def test_a_card_shows_the_wish_with_a_masked_name(url_app):
    with url_app.app_context():
        card = cards.card(wish())
    assert card.url == URL
    assert (card.title, card.beneficiary, card.household, card.village) == (
        "一个新书包", "孙女，8岁", "张*明", "洞口县月溪镇洪溪村")
    assert card.amount_fen == 12000 and card.remaining_fen == 12000
    assert card.expires_on == date(2026, 12, 31) and card.claimable
    assert "张三明" not in repr(card)
    assert dark_modules(str(card.qr)) == segno_modules(URL)


def test_a_partly_claimed_or_fulfilled_card(url_app):
    with url_app.app_context():
        part = cards.card(wish(claimed_fen=5000))
        done = cards.card(wish(claimed_fen=12000, status=NeedStatus.fulfilled), url=URL + "?x")
    assert part.remaining_fen == 7000 and part.status_label == "待认领"
    assert not done.claimable and done.remaining_fen == 0 and done.status_label == "已完成"
    assert dark_modules(str(done.qr)) == segno_modules(URL + "?x")
