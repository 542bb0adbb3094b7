from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_q3_bn_small_batch(bn):
    import jax.numpy as jnp
    import numpy as np
    from course_lib import attention
    from course_lib.grading import GradingError, call_safely, check_array

    def check(H, label):
        H = np.asarray(H, dtype=float)
        out = check_array('q3', call_safely('q3', bn, jnp.asarray(H), 1e-05), H.shape, at=label, what='bn')
        want = np.asarray(attention.batch_norm(H, eps=1e-05))
        rows = (H - H.mean(axis=1, keepdims=True)) / np.sqrt(H.var(axis=1, keepdims=True) + 1e-05)
        if np.allclose(out, rows, atol=0.0001) and (not np.allclose(rows, want, atol=0.0001)):
            raise GradingError('q3: bn standardises each row (that is layer normalization); batch norm standardises each column over the batch (axis=0)')
        unbiased = (H - H.mean(axis=0)) / np.sqrt(H.var(axis=0, ddof=1) + 1e-05)
        if np.allclose(out, unbiased, atol=0.0001) and (not np.allclose(unbiased, want, atol=0.0001)):
            raise GradingError("q3: bn divides by the unbiased variance (n - 1); batch norm uses the batch's biased variance (divide by n)")
        check_array('q3', out, H.shape, expected=want, rtol=0.0001, atol=0.0001, at=label, what='bn')
    check([[1.0, 2.0], [3.0, -1.0], [2.0, 5.0], [0.0, 0.0]], 'H = [[1, 2], [3, -1], [2, 5], [0, 0]]')

@test_case(points=None, hidden=False)
def test_q3_scale_gap_is_a_number(scale_gap):
    from course_lib.grading import GradingError, check_number
    g = check_number('q3', scale_gap, what='scale_gap')
    if g > 0.001:
        raise GradingError(f'q3: scale_gap = {g:.3g} is not small: bn(H @ W) and bn(H @ (10 * W)) should agree up to rounding and eps')

