"""Registry of valid calls of every public function of ``course_lib``.

Each entry maps ``"module.name"`` (``"chapters.ode.name"`` for chapter modules)
to an :class:`Entry`: a function returning valid keyword arguments (small sizes,
so that one call takes well under a second) and the *kind* of each argument
that bad-input tests may replace.  Kinds (see :data:`BAD_VALUES`):

* ``pos`` -- a positive finite real scalar; ``nonneg`` -- finite and >= 0;
  ``real`` -- any finite real scalar; ``unit`` -- a real in [0, 1];
* ``count`` -- an integer >= 1; ``steps`` -- a count that sets the amount of work
  (also tried at 10**12, which must be refused up front, not run);
* ``array`` -- a finite real non-empty array (also tried empty, complex, bool, with NaN or inf);
  ``shaped`` -- the same, whose shape is fixed by the other arguments (also tried with a wrong shape);
* ``costs`` -- a square ``(p, p)`` matrix of transition costs in [0, inf], where inf is a value (no direct
  transition): tried with NaN, complex, bool, empty, non-square, strings and None;
* ``key`` -- a JAX PRNG key; ``option`` -- one of a fixed set of names;
  ``callable`` -- a function.

A function with a ``*name`` parameter (``optimizers.chain(*transforms)``) gets that
argument as a tuple under ``name`` in the keyword arguments; :func:`call` passes it
positionally.

``extra`` holds function-specific bad calls (``{arg: [value, ...]}``) that must
raise a named error (a tiny ``dt`` that would mean 10**9 steps, ``tol=inf``, ...).

A public function with no entry fails ``tests/test_api_inputs.py``; functions
whose entry is still to be written are listed in :data:`PENDING` (reported, not
silently skipped), and functions whose bad inputs are not yet all refused are in
:data:`NOT_YET_VALIDATED` (their strict test is an expected failure).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
from typing import Any, Callable

import numpy as np

__all__ = ["Entry", "REGISTRY", "PENDING", "NOT_YET_VALIDATED", "INF_MEANS_NO_EDGE", "BAD_VALUES", "SOFT_VALUES", "public_functions",
           "resolve", "call", "bad_calls"]


@dataclasses.dataclass(frozen=True)
class Entry:
    make: Callable[[], dict[str, Any]]
    kinds: dict[str, str] = dataclasses.field(default_factory=dict)
    extra: dict[str, list[Any]] = dataclasses.field(default_factory=dict)


def _key(seed: int = 0):
    import jax

    return jax.random.key(seed)


class _Wrong:
    """Marker for a value that depends on the valid one (wrong shape, empty)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


WRONG_SHAPE = _Wrong("wrong shape")
EMPTY = _Wrong("empty array")
COMPLEX_ARRAY = _Wrong("complex array")
BOOL_ARRAY = _Wrong("bool array")
NAN_ARRAY = _Wrong("array with NaN")
INF_ARRAY = _Wrong("array with inf")

_SCALAR_COMMON = ["a", None, 1j, True]
BAD_VALUES: dict[str, list[Any]] = {
    "pos": [0.0, -1.0, math.nan, math.inf, *_SCALAR_COMMON],
    "nonneg": [-1.0, math.nan, math.inf, *_SCALAR_COMMON],
    "real": [math.nan, math.inf, *_SCALAR_COMMON],
    "unit": [-0.5, 1.5, math.nan, *_SCALAR_COMMON],
    "count": [0, -1, 2.5, math.nan, "a", None, True],
    "steps": [0, -1, 2.5, math.nan, "a", None, True, 10**12],
    "array": [NAN_ARRAY, INF_ARRAY, COMPLEX_ARRAY, BOOL_ARRAY, EMPTY, "a", None],
    "shaped": [NAN_ARRAY, INF_ARRAY, COMPLEX_ARRAY, BOOL_ARRAY, EMPTY, WRONG_SHAPE, "a", None],
    "costs": [NAN_ARRAY, COMPLEX_ARRAY, BOOL_ARRAY, EMPTY, WRONG_SHAPE, "a", None],
    "key": [0, None, "a", 1.5],
    "option": ["nope", None, 3],
    "callable": [None, 3],
}
"""Bad values per kind: each must raise a ValueError/TypeError naming the argument."""

SOFT_VALUES: dict[str, list[Any]] = {"pos": [1e308], "real": [1e308]}
"""Extreme but legal values: a named error, a finite result, or a flagged divergence are all fine."""


def materialize(value: Any, valid: Any) -> Any:
    """Turn a :class:`_Wrong` marker into a concrete bad value built from the valid one."""
    if not isinstance(value, _Wrong):
        return value
    a = np.asarray(valid, dtype=float)
    if value is WRONG_SHAPE:
        return np.zeros(a.shape + (3,)) if a.ndim < 2 else np.zeros(a.shape[:-1] + (a.shape[-1] + 1,))
    if value is EMPTY:
        return np.zeros((0,) * max(a.ndim, 1))
    if value is COMPLEX_ARRAY:
        return a + 1j
    if value is BOOL_ARRAY:
        return np.ones(a.shape, bool)
    b = a.copy()
    b.reshape(-1)[0] = math.nan if value is NAN_ARRAY else math.inf
    return b


def bad_calls(name: str, entry: Entry, *, soft: bool = True) -> list[tuple[str, Any, bool]]:
    """All ``(arg, bad value, must_raise)`` of an entry (soft values have ``must_raise`` False)."""
    out: list[tuple[str, Any, bool]] = []
    for arg, kind in entry.kinds.items():
        out += [(arg, v, True) for v in BAD_VALUES[kind]]
        if soft:
            out += [(arg, v, False) for v in SOFT_VALUES.get(kind, [])]
    for arg, values in entry.extra.items():
        out += [(arg, v, True) for v in values]
    return out


def resolve(name: str) -> Any:
    mod, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(f"course_lib.{mod}"), attr)


def call(name: str, kwargs: dict[str, Any]) -> Any:
    """Call function ``name`` with ``kwargs``, passing the value of its ``*args``-style parameter positionally."""
    fn = resolve(name)
    kwargs = dict(kwargs)
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # no signature: keywords only
        params = ()
    star = [p.name for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL and p.name in kwargs]
    if not star:
        return fn(**kwargs)
    value = kwargs.pop(star[0])
    return fn(*(value if isinstance(value, (tuple, list)) else (value,)), **kwargs)


def public_functions() -> list[str]:
    """Every public function (and non-record class) of course_lib, as ``"module.name"``."""
    import course_lib
    import course_lib.chapters

    mods = [m for m in course_lib.__all__ if m not in ("__version__", "chapters")]
    mods += [f"chapters.{m}" for m in course_lib.chapters.__all__]
    names = []
    for m in mods:
        mod = importlib.import_module(f"course_lib.{m}")
        for n in getattr(mod, "__all__", []):
            obj = getattr(mod, n, None)
            if inspect.isfunction(obj):
                names.append(f"{m}.{n}")
            elif inspect.isclass(obj) and not issubclass(obj, (BaseException, tuple)):
                names.append(f"{m}.{n}")
    return names


# ---------------------------------------------------------------- shared fixtures

def _ls():
    from course_lib import landscapes

    return landscapes.least_squares(_key(1), 8, 3)


def _sproblem(kind="least_squares"):
    from course_lib import stochastic

    return stochastic.make_problem(_key(2), kind, 12, 3)


def _tl():
    from course_lib import two_layer

    X = two_layer.sphere_inputs(_key(3), 6, 2)
    params = two_layer.init_gaussian(_key(4), 8, 2)
    y = np.sin(np.arange(6.0))
    return params, X, y


def _costs():
    return np.array([[0.0, 1.0, 2.0], [0.5, 0.0, 1.5], [1.0, 0.7, 0.0]])


def _quad(x):
    import jax.numpy as jnp

    return 0.5 * jnp.sum(x**2)


def _gaussian():
    from course_lib import noise

    return noise.gaussian(0.1)


def _scale_fn(X, params):
    import jax.numpy as jnp

    return 0.1 + 0.0 * jnp.sum(X, axis=-1)


def _power_law():
    from course_lib import noise

    return noise.power_law(0.1)


def _field():
    from course_lib import ode

    return ode.gradient_field(_quad)


R: dict[str, Entry] = {}


def _e(fname: str, make: Callable[[], dict[str, Any]], extra: dict[str, list[Any]] | None = None, /,
       **kinds: str) -> None:
    R[fname] = Entry(make, kinds, extra or {})


# ---------------------------------------------------------------- gradient_domination
_e("gradient_domination.gd_rate", lambda: dict(c=0.5, L=2.0, step=0.1), c="pos", L="pos", step="pos")
_e("gradient_domination.flow_bound", lambda: dict(c=0.5, t=np.linspace(0, 1, 5), J0=1.0), c="pos", t="array",
   J0="nonneg")
