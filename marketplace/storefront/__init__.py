"""The shop's pages: home, catalogue with filters, product, seller and region pages.

Layer: an entry point: it reads through catalog, search, sellers, households and regions.

- `context`: what each page shows (a small layer of reads the views call).
- `views`: the blueprint.
"""
