# Shared by tools/book.sh and tools/test.sh: create .venv with Python 3.11 and
# install course_lib with the pinned dependencies (constraints.txt pins every
# package, transitive ones included).  Usage: source tools/_env.sh EXTRA
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extra="$1"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.11 python3 python; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      py="$cand"; break
    fi
  done
fi
[ -n "$py" ] || { echo "error: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
venv="${VENV:-.venv}"
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet -c constraints.txt -e ".[$extra]"
export PATH="$PWD/$venv/bin:$PATH"
# The accessibility test injects axe-core (npm, pinned in package-lock.json) into the built pages.
if [ "$extra" = test ] && [ -f package-lock.json ]; then
  if command -v npm >/dev/null 2>&1; then
    [ -f node_modules/axe-core/axe.min.js ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
      || npm ci --no-audit --no-fund --loglevel=error
  else
    echo "warning: npm not found; tests/test_accessibility.py needs axe-core (npm ci)" >&2
  fi
fi
