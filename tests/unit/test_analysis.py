"""Chinese analysis for product search (marketplace.search.analysis): pure, no app, no database."""
import pickle
import unicodedata

import pytest
import rjieba
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from marketplace.search.analysis import (
    MAX_INITIALS,
    MAX_QUERY_TERMS,
    ChineseAnalyzer,
    QueryTerm,
    Token,
    analyze,
    initials_query,
    token_texts,
    whole_name_initials,
)
from marketplace.search.queries import highlight, parse_query, pinyin_syllables


def matches(doc_text: str, q: str) -> bool:
    """The engine's rule: every term matches; a term matches when ANY of its alternatives has
    ALL its tokens among the document's tokens."""
    tokens = {t.text for t in analyze(doc_text, pinyin=True)}
    terms = parse_query(q)
    return bool(terms) and all(
        any(all(tok in tokens for tok in alt) for alt in term.alternatives) for term in terms)


TEAS = ["湖南古楼雪峰云雾茶·明前特级绿茶", "安化黑茶 千两茶 2kg", "古丈毛尖茶叶 250g",
        "溆浦县高山茶油 5L", "桑植白茶礼盒装", "茯砖茶"]
OTHERS = ["溆浦红糯米 5斤", "洞口县雪峰蜜橘 10斤装", "麻阳冰糖橙", "湘西腊肉 500g", "溆浦县红枣"]


# ---- the cases ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", TEAS)
def test_single_character_finds_every_tea(name):
    assert matches(name, "茶")


@pytest.mark.parametrize("name", OTHERS)
def test_single_character_finds_nothing_else(name):
    assert not matches(name, "茶")


@pytest.mark.parametrize("q,name", [
    ("云雾茶", "湖南古楼雪峰云雾茶·明前特级绿茶"),
    ("雪峰", "湖南古楼雪峰云雾茶·明前特级绿茶"),
    ("绿茶", "湖南古楼雪峰云雾茶·明前特级绿茶"),
    ("红糯米", "溆浦红糯米 5斤"),
    ("糯米", "溆浦红糯米 5斤"),
    ("枣", "溆浦县红枣"),
    ("溆浦", "溆浦县"),
    ("洞口", "洞口县"),
    ("溆浦县", "溆浦县"),
    ("溆浦", "溆浦红糯米 5斤"),
    ("洞口", "洞口县雪峰蜜橘 10斤装"),
])
def test_words_and_places(q, name):
    assert matches(name, q)


@pytest.mark.parametrize("q,name", [
    ("红糯米", "溆浦黑糯米 5斤"),       # 糯米 alone is not 红糯米
    ("云雾茶", "溆浦红糯米 5斤"),
    ("溆浦", "洞口县"),
    ("洞口", "溆浦县"),
    ("雪峰", "湘西腊肉 500g"),
])
def test_words_do_not_match_elsewhere(q, name):
    assert not matches(name, q)


@pytest.mark.parametrize("q", ["chaye", "cy", "CHAYE", "ｃｈａｙｅ", "Cy", "cha", "chaye 250g"])
def test_pinyin_and_initials(q):
    assert matches("古丈毛尖茶叶 250g", q)


def test_pinyin_of_places_and_words():
    assert matches("溆浦县", "xupu")
    assert matches("溆浦县", "xp")
    assert matches("溆浦县", "xupuxian")
    assert matches("湖南古楼雪峰云雾茶·明前特级绿茶", "yunwucha")
    assert matches("湖南古楼雪峰云雾茶·明前特级绿茶", "xuefeng")
    assert not matches("古丈毛尖茶叶", "xupu")
    assert not matches("溆浦红糯米", "chaye")


@pytest.mark.parametrize("name, q", [
    ("麻阳冰糖橙 10斤", "bingtangcheng"),
    ("溆浦红糯米", "hongnuomi"),
    ("雪峰土鸡蛋礼盒", "tujidan"),
])
def test_long_pinyin_matches_however_the_name_was_segmented(name, q):
    assert matches(name, q)


