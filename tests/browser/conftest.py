"""Real-browser fixtures: the app served by werkzeug in a thread, Debian's Chromium via Playwright.

Runs on SQLite only (a browser journey is about pages, not engines). Chromium is never
downloaded: MARKETPLACE_CHROMIUM (default /usr/bin/chromium) must point at an installed one.
Without Chromium or Playwright the tests skip, except under CI=true where they fail.
"""
from __future__ import annotations

import io
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.config import test_config
from marketplace.extensions import db
from tests.fixtures.factories import make_product, make_seller, make_user

IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true but {reason}: the browser journey must run in CI")
    pytest.skip(reason)


def chromium_path() -> str:
    path = os.environ.get("MARKETPLACE_CHROMIUM", "/usr/bin/chromium")
    resolved = shutil.which(path) if not os.path.isabs(path) else path
    if not resolved or not os.access(resolved, os.X_OK):
        _unavailable(f"Chromium not found at {path} (apt-get install chromium, or set "
                     "MARKETPLACE_CHROMIUM)")
    return resolved


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian Chromium driven by Playwright, shared by the browser tests."""
    executable = chromium_path()
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:  # pragma: no cover - the test extras include playwright
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Error as exc:
            _unavailable(f"Chromium at {executable} does not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium):
    """A fresh phone-sized browser context (390x844, touch, 2x pixels, Chinese)."""
    context = chromium.new_context(**PHONE)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass
class LiveServer:
    app: object
    url: str


@pytest.fixture
def live_app(sqlite_url, tmp_path):
    """The application on a fresh migrated SQLite database (not yet serving)."""
    application = create_app(test_config(tmp_path, sqlite_url))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    """live_app served by werkzeug on 127.0.0.1 and a free port, in a background thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(live_app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def picture(color: tuple[int, int, int]) -> bytes:
    """A striped JPEG, so that screenshots show a real picture."""
    img = Image.new("RGB", (480, 480), color)
    draw = ImageDraw.Draw(img)
    light = tuple(min(255, c + 50) for c in color)
    for x in range(-480, 480, 48):
        draw.line([(x, 0), (x + 480, 480)], fill=light, width=14)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@dataclass
class Shop:
    seller: object
    tea: object  # certified, two images
    tea2: object
    fruit: object


def build_shop(session) -> Shop:
    """A verified cooperative with listed products in two categories, with images."""
    seller = make_seller(session, name="洞口县月溪镇洪溪村茶叶专业合作社")
    staff = make_user(session, Role.buyer, Role.seller_staff, seller=seller)
    tea = make_product(session, seller, name="洪溪高山云雾茶", price_fen=12800, certified=True,
                       spec="250g/罐", description="海拔八百米的云雾茶园，农户手工采摘。")
    tea2 = make_product(session, seller, name="古楼明前毛尖", price_fen=9900,
                        origin_code="430525101202", spec="100g/袋")
    fruit = make_product(session, seller, name="雪峰冰糖橙", category_slug="fruit",
                         price_fen=5990, spec="5斤/箱", description="当季现摘，产地直发。")
    uploads = {
        tea.id: [picture((46, 125, 50)), picture((30, 90, 40))],
        tea2.id: [picture((90, 140, 60))],
        fruit.id: [picture((239, 108, 0))],
    }
    for product in (tea, tea2, fruit):
        catalog.add_images(session, staff, product, [
            catalog.UploadedImage(f"p{product.id}-{i}.jpg", data)
            for i, data in enumerate(uploads[product.id], start=1)])
    return Shop(seller, tea, tea2, fruit)


@pytest.fixture
def shop(live_app) -> Shop:
    with live_app.app_context():
        db.session().expire_on_commit = False
        built = build_shop(db.session)
        db.session.commit()
        return built
