"""Second order: ∂²L/∂z² and the convexity verdict of every pair, the generated
Hessian, Hessian-vector product and Newton step, checked against central differences,
an mpmath reference and scikit-learn."""

import warnings

import mpmath
import numpy as np
import pytest
from sympy import diff, lambdify

from derive.codegen import runtime_second
from derive.engine import labels
from derive.engine.choice import choose
from derive.engine.derivations import derive_all
from derive.engine.model import Model
from derive.engine.samples import PENALTIES
from derive.engine.second_order import is_convex
from derive.engine.symbols import y, z
from derive.engine.verify import SYMBOLIC
from support import PAIRS, breast_cancer, built_pair, labels_for, ulps

EXTREME_Z = (0.0, 1.0, -1.0, 20.0, -20.0, 40.0, -40.0, 700.0, -700.0, 800.0, -800.0)
CONVEX = {("sigmoid", "ce"), ("identity", "se"), ("exp", "poisson"), ("softplus", "poisson")}
"""Decided by hand: the canonical pairs have d = a(1 − a), 1 and a; for the softplus with
the Poisson likelihood, d = σ'(z)(1 − y/a) + σ(z)²y/a² ≥ 0 (shown by the numeric grid
below as well). Every other pair has a point with d < 0."""


def _second_derivative(model):
    """∂²L/∂z² from the registry's definitions, differentiated by SymPy, for mpmath."""
    loss = model.losses[0]
    expr = loss.expression(model.activation.expression(z), y)
    return lambdify((z, y), diff(expr, z, 2), modules="mpmath")


@pytest.mark.parametrize("act, loss", PAIRS, ids=["_".join(pair) for pair in PAIRS])
def test_the_convexity_verdict_agrees_with_a_numeric_grid(act, loss):
    model, book, _ = built_pair(act, loss)
    d2 = _second_derivative(model)
    labels_ = labels_for(model) + [0.5, 2.0]
    labels_ = [v for v in labels_ if model.losses[0].labels.contains(v)
               and model.activation.output_range.closure.contains(v)]
    grid = [k / 4 for k in range(-40, 41)]
    with mpmath.workdps(50):
        smallest = min(d2(mpmath.mpf(zv), mpmath.mpf(label)) for zv in grid for label in labels_)
    assert is_convex(book, model.losses[0]) == (smallest >= 0)
    assert ((act, loss) in CONVEX) == is_convex(book, model.losses[0])


def test_every_second_order_step_is_verified_and_most_symbolically():
    for penalty in PENALTIES:
        book = derive_all(Model(*choose("sigmoid", ["se", "ce"]), PENALTIES[penalty]))
        steps = [step for d in book if d.section == "second order" for step in d.steps]
        assert len(steps) >= 20
        assert sum(step.method == SYMBOLIC for step in steps) >= 0.9 * len(steps)


def test_the_hessian_weight_of_the_canonical_pairs_is_in_the_activation_s_terms():
    expected = {("sigmoid", "ce"): "a*(1 - a)", ("identity", "se"): "1",
                ("exp", "poisson"): "a"}
    for (act, loss), text in expected.items():
        _, book, _ = built_pair(act, loss)
        (entry,) = [d for d in book if d.label == labels.second_derivative(
            book.model.losses[0])]
        assert str(entry.rhs) == text


# --- the generated code --------------------------------------------------------------------


def _data(model, m=50, n=3, seed=9):
    rng = np.random.default_rng(seed)
    values = np.array(labels_for(model))
    return (rng.normal(scale=0.5, size=n), 0.1, rng.normal(size=(m, n)),
            values[rng.integers(0, len(values), m)])


def test_the_hessian_matches_central_differences_of_the_gradient(pair):
    model, _, module = pair
    name = model.losses[0].name
    w, b, X, y_values = _data(model)
    hessian = getattr(module, f"hessian_{name}")(w, b, X, y_values, l2=0.2)
    grad = getattr(module, f"grad_{name}")

    def gradient(theta):
        return np.append(*grad(theta[:-1], theta[-1], X, y_values, l2=0.2))

    theta, step = np.append(w, b), 1e-6
    numeric = np.array([(gradient(theta + step * e) - gradient(theta - step * e)) / (2 * step)
                        for e in np.eye(len(theta))])
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-6 * np.abs(hessian).max())
    assert np.array_equal(hessian, hessian.T)


