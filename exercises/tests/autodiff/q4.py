from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 3

@test_case(points=None, hidden=False)
def test_q4_structure(safe_norm_fwd, safe_norm_bwd):
    import jax.numpy as jnp
    from course_lib.grading import GradingError, call_safely, check_array, check_number
    x = jnp.array([3.0, 4.0])
    out = call_safely('q4', safe_norm_fwd, x)
    if out is None:
        raise GradingError('q4: safe_norm_fwd returned None (did you forget `return`?)')
    if not isinstance(out, tuple) or len(out) != 2:
        raise GradingError(f'q4: safe_norm_fwd must return a pair (value, residuals), got a {type(out).__name__}')
    check_number('q4', out[0], expected=5.0, what='the value returned by safe_norm_fwd at x = [3, 4]')
    g = call_safely('q4', safe_norm_bwd, out[1], jnp.asarray(2.0))
    if g is None:
        raise GradingError('q4: safe_norm_bwd returned None (did you forget `return`?)')
    if not isinstance(g, tuple) or len(g) != 1:
        raise GradingError(f'q4: safe_norm_bwd must return a tuple with one cotangent per input, like `(g,)`; got a {type(g).__name__}')
    check_array('q4', g[0], (2,), expected=jnp.array([1.2, 1.6]), what='safe_norm_bwd', at='x = [3, 4] with cotangent u = 2')

@test_case(points=None, hidden=False)
def test_q4_gradient_and_zero(safe_norm_fwd, safe_norm_bwd):
    import jax
    import jax.numpy as jnp
    from course_lib.grading import GradingError, call_safely, check_array, probe

    @probe(name='safe_norm')
    def safe_norm_grads(safe_norm_fwd, safe_norm_bwd, mode, x, u=1.0):
        import jax
        import jax.numpy as jnp
        norm = jax.custom_vjp(lambda x: jnp.sqrt(jnp.sum(x ** 2)))
        norm.defvjp(safe_norm_fwd, safe_norm_bwd)
        if mode == 'grad':
            return jax.grad(norm)(x)
        if mode == 'jit_grad':
            return jax.jit(jax.grad(norm))(x)
        if mode == 'jit_vmap_grad':
            return jax.jit(jax.vmap(jax.grad(norm)))(x)
        return jax.vjp(norm, x)[1](jnp.asarray(u, dtype=jnp.float32))
    x = jnp.array([1.0, -2.0, 2.0])
    g = call_safely('q4', safe_norm_grads, safe_norm_fwd, safe_norm_bwd, 'grad', x)
    check_array('q4', g, (3,), expected=x / 3.0, what='jax.grad(safe_norm)', at=x)
    g0 = call_safely('q4', safe_norm_grads, safe_norm_fwd, safe_norm_bwd, 'grad', jnp.zeros(3))
    check_array('q4', g0, (3,), expected=jnp.zeros(3), what='jax.grad(safe_norm)', at='x = 0')

