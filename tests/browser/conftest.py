"""Browser-test harness: headless Chromium (Playwright, sync API) against the live server.

Fixtures for every test under ``tests/browser``:

* ``browser``: one headless Chromium shared by the whole run of browser tests (Debian's, from
  ``$TRELLIS_CHROMIUM`` or ``/usr/bin/chromium``; Playwright never downloads a browser). It is
  stopped when the run leaves tests/browser, see ``_Chromium``. A missing executable skips the
  browser tests, unless ``TRELLIS_REQUIRE_BROWSER=1`` (CI), where it fails them instead so a run
  without a browser cannot pass silently.
* ``page`` (1280x800) and ``phone_page`` (390x844, touch): a fresh context per test. The app's
  Content Security Policy stays enforced (no ``bypass_csp``) and any CSP violation the browser
  reports fails the test, so a browser test also catches an inline script or style that would
  break in production. On failure a full-page screenshot goes to ``test-artifacts/``.
* ``new_page(**context_options)``: more pages (e.g. a second user in the same test).
* ``demo_site``: the synthetic demo programs, freshly seeded for each test; returns the live
  server's base URL (no trailing slash).

Sign-in and accessibility helpers live in ``tests.browser.helpers`` and ``tests.browser.axe``.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.browser.helpers import DESKTOP, PHONE

# We always pass an executable; make sure nothing ever tries to fetch Playwright's own build.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

BROWSER_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = BROWSER_DIR.parent.parent / "test-artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
DEFAULT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Hooks in a sub-directory conftest still see every collected item: mark only ours.
    for item in items:
        if _in_browser_dir(item):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the item so fixtures can tell, at teardown, if the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _test_failed(node: pytest.Item) -> bool:
    return any(
        getattr(getattr(node, f"rep_{when}", None), "failed", False) for when in ("setup", "call")
    )


class _Chromium:
    """One Playwright and one Chromium for a whole run of browser tests.

    Playwright's sync API keeps an asyncio event loop marked as running in the main thread for as
    long as it is started. Django then refuses ORM calls from the test body ("You cannot call this
    from an async context") unless DJANGO_ALLOW_ASYNC_UNSAFE is set, and ``asyncio.run()`` fails
    outright. So Playwright is started by the first browser test and stopped as soon as the run
    leaves tests/browser (see ``pytest_runtest_teardown``), not at the end of the session, and the
    variable is set only while it runs: later, non-browser tests get a normal main thread back.
    """

    ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

    def __init__(self) -> None:
        self.playwright: Any = None
        self.browser: Any = None
        self.saved_env: str | None = None

    def get(self, executable: str) -> Any:
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.saved_env = os.environ.get(self.ASYNC_UNSAFE)
            os.environ[self.ASYNC_UNSAFE] = "true"
            self.playwright = sync_playwright().start()
            try:
                self.browser = self.playwright.chromium.launch(
                    executable_path=executable, args=CHROMIUM_ARGS
                )
            except BaseException:
                self.stop()
                raise
        return self.browser

    def stop(self) -> None:
        if self.playwright is None:
            return
        try:
            if self.browser is not None:
                self.browser.close()
        finally:
            self.playwright.stop()
            self.playwright = self.browser = None
            if self.saved_env is None:
                os.environ.pop(self.ASYNC_UNSAFE, None)
            else:
                os.environ[self.ASYNC_UNSAFE] = self.saved_env


_chromium = _Chromium()


def _in_browser_dir(item: pytest.Item) -> bool:
    return BROWSER_DIR in Path(str(item.path)).resolve().parents


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    try:
        return (yield)
    finally:
        if nextitem is None or not _in_browser_dir(nextitem):
            _chromium.stop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _chromium.stop()


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The Chromium to drive; skips if absent (fails instead with TRELLIS_REQUIRE_BROWSER=1)."""
    executable = os.environ.get("TRELLIS_CHROMIUM") or DEFAULT_CHROMIUM
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        reason = (
            f"Chromium not found at {executable!r}: install Debian's chromium or set "
            "TRELLIS_CHROMIUM to its path"
        )
        if os.environ.get("TRELLIS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (TRELLIS_REQUIRE_BROWSER=1, so this is an error)")
        pytest.skip(reason)
    return executable


@pytest.fixture
def browser(chromium_executable: str) -> Any:
    """The shared headless Chromium (launched once per run of browser tests)."""
    return _chromium.get(chromium_executable)


def _slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[-150:]


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Factory: ``new_page(**context_options)`` opens a page in a fresh browser context.

    Defaults to the desktop viewport; pass ``**PHONE`` (or any Playwright ``new_context``
    option) to change it. Every page it made is screenshotted if the test fails, and the test
    fails if the browser reported a Content Security Policy violation on any of them.
    """
    opened: list[tuple[Any, Any, list[str]]] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**{**DESKTOP, **options})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        page = context.new_page()
        violations: list[str] = []

        def on_console(msg: Any) -> None:
            if msg.type == "error" and "Content Security Policy" in msg.text:
                violations.append(f"{page.url}: {msg.text}")

        page.on("console", on_console)
        opened.append((context, page, violations))
        return page

    yield make

    failed = _test_failed(request.node)
    csp_problems: list[str] = []
    for index, (context, page, violations) in enumerate(opened):
        if failed and not page.is_closed():
            ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
            name = f"{_slug(request.node.nodeid)}-{index}.png"
            try:
                page.screenshot(path=str(ARTIFACTS_DIR / name), full_page=True)
            except Exception as exc:  # a screenshot must never hide the real failure
                print(f"could not save screenshot {name}: {exc}")
            else:
                print(f"screenshot: {ARTIFACTS_DIR / name}")
        csp_problems.extend(violations)
        context.close()
    if csp_problems and not failed:
        pytest.fail("Content Security Policy violations:\n" + "\n".join(csp_problems))


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """A desktop page (1280x800) in its own browser context."""
    return new_page()


@pytest.fixture
def phone_page(new_page: Callable[..., Any]) -> Any:
    """A phone-sized page (390x844, mobile, touch) in its own browser context."""
    return new_page(**PHONE)


# Seeding the demo takes seconds and grows with every app that adds a seeder, while the
# per-test flush of the transactional database wipes it. On the default in-memory SQLite test
# database, the first test seeds and takes a snapshot with SQLite's backup API; later tests copy
# the snapshot back in a few milliseconds. Any other database is seeded again for each test.
_demo_snapshots: dict[str, sqlite3.Connection] = {}


def _seed_demo_data() -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from trellis.web.demo import seed_demo

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        seed_demo()
        return
    connection.ensure_connection()
    live = connection.connection
    key = str(connection.settings_dict["NAME"])
    snapshot = _demo_snapshots.get(key)
    if snapshot is None:
        seed_demo()
        snapshot = sqlite3.connect(":memory:", check_same_thread=False)
        live.backup(snapshot)
        _demo_snapshots[key] = snapshot
    else:
        snapshot.backup(live)
        # The flush after the previous test re-created content types under new ids.
        ContentType.objects.clear_cache()


@pytest.fixture
def demo_site(live_server: Any) -> str:
    """Seed the synthetic demo programs (Riverbend and Lakeside); return the base URL.

    ``live_server`` makes the test transactional: the data is committed, visible to the server
    thread, and flushed after the test, so each test starts from the freshly seeded demo.
    """
    _seed_demo_data()
    return live_server.url
