"""Sellers (经营主体): household shops, cooperatives with member households, enterprises;
applying, verification, staff; the seller console.

Layer: above `households` (a household shop's household, a cooperative's members) and
`accounts`; below `catalog`.

- `models`: Seller, CooperativeMember, kinds and statuses.
- `services`: applying, verifying, suspending, members (policy-checked).
- `console`: which seller a console page works on (?seller=, policy-checked).
- `forms`, `views`: the seller console (an entry point).
"""
