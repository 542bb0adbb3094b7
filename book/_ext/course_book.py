"""Sphinx extension of the course book (loaded through `_config.yml`).

1. **MathJax served with the book.**  Sphinx links MathJax from a CDN by
   default; a book read offline, behind a filter, or tested in a sandbox then
   shows raw TeX.  MathJax 3.2.2 comes from PyPI (the ``django-static-mathjax``
   wheel, Apache-2.0, no dependencies); this extension copies the one component
   the book uses (``tex-mml-chtml.js``), its TeX extensions and its web fonts
   into ``_static/mathjax`` and points ``mathjax_path`` at it.

4. **Narrow screens.**  ``book/_static/course.css`` lets long identifiers wrap
   and wide tables and formulas scroll in their own box, so that pages fit a
   phone.

3. **A clean browser console.**  The book theme logs an error on a reader's
   first visit unless a default colour mode is set (``default_mode = auto``),
   and sphinx-thebe registers its configuration script twice under Jupyter
   Book (``const THEBE_JS_URL`` declared twice); duplicates are removed.

2. **No saved widget state in the pages.**  The chapters' interactive figures
   (``course_lib.widgets``) carry, besides the live ipywidgets view, a static
   HTML figure, which `_config.yml` makes the HTML builder show.  When a chapter
   is executed, nbclient also saves the widgets' state in the notebook metadata,
   and myst-nb would embed it (a large JSON blob with every PNG the widget drew)
   for an ipywidgets manager that the book does not load.  It is dropped here.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

WIDGET_STATE_KEY = "ipywidgets_state"
MATHJAX_COMPONENT = "tex-mml-chtml.js"
MATHJAX_PARTS = (MATHJAX_COMPONENT, "input/tex/extensions", "output/chtml/fonts/woff-v2")


def _mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax wheel

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


STATIC = Path(__file__).resolve().parents[1] / "_static"


def _configure(app: Any, config: Any) -> None:
    config.mathjax_path = f"mathjax/{MATHJAX_COMPONENT}"
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.html_context = {"default_mode": "auto", **(config.html_context or {})}


def _dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    seen, unique = set(), []
    for js in context.get("script_files", []):
        attributes = getattr(js, "attributes", {}) or {}
        # the same inline script is registered once with filename None and once with ""
        key = (getattr(js, "filename", str(js)) or "", attributes.get("body"), attributes.get("src"))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"][:] = unique


def _copy_mathjax(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src, dst = _mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part, dirs_exist_ok=True)
        else:
            (dst / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / part, dst / part)


def _drop_widget_state(app: Any, env: Any) -> None:
    for data in getattr(env, "nb_metadata", {}).values():
        data.get("js_files", {}).pop(WIDGET_STATE_KEY, None)


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _configure)
    app.add_css_file("course.css")
    # early: `html-page-context` stops at the first handler that returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("build-finished", _copy_mathjax)
    app.connect("env-updated", _drop_widget_state)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
