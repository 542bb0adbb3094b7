from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_q3_function(cheapest):
    from course_lib.grading import GradingError, call_safely
    for args, want in (((1000000.0, 1000.0, 1e-06), 'vr'), ((1000000.0, 1000.0, 0.1), 'sgd')):
        got = call_safely('q3', cheapest, *args)
        if got not in ('gd', 'sgd', 'vr'):
            raise GradingError(f"q3: cheapest{args} returned {got!r}; return one of 'gd', 'sgd', 'vr'")
        if got != want:
            raise GradingError(f'q3: cheapest{args} returned {got!r}, which the table does not predict to be cheapest')

@test_case(points=None, hidden=False)
def test_q3_answers(answers):
    from course_lib.grading import GradingError
    if answers is Ellipsis:
        raise GradingError('q3: answers is still the placeholder `...`')
    if not isinstance(answers, (list, tuple)) or len(answers) != 3:
        raise GradingError(f'q3: answers should be a list of three names, got {answers!r}')
    if any((a not in ('gd', 'sgd', 'vr') for a in answers)):
        raise GradingError(f"q3: answers should contain only 'gd', 'sgd' or 'vr', got {list(answers)!r}")

