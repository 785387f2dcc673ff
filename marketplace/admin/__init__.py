"""The platform admin's console (/admin): verifying sellers, reviewing products, regions,
users and roles.

Layer: an entry point (views only): it calls the services of accounts, sellers, catalog and
regions; nothing imports it but the app.

- `forms`, `views`.
"""
