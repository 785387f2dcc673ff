import pytest

from marketplace.core.validators import (
    classify_login,
    id_number_hash,
    mask_mobile,
    mask_name,
    normalize_credit_code,
    normalize_email,
    normalize_id_number,
    normalize_mobile,
    password_problem,
)
from tests.fixtures.factories import valid_credit_code, valid_id_number


@pytest.mark.parametrize("text,out", [
    ("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"),
    ("8613800138000", "13800138000"), ("12800138000", None), ("1380013800", None),
    ("abc", None), ("", None),
])
def test_mobile(text, out):
    assert normalize_mobile(text) == out


def test_email_and_login_kind():
    assert normalize_email(" Li@Example.COM ") == "li@example.com"
    assert normalize_email("no-at-sign") is None
    assert classify_login("li@example.com") == ("email", "li@example.com")
    assert classify_login("13800138000") == ("mobile", "13800138000")
    assert classify_login("hello") is None


@pytest.mark.parametrize("pw,ok", [("demo12345", True), ("short1", False), ("allletters", False),
                                   ("12345678", False), ("abcd1234", True), ("aaaa1111", False), ("a1a1a1a1", False)])
def test_password_strength(pw, ok):
    assert (password_problem(pw) is None) is ok


def test_id_number_checksum_and_birth_date():
    good = valid_id_number(7)
    assert normalize_id_number(good) == good
    assert normalize_id_number(good.lower()) == good
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert normalize_id_number(bad_check) is None
    assert normalize_id_number(valid_id_number(7, birth="19701332")) is None  # no such date
    assert normalize_id_number("43052519700101") is None  # too short
    assert normalize_id_number("") is None
    assert normalize_id_number("990525197001010072") is None  # no such province
    future = valid_id_number(7, birth="20991231")
    assert normalize_id_number(future) is None


def test_id_number_of_someone_born_before_the_county_code():
    # 洞口县 has had code 430525 since 1986; a head born in 1958 still carries it
    number = valid_id_number(3, birth="19580607")
    assert normalize_id_number(number) == number


def test_id_number_hash_is_keyed():
    n = valid_id_number(1)
    assert id_number_hash(n, "k1") != id_number_hash(n, "k2")
    assert id_number_hash(n, "k1") == id_number_hash(n, "k1")
    assert n not in id_number_hash(n, "k1")


def test_credit_code():
    code = valid_credit_code(42)
    assert normalize_credit_code(code) == code
    assert normalize_credit_code(code.lower()) == code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert normalize_credit_code(wrong) is None
    assert normalize_credit_code("12345") is None


@pytest.mark.parametrize("name,masked", [("张三明", "张*明"), ("张三", "张*"), ("欧阳小明", "欧**明"),
                                         ("李", "李*"), ("", "")])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_mobile():
    assert mask_mobile("13800138000") == "138****8000"