@pytest.mark.parametrize("word, syllables", [
    ("bingtangcheng", ("bing", "tang", "cheng")),
    ("xianggu", ("xiang", "gu")),
    ("chaye", ("cha", "ye")),
    ("iphone", ()),
    ("btc", ()),
    ("zhuangzhuang", ("zhuang", "zhuang")),
    ("x" * 100, ()),
])
def test_pinyin_syllables(word, syllables):
    assert pinyin_syllables(word) == syllables


def test_only_long_pinyin_is_split():
    assert parse_query("tea") == [QueryTerm("tea", (("tea",),))]  # te + a: two syllables, kept
    assert parse_query("hongnuomi")[0].alternatives == (("hongnuomi",), ("hong", "nuo", "mi"))
    assert not matches("溆浦鹤珠红枣", "hongnuomi")


@pytest.mark.parametrize("name, queries", [
    ("雪峰云雾茶", ["xf", "xfy", "xfyw", "xfywc", "yw", "ywc"]),
    ("麻阳冰糖橙 10斤", ["my", "myb", "mybtc", "bt", "btc"]),  # 麻阳 + 冰糖 + 橙
    ("溆浦红糯米 5斤", ["xph", "xphnm", "hn", "hnm", "nm"]),  # 溆浦 + 红 + 糯米
    ("雪峰土鸡蛋礼盒", ["xft", "tj", "tjd", "tjdlh", "jd", "lh"]),  # 雪峰 + 土 + 鸡蛋 + 礼盒
    ("冰糖橙", ["bt", "btc"]), ("红糯米", ["hn", "hnm"]), ("土鸡蛋", ["tj", "tjd"]),
])
def test_initials_of_any_start(name, queries):
    """The initials of every prefix of two or more characters starting where a word starts,
    however segmentation cut what follows."""
    for q in queries:
        assert matches(name, q), q


@pytest.mark.parametrize("name, q", [
    ("雪峰云雾茶", "fy"),  # 峰 starts no word
    ("雪峰云雾茶", "wc"),  # nor does 雾
    ("雪峰云雾茶·明前特级绿茶", "xfywcm"),  # initials stay inside a run of Chinese characters
    ("麻阳冰糖橙 10斤", "btcj"),
    ("麻阳冰糖橙", "tc"),
    ("溆浦红糯米", "btc"),
])
def test_initials_only_from_word_starts(name, q):
    assert not matches(name, q)


def test_initials_tokens_are_bounded_and_have_spans():
    name = "湖南古楼雪峰云雾茶有限公司湖南古楼雪峰云雾茶"  # 22 characters, one run
    letters = [t for t in analyze(name, pinyin=True) if t.text.isascii() and len(t.text) > 1
               and t.end - t.start == len(t.text) and not pinyin_syllables(t.text)]
    assert max(len(t.text) for t in letters) == MAX_INITIALS
    assert "hnglxfywcyxg" in {t.text for t in letters}
    spans = {(t.text, t.start, t.end) for t in analyze("麻阳冰糖橙 10斤", pinyin=True)}
    assert {("btc", 2, 5), ("mybtc", 0, 5), ("bt", 2, 4)} <= spans
    assert str(highlight("麻阳冰糖橙 10斤", parse_query("btc"))) == "麻阳<mark>冰糖橙</mark> 10斤"
    assert str(highlight("溆浦红糯米", parse_query("hnm"))) == "溆浦<mark>红糯米</mark>"
    assert "btc" not in token_texts("麻阳冰糖橙", pinyin=False)


@pytest.mark.parametrize("name, initials", [
    ("雪峰云雾茶", "xfywc"),
    ("麻阳冰糖橙 10斤", "mybtc"),  # the name proper: its first run of Chinese characters
    ("溆浦红糯米 5斤/袋", "xphnm"),
    ("【溆浦红枣】特级红枣", "xphz"),
    ("雪峰云雾茶·明前特级绿茶", "xfywc"),
    ("茶·雪峰云雾茶", "xfywc"),  # a lone character is no name
    ("ｉＰｈｏｎｅ 充电线", "cdx"),
    ("茶", ""), ("", ""), ("iPhone 15", ""), ("茶 枣", ""),
    ("茶" * 13, ""),  # longer than any initials token
])
def test_whole_name_initials(name, initials):
    assert whole_name_initials(name) == initials
    if initials:  # they are a token of the name: typing them finds it
        assert matches(name, initials)


