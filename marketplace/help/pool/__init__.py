"""The donation pool (非指向性捐赠): donations, allocations to approved needs, the insert-only hash-chained pool ledger, and the sellers' charity pledges (公益承诺)."""
