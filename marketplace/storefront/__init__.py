"""The shop's pages: home, catalogue with filters, product, seller and region pages, and 钱去了哪里
(where the money goes: the households' share, the ledger and how to check it).

Layer: an entry point: it reads through catalog, search, sellers, households, regions and
the ledger (the households' share of a product, the ledger's head).

- `context`: what each page shows (a small layer of reads the views call).
- `views`: the blueprint.
"""