@pytest.mark.parametrize("q, letters", [
    ("xfywc", "xfywc"), ("BTC", "btc"), ("ｈｎｍ", "hnm"), ("x", None), ("茶", None),
    ("5斤", None), ("250g", None), ("hongnuomi", "hongnuomi"),
])
def test_initials_query(q, letters):
    (term,) = parse_query(q)
    assert initials_query(term) == letters


def test_no_single_letter_initials_for_single_characters():
    tokens = {t.text for t in analyze("茶", pinyin=True)}
    assert tokens == {"茶", "cha"}
    assert not matches("茶", "c")


def test_pinyin_only_when_asked():
    assert "chaye" not in {t.text for t in analyze("茶叶", pinyin=False)}
    assert {t.text for t in analyze("茶叶", pinyin=False)} == {"茶叶", "茶", "叶"}


def test_two_terms_narrow():
    assert matches("溆浦县红枣", "溆浦 枣")
    assert matches("溆浦县红枣", "溆浦\u3000枣")          # full-width space
    assert matches("溆浦县红枣", "枣，溆浦")
    assert not matches("洞口县红枣", "溆浦 枣")
    assert not matches("溆浦红糯米 5斤", "溆浦 枣")
    assert matches("古丈毛尖茶叶 250g", "cy 250g")


@pytest.mark.parametrize("q,name", [
    ("5斤", "溆浦红糯米 5斤"), ("5斤", "红糯米5斤装"), ("5斤", "红糯米 ５斤"), ("5斤", "红糯米 5 斤"),
    ("５斤", "红糯米 5斤"), ("250g", "古丈毛尖茶叶 250g"), ("250G", "毛尖250g装"), ("250g", "毛尖 250 g"),
    ("250", "古丈毛尖茶叶 250g"), ("g", "毛尖 250g"), ("250g装", "毛尖250g装"),
    ("2.5kg", "红薯粉 2.5kg"), ("2.5", "红薯粉 2.5kg"), ("kg", "红薯粉 2.5KG"), ("5斤装", "5斤装"),
    ("180cm", "竹席 30×180cm"), ("30×180cm", "竹席 30×180cm"), ("10袋", "茶叶10袋装"),
    ("500ml", "茶油 500ml"), ("2kg", "㎏ 2㎏"),
])
def test_numbers_and_units(q, name):
    assert matches(name, q)


@pytest.mark.parametrize("q,name", [
    ("5斤", "红糯米 15斤"), ("5斤", "红糯米 5公斤"), ("5kg", "红薯粉 2.5kg"), ("250g", "毛尖 2500g"),
    ("250g", "毛尖 250mg"), ("5", "红糯米 15斤"),
])
def test_numbers_and_units_are_not_substrings(q, name):
    assert not matches(name, q)


def test_number_tokens():
    texts = [t.text for t in analyze("250g装 2.5kg 30×180cm 5斤", pinyin=False)]
    for tok in ["250", "250g", "2.5", "2.5kg", "30", "180", "180cm", "5", "5斤", "装", "斤"]:
        assert tok in texts
    assert "5kg" not in texts  # rjieba's search mode offers 5kg inside 2.5kg: not taken


def test_ascii_words_lower_cased_and_full_width_normalised():
    tokens = analyze("ＡＢＣ iPhone15 有机ＯＫ", pinyin=False)
    texts = {t.text for t in tokens}
    assert {"abc", "iphone", "15", "ok"} <= texts
    abc = next(t for t in tokens if t.text == "abc")
    assert (abc.start, abc.end) == (0, 3)
    assert matches("ＡＢＣ iPhone15", "iphone15")
    assert matches("T恤 纯棉", "t恤")


# ---- tokens and offsets --------------------------------------------------------------------------

