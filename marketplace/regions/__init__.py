"""The administrative tree (GB/T 2260 codes: province > city > county > township > village)
with a materialized path, so that "everything under this county" is one prefix query.

Layer: just above `core`; every domain with a place uses it.

- `models`: Region and levels.
- `services`: finding regions, subtree clauses (`within`), importing the tree from CSV.
"""
