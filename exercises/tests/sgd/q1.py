from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_unconstrained(best_step):
    from course_lib.grading import GradingError, call_safely, check_number
    from course_lib import stochastic
    expected = stochastic.optimal_constant_step(999, 10.0, 2.0, 50.0)
    got = check_number('q1', call_safely('q1', best_step, 999, 10.0, 2.0, 50.0), what='best_step(999, 10.0, 2.0, 50.0)')
    if abs(got - 2 * expected) < 0.001 * expected or abs(got - expected / 2) < 0.001 * expected:
        raise GradingError(f'q1: best_step(999, 10.0, 2.0, 50.0) = {got:.6g} is off by a factor 2; redo the derivative of B')
    if abs(got - 1.0 / 2.0) < 1e-09:
        raise GradingError('q1: best_step(999, 10.0, 2.0, 50.0) returned 1/L, but here the minimiser of B is smaller than 1/L')
    check_number('q1', got, expected=expected, rtol=0.0001, what='best_step(999, 10.0, 2.0, 50.0)')

@test_case(points=None, hidden=False)
def test_q1_capped(best_step):
    from course_lib.grading import GradingError, call_safely, check_number
    got = check_number('q1', call_safely('q1', best_step, 0, 1000000.0, 2.0, 0.001), what='best_step(0, 1e6, 2.0, 1e-3)')
    if got > 0.5 + 1e-09:
        raise GradingError(f'q1: best_step(0, 1e6, 2.0, 1e-3) = {got:.6g} exceeds 1/L = 0.5; the bound needs alpha <= 1/L')
    check_number('q1', got, expected=0.5, rtol=1e-06, what='best_step(0, 1e6, 2.0, 1e-3)')

