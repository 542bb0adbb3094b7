"""The whole book as one PDF (Jupyter Book's LaTeX builder, XeLaTeX), as ``tools/pdf.sh`` makes it.

Built from the session's executed book (the ``book`` fixture): the LaTeX build
uses the same output folder and so the same execution cache, and no chapter is
executed a second time.  Checks, with poppler's ``pdftotext`` and ``pdfimages``:
every chapter and exercise title is in the PDF, the solutions are not, every
figure the executed chapters drew is embedded (interactive figures included, as
their static rendering -- no widget placeholder), and no formula is left as raw
TeX.  TeX comes from Debian (``bash tools/pdf.sh --install-only`` as root).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import pdf_toc  # noqa: E402

TOOLS = ("xelatex", "latexmk", "pdftotext", "pdfimages")
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                reason="TeX or poppler is missing (bash tools/pdf.sh --install-only installs them)")


def _docs(toc: dict) -> list[str]:
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _title(doc: str) -> str:
    """The first level-1 heading of a chapter (.md) or notebook (.ipynb)."""
    md = ROOT / f"{doc}.md"
    if md.exists():
        text = md.read_text()
    else:
        cells = json.loads((ROOT / f"{doc}.ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.search(r"^# (.+)$", text, re.M).group(1).strip()


def _squash(text: str) -> str:
    """Lower case, letters and digits only (line breaks, hyphenation and TeX spacing do not matter)."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


@pytest.fixture(scope="module")
def pdf(book):
    assert book["code"] == 0, "the HTML book did not build"
    toc = pdf_toc.write(book["out"] / "_toc_pdf.yml")
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(book["out"]), "--builder", "pdflatex",
                           "--toc", str(toc)], capture_output=True, text=True, cwd=ROOT)
    log = proc.stdout + proc.stderr
    (book["out"] / "pdf.log").write_text(log)
    path = book["out"] / "_build" / "latex" / "book.pdf"
    assert proc.returncode == 0 and path.is_file(), f"the PDF did not build:\n{log[-3000:]}"
    assert "Executing notebook" not in log, "the PDF build executed chapters again instead of using the cache"
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                                                               check=True).stdout, re.M).group(1))
    return {"path": path, "text": text, "images": images, "pages": pages, "toc": pdf_toc.pdf_toc(),
            "cache": book["out"] / "_build" / ".jupyter_cache"}


def test_the_pdf_toc_is_the_book_without_solutions():
    toc = pdf_toc.pdf_toc()
    docs = _docs(toc)
    assert not [d for d in docs if d.startswith("solutions/")]
    assert [d for d in docs if d.startswith("exercises/")] and [d for d in docs if d.startswith("book/")]


def test_every_chapter_and_exercise_title_is_in_the_pdf(pdf):
    text = _squash(pdf["text"])
    missing = [(d, _title(d)) for d in _docs(pdf["toc"]) if _squash(_title(d)) not in text]
    assert not missing, f"titles missing from the PDF: {missing}"
    assert "references" in text  # the bibliography
    print(f"PDF: {pdf['pages']} pages")


def _figures_drawn(cache: Path) -> int:
    """Figures (PNG outputs) in the executed chapters, read from the build's execution cache.

    (myst-nb's ``jupyter_execute`` copies are rewritten by the LaTeX build without their outputs,
    so the cache, which both builds read, is the record of what was drawn.)
    """
    from jupyter_cache import get_cache

    store = get_cache(cache)
    n = 0
    for record in store.list_cache_records():
        nb = store.get_cache_bundle(record.pk).nb
        n += sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
    return n


def test_every_figure_is_in_the_pdf_and_no_widget_placeholder(pdf):
    rows = [line.split() for line in pdf["images"].splitlines()[2:] if line.strip()]
    embedded = sum(1 for r in rows if len(r) > 2 and r[2] == "image")
    drawn = _figures_drawn(pdf["cache"])
    print(f"PDF: {embedded} images embedded, {drawn} figures drawn by the executed chapters")
    assert drawn > 20, "the executed chapters drew suspiciously few figures"
    assert embedded >= drawn, f"only {embedded} of the {drawn} figures are in the PDF"
    assert "Interactive figure (" not in pdf["text"], "a widget is shown as its text placeholder"


def test_formulas_are_typeset(pdf):
    # TeX commands are legitimate in code (matplotlib labels such as r"$\frac{1}{k}$", between quotes,
    # or on a wrapped code line marked with an arrow); anywhere else they are formulas left untypeset
    raw = [line for line in pdf["text"].splitlines()
           if re.search(r"\\(?:frac|begin|mathbb|nabla|sum|operatorname)(?![a-zA-Z])|\$\$", line)
           and not re.search("[\"'\u21aa]", line)]
    assert not raw, f"{len(raw)} lines of the PDF show raw TeX, e.g. {raw[:3]}"
