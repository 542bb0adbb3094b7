#!/usr/bin/env bash
# Create the environment and build the executed HTML book: _build/html/index.html
# Chapters are executed and cached in _build/.jupyter_cache (delete it, or run
# tools/test.sh, to re-execute after changing course_lib).
source "$(dirname "$0")/_env.sh" book
jupyter-book build . -W -n --keep-going "$@"
echo "Book built: $PWD/_build/html/index.html"
