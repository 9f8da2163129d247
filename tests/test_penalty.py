"""The generated module's ``l2=`` keyword: R(w) = (λ/2)·‖w‖² added once to a reduced
loss and λw to its dw, never to b nor to per-sample values; checked against finite
differences, an mpmath reference and scikit-learn's LogisticRegression."""

import mpmath
import numpy as np
import pytest
from support import Reference, breast_cancer, labels_for

L2 = 0.37


def _data(model, m=40, n=3, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    labels = np.array(labels_for(model))
    y = labels[rng.integers(0, len(labels), m)]
    return rng.normal(scale=0.5, size=n), 0.2, X, y


def _functions(module, model):
    name = model.losses[0].name
    return (getattr(module, f"loss_{name}"), getattr(module, f"grad_{name}"),
            getattr(module, f"value_and_grad_{name}"))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_penalised_gradient_matches_finite_differences_of_the_penalised_loss(
        pair, reduction):
    model, _, module = pair
    loss, grad, _ = _functions(module, model)
    w, b, X, y = _data(model)
    dw, db = grad(w, b, X, y, reduction, l2=L2)
    step = 1e-6
    numeric_w = [(loss(w + step * e, b, X, y, reduction, l2=L2)
                  - loss(w - step * e, b, X, y, reduction, l2=L2)) / (2 * step)
                 for e in np.eye(len(w))]
    numeric_b = (loss(w, b + step, X, y, reduction, l2=L2)
                 - loss(w, b - step, X, y, reduction, l2=L2)) / (2 * step)
    np.testing.assert_allclose(dw, numeric_w, rtol=1e-6, atol=1e-9)
    assert db == pytest.approx(numeric_b, rel=1e-6, abs=1e-9)


def test_the_penalised_mean_matches_an_mpmath_reference(pair):
    """J = (1/m)·Σ L(z_i, y_i) + (λ/2)·Σ w_k² and ∇_w J = (1/m)·Σ δ_i x_i + λw, summed
    in 60-digit arithmetic from the registry's definitions."""
    model, _, module = pair
    _, _, value_and_grad = _functions(module, model)
    w, b, X, y = _data(model)
    reference = Reference.of(model)
    m = len(y)
    with mpmath.workdps(60):
        terms = [reference(float(row @ w + b), float(label)) for row, label in zip(X, y)]
        penalty = mpmath.mpf(L2) / 2 * mpmath.fsum(mpmath.mpf(v) ** 2 for v in w)
        value = mpmath.fsum(t[0] for t in terms) / m + penalty
        dw = [mpmath.fsum(t[1] * mpmath.mpf(row[k]) for t, row in zip(terms, X)) / m
              + mpmath.mpf(L2) * mpmath.mpf(w[k]) for k in range(len(w))]
        db = mpmath.fsum(t[1] for t in terms) / m
    got_value, got_dw, got_db = value_and_grad(w, b, X, y, l2=L2)
    assert float(got_value) == pytest.approx(float(value), rel=1e-12)
    np.testing.assert_allclose(got_dw, [float(v) for v in dw], rtol=1e-11, atol=1e-14)
    assert float(got_db) == pytest.approx(float(db), rel=1e-11, abs=1e-14)


def test_the_penalty_is_added_once_never_to_b_nor_per_sample_values(pair):
    model, _, module = pair
    loss, grad, value_and_grad = _functions(module, model)
    w, b, X, y = _data(model)
    for reduction in ("mean", "sum"):
        assert loss(w, b, X, y, reduction, l2=L2) - loss(w, b, X, y, reduction) == \
            pytest.approx(L2 / 2 * float(w @ w), rel=1e-12)
        dw, db = grad(w, b, X, y, reduction, l2=L2)
        plain_dw, plain_db = grad(w, b, X, y, reduction)
        np.testing.assert_allclose(dw - plain_dw, L2 * w, rtol=1e-12, atol=1e-15)
        assert db == plain_db
    for got, plain in zip(value_and_grad(w, b, X, y, "none", l2=L2),
                          value_and_grad(w, b, X, y, "none")):
        assert np.array_equal(got, plain)
    one = loss(w, b, X[0], y[0], l2=L2) - loss(w, b, X[0], y[0])
    assert one == pytest.approx(L2 / 2 * float(w @ w), rel=1e-12)
    assert loss(w, b, X[0], y[0], "none", l2=L2) == loss(w, b, X[0], y[0], "none")


def test_float32_stays_float32_with_a_penalty(pair):
    model, _, module = pair
    _, _, value_and_grad = _functions(module, model)
    w, b, X, y = _data(model)
    value, dw, db = value_and_grad(w.astype(np.float32), b, X.astype(np.float32), y, l2=L2)
    assert value.dtype == dw.dtype == db.dtype == np.float32


@pytest.mark.parametrize("bad", [-1.0, -0.0001, float("nan"), float("inf"), "0.1", True,
                                 None, [0.1], 1j])
def test_a_bad_l2_is_a_value_error_that_says_what_is_allowed(bad):
    from support import built_pair

    _, _, module = built_pair("sigmoid", "ce")
    w, b, X, y = np.ones(2), 0.0, np.ones((3, 2)), np.array([0.0, 1.0, 1.0])
    for function in (module.loss_ce, module.grad_ce, module.value_and_grad_ce):
        with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0, got "):
            function(w, b, X, y, l2=bad)


def test_l2_is_keyword_only():
    from support import built_pair

    _, _, module = built_pair("sigmoid", "ce")
    with pytest.raises(TypeError):
        module.loss_ce(np.ones(2), 0.0, np.ones((3, 2)), np.ones(3), "mean", 0.1)


def test_lbfgs_with_l2_reproduces_scikit_learn_logistic_regression():
    """Minimising the mean cross-entropy plus (λ/2)‖w‖² with λ = 1/(C·m) is scikit-learn's
    C·Σ L + ½‖w‖² divided by C·m: the same minimiser (the intercept is not penalised
    in either)."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    optimize = pytest.importorskip("scipy.optimize")
    from support import built_pair

    _, _, module = built_pair("sigmoid", "ce")
    X, y = breast_cancer()
    m, n = X.shape
    C = 0.5
    reference = linear_model.LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y)

    def objective(parameters):
        loss, dw, db = module.value_and_grad_ce(parameters[:n], parameters[n], X, y,
                                                l2=1 / (C * m))
        return loss, np.append(dw, db)

    result = optimize.minimize(objective, np.zeros(n + 1), jac=True, method="L-BFGS-B",
                               options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})
    expected = np.append(reference.coef_[0], reference.intercept_[0])
    np.testing.assert_allclose(result.x, expected, rtol=1e-6,
                               atol=1e-6 * np.abs(expected).max())
