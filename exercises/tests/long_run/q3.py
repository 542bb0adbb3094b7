from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_q3_ratio_02(ratio_02):
    import jax
    import jax.numpy as jnp
    from course_lib import landscapes
    from course_lib.grading import GradingError, check_number
    H = jax.hessian(landscapes.himmelblau)
    d = [float(jnp.linalg.det(H(jnp.asarray(k)))) for k in landscapes.HIMMELBLAU_MINIMA]
    want = (d[2] / d[0]) ** 0.5
    r = check_number('q3', ratio_02, what='ratio_02')
    if abs(r - 1.0) < 0.001:
        raise GradingError('q3: ratio_02 = 1: the energies are equal, but the Hessian prefactor det(Hess f)^(-1/2) is not')
    if abs(r - 1 / want) < 0.001 * want:
        raise GradingError('q3: ratio_02 is upside down: flatter minima (smaller Hessian determinant) get MORE mass')
    if abs(r - want ** 2) < 0.001 * want ** 2:
        raise GradingError("q3: ratio_02 is the ratio of the determinants; Laplace's method gives their square root")
    check_number('q3', r, expected=want, rtol=0.001, what='ratio_02')