_e("gradient_domination.lojasiewicz_length_bound", lambda: dict(f0=1.0, c=0.5, q=0.5), f0="nonneg", c="pos", q="unit")
_e("gradient_domination.lojasiewicz_flow_bound", lambda: dict(f0=1.0, c=0.5, q=0.75, t=np.linspace(0, 1, 5)),
   f0="nonneg", c="pos", q="unit", t="array")
_e("gradient_domination.sgd_interpolation_rate", lambda: dict(lam=0.5, L=2.0, step=0.1), lam="pos", L="pos",
   step="pos")
_e("gradient_domination.pl_ratio", lambda: dict(f=_quad, points=np.ones((4, 2)), f_star=0.0), f="callable",
   points="array", f_star="real")
_e("gradient_domination.estimate_pl_constant", lambda: dict(f=_quad, points=np.ones((4, 2)), f_star=0.0),
   f="callable", points="array", f_star="real")
_e("gradient_domination.gradient_descent", lambda: dict(f=_quad, theta0=np.ones(2), step=0.1, n_steps=5),
   f="callable", theta0="array", step="pos", n_steps="steps")
_e("gradient_domination.gradient_flow", lambda: dict(f=_quad, theta0=np.ones(2), t_final=1.0, n_steps=10),
   f="callable", theta0="array", t_final="pos", n_steps="steps")
_e("gradient_domination.trajectory_length", lambda: dict(iterates=np.ones((4, 2))), iterates="array")
_e("gradient_domination.measured_rate", lambda: dict(values=0.5 ** np.arange(10.0)), values="array")
_e("gradient_domination.jacobian_gram", lambda: dict(F=lambda th: th * 2.0, theta=np.ones(3)), F="callable",
   theta="array")
_e("gradient_domination.least_squares_pl_check",
   lambda: dict(F=lambda th: th * 2.0, y=np.ones(3), thetas=np.ones((2, 3))), F="callable", y="array",
   thetas="array")
_e("gradient_domination.tanh_model", lambda: dict(theta=np.ones(8), X=np.ones((4, 3))), theta="shaped", X="array")
_e("gradient_domination.least_squares_constants", lambda: dict(A=np.eye(3)), A="array")
_e("gradient_domination.sgd_least_squares",
   lambda: dict(A=np.eye(3), b=np.ones(3), theta0=np.zeros(3), step=0.1, n_steps=5, key=_key(), n_runs=2),
   A="array", b="array", theta0="array", step="pos", n_steps="steps", key="key", n_runs="count")

# ---------------------------------------------------------------- landscapes
_e("landscapes.himmelblau", lambda: dict(x=np.ones(2)), x="shaped")
_e("landscapes.three_humps", lambda: dict(x=np.ones(2)), x="shaped")
_e("landscapes.rosenbrock", lambda: dict(x=np.ones(2), a=1.0, b=100.0), x="array", a="real", b="real")
_e("landscapes.quadratic", lambda: dict(x=np.ones(2), A=np.eye(2)), x="array", A="array")
_e("landscapes.least_squares", lambda: dict(key=_key(), n=5, d=2), key="key", n="count", d="count",
   noise="nonneg", reg="nonneg")
_e("landscapes.logistic_regression", lambda: dict(key=_key(), n=5, d=2), key="key", n="count", d="count",
   reg="nonneg")
_e("landscapes.FiniteSum", lambda: dict(features=np.ones((3, 2)), targets=np.ones(3), reg=0.0,
                                        kind="least_squares"), features="array", targets="array", reg="nonneg",
   kind="option")
_e("landscapes.batch_grad", lambda: dict(f=_quad), f="callable")

# ---------------------------------------------------------------- noise
_e("noise.gaussian", lambda: dict(sigma=0.1), sigma="nonneg")
_e("noise.power_law", lambda: dict(sigma=0.1), sigma="nonneg")
_e("noise.heavy_tailed", lambda: dict(sigma=0.1, df=3.0), sigma="nonneg", df="pos")
_e("noise.minibatch", lambda: dict(problem=_ls(), batch_size=2), batch_size="count")

# ---------------------------------------------------------------- simulate
_e("simulate.trajectories",
   lambda: dict(key=_key(), objective=_quad, noise=_gaussian(), x0=np.ones((2, 2)), step=0.1, n_steps=5),
   key="key", objective="callable", x0="array", step="pos", n_steps="steps")
_e("simulate.hitting_times",
   lambda: dict(key=_key(), objective=_quad, noise=_gaussian(), x0=np.ones((2, 2)), step=0.1,
                centers=np.zeros((1, 2)), delta=0.5, max_steps=20),
   key="key", objective="callable", x0="array", step="pos", delta="pos", max_steps="steps")
_e("simulate.occupation_histogram",
   lambda: dict(key=_key(), objective=_quad, noise=_gaussian(), x0=np.ones((2, 2)), step=0.1, n_steps=5,
                low=(-2.0, -2.0), high=(2.0, 2.0), n_bins=4),
   key="key", objective="callable", x0="array", step="pos", n_steps="steps")

# ---------------------------------------------------------------- stochastic
_e("stochastic.make_problem", lambda: dict(key=_key(), kind="least_squares", n=6, d=2), key="key", kind="option",
   n="count", d="count", reg="nonneg", noise="nonneg")
_e("stochastic.gd", lambda: dict(problem=_sproblem(), theta0=np.zeros(3), step=0.1, n_records=4),
   theta0="shaped", step="pos", n_records="steps", record_every="count")
_e("stochastic.sgd", lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, n_records=4),
   theta0="shaped", key="key", step="pos", n_records="steps", record_every="count", batch="count")
_e("stochastic.sag", lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, n_records=4),
   theta0="shaped", key="key", step="pos", n_records="steps")
_e("stochastic.saga", lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, n_records=4),
   theta0="shaped", key="key", step="pos", n_records="steps")
_e("stochastic.svrg", lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, n_epochs=2),
   theta0="shaped", key="key", step="pos", n_epochs="steps")
_e("stochastic.nesterov",
   lambda: dict(problem=_sproblem(), theta0=np.zeros(3), step=0.1, momentum=0.5, n_records=4),
   theta0="array", step="pos", momentum="unit", n_records="steps")
_e("stochastic.katyusha", lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), n_records=3),
   theta0="shaped", key="key", n_records="steps")
_e("stochastic.default_step", lambda: dict(method="sgd", problem=_sproblem()), method="option")
_e("stochastic.grad_norms", lambda: dict(problem=_sproblem(), thetas=np.zeros((2, 3))), thetas="array")
_e("stochastic.values", lambda: dict(problem=_sproblem(), thetas=np.zeros((2, 3))), thetas="array")
_e("stochastic.reference_solution", lambda: dict(problem=_sproblem(), tol=1e-10), tol="pos", max_iter="count")
_e("stochastic.descent_bound", lambda: dict(value=1.0, grad_sq=1.0, L=1.0, step=0.1, sigma2=0.1), value="real",
   grad_sq="nonneg", L="pos", step="pos", sigma2="nonneg")
_e("stochastic.nonconvex_bound", lambda: dict(k=10, gap=1.0, L=1.0, step=0.1, sigma2=0.1), gap="nonneg", L="pos",
   step="pos", sigma2="nonneg")
_e("stochastic.optimal_constant_step", lambda: dict(k=10, gap=1.0, L=1.0, sigma2=0.1), k="count", gap="pos",
   L="pos", sigma2="nonneg")
_e("stochastic.minibatch_variance", lambda: dict(sigma2=1.0, n=10, batch=2), sigma2="nonneg", n="count",
   batch="count")
_e("stochastic.complexity", lambda: dict(method="sgd", n=100, kappa=10.0, eps=1e-3), method="option", n="count",
   kappa="pos", eps="pos")
_e("stochastic.evals_to_reach", lambda: dict(errors=0.5 ** np.arange(10.0), evals=np.arange(10.0), eps=1e-2),
   errors="array", evals="array", eps="pos")
_e("stochastic.run_method", lambda: dict(method="gd", problem=_sproblem(), key=_key(), budget=3.0, n_points=5),
   method="option", key="key", budget="pos", n_points="count")
_e("chapters.sgd.minibatch_deviations",
   lambda: dict(problem=_sproblem(), theta=np.zeros(3), key=_key(), batches=np.array([1, 2]), n_draws=5),
   theta="shaped", key="key", n_draws="count")
_e("chapters.sgd.compare_methods", lambda: dict(key=_key(), n=8, kappa=10.0, epochs=2.0, methods=("gd", "sgd"), d=2),
   {"methods": ["gd", ("gd", "nope")]}, key="key", n="count", kappa="pos", epochs="pos", eps="pos", d="count")

