"""Demo data: the files live in seed/ at the project root; this package loads them through the
real services (demo orders are bought, paid and refunded as a buyer would).

Layer: an entry point (only the cli imports it).

- `demo`: regions, accounts, households, sellers, products, lots; `orders`: demo orders;
  `people`: invented names and codes; `artwork`: product pictures drawn at load time.

`flask seed demo` calls seed_demo(); see seed/README.md for what the files hold.
"""
from marketplace.seed.demo import (
                                   SEED_DIR,
                                   DemoAccount,
                                   SeedDataError,
                                   SeedReport,
                                   Tally,
                                   load_data,
                                   seed_demo,
)

__all__ = ["SEED_DIR", "DemoAccount", "SeedDataError", "SeedReport", "Tally", "load_data",
           "seed_demo"]
