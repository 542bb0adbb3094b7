#!/usr/bin/env bash
# Build the whole book as one PDF, _build/latex/book.pdf: chapters, exercises as handouts
# (the student notebooks, without solutions), API reference and references, through Jupyter
# Book's LaTeX builder (XeLaTeX).  Chapters are executed as for the HTML book and share its
# cache (_build/.jupyter_cache), so after `bash tools/book.sh` nothing is executed again.
# Then the HTML book is rebuilt (from the cache) so that its download button offers the PDF.
#
# TeX comes from Debian: run as root, this script installs the packages below with apt-get
# (about 370 MiB installed, 4-5 minutes on the project's VM); otherwise install them first:
#   apt-get install --no-install-recommends <the packages of TEX_PACKAGES>
# Usage: bash tools/pdf.sh [--install-only] [extra jupyter-book arguments]
set -euo pipefail
TEX_PACKAGES=(texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended
              tex-gyre fonts-freefont-otf latexmk poppler-utils)
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v xelatex >/dev/null || ! command -v latexmk >/dev/null || ! command -v pdftotext >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${TEX_PACKAGES[@]}" >/dev/null
  else
    echo "error: TeX is missing; as root run: apt-get install --no-install-recommends ${TEX_PACKAGES[*]}" >&2
    exit 1
  fi
fi
if [ "${1:-}" = "--install-only" ]; then exit 0; fi
source "$here/_env.sh" book
toc="$(python tools/pdf_toc.py)"
jupyter-book build . --builder pdflatex --toc "$toc" "$@"
jupyter-book build . "$@"
echo "PDF built: $PWD/_build/latex/book.pdf (offered by the HTML book's download button)"
