from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_q3_from_zero(theta_from_zero, A, b):
    import jax.numpy as jnp
    from course_lib.grading import GradingError, check_array
    th = check_array('q3', theta_from_zero, (10,), what='theta_from_zero')
    if float(jnp.linalg.norm(A @ th - b)) > 0.01:
        raise GradingError('q3: theta_from_zero does not solve A theta = b; run more steps or check your update')
    check_array('q3', th, (10,), expected=jnp.linalg.pinv(A) @ b, atol=0.001, rtol=0.001, what='theta_from_zero (it interpolates, but is it the minimum-norm solution?)')

@test_case(points=None, hidden=False)
def test_q3_from_start_shape(theta_from_start):
    from course_lib.grading import check_array
    check_array('q3', theta_from_start, (10,), what='theta_from_start')

