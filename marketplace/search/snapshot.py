"""One version of the search index as this process answers from it (`Snapshot`): its segments
side by side, the live products, and the sets a query is made of (tokens, entities, price
ranges, facet groups), plus reading a set out in a sort order."""
from __future__ import annotations

import heapq
import itertools
from array import array
from collections import Counter
from pathlib import Path

from whoosh import index as whoosh_index

from marketplace.search import bits
from marketplace.search.documents import CATEGORY, REGION, SELLER
from marketplace.search.segments import BoundedSets, Segment, SegmentData, TokenCache

ENTITY_CACHE_BYTES = 16 * 1024 * 1024  # per snapshot: products of sellers, regions, categories
FACET_SETS = 256  # a facet column with more values is counted by going through the hits


class Snapshot:
    """One version of the index as this process answers from it: the searcher, its segments,
    the live products, the value columns over the whole index (document number = segment
    offset + the segment's own number) and sets computed on demand."""

    def __init__(self, directory: Path, segment_data: dict[str, SegmentData],
                 tokens: TokenCache):
        self.directory = directory
        self.tokens = tokens
        ix = whoosh_index.open_dir(str(directory))
        self.searcher = ix.searcher()
        self.segments: list[Segment] = []
        for reader, offset in self.searcher.reader().leaf_readers():
            key = reader.segment().segment_id()
            data = segment_data.get(key)
            if data is None:
                data = segment_data[key] = SegmentData(reader)
            self.segments.append(Segment(reader, offset, data, key))
        self.size = sum(s.data.size for s in self.segments)
        live = in_stock = 0
        if len(self.segments) == 1:  # the usual case after a rebuild: no copies
            cols = self.segments[0].data.cols
            self.ids, self.listed, self.price = cols["c_id"], cols["c_listed"], cols["c_price"]
        else:
            self.ids, self.listed, self.price = array("q"), array("q"), array("q")
            for seg in self.segments:
                self.ids.extend(seg.data.cols["c_id"])
                self.listed.extend(seg.data.cols["c_listed"])
                self.price.extend(seg.data.cols["c_price"])
        for seg in self.segments:
            data, off = seg.data, seg.offset
            alive = data.product_bits
            if seg.deleted:
                alive &= ~bits.from_positions(seg.deleted, data.size, len(seg.deleted))
            live |= alive << off
            in_stock |= (data.in_stock & alive) << off
        self.live, self.in_stock = live, in_stock
        self._groups: dict[str, dict[int, int]] = {}
        self._entities = BoundedSets(ENTITY_CACHE_BYTES)  # (kind, id) and ("token", token)
        self._children: dict[int, list[int]] | None = None

    FACETS = ("c_category", "c_county")
    GROUPED = (*FACETS, "c_whole")  # columns whose values are counted or looked up as sets

    def warm(self) -> Snapshot:
        """Compute now what the first queries would otherwise wait for (on a new index of
        300,000 products that was most of half a second): per segment its products by column
        and its sort orders, over the whole index the facets' sets and the region tree."""
        for seg in self.segments:
            seg.data.warm([c for c in self.GROUPED
                           if len(seg.data.members(c)) <= FACET_SETS])
        for column in self.GROUPED:
            if max(len(seg.data.members(column)) for seg in self.segments) <= FACET_SETS:
                self.groups(column)
        self._region_children()
        return self

    def up_to_date(self) -> bool:
        return self.searcher.up_to_date()

    def close(self) -> None:
        self.searcher.close()

    # -- sets

    def token(self, fieldname: str, token: str) -> int:
        out = 0
        for seg in self.segments:
            found = self.tokens.postings(seg, fieldname, token)
            if found:
                out |= found << seg.offset
        return out

    def counts(self, hits: int, column: str) -> dict[int, int]:
        """How many of `hits` have each value of a column (0 left out): one AND and popcount
        per value while there are few values (categories, counties of a region), else by
        going through the hits."""
        distinct = max(len(seg.data.members(column)) for seg in self.segments)
        if distinct <= FACET_SETS:
            out = {}
            for value, members in self.groups(column).items():
                if value:
                    n = (hits & members).bit_count()
                    if n:
                        out[value] = n
            return out
        counter: Counter = Counter()
        for seg in self.segments:
            local = hits >> seg.offset & ((1 << seg.data.size) - 1)
            if local:
                counter.update(map(seg.data.cols[column].__getitem__, bits.positions(local)))
        counter.pop(0, None)
        return dict(counter)

    def groups(self, column: str) -> dict[int, int]:
        """Products (deleted ones included) by a column's value over all segments."""
        found = self._groups.get(column)
        if found is None:
            found = {}
            for seg in self.segments:
                for value, members in seg.data.groups(column).items():
                    found[value] = found.get(value, 0) | members << seg.offset
            self._groups[column] = found
        return found

    def whole_name(self, members: int, length: int, code: int) -> int:
        """Those of `members` whose whole name's initials are the letters of `code` (`length`
        of them): narrowed down by the length as a set, then read one by one."""
        members &= self.groups("c_whole").get(length, 0)
        out = 0
        for seg in self.segments:
            local = members >> seg.offset & ((1 << seg.data.size) - 1)
            if local:
                codes = seg.data.cols["c_whole_code"]
                found = [d for d in bits.positions(local) if codes[d] == code]
                if found:
                    out |= bits.from_positions(found, seg.data.size, len(found)) << seg.offset
        return out

    def _region_children(self) -> dict[int, list[int]]:
        if self._children is None:
            children: dict[int, list[int]] = {}
            for seg in self.segments:
                cols = seg.data.cols
                ids, parent = cols["c_id"], cols["c_parent"]
                for d in seg.data.regions:
                    if d not in seg.deleted:
                        children.setdefault(parent[d], []).append(ids[d])
            self._children = children
        return self._children

    def entity(self, kind: int, entity_id: int) -> int:
        """The products of a category or seller, or from a region or anywhere below it."""
        key = (kind, entity_id)
        found = self._entities.get(key)
        if found is not None:
            return found
        if kind == REGION:
            region_ids, todo = set(), [entity_id]
            children = self._region_children()
            while todo:
                region = todo.pop()
                if region not in region_ids:
                    region_ids.add(region)
                    todo.extend(children.get(region, ()))
        else:
            region_ids = {entity_id}
        column = {CATEGORY: "c_category", SELLER: "c_seller", REGION: "c_origin"}[kind]
        found = 0
        for seg in self.segments:
            members = seg.data.members(column)
            lists = [members[r] for r in region_ids if r in members]
            if lists:
                count = sum(map(len, lists))
                local = bits.from_positions(itertools.chain.from_iterable(lists),
                                            seg.data.size, count)
                found |= local << seg.offset
        return self._entities.put(key, found)

    def entity_token(self, token: str) -> int:
        """The products whose category, seller or a region of whose origin has the token."""
        key = ("token", token)
        found = self._entities.get(key)
        if found is not None:
            return found
        matched: set[tuple[int, int]] = set()
        for seg in self.segments:
            local = self.tokens.postings(seg, "etok", token)
            if not local:
                continue
            kind, ids = seg.data.cols["c_kind"], seg.data.cols["c_id"]
            matched.update((kind[d], ids[d]) for d in bits.positions(local)
                           if d not in seg.deleted)
        found = 0
        for kind, entity_id in matched:
            found |= self.entity(kind, entity_id)
        return self._entities.put(key, found)

    def anywhere(self, token: str) -> int:
        return self.token("name", token) | self.token("text", token) | self.entity_token(token)

    def price_range(self, lo: int | None, hi: int | None) -> int:
        out = 0
        for seg in self.segments:
            out |= seg.data.price_range(lo, hi) << seg.offset
        return out

    # -- order

    def _key(self, sort: str):
        if sort == "newest":
            listed, ids = self.listed, self.ids
            return lambda d: (listed[d], ids[d])
        price, ids = self.price, self.ids
        return lambda d: (price[d], ids[d])

    def top(self, members: int, count: int, need: int, sort: str, descending: bool) -> list[int]:
        """The first `need` of a set of `count` documents in a sort order ("newest" or
        "price"). A small set is decoded and sorted; a large one is found by going down the
        precomputed order and keeping the members, which takes about need * size / count
        steps."""
        if count <= need or 2 * count * count < need * self.size:
            key = self._key(sort)
            found = bits.positions(members)
            if count <= need:
                found.sort(key=key, reverse=descending)
                return found
            pick = heapq.nlargest if descending else heapq.nsmallest
            return pick(need, found, key=key)
        data = bits.as_bytes(members, self.size)
        runs = []
        for seg in self.segments:
            order = seg.data.order(sort)
            if sort == "price" and descending:
                order = reversed(order)
            off = seg.offset
            runs.append(map(off.__add__, order) if off else iter(order))
        if len(runs) == 1:
            stream = runs[0]
        else:
            stream = heapq.merge(*runs, key=self._key(sort), reverse=descending)
        out: list[int] = []
        for d in stream:
            if data[d >> 3] >> (d & 7) & 1:
                out.append(d)
                if len(out) >= need:
                    break
        return out
