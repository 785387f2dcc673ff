"""The households' income: attribution rules, supply lots, the insert-only hash-chained
ledger, and what it answers (whom an order helped, statements, incomes).

Layer: above `orders` (it attributes paid order lines), below `payments` (which posts to it in
the transaction that records the money).

- `rules`: pure rules (attributable amounts, exact splits, FIFO draws, reversals, the hash).
- `posting`: post a paid order's lines, reverse refunded ones.
- `shares`: what a product or cart line gives households before paying (the posting rule over
  the terms of now: exact without lots, an estimate from the lots held now with them).
- `lots`: supply lots, attribution terms, the guaranteed minimum price flag, drawing on lots.
- `chain`: appending chained entries, verifying the chain, its head and anchors.
- `sql`: the statements of posting and reading the chain (portable, and the twins).
- `impact`, `statements`, `income`: whom an order helped, a household's statement, incomes by
  region.
- `models`: LedgerEntry, LedgerHead, SupplyLot, LotDraw.
"""
