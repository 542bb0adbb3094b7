"""Accessibility of the built book, checked as an auditor would, in headless Chromium.

* **WCAG 2.1 A/AA, automatically**: axe-core (the npm package pinned in
  ``package.json``; ``tools/_env.sh test`` installs it with ``npm ci``) is
  injected into every page of the book -- front matter, chapters, exercises,
  solutions, API reference -- in light and in dark mode, with the rules tagged
  ``wcag2a``, ``wcag2aa``, ``wcag21a``, ``wcag21aa``; no rule is disabled and
  every violation fails.
* **Maths for screen readers**: every typeset formula carries MathJax's
  assistive MathML (a visually hidden ``<math>`` element that screen readers
  read) and a spoken-text label.
* **Legible figures**: every figure's smallest text (recorded by
  ``course_lib.plotting.figure_png`` in the PNG, in image pixels) is displayed
  at >= 11 CSS px, at a 1366-px desktop width and at a 390-px phone width
  (where a figure wider than the screen scrolls in its own, keyboard-focusable
  box), in light and dark mode (figures keep their white background).
* **Colour is never the only carrier of meaning**: see ``tests/test_plotting.py``
  (line styles and markers cycle with the colours; the palette stays
  distinguishable under simulated colour-vision deficiencies).
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT, toc_files
from test_browser import CHROMIUM, browser, site  # noqa: F401  (fixtures shared with the page tests)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MIN_TEXT_PX = 11.0
PAGES = toc_files()

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


def _open(browser, url, *, width=1366, height=900, scheme="light"):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
    page.goto(url, wait_until="load")
    # a long page (the API reference) takes a while to typeset on a busy 2-core machine
    page.wait_for_function("!window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)",
                           timeout=120_000)
    page.evaluate("window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null")
    # the theme sets the colour mode from the system preference once its script has run
    page.wait_for_function(f"document.documentElement.dataset.theme === '{scheme}'", timeout=60_000)
    return page


def _axe(page) -> list[dict]:
    assert AXE.is_file(), "axe-core is missing: run `npm ci` in the repository (tools/_env.sh test does)"
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary.split('\\n')[1])}));
        }""", WCAG_TAGS)


@needs_chromium
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("doc", PAGES)
def test_page_has_no_wcag_violations(site, browser, doc, scheme):  # noqa: F811
    page = _open(browser, f"{site['url']}/{doc}.html", scheme=scheme)
    try:
        violations = _axe(page)
    finally:
        page.close()
    report = "\n".join(f"  {v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['help']}; e.g. {v['nodes'][0]}"
                       for v in violations)
    assert not violations, f"{doc} ({scheme}): {sum(len(v['nodes']) for v in violations)} violations\n{report}"


@needs_chromium
@pytest.mark.parametrize("doc", ["book/two_pillars", "book/api"])
def test_formulas_carry_assistive_mathml_and_speech(site, browser, doc):  # noqa: F811
    page = _open(browser, f"{site['url']}/{doc}.html")
    try:
        # speech is computed asynchronously after typesetting; a formula the speech rule engine cannot
        # read never gets its label, so wait a while, then report which formulas have none
        try:
            page.wait_for_function(
                "() => { const c = [...document.querySelectorAll('mjx-container')];"
                " return c.length > 0 && c.every(e => e.getAttribute('aria-label')); }", timeout=120_000)
        except Exception:  # playwright's TimeoutError: the assertions below say which formulas
            pass
        math = page.evaluate(
            """() => [...document.querySelectorAll('article mjx-container')].map(c => {
                const mml = c.querySelector('mjx-assistive-mml > math');
                const owner = c.closest('[id]');
                return {mml: mml ? mml.outerHTML.length : 0, speech: c.getAttribute('aria-label') || '',
                        where: owner ? owner.id : '', text: (mml ? mml.textContent : '').slice(0, 60)};
            })""")
    finally:
        page.close()
    assert len(math) >= 5, f"{doc}: only {len(math)} formulas found"
    no_mml = [m for m in math if m["mml"] == 0]
    assert not no_mml, f"{doc}: {len(no_mml)} of {len(math)} formulas have no assistive MathML"
    no_speech = [m for m in math if len(m["speech"].split()) < 1]
    assert not no_speech, (f"{doc}: {len(no_speech)} of {len(math)} formulas have no speech text, e.g. "
                           f"{[(m['where'], m['text']) for m in no_speech[:3]]}")
    # the speech is words, not TeX
    assert not any("\\" in m["speech"] for m in math), [m["speech"] for m in math if "\\" in m["speech"]][:3]


def _figure_pages() -> list[str]:
    return [f for f in PAGES if f.startswith("book/") and (ROOT / f"{f}.md").exists()
            and "cplt." in (ROOT / f"{f}.md").read_text()]


