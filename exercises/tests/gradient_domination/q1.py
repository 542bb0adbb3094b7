from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_ratio_values(pl_ratio_f):
    import jax.numpy as jnp
    from course_lib.grading import call_safely, check_array
    x = jnp.array([-3.0, -1.0, 0.5, 2.0])
    fx = x ** 2 + 2 * jnp.sin(x) ** 2
    expected = (2 * x + 2 * jnp.sin(2 * x)) ** 2 / fx
    value = call_safely('q1', pl_ratio_f, x)
    check_array('q1', value, (4,), expected=expected, rtol=0.001, at=f'x = {x}', what='pl_ratio_f')

@test_case(points=None, hidden=False)
def test_q1_c_hat(c_hat):
    import jax.numpy as jnp
    from course_lib.grading import GradingError, check_number
    c = check_number('q1', c_hat, what='c_hat')
    x = jnp.linspace(-10.0, 10.0, 20001)
    x = x[x != 0.0]
    ratio = (2 * x + 2 * jnp.sin(2 * x)) ** 2 / (x ** 2 + 2 * jnp.sin(x) ** 2)
    best = float(jnp.min(ratio))
    if c <= 0:
        raise GradingError(f'q1: c_hat = {c:.6g}; a PL constant must be positive')
    if c > best * (1 + 0.001):
        worst = float(x[jnp.argmin(ratio)])
        raise GradingError(f'q1: c_hat = {c:.6g} is larger than the PL ratio at x = {worst:.4g} ({best:.6g}); the constant must lie below the ratio at every point: take the minimum')
    check_number('q1', c, expected=best, rtol=0.001, what='c_hat (the best constant on the grid)')

