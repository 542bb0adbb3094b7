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

8. **Accessible pages (WCAG 2.1 AA, checked by ``tests/test_accessibility.py``).**
   The bibliography is a list of list items: docutils writes citations as
   ``role="doc-biblioentry"`` (deprecated in ARIA 1.2) inside ``role="list"``,
   which then has no list items; the HTML translator writes
   ``role="listitem"`` instead.  myst-nb's "Show code cell source" toggles
   are named by that visible text (not "Toggle hidden content").  Theme buttons whose ``aria-label`` differed
   from their visible text (search field, colour mode) come from templates in
   ``book/_templates`` whose accessible name starts with the visible text.
   MathJax adds assistive MathML and spoken text to every formula
   (``_config.yml``; its accessibility components are served with the book).
   Figures wider than a phone screen scroll in their own box, which
   ``book/_static/course.js`` makes reachable by the keyboard.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

WIDGET_STATE_KEY = "ipywidgets_state"
MATHJAX_COMPONENT = "tex-mml-chtml.js"
MATHJAX_PARTS = (MATHJAX_COMPONENT, "input/tex/extensions", "output/chtml/fonts/woff-v2", "a11y", "sre")


def _mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax wheel

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


STATIC = Path(__file__).resolve().parents[1] / "_static"
TEMPLATES = Path(__file__).resolve().parents[1] / "_templates"
LATEX = Path(__file__).resolve().parents[1] / "_latex"


def _configure(app: Any, config: Any) -> None:
    # Kernels started by the build inherit this: course_lib.progress draws no progress bars in static pages.
    os.environ["COURSE_BOOK_BUILD"] = "1"
    config.mathjax_path = f"mathjax/{MATHJAX_COMPONENT}"
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.templates_path = [str(TEMPLATES), *config.templates_path]
    # the PDF: a stand-in for a LaTeX package that Jupyter Book's class loads (see the file)
    config.latex_additional_files = [*config.latex_additional_files, str(LATEX / "bbm.sty")]
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


def _png_text(path: Path) -> dict[str, str]:
    try:
        from PIL import Image

        with Image.open(path) as im:
            return {str(k): str(v) for k, v in (getattr(im, "text", {}) or {}).items()}
    except (OSError, ValueError, ImportError):
        return {}


def _alt_from_png(app: Any, doctree: Any) -> None:
    """Alt text from the PNG's Description; the figure's smallest text size as a class for course.js."""
    from docutils import nodes

    docdir = Path(app.env.doc2path(app.env.docname)).parent
    for node in doctree.findall(nodes.image):
        uri = str(node.get("uri", ""))
        if not uri.lower().endswith(".png") or "://" in uri:
            continue
        for candidate in (Path(uri), Path(app.srcdir) / uri.lstrip("/"), docdir / uri):
            if candidate.is_file():
                text = _png_text(candidate)
                description = text.get("Description", "").strip()
                if description and not node.get("alt"):
                    node["alt"] = description
                try:
                    px = float(text.get("Course-Min-Text-Px", ""))
                except ValueError:
                    px = 0.0
                if px > 0:
                    node["classes"].append(f"course-text-px-{int(px * 10)}")
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


def _accessible_translator(app: Any) -> None:
    """Subclass the HTML translator in use so that citations are list items of their list."""
    if app.builder.format != "html":
        return
    base = app.builder.get_translator_class()
    if getattr(base, "_course_accessible", False):
        return

    class AccessibleTranslator(base):  # type: ignore[misc, valid-type]
        _course_accessible = True

        def visit_citation(self, node: Any) -> None:
            if not isinstance(node.previous_sibling(), type(node)):
                self.body.append('<div role="list" class="citation-list">\n')
            self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))

    app.registry.translators[app.builder.name] = AccessibleTranslator
    # myst-nb's "Show code cell source" toggle: named by its visible text, not "Toggle hidden content"
    handlers = app.registry.translation_handlers
    for key in {app.builder.name, "html"}:
        if "HideCodeCellNode" in handlers.get(key, {}):
            handlers[key]["HideCodeCellNode"] = (_visit_hidden_code, handlers[key]["HideCodeCellNode"][1])


def _visit_hidden_code(self: Any, node: Any) -> None:
    from html import escape

    self.body.append(f'<details class="admonition hide {" ".join(node["classes"])}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n</summary>\n')


PDF_NAME = "optimization-for-deep-learning.pdf"


def _book_pdf(app: Any) -> Path:
    """The PDF made by ``tools/pdf.sh`` (Jupyter Book's LaTeX builder) beside this HTML build."""
    return Path(app.outdir).parent / "latex" / "book.pdf"


def _pdf_download_button(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Offer the whole book as a PDF in the download menu, when tools/pdf.sh has built it."""
    if app.builder.format != "html" or not _book_pdf(app).is_file():
        return
    for group in context.get("header_buttons", []):
        if isinstance(group, dict) and group.get("label") == "download-buttons":
            group["buttons"].append({"type": "link", "url": context["pathto"](f"_static/{PDF_NAME}", 1),
                            "text": "Book (PDF)", "tooltip": "Download the whole book as a PDF",
                            "icon": "fas fa-file-pdf", "label": "download-book-pdf-button"})


def _copy_pdf(app: Any, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html" and _book_pdf(app).is_file():
        shutil.copy2(_book_pdf(app), Path(app.outdir) / "_static" / PDF_NAME)


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _configure)
    app.add_css_file("course.css")
    app.add_js_file("course.js", loading_method="defer")
    app.connect("builder-inited", _accessible_translator)
    # early: `html-page-context` stops at the first handler that returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _copy_pdf)
    app.connect("html-page-context", _pdf_download_button, priority=600)
    app.connect("env-updated", _drop_widget_state)
    app.connect("doctree-read", _alt_from_png)
    app.connect("html-page-context", _colab_notebook, priority=600)  # after the theme's launch buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
