"""The search engine against a brute-force reference: same matches, same order, same facets,
whether the index was built in one go or grew through updates and deletions in several
segments. No database: documents are made up here."""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from marketplace.search import engine, reading, snapshot, writing
from marketplace.search.analysis import token_texts
from marketplace.search.queries import parse_query
from marketplace.search.segments import SegmentData

CATEGORIES = {1: "茶叶 Tea", 2: "红枣 Jujube", 3: "米面粮油 Grain"}
SELLERS = {1: "湖南古楼雪峰云雾茶有限公司", 2: "溆浦县枣子产业协会", 3: "通道侗族自治县粮油合作社"}
# (id, name, parent): a small tree, villages last
REGIONS = [(1, "湖南省", 0), (2, "怀化市", 1), (3, "邵阳市", 1), (4, "溆浦县", 2),
           (5, "洞口县", 3), (6, "通道侗族自治县", 2), (7, "古楼村", 5), (8, "曹家溪村", 4),
           (9, "坪坦村", 6), (10, "洪溪村", 5)]
COUNTY = {7: "430525", 10: "430525", 8: "431224", 9: "431230"}
VILLAGES = [7, 8, 9, 10]
WORDS = ["云雾茶", "红枣", "糯米", "黑茶", "明前", "礼盒", "高山", "土鸡蛋", "冰糖橙", "茯砖",
         "有机", "手工", "5斤", "250g", "特级", "绿茶"]
QUERIES = ["茶", "枣", "云雾茶", "溆浦", "洞口", "chaye", "cy", "hongzao", "溆浦 枣", "雪峰",
           "湖南", "合作社", "礼盒 茶", "5斤", "tongdao", "gl", "怀化 米", "zzz", "茶 枣 米"]
PARENT = {rid: parent for rid, _name, parent in REGIONS}
NAME = {rid: name for rid, name, _parent in REGIONS}


def make_doc(rnd: random.Random, pid: int, seller_names=SELLERS) -> engine.SearchDoc:
    village = rnd.choice(VILLAGES)
    chain = [village]
    while PARENT[chain[-1]]:
        chain.append(PARENT[chain[-1]])
    category = rnd.choice(list(CATEGORIES))
    seller = rnd.choice(list(seller_names))
    return engine.SearchDoc(
        id=pid, name="".join(rnd.sample(WORDS, rnd.randint(1, 3))),
        description="，".join(rnd.sample(WORDS, rnd.randint(0, 3))),
        category_id=category, category_name=CATEGORIES[category],
        seller_id=seller, seller_name=seller_names[seller],
        origin_names=[NAME[r] for r in chain], region_ids=chain, county_code=COUNTY[village],
        certified=rnd.random() < 0.3, price_fen=rnd.randrange(100, 20000, 100),
        stock=rnd.choice([0, 0, 5, 100]), listed_at=1_700_000_000 + rnd.randrange(1000))


def everything(doc: engine.SearchDoc) -> set[str]:
    texts = [doc.name, doc.category_name, doc.seller_name, *doc.origin_names]
    out = {t for text in texts for t in token_texts(text, pinyin=True)}
    return out | set(token_texts(doc.description, pinyin=False))


def matches(term, tokens: set[str]) -> bool:
    return any(all(t in tokens for t in alt) for alt in term.alternatives)


def reference(docs: dict[int, engine.SearchDoc], req: engine.SearchRequest):
    terms = parse_query(req.q)
    if not terms:
        return [], 0, {}, {}
    hits = [d for d in docs.values() if all(matches(t, everything(d)) for t in terms)]
    if req.region_id is not None:
        hits = [d for d in hits if req.region_id in d.region_ids]
    if req.min_price is not None:
        hits = [d for d in hits if d.price_fen >= req.min_price]
    if req.max_price is not None:
        hits = [d for d in hits if d.price_fen <= req.max_price]
    if req.in_stock:
        hits = [d for d in hits if d.stock > 0]
    categories: dict[int, int] = {}
    for d in hits:
        categories[d.category_id] = categories.get(d.category_id, 0) + 1
    if req.category_id is not None:
        hits = [d for d in hits if d.category_id == req.category_id]
    counties: dict[str, int] = {}
    for d in hits:
        counties[d.county_code] = counties.get(d.county_code, 0) + 1
    if req.sort == "price_asc":
        hits.sort(key=lambda d: (d.price_fen, d.id))
    elif req.sort == "price_desc":
        hits.sort(key=lambda d: (d.price_fen, d.id), reverse=True)
    elif req.sort == "newest":
        hits.sort(key=lambda d: (d.listed_at, d.id), reverse=True)
    else:
        def rank(d):
            name = set(token_texts(d.name, pinyin=True))
            return (sum(matches(t, name) for t in terms), d.stock > 0, d.listed_at, d.id)
        hits.sort(key=rank, reverse=True)
    ids = [d.id for d in hits][req.offset:req.offset + req.limit]
    return ids, len(hits), categories, counties


