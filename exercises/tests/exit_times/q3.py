from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_q3_grows_examples(grows):
    from course_lib.grading import GradingError, call_safely
    for vals, want in (([0.0, 1.0, 0.0], False), ([0.0, 1.0, 0.5], True), ([0.3], False), ([1.0, 2.0, 0.0, 3.0, 0.0], True)):
        got = call_safely('q3', grows, list(vals))
        if got is None:
            raise GradingError(f'q3: grows({vals}) returned None (did you forget `return`?)')
        if not isinstance(got, (bool, __import__('numpy').bool_)):
            raise GradingError(f'q3: grows({vals}) returned a {type(got).__name__}, expected True or False')
        if bool(got) != want:
            raise GradingError(f'q3: grows({vals}) returned {bool(got)}; log tau grows exactly when some local minimum is not global')

@test_case(points=None, hidden=False)
def test_q3_predict(predict):
    from course_lib.grading import GradingError
    if predict is Ellipsis:
        raise GradingError('q3: predict is still the placeholder `...`; replace it with a dict of four booleans')
    if not isinstance(predict, dict):
        raise GradingError(f'q3: predict should be a dict of four booleans, got {type(predict).__name__}')
    want = {'himmelblau': False, 'three_humps': True, 'rosenbrock': False, 'two_well': True}
    missing = sorted(set(want) - set(predict))
    if missing:
        raise GradingError(f'q3: predict has no entry for {missing}')
    wrong = sorted((k for k in want if predict[k] is Ellipsis or bool(predict[k]) != want[k]))
    if wrong:
        raise GradingError(f'q3: predict is wrong for {wrong}: are all of its local minima global?')

