"""How a notification's message and link are stored: a Msg packed as its key and JSON values
(nested Msg kept so they are translated too) reads back as the same Msg; what no longer reads
gives None or {}, so the page falls back to the stored text."""
from __future__ import annotations

import json

from marketplace.core.i18n import Msg
from marketplace.notifications.messages import Notice, pack, pack_args, unpack, unpack_args


def test_a_nested_msg_round_trips():
    inner = Msg("订单%(status)s，不能退款", status=Msg("已取消"))
    message = Msg("订单 %(n)s：%(note)s", n="20261202-0007", note=inner)
    key, values = pack(message)
    assert key == "订单 %(n)s：%(note)s"
    assert json.loads(values) == {"n": "20261202-0007", "note": {
        "key": "订单%(status)s，不能退款", "values": {"status": {"key": "已取消", "values": {}}}}}
    back = unpack(key, values)
    assert isinstance(back, Msg) and back == message == "订单 20261202-0007：订单已取消，不能退款"
    assert back.template == message.template and back.values["n"] == "20261202-0007"
    note = back.values["note"]
    assert isinstance(note, Msg) and note.template == inner.template
    assert isinstance(note.values["status"], Msg) and note.values["status"].template == "已取消"


def test_numbers_stay_numbers_and_other_values_become_their_text():
    from datetime import date
    key, values = pack(Msg("%(a)s 件，%(d)s", a=3, d=date(2026, 12, 2)))
    assert json.loads(values) == {"a": 3, "d": "2026-12-02"}
    assert unpack(key, values) == "3 件，2026-12-02"


def test_plain_text_is_its_own_key_and_what_does_not_read_is_none():
    assert pack("还没有消息。") == ("还没有消息。", "{}")
    assert unpack("还没有消息。", "{}") == "还没有消息。"
    assert unpack("", "{}") is None  # a row from before the keys: shown with its text
    assert unpack("订单 %(n)s 已付款", "not json") is None
    assert unpack("订单 %(n)s 已付款", "{}") is None  # values that do not fit the template
    assert pack("长" * 201) == ("", "{}")  # too long for the column: shown with its text


def test_endpoint_arguments_with_an_anchor():
    packed = pack_args({"_anchor": "lots", "seller": 7, "status": None})
    assert unpack_args(packed) == {"_anchor": "lots", "seller": 7}
    assert unpack_args("") == {} and unpack_args("[1]") == {} and unpack_args("{") == {}


def test_a_notice_gives_its_columns():
    columns = Notice(Msg("订单 %(n)s 已付款，等待商家发货", n="N1"), "orders.order_page",
                     {"order_id": 5}).columns("user_")
    assert columns == {"user_text": "订单 N1 已付款，等待商家发货",
                       "user_message_key": "订单 %(n)s 已付款，等待商家发货",
                       "user_message_values": '{"n":"N1"}', "user_endpoint": "orders.order_page",
                       "user_endpoint_args": '{"order_id":5}'}
