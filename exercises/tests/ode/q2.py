from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_errors(tracking_errors, lams, theta0, T):
    import jax.numpy as jnp
    from course_lib import ode
    from course_lib.grading import call_safely, check_array
    alphas = jnp.array([0.1, 0.05])
    value = call_safely('q2', tracking_errors, alphas)
    field = lambda x: -lams * x
    expected = []
    for a in (0.1, 0.05):
        steps = jnp.full(int(round(T / a)), a)
        exact = jnp.exp(-lams * ode.flow_times(steps)[:, None]) * theta0
        expected.append(ode.tracking_error(ode.euler(field, theta0, steps), exact))
    check_array('q2', value, (2,), expected=jnp.array(expected), rtol=0.001, atol=1e-06, what='tracking_errors', at='alphas = [0.1, 0.05]')

@test_case(points=None, hidden=False)
def test_q2_order(order):
    from course_lib.grading import GradingError, check_number
    p = check_number('q2', order, what='order')
    if abs(p - 0.5) < 0.1:
        raise GradingError(f"q2: order = {p:.3g} is the order of the *noise* part; without noise Euler's error is of order 1")
    if not 0.8 <= p <= 1.2:
        raise GradingError(f"q2: order = {p:.3g} is far from the order of Euler's scheme; fit log(error) against log(alpha)")

