"""Chinese text analysis for product search: pure functions, no Flask, no database.

One tokenisation serves the index (`analyze`, `ChineseAnalyzer`), the query (`parse_query`) and
the highlighting of results (`highlight`), so that a query term can only ask for tokens the
index can hold.

A text is NFKC-normalised (full-width letters and digits become ASCII), then yields:

- the CJK words of rjieba's search-mode segmentation (溆浦县 -> 溆浦, 溆浦县);
- every single CJK character (茶, 枣 are findable alone);
- ASCII and other non-CJK letter runs, lower-cased (iPhone -> iphone);
- numbers, and numbers with a unit kept together: 5斤 -> 5, 5斤; 2.5kg -> 2.5, 2.5kg, kg;
- with ``pinyin=True``: for every CJK word its toneless pinyin joined and its initials joined
  (茶叶 -> chaye, cy), and for every single character its pinyin (茶 -> cha; no one-letter
  initials for single characters: they would match almost everything);
- with ``pinyin=True`` also the initials of every prefix of two or more characters starting
  where a word starts, up to the end of the CJK run and at most `MAX_INITIALS` characters long
  (雪峰云雾茶: xf, xfy, xfyw, xfywc from 雪, yw, ywc from 云): initials of the start of a name
  or of a word find it however segmentation cut what follows (麻阳冰糖橙 -> btc, 溆浦红糯米 ->
  hnm, 雪峰土鸡蛋 -> tjd).

`whole_name_initials` gives the initials of a product's name as a whole (its first run of CJK
characters): the index keeps them with the product, so that typing them ranks it first.

Token offsets are character offsets into the ORIGINAL text; pinyin tokens carry the span of the
word or character they came from. Token texts never contain whitespace.
"""
from __future__ import annotations

import functools
import operator
import re
import unicodedata
from typing import NamedTuple

import rjieba
from whoosh.analysis import Analyzer, Tokenizer
from whoosh.analysis import Token as WhooshToken

# reading a query and marking what it found are in search.queries
__all__ = ["MAX_INITIALS", "MAX_QUERY_CHARS", "MAX_QUERY_TERMS", "ChineseAnalyzer", "QueryTerm",
           "Token", "analyze", "initials_query", "token_texts", "whole_name_initials"]

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 8
MAX_ALTERNATIVES = 3
MAX_INITIALS = 12  # the longest initials token of a prefix (names are short; bounds the postings)


class Token(NamedTuple):
    text: str
    start: int  # character offsets in the source text
    end: int


class QueryTerm(NamedTuple):
    """One word of a query. It matches a document when ANY alternative has ALL its tokens."""
    text: str
    alternatives: tuple[tuple[str, ...], ...]


# ---- character classes ---------------------------------------------------------------------------

# CJK unified ideographs (basic, extension A, compatibility, extensions B..H) and 〇.
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_RUN = re.compile(f"[{_CJK}]+")

# Units kept together with a preceding number. Longest first where one is a prefix of another.
_CJK_UNITS = ("公斤", "千克", "毫升", "厘米", "毫米", "公分", "公里", "平方米", "立方米",
              "斤", "两", "克", "升", "吨", "米", "亩",
              "袋", "盒", "罐", "瓶", "箱", "包", "个", "只", "枚", "块", "片", "件", "条",
              "粒", "支", "根", "本", "套", "双", "对", "株", "棵", "桶", "提", "听", "串",
              "份", "盆", "捆", "把", "张", "颗", "头", "卷", "筐", "篮", "坛", "壶", "杯",
              "碗", "朵", "尾", "扎", "板", "层", "斗")
_ASCII_UNITS = ("kg", "mg", "ml", "mm", "cm", "km", "g", "l", "m")
_UNIT = ("(?:" + "|".join(sorted(_CJK_UNITS, key=len, reverse=True)) + "|(?i:"
         + "|".join(_ASCII_UNITS) + ")(?![a-zA-Z]))")
