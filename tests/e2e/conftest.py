"""Fixtures for the browser tests: per test a scratch directory with a fresh database, a real
`rlhf serve` (started by the test itself, so it can set the database up first), Debian's
headless chromium with a fresh profile, and its first page.

Uncaught exceptions and CSP violations in any page fail the test even when every assertion
passed. When a test fails, a screenshot and the server log go to
tests/e2e/artifacts/<test name>.png and .server.log.
"""

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

import harness


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture
def workspace(request):
    """A scratch directory, removed after the test."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:40]
    directory = Path(tempfile.mkdtemp(prefix=f"rlhf-e2e-{name}-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def db(workspace):
    """The path of the test's database (created by the first `rlhf` command on it)."""
    return workspace / "labels.db"


@pytest.fixture
def server(db):
    """`rlhf serve` on the test's database; not started yet: call server.start()."""
    srv = harness.Server(db)
    yield srv
    srv.stop()


@pytest.fixture
def page_errors():
    """Errors seen in any page of the test's browser; non-empty fails the test."""
    return []


@pytest.fixture
def browser(playwright, workspace, page_errors):
    """Headless chromium (a persistent context with a fresh profile); every page is watched."""
    context = harness.launch_browser(playwright, workspace / "chromium-profile")
    context.on("page", lambda page: harness.watch_page_errors(page, page_errors))
    for page in context.pages:
        harness.watch_page_errors(page, page_errors)
    yield context
    try:
        context.close()
    except PlaywrightError:
        pass


@pytest.fixture
def page(browser):
    """The browser's first page."""
    return browser.pages[0] if browser.pages else browser.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fails a test that passed its assertions when its pages had errors."""
    result = yield
    errors = item.funcargs.get("page_errors")
    if errors:
        pytest.fail("errors in the page:\n" + "\n".join(errors), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test, a screenshot of its first open page and the server log go to
    tests/e2e/artifacts/ (while the fixtures are still alive)."""
    report = yield
    if report.when == "call" and report.failed:
        save_failure_artifacts(item)
    return report


def save_failure_artifacts(item):
    harness.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = harness.ARTIFACTS / re.sub(r"[^A-Za-z0-9]+", "_", item.name)
    context = item.funcargs.get("browser")
    if context is not None:
        for page in context.pages:
            try:
                page.screenshot(path=f"{base}.png", full_page=True)
                break
            except PlaywrightError:
                continue  # page gone
    server = item.funcargs.get("server")
    if server is not None:
        Path(f"{base}.server.log").write_text(server.log(), encoding="utf-8")