# ---------------------------------------------------------------- energy
_NEG_COSTS = {"B": [np.array([[0.0, -1.0], [1.0, 0.0]]), np.array([[0.0, -np.inf], [1.0, 0.0]])]}
_e("energy.check_costs", lambda: dict(B=_costs()), _NEG_COSTS, B="costs")
_e("energy.energies", lambda: dict(B=_costs()), _NEG_COSTS, B="costs")
_e("energy.energies_brute_force", lambda: dict(B=_costs()), _NEG_COSTS, B="costs")
_e("energy.path_costs", lambda: dict(B=_costs()), _NEG_COSTS, B="costs")
_e("energy.markov_chain", lambda: dict(B=_costs(), step=0.5), _NEG_COSTS, B="costs", step="pos")
_e("energy.stationary_distribution", lambda: dict(P=np.full((3, 3), 1 / 3)),
   {"P": [np.full((3, 3), 0.5), np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])]}, P="shaped")
_e("energy.relative_energy", lambda: dict(B=_costs(), target=[0], i=1),
   {**_NEG_COSTS, "target": [[3], [-1], [], 0.5, "a", None, True], "i": [3, -1, 1.5, "a", None, True, [1, 2]]},
   B="costs")
_e("energy.flow_connections",
   lambda: dict(f=_quad, points=np.zeros((1, 2)), hessians=np.eye(2)[None], n_dirs=4, n_steps=50),
   f="callable", points="array", hessians="array", n_dirs="count", eps="pos", dt="pos", n_steps="steps", tol="pos")
_e("energy.gradient_flow_path", lambda: dict(f=_quad, x0=np.ones(2), dt=0.01, n_steps=10), f="callable",
   x0="array", dt="pos", n_steps="steps")
_e("energy.gaussian_action", lambda: dict(f=_quad, path=np.ones((5, 2)), duration=1.0, sigma=1.0), f="callable",
   path="array", duration="pos", sigma="pos")
_e("energy.transition_costs", lambda: dict(values=np.array([0.0, 1.0]), connections=[(0, 1)], sigma=1.0),
   {"connections": [[(0, 2)], [(0, 0)], [(0,)], [(0.5, 1)], "a", None, 3]}, values="array", sigma="pos",
   noise="option")

# ---------------------------------------------------------------- networks
_e("networks.cross_entropy", lambda: dict(logits=np.zeros((3, 4)), y=np.array([0, 1, 3])),
   {"y": [np.array([0, 1, 4]), np.array([0, -1, 2])]}, logits="array")
_e("networks.accuracy", lambda: dict(logits=np.zeros((3, 4)), y=np.array([0, 1, 3])),
   {"y": [np.array([0, 1, 4])]}, logits="array")
_e("networks.init_mlp", lambda: dict(key=_key(), sizes=(4, 3, 2)), key="key")
_e("networks.shift_images", lambda: dict(key=_key(), X=np.ones((2, 64)), max_shift=1), key="key", X="array")

# ---------------------------------------------------------------- optimizers
for _n in ("sgd", "sign_descent"):
    _e(f"optimizers.{_n}", lambda: dict(learning_rate=0.1), learning_rate="pos")
for _n in ("heavy_ball", "nesterov"):
    _e(f"optimizers.{_n}", lambda: dict(learning_rate=0.1, beta=0.9), learning_rate="pos", beta="unit")
for _n in ("adam", "adamw", "nadam", "adamax", "amsgrad"):
    _e(f"optimizers.{_n}", lambda: dict(learning_rate=0.1), learning_rate="pos", b1="unit", b2="unit", eps="nonneg")
_e("optimizers.adagrad", lambda: dict(learning_rate=0.1), learning_rate="pos", eps="nonneg")
_e("optimizers.rmsprop", lambda: dict(learning_rate=0.1), learning_rate="pos", decay="unit", eps="nonneg")
_e("optimizers.adadelta", lambda: dict(learning_rate=1.0), learning_rate="pos", rho="unit", eps="pos")
_e("optimizers.rprop", lambda: dict(learning_rate=0.1), learning_rate="pos")
_e("optimizers.ftrl", lambda: dict(learning_rate=0.1), learning_rate="pos", l1="nonneg", l2="nonneg")
_e("optimizers.make", lambda: dict(name="adam", learning_rate=0.1), name="option", learning_rate="pos")
_e("optimizers.run", lambda: dict(name="sgd", loss=_quad, params0=np.ones(2), n_steps=5, learning_rate=0.1),
   name="option", loss="callable", n_steps="steps", learning_rate="pos", l2="nonneg", l2_mode="option")
_e("optimizers.noisy_run",
   lambda: dict(name="sgd", loss=_quad, params0=np.ones(2), key=_key(), sigma=0.1, n_steps=5, learning_rate=0.1),
   name="option", loss="callable", key="key", sigma="nonneg", n_steps="steps", learning_rate="pos")
_e("optimizers.rotation", lambda: dict(angle=0.3, d=2), angle="real", d="count")
_e("optimizers.heavy_ball_rate", lambda: dict(learning_rate=0.1, beta=0.5, eigenvalues=np.array([1.0, 2.0])),
   learning_rate="pos", beta="unit", eigenvalues="array")
_e("optimizers.continuous_limit", lambda: dict(method="gd", h=0.1, T=1.0),
   {"h": [1e-8, 1e-10], "T": [1e9]}, method="option", h="pos", T="pos", delta="pos", lam="pos", x0="real")
_e("optimizers.heavy_ball_optimal", lambda: dict(mu=1.0, L=10.0), mu="pos", L="pos")
_e("optimizers.gd_optimal", lambda: dict(mu=1.0, L=10.0), mu="pos", L="pos")
_e("optimizers.convergence_rate", lambda: dict(errors=0.5 ** np.arange(10.0)), errors="array")
_e("optimizers.add_decayed_weights", lambda: dict(weight_decay=0.1), weight_decay="nonneg")
_e("optimizers.clip_by_global_norm", lambda: dict(max_norm=1.0), max_norm="pos")


def _chain_parts():
    from course_lib import optimizers

    return (optimizers.clip_by_global_norm(1.0), optimizers.add_decayed_weights(0.1), optimizers.sgd(0.1))


_e("optimizers.chain", lambda: dict(transforms=_chain_parts()),
   {"transforms": [(), (None,), ("adam",), (3,), ("a", "b")]})
_e("optimizers.lbfgs", lambda: dict(memory_size=3),
   {"learning_rate": [0.0, -1.0, math.nan, math.inf, "a", 1j, True],
    "max_linesearch_steps": [0, -1, 2.5, math.nan, "a", True], "scale_init_precond": ["a", None, 3]},
   memory_size="count")
_e("optimizers.lbfgs_run", lambda: dict(loss=_quad, params0=np.ones(2), n_steps=3, memory_size=2),
   {"args": ["a", 3, (np.array([math.nan]),)], "params0": [{}, ()]},
   loss="callable", params0="array", n_steps="steps", memory_size="count", max_linesearch_steps="count")
_e("optimizers.quadratic_problem", lambda: dict(weights=np.array([1.0, 2.0])), weights="array", angle="real")

# ---------------------------------------------------------------- two_layer
_e("two_layer.init_gaussian", lambda: dict(key=_key(), m=4, d=2), key="key", m="count", d="count")
_e("two_layer.init_symmetric", lambda: dict(key=_key(), m=4), key="key", m="count", scale="pos")
_e("two_layer.sphere_inputs", lambda: dict(key=_key(), n=4, d=2), key="key", n="count", d="count")
_e("two_layer.lambda_min", lambda: dict(G=np.eye(3)), G="array")
_e("two_layer.infinite_width_ntk", lambda: dict(X=np.eye(2)), X="array")
_e("two_layer.linearized_losses", lambda: dict(G=np.eye(3), r0=np.ones(3), step=0.1, n_steps=5),
   G="array", r0="array", step="pos", n_steps="steps")
_e("two_layer.linear_rate_bound", lambda: dict(J0=1.0, lam_min=0.5, step=0.1, n_steps=5), J0="nonneg",
   lam_min="nonneg", step="pos", n_steps="steps")
_e("two_layer.predicted_rate", lambda: dict(lam_min=0.5, step=0.1), lam_min="nonneg", step="pos")
_e("two_layer.log_decay_rate", lambda: dict(losses=0.5 ** np.arange(10.0), window=4), losses="array",
   window="count")
_e("two_layer.relative_change", lambda: dict(before=np.ones(3), after=np.ones(3) * 1.1), before="array",
   after="array")
_e("two_layer.train_gd", lambda: dict(params=_tl()[0], X=_tl()[1], y=_tl()[2], alpha=1.0, step=0.1, n_steps=5),
   X="array", y="array", alpha="pos", step="pos", n_steps="steps")
_e("two_layer.particle_flow", lambda: dict(params=_tl()[0], X=_tl()[1], y=_tl()[2], dt=0.1, t_max=0.5,
                                           n_records=3),
   {"dt": [1e-9]}, X="array", y="array", alpha="pos", dt="pos", t_max="pos", n_records="count")
_e("two_layer.teacher_problem", lambda: dict(n=8), n="count")

# ---------------------------------------------------------------- nonsmooth
_e("nonsmooth.subgradient_method",
   lambda: dict(oracle=lambda w: (_quad(w), w), w0=np.ones(2), steps=np.full(5, 0.1)),
   oracle="callable", w0="array", steps="array")