def test_the_hessian_vector_product_equals_the_hessian_times_v(pair):
    model, _, module = pair
    name = model.losses[0].name
    w, b, X, y_values = _data(model)
    v = np.random.default_rng(3).normal(size=len(w) + 1)
    hessian = getattr(module, f"hessian_{name}")(w, b, X, y_values, l2=0.2)
    product = getattr(module, f"hvp_{name}")(w, b, X, y_values, v, l2=0.2)
    np.testing.assert_allclose(product, hessian @ v, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=r"v must have shape \(4,\)"):
        getattr(module, f"hvp_{name}")(w, b, X, y_values, v[:-1])


EXTENDED = runtime_second.EXTENDED is not None
"""Whether this platform has the wider float in which the modules compute d at soft
labels."""
NEAR_A_ZERO = {("sigmoid", "se"), ("sigmoid", "poisson")}
"""Without EXTENDED: pairs whose d, at a soft label, is a difference of nearly equal terms
near one of its zeros on the grid (sigmoid se at z = 1, y = 0.3: 85 ULP; sigmoid poisson
at z = 1, y = 0.6: 5 ULP), so that no float64 evaluation from a rounded σ(z) does
better; their hard labels (the ends of the label interval) are within 4 ULP."""
ULP_BOUND = {("softplus", "poisson"): 8}
"""Without EXTENDED: the softplus with the Poisson likelihood at soft labels, whose
y-term has the factor σ(z)/softplus(z) = e^{log σ(z) − log softplus(z)} of the stable δ,
an exponent that is a difference of two numbers near |z| (6.2 ULP at z = −20,
y = 2.5)."""


@pytest.mark.parametrize("extended", [True, False], ids=["extended", "dtype"])
def test_the_hessian_weight_is_accurate_at_extreme_z(pair, extended, monkeypatch):
    """H_bb at one sample with x = 0 is d(z) itself, for z = b: within 4 ULP of a
    reference with 100 digits plus one per unit of |z|, finite, and without a warning,
    at every label of the grid. Where the platform has no wider float, or the module is
    told not to use it (``EXTENDED = None``), the exceptions above hold instead."""
    model, _, module = pair
    if not extended:
        monkeypatch.setattr(module, "EXTENDED", None)
    wider = EXTENDED and extended
    name = model.losses[0].name
    d2 = _second_derivative(model)
    hessian = getattr(module, f"hessian_{name}")
    worst = 0.0
    interval = model.losses[0].labels.intersect(model.activation.output_range.closure)
    hard = {float(end) for end in (interval.inf, interval.sup) if end.is_finite}
    pair_name = (model.activation.name, name)
    for label in labels_for(model):
        if not wider and pair_name in NEAR_A_ZERO and label not in hard:
            continue
        for z_value in EXTREME_Z:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    got = hessian(np.zeros(1), z_value, np.zeros((1, 1)), np.array([label]))
                except ValueError:  # beyond the float range, and refused
                    with mpmath.workdps(100 + int(abs(z_value))):
                        exact = d2(mpmath.mpf(z_value), mpmath.mpf(label))
                    assert abs(exact) > np.finfo(np.float64).max
                    continue
            assert np.isfinite(got).all()
            with mpmath.workdps(100 + int(abs(z_value))):
                exact = d2(mpmath.mpf(z_value), mpmath.mpf(label))
            worst = max(worst, ulps(got[1, 1], exact, np.float64))
    assert worst <= (4 if wider else ULP_BOUND.get(pair_name, 4)), worst


def test_one_sample_with_a_hard_label_is_a_batch_of_one():
    """A single sample with label 0 or 1 takes the same path as a batch of one (no
    extended precision for hard labels): the same bits; a soft one too."""
    _, _, module = built_pair("sigmoid", "se")
    rng = np.random.default_rng(3)
    for _ in range(50):
        x, w, b = rng.normal(size=3) * 4, rng.normal(size=3), float(rng.normal())
        for label in (0.0, 1.0, 0.3):
            one = module.hessian_se(w, b, x, label)
            batch = module.hessian_se(w, b, x[None], np.array([label]))
            np.testing.assert_array_equal(one, batch)


