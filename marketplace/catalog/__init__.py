"""The catalogue: products (with images, certificate and review status) and categories, and
reading them for the storefront and the API.

Layer: above `sellers` (a product belongs to one), below `search` (which indexes it) and
`orders`.

- `models`: Product, ProductImage, Category, statuses.
- `services`: creating, editing and reviewing products (policy-checked).
- `filters`: a catalogue query's filters and sort, read from request arguments.
- `queries`: the catalogue's statements (browse by filters, one product); `cards`: the cards a
  list shows.
- `images`: storing uploaded pictures (re-encoded, thumbnails).
"""
