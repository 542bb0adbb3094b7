"""Chapter layer: the set-ups of single chapters (problems, sweeps, tasks), built on the concept modules.

Unlike the concept modules of :mod:`course_lib`, these functions exist for one
chapter each, so that the chapter and its test call the same code.

* :mod:`course_lib.chapters.adaptive` -- the chapter "Adaptive methods, normalization and attention".
"""

__all__ = ["adaptive"]
