pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.app",
    "tests.fixtures.demo",
    "tests.fixtures.factories",
    "tests.fixtures.fake_stripe",
    "tests.fixtures.units",
]
