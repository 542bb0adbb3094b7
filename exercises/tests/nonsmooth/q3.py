from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_q3_stopping_point(x_stop):
    from course_lib.grading import GradingError, check_number
    x = check_number('q3', x_stop, what='x_stop')
    if abs(x - 3.0) < 1e-06:
        raise GradingError('q3: x_stop = 3 is the true minimiser of J; run the iteration with jax.grad: backprop stops it earlier, at a point that is not a minimiser')
    check_number('q3', x, expected=1.0, atol=1e-06, what='x_stop')

@test_case(points=None, hidden=False)
def test_q3_clarke_shape(clarke_at_stop):
    from course_lib.grading import check_array
    check_array('q3', clarke_at_stop, (2,), what='clarke_at_stop')

