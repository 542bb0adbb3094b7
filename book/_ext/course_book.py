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

5. **Alt text on executed figures.**  ``course_lib.plotting.use_course_style``
   makes notebooks display matplotlib figures as PNGs whose ``Description``
   field holds the figure's text alternative (``course_lib.plotting.alt_text``).
   Sphinx would otherwise use the image's file name as ``alt``; every image
   without an explicit ``alt`` gets that description here.

6. **Colab opens a notebook.**  Colab cannot open the MyST sources the theme's
   Colab button points at; for a chapter that has a generated copy
   ``notebooks/<chapter>.ipynb`` (``tools/make_notebooks.py``: the chapter plus
   a cell installing ``course_lib`` on Colab), the button points there.

7. **No frozen progress bars.**  ``COURSE_BOOK_BUILD=1`` is set for the kernels
   the build starts, so ``course_lib.progress`` shows bars in live Jupyter only.
"""

from __future__ import annotations

import os
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
    # Kernels started by the build inherit this: course_lib.progress draws no progress bars in static pages.
    os.environ["COURSE_BOOK_BUILD"] = "1"
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


def _png_description(path: Path) -> str:
    try:
        from PIL import Image

        with Image.open(path) as im:
            return str(getattr(im, "text", {}).get("Description", "")).strip()
    except (OSError, ValueError, ImportError):
        return ""


def _alt_from_png(app: Any, doctree: Any) -> None:
    from docutils import nodes

    docdir = Path(app.env.doc2path(app.env.docname)).parent
    for node in doctree.findall(nodes.image):
        if node.get("alt"):
            continue
        uri = str(node.get("uri", ""))
        if not uri.lower().endswith(".png") or "://" in uri:
            continue
        for candidate in (Path(uri), Path(app.srcdir) / uri.lstrip("/"), docdir / uri):
            if candidate.is_file():
                text = _png_description(candidate)
                if text:
                    node["alt"] = text
                break


def _colab_notebook(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    target = Path(app.srcdir) / "notebooks" / f"{Path(pagename).name}.ipynb"
    if not pagename.startswith("book/") or not target.is_file():
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            url = button.get("url", "") if isinstance(button, dict) else ""
            if button.get("text") == "Colab" and "/blob/" in url:
                head, _, rest = url.partition("/blob/")
                branch = rest.split("/", 1)[0]
                button["url"] = f"{head}/blob/{branch}/notebooks/{target.name}"


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _configure)
    app.add_css_file("course.css")
    # early: `html-page-context` stops at the first handler that returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("build-finished", _copy_mathjax)
    app.connect("env-updated", _drop_widget_state)
    app.connect("doctree-read", _alt_from_png)
    app.connect("html-page-context", _colab_notebook, priority=600)  # after the theme's launch buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