_NUMBER = r"\d+(?:\.\d+)?"
# Non-CJK parts of a text: a number (with an optional unit, one space or tab allowed between
# them in documents), or a run of letters that are neither digits, "_" nor CJK.
_PARTS_DOC = re.compile(
    rf"(?P<num>{_NUMBER})(?:[ \t]?(?P<unit>{_UNIT}))?|(?P<word>[^\W\d_{_CJK}]+)")
# The same for one chunk of a query (no spaces inside a chunk), CJK runs included.
_PARTS_QUERY = re.compile(
    rf"(?P<cjk>[{_CJK}]+)|(?P<num>{_NUMBER})(?P<unit>{_UNIT})?|(?P<word>[^\W\d_{_CJK}]+)")
# A query chunk: letters, digits and CJK (and "." for decimals); everything else separates
# terms (whitespace incl. U+3000, punctuation, quotes, *, ?, parentheses, emoji, control chars).
_CHUNK = re.compile(r"(?:[^\W_]|\.)+")
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})


# Anything that is neither CJK nor separator: letters or digits outside CJK.
_HAS_PART = re.compile(rf"[^\W_{_CJK}]")
_TEXT = operator.itemgetter(0)
_START = operator.itemgetter(1)
_MAKE_TOKEN = functools.partial(tuple.__new__, Token)  # Token from a (text, start, end) tuple


# ---- normalisation -------------------------------------------------------------------------------

class _NFKCTable(dict):
    """str.translate table: code point -> NFKC of that single character (filled on demand)."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        value = unicodedata.normalize("NFKC", ch) or ch
        self[cp] = value
        return value


_NFKC_TABLE = _NFKCTable()


def _normalise(text: str) -> tuple[str, list[int] | None]:
    """NFKC of `text`, character by character (so that offsets stay valid), and None when every
    character normalises to one character; otherwise, for each normalised character, the index
    of the original character it came from (㎏ -> kg, ﬁ -> fi)."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, None
    norm = text.translate(_NFKC_TABLE)
    if len(norm) == len(text):
        return norm, None
    owner: list[int] = []
    for i, ch in enumerate(text):
        owner.extend([i] * len(_NFKC_TABLE[ord(ch)]))
    return norm, owner


# ---- pinyin --------------------------------------------------------------------------------------

@functools.cache
def _pypinyin():
    """pypinyin, imported on first use: its dictionaries take about 55 MB, and a process that
    only answers queries (whose pinyin is already in the index) never needs them."""
    import pypinyin
    return pypinyin


def lazy_pinyin(text: str, *, style: str, errors: str) -> list[str]:
    p = _pypinyin()
    return p.lazy_pinyin(text, style=getattr(p.Style, style), errors=errors)


@functools.lru_cache(maxsize=100_000)
def _word_pinyin(word: str) -> tuple[str, ...]:
    """Full toneless pinyin joined, and initials joined, of a multi-character CJK word;
    () when pypinyin does not know every character."""
    full = lazy_pinyin(word, style="NORMAL", errors="ignore")
    if len(full) != len(word) or not all(full):
        return ()
    initials = lazy_pinyin(word, style="FIRST_LETTER", errors="ignore")
    joined = "".join(full).lower()
    if not (joined.isascii() and joined.isalnum()):
        return ()
    if len(initials) != len(word) or not all(initials):
        return (joined,)
    return tuple(dict.fromkeys((joined, "".join(initials).lower())))


@functools.lru_cache(maxsize=100_000)
def _char_pinyin(ch: str) -> str:
    full = lazy_pinyin(ch, style="NORMAL", errors="ignore")
    return full[0].lower() if len(full) == 1 and full[0].isascii() and full[0].isalnum() else ""


_NO_INITIAL = "?"  # a character without an initial: initials tokens never span it


