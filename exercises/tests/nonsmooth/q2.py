from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_values(my_relu):
    import jax.numpy as jnp
    from course_lib.grading import call_safely, check_array
    t = jnp.linspace(-2.0, 2.0, 41)
    value = call_safely('q2', my_relu, t)
    check_array('q2', value, (41,), expected=jnp.where(t > 0, t, 0.0), atol=1e-06, at='t = jnp.linspace(-2, 2, 41)', what='my_relu (it should equal max(0, t))')

@test_case(points=None, hidden=False)
def test_q2_backprop_at_zero(my_relu):
    import jax
    from course_lib.grading import call_safely, check_number, probe

    @probe(name='my_relu')
    def relu_transformed(my_relu, how, t):
        import jax
        if how == 'grad':
            return jax.grad(my_relu)(t)
        if how == 'vmap_grad':
            return jax.vmap(jax.grad(my_relu))(t)
        if how == 'jit':
            return jax.jit(my_relu)(t)
        return jax.jit(jax.grad(my_relu))(t)
    check_number('q2', call_safely('q2', my_relu, 0.0), expected=0.0, atol=1e-06, what='my_relu(0.0)')
    g = call_safely('q2', relu_transformed, my_relu, 'grad', 0.0)
    check_number('q2', g, expected=0.25, atol=1e-06, what='jax.grad(my_relu)(0.0)')

