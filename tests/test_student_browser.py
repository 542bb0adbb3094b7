"""A student's path, in a real browser: JupyterLab opens a chapter, runs it, and a slider redraws its figure.

What Binder does, reproduced locally: a JupyterLab server (the ``binder``
packages, with the same user setting as ``postBuild``: MyST chapters open as
Jupytext notebooks) serves a copy of the chapters; headless Chromium (Debian's,
driven by Playwright) opens ``book/two_pillars.md``, runs every cell, then
operates every slider of every widget of the chapter with the keyboard alone:
from the first slider, the Tab key reaches each next one; arrow keys move it
(Home and End too), and the figure below is replaced by a new one each time,
with no error output.  A
screenshot is saved as ``_build/screenshots/student-jupyterlab.png``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "_build" / "screenshots"
CHAPTER = "book/two_pillars.md"
TOKEN = "course-test-token"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


def postbuild_settings() -> dict[str, dict]:
    """The JupyterLab user settings ``postBuild`` writes: {relative settings path: JSON}."""
    text = (ROOT / "postBuild").read_text()
    folder = re.search(r'settings="\$\{HOME\}/\.jupyter/lab/user-settings/([^"]+)"', text).group(1)
    name, body = re.search(r'cat > "\$\{settings\}/([^"]+)" <<\'JSON\'\n(.*?)\nJSON', text, re.S).groups()
    return {f"{folder}/{name}": json.loads(body)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("student")
    shutil.copytree(ROOT / "book", work / "book", ignore=shutil.ignore_patterns("_build", "__pycache__"))
    home = work / "home"
    settings = home / ".jupyter" / "lab" / "user-settings"
    for rel, data in postbuild_settings().items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(data))
    # no network from the test: no news or update checks
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = _free_port()
    env = dict(os.environ, HOME=str(home), JUPYTERLAB_SETTINGS_DIR=str(settings), COURSE_PROGRESS="0")
    env.pop("JUPYTER_CONFIG_DIR", None)
    log = open(work / "jupyter.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.disable_check_xsrf=True", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start:\n" + (work / "jupyter.log").read_text()[-3000:])
        assert proc.poll() is None, "JupyterLab exited:\n" + (work / "jupyter.log").read_text()[-3000:]
        yield {"url": url, "work": work}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_postbuild_setting_is_the_one_we_use():
    settings = postbuild_settings()
    assert settings == {"@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
                        {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}


def test_chapter_runs_in_jupyterlab_and_every_slider_works_from_the_keyboard(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{lab['url']}/lab/tree/{CHAPTER}?token={TOKEN}", wait_until="load")
            # opened as a notebook (Jupytext), not as a text file, with a kernel ready
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=120_000)
            page.wait_for_function(
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle'; }", timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # wait until every code cell has run: numbered prompts, none pending
            page.wait_for_function(
                "() => { const w = window.jupyterapp.shell.currentWidget; const cells = w.content.widgets"
                ".filter(c => c.model.type === 'code');"
                " return cells.length > 0 && cells.every(c => c.model.executionCount !== null)"
                " && w.sessionContext.session.kernel.status === 'idle'; }", timeout=240_000)
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                                  ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
            tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
            assert not tracebacks, f"error output in the chapter: {tracebacks[0][:500]}"

            widgets = page.locator(".jupyter-widgets.widget-vbox").filter(has=page.locator(".widget-slider"))
            assert widgets.count() >= 1, "no interactive figure in the chapter"
            moved = 0
            for w in range(widgets.count()):
                widget = widgets.nth(w)
                widget.scroll_into_view_if_needed()
                widget.locator("img").first.wait_for(timeout=60_000)
                handles = widget.locator(".widget-slider .noUi-handle")
                readouts = widget.locator(".widget-slider .widget-readout")
                handles.first.focus()
                for k in range(handles.count()):
                    handle = handles.nth(k)
                    if k > 0:  # reached from the previous slider with Tab (past its editable readout)
                        for _ in range(4):
                            if handle.evaluate("el => el === document.activeElement"):
                                break
                            page.keyboard.press("Tab")
                    assert handle.evaluate("el => el === document.activeElement"), \
                        f"widget {w}: slider {k} is not reachable with the Tab key"
                    for keys in (["ArrowRight"] * 3, ["Home"]):
                        before = widget.locator("img").first.get_attribute("src")
                        value_before = readouts.nth(k).inner_text()
                        for key in keys:
                            page.keyboard.press(key)
                        page.wait_for_function(
                            "([el, old]) => { const img = el.querySelector('img'); return img && img.src !== old; }",
                            arg=[widget.element_handle(), before], timeout=120_000)
                        assert readouts.nth(k).inner_text() != value_before, f"widget {w}: slider {k} did not move"
                        assert handle.evaluate("el => el === document.activeElement"), "focus lost after a redraw"
                    moved += 1
            assert moved >= 3, f"only {moved} sliders operated"
            widget = widgets.first
            assert page.evaluate("(el) => el.querySelector('img').naturalWidth", widget.element_handle()) > 100
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "student-jupyterlab.png"), full_page=False)
        finally:
            page.close()
            browser.close()
