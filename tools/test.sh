#!/usr/bin/env bash
# Create the environment and run the whole test suite (unit tests, exercise
# graders, and a fresh, fully executed build of the book with no warnings).
source "$(dirname "$0")/_env.sh" test
python -m pytest "$@"
