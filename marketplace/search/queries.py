"""Reading what a shopper typed into query terms (each with its alternative token sets: the
characters, the jieba words, pinyin syllables), and marking in a text what a query found.

The tokens are search.analysis's (one analysis for documents and queries): a query term
matches a document when any of its alternatives has all its tokens there.
"""
from __future__ import annotations

import functools
import itertools

import rjieba
from markupsafe import Markup, escape

from marketplace.search.analysis import (
    _CHUNK,
    _OPERATORS,
    _PARTS_QUERY,
    MAX_ALTERNATIVES,
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
    QueryTerm,
    _normalise,
    analyze,
)

__all__ = ["highlight", "parse_query", "pinyin_syllables"]


def _dedupe(items):
    return tuple(dict.fromkeys(items))


def _cover(word: str) -> tuple[str, ...]:
    """`word` covered left to right by the longest of its search-mode sub-words (the 2- and
    3-character dictionary words inside it), single characters filling the gaps."""
    subs: dict[int, int] = {}
    for sub, s, e in rjieba.tokenize(word, mode="search"):
        if (s, e) != (0, len(word)) and e - s >= 2:
            subs[s] = max(subs.get(s, 0), e)
    parts, i = [], 0
    while i < len(word):
        j = subs.get(i, i + 1)
        parts.append(word[i:j])
        i = j
    return tuple(parts)


@functools.lru_cache(maxsize=10_000)
def _cjk_alternatives(word: str) -> tuple[tuple[str, ...], ...]:
    if len(word) == 1:
        return ((word,),)
    alts = [(word,)]
    # precise cut without HMM: unknown sequences fall apart into single characters, which every
    # document holding them has as tokens (with HMM, 浦县 would stay one unknown "word")
    precise = _dedupe(w for w in rjieba.cut(word, False) if w)
    if precise != (word,):
        alts.append(precise)
    finer = _dedupe(itertools.chain.from_iterable(
        _cover(w) if len(w) > 2 else (w,) for w in precise))
    if finer not in alts:
        alts.append(finer)
    return tuple(alts[:MAX_ALTERNATIVES])


# toneless pinyin syllables (pypinyin's readings, without the interjections hm, m, n)
_SYLLABLES = frozenset("""
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu ca
cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua
chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de den deng
di dian diao die din ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen
feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun
guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian
jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke ken keng kong kou ku
kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie lin
ling liu lo long lou lu luan lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie
min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu
nong nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping
po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng
ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she
shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo
ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang
wei wen weng wo wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang
yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan
zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou
zu zuan zui zun zuo""".split())  # noqa: SIM905 (a table, not a list to edit)


@functools.lru_cache(maxsize=10_000)
def pinyin_syllables(word: str) -> tuple[str, ...]:
    """`word` split into the fewest toneless pinyin syllables (bingtangcheng -> bing, tang,
    cheng), or () when it is not pinyin throughout."""
    n = len(word)
    if n > 60 or not word.isascii():
        return ()
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            if word[i:j] in _SYLLABLES:
                candidate = best[i] + (word[i:j],)
                if best[j] is None or len(candidate) < len(best[j]):
                    best[j] = candidate
    return best[n] or ()


def _letter_alternatives(word: str) -> tuple[tuple[str, ...], ...]:
    """A latin word as typed, and, when it is pinyin of three or more syllables, those
    syllables (each character's pinyin is indexed): 'bingtangcheng' finds 冰糖橙 even where
    segmentation made 冰糖 + 橙 of it. Two syllables are word pinyin already (chaye)."""
    syllables = pinyin_syllables(word)
    if len(syllables) >= 3:
        return ((word,), _dedupe(syllables))
    return ((word,),)


def _chunk_alternatives(chunk: str) -> tuple[tuple[str, ...], ...]:
    """Alternatives of one whitespace/punctuation-free chunk: each part (CJK run, number with
    unit, letter word) is required; parts with several alternatives are combined level by level
    (all whole words, all precise cuts, all finer cuts), not as a full product."""
    parts: list[tuple[tuple[str, ...], ...]] = []
    for m in _PARTS_QUERY.finditer(chunk):
        if m.group("cjk") is not None:
            parts.append(_cjk_alternatives(m.group("cjk")))
        elif m.group("num") is not None:
            unit = m.group("unit")
            tok = m.group("num") + (unit.lower() if unit else "")
            parts.append(((tok,),))
        else:
            parts.append(_letter_alternatives(m.group("word").lower()))
    if not parts:
        return ()
    if len(parts) == 1:
        return parts[0]
    levels = max(len(p) for p in parts)
    return _dedupe(
        _dedupe(itertools.chain.from_iterable(p[min(i, len(p) - 1)] for p in parts))
        for i in range(levels))[:MAX_ALTERNATIVES]


def parse_query(q: str) -> list[QueryTerm]:
    """The terms of a shopper's query (ANDed). Never raises: anything that is not a word,
    number or CJK text separates terms or is dropped; at most 200 characters are read and at
    most 8 terms kept."""
    if not q or not isinstance(q, str):
        return []
    q = q[:MAX_QUERY_CHARS]
    norm, _ = _normalise(q)
    terms: list[QueryTerm] = []
    seen: set[str] = set()
    for m in _CHUNK.finditer(norm):
        chunk = m.group().strip(".")
        if not chunk or chunk in _OPERATORS:
            continue
        key = chunk.lower()
        if key in seen:
            continue
        alternatives = _chunk_alternatives(chunk)
        if not alternatives:
            continue
        seen.add(key)
        terms.append(QueryTerm(key, alternatives))
        if len(terms) >= MAX_QUERY_TERMS:
            break
    return terms


# ---- highlighting --------------------------------------------------------------------------------

def highlight(text: str, terms: list[QueryTerm]) -> Markup:
    """`text` escaped, with the spans whose tokens any query term asks for in <mark>…</mark>
    (overlapping and touching spans merged)."""
    if not text:
        return Markup("")
    wanted = {tok for term in terms or () for alt in term.alternatives for tok in alt}
    if not wanted:
        return escape(text)
    # pinyin spans only matter when the query has latin letters (chaye, cy)
    pinyin = any(tok.isascii() and tok.isalpha() for tok in wanted)
    spans = sorted((t.start, t.end) for t in analyze(text, pinyin=pinyin) if t.text in wanted)
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out.append(escape(text[pos:s]))
        out.append(Markup("<mark>%s</mark>") % text[s:e])
        pos = e
    out.append(escape(text[pos:]))
    return Markup("").join(out)
