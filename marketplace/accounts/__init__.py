"""Accounts: users (e-mail or mainland mobile), passwords, sign-in, API tokens and role grants
(a seller's staff bound to its seller, an office bound to its region).

Layer: above `regions` and `core`; below every domain that acts for a user. It knows sellers
and regions only as the tables a grant points to.

- `models`: User (with its session generation), RoleGrant (roles themselves are
  `core.roles.Role`), LoginFailure.
- `services`: registering, authenticating, tokens, granting and revoking roles, ending a user's
  sessions (sign_out_everywhere), the sign-in locks for admins (login_locks, lift_login_lock).
- `guard`: failed sign-ins counted in the database per login and per client address, and the
  wait after too many (TooManyAttempts).
- `forms`, `views`: the sign-in, registration and account pages (an entry point).
"""