def _min_text_px(png: bytes) -> float | None:
    """The smallest text of a course figure, in image pixels (``Course-Min-Text-Px`` written by figure_png)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        value = getattr(im, "text", {}).get("Course-Min-Text-Px")
    return float(value) if value else None


def _png_bytes(html_root: Path, src: str) -> bytes:
    if src.startswith("data:image/png;base64,"):
        import base64

        return base64.b64decode(src.split(",", 1)[1])
    return (html_root / unquote(urlparse(src).path).lstrip("/")).read_bytes()


@needs_chromium
@pytest.mark.parametrize("width,scheme", [(1366, "light"), (390, "light"), (1366, "dark")])
@pytest.mark.parametrize("doc", _figure_pages())
def test_figure_text_is_at_least_11_css_px(site, browser, doc, width, scheme):  # noqa: F811
    page = _open(browser, f"{site['url']}/{doc}.html", width=width, height=900, scheme=scheme)
    try:
        page.wait_for_function("[...document.querySelectorAll('article img')].every(i => i.complete)", timeout=30000)
        imgs = page.eval_on_selector_all(
            "article img", """els => els.map(e => {
                const st = getComputedStyle(e); const bg = st.backgroundColor;
                const r = {width: e.getBoundingClientRect().width - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight)
                           - parseFloat(st.borderLeftWidth) - parseFloat(st.borderRightWidth)};
                const box = e.closest('.course-figure-scroll');
                return {src: e.src, natural: e.naturalWidth, shown: r.width, bg: bg,
                        focusable: box ? box.tabIndex >= 0 : null,
                        scrolls: box ? box.scrollWidth > box.clientWidth : false,
                        filter: getComputedStyle(e).filter};
            })""")
        page_overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    finally:
        page.close()
    measured, small = 0, []
    for img in imgs:
        text_px = _min_text_px(_png_bytes(site["html"], img["src"]))
        if text_px is None:  # not a course figure (e.g. a logo)
            continue
        measured += 1
        shown_px = text_px * img["shown"] / img["natural"]
        if shown_px < MIN_TEXT_PX - 0.05:
            small.append(f"{img['src'][-60:]}: {shown_px:.1f} px (natural {img['natural']} px shown at "
                         f"{img['shown']:.0f} px)")
        if img["scrolls"]:
            assert img["focusable"], f"{doc}: a figure scrolls in a box that the keyboard cannot reach"
        if scheme == "dark":
            assert img["filter"] in ("none", ""), f"{doc}: a figure is filtered in dark mode ({img['filter']})"
    assert measured > 0, f"{doc}: no course figure found (figure_png metadata missing?)"
    assert not small, f"{doc} at {width}px ({scheme}): figure text below {MIN_TEXT_PX} px:\n" + "\n".join(small)
    assert page_overflow <= 2, f"{doc}: the page is {page_overflow}px wider than the window"


# -- colour is never the only carrier of meaning -----------------------------------------------

# Simulated colour-vision deficiencies (dichromacy, severity 1), applied to linear RGB:
# G. M. Machado, M. M. Oliveira, L. A. F. Fernandes, "A physiologically-based model for
# simulation of color vision deficiency", IEEE TVCG 15(6), 2009, table of severity 1.0.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
MIN_DELTA_E = 15.0  # CIE76 distance in CIELAB; ~2.3 is a just-noticeable difference side by side


def _lab(hex_colour: str, matrix=None):
    import numpy as np

    srgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    lin = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if matrix is not None:
        lin = np.clip(np.asarray(matrix) @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _closest_pair(colours, matrix):
    import itertools

    import numpy as np

    labs = [_lab(c, matrix) for c in colours]
    return min((float(np.linalg.norm(labs[i] - labs[j])), colours[i], colours[j])
               for i, j in itertools.combinations(range(len(colours)), 2))


@pytest.mark.parametrize("deficiency", sorted(CVD))
def test_course_colours_stay_distinct_under_colour_vision_deficiency(deficiency):
    from course_lib.plotting import COURSE_STYLE

    cycle = [c.upper() for c in COURSE_STYLE["axes.prop_cycle"].by_key()["color"]]
    distance, a, b = _closest_pair(cycle, CVD[deficiency])
    assert distance >= MIN_DELTA_E, f"{a} and {b} look alike with {deficiency} (Delta E {distance:.1f})"
    # the simulation does tell a red/green palette apart from the course's: matplotlib's default
    # red and green merge for deuteranopes
    if deficiency == "deuteranopia":
        assert _closest_pair(["#D62728", "#2CA02C"], CVD[deficiency])[0] < MIN_DELTA_E


def test_curves_differ_by_line_style_as_well_as_colour():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib import plotting as cplt

    cplt.use_course_style()
    fig, ax = cplt.subplots()
    n = len(cplt.COURSE_STYLE["axes.prop_cycle"])
    lines = [ax.plot([0, 1], [k, k + 1])[0] for k in range(n)]
    colours = [ln.get_color() for ln in lines]
    plt.close(fig)
    assert len(set(colours)) == n
    # every colour of the cycle comes with its own dash pattern (a grey-scale print tells them apart)
    patterns = {str(ln._dash_pattern) for ln in lines}
    assert len(patterns) == n, patterns
