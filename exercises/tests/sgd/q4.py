from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_q4_one_step(sarah_step):
    import jax
    import jax.numpy as jnp
    from course_lib import stochastic
    from course_lib.grading import GradingError, call_safely, check_array
    p = stochastic.make_problem(jax.random.PRNGKey(2), 'least_squares', 8, 3, ncvx=1.0)
    theta, theta_prev = (jnp.array([0.5, -1.0, 2.0]), jnp.array([0.4, -0.8, 1.5]))
    v_prev = p.grad(theta_prev)
    out = call_safely('q4', sarah_step, p, theta, theta_prev, v_prev, 5, 0.1)
    if not isinstance(out, tuple) or len(out) != 2:
        raise GradingError(f'q4: sarah_step should return a pair (new_theta, v), got {type(out).__name__}')
    G, Gp = (p.example_grads(theta), p.example_grads(theta_prev))
    v = check_array('q4', out[1], (3,), what='v')
    if abs(v - G[5]).max() < 1e-05:
        raise GradingError('q4: v is a plain stochastic gradient; SARAH adds v_prev - grad_i(theta_prev)')
    if abs(v - (G[5] - Gp[5] + p.grad(theta))).max() < 1e-05:
        raise GradingError('q4: v uses the full gradient at theta (that is SVRG-like); add v_prev instead')
    check_array('q4', v, (3,), expected=G[5] - Gp[5] + v_prev, atol=1e-05, what='v')
    check_array('q4', out[0], (3,), expected=theta - 0.1 * (G[5] - Gp[5] + v_prev), atol=1e-05, what='new_theta')

