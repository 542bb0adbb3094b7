"""Bad input to a public function gets a named error, never a silent NaN, a wrong answer or a hang.

The valid calls and the kind of each argument come from ``tests/api_registry.py``;
hypothesis draws, for each registered function, bad values for one argument at a
time (NaN, inf, zero or negative where a positive number belongs, strings, None,
complex and bool values, empty or wrongly shaped arrays, unknown option names,
an int where a PRNG key belongs, fractional and huge counts) and asserts a
``ValueError``/``TypeError`` whose message names that argument.

``tools/probe_inputs.py`` runs every bad value of every function (with timeouts)
and prints the counts by class; this test is the fast, always-on version.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import api_registry as reg

NAMES = sorted(reg.REGISTRY)

_SETTINGS = settings(max_examples=3, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))


def test_every_public_function_is_registered():
    public = reg.public_functions()
    missing = sorted(set(public) - set(reg.REGISTRY) - set(reg.PENDING))
    assert not missing, (
        f"{len(missing)} public function(s) of course_lib have no entry in tests/api_registry.py: {missing}. "
        "Add one per function, e.g. "
        "_e(\"module.name\", lambda: dict(<valid keyword arguments, small sizes>), arg=\"pos\", n=\"steps\", ...) "
        "-- kinds are listed in api_registry.BAD_VALUES -- and validate those arguments with course_lib._checks.")
    stale = sorted((set(reg.REGISTRY) | set(reg.PENDING)) - set(public))
    assert not stale, f"tests/api_registry.py names functions that are not public (renamed or removed?): {stale}"
    both = sorted(set(reg.REGISTRY) & set(reg.PENDING))
    assert not both, f"registered functions still listed in PENDING (remove them there): {both}"
    assert reg.NOT_YET_VALIDATED <= set(reg.REGISTRY), sorted(reg.NOT_YET_VALIDATED - set(reg.REGISTRY))


def test_registry_pending_entries():
    """Reports (as an expected failure) the public functions whose registry entry is still to be written."""
    if reg.PENDING:
        pytest.xfail(f"{len(reg.PENDING)} public functions have no valid-call entry yet (api_registry.PENDING): "
                     + ", ".join(reg.PENDING))


def _finite(obj, depth: int = 0) -> bool:
    if depth > 6:
        return True
    if isinstance(obj, dict):
        return all(_finite(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite(v, depth + 1) for v in obj)
    try:
        a = np.asarray(obj)
    except Exception:  # noqa: BLE001 -- not an array
        return True
    return bool(np.all(np.isfinite(a))) if a.dtype.kind in "fc" else True


def _no_inf(obj, depth: int = 0):
    """``obj`` with +inf entries of float arrays replaced by 0 (NaN and -inf kept, so they still fail)."""
    if depth > 6:
        return obj
    if isinstance(obj, dict):
        return {k: _no_inf(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_no_inf(v, depth + 1) for v in obj]
    try:
        a = np.asarray(obj)
    except Exception:  # noqa: BLE001 -- not an array
        return obj
    return np.where(a == np.inf, 0.0, a) if a.dtype.kind == "f" else obj


@pytest.mark.parametrize("name", NAMES)
def test_valid_call(name):
    """Every registered function runs once on its valid arguments and returns finite numbers."""
    entry = reg.REGISTRY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a valid call must not diverge or overflow
        out = reg.call(name, entry.make())
    if name in reg.INF_MEANS_NO_EDGE:  # +inf is a cost (no transition); NaN is still a failure
        out = _no_inf(out)
    assert _finite(out), f"{name} returned NaN/inf on valid input"


def _bad_test(name):
    entry = reg.REGISTRY[name]
    calls = reg.bad_calls(name, entry, soft=False)

    @_SETTINGS
    @given(st.sampled_from(calls))
    def check(call):
        arg, value, _ = call
        kwargs = entry.make()
        kwargs[arg] = reg.materialize(value, kwargs.get(arg))
        with pytest.raises((ValueError, TypeError)) as info:
            reg.call(name, kwargs)
        msg = str(info.value).replace("`", "").replace("'", "")
        assert arg in msg, f"{name}({arg}={value!r}) raised an error that does not name {arg!r}: {info.value}"

    return check


def _bad_params():
    out = []
    for name in NAMES:
        if not reg.REGISTRY[name].kinds and not reg.REGISTRY[name].extra:
            continue
        marks = []
        if name in reg.NOT_YET_VALIDATED:
            marks.append(pytest.mark.xfail(run=False, reason="some bad inputs still get through "
                                                             "(api_registry.NOT_YET_VALIDATED; see tools/probe_inputs.py)"))
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.parametrize("name", _bad_params())
def test_bad_input_named_error(name):
    _bad_test(name)()


def test_materialize_builds_the_bad_values():
    valid = np.ones((2, 3))
    assert reg.materialize(reg.WRONG_SHAPE, valid).shape == (2, 4)
    assert reg.materialize(reg.EMPTY, valid).size == 0
    assert np.iscomplexobj(reg.materialize(reg.COMPLEX_ARRAY, valid))
    assert reg.materialize(reg.BOOL_ARRAY, valid).dtype == bool
    assert math.isnan(reg.materialize(reg.NAN_ARRAY, valid)[0, 0])
    assert reg.materialize(3.0, valid) == 3.0