_e("nonsmooth.subgradient_bound", lambda: dict(dist0=1.0, grad_norms=np.ones(5), steps=np.full(5, 0.1)),
   dist0="nonneg", grad_norms="array", steps="array")
_e("nonsmooth.lasso_problem", lambda: dict(n=8, p=4, sparsity=2), n="count", p="count", lam="nonneg",
   sparsity="count", noise="nonneg")
_e("nonsmooth.sawtooth", lambda: dict(x=np.linspace(0, 1, 5), width=0.5), x="array", width="pos")
_e("nonsmooth.formula", lambda: dict(index=0), {"index": [-1, 99, 2.5, None, "a"]})
_e("nonsmooth.clarke_interval", lambda: dict(f=lambda t: abs(t), x0=0.0), f="callable", x0="real",
   radius="pos", num="count")

# ---------------------------------------------------------------- ode
_e("ode.flow", lambda: dict(field=_field(), x0=np.ones(2), t_end=1.0, num_steps=10), x0="array", t_end="pos",
   num_steps="steps")
_e("ode.euler", lambda: dict(field=_field(), x0=np.ones(2), steps=np.full(5, 0.1)), x0="array", steps="array")
_e("ode.heavy_ball_scaling", lambda: dict(step=0.1, delta=1.0), step="pos", delta="pos")
_e("ode.euler_maruyama",
   lambda: dict(key=_key(), field=_field(), x0=np.ones(2), eta=0.1, sigma=0.1, dt=0.1, n_steps=5, n_paths=2),
   key="key", x0="array", eta="pos", sigma="nonneg", dt="pos", n_steps="steps", n_paths="count")
_e("ode.stochastic_approximation",
   lambda: dict(key=_key(), field=_field(), x0=np.ones(2), steps=np.full(5, 0.1), sigma=0.1, n_chains=2),
   key="key", x0="array", steps="array", sigma="nonneg", n_chains="count")
_e("ode.fit_order", lambda: dict(h=np.array([0.1, 0.05, 0.025]), err=np.array([0.1, 0.05, 0.025])), h="array",
   err="array")

# ---------------------------------------------------------------- averaging, gibbs, exit_times, implicit_bias
_e("averaging.running_average", lambda: dict(iterates=np.ones((4, 2))), iterates="array")
_e("averaging.predicted_escape_steps", lambda: dict(step=0.1, sigma=0.1, lam=-1.0, radius=1.0), step="pos",
   sigma="pos", radius="pos")
_e("averaging.perturbed_gd", lambda: dict(key=_key(), f=_quad, x0=np.ones((2, 2)), step=0.1, sigma=0.1, n_steps=5),
   key="key", f="callable", x0="array", step="pos", sigma="nonneg", n_steps="steps")
_e("gibbs.gibbs_weights", lambda: dict(E=np.array([0.0, 1.0]), step=0.1), E="array", step="pos")
_e("gibbs.linearized_covariance", lambda: dict(hessian=np.eye(2), step=0.1, sigma=1.0), hessian="array",
   step="pos", sigma="nonneg")
_e("exit_times.chain_costs", lambda: dict(values=np.array([0.0, 1.0, 0.5]), sigma=1.0), values="array",
   sigma="pos", noise="option")
_e("exit_times.three_humps_graph", lambda: dict(sigma=1.0), sigma="pos", noise="option")
_e("exit_times.fbm_autocovariance", lambda: dict(hurst=0.7, n=5), hurst="unit", n="count")
_e("exit_times.fractional_noise", lambda: dict(key=_key(), hurst=0.7, n_steps=5, shape=(2,)), key="key",
   hurst="unit", n_steps="steps")
_e("exit_times.student_noise", lambda: dict(key=_key(), df=3.0, n_steps=5, shape=(2,)), key="key", df="pos",
   n_steps="steps")
_e("exit_times.mean_hitting_time", lambda: dict(times=np.array([1, 2]), max_steps=10), max_steps="count")
_e("implicit_bias.min_norm_solution", lambda: dict(A=np.ones((2, 3)), b=np.ones(2)), A="array", b="array")
_e("implicit_bias.least_squares_gd",
   lambda: dict(A=np.ones((2, 3)), b=np.ones(2), theta0=np.zeros(3), step=0.1, n_steps=5), A="array", b="array",
   theta0="array", step="pos", n_steps="steps")
_e("implicit_bias.sparse_recovery_problem", lambda: dict(key=_key(), n=5, p=8, k=2), key="key", n="count",
   p="count", k="count")
_e("implicit_bias.diagonal_network_gd",
   lambda: dict(A=np.ones((2, 3)), b=np.ones(2), init_scale=0.1, n_steps=10, step=0.1, n_records=2), A="array",
   b="array", init_scale="pos", n_steps="steps", step="pos", n_records="count")

# ---------------------------------------------------------------- langevin, autodiff
_e("langevin.knn_entropy", lambda: dict(points=np.random.default_rng(0).normal(size=(20, 2)), k=3),
   points="array", k="count")
_e("ad_cost.fit_slope", lambda: dict(x=[1.0, 2.0, 3.0], y=[2.0, 4.0, 6.0]), x="array", y="array")
_e("autodiff.mlp_size", lambda: dict(d=2, h=3), d="count", h="count")
_e("ad_cost.measure_ad", lambda: dict(L=2, p=2, timing=True), L="count", p="count", direction="option")

# ---------------------------------------------------------------- minmax
def _game():
    from course_lib import minmax

    return minmax.make_game(_key(5), 3, 2, mu=0.5, spread=0.5)


def _seg_curve_args():
    from course_lib import minmax

    game = _game()
    maps, probs = minmax.seg_linear_maps(game, 0.1)
    return dict(maps=maps, probs=probs, u0=np.r_[np.zeros(4), 1.0], zstar=minmax.saddle_point(game), T=5)


_NOT_A_GAME = {"game": [None, "a", 3, np.ones((2, 2))]}
_e("minmax.make_game", lambda: dict(key=_key(), n=3, d=2, mu=0.5), key="key", n="count", d="count", mu="nonneg",
   spread="nonneg")
_e("minmax.operator_matrix", lambda: dict(game=_game(), i=1), {**_NOT_A_GAME, "i": [-1, 3, 2.5, "a", True]})
_e("minmax.saddle_point", lambda: dict(game=_game()), _NOT_A_GAME)
_e("minmax.lipschitz_mean_square", lambda: dict(game=_game()), _NOT_A_GAME)
_e("minmax.gda_factor", lambda: dict(game=_game(), eta=0.1), _NOT_A_GAME, eta="pos")
_e("minmax.eg_factor", lambda: dict(game=_game(), eta=0.1), _NOT_A_GAME, eta="pos")
_e("minmax.gda", lambda: dict(game=_game(), z0=np.zeros(4), eta=0.1, T=5), _NOT_A_GAME, z0="shaped", eta="pos",
   T="steps")
_e("minmax.extragradient", lambda: dict(game=_game(), z0=np.zeros(4), eta=0.1, T=5), _NOT_A_GAME, z0="shaped",
   eta="pos", T="steps")
_e("minmax.stochastic_extragradient", lambda: dict(key=_key(), game=_game(), z0=np.zeros(4), eta=0.1, T=5, chains=2),
   _NOT_A_GAME, key="key", z0="shaped", eta="pos", T="steps", chains="count")
_e("minmax.vr_extragradient", lambda: dict(key=_key(), game=_game(), z0=np.zeros(4), T=5, chains=2),
   {**_NOT_A_GAME, "p": [0.0, -0.5, 1.5, math.nan, "a", 1j, True],
    "tau": [0.0, -1.0, math.nan, math.inf, "a", 1j, True], "alpha": [-0.5, 1.5, math.nan, "a", 1j, True]},
   key="key", z0="shaped", T="steps", chains="count")
_e("minmax.seg_linear_maps", lambda: dict(game=_game(), eta=0.1), _NOT_A_GAME, eta="pos")
_e("minmax.vr_eg_linear_maps", lambda: dict(game=_game(), tau=0.1, p=0.5, alpha=0.5), {**_NOT_A_GAME, "p": [0.0]},
   tau="pos", p="unit", alpha="unit")
_e("minmax.second_moment_curve", _seg_curve_args,
   {"probs": [np.array([0.5, 0.6, -0.1]), np.array([0.2, 0.2, 0.2])], "u0": [np.zeros(5)]},
   maps="shaped", probs="shaped", u0="shaped", zstar="shaped", T="steps")

# ---------------------------------------------------------------- decentralized
def _local_data():
    from course_lib import decentralized

    return decentralized.make_local_data(_key(6), 3, 4, 2)


def _ring3():
    from course_lib import decentralized

    return decentralized.gossip_matrix("ring", 3)


