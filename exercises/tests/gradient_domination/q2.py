from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_rate(predicted_rate):
    from course_lib.grading import GradingError, call_safely, check_number
    rho = check_number('q2', call_safely('q2', predicted_rate, 0.5, 8.0, 0.1), what='predicted_rate(0.5, 8.0, 0.1)')
    if abs(rho - 0.95) < 1e-06:
        raise GradingError('q2: predicted_rate(0.5, 8.0, 0.1) = 0.95 = 1 - c alpha: you left out the factor (1 - L alpha / 2) from the descent lemma')
    check_number('q2', rho, expected=0.97, rtol=1e-06, what='predicted_rate(0.5, 8.0, 0.1)')

@test_case(points=None, hidden=False)
def test_q2_steps(steps_needed):
    from course_lib.grading import GradingError, call_safely, check_number
    k = call_safely('q2', steps_needed, 0.5, 8.0, 1e-06)
    if isinstance(k, bool) or not isinstance(k, int):
        raise GradingError(f'q2: steps_needed should return a Python int, got a {type(k).__name__}: {k!r}')
    if k == 435:
        raise GradingError('q2: steps_needed(0.5, 8.0, 1e-6) = 435, but rho^435 > 1e-6: round up, not down')
    check_number('q2', k, expected=436, rtol=0, atol=0, what='steps_needed(0.5, 8.0, 1e-6)')

