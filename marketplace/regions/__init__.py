"""The administrative tree (GB/T 2260 codes: province > city > county > township > village)
with a materialized path, so that "everything under this county" is one prefix query.

Layer: just above `core`; every domain with a place uses it.

- `models`: Region and levels; how a place reads in an address (`address_name`) and among its
  siblings (`choice_label`).
- `services`: finding regions, subtree clauses (`within`), importing the tree from CSV (the
  national list is seed/regions-national.csv), the 省 > 市 > 区县 steps of an address choice
  (`address_steps`).
"""