@functools.lru_cache(maxsize=100_000)
def _run_initials(run: str) -> str:
    """One initial letter per character of a CJK run, read in context (pypinyin's phrases),
    `_NO_INITIAL` where a character has none."""
    letters = lazy_pinyin(run, style="FIRST_LETTER",
                          errors=lambda chars: [_NO_INITIAL] * len(chars))
    if len(letters) != len(run):  # never seen; read character by character then
        letters = [_char_pinyin(ch)[:1] or _NO_INITIAL for ch in run]
    return "".join(ch if len(ch) == 1 and ch.isascii() and ch.isalpha() else _NO_INITIAL
                   for ch in (x.lower() for x in letters))


def _prefix_initials(initials: str, starts) -> list[tuple[str, int, int]]:
    """(initials, start, end) of every prefix of 2..MAX_INITIALS characters from each start,
    offsets relative to the run, stopping at a character without an initial."""
    out = []
    n = len(initials)
    for s in starts:
        stop = initials.find(_NO_INITIAL, s)
        end = min(n if stop < 0 else stop, s + MAX_INITIALS)
        out.extend((initials[s:e], s, e) for e in range(s + 2, end + 1))
    return out


def _run_starts(run_start: int, run_end: int, word_starts) -> list[int]:
    """Where words start inside a CJK run (the run's own start included), relative to it."""
    return sorted({0} | {s - run_start for s in word_starts if run_start < s < run_end})


def whole_name_initials(text: str) -> str:
    """The initials of a product's name as a shopper reads it: of its first run of two or more
    CJK characters, the name proper before any spec or qualifier (雪峰云雾茶 -> xfywc,
    麻阳冰糖橙 10斤 -> mybtc, 【溆浦红枣】特级红枣 -> xphz, 雪峰云雾茶·明前特级绿茶 -> xfywc);
    "" when there is no such run or it is longer than MAX_INITIALS (then it is no token)."""
    if not text:
        return ""
    norm, _ = _normalise(text)
    run = next((r for r in _CJK_RUN.findall(norm) if len(r) >= 2), "")
    letters = _run_initials(run) if run else ""
    if len(letters) > MAX_INITIALS or _NO_INITIAL in letters:
        return ""
    return letters


def initials_query(term: QueryTerm) -> str | None:
    """The letters of a query term that may be a name's initials (two or more latin letters),
    else None."""
    text = term.text
    if len(text) >= 2 and text.isascii() and text.isalpha() and term.alternatives[0] == (text,):
        return text
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _segment(norm: str) -> list[tuple[str, int, int]]:
    try:
        return rjieba.tokenize(norm, mode="search")
    except UnicodeEncodeError:  # lone surrogates (not from a database, but never fail)
        return rjieba.tokenize(_SURROGATE.sub("\ufffd", norm), mode="search")


# ---- analysis ------------------------------------------------------------------------------------

