"""Demo data: the files live in seed/ at the project root; this package loads them.

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
