"""Notifications inside the site (no mail server needed): short messages about one's orders,
refunds and supply lots.

Layer: above `accounts` (staff are found through role grants), below every domain that sends
them (orders, the ledger, payments); it imports none of them.

- `models`: the notifications table.
- `services`: sending (to users, to a seller's staff) and reading (latest, unread, mark read).
- `views`: the /notifications page and the unread count in every page's header.
"""
