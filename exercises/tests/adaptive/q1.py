from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_large_then_small_gradients(amsgrad_step):
    import jax.numpy as jnp
    from course_lib import optimizers
    from course_lib.grading import GradingError, call_safely, check_array

    def compare(grads, theta0, lr, b1, b2, eps, label):
        ref = optimizers.amsgrad(lr, b1, b2, eps)
        theta = ref_theta = jnp.asarray(theta0, dtype=float)
        state = ref.init(theta)
        m = v = v_max = jnp.zeros_like(theta)
        adam = optimizers.adam(lr, b1, b2, eps)
        adam_theta, adam_state = (theta, adam.init(theta))
        for k, g in enumerate(grads, start=1):
            g = jnp.asarray(g, dtype=float)
            u, state = ref.update(g, state, ref_theta)
            ref_theta = ref_theta + u
            ua, adam_state = adam.update(g, adam_state, adam_theta)
            adam_theta = adam_theta + ua
            out = call_safely('q1', amsgrad_step, theta, m, v, v_max, g, k, lr, b1, b2, eps)
            if out is None:
                raise GradingError('q1: your function returned None; return the tuple (new_theta, new_m, new_v, new_v_max)')
            if not isinstance(out, tuple) or len(out) != 4:
                raise GradingError(f'q1: amsgrad_step should return a tuple (new_theta, new_m, new_v, new_v_max), got {type(out).__name__}' + (f' of length {len(out)}' if isinstance(out, tuple) else ''))
            theta, m, v, v_max = out
            th = check_array('q1', theta, ref_theta.shape, at=f'step k = {k} ({label})', what='new_theta')
            if k > 1 and (not jnp.allclose(ref_theta, adam_theta, rtol=0.0001, atol=1e-06)) and jnp.allclose(th, adam_theta, rtol=0.0001, atol=1e-06):
                raise GradingError(f"q1: at step k = {k} ({label}) your step is Adam's: keep the running maximum v_max = max(v_max, v / (1 - b2**k)) and divide by its square root")
            check_array('q1', th, ref_theta.shape, expected=ref_theta, rtol=0.0001, atol=1e-06, at=f'step k = {k} ({label})', what='new_theta')
    grads = [[5.0, -2.0, 0.5], [0.1, -0.1, 0.0], [0.2, 0.1, -0.5], [0.1, 0.1, 0.1]]
    compare(grads, [1.0, 1.0, 1.0], 0.1, 0.9, 0.999, 1e-08, 'lr=0.1, b1=0.9, b2=0.999')