def built_in_one_go(tmp: Path, docs) -> engine.SearchIndex:
    engine.build_index(tmp / "bulk", list(docs.values()))
    return engine.SearchIndex(tmp / "bulk")


def grown_by_updates(tmp: Path, docs, rnd: random.Random) -> tuple[engine.SearchIndex, dict]:
    """Commits in several batches, with some products changed and some deleted afterwards."""
    engine.build_index(tmp / "grown", [])
    items = list(docs.values())
    for start in range(0, len(items), 37):
        with engine.writer(tmp / "grown") as w:
            engine.apply(w, items[start:start + 37])
            w.commit(merge=False)
    final = dict(docs)
    changed = [make_doc(rnd, pid) for pid in rnd.sample(sorted(docs), 25)]
    removed = rnd.sample(sorted(set(docs) - {d.id for d in changed}), 15)
    with engine.writer(tmp / "grown") as w:
        engine.apply(w, changed, removed=removed)
        w.commit(merge=False)
    for d in changed:
        final[d.id] = d
    for pid in removed:
        del final[pid]
    return engine.SearchIndex(tmp / "grown"), final


def requests(rnd: random.Random):
    for q in QUERIES:
        yield engine.SearchRequest(q=q, limit=7)
        yield engine.SearchRequest(q=q, sort=rnd.choice(engine.SORTS), offset=rnd.randint(0, 9),
                                   limit=rnd.randint(1, 30))
        yield engine.SearchRequest(q=q, category_id=rnd.choice([1, 2, 3]),
                                   region_id=rnd.choice([1, 2, 4, 5, 9]), in_stock=True,
                                   min_price=rnd.choice([None, 3000]),
                                   max_price=rnd.choice([None, 15000]), limit=50)


def check(index: engine.SearchIndex, docs, rnd: random.Random) -> None:
    for req in requests(rnd):
        result = index.search(req)
        ids, total, categories, counties = reference(docs, req)
        assert (result.ids, result.total) == (ids, total), req
        assert result.category_counts == categories, req
        assert result.county_counts == counties, req


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_order_and_facets_agree_with_the_reference(tmp_path, seed):
    rnd = random.Random(seed)
    docs = {pid: make_doc(rnd, pid) for pid in range(1, 301)}
    check(built_in_one_go(tmp_path, docs), docs, rnd)
    grown, final = grown_by_updates(tmp_path, docs, rnd)
    assert len(grown.snapshot().segments) > 1
    assert grown.doc_count() == len(final)
    check(grown, final, rnd)


def test_large_result_sets_are_walked_in_order(tmp_path, monkeypatch):
    """Enough products that a broad query takes the walk through the precomputed order (and a
    narrow one decodes its few members instead)."""
    walked = []
    order = SegmentData.order
    monkeypatch.setattr(SegmentData, "order",
                        lambda self, sort: walked.append(sort) or order(self, sort))
    rnd = random.Random(7)
    docs = {pid: make_doc(rnd, pid) for pid in range(1, 3001)}
    index = built_in_one_go(tmp_path, docs)
    for sort in engine.SORTS:
        req = engine.SearchRequest(q="湖南", sort=sort, offset=10, limit=20)
        assert index.search(req).ids == reference(docs, req)[0]
    assert set(walked) == {"newest", "price"}
    walked.clear()
    req = engine.SearchRequest(q="洞口 茯砖 礼盒", limit=5)
    assert 5 < index.search(req).total < 300
    assert index.search(req).ids == reference(docs, req)[0]
    assert not walked