def analyze(text: str, *, pinyin: bool) -> list[Token]:
    """The tokens of `text`, ordered by start offset, without duplicate (text, start, end)."""
    if not text:
        return []
    norm, owner = _normalise(text)
    out: list[tuple[str, int, int]] = []
    add = out.append
    cjk_runs = list(_CJK_RUN.finditer(norm))
    if cjk_runs:
        # words: search-mode segmentation over the whole text (context matters to jieba)
        seen = set()
        fullmatch = _CJK_RUN.fullmatch
        segments = _segment(norm)
        for word, s, e in segments:
            if e - s >= 2 and (word, s) not in seen and fullmatch(word):
                seen.add((word, s))
                add((word, s, e))
                if pinyin:
                    for p in _word_pinyin(word):
                        add((p, s, e))
        word_starts = {s for _w, s, _e in segments}
        # every single character (single-character jieba words were skipped above)
        for m in cjk_runs:
            run, s, e = m.group(), m.start(), m.end()
            out.extend(zip(run, range(s, e), range(s + 1, e + 1)))
            if pinyin:
                pinyins = map(_char_pinyin, run)
                out.extend(filter(_TEXT, zip(pinyins, range(s, e), range(s + 1, e + 1))))
                if e - s >= 2:
                    out.extend((t, s + ts, s + te) for t, ts, te in _prefix_initials(
                        _run_initials(run), _run_starts(s, e, word_starts)))
    # numbers (with units) and letter words
    if not cjk_runs or _HAS_PART.search(norm):
        for m in _PARTS_DOC.finditer(norm):
            num = m.group("num")
            if num is not None:
                s = m.start()
                add((num, s, m.end("num")))
                unit = m.group("unit")
                if unit is not None:
                    e = m.end()
                    unit = unit.lower()
                    add((num + unit, s, e))
                    if unit.isascii():
                        add((unit, m.start("unit"), e))
            else:
                add((m.group("word").lower(), m.start(), m.end()))
    out.sort(key=_START)
    if owner is None:
        # every (text, span) is unique here: spans identify words, characters and numbers, and
        # an initials token (letters) of a prefix has a span of its own unless it equals the
        # initials of the word with that span
        return list(map(_MAKE_TOKEN, dict.fromkeys(out) if pinyin else out))
    return list(map(_MAKE_TOKEN, dict.fromkeys(
        (t, owner[s], owner[e - 1] + 1) for t, s, e in out)))


def token_texts(text: str, *, pinyin: bool) -> list[str]:
    """The distinct texts of ``analyze(text, pinyin=pinyin)`` (same set, first-seen order),
    without building offsets: the fast path for indexing, about twice as fast."""
    if not text:
        return []
    norm, _ = _normalise(text)
    out: dict[str, None] = {}
    runs = list(_CJK_RUN.finditer(norm)) if pinyin else _CJK_RUN.findall(norm)
    if runs:
        fullmatch = _CJK_RUN.fullmatch
        segments = _segment(norm)
        for word, s, e in segments:
            if e - s >= 2 and word not in out and fullmatch(word):
                out[word] = None
                if pinyin:
                    out.update(dict.fromkeys(_word_pinyin(word)))
        if pinyin:
            word_starts = {s for _w, s, _e in segments}
            for m in runs:
                run = m.group()
                out.update(dict.fromkeys(run))
                out.update(dict.fromkeys(map(_char_pinyin, run)))
                if len(run) >= 2:
                    out.update(dict.fromkeys(t for t, _s, _e in _prefix_initials(
                        _run_initials(run), _run_starts(m.start(), m.end(), word_starts))))
        else:
            for run in runs:
                out.update(dict.fromkeys(run))
        out.pop("", None)  # a character pypinyin does not know
    if not runs or _HAS_PART.search(norm):
        for m in _PARTS_DOC.finditer(norm):
            num = m.group("num")
            if num is not None:
                out[num] = None
                unit = m.group("unit")
                if unit is not None:
                    unit = unit.lower()
                    out[num + unit] = None
                    if unit.isascii():
                        out[unit] = None
            else:
                out[m.group("word").lower()] = None
    return list(out)


# ---- Whoosh --------------------------------------------------------------------------------------

class ChineseAnalyzer(Tokenizer, Analyzer):
    """A Whoosh analyzer yielding exactly the tokens of `analyze` (picklable: its only state is
    the pinyin flag)."""

    def __init__(self, pinyin: bool = False):
        self.pinyin = bool(pinyin)

    def __eq__(self, other):
        return type(other) is type(self) and other.pinyin == self.pinyin

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((type(self).__name__, self.pinyin))

    def __repr__(self):
        return f"{type(self).__name__}(pinyin={self.pinyin})"

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        t = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        for i, tok in enumerate(analyze(value, pinyin=self.pinyin)):
            t.text = tok.text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = tok.text
            if positions:
                t.pos = start_pos + i
            if chars:
                t.startchar = start_char + tok.start
                t.endchar = start_char + tok.end
            yield t
