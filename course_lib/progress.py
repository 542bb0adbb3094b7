"""Progress bars for long computations, shown where a person is waiting.

A chapter's sweep (over step sizes, widths, seeds, ...) can take tens of
seconds; in Jupyter (Binder, a local install) the reader should see it
advance.  :func:`track` wraps an iterable in a ``tqdm.auto`` progress bar
(a widget in Jupyter, text in a terminal) when :func:`show_progress` is true:

* in an interactive IPython/Jupyter session, and
* not while the book is being built (the book's Sphinx extension sets the
  environment variable ``COURSE_BOOK_BUILD=1`` for the kernels it starts: a
  bar frozen in a static page would only be noise), and
* not when ``COURSE_PROGRESS=0`` is set (``COURSE_PROGRESS=1`` forces bars on).

Elsewhere (scripts, tests, the book build) :func:`track` returns the iterable
unchanged, so wrapping a loop never changes its results.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

__all__ = ["show_progress", "track"]


def show_progress() -> bool:
    """Whether :func:`track` draws a progress bar here (see the module docstring for the rule)."""
    forced = os.environ.get("COURSE_PROGRESS")
    if forced in {"0", "1"}:
        return forced == "1"
    if os.environ.get("COURSE_BOOK_BUILD") == "1":
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    return ip is not None and type(ip).__name__ in {"ZMQInteractiveShell", "TerminalInteractiveShell"}


def track(iterable: Iterable[Any], desc: str, total: int | None = None) -> Iterable[Any]:
    """``iterable`` with a progress bar labelled ``desc`` when :func:`show_progress` is true, else unchanged.

    ``total`` is the number of items when ``len(iterable)`` is not defined.
    Raises ``ValueError`` if ``desc`` is not a non-empty string.
    """
    if not isinstance(desc, str) or not desc.strip():
        raise ValueError(f"desc must be a non-empty label for the progress bar, got {desc!r}")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise ValueError(f"total must be a non-negative integer or None, got {total!r}")
    if not hasattr(iterable, "__iter__"):
        raise ValueError(f"iterable must be iterable (a range, a list, ...), got {iterable!r}")
    if not show_progress():
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False)
