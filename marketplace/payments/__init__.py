"""Payments: money captured by providers and money given back.

Layer: above `ledger` (a captured payment posts the households' income in its transaction) and
`orders` (it marks an order paid); below the entry points (api, views). `orders` never imports
it.

- `models`: Payment, PaymentEvent (a provider's notification, recorded once), Refund.
- `capture`: the one road of a captured payment (`record` for any `Payable`, `record_payment`
  for an order): recorded once per provider reference, the payable marked paid, the ledger
  posted, or the money recorded to go back (refund due, with its reason).
- `payables`: what money can be paid for (`OrderPayable`).
- `payback`: money a payable could not take, paid back through its provider exactly once
  (`settle`), retried by a redelivered event and `flask payments retry-refunds`.
- `refunds`: refunds asked for, approved, rejected or given, paid back through the provider and
  reversed in the ledger.
- `transfers`: bank transfer (对公转账): voucher, confirmation by the seller.
- `offline`: offline sales (线下销售): the order (`orders.offline`), its cash or transfer payment
  taken at the stall (`capture.record_settled`, providers `offline_cash` / `offline_transfer`)
  and the ledger posting in one transaction; the CSV or xlsx import, all or nothing.
- `providers`: the payment providers behind one interface (simulated, Stripe); only
  `stripe_provider` imports stripe.
- `webhooks`: Stripe's events, verified and applied once; `views`: their endpoint.
- `sql`: the statements of recording a payment (one for both engines).
"""
