from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_q3_relative_move(relative_move):
    import jax.numpy as jnp
    from course_lib.grading import call_safely, check_number
    W0 = jnp.array([[3.0, 0.0], [0.0, 4.0]])
    W1 = jnp.array([[3.0, 1.0], [0.0, 4.0]])
    check_number('q3', call_safely('q3', relative_move, W0, W1), expected=0.2, rtol=1e-05, what='relative_move(W0, W1) with ||W1 - W0|| = 1, ||W0|| = 5')

@test_case(points=None, hidden=False)
def test_q3_regime_format(regime):
    from course_lib.grading import GradingError
    if regime is Ellipsis:
        raise GradingError('q3: regime is still the placeholder `...`; replace it with your dict')
    if regime is None:
        raise GradingError('q3: regime is not defined; run the cell that computes it (and fix any error it shows)')
    if not isinstance(regime, dict):
        raise GradingError(f"q3: regime should be a dict {{alpha: 'lazy' or 'rich'}}, got a {type(regime).__name__}")
    if set(regime) != {1.0, 300.0}:
        raise GradingError(f'q3: regime should have the keys 1.0 and 300.0, got {sorted(regime)}')
    bad = {k: v for k, v in regime.items() if v not in ('lazy', 'rich')}
    if bad:
        raise GradingError(f"q3: the values of regime must be the strings 'lazy' or 'rich', got {bad}")

