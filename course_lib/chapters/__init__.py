"""The chapter layer: experiments, toy set-ups and widgets of single chapters.

The concept modules of :mod:`course_lib` (landscapes, noise, the engine in
:mod:`course_lib.simulate`, flows in :mod:`course_lib.ode`, energies, ...) hold
the mathematics; a module here holds what only one chapter needs -- a study that
sweeps a parameter and returns the numbers the chapter plots, a toy problem, the
draw function of its widget -- written as thin calls to the concept modules, so
that the chapter and its test call the same code.
One module per chapter, named after the chapter's file in ``book/``:

* :mod:`course_lib.chapters.sgd` -- "Stochastic gradient descent";
* :mod:`course_lib.chapters.adaptive` -- "Adaptive methods, normalization and attention";
* :mod:`course_lib.chapters.ode` -- "The ODE method";
* :mod:`course_lib.chapters.long_run` -- "Where SGD spends its time";
* :mod:`course_lib.chapters.exit_times` -- "How long SGD takes";
* :mod:`course_lib.chapters.two_layer` -- "Wide two-layer networks".
"""

__all__ = ["sgd", "adaptive", "ode", "long_run", "exit_times", "two_layer"]


def __getattr__(name: str):
    # the chapter modules are imported on first use (``course_lib.chapters.ode``), as in course_lib itself
    if name in __all__:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'course_lib.chapters' has no attribute {name!r}")
