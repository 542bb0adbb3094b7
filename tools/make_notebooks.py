"""Generate ``notebooks/<chapter>.ipynb`` from the MyST chapters, for Google Colab.

The chapters are MyST Markdown notebooks (``book/<chapter>.md``), the one
source that is reviewed, built and opened in Binder through Jupytext.  Colab
opens only ``.ipynb`` files and has no ``course_lib``; the book's Colab button
therefore points at a generated copy, ``notebooks/<chapter>.ipynb``, which is
the chapter converted by Jupytext (without outputs) with one cell prepended:
on Colab only, it installs ``course_lib`` and its pinned dependencies from the
repository given in ``_config.yml`` (``repository.url``, branch
``repository.branch``).  Elsewhere that cell does nothing.

Usage::

    python tools/make_notebooks.py           # regenerate every chapter's notebook
    python tools/make_notebooks.py --check   # exit 1 if a committed notebook is stale or missing

Never edit ``notebooks/*.ipynb`` by hand: edit the chapter and regenerate.
The output is deterministic (fixed cell ids), so ``--check`` compares bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("notebooks")

SETUP = '''# Google Colab only: install the course's companion package `course_lib` and its
# pinned dependencies from the course repository (about two minutes). Elsewhere
# (Binder, a local install) this cell does nothing.
import sys

if "google.colab" in sys.modules:
    # Colab's Python may be newer than the 3.11 the course is tested on; the pinned
    # packages publish wheels for it, hence --ignore-requires-python.
    get_ipython().run_line_magic("pip", 'install --quiet --ignore-requires-python {spec}')'''


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter sources listed in ``_toc.yml`` (``book/*.md`` files that are notebooks)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = []
    for part in toc.get("parts", []):
        for entry in part.get("chapters", []):
            path = root / f"{entry['file']}.md"
            if entry["file"].startswith("book/") and path.is_file() and path.read_text().startswith("---\njupytext:"):
                found.append(path)
    return found


def notebook(chapter: Path, root: Path = ROOT):
    """The Colab notebook of ``chapter``: the Jupytext conversion with the setup cell first."""
    config = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    spec = f'"course_lib @ git+{config["url"].rstrip("/")}@{config.get("branch", "main")}"'
    nb = jupytext.read(chapter)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP.format(spec=spec)))
    for k, cell in enumerate(nb.cells):
        cell["id"] = f"{chapter.stem}-{k:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("jupytext", None)
    nb.metadata["colab"] = {"name": f"{chapter.stem}.ipynb", "provenance": []}
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def render(chapter: Path, root: Path = ROOT) -> str:
    return nbformat.writes(notebook(chapter, root)) + "\n"


def stale(root: Path = ROOT) -> list[str]:
    """Generated notebooks that differ from their chapter, are missing, or have no chapter any more."""
    out = []
    expected = {}
    for chapter in chapters(root):
        rel = OUT / f"{chapter.stem}.ipynb"
        expected[rel.name] = rel
        target = root / rel
        if not target.is_file():
            out.append(f"{rel} (missing)")
        elif target.read_text(encoding="utf-8") != render(chapter, root):
            out.append(str(rel))
    out += [f"{OUT / p.name} (no chapter)" for p in sorted((root / OUT).glob("*.ipynb")) if p.name not in expected]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed notebooks are stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this repository)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.check:
        bad = stale(root)
        if bad:
            print("Colab notebooks are stale; run `python tools/make_notebooks.py`:", file=sys.stderr)
            for b in bad:
                print(f"  {b}", file=sys.stderr)
            return 1
        print(f"Colab notebooks are up to date ({len(chapters(root))} chapters)")
        return 0
    (root / OUT).mkdir(exist_ok=True)
    keep = set()
    for chapter in chapters(root):
        rel = OUT / f"{chapter.stem}.ipynb"
        (root / rel).write_text(render(chapter, root), encoding="utf-8")
        keep.add(rel.name)
        print(f"wrote {rel}")
    for old in (root / OUT).glob("*.ipynb"):
        if old.name not in keep:
            old.unlink()
            print(f"removed {OUT / old.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
