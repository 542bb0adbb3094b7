"""Build the whole book, executing every chapter afresh, with no warnings.

The build goes to a fresh folder, so its execution cache is empty: every
chapter runs against the current course_lib (the book command's cache would
not notice a change to the package).  The rendered HTML is then checked for
what a reader needs: typeset maths, figures, the static form of each widget,
launch buttons, the API reference and the bibliography.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from conftest import toc_files as _toc_files

ROOT = Path(__file__).resolve().parents[1]
# A guard against a runaway chapter, not the budget: the budget (one core, <= 12x a minimal notebook,
# about 30 s, and <= 1 GiB) is measured by `python benchmarks/chapters.py`.  Inside the suite chapters
# share two cores with the other tests and with whatever else runs, so the guard is 20x the budget.
CHAPTER_GUARD_S = 600.0


def test_build_succeeds_without_warnings(book):
    # Sphinx reports "path:line: WARNING: ..." / "ERROR: ..."; a failing cell shows a traceback.
    # (ipykernel's own "[IPKernelApp] WARNING | ..." start-up notice is not a build warning.)
    problems = [line for line in book["log"].splitlines() if re.search(r"WARNING:|ERROR:|Traceback", line)]
    assert book["code"] == 0 and not problems, "\n".join(problems[:30]) or book["log"][-3000:]


def test_every_toc_page_is_rendered(book):
    for f in _toc_files():
        page = book["html"] / f"{f}.html"
        assert page.exists(), f"missing page {page}"
    assert (book["html"] / "index.html").exists()


def _executed_chapters() -> list[str]:
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    skip = [p.rstrip("*") for p in cfg["execute"]["exclude_patterns"]]
    out = []
    for f in _toc_files():
        src = ROOT / f"{f}.md"
        if src.exists() and "code-cell" in src.read_text() and not any(f.startswith(s) for s in skip):
            out.append(f)
    return out


def test_chapters_were_executed_and_none_ran_away(book):
    """Each executed chapter has an execution record, and its run time is below the guard."""
    from jupyter_cache import get_cache

    cache = get_cache(book["out"] / "_build" / ".jupyter_cache")
    records = {Path(r.uri).resolve(): r for r in cache.list_project_records()}
    times = {}
    for rec in cache.list_cache_records():
        times[Path(rec.uri).resolve()] = rec.data.get("execution_seconds")
    chapters = _executed_chapters()
    assert chapters, "no executed chapter found"
    for f in chapters:
        path = (ROOT / f"{f}.md").resolve()
        assert path in times, f"{f} was not executed (records: {list(records)[:5]})"
        assert times[path] is not None and times[path] <= CHAPTER_GUARD_S, (
            f"{f} took {times[path]:.0f} s, over the {CHAPTER_GUARD_S:.0f} s guard (20x the budget): "
            "run `python benchmarks/chapters.py` to see where the time goes")


def test_chapter_pages_have_maths_figures_and_static_widgets(book):
    for f in _executed_chapters():
        html = (book["html"] / f"{f}.html").read_text()
        assert "math notranslate" in html or "MathJax" in html, f"{f}: no typeset maths"
        assert re.search(r"<img[^>]+src=\"(data:image/png|[^\"]+\.png)", html), f"{f}: no figure"
        if "interactive_figure(" in (ROOT / f"{f}.md").read_text():
            assert 'class="course-static-figure"' in html, f"{f}: widget has no static figure"
            assert "widget-view+json" not in html, f"{f}: a dead widget view leaked into the HTML"
        assert "Traceback" not in html, f"{f}: an error output was rendered"


def test_launch_buttons_and_repository_url(book):
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    html = (book["html"] / "book" / "two_pillars.html").read_text()
    assert "mybinder.org/v2/gh/" in html, "Binder launch button missing"
    assert url.split("github.com/")[1] in html
    assert "thebe" in html.lower(), "Thebe live-code button missing"


def test_api_reference_is_generated_from_docstrings(book):
    html = (book["html"] / "book" / "api.html").read_text()
    for name in ("course_lib.landscapes.himmelblau", "course_lib.noise.gaussian",
                 "course_lib.simulate.occupation_histogram", "course_lib.widgets.interactive_figure"):
        assert f'id="{name}"' in html, f"{name} missing from the API reference"


def test_bibliography_is_rendered(book):
    html = (book["html"] / "book" / "two_pillars.html").read_text()
    assert "Pauwels" in html, "the chapter's bibliography does not list its sources"
    assert re.search(r'class="[^"]*citation', html), "no citation entries rendered"
