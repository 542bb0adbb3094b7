"""The Colab copies notebooks/<chapter>.ipynb (tools/make_notebooks.py) are fresh and usable."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "make_notebooks.py"
sys.path.insert(0, str(ROOT / "tools"))
import make_notebooks  # noqa: E402


def test_committed_notebooks_are_fresh():
    assert make_notebooks.stale() == [], "run `python tools/make_notebooks.py`"


def test_every_chapter_has_a_notebook_with_the_colab_setup_first():
    chapters = make_notebooks.chapters()
    assert len(chapters) >= 5
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for chapter in chapters:
        nb = nbformat.read(ROOT / "notebooks" / f"{chapter.stem}.ipynb", as_version=4)
        nbformat.validate(nb)
        setup = nb.cells[0].source
        assert '"google.colab" in sys.modules' in setup and f"git+{url}@main" in setup
        # the rest is the chapter itself, cell for cell, without outputs
        source = jupytext.read(chapter)
        assert [c.source for c in nb.cells[1:]] == [c.source for c in source.cells]
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_setup_cell_does_nothing_outside_colab():
    nb = nbformat.read(ROOT / "notebooks" / "two_pillars.ipynb", as_version=4)
    namespace = {"get_ipython": lambda: (_ for _ in ()).throw(AssertionError("must not run outside Colab"))}
    exec(compile(nb.cells[0].source, "setup", "exec"), namespace)


def test_check_detects_a_stale_notebook(tmp_path):
    for rel in ("_config.yml", "_toc.yml", "book", "notebooks"):
        src = ROOT / rel
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, tmp_path / rel)
    ok = subprocess.run([sys.executable, str(TOOL), "--check", "--root", str(tmp_path)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    chapter = tmp_path / "book" / "two_pillars.md"
    chapter.write_text(chapter.read_text() + "\nOne more sentence.\n")
    bad = subprocess.run([sys.executable, str(TOOL), "--check", "--root", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 1 and "notebooks/two_pillars.ipynb" in bad.stderr