def test_tokens_of_a_name():
    tokens = analyze("湖南古楼雪峰云雾茶·明前特级绿茶", pinyin=True)
    assert all(isinstance(t, Token) for t in tokens)
    spans = {(t.text, t.start, t.end) for t in tokens}
    assert {("云雾茶", 6, 9), ("云雾", 6, 8), ("茶", 8, 9), ("茶", 15, 16), ("雪峰", 4, 6),
            ("yunwucha", 6, 9), ("ywc", 6, 9), ("cha", 8, 9), ("lvcha", 14, 16)} <= spans
    assert "·" not in {t.text for t in tokens}
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)
    assert analyze("湖南古楼雪峰云雾茶·明前特级绿茶", pinyin=True) == tokens  # deterministic


def test_punctuation_whitespace_emoji_dropped():
    assert analyze("  ，。！？😀🍵\n\t·—", pinyin=True) == []
    assert analyze("", pinyin=True) == []
    assert {t.text for t in analyze("😀茶😀", pinyin=True)} == {"茶", "cha"}


def test_offsets_survive_expanding_normalisation():
    text = "㎏茶ﬁ茶叶"  # ㎏ -> kg and ﬁ -> fi grow under NFKC
    tokens = analyze(text, pinyin=True)
    by_text = {t.text: t for t in tokens}
    assert (by_text["kg"].start, by_text["kg"].end) == (0, 1)
    assert (by_text["fi"].start, by_text["fi"].end) == (2, 3)
    assert (by_text["茶叶"].start, by_text["茶叶"].end) == (3, 5)


def test_lone_surrogate_does_not_raise():
    assert {t.text for t in analyze("\ud800茶叶", pinyin=True)} >= {"茶", "茶叶", "chaye"}


CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
PRODUCTISH = st.text(
    st.one_of(CJK, st.sampled_from(list("溆浦县洞口茶叶红糯米云雾雪峰枣斤克袋装公 .·，、×-()"
                                         "0123456789gkmlcGKABCxyzａｂ５１\u3000😀㎏"))),
    max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.one_of(PRODUCTISH, st.text(max_size=40)))
@example("溆浦红糯米 5斤")
@example("ﬁ㎏\u0301e\u0301①Ⅻ")
def test_tokens_are_well_formed(text):
    for pinyin in (True, False):
        tokens = analyze(text, pinyin=pinyin)
        assert len(set(tokens)) == len(tokens)
        for t in tokens:
            assert t.text and not any(ch.isspace() for ch in t.text)
            assert 0 <= t.start < t.end <= len(text)
        # every CJK character of the text is a token of its own
        chars = {t.text for t in tokens if t.end - t.start == 1}
        for ch in text:
            if "\u4e00" <= ch <= "\u9fa5":
                assert ch in chars
        # token_texts is the same set, faster
        texts = token_texts(text, pinyin=pinyin)
        assert len(set(texts)) == len(texts)
        assert set(texts) == {t.text for t in tokens}


def test_character_tokens_point_at_their_character():
    text = "【溆浦】红糯米，５斤"
    for t in analyze(text, pinyin=False):
        assert unicodedata.normalize("NFKC", text[t.start:t.end]).lower() == t.text


# ---- queries -------------------------------------------------------------------------------------

def test_parse_query_shapes():
    assert parse_query("茶") == [QueryTerm("茶", (("茶",),))]
    (term,) = parse_query("红糯米")
    assert term.alternatives[0] == ("红糯米",)
    assert ("红", "糯米") in term.alternatives
    (term,) = parse_query("云雾茶")
    assert term.alternatives[0] == ("云雾茶",)
    assert ("云雾", "茶") in term.alternatives
    assert parse_query("CHAYE") == [QueryTerm("chaye", (("chaye",),))]
    assert parse_query("5斤") == [QueryTerm("5斤", (("5斤",),))]
    assert parse_query("250g装") == [QueryTerm("250g装", (("250g", "装"),))]
    assert [t.text for t in parse_query("溆浦 枣")] == ["溆浦", "枣"]
    assert [t.text for t in parse_query("溆浦 溆浦 枣")] == ["溆浦", "枣"]  # repeated term once


