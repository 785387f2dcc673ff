"""Registered households (帮扶对象) in their villages: ID numbers kept only as a keyed hash
and the last digits, names masked in public, one liaison each; the liaison's and the office's
pages.

Layer: above `notifications`, `accounts` and `regions`; below `sellers` (a household shop is
a household's) and everything that attributes income to households.

- `models`: Household and statuses.
- `services`: registering and finding households (policy-checked by region subtree).
- `forms`, `views`: the liaison's and the office's pages, household statements, public pages
  (an entry point).
"""