_NOT_DATA = {"data": [None, "a", 3, np.ones((3, 4, 2))]}
# not symmetric; rows not summing to 1
_NOT_GOSSIP = [np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]), np.eye(3) * 2.0]
_e("decentralized.graph", lambda: dict(name="ring", m=4), {"m": [10**12]}, name="option", m="count")
_e("decentralized.metropolis_weights", lambda: dict(g=__import__("networkx").cycle_graph(4)),
   {"g": [None, "a", 3, np.eye(3)]})
_e("decentralized.gossip_matrix", lambda: dict(name="ring", m=4), {"m": [10**12]}, name="option", m="count")
_e("decentralized.second_eigenvalue", lambda: dict(W=_ring3()), {"W": _NOT_GOSSIP}, W="shaped")
_e("decentralized.spectral_gap", lambda: dict(W=_ring3()), {"W": _NOT_GOSSIP}, W="shaped")
_e("decentralized.make_local_data", lambda: dict(key=_key(), m=3, n0=4, d=2), key="key", m="count", n0="count",
   d="count", heterogeneity="nonneg", noise="nonneg")
_e("decentralized.optimum", lambda: dict(data=_local_data()), _NOT_DATA)
_e("decentralized.dsgd", lambda: dict(key=_key(), data=_local_data(), W=_ring3(), eta=0.1, T=5),
   {**_NOT_DATA, "X0": [np.full((3, 2), math.nan), np.zeros((3, 3)), np.zeros(2), "a", np.zeros((3, 2)) + 1j]},
   key="key", W="shaped", eta="nonneg", T="steps")
_e("decentralized.stationary_errors", lambda: dict(data=_local_data(), W=_ring3(), eta=0.1),
   {**_NOT_DATA, "eta": [1e3]}, W="shaped", eta="pos")

# ---------------------------------------------------------------- variance_reduction
def _vr_run():
    from course_lib import variance_reduction

    return variance_reduction.sarah(_sproblem(), np.zeros(3), _key(7), step=0.1, n_records=3)


_VR = dict(theta0="shaped", key="key", step="pos", n_records="steps", record_every="count", n_runs="count")
_PERIOD = {"period": [0, -1, 2.5, math.nan, "a", True, 10**12]}
_NOT_PROBLEM = {"problem": [None, "a", 3]}
_e("variance_reduction.sarah",
   lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, n_records=3, period=4, n_runs=2),
   {**_PERIOD, **_NOT_PROBLEM}, **_VR)
_e("variance_reduction.spider",
   lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, radius=0.5, batch=2, period=3,
                n_records=3, n_runs=2),
   {**_NOT_PROBLEM, "radius": [0.0, -1.0, math.nan, "a", None, 1j, True], "batch": [13],
    "restart_batch": [-1, 2.5, "a", True, 10**12]},
   batch="count", period="count", **_VR)
_e("variance_reduction.storm",
   lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, momentum=0.5, n_records=3, n_runs=2),
   {**_NOT_PROBLEM, "restart_batch": [-1, 2.5, "a", True, 10**12]}, momentum="unit", offset="pos", batch="count",
   **_VR)
_e("variance_reduction.svrg",
   lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, n_records=3, period=4, n_runs=2),
   {**_PERIOD, **_NOT_PROBLEM}, batch="count", **_VR)
_e("variance_reduction.sgd",
   lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), step=0.1, n_records=3, n_runs=2),
   _NOT_PROBLEM, power="nonneg", offset="pos", **_VR)
_e("variance_reduction.grad_norm_curve", lambda: dict(problem=_sproblem(), run=_vr_run()),
   {**_NOT_PROBLEM, "run": [None, "a", np.ones((2, 3))]})
_e("variance_reduction.evals_to_eps", lambda: dict(curve=0.5 ** np.arange(5.0), evals=np.arange(5.0), eps=0.1),
   curve="array", evals="shaped", eps="pos")
_e("variance_reduction.complexity", lambda: dict(method="sarah", n=10, eps=0.1), method="option", n="count",
   eps="pos")
_e("variance_reduction.compare",
   lambda: dict(problem=_sproblem(), theta0=np.zeros(3), key=_key(), eps=[10.0], budget=200, n_runs=1, n_points=5),
   {**_NOT_PROBLEM, "params": ["a", {"nope": {}}, {"sgd": 3}, {"sgd": {"nope": 1.0}}]},
   theta0="shaped", key="key", eps="pos", budget="steps", n_runs="count", n_points="count")

# ---------------------------------------------------------------- averaging, gibbs, energy, two_layer, langevin (more)
_H2, _S2 = np.diag([1.0, 2.0]), 0.1 * np.eye(2)
_NOT_PSD = {"H": [np.diag([1.0, -1.0])]}
_e("averaging.averaged_constant", lambda: dict(H=_H2, S=_S2), _NOT_PSD, H="shaped", S="shaped")
_e("averaging.last_iterate_floor", lambda: dict(H=_H2, S=_S2, step=0.1), _NOT_PSD, H="shaped", S="shaped",
   step="pos")
_e("averaging.stationary_covariance", lambda: dict(H=_H2, S=_S2, step=0.1), _NOT_PSD, H="shaped", S="shaped",
   step="pos")
_e("averaging.excess_risk", lambda: dict(x=np.ones((3, 2)), x_star=np.zeros(2), H=_H2), x="shaped",
   x_star="shaped", H="shaped")
_e("averaging.least_squares_noise", lambda: dict(problem=_ls()), {"problem": [None, "a", 3, np.eye(2)]})
_e("averaging.strict_saddle", lambda: dict(x=np.ones(2)), x="shaped")
_e("averaging.widening_valley", lambda: dict(x=np.ones(3)), x="array")
_e("averaging.valley_hessian_trace", lambda: dict(x=np.ones(3)), x="array")


def _edges():
    return (np.linspace(-6.0, 6.0, 13), np.linspace(-6.0, 6.0, 13))


def _probs():
    from course_lib import gibbs, landscapes

    return gibbs.gibbs_density(landscapes.himmelblau, _edges(), sigma=1.0, step=0.1)


def _hist():
    from course_lib import landscapes, simulate

    return simulate.occupation_histogram(_key(8), landscapes.himmelblau, _gaussian(), np.zeros((4, 2)), 0.01, 20,
                                         low=(-6.0, -6.0), high=(6.0, 6.0), n_bins=12)


def _himmelblau(x):
    from course_lib import landscapes

    return landscapes.himmelblau(x)


_e("gibbs.gibbs_density",
   lambda: dict(f=_himmelblau, edges=_edges(), sigma=1.0, step=0.1),
   {"edges": [None, "a", (np.linspace(-6, 6, 13),), (np.array([0.0]), np.array([0.0])),
              (np.linspace(6, -6, 13), np.linspace(-6, 6, 13))]},
   f="callable", sigma="pos", step="pos", noise="option", shift="real", oversample="count")
_e("gibbs.grid_mass_near", lambda: dict(probs=_probs(), edges=_edges(), centers=np.zeros((2, 2)), radius=1.0),
   {"edges": [None, "a", (np.linspace(-6, 6, 13),)]}, probs="shaped", centers="shaped", radius="pos")
_e("gibbs.sample_grid", lambda: dict(key=_key(), probs=_probs(), edges=_edges(), n=5),
   {"edges": [None, "a", (np.linspace(-6, 6, 13),)], "probs": [-_probs()]}, key="key", probs="shaped", n="count")
_e("gibbs.laplace_weights",
   lambda: dict(values=np.array([0.0, 0.5]), hessians=np.stack([np.eye(2), 2 * np.eye(2)]), sigma=1.0, step=0.1),
   {"hessians": [np.stack([np.eye(2), -np.eye(2)])]}, values="array", hessians="shaped", sigma="pos", step="pos",
   noise="option")
_e("gibbs.histogram_mass_near", lambda: dict(hist=_hist(), centers=np.zeros((2, 2)), delta=1.0),
   {"hist": [None, "a", np.ones((3, 3))]}, centers="shaped", delta="pos")
_e("gibbs.predicted_mass_outside",
   lambda: dict(hist=_hist(), centers=np.zeros((1, 2)), hessians=np.eye(2)[None], weights=np.ones(1), step=0.1,
                sigma=1.0, delta=1.0, rng=np.random.default_rng(0), n_mc=100),
   {"hist": [None, "a", np.ones((3, 3))], "rng": [None, 3, "a"]}, centers="shaped", hessians="shaped",
   weights="shaped", step="pos", sigma="pos", delta="pos", n_mc="steps")
_e("gibbs.compare_with_gibbs",
   lambda: dict(key=_key(), f=_himmelblau, sigma=1.0, step=0.005, n_chains=8, n_steps=8, n_bins=8),
   key="key", f="callable", sigma="pos", step="pos", noise="option", shift="real", n_chains="count",
   n_steps="steps", n_bins="count")

_e("energy.convergence_energy", lambda: dict(B=_costs(), target=[0], start=1),
   {**_NEG_COSTS, "target": [[3], [-1], [], 0.5, "a", None, True], "start": [3, -1, 1.5, "a", None, True, [1, 2]]},
   B="costs")
