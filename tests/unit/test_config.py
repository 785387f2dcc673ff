import pytest

from marketplace import create_app
from marketplace.config import ConfigError, environment_overrides, finalize


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("MARKETPLACE_SECRET_KEY", raising=False)
    monkeypatch.delenv("MARKETPLACE_MODE", raising=False)
    with pytest.raises(ConfigError):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                    "UPLOAD_FOLDER": str(tmp_path / "u")})
    with pytest.raises(ConfigError):
        finalize({"MARKETPLACE_MODE": "production", "SECRET_KEY": "change-me"})
    with pytest.raises(ConfigError):
        finalize({"MARKETPLACE_MODE": "production", "SECRET_KEY": "short"})


def test_production_starts_with_a_real_key(tmp_path):
    app = create_app({"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "UPLOAD_FOLDER": str(tmp_path / "u")})
    assert app.config["MARKETPLACE_MODE"] == "production"
    assert app.config["HOUSEHOLD_ID_HASH_KEY"] != app.config["SECRET_KEY"]


def test_demo_mode_gets_a_labelled_demo_key():
    cfg = finalize({"MARKETPLACE_MODE": "demo", "SECRET_KEY": ""})
    assert cfg["SECRET_KEY"] == "demo-insecure-key"
    with pytest.raises(ConfigError):
        finalize({"MARKETPLACE_MODE": "staging"})


def test_environment_overrides():
    env = {"MARKETPLACE_DATABASE_URL": "postgresql+psycopg://u:p@h/db",
           "MARKETPLACE_SECRET_KEY": "s" * 30, "MARKETPLACE_UPLOAD_FOLDER": "/srv/up",
           "MARKETPLACE_SECURE_COOKIES": "1", "MARKETPLACE_PER_PAGE": "30"}
    out = environment_overrides(env)
    assert out["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@h/db"
    assert out["UPLOAD_FOLDER"] == "/srv/up" and out["SECURE_COOKIES"] is True
    assert out["PER_PAGE"] == 30
    assert environment_overrides({}) == {}


def test_secure_cookies_make_the_session_and_remember_cookies_secure():
    on = finalize({"MARKETPLACE_MODE": "test", "SECURE_COOKIES": True})
    assert on["SESSION_COOKIE_SECURE"] is True and on["REMEMBER_COOKIE_SECURE"] is True
    off = finalize({"MARKETPLACE_MODE": "test"})
    assert off["SESSION_COOKIE_SECURE"] is False and off["REMEMBER_COOKIE_SECURE"] is False
    assert environment_overrides({"MARKETPLACE_SECURE_COOKIES": "0"}) == {"SECURE_COOKIES": False}
    assert environment_overrides({"MARKETPLACE_TRUSTED_PROXIES": "1"}) == {"TRUSTED_PROXIES": 1}
