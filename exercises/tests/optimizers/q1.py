from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_first_steps(adam_step):
    import jax.numpy as jnp
    from course_lib import optimizers
    from course_lib.grading import GradingError, call_safely, check_array

    def compare(grads, theta0, lr, b1, b2, eps, label):
        ref = optimizers.adam(lr, b1, b2, eps)
        theta = ref_theta = jnp.asarray(theta0)
        state = ref.init(theta)
        m = v = jnp.zeros_like(theta)
        for k, g in enumerate(grads, start=1):
            u, state = ref.update(g, state, ref_theta)
            ref_theta = ref_theta + u
            out = call_safely('q1', adam_step, theta, m, v, g, k, lr, b1, b2, eps)
            if out is None:
                raise GradingError('q1: your function returned None; return the tuple (new_theta, new_m, new_v)')
            if not isinstance(out, tuple) or len(out) != 3:
                raise GradingError(f'q1: adam_step should return a tuple (new_theta, new_m, new_v), got {type(out).__name__}')
            theta, m, v = out
            th = check_array('q1', theta, ref_theta.shape, at=f'step k = {k} ({label})', what='new_theta')
            if k == 1:
                first = float(jnp.abs(th - theta0).max()) / lr
                ratio = (1 - b1) / (1 - b2) ** 0.5
                if abs(first - ratio) < 0.001 * ratio:
                    raise GradingError(f'q1: your first step is {ratio:.3g} times alpha, not alpha: divide m by 1 - b1**k and v by 1 - b2**k (the bias correction)')
            check_array('q1', th, ref_theta.shape, expected=ref_theta, rtol=0.0001, atol=1e-06, at=f'step k = {k} ({label})', what='new_theta')
    grads = [jnp.array([1.0, -2.0, 0.5]), jnp.array([0.5, -1.0, 0.0]), jnp.array([2.0, 1.0, -0.5])]
    compare(grads, jnp.ones(3), 0.1, 0.9, 0.999, 1e-08, 'lr=0.1, b1=0.9, b2=0.999')

