from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_q3_stays_on_the_kink(sliding_solution):
    from course_lib.grading import GradingError, call_safely, check_array
    for t in (0.0, 0.5, 2.0):
        value = check_array('q3', call_safely('q3', sliding_solution, -1.0, t), (2,), what='sliding_solution', at=f'x1 = -1, t = {t}')
        if abs(value[1]) > 1e-06:
            raise GradingError(f'q3: at t = {t} your solution has theta_2 = {value[1]:.4g}; a sliding solution stays on the kink theta_2 = 0')

@test_case(points=None, hidden=False)
def test_q3_against_exact(sliding_solution, kink):
    import jax.numpy as jnp
    from course_lib import ode
    from course_lib.chapters import ode as ode_ch
    from course_lib.grading import call_safely, check_array
    for t in (0.0, 0.3, 1.0, 3.0):
        value = call_safely('q3', sliding_solution, -1.0, t)
        expected = ode_ch.kink_filippov_solution(kink, jnp.array([-1.0, 0.0]), jnp.array([t]))[0]
        check_array('q3', value, (2,), expected=expected, rtol=0.0001, atol=1e-05, what='sliding_solution', at=f'x1 = -1, t = {t}')

@test_case(points=None, hidden=False)
def test_q3_limit(x1_limit):
    from course_lib.grading import check_number
    check_number('q3', x1_limit, expected=0.5, rtol=0.0001, what='x1_limit')

