"""Offices' reports (帮扶成效统计): attributed household income and sales for a region and a
period, sub-regions and households, trends, the monthly assessment and quarterly ranking, the
households without income, exports. Reads the ledger's pre-aggregates (`ledger.rollup`), from
a replica when `MARKETPLACE_REPORTS_DATABASE_URL` is set; writes only its own tables."""
