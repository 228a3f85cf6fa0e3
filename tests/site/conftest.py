"""Fixtures for the browser tests: the website built once, served on 127.0.0.1, and headless
Chromium (via Playwright) to open it.

``site`` builds the book with `jupyter-book build . -W -n --keep-going` (any Sphinx warning
fails) and yields its address; ``browser`` is a Chromium instance; ``blank_page`` is a page with
no site behind it, for testing a script of ``tools/static`` on its own; :func:`open_page` opens
a page and collects its JavaScript errors and failed local requests.

Chromium resolves no host name but the local server's, so a page cannot reach the network
even when the test machine can; :func:`open_page` can record every request a page makes.
``axe_script`` is axe-core's ``axe.min.js`` (the accessibility rules), fetched by
``make browser-deps`` (``python -m tools.vendor fetch axe-core``).

Needs Debian's `chromium` (`make test` installs it when run as root) and, for the
accessibility test, axe-core. Without them the tests are skipped with instructions -- except
under CI (CI=true), where they must run.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tools import vendor
from tools.book import BUILD_DIR, ROOT

HTML = BUILD_DIR / "html"
SHOTS = BUILD_DIR / "screenshots"
# A known upstream message, not ours: pydata-sphinx-theme logs an error when no theme mode is
# stored yet. Only this exact message is tolerated. (Jupyter Book's doubled sphinx-thebe
# script, "Identifier 'THEBE_JS_URL' has already been declared", is fixed by
# tools/sphinx_site.py and no longer tolerated.)
KNOWN_UPSTREAM_ERRORS = ("Got invalid theme mode: . Resetting to auto.",)
# CNN_COURSE_SITE_PREBUILT=1: serve the _build/html that `make book` wrote instead of building
# it again (for working on the tests; CI builds).
PREBUILT_ENV = "CNN_COURSE_SITE_PREBUILT"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage",
                  # offline: every host name but the local server's fails to resolve
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(message: str):
    """Skip with instructions; under CI, where everything must run, fail instead."""
    if under_ci():
        pytest.fail("under CI the browser test must run, but " + message)
    pytest.skip(message)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser_path():
    path = chromium_path()
    if path is None:
        missing("headless Chromium not found: install it with `sudo apt-get install chromium` "
                "(make test does this when run as root) to run the browser test")
    return path


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's axe.min.js, at the version tools/vendor.py pins."""
    folder = vendor.installed("axe-core")
    if folder is None:
        missing("axe-core not found: run `make browser-deps` (or `python -m tools.vendor fetch "
                "axe-core`, needs the network once) to run the accessibility test")
    return folder / "axe.min.js"


@pytest.fixture(scope="session")
def site():
    """Build the book (zero warnings) and serve _build/html on 127.0.0.1."""
    if os.environ.get(PREBUILT_ENV) != "1" or not (HTML / "intro.html").is_file():
        shutil.rmtree(HTML, ignore_errors=True)
        jb = Path(sys.executable).parent / "jupyter-book"
        proc = subprocess.run([str(jb), "build", ".", "-W", "-n", "--keep-going"], cwd=ROOT,
                              capture_output=True, text=True)
        log = f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        assert proc.returncode == 0, f"jupyter-book build failed:\n{log}"
        assert "warning" not in proc.stderr.lower(), proc.stderr[-4000:]
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def is_redirect(path: Path) -> bool:
    """index.html is only a refresh to intro.html (written by Jupyter Book)."""
    return 'http-equiv="Refresh"' in path.read_text(errors="ignore")[:2000]


def pages() -> list[str]:
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).as_posix().startswith(("_static", "_sources"))
                  and not is_redirect(p))


def chapter_pages() -> list[str]:
    return [p for p in pages() if p.startswith("chapters/") and p.split("/")[-1][:2].isdigit()]


@pytest.fixture(scope="session")
def browser(browser_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=browser_path, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def open_page(browser, url, requests: list[str] | None = None, width: int = 1280,
              color_scheme: str = "light"):
    """Open url (http:// or file://); return (page, js_errors, failed_local_requests).

    ``requests``, if given, receives the URL of every request the page makes (the document,
    scripts, styles, fonts, images, fetches...) for as long as it is open. A failed local
    request is an HTTP status >= 400 or, from disk, a file the browser could not read.
    """
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=color_scheme)
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    local = urlparse(url).netloc
    js_errors, failed = [], []
    page.on("pageerror", lambda exc: str(exc) not in KNOWN_UPSTREAM_ERRORS
            and js_errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and urlparse(
        msg.location.get("url", "") or url).netloc == local
        and "Failed to load resource" not in msg.text and msg.text not in KNOWN_UPSTREAM_ERRORS
        and js_errors.append(msg.text))
    page.on("response", lambda r: urlparse(r.url).netloc == local and r.status >= 400
            and not r.url.endswith("/favicon.ico")  # asked for by the browser, not the page
            and failed.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: urlparse(r.url).netloc == local
            and urlparse(r.url).scheme == urlparse(url).scheme
            and failed.append(f"{r.failure} {r.url}"))
    page.goto(url, wait_until="load")
    return page, js_errors, failed


def wait_for_math(page) -> str | None:
    """Wait until MathJax has typeset the page; its start-up error, if any (None: no error or
    no MathJax on the page)."""
    return page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                         " ? MathJax.startup.promise.then(() => null, e => String(e)) : null")


@pytest.fixture
def blank_page(browser):
    """A fresh page with nothing loaded; add a script with ``page.add_script_tag(path=...)``."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    yield page
    page.close()
