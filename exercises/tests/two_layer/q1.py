from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_linear_map(gram):
    import jax.numpy as jnp
    from course_lib.grading import call_safely, check_array, probe

    @probe(name='gram')
    def gram_of(gram, which, th, A=None):
        import jax.numpy as jnp
        if which == 'linear':
            return gram(lambda t: A @ t, th)
        return gram(lambda th: jnp.array([jnp.sin(th[0]) * th[1], th[2] ** 2 + th[3], jnp.tanh(th[4]) - th[0]]), th)
    A = jnp.array([[1.0, 2.0, 0.0, -1.0], [0.5, 0.0, 3.0, 1.0]])
    value = call_safely('q1', gram_of, gram, 'linear', jnp.ones(4), A)
    check_array('q1', value, (2, 2), expected=A @ A.T, rtol=1e-05, atol=1e-05, at='F(theta) = A theta with A of shape (2, 4)', what='gram')

@test_case(points=None, hidden=False)
def test_q1_tiny_network(gram, F_tiny, theta_tiny):
    from course_lib import two_layer
    from course_lib.grading import call_safely, check_array
    import math
    import jax.numpy as jnp
    X = jnp.array([[1.0, 0.0], [0.6, 0.8], [-0.6, 0.8]])
    params = two_layer.Params(theta_tiny[:2], theta_tiny[2:].reshape(2, 2))
    want = two_layer.ntk_gram(params, X, math.sqrt(2))
    value = call_safely('q1', gram, F_tiny, theta_tiny)
    check_array('q1', value, (3, 3), expected=want, rtol=0.0001, atol=1e-05, at='the tiny network', what='gram')

@test_case(points=None, hidden=False)
def test_q1_lam_tiny_is_a_number(lam_tiny):
    from course_lib.grading import GradingError, check_number
    x = check_number('q1', lam_tiny, what='lam_tiny')
    if x <= 0:
        raise GradingError(f'q1: lam_tiny = {x:.4g} should be positive: with p = 6 >= n = 3 the Gram matrix is invertible here')

