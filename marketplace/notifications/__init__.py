"""Notifications inside the site (no mail server needed): short messages about one's orders,
refunds and supply lots.

Layer: above `accounts` (staff are found through role grants), below every domain that sends
them (orders, the ledger, payments); it imports none of them.

- `models`: the notifications table.
- `messages`: what a row stores: the message's key and JSON values (so it is shown in the
  reader's language) and the endpoint its link is built from, with its arguments.
- `services`: sending (to users, to a seller's staff) and reading (latest, unread, mark read).
- `views`: the /notifications page (each row translated, its link from url_for) and the unread
  count in every page's header.

Senders pass a `core.i18n.Msg` and an endpoint name with its arguments, never a typed path.
"""
