"""Real-browser tests: the app served by werkzeug on 127.0.0.1, driven by Debian's Chromium through Playwright.

One app and one database serve all the browser tests (migrated, courses loaded, demo population seeded), with CSRF
protection switched ON so every form the browser submits carries a real token. Playwright never downloads a
browser: it drives /usr/bin/chromium. Without that binary the tests are skipped, except under CI=true, where a
missing browser is a failure. The accessibility engine (axe-core) comes from the npm registry, pinned in
package.json / package-lock.json next to this file; it is installed with ``npm ci`` when node_modules is missing.

The e2e database is always a private SQLite file, whatever TEST_DATABASE_URL says, so these tests never share the
PostgreSQL test database with the per-test fixtures of the rest of the suite.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import WSGIRequestHandler, make_server

from config import TestingConfig
from lms import create_app
from lms.extensions import db
from tests.e2e.support import AXE_NOTES
from tests.npm import npm_ci_once

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE_JS = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
TIMEOUT_MS = 15_000  # certificate issuance renders and signs a PDF: give it room on a busy 2-core machine

expect.set_options(timeout=TIMEOUT_MS)

def pytest_terminal_summary(terminalreporter):
    if AXE_NOTES:
        terminalreporter.section("axe-core: moderate and minor findings (not failing)")
        for line in AXE_NOTES:
            terminalreporter.write_line(line)


def unavailable(reason: str):
    """Skip on a developer machine; fail under CI=true, where the browser tests must always run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: end-to-end tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    app: Flask

    def query(self, fn):
        """Run ``fn`` inside an app context (to read what the browser did, or to prepare data) and return its result.

        It runs in a worker thread: Playwright's synchronous API keeps an asyncio loop running in the test's thread,
        and domain code that signs PDFs (pyHanko) starts its own loop, which asyncio forbids inside a running one.
        """

        def work():
            with self.app.app_context():
                try:
                    return fn()
                finally:
                    db.session.remove()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(work).result()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request would drown the test output
        pass


def _build_app(root: Path, url: str, signing_config: dict) -> Flask:
    from flask_migrate import upgrade

    from lms.demo import seed
    from lms.standards.operations import load_standard
    from lms.training.content import load_all

    app = create_app(TestingConfig, INSTANCE_PATH=root / "instance",
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{root / 'e2e.db'}", WTF_CSRF_ENABLED=True,
                     PUBLIC_BASE_URL=url, **signing_config)
    with app.app_context():
        upgrade()
        loaded, errors = load_all(app.config["COURSES_DIR"])
        assert not errors, errors
        load_standard(app.config["COURSES_DIR"] / "omr" / "standard.yaml")
        db.session.commit()
        seed()
        db.session.commit()
        db.session.remove()
    return app


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="package")
def browser(live_server):
    """Debian's Chromium, headless, shared by every test in this folder.

    Playwright's synchronous API keeps an asyncio loop running in the test thread until it is stopped, and pyHanko
    (certificate signing) calls asyncio.run(), which refuses to run inside a running loop. So the browser starts after
    the live server is built (seeding signs a certificate) and stops as soon as the last browser test has run
    (package scope, not session scope), before the rest of the suite signs PDFs in this thread.
    """
    _require_chromium()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    except Exception:
        pw.stop()
        raise
    yield chromium
    chromium.close()
    pw.stop()


@pytest.fixture(scope="package")
def live_server(tmp_path_factory, signing_config):
    """The real app on 127.0.0.1 and a free port, in a background thread, over a fresh seeded database."""
    _require_chromium()  # no point building the app for a browser that is not there
    root = tmp_path_factory.mktemp("e2e")
    holder: dict[str, Flask] = {}

    def dispatch(environ, start_response):
        return holder["app"](environ, start_response)

    # Bind first (port 0 picks a free port), then build the app so PUBLIC_BASE_URL names the real port.
    server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        holder["app"] = _build_app(root, url, signing_config)
    except BaseException:
        server.server_close()
        raise
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="e2e-server",
                              daemon=True)
    thread.start()
    yield LiveServer(url=url, app=holder["app"])
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with holder["app"].app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The axe-core engine's source, installed from the npm registry by ``npm ci`` when it is missing."""
    npm_ci_once(E2E_DIR, AXE_JS, "axe-core", unavailable)
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def open_page(live_server, browser):
    """Open pages in fresh browser contexts (one context = one person's cookies).

    Every page is watched: a server error (5xx), an uncaught script error or a Content-Security-Policy violation
    fails the test, whatever the test itself checks.
    """
    contexts = []
    problems: list[str] = []

    def _open(**context_options):
        options = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US", **context_options}
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("response", lambda r: problems.append(f"HTTP {r.status} for {r.request.method} {r.url}")
                if r.status >= 500 else None)
        page.on("console", lambda m: problems.append(f"console: {m.text}")
                if m.type == "error" and "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        contexts.append(context)
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not problems, "problems seen in the browser:\n" + "\n".join(problems)


@pytest.fixture
def page(open_page):
    return open_page()
