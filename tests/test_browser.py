"""Every page of the built book, opened in headless Chromium as a reader would.

Checks, per page: no console errors; MathJax typeset every formula (no raw TeX
left); every image loaded and has alt text where it is a figure of ours; every
internal link points to a file of the build (anchors included); the page fits a
phone's width.  Also: the launch buttons point to the page's own source file,
and the search page finds a chapter from a word it contains.  A screenshot of
every page is saved in ``_build/screenshots`` (desktop and phone width).

Chromium comes from Debian (``.ci/run`` installs it); Playwright drives it
through its ``executable_path``, so nothing is downloaded at test time.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from conftest import ROOT, toc_files

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "_build" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def site(book):
    html = book["html"]
    assert (html / "index.html").exists(), "the book was not built"
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "html": html}
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, url, width=1280, height=900):
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    # wait until MathJax has typeset the page (if the page loads MathJax)
    # (the API reference has >1000 formulas, each given spoken text: allow for a busy machine)
    page.wait_for_function("!window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise) ", timeout=120_000)
    page.evaluate("window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null")
    return page, errors


PAGES = toc_files()


@pytest.mark.parametrize("doc", PAGES)
def test_page_renders_for_a_reader(site, browser, doc):
    page, errors = _open(browser, f"{site['url']}/{doc}.html")
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        # a long page (the API reference) can take a while to capture on a busy 2-core machine
        page.screenshot(path=str(SHOTS / f"{doc.replace('/', '__')}.png"), full_page=True, timeout=120_000)
        assert not errors, f"{doc}: console errors {errors[:5]}"
        # maths: no raw TeX delimiters in the text a reader sees
        text = page.inner_text("article")
        raw = re.findall(r"\\\(|\\\[|\$\$|\\begin\{", text)
        assert not raw, f"{doc}: {len(raw)} formulas left untypeset, e.g. near {text[text.find(raw[0]) - 40:][:120]!r}"
        # images: loaded, and our figures carry alt text
        imgs = page.eval_on_selector_all(
            "article img", "els => els.map(e => ({src: e.src.slice(0, 80), ok: e.complete && e.naturalWidth > 0,"
            " alt: e.getAttribute('alt')}))")
        broken = [i["src"] for i in imgs if not i["ok"]]
        assert not broken, f"{doc}: images that did not load: {broken}"
        # alt text: a description, not empty and not the file name Sphinx falls back to
        no_alt = [i["src"] for i in imgs
                  if not i["alt"] or len(i["alt"].split()) < 3 or re.search(r"\.(png|svg|jpe?g)$", i["alt"])]
        assert not no_alt, f"{doc}: images without a real alt text: {no_alt}"
        # internal links resolve to files (and anchors) of the build
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            u = urlparse(href)
            if u.netloc != urlparse(site["url"]).netloc or not u.path.endswith(".html"):
                continue
            target = site["html"] / unquote(u.path).lstrip("/")
            assert target.exists(), f"{doc}: broken link {href}"
            if u.fragment:
                body = target.read_text()
                assert f'id="{u.fragment}"' in body, f"{doc}: link {href} points to a missing anchor"
    finally:
        page.close()


@pytest.mark.parametrize("doc", PAGES)
def test_page_is_usable_at_phone_width(site, browser, doc):
    page, _ = _open(browser, f"{site['url']}/{doc}.html", width=390, height=844)
    try:
        page.screenshot(path=str(SHOTS / f"{doc.replace('/', '__')}__phone.png"))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 2, f"{doc}: the page is {overflow}px wider than a phone screen"
    finally:
        page.close()


def _chapters_with_code() -> list[str]:
    return [f for f in PAGES if f.startswith("book/") and (ROOT / f"{f}.md").exists()
            and "{code-cell}" in (ROOT / f"{f}.md").read_text()]


@pytest.mark.parametrize("doc", _chapters_with_code())
def test_launch_and_download_buttons_point_to_the_page_source(site, browser, doc):
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    org_repo = repo.split("github.com/")[1].strip("/")
    page, _ = _open(browser, f"{site['url']}/{doc}.html")
    try:
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        binder = [h for h in hrefs if "mybinder.org" in h]
        assert binder and all(f"/v2/gh/{org_repo}/main" in h and f"urlpath=lab/tree/{doc}.md" in unquote(h)
                              for h in binder), binder
        colab = [h for h in hrefs if "colab.research.google.com" in h]
        stem = doc.split("/")[-1]
        assert colab == [f"https://colab.research.google.com/github/{org_repo}/blob/main/notebooks/{stem}.ipynb"], colab
        assert (ROOT / "notebooks" / f"{stem}.ipynb").is_file(), f"{doc}: run python tools/make_notebooks.py"
        downloads = [h for h in hrefs if h.endswith((".ipynb", ".md")) and "_sources" in h]
        assert downloads, f"{doc}: no download button for the notebook"
        for h in downloads:
            assert (site["html"] / unquote(urlparse(h).path).lstrip("/")).exists(), f"{doc}: download {h} missing"
    finally:
        page.close()


def test_search_finds_a_chapter_from_a_word_it_contains(site, browser):
    page, errors = _open(browser, f"{site['url']}/search.html?q=Himmelblau")
    try:
        page.wait_for_selector("#search-results li a", timeout=30000)
        results = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
        assert any("two_pillars" in r for r in results), results
    finally:
        page.close()
