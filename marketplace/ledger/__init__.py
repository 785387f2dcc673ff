"""Attribution of sales to households: rules, the insert-only hash-chained ledger, statements."""
