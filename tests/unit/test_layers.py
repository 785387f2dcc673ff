"""The layers of docs/architecture.md, declared as import-linter contracts in pyproject.toml,
hold for the code; and a wrong import breaks them (so that `make test` fails on it)."""
from __future__ import annotations

from pathlib import Path

import pytest
from importlinter import configuration
from importlinter.application import use_cases

configuration.configure()  # as the lint-imports command does first

PYPROJECT = str(Path(__file__).resolve().parents[2] / "pyproject.toml")
LAYERS = "Layers: entry points on top, domains in dependency order, core at the bottom"
NO_VIEW_IMPORTS = "Views are entry points: no domain module imports a view"
VIEWS_APART = "No view module imports another view module"


def broken(capsys, extra: tuple[str, str] | None = None, monkeypatch=None) -> set[str]:
    """The names of the contracts `lint-imports` reports broken (with `extra`, an import added
    to the graph it builds)."""
    if extra is not None:
        build = use_cases._build_graph

        def with_extra(*args, **kwargs):
            graph = build(*args, **kwargs)
            graph.add_import(importer=extra[0], imported=extra[1])
            return graph
        monkeypatch.setattr(use_cases, "_build_graph", with_extra)
    capsys.readouterr()
    passed = use_cases.lint_imports(config_filename=PYPROJECT, cache_dir=None, no_logo=True,
                                    is_debug_mode=True)
    out = capsys.readouterr().out
    names = {name for name in (LAYERS, NO_VIEW_IMPORTS, VIEWS_APART) if f"{name} BROKEN" in out}
    assert bool(passed) == (not names), out
    assert "3 kept" in out or names, out
    return names


def test_the_layers_hold(capsys):
    assert broken(capsys) == set()


@pytest.mark.parametrize(("importer", "imported", "contract"), [
    ("marketplace.orders.services", "marketplace.payments.capture", LAYERS),  # orders < payments
    ("marketplace.ledger.posting", "marketplace.payments.refunds", LAYERS),  # ledger < payments
    ("marketplace.orders.fulfilment", "marketplace.ledger.posting", LAYERS),  # orders < ledger
    ("marketplace.core.policy", "marketplace.accounts.models", LAYERS),  # core imports no domain
    ("marketplace.notifications.services", "marketplace.orders.models", LAYERS),
    ("marketplace.audit.services", "marketplace.accounts.models", LAYERS),  # audit < accounts
    ("marketplace.ledger.lots", "marketplace.sellers.views", NO_VIEW_IMPORTS),
    ("marketplace.orders.seller_views", "marketplace.orders.views", VIEWS_APART),
])
def test_a_wrong_import_breaks_a_contract(capsys, monkeypatch, importer, imported, contract):
    assert contract in broken(capsys, (importer, imported), monkeypatch)
