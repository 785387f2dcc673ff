"""Pure rules of needs, wishes and claims (help.needs.rules)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from marketplace.core.errors import ValidationFailed
from marketplace.help.needs import rules
from marketplace.help.needs.models import NeedKind, NeedWhat
from marketplace.search.analysis import token_texts

TODAY = date(2026, 6, 1)


def need(**kw) -> rules.NeedInput:
    base = dict(category="education", title="孩子上学需要书包", what="items",
                items=[{"name": "书包", "quantity": 1, "unit": "个"}])
    base.update(kw)
    return rules.NeedInput(**base)


def test_a_need_of_goods_defaults_its_expiry():
    clean = rules.clean_need(need(), today=TODAY)
    assert clean.kind == NeedKind.need and clean.what == NeedWhat.items
    assert clean.items == [{"name": "书包", "quantity": 1, "unit": "个"}]
    assert clean.expires_on == TODAY + timedelta(days=60)
    assert clean.amount_fen is None


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ValidationFailed) as err:
        rules.clean_need(rules.NeedInput(category="toys", title="短", what="amount",
                                         amount_fen=0, expires_on=TODAY), today=TODAY)
    assert set(err.value.errors) == {"category", "title", "amount", "expires_on"}


@pytest.mark.parametrize("items", [[], "书包", [{"name": "书包", "quantity": 0}],
                                   [{"name": "", "quantity": 1}],
                                   [{"name": "书包", "quantity": True}],
                                   [{"name": "书包", "quantity": 1, "price": 3}],
                                   [{"name": "x", "quantity": 1}] * 11])
def test_bad_items(items):
    with pytest.raises(ValidationFailed) as err:
        rules.clean_need(need(items=items), today=TODAY)
    assert "items" in err.value.errors


def test_expiry_at_most_a_year():
    rules.clean_need(need(expires_on=TODAY + timedelta(days=365)), today=TODAY)
    with pytest.raises(ValidationFailed):
        rules.clean_need(need(expires_on=TODAY + timedelta(days=366)), today=TODAY)


def test_a_wish_needs_a_person_and_a_capped_amount():
    ok = rules.clean_need(need(kind="wish", what="amount", amount_fen=50_000,
                               beneficiary="孙女，8岁"), today=TODAY)
    assert ok.amount_fen == 50_000 and ok.beneficiary == "孙女，8岁"
    goods = rules.clean_need(need(kind="wish", amount_fen=12_000, beneficiary="爷爷，78岁"),
                             today=TODAY)
    assert goods.items and goods.amount_fen == 12_000
    with pytest.raises(ValidationFailed) as err:
        rules.clean_need(need(kind="wish", what="amount", amount_fen=50_001), today=TODAY)
    assert set(err.value.errors) == {"beneficiary", "amount"}
    with pytest.raises(ValidationFailed):
        rules.clean_need(need(kind="wish", what="amount", amount_fen=20_000, beneficiary="孙女"),
                         today=TODAY, wish_cap_fen=10_000)
    with pytest.raises(ValidationFailed) as err:
        rules.clean_need(need(kind="wish", what="service", service="辅导功课",
                              beneficiary="孙女"), today=TODAY)
    assert "what" in err.value.errors


def test_hidden_characters_are_refused():
    with pytest.raises(ValidationFailed) as err:
        rules.clean_need(need(title="书包\u202e书包书包"), today=TODAY)
    assert "title" in err.value.errors


def test_claim_share():
    assert rules.claim_share(NeedWhat.amount, 10_000, 3_000, None) == 7_000
    assert rules.claim_share(NeedWhat.amount, 10_000, 3_000, 2_000) == 2_000
    for bad in (0, 7_001, True):
        with pytest.raises(ValidationFailed):
            rules.claim_share(NeedWhat.amount, 10_000, 3_000, bad)
    with pytest.raises(ValidationFailed):
        rules.claim_share(NeedWhat.amount, 10_000, 10_000, None)
    assert rules.claim_share(NeedWhat.items, None, 0, None) is None
    with pytest.raises(ValidationFailed):
        rules.claim_share(NeedWhat.service, None, 0, 100)


def test_reason_and_note():
    assert rules.check_reason(" 照片不清楚 ") == "照片不清楚"
    for bad in ("", "x", "长" * 201):
        with pytest.raises(ValidationFailed):
            rules.check_reason(bad)
    assert rules.check_note("已收到\r\n谢谢") == "已收到\n谢谢"
    with pytest.raises(ValidationFailed):
        rules.check_note("长" * 501)


def test_hold_and_search_document():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert rules.hold_until(now, 7) == now + timedelta(days=7)
    doc = rules.search_document("孩子上学需要书包", "洪溪村", token_texts)
    assert doc.startswith(" ") and doc.endswith(" ")
    assert " 书包 " in doc and " 书 " in doc and " shubao " in doc
