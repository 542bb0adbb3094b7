"""course_lib: the companion package of *Optimization for Deep Learning*.

One module per concept:

* :mod:`course_lib.landscapes` -- test functions and finite-sum problems;
* :mod:`course_lib.noise` -- zero-mean gradient-noise models;
* :mod:`course_lib.simulate` -- the package's one noisy-iteration engine: many
  chains of SGD or stochastic approximation, with step schedules, any noise
  model, stopping sets; trajectories, occupation histograms, hitting times;
* :mod:`course_lib.divergence` -- the one divergence policy (frozen, flagged, warn or raise);
* :mod:`course_lib.stochastic` -- SGD, minibatches, SAG/SVRG/SAGA, accelerated
  methods on finite sums, their bounds, and a scikit-learn cross-check;
* :mod:`course_lib.variance_reduction` -- SARAH, SPIDER, STORM on nonconvex finite sums, with SGD and SVRG;
* :mod:`course_lib.autodiff` -- a small forward- and reverse-mode AD, with operation counts;
* :mod:`course_lib.ad_cost` -- the memory and time of JAX's own AD, measured;
* :mod:`course_lib.optimizers` -- momentum, Adagrad, RMSprop, Rprop/sign, Adam, AdamW as
  (init, update) pairs, runs and rates;
* :mod:`course_lib.networks` -- a small MLP with dropout and batch norm, trained on scikit-learn's digits;
* :mod:`course_lib.attention` -- self-attention stacks, a tiny transformer, rank collapse, batch norm at initialisation;
* :mod:`course_lib.gradient_domination` -- PL constants along trajectories, GD/GF runners,
  predicted rates, Gram spectra;
* :mod:`course_lib.implicit_bias` -- minimum-norm and minimum-l1 interpolants, diagonal linear networks;
* :mod:`course_lib.two_layer` -- wide two-layer relu networks: NTK Gram matrix, lazy
  training, mean-field particles;
* :mod:`course_lib.langevin` -- mean-field Langevin dynamics: noisy particles, entropy, free energy;
* :mod:`course_lib.nonsmooth` -- Clarke subdifferentials, backprop artifacts, subgradient methods;
* :mod:`course_lib.ode` -- the ODE method: gradient flows, tracking errors, sliding, heavy ball, SDE;
* :mod:`course_lib.energy` -- transition graphs and energies of critical components (Freidlin--Wentzell);
* :mod:`course_lib.gibbs` -- the Boltzmann--Gibbs law of constant-step SGD: predictions against simulations;
* :mod:`course_lib.exit_times` -- hitting times of the global minimisers, their rate
  :math:`J(x)`, bounds, non-Gaussian noise;
* :mod:`course_lib.averaging` -- Polyak--Ruppert averaging, escaping strict saddles,
  anti-correlated perturbations;
* :mod:`course_lib.minmax` -- convex--concave finite-sum games: GDA, extragradient, stochastic and
  variance-reduced extragradient, exact second moments;
* :mod:`course_lib.decentralized` -- gossip matrices, spectral gaps, decentralized SGD against all-reduce;
* :mod:`course_lib.plotting` -- the course's figure style and plots;
* :mod:`course_lib.widgets` -- live sliders in Jupyter, static figures in the book;
* :mod:`course_lib.gradebook` -- a class's grades as Canvas- and Moodle-style gradebook CSVs;
* :mod:`course_lib.grading` -- readable feedback for exercises and batch grading;
* :mod:`course_lib.progress` -- progress bars for long computations in live Jupyter;
* :mod:`course_lib.chapters` -- the chapter layer: one module per chapter with its
  studies, toy set-ups and widgets (thin calls of the modules above).

Everything runs on the CPU by default.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from . import divergence, landscapes, noise, simulate  # noqa: E402  (light, JAX only)

_LAZY = ("autodiff", "ad_cost", "nonsmooth", "plotting", "widgets", "grading", "stochastic", "energy", "gradient_domination", "implicit_bias", "progress", "exit_times", "ode", "two_layer", "langevin", "optimizers", "networks", "averaging", "attention", "gibbs", "chapters", "gradebook", "variance_reduction", "minmax", "decentralized")


def __getattr__(name: str) -> Any:
    # matplotlib, ipywidgets, sympy and otter are imported only when a chapter needs them.
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'course_lib' has no attribute {name!r}")


__all__ = ["divergence", "landscapes", "noise", "simulate", *_LAZY, "__version__"]