@pytest.mark.parametrize("q", [
    "", " ", '"', '""', "*", "?", "**?", "AND(", "AND", "OR", "NOT", "(", ")", "()", "😀", "🍵🍵",
    "\x00\x1f\x7f", "—", "\u3000", "-", "+", "~", "^", "\\", "[a TO b]", "...", "_", "'",
])
def test_junk_queries_give_no_terms(q):
    assert [t for t in parse_query(q) if t.text not in {"a", "b"}] == []


@pytest.mark.parametrize("q,texts", [
    ('"茶叶"', ["茶叶"]), ("茶*", ["茶"]), ("茶?", ["茶"]), ("AND(茶 OR 枣)", ["茶", "枣"]),
    ("NOT 茶", ["茶"]), ("茶 -枣", ["茶", "枣"]), ("😀茶😀", ["茶"]), ("name:茶", ["name", "茶"]),
    ("溆浦\u3000枣", ["溆浦", "枣"]), ("a\x00b", ["a", "b"]), ("and", ["and"]),
])
def test_query_syntax_is_not_syntax(q, texts):
    assert [t.text for t in parse_query(q)] == texts


def test_long_input_is_capped():
    terms = parse_query("茶 " * 5000)
    assert [t.text for t in terms] == ["茶"]
    terms = parse_query(" ".join(f"词{i}" for i in range(5000)))
    assert len(terms) == MAX_QUERY_TERMS
    terms = parse_query("茶" * 10_000)
    assert len(terms) == 1 and len(terms[0].text) == 200


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), PRODUCTISH, st.text(st.sampled_from('"*?()ANDORT 茶枣\u3000😀:-+'))))
def test_parse_query_never_raises(q):
    terms = parse_query(q)
    assert len(terms) <= MAX_QUERY_TERMS
    for term in terms:
        assert 1 <= len(term.alternatives) <= 3
        for alt in term.alternatives:
            assert alt and all(tok and not any(ch.isspace() for ch in tok) for tok in alt)
        highlight(q, terms)


def test_parse_query_accepts_non_strings():
    assert parse_query(None) == []


# ---- queries agree with analysis -----------------------------------------------------------------

PLACES = ["溆浦县", "洞口县", "湖南", "古楼", "雪峰山", "怀化", "邵阳", "安化", "桑植", "湘西",
          "麻阳", "沅陵", "城步", "绥宁"]
ADJECTIVES = ["特级", "明前", "有机", "农家", "手工", "高山", "野生", "新鲜", "精选", "古法", "土家"]
PRODUCTS = ["红糯米", "云雾茶", "绿茶", "红枣", "蜂蜜", "腊肉", "茶油", "黄桃", "脐橙", "猕猴桃",
            "冰糖橙", "黑茶", "茯砖茶", "香米", "辣椒", "豆腐乳", "土鸡蛋", "竹笋", "红薯粉", "茶叶"]
SPECS = ["5斤", "250g", "2.5kg", "500ml", "10袋装", "礼盒装", "1000克", "3瓶", "12枚", "2×500g"]
SEPARATORS = ["", " ", "·", "／", "【", "】", "，"]


@st.composite
def product_names(draw):
    pieces = (draw(st.lists(st.sampled_from(PLACES), max_size=1))
              + draw(st.lists(st.sampled_from(ADJECTIVES), max_size=2))
              + [draw(st.sampled_from(PRODUCTS))]
              + draw(st.lists(st.sampled_from(SPECS), max_size=1)))
    return "".join(p + draw(st.sampled_from(SEPARATORS)) for p in pieces)


@settings(max_examples=150, deadline=None)
@given(product_names())
def test_every_word_of_a_name_finds_it(name):
    fragments = set(rjieba.cut(name)) | {ch for ch in name if "\u4e00" <= ch <= "\u9fa5"}
    fragments |= {spec for spec in SPECS if spec in name}
    for fragment in fragments:
        if parse_query(fragment):
            assert matches(name, fragment), (name, fragment, parse_query(fragment))


