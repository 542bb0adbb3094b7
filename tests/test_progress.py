"""course_lib.progress: bars where a person waits, nothing in scripts, tests and the book build."""

from __future__ import annotations

import pytest

from course_lib import progress


def test_plain_python_gets_the_iterable_back(monkeypatch):
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    items = [1, 2, 3]
    assert not progress.show_progress()
    assert progress.track(items, "sweep") is items


def test_environment_switches(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS", "1")
    assert progress.show_progress()
    bar = progress.track(range(4), "sweep")
    assert hasattr(bar, "update") and list(bar) == [0, 1, 2, 3]  # a tqdm bar, same items
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    assert not progress.show_progress()
    monkeypatch.delenv("COURSE_PROGRESS")
    monkeypatch.setenv("COURSE_BOOK_BUILD", "1")
    assert not progress.show_progress()


def test_kernel_shows_bars_unless_building_the_book(monkeypatch):
    class ZMQInteractiveShell:  # what get_ipython() returns in a Jupyter kernel
        pass

    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    monkeypatch.delenv("COURSE_BOOK_BUILD", raising=False)
    monkeypatch.setattr("IPython.get_ipython", lambda: ZMQInteractiveShell())
    assert progress.show_progress()
    monkeypatch.setenv("COURSE_BOOK_BUILD", "1")
    assert not progress.show_progress()


@pytest.mark.parametrize("desc,total", [("", None), (3, None), ("ok", -1), ("ok", 2.5)])
def test_bad_arguments(desc, total):
    with pytest.raises(ValueError, match="desc|total"):
        progress.track([1], desc, total)
