from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, g, request, session
from werkzeug.routing import IntegerConverter

from marketplace import config as cfg
from marketplace.core import db as dbsetup
from marketplace.core.inputs import BIGINT_MAX
from marketplace.core.jsonio import JSONProvider
from marketplace.extensions import babel, csrf, db, login_manager, migrate

PROJECT_ROOT = cfg.PROJECT_ROOT


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` that only matches what a BIGINT id can hold: /products/99999999999999999999
    is a 404, not an overflow inside the database driver."""

    def __init__(self, map, fixed_digits=0, min=None, max=BIGINT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class MarketplaceFlask(Flask):
    json_provider_class = JSONProvider  # refuses JSON nested too deeply (core.jsonio)


def create_app(config: dict | None = None) -> Flask:
    """Build the application. `config` overrides defaults and MARKETPLACE_* variables."""
    settings = cfg.default_config()
    settings.update(cfg.environment_overrides())
    settings.update(config or {})
    settings = cfg.finalize(settings)

    instance_path = os.environ.get("MARKETPLACE_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))
    app = MarketplaceFlask(__name__, instance_path=instance_path, instance_relative_config=False,
                template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"))
    app.config.update(settings)
    app.url_map.converters["int"] = DatabaseIdConverter
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    dbsetup.configure_sqlite(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    dbsetup.configure_twins(app.config["SQL_TWINS"])
    opts = dict(dbsetup.sqlite_engine_options(uri))
    opts.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = opts
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)

    _import_models()
    from marketplace.catalog.images import install_session_hooks
    install_session_hooks()
    db.init_app(app)
    from marketplace import search
    search.register(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "warning"

    from marketplace.core import i18n
    i18n.ensure_compiled(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.register(app)
    i18n.register_cli(app)

    @app.before_request
    def _write_intent():
        g._write_token = dbsetup.set_write_intent(request.method not in ("GET", "HEAD",
                                                                          "OPTIONS"))

    @app.before_request
    def _query_rules():
        from marketplace.core.inputs import check_query
        check_query(request.args)  # hidden characters in a query string: 400, named

    @app.teardown_request
    def _reset_intent(exc=None):
        token = g.pop("_write_token", None)
        if token is not None:
            dbsetup.reset_write_intent(token)

    from marketplace.accounts.services import load_user
    login_manager.user_loader(load_user)

    from marketplace.core import errorhandlers, headers, templating
    headers.register(app)
    templating.register(app)
    errorhandlers.register(app)
    _register_blueprints(app)

    from marketplace import cli
    cli.register(app)

    if app.config["MARKETPLACE_MODE"] != "test":
        logging.basicConfig(level=logging.INFO)
    _ = session  # session is configured by Flask defaults (signed cookie)
    return app


def _import_models() -> None:
    from marketplace.accounts import models as _a  # noqa: F401
    from marketplace.audit import models as _au  # noqa: F401
    from marketplace.catalog import models as _c  # noqa: F401
    from marketplace.help.events import models as _he  # noqa: F401
    from marketplace.help.needs import models as _hn  # noqa: F401
    from marketplace.help.pool import models as _hp  # noqa: F401
    from marketplace.households import models as _h  # noqa: F401
    from marketplace.ledger import models as _l  # noqa: F401
    from marketplace.notifications import models as _n  # noqa: F401
    from marketplace.orders import models as _o  # noqa: F401
    from marketplace.payments import models as _p  # noqa: F401
    from marketplace.regions import models as _r  # noqa: F401
    from marketplace.reports import models as _rp  # noqa: F401
    from marketplace.search import models as _q  # noqa: F401
    from marketplace.sellers import models as _s  # noqa: F401
    from marketplace.units import models as _u  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.admin.views import bp as admin_bp
    from marketplace.api import bp as api_bp
    from marketplace.audit.views import bp as audit_bp
    from marketplace.help.events.views import bp as events_bp
    from marketplace.help.needs.views import bp as needs_bp
    from marketplace.help.needs.wish_views import bp as wishes_bp
    from marketplace.help.pool.views import bp as pool_bp
    from marketplace.households.views import bp as households_bp
    from marketplace.media.views import bp as media_bp
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.orders.offline_views import bp as offline_sales_bp
    from marketplace.orders.seller_views import bp as seller_orders_bp
    from marketplace.orders.views import bp as orders_bp
    from marketplace.payments.views import bp as payments_bp
    from marketplace.reports.views import bp as reports_bp
    from marketplace.sellers.views import bp as seller_bp
    from marketplace.storefront.views import bp as storefront_bp
    from marketplace.units.campaign_views import bp as campaigns_bp
    from marketplace.units.filing_views import bp as filings_bp
    from marketplace.units.views import bp as units_bp

    for bp in (storefront_bp, accounts_bp, seller_bp, admin_bp, households_bp, media_bp,
               orders_bp, seller_orders_bp, offline_sales_bp, notifications_bp, audit_bp, units_bp,
               campaigns_bp, filings_bp, needs_bp, wishes_bp, pool_bp, events_bp):
        app.register_blueprint(bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    app.register_blueprint(payments_bp)
    csrf.exempt(payments_bp)  # provider webhooks are verified by their signatures
