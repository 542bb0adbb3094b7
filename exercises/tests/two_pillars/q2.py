from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_formula(minibatch_grad, problem):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from course_lib.grading import call_safely, check_array
    x = np.array([0.5, -1.0, 2.0])
    idx = np.array([3, 17, 17, 0])
    value = call_safely('q2', minibatch_grad, problem, jnp.asarray(x), jnp.asarray(idx))
    A, b = (np.asarray(problem.features)[idx], np.asarray(problem.targets)[idx])
    expected = A.T @ (A @ x - b) / len(idx) + float(problem.reg) * x
    check_array('q2', value, (3,), expected=expected, at=f'x = {x}, idx = {idx}')

@test_case(points=None, hidden=False)
def test_q2_unbiased(minibatch_grad, problem):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_array
    x = np.array([0.5, -1.0, 2.0])
    singles = [call_safely('q2', minibatch_grad, problem, jnp.asarray(x), jnp.array([i])) for i in range(problem.n)]
    for g in singles:
        check_array('q2', g, (3,), what='minibatch_grad with a batch of one index')
    average = np.mean([np.asarray(g, dtype=float) for g in singles], axis=0)
    A, b = (np.asarray(problem.features), np.asarray(problem.targets))
    check_array('q2', average, (3,), expected=A.T @ (A @ x - b) / problem.n + float(problem.reg) * x, what='the average of minibatch_grad over all n single-index batches (it should be the full gradient)')

