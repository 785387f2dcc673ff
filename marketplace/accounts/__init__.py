"""Accounts: users (e-mail or mainland mobile), passwords, sign-in, API tokens and role grants
(a seller's staff bound to its seller, an office bound to its region).

Layer: above `regions` and `core`; below every domain that acts for a user. It knows sellers
and regions only as the tables a grant points to.

- `models`: User, RoleGrant (roles themselves are `core.roles.Role`).
- `services`: registering, authenticating, tokens, granting and revoking roles.
- `forms`, `views`: the sign-in, registration and account pages (an entry point).
"""