_e("energy.forest_weight", lambda: dict(B=_costs(), roots=[0]),
   {**_NEG_COSTS, "roots": [[3], [-1], [], 0.5, "a", None, True]}, B="costs")
_e("energy.transition_graph", lambda: dict(B=_costs()), _NEG_COSTS, B="costs")


def _sym_quadratic():
    import sympy

    x, y = sympy.symbols("x y")
    return dict(expr=(x**2 - 1) ** 2 + y**2, x=x, y=y)


_e("energy.critical_points", _sym_quadratic,
   {"x": [None, "a", 3], "y": [None, 3], "newton_steps": [-1, 2.5, math.nan, "a", None, True]})

_e("two_layer.relu", lambda: dict(t=np.linspace(-1, 1, 5)), t="array")
_e("two_layer.network", lambda: dict(params=_tl()[0], X=_tl()[1]),
   {"params": [None, "a", np.ones(3)], "mask": [np.ones(3), "a"]}, X="shaped", alpha="pos")
_e("two_layer.least_squares_loss", lambda: dict(params=_tl()[0], X=_tl()[1], y=_tl()[2]),
   {"params": [None, "a", np.ones(3)], "mask": [np.ones(3), "a"]}, X="shaped", y="shaped", alpha="pos")
_e("two_layer.ntk_gram", lambda: dict(params=_tl()[0], X=_tl()[1]),
   {"params": [None, "a", np.ones(3)], "width": [0, -1, 2.5, 9, "a", True]}, X="shaped", alpha="pos")
_e("two_layer.gram_from_jacobian", lambda: dict(F=lambda th: 2.0 * th[:2], theta=np.ones(3)), F="callable",
   theta="array")
_e("two_layer.lambda_min_vs_width", lambda: dict(key=_key(), X=_tl()[1], widths=[4, 8], n_seeds=2),
   {"widths": [[], [0], [2.5], "a", None, [10**12]]}, key="key", X="array", n_seeds="count")
_e("two_layer.laziness_vs_width",
   lambda: dict(key=_key(), X=_tl()[1], y=_tl()[2], widths=[4, 8], n_seeds=1, step=0.1, n_steps=5),
   {"widths": [[], [0], [2.5], "a", None]}, key="key", X="array", y="shaped", n_seeds="count", step="pos",
   n_steps="steps")
_e("two_layer.rate_vs_width",
   lambda: dict(params=_tl()[0], X=_tl()[1], y=_tl()[2], widths=[4, 8], step=0.1, n_steps=8, window=4),
   {"widths": [[], [0], [2.5], [16], "a", None], "params": [None, "a"]}, X="shaped", y="shaped", step="pos",
   n_steps="steps", window="count")


def _teacher_run():
    from course_lib import two_layer

    t = two_layer.teacher_problem(n=8)
    params = two_layer.init_symmetric(_key(9), 8, 0.1)
    return t, two_layer.particle_flow(params, t.X, t.y, dt=0.1, t_max=0.3, n_records=3)


_e("two_layer.particle_positions", lambda: dict(run=_teacher_run()[1]), {"run": [None, "a", np.ones((2, 3))]})
_e("two_layer.teacher_alignment", lambda: dict(run=_teacher_run()[1], teacher=_teacher_run()[0]),
   {"run": [None, "a", np.ones((2, 3))], "teacher": [None, "a", 3]}, max_angle_deg="pos")

_e("langevin.free_energy",
   lambda: dict(eta=_tl()[0].eta, W=_tl()[0].W, X=_tl()[1], y=_tl()[2], tau=0.1, lam=0.1),
   eta="shaped", W="shaped", X="shaped", y="shaped", tau="nonneg", lam="nonneg")
_e("langevin.stein_sides",
   lambda: dict(eta=_tl()[0].eta[None], W=_tl()[0].W[None], X=_tl()[1], y=_tl()[2], lam=0.1),
   eta="shaped", W="shaped", X="shaped", y="shaped", lam="nonneg")
_e("langevin.mean_field_langevin",
   lambda: dict(key=_key(), params=_tl()[0], X=_tl()[1], y=_tl()[2], tau=0.1, lam=0.1, dt=0.01, n_steps=4, every=2),
   {"params": [None, "a", np.ones(3)]}, key="key", X="shaped", y="shaped", tau="nonneg", lam="nonneg", dt="pos",
   n_steps="steps", every="count")

_e("implicit_bias.predicted_gd_limit", lambda: dict(A=np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]]), b=np.ones(2),
                                                    theta0=np.zeros(3)), A="array", b="shaped", theta0="shaped")
_e("implicit_bias.min_l1_solution", lambda: dict(A=np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]]), b=np.ones(2),
                                                 n_iter=50), A="array", b="shaped", n_iter="steps", rho="pos")
_SEP = dict(X=np.array([[1.0, 0.5], [2.0, 1.0], [-1.0, -0.2], [-1.5, -1.0]]), y=np.array([1.0, 1.0, -1.0, -1.0]))
_e("implicit_bias.max_margin_direction", lambda: dict(**_SEP), {"y": [np.array([1.0, 2.0, -1.0, -1.0])]},
   X="array", y="shaped", C="pos")
_e("implicit_bias.logistic_gd", lambda: dict(**_SEP, theta0=np.zeros(2), step=0.1, record_at=[1, 5, 10]),
   {"y": [np.array([1.0, 2.0, -1.0, -1.0])], "record_at": [[], [5, 1], [0.5], [-1], "a", None, [10**12]]},
   X="array", y="shaped", theta0="shaped", step="pos")

# ---------------------------------------------------------------- nonsmooth (more)
for _n in ("relu", "relu2", "relu3"):
    _e(f"nonsmooth.{_n}", lambda: dict(t=np.linspace(-1, 1, 5)), t="array")
_e("nonsmooth.relu_mixture", lambda: dict(t=np.linspace(-1, 1, 5), weight=0.25), t="array", weight="real")
_e("nonsmooth.zero", lambda: dict(x=np.linspace(-1, 1, 5)), x="array")
_e("nonsmooth.identity", lambda: dict(x=np.linspace(-1, 1, 5)), x="array")
_e("nonsmooth.scaled_zero", lambda: dict(x=np.linspace(-1, 1, 5), s=2.0), x="array", s="real")
_e("nonsmooth.backprop_derivative", lambda: dict(f=lambda t: abs(t), x=np.linspace(-1, 1, 5)), f="callable",
   x="array")
_e("nonsmooth.backprop_oracle", lambda: dict(f=_quad), f="callable")
_e("nonsmooth.interval_add", lambda: dict(a=np.array([-1.0, 1.0]), b=np.array([0.0, 2.0])), a="shaped", b="shaped")
_e("nonsmooth.contains", lambda: dict(interval=np.array([-1.0, 1.0]), v=0.5), interval="shaped", v="real",
   tol="nonneg")


def _lasso():
    from course_lib import nonsmooth

    return nonsmooth.lasso_problem(n=8, p=4, sparsity=2)


_NOT_LASSO = {"problem": [None, "a", 3, np.ones((2, 2))]}
_e("nonsmooth.lasso_objective", lambda: dict(w=np.zeros(4), problem=_lasso()), _NOT_LASSO, w="shaped")
_e("nonsmooth.lasso_subgradient", lambda: dict(w=np.zeros(4), problem=_lasso()), _NOT_LASSO, w="shaped")
_e("nonsmooth.lasso_solution", lambda: dict(problem=_lasso(), num_steps=20), _NOT_LASSO, num_steps="steps")
_e("nonsmooth.smoothed_lasso_descent", lambda: dict(problem=_lasso(), w0=np.zeros(4), mu=0.1, num_steps=10),
   _NOT_LASSO, w0="shaped", mu="pos", num_steps="steps")
_e("nonsmooth.chain_rule_residuals",
   lambda: dict(f=_quad, field=lambda x: x, curve=lambda t: t * np.ones(2), ts=np.linspace(0, 1, 5)),
   f="callable", field="callable", curve="callable", ts="array", h="pos")
_e("nonsmooth.path_integral_gap", lambda: dict(f=_quad, field=lambda x: x, curve=lambda t: t * np.ones(2), num=10),
   f="callable", field="callable", curve="callable", num="steps")


def _sym_abs():
    import sympy

    x = sympy.Symbol("x", real=True)
    return dict(expr=sympy.Abs(x), x=x, x0=0)


_e("nonsmooth.clarke_subdifferential_sympy", _sym_abs, {"x": [None, "a", 3], "x0": [math.nan, math.inf, "a", None, 1j]})