@settings(max_examples=150, deadline=None)
@given(st.text(st.sampled_from(list("溆浦县洞口茶叶红糯米云雾雪峰山枣礼盒装高明前特级绿 ，、·")),
               max_size=30))
def test_cjk_text_finds_itself(text):
    if parse_query(text):
        assert matches(text, text)


# ---- highlighting --------------------------------------------------------------------------------

def test_highlight_escapes_everything_else():
    out = highlight('<script>alert("茶")</script> 茶叶 & 枣', parse_query("茶"))
    assert isinstance(out, Markup)
    assert str(out) == ('&lt;script&gt;alert(&#34;<mark>茶</mark>&#34;)&lt;/script&gt; '
                        '<mark>茶</mark>叶 &amp; 枣')


def test_highlight_pinyin_and_words():
    assert str(highlight("古丈毛尖茶叶 250g", parse_query("chaye"))) == "古丈毛尖<mark>茶叶</mark> 250g"
    assert str(highlight("茶叶与茶", parse_query("茶"))) == "<mark>茶</mark>叶与<mark>茶</mark>"
    assert str(highlight("雪峰云雾茶", parse_query("云雾茶"))) == "雪峰<mark>云雾茶</mark>"
    assert str(highlight("溆浦红糯米 5斤", parse_query("红糯米 5斤"))) == \
        "溆浦<mark>红糯米</mark> <mark>5斤</mark>"
    assert str(highlight("溆浦县红枣", parse_query("溆浦 枣"))) == "<mark>溆浦</mark>县红<mark>枣</mark>"


def test_highlight_without_terms_or_text():
    assert str(highlight("<b>茶</b>", [])) == "&lt;b&gt;茶&lt;/b&gt;"
    assert str(highlight("", parse_query("茶"))) == ""
    assert str(highlight("ＣＨＡ茶", parse_query("cha"))) == "<mark>ＣＨＡ茶</mark>"


# ---- Whoosh --------------------------------------------------------------------------------------

def test_chinese_analyzer_pickles_and_compares():
    analyzer = ChineseAnalyzer(pinyin=True)
    copy = pickle.loads(pickle.dumps(analyzer))
    assert copy == analyzer and copy.pinyin is True
    assert ChineseAnalyzer(pinyin=False) != analyzer
    assert ChineseAnalyzer(pinyin=True) == ChineseAnalyzer(True)


@pytest.mark.parametrize("pinyin", [True, False])
def test_chinese_analyzer_yields_the_tokens_of_analyze(pinyin):
    text = "湖南古楼雪峰云雾茶·明前特级绿茶 250g"
    analyzer = pickle.loads(pickle.dumps(ChineseAnalyzer(pinyin=pinyin)))
    got = [(t.text, t.startchar, t.endchar, t.pos)
           for t in analyzer(text, positions=True, chars=True, start_pos=3, start_char=10)]
    want = [(t.text, t.start + 10, t.end + 10, i + 3)
            for i, t in enumerate(analyze(text, pinyin=pinyin))]
    assert got == want
    assert [t.text for t in analyzer("茶叶", tokenize=False)] == ["茶叶"]


def test_chinese_analyzer_in_a_whoosh_index():
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.filedb.filestore import RamStorage
    from whoosh.query import Term

    schema = Schema(id=ID(stored=True), name=TEXT(analyzer=ChineseAnalyzer(pinyin=True)))
    ix = RamStorage().create_index(schema)
    with ix.writer() as w:
        w.add_document(id="1", name="古丈毛尖茶叶 250g")
        w.add_document(id="2", name="溆浦红糯米 5斤")
    with ix.searcher() as s:
        def ids(tok):
            return sorted(hit["id"] for hit in s.search(Term("name", tok)))
        assert ids("茶") == ["1"]
        assert ids("chaye") == ["1"]
        assert ids("cy") == ["1"]
        assert ids("5斤") == ["2"]
        assert ids("xupu") == ["2"]
    assert pickle.loads(pickle.dumps(schema))["name"].analyzer == ChineseAnalyzer(pinyin=True)