def test_a_seller_renamed_is_found_by_its_new_name_only(tmp_path):
    rnd = random.Random(5)
    docs = {pid: make_doc(rnd, pid) for pid in range(1, 101)}
    engine.build_index(tmp_path / "ix", list(docs.values()))
    index = engine.SearchIndex(tmp_path / "ix")
    theirs = {d.id for d in docs.values() if d.seller_id == 2}
    assert set(theirs) <= set(index.search(engine.SearchRequest(q="枣子", limit=500)).ids)
    renamed = {**SELLERS, 2: "麻阳苗族自治县柑橘合作社"}
    with engine.writer(tmp_path / "ix") as w:
        engine.apply(w, [replace(docs[pid], seller_name=renamed[2]) for pid in sorted(theirs)])
        w.commit()
    found = set(index.search(engine.SearchRequest(q="柑橘", limit=500)).ids)
    assert found == theirs
    assert not set(index.search(engine.SearchRequest(q="枣子", limit=500)).ids) & theirs


def test_tiers_partition_hits_by_name_matches():
    hits = 0b1111_1111
    in_name = [0b1010_1010, 0b1100_1100, 0b1111_0000]
    tiers = reading.tiers(hits, in_name)
    for score, tier in zip(range(3, -1, -1), tiers, strict=True):
        for d in range(8):
            if tier >> d & 1:
                assert sum(s >> d & 1 for s in in_name) == score
    assert sum(t.bit_count() for t in tiers) == hits.bit_count()


def test_facets_with_many_values_are_counted_through_the_hits(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "FACET_SETS", 1)  # every facet column takes the other path
    rnd = random.Random(11)
    docs = {pid: make_doc(rnd, pid) for pid in range(1, 201)}
    check(built_in_one_go(tmp_path, docs), docs, rnd)
    grown, final = grown_by_updates(tmp_path, docs, rnd)
    check(grown, final, rnd)


def test_caches_stay_within_their_budget(tmp_path):
    rnd = random.Random(13)
    docs = {pid: make_doc(rnd, pid) for pid in range(1, 2001)}
    engine.build_index(tmp_path / "ix", list(docs.values()))
    index = engine.SearchIndex(tmp_path / "ix", token_cache_bytes=2000)
    for q in QUERIES:
        index.search(engine.SearchRequest(q=q))
        assert index._tokens.size <= 2000 + 64 + 2001 // 8  # one entry may exceed it alone
    assert index.search(engine.SearchRequest(q="溆浦 枣", limit=500)).ids == \
        reference(docs, engine.SearchRequest(q="溆浦 枣", limit=500))[0]


def test_bulk_blocks_equal_what_whoosh_writes_itself(tmp_path, monkeypatch):
    """The block writer and Whoosh's public posting-at-a-time path give the same index."""
    rnd = random.Random(17)
    docs = {pid: make_doc(rnd, pid) for pid in range(1, 400)}
    engine.build_index(tmp_path / "fast", list(docs.values()))
    monkeypatch.setattr(writing, "BLOCK_WRITES", False)  # one posting per call, as Whoosh does
    engine.build_index(tmp_path / "slow", list(docs.values()))
    fast, slow = engine.SearchIndex(tmp_path / "fast"), engine.SearchIndex(tmp_path / "slow")
    for q in QUERIES:
        req = engine.SearchRequest(q=q, limit=500)
        assert fast.search(req).ids == slow.search(req).ids
    f, s = fast.snapshot().segments[0].reader, slow.snapshot().segments[0].reader
    for fieldname in ("name", "text", "etok"):
        terms = list(f.lexicon(fieldname))
        assert terms == list(s.lexicon(fieldname))
        for t in terms[::7]:
            assert list(f.postings(fieldname, t).all_ids()) == \
                list(s.postings(fieldname, t).all_ids())


def test_product_only_changes_leave_existing_entity_documents_alone(tmp_path):
    rnd = random.Random(19)
    docs = {pid: make_doc(rnd, pid) for pid in range(1, 51)}
    engine.build_index(tmp_path / "ix", list(docs.values()))
    index = engine.SearchIndex(tmp_path / "ix")
    before = index.snapshot().segments[0].reader.doc_count()
    changed = replace(docs[1], stock=docs[1].stock + 1)
    new_seller = replace(make_doc(rnd, 51), seller_id=99, seller_name="麻阳苗族自治县柑橘合作社")
    with engine.writer(tmp_path / "ix") as w:
        engine.apply(w, [changed, new_seller], refresh_entities=False)
        w.commit()
    reader = index.snapshot().searcher.reader()
    assert reader.doc_count() == before + 2  # one new product, one new seller document
    assert reader.doc_count_all() - reader.doc_count() == 1  # only the changed product replaced
    assert set(index.search(engine.SearchRequest(q="柑橘", limit=500)).ids) == {51}
    docs[51] = new_seller
    check(index, {**docs, 1: changed}, rnd)