# ---------------------------------------------------------------- ode (more)
_STEPS = np.full(5, 0.1)
_e("ode.gradient_field", lambda: dict(objective=_quad), objective="callable")
_e("ode.flow_times", lambda: dict(steps=_STEPS), {"steps": [np.array([0.1, -0.1])]}, steps="array")
_e("ode.flow_at_times", lambda: dict(field=_field(), x0=np.ones(2), steps=_STEPS),
   {"field": [None, "a", 3], "steps": [np.array([0.1, -0.1])], "substeps": [10**12]}, x0="array", steps="array",
   substeps="count")
_e("ode.heavy_ball_flow", lambda: dict(field=_field(), x0=np.ones(2), delta=1.0, t_end=1.0, num_steps=10),
   {"field": [None, "a", 3]}, x0="array", delta="nonneg", t_end="pos", num_steps="steps")
_e("ode.heavy_ball_iterates", lambda: dict(field=_field(), x0=np.ones(2), step=0.1, beta=0.5, n_steps=5),
   {"field": [None, "a", 3]}, x0="array", step="pos", beta="unit", n_steps="steps")
_e("ode.interpolate", lambda: dict(ts=np.linspace(0, 1, 5), xs=np.ones((5, 2)), t=np.linspace(0, 1, 3)),
   {"ts": [np.array([0.0, 0.5, 0.2, 0.7, 1.0])], "xs": [np.ones((4, 2))]}, ts="shaped", xs="array", t="array")
_e("ode.order_line", lambda: dict(h=np.array([0.1, 0.05]), err=np.array([0.1, 0.05]), order=1.0),
   {"err": [np.array([0.1, -0.05])], "h": [np.array([0.1, -0.05])]}, h="array", err="shaped", order="real")
_e("ode.quadratic_sde_moments", lambda: dict(lam=1.0, eta=0.1, sigma=1.0, m0=1.0, t=np.linspace(0, 1, 5)),
   lam="pos", eta="pos", sigma="nonneg", m0="real", t="array")
_e("ode.quadratic_sgd_moments", lambda: dict(lam=1.0, eta=0.1, sigma=1.0, m0=1.0, k=np.arange(5)),
   {"k": [np.array([-1, 2]), np.array([0.5, 1.0])]}, lam="pos", eta="pos", sigma="nonneg", m0="real", k="array")
_e("ode.tracking_error", lambda: dict(iterates=np.ones((5, 2)), reference=np.zeros((5, 2))), iterates="array",
   reference="shaped")
_e("ode.window_errors",
   lambda: dict(field=_field(), iterates=np.ones((6, 2)), steps=np.full(5, 0.1), starts=np.array([0.0, 0.2]),
                horizon=0.2),
   {"field": [None, "a", 3], "starts": [np.array([-0.1]), np.array([0.45])], "horizon": [1.0]}, iterates="array",
   steps="shaped", horizon="pos", substeps="count")

# ---------------------------------------------------------------- attention
def _stack():
    from course_lib import attention

    return attention.init_attention_stack(_key(10), 2, 3)


def _tiny_transformer():
    from course_lib import attention

    return attention.init_transformer(_key(11), vocab=5, seq_len=4, d_model=8, n_layers=1, d_mlp=8)


_NOT_PARAMS = {"params": [None, "a", 3, {}]}
_W3 = np.eye(3)
_X43 = np.arange(12.0).reshape(4, 3) / 10.0
_e("attention.init_attention_stack", lambda: dict(key=_key(), depth=2, d=3), key="key", depth="count", d="count")
_e("attention.init_transformer", lambda: dict(key=_key(), vocab=5, seq_len=4, d_model=8, n_layers=1, d_mlp=8),
   {"n_out": [0, -1, 2.5, "a", True]}, key="key", vocab="count", seq_len="count", d_model="count",
   n_layers="count", d_mlp="count")
_e("attention.attention_matrix", lambda: dict(X=_X43, W_Q=_W3, W_K=_W3), X="array", W_Q="shaped", W_K="shaped")
_e("attention.self_attention", lambda: dict(X=_X43, W_Q=_W3, W_K=_W3, W_V=_W3), X="array", W_Q="shaped",
   W_K="shaped", W_V="shaped")
_DEPTH = {"depth": [-1, 2.5, 3, math.nan, "a", True]}
_e("attention.attention_stack", lambda: dict(params=_stack(), X=_X43), {**_NOT_PARAMS, **_DEPTH}, X="shaped",
   tau="nonneg", skip="real")
_e("attention.stack_gradient_norms", lambda: dict(params=_stack(), X=_X43, key=_key()), {**_NOT_PARAMS, **_DEPTH},
   X="shaped", key="key", tau="nonneg", skip="real")
_e("attention.apply_transformer", lambda: dict(params=_tiny_transformer(), tokens=np.array([[0, 1, 2, 3]])),
   {**_NOT_PARAMS, "tokens": [np.array([[0, 1, 2, 5]]), np.array([[0, 1, -1, 2]]), np.array([[0.5, 1, 2, 3]]),
                              np.zeros((1, 9), int), "a", None]})
_e("attention.group_norms", lambda: dict(tree=_tiny_transformer()), {"tree": [None, "a", 3],
                                                                     "groups": ["a", 3, {"Q": ("nope",)}]})
_e("attention.batch_norm", lambda: dict(H=_X43), H="array", gamma="real", beta="real", eps="pos")
_e("attention.distance_to_rank_one", lambda: dict(X=_X43), X="array")
_e("attention.mean_cosine", lambda: dict(X=_X43), X="array")
_e("attention.stable_rank", lambda: dict(X=_X43), X="array")
_e("attention.relu_cosine_map", lambda: dict(rho=np.linspace(-1, 1, 5)), {"rho": [np.array([1.5])]}, rho="array")
_e("attention.relu_cosine_prediction", lambda: dict(X=_X43, depth=3), X="array", depth="count")
_e("attention.relu_representations", lambda: dict(key=_key(), X=_X43, depth=2, width=4), key="key", X="array",
   depth="count", width="count")
_e("attention.uniform_attention_prediction", lambda: dict(X0=_X43, depths=np.arange(3), tau=0.5),
   {"depths": [np.array([-1]), np.array([0.5])]}, X0="array", tau="nonneg")

# ---------------------------------------------------------------- divergence, noise (more)
_e("divergence.check", lambda: dict(xs=np.ones((3, 2)), what="run"),
   {"what": [None, 3], "chain_axis": [5, "a", 1.5, 0], "radius": [0.0, -1.0, math.nan, "a", None, 1j, True]})
_e("divergence.report", lambda: dict(diverged=np.zeros(3, bool)),
   {"diverged": ["a", None], "diverged_at": ["a", np.zeros(5)]}, on_divergence="option")
_e("noise.given", lambda: dict(increments=np.ones((3, 2, 2))),
   {"clip": [0.0, -1.0, math.nan, "a", None, 1j, True], "increments": [np.ones((3, 2))]}, increments="array",
   sigma="nonneg")
_e("noise.state_dependent", lambda: dict(scale=_scale_fn), scale="callable")
_e("noise.draw", lambda: dict(noise=_gaussian(), key=_key(), t=0, shape=(2, 2), dtype=np.float32),
   {"noise": [None, "a", 3], "shape": ["a", None, (0, 2), (-1, 2), (2.5, 2)], "t": [-1, 2.5, "a", None]},
   key="key")
_e("noise.sample", lambda: dict(noise=_power_law(), key=_key(), X=np.ones((2, 2)), objective=_quad),
   {"noise": [None, "a", 3]}, key="key", X="array", objective="callable")

# ---------------------------------------------------------------- plotting, widgets, progress
def _fig():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    return fig


def _ax():
    return _fig().axes[0]


_NOT_FIG = {"fig": [None, "a", 3]}
_NOT_AX = {"ax": [None, "a", 3]}
_e("plotting.subplots", lambda: dict(nrows=1, ncols=2, width=3.0, height=2.0), nrows="count", ncols="count",
   width="pos", height="pos")
_e("plotting.use_course_style", lambda: dict())
_DPI = {"dpi": [0, -1, 2.5, math.nan, "a", True]}
_e("plotting.figure_png", lambda: dict(fig=_fig(), dpi=30), {**_NOT_FIG, **_DPI})
_e("plotting.alt_text", lambda: dict(fig=_fig()), _NOT_FIG)
_e("plotting.describe", lambda: dict(fig=_fig(), text="a line"), {**_NOT_FIG, "text": [None, 3, ""]})
_e("plotting.legible", lambda: dict(fig=_fig()), _NOT_FIG, column_px="pos")
_e("plotting.measured_vs_predicted",
   lambda: dict(ax=_ax(), x=np.array([1.0, 2.0, 4.0]), measured=np.array([1.0, 0.5, 0.25]),
                predicted=np.array([1.0, 0.5, 0.25]), xlabel="h", ylabel="error"),
   {**_NOT_AX, "xlabel": [None, 3],
    # NaN in measured/predicted is a missing point (drawn as a gap): only the other bad arrays are refused
    **{k: [COMPLEX_ARRAY, BOOL_ARRAY, EMPTY, WRONG_SHAPE, "a"] for k in ("measured", "predicted")},
    "measured": [np.array([1.0, -0.5, 0.25]), COMPLEX_ARRAY, BOOL_ARRAY, EMPTY, WRONG_SHAPE, "a"]},
   x="array")
