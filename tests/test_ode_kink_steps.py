"""The ODE chapter's constant- vs vanishing-step comparison at a kink, at a small size.

Constant steps: the subgradient iterates zigzag across the kink at a distance
alpha * max(|g+|, |g-|) from the critical point; vanishing steps converge to it.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from course_lib import ode
from course_lib.chapters import ode as ode_ch

KINK = ode_ch.Kink(jnp.array([[1.0, 0.5], [0.5, 1.0]]), jnp.array([1.0, 0.3]), 1.0)
Y0 = jnp.array([-1.0, 1.5])


def _field(th):
    return -ode_ch.kink_subgradient(th, KINK)


def test_constant_steps_zigzag_at_a_distance_linear_in_the_step_vanishing_steps_converge():
    theta_star = ode_ch.kink_filippov_solution(KINK, Y0, jnp.array([0.0, 60.0]))[-1]
    np.testing.assert_allclose(theta_star, [1.0, 0.0], atol=1e-5)
    g = float((KINK.A @ theta_star - KINK.b)[1])
    zigzag = max(abs(g + KINK.w), abs(g - KINK.w))
    n = 2000
    plateaus = []
    for a in (0.1, 0.05, 0.02):
        d = np.linalg.norm(np.asarray(ode.euler(_field, Y0, jnp.full(n, a)) - theta_star), axis=1)
        plateaus.append(d[-500:].max())
        assert d[-500:].min() > 0.0               # never stops on the kink
    np.testing.assert_allclose(plateaus, zigzag * np.array([0.1, 0.05, 0.02]), rtol=0.02)
    vanishing = 0.1 / np.arange(1, n + 1) ** 0.6
    d = np.linalg.norm(np.asarray(ode.euler(_field, Y0, jnp.asarray(vanishing, jnp.float32)) - theta_star), axis=1)
    assert d[-1] < 0.5 * d[1000] and d[-1] < plateaus[-1]
