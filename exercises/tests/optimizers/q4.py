from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_q4_steps(adamax_step):
    import jax.numpy as jnp
    from course_lib import optimizers
    from course_lib.grading import GradingError, call_safely, check_array
    lr, b1, b2, eps = (0.1, 0.9, 0.999, 1e-08)
    ref = optimizers.adamax(lr, b1, b2, eps)
    theta = ref_theta = jnp.ones(3)
    state = ref.init(theta)
    m = u = jnp.zeros(3)
    grads = [jnp.array([1.0, -2.0, 0.5]), jnp.array([0.5, -4.0, 0.0]), jnp.array([-2.0, 1.0, -0.5])]
    for k, g in enumerate(grads, start=1):
        upd, state = ref.update(g, state, ref_theta)
        ref_theta = ref_theta + upd
        out = call_safely('q4', adamax_step, theta, m, u, g, k, lr, b1, b2, eps)
        if out is None:
            raise GradingError('q4: your function returned None; return the tuple (new_theta, new_m, new_u)')
        if not isinstance(out, tuple) or len(out) != 3:
            raise GradingError(f'q4: adamax_step should return a tuple (new_theta, new_m, new_u), got {type(out).__name__}')
        theta, m, u = out
        check_array('q4', u, (3,), expected=state.v, rtol=1e-05, atol=1e-07, at=f'step k = {k}', what='new_u (the discounted maximum of |g|)')
        check_array('q4', theta, (3,), expected=ref_theta, rtol=0.0001, atol=1e-06, at=f'step k = {k}', what='new_theta')