_e("plotting.mark_points", lambda: dict(ax=_ax(), points=np.zeros((2, 2))), _NOT_AX, points="shaped", size="pos")
_e("plotting.paths", lambda: dict(ax=_ax(), xs=np.zeros((4, 2, 2))),
   {**_NOT_AX, "dims": [(0, 5), "a", None], "max_chains": [0, -1, 2.5, math.nan, "a", True]}, xs="array",
   linewidth="pos", alpha="unit")
_e("plotting.contour", lambda: dict(ax=_ax(), f=_himmelblau, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0), n_grid=10),
   {**_NOT_AX, "xlim": [(1.0, -1.0), (0.0, math.nan), "a", None], "ylim": [(1.0, 1.0), None]}, f="callable",
   n_grid="count")
_e("plotting.density", lambda: dict(ax=_ax(), values=np.linspace(0, 1, 20), bins=5), _NOT_AX, values="array",
   bins="count")
_e("plotting.histogram2d", lambda: dict(ax=_ax(), hist=_hist()), {**_NOT_AX, "hist": [None, "a", np.ones((2, 2))]},
   floor="pos")
_e("widgets.Slider", lambda: dict(min=0.0, max=1.0, step=0.1, value=0.5),
   {"max": [-1.0], "value": [2.0]}, min="real", max="real", step="pos", value="real")
_e("widgets.figure_to_png", lambda: dict(fig=_fig(), dpi=30), {**_NOT_FIG, **_DPI, "dpi": [None, *_DPI["dpi"]]})
_e("progress.show_progress", lambda: dict())
_e("progress.track", lambda: dict(iterable=[1, 2, 3], desc="steps", total=3),
   {"iterable": [None, 3], "total": [-1, 2.5, math.nan, "a", True], "desc": [None, "", 3]})
_e("noise.apply", lambda: dict(noise=_power_law(), draws=np.ones((2, 2)), X=np.ones((2, 2)), objective=_quad),
   {"noise": [None, "a", 3]}, draws="shaped", X="shaped", objective="callable")

# ---------------------------------------------------------------- figure functions of the widgets
def _sparse():
    from course_lib import implicit_bias

    return implicit_bias.sparse_recovery_problem(_key(12), 5, 8, 2)


def _ax3d():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(2, 2)).add_subplot(projection="3d")


_e("gradient_domination.draw_gd_vs_rate",
   lambda: dict(f=lambda x: x**2 / 2, c=1.0, L=1.0, x0=2.0, step=0.5, n_steps=5),
   {"xlim": [(1.0, -1.0), "a", None]}, f="callable", c="pos", L="pos", x0="real", step="pos", n_steps="steps")
_e("implicit_bias.draw_diagonal_network", lambda: dict(problem=_sparse(), log10_scale=-1.0, n_steps=100),
   {"problem": [None, "a", 3]}, log10_scale="real", n_steps="steps")
_e("nonsmooth.draw_formula_comparison", lambda: dict(formula_index=1, x0=0.0),
   {"formula_index": [-1, 4, 2.5, "a", None, True]}, x0="real", weight="real")
_e("plotting.surface", lambda: dict(ax3d=_ax3d(), f=_himmelblau, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0), n_grid=5),
   {"ax3d": [None, "a", 3], "xlim": [(1.0, -1.0), (0.0, math.nan), "a", None]}, f="callable", n_grid="count",
   alpha="unit")

REGISTRY: dict[str, Entry] = R

PENDING: list[str] = [
    # Entries still to be written: each is reported by tests/test_api_inputs.py (an honest gap, not a skip).
    "ad_cost.checkpointed_program",
    "ad_cost.compiled_memory",
    "ad_cost.deep_tanh_loss",
    "ad_cost.deep_tanh_params",
    "ad_cost.gradient_flop_ratio",
    "ad_cost.straight_line_curve",
    "ad_cost.straight_line_program",
    "ad_cost.time_call",
    "autodiff.Counts",
    "autodiff.Dual",
    "autodiff.ForwardResult",
    "autodiff.ReverseResult",
    "autodiff.Var",
    "autodiff.cos",
    "autodiff.exp",
    "autodiff.forward",
    "autodiff.grad",
    "autodiff.grad_forward",
    "autodiff.jax_ops",
    "autodiff.jvp",
    "autodiff.log",
    "autodiff.mlp_loss",
    "autodiff.product",
    "autodiff.random_program",
    "autodiff.relu",
    "autodiff.reverse",
    "autodiff.sin",
    "autodiff.sum",
    "autodiff.tanh",
    "chapters.adaptive.adagrad_bound",
    "chapters.adaptive.adagrad_nonconvex",
    "chapters.adaptive.decoupled_least_squares",
    "chapters.adaptive.gd_least_squares",
    "chapters.adaptive.least_squares_instance",
    "chapters.adaptive.linear_rate",
    "chapters.adaptive.reddi_limit_regret",
    "chapters.adaptive.reddi_online",
    "chapters.adaptive.train_tiny_transformer",
    "chapters.adaptive.tuned",
    "chapters.adaptive.zipf_reversal_batch",
    "chapters.exit_times.draw_hitting_distribution",
    "chapters.long_run.draw_gibbs_comparison",
    "chapters.long_run.two_well",
    "chapters.long_run.two_well_critical",
    "chapters.long_run.two_well_noise",
    "chapters.long_run.two_well_occupation",
    "chapters.long_run.two_well_stationary",
    "chapters.ode.double_well_field",
    "chapters.ode.draw_tracking",
    "chapters.ode.escape_study",
    "chapters.ode.heavy_ball_study",
    "chapters.ode.kink_filippov_solution",
    "chapters.ode.kink_objective",
    "chapters.ode.kink_study",
    "chapters.ode.kink_subgradient",
    "chapters.ode.sde_study",
    "chapters.ode.tracking_study",
    "chapters.ode.window_study",
    "chapters.two_layer.draw_rich_vs_lazy",
    "chapters.two_layer.draw_width_rate",
    "chapters.two_layer.width_rate",
    "exit_times.bad_minima_bound",
    "exit_times.basin_exits",
    "exit_times.boxplot_rate",
    "exit_times.driven_sgd",
    "exit_times.fit_rate",
    "exit_times.hitting_time_sweep",
    "exit_times.three_humps_basin",
    "gradebook.Student",
    "gradebook.export_canvas",
    "gradebook.export_moodle",
    "gradebook.main",
    "gradebook.match_submissions",
    "gradebook.read_roster",
    "gradebook.read_totals",
    "grading.SubmissionResult",
    "grading.autograder_questions",
    "grading.call_safely",
    "grading.check_array",
    "grading.check_number",
    "grading.grade_submissions",
    "grading.main",
    "grading.probe",
    "grading.summary",
    "grading.write_scores_csv",
    "networks.apply_mlp",
    "networks.augmentation_study",
    "networks.batch_dependence",
    "networks.load_digits",
    "networks.train",
    "networks.train_grid",
    "noise.NoiseModel",  # a record built by gaussian/power_law/...; those constructors are registered
    "optimizers.apply_updates",
    "optimizers.rotated_quadratic",
    "optimizers.with_l2",
    "simulate.Field",
    "simulate.chain_sharding",
    "stochastic.Problem",
    "stochastic.distance_floor",
    "stochastic.minibatch_gradients",
    "stochastic.relative_errors",
    "chapters.sgd.replacement_comparison",
    "chapters.sgd.sgd_grad_curve",
    "stochastic.sklearn_solution",
    "widgets.InteractiveFigure",  # takes a draw callback and Slider controls: covered by tests/test_widgets.py
    "widgets.interactive_figure",  # same as InteractiveFigure (callback + controls)
]
"""Public functions whose registry entry is not written yet: listed, reported, never silently skipped."""

NOT_YET_VALIDATED: set[str] = {
    # from `python tools/probe_inputs.py` at commit c46bdff: some bad input still gets through or gets an
    # unclear error; remove a name once its probe is all `named` (its strict test then runs)
    "ad_cost.fit_slope",
    "exit_times.chain_costs",
    "exit_times.three_humps_graph",
    "optimizers.continuous_limit",
    "optimizers.heavy_ball_rate",
    "optimizers.rotation",
    "simulate.hitting_times",
    "chapters.sgd.compare_methods",
    "stochastic.complexity",
    "stochastic.descent_bound",
    "stochastic.optimal_constant_step",
    "stochastic.run_method",
}
"""Registered functions known to let some bad input through (strict test is an expected failure)."""

INF_MEANS_NO_EDGE: set[str] = {
    "energy.check_costs",
    "energy.transition_costs",
    "exit_times.chain_costs",
    "exit_times.three_humps_graph",
}
"""Functions returning transition-cost matrices, where +inf is a value (no direct transition), never NaN."""
