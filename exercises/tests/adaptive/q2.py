from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_small_matrices(rank_one_distance, stable_rank):
    import jax.numpy as jnp
    import numpy as np
    from course_lib import attention
    from course_lib.grading import GradingError, call_safely, check_number

    def check(X, label):
        X = np.asarray(X, dtype=float)
        d = check_number('q2', call_safely('q2', rank_one_distance, jnp.asarray(X)), what=f'rank_one_distance({label})')
        want = float(attention.distance_to_rank_one(X))
        if abs(d - 1.0) < 1e-06 and want < 0.99:
            raise GradingError(f'q2: rank_one_distance({label}) = 1: subtract the mean token (the mean of the rows) before the norm')
        cols = float(np.linalg.norm(X - X.mean(axis=1, keepdims=True)) / np.linalg.norm(X))
        if abs(d - cols) < 1e-05 and abs(cols - want) > 0.0001:
            raise GradingError(f'q2: rank_one_distance({label}) subtracts the mean of each row (axis=1); the mean token is the mean over the rows, X.mean(axis=0)')
        if abs(d - want ** 2) < 1e-05 and abs(want - want ** 2) > 0.0001:
            raise GradingError(f'q2: rank_one_distance({label}) = {d:.4g} is the squared ratio; take the ratio of the norms')
        check_number('q2', d, expected=want, rtol=0.0001, atol=1e-06, what=f'rank_one_distance({label})')
        r = check_number('q2', call_safely('q2', stable_rank, jnp.asarray(X)), what=f'stable_rank({label})')
        s = np.linalg.svd(X, compute_uv=False)
        if abs(r - s.sum() / s[0]) < 0.0001 and abs(s.sum() / s[0] - (s ** 2).sum() / s[0] ** 2) > 0.001:
            raise GradingError(f'q2: stable_rank({label}) = {r:.4g} uses the singular values, not their squares')
        check_number('q2', r, expected=float(attention.stable_rank(X)), rtol=0.0001, what=f'stable_rank({label})')
    check([[1.0, 2.0], [3.0, 0.0], [2.0, 1.0]], '[[1, 2], [3, 0], [2, 1]]')
    check([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]], '[[2, 0, 0], [0, 1, 0]]')

@test_case(points=None, hidden=False)
def test_q2_distances_shape(distances):
    from course_lib.grading import GradingError, check_array
    if distances is Ellipsis:
        raise GradingError('q2: distances is still the placeholder `...`')
    check_array('q2', distances, (9,), what='distances')

