"""Shared fixtures: one fresh, fully executed build of the book per test session."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# Fixtures whose users are slow by design: the book build (and the site served from it), JupyterLab
# in a browser, the teacher guide's commands.  Tests using them, and the exercise tests that run
# notebooks in kernels, carry the ``slow`` marker: ``pytest -m "not slow"`` is the quick subset.
BOOK_FIXTURES = {"book", "site"}
SLOW_FIXTURES = BOOK_FIXTURES | {"lab", "ran"}
SLOW_TESTS = {"test_student_self_checks_in_a_kernel", "test_teacher_batch_grading_into_csv"}


def pytest_collection_modifyitems(config, items):
    """Mark slow tests, and keep tests that share an expensive fixture on one xdist worker.

    With ``-n 2 --dist loadgroup`` (pyproject.toml) every test runs wherever a worker is free,
    except: the tests using the book build share the group ``book`` (one build per run), and a test
    using another module- or session-scoped fixture of this folder is grouped with its module, so
    that fixture is computed once, as in a one-process run.
    """
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        base = getattr(item, "originalname", item.name)
        if names & SLOW_FIXTURES or base in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        if names & BOOK_FIXTURES:
            _group(config, item, "book")
            continue
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info is not None else ()
        shared = any(d and getattr(d[-1], "scope", "function") != "function" and str(d[-1].baseid).startswith("tests")
                     for d in defs)
        if shared:
            _group(config, item, item.nodeid.split("::")[0])


def _group(config, item, name: str) -> None:
    """Mark ``item`` with the xdist group ``name`` (informative: pytest 9 ignores xdist's node-id
    suffix, so the suite distributes whole files with ``--dist loadfile`` and shares the book build
    through a lock in the ``book`` fixture)."""
    item.add_marker(pytest.mark.xdist_group(name))


def toc_files() -> list[str]:
    """Every document of `_toc.yml`, root first, without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [c["file"] for c in part["chapters"]]
    return files


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """Build the book into a fresh folder (so every chapter is executed afresh).

    For quick iterations on the page checks only, ``COURSE_REUSE_BUILD=<folder>``
    reuses a build made with ``jupyter-book build . --path-output <folder>``
    (CI never sets it).
    """
    reuse = os.environ.get("COURSE_REUSE_BUILD")
    if reuse:
        out = Path(reuse)
        log = (out / "build.log").read_text() if (out / "build.log").exists() else ""
        return {"html": out / "_build" / "html", "log": log, "code": 0, "elapsed": 0.0, "out": out}
    # Under pytest-xdist each worker has its own session: the first worker to get here builds the
    # book into the run's shared temporary folder, the other waits on the lock and reuses it.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "book"
    with open(shared / "book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "book.json"
        if done.exists():
            result = json.loads(done.read_text())
            return {**result, "html": Path(result["html"]), "out": Path(result["out"])}
        out.mkdir(exist_ok=True)
        jb = Path(sys.executable).with_name("jupyter-book")
        start = time.perf_counter()
        proc = subprocess.run(
            [str(jb), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
            capture_output=True, text=True, cwd=ROOT,
        )
        elapsed = time.perf_counter() - start
        log = proc.stdout + proc.stderr
        (out / "build.log").write_text(log)
        result = {"html": str(out / "_build" / "html"), "log": log, "code": proc.returncode, "elapsed": elapsed,
                  "out": str(out)}
        done.write_text(json.dumps(result))
        return {**result, "html": Path(result["html"]), "out": Path(result["out"])}


@pytest.fixture(scope="module")
def solution_env(request):
    """The namespace of the solutions notebook of the module's ``EXERCISE`` (tests/test_exercises_<name>.py)."""
    return request.module.EXERCISE.solution_env()
