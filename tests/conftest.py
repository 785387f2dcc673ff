import pytest

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.app",
    "tests.fixtures.demo",
    "tests.fixtures.factories",
    "tests.fixtures.fake_stripe",
    "tests.fixtures.units",
]

# `make test` runs the tests on several pytest-xdist workers (--dist loadgroup). These go to one
# worker each as a group: the browser journeys (one Chromium for all of them) and the files on
# the seeded demo (tests.fixtures.demo: seeded once per engine on that worker). Every other test
# goes to whichever worker is free.
XDIST_GROUPS = {"browser": lambda path: path.startswith("tests/browser/"),
                "demo": lambda path: "seed" in path.rsplit("/", 1)[-1]
                or "demo" in path.rsplit("/", 1)[-1]}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's own loadgroup names a test's group by renaming its node id (an xdist_group mark),
    which pytest 9.2 no longer allows: group the tests by their file's path instead."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class PathGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            for group, member in XDIST_GROUPS.items():
                if member(path):
                    return group
            return super()._split_scope(nodeid)

    return PathGroups(config, log)
