"""Orders: checkout split per seller, stock reservations, payments, the order lifecycle."""
