"""Write the table of contents of the PDF book and print its path.

The PDF is the HTML book's `_toc.yml` without the *Solutions* part: exercises are
printed as handouts (the student notebooks).  Used by tools/pdf.sh and tests/test_pdf.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PDF_TOC = ROOT / "_build" / "_toc_pdf.yml"


def pdf_toc(source: Path = ROOT / "_toc.yml") -> dict:
    """The PDF's table of contents: `source` without the part captioned *Solutions*."""
    toc = yaml.safe_load(source.read_text())
    toc["parts"] = [p for p in toc["parts"] if p.get("caption") != "Solutions"]
    return toc


def write(path: Path = PDF_TOC) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(pdf_toc(), sort_keys=False))
    return path


if __name__ == "__main__":
    sys.stdout.write(str(write(Path(sys.argv[1]) if len(sys.argv) > 1 else PDF_TOC)) + "\n")
