from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=None, hidden=False)
def test_q2_example(steps_needed):
    from course_lib.grading import GradingError, call_safely, check_number
    value = call_safely('q2', steps_needed, 0.02, 0.5, 2.0, 1e-06)
    k = check_number('q2', value, what='steps_needed(0.02, 0.5, 2.0, 1e-6)')
    if k != round(k):
        raise GradingError(f'q2: steps_needed(0.02, 0.5, 2.0, 1e-6) = {k:g} is not a whole number of steps; round up')
    if k in (1443, 1444, 1445):
        raise GradingError(f'q2: steps_needed(0.02, 0.5, 2.0, 1e-6) = {k}: the bound has exponent 2k, not k')
    check_number('q2', k, expected=722, atol=0, what='steps_needed(0.02, 0.5, 2.0, 1e-6)')

@test_case(points=None, hidden=False)
def test_q2_already_small(steps_needed):
    from course_lib.grading import call_safely, check_number
    check_number('q2', call_safely('q2', steps_needed, 0.1, 1.0, 1e-08, 1e-06), expected=0, atol=0, what='steps_needed(0.1, 1.0, 1e-8, 1e-6)')

