"""Orders: the cart, checkout split into one order per seller with stock reserved, the order
lifecycle after payment (shipping, receipt, closing), invoices and address books.

Layer: above `search` (stock changes feed the index), `catalog`, `sellers` and
`notifications`; below `ledger` and `payments`, which it never imports: a payment marks an
order paid through `payments.capture`, and refunds are `payments.refunds`.

- `services`: checkout (`checkout`), expiry and cancellation, a late payment's `reserve_again`.
- `reading`: an order as its buyer, its seller's staff or an admin sees it (404 for others).
- `sql`: the statements of the checkout hot path (one for both engines).
- `cart`, `addresses`, `fulfilment` (ship, receive, advance), `invoices`.
- `offline`: offline sales (线下销售): checking a sale, its order made paid and handed over, its
  units taken from stock (the payment and the ledger posting are `payments.offline`);
  `offline_import`: reading a CSV or xlsx file of them, all or nothing, and its templates.
- `notices`: what the buyer and the seller's staff are told (through `notifications`).
- `models`: Order, OrderLine, OrderEvent (kinds: OrderEventKind), Checkout, CartItem, Invoice,
  SavedAddress.
- `forms`, `views` (the buyer's pages), `seller_views` (the seller's order pages, blueprint
  `seller_orders`), `offline_forms` and `offline_views` (the seller's offline sales, blueprint
  `offline_sales`): entry points.
"""