def test_newton_reaches_scikit_learn_in_at_most_ten_iterations():
    """With l2 = 1/(C·m), Newton's method on the mean cross-entropy reaches
    LogisticRegression(C=C)'s coefficients (its own Newton solver, to a tolerance of
    1e-15) to 1e-8 relative; the gradient is then zero to rounding."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    _, _, module = built_pair("sigmoid", "ce")
    X, y_values = breast_cancer()
    m, n = X.shape
    C = 1.0
    reference = linear_model.LogisticRegression(C=C, solver="newton-cholesky", tol=1e-15,
                                                max_iter=1000).fit(X, y_values)
    expected = np.append(reference.coef_[0], reference.intercept_[0])
    w, b = np.zeros(n), 0.0
    for iteration in range(1, 11):
        w, b = module.newton_step_ce(w, b, X, y_values, l2=1 / (C * m))
        error = np.abs(np.append(w, b) - expected).max() / np.abs(expected).max()
        if error <= 1e-8:
            break
    assert error <= 1e-8, (iteration, error)


def test_gradient_descent_needs_thousands_of_iterations_where_newton_needs_nine():
    """The README's comparison: gradient descent with the step 1/L, L = λ_max(X̃ᵀX̃)/(4m) + λ
    (a bound on the curvature), until the loss is within 1e-10 relative of Newton's."""
    _, _, module = built_pair("sigmoid", "ce")
    X, y_values = breast_cancer()
    m, n = X.shape
    l2 = 1 / m
    w, b = np.zeros(n), 0.0
    for _ in range(9):
        w, b = module.newton_step_ce(w, b, X, y_values, l2=l2)
    target = module.loss_ce(w, b, X, y_values, l2=l2)
    with_ones = np.c_[X, np.ones(m)]
    curvature = np.linalg.eigvalsh(with_ones.T @ with_ones / m).max() / 4 + l2
    w, b = np.zeros(n), 0.0
    for iteration in range(1, 30_001):
        loss, dw, db = module.value_and_grad_ce(w, b, X, y_values, l2=l2)
        if loss - target <= 1e-10 * target:
            break
        w, b = w - dw / curvature, b - db / curvature
    assert 14_000 <= iteration <= 17_000, iteration


def test_a_singular_hessian_is_a_clear_error():
    _, _, module = built_pair("sigmoid", "ce")
    X, y_values = np.ones((2, 3)), np.array([0.0, 1.0])  # fewer samples than features
    with pytest.raises(ValueError, match="the Hessian is singular .*pass l2 > 0"):
        module.newton_step_ce(np.zeros(3), 0.0, X, y_values)
    w, b = module.newton_step_ce(np.zeros(3), 0.0, X, y_values, l2=0.1)
    assert np.isfinite(w).all() and np.isfinite(b)


def test_newton_is_offered_only_for_convex_losses():
    for act, loss in PAIRS:
        model, book, module = built_pair(act, loss)
        offered = f"newton_step_{loss}" in module.__all__
        assert offered == is_convex(book, model.losses[0]), (act, loss)


def test_the_readme_newton_example_converges_in_a_handful_of_iterations():
    import re
    import subprocess
    import sys

    from support import GENERATED, ROOT

    pytest.importorskip("sklearn")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- newton-example -->\n```python\n(.*?)```", readme, re.S)[1]
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=GENERATED,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    iterations = int(re.search(r"Newton: (\d+) iterations", result.stdout)[1])
    assert iterations <= 10


def test_the_log_gap_ratio_is_accurate_from_zero_past_one():
    """(t − log1p t)/t, the helper of the softplus–Poisson curvature, against mpmath."""
    from derive.codegen.runtime_second import _log_gap_ratio

    t = np.array([0.0, 5e-324, 1e-300, 1e-9, 1e-4, 0.1, 0.5, 0.999, 1.0, 1.001, 3.0, 1e6])
    got = _log_gap_ratio(t)
    exact = []
    for v in t:  # t − log1p(t) cancels to about t²/2: digits for both ends of it
        with mpmath.workdps(60 + 2 * int(abs(mpmath.log10(v))) if v else 60):
            exact.append(mpmath.mpf(0) if v == 0 else
                         (mpmath.mpf(v) - mpmath.log1p(mpmath.mpf(v))) / mpmath.mpf(v))
    assert max(ulps(value, reference, np.float64) for value, reference in zip(got, exact)) <= 2
