"""Property tests of the generated module over shapes, dtypes and values (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from support import load_generated

lr = load_generated()
DTYPES = st.sampled_from([np.float32, np.float64])


@st.composite
def problems(draw):
    """(w, b, X, y) of one dtype, with m ≥ 1 samples and n ≥ 1 features."""
    dtype = draw(DTYPES)
    m, n = draw(st.integers(1, 12)), draw(st.integers(1, 6))
    values = st.floats(-30, 30, allow_nan=False, width=32)
    X = draw(arrays(dtype, (m, n), elements=values))
    w = draw(arrays(dtype, (n,), elements=values))
    b = dtype(draw(values))
    y = draw(arrays(dtype, (m,), elements=st.sampled_from([0.0, 1.0, 0.25])))
    return w, b, X, y


def _close(first, second, dtype):
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(first, second, rtol=tolerance, atol=tolerance)


@settings(max_examples=60, deadline=None)
@given(problems(), st.sampled_from(["se", "ce"]))
def test_reductions_agree(problem, name):
    w, b, X, y = problem
    m, dtype = X.shape[0], X.dtype.type
    function = getattr(lr, f"value_and_grad_{name}")
    mean, dw_mean, db_mean = function(w, b, X, y, "mean")
    total, dw_sum, db_sum = function(w, b, X, y, "sum")
    each, dw_each, db_each = function(w, b, X, y, "none")
    assert each.shape == (m,) and dw_each.shape == X.shape and db_each.shape == (m,)
    _close(mean, total / m, dtype)
    _close(mean, each.mean(), dtype)
    _close(dw_mean, dw_sum / m, dtype)
    _close(dw_mean, dw_each.mean(axis=0), dtype)
    _close(db_mean, db_each.mean(), dtype)
    _close(db_sum, db_each.sum(), dtype)
    for output in (mean, dw_mean, db_mean, each, dw_each, db_each):
        assert np.asarray(output).dtype == dtype


@settings(max_examples=60, deadline=None)
@given(problems())
def test_loss_and_grad_agree_with_value_and_grad(problem):
    """Separate evaluations of the same formulas (common work shared differently)."""
    w, b, X, y = problem
    dtype = X.dtype.type
    for name in ("se", "ce"):
        value, dw, db = getattr(lr, f"value_and_grad_{name}")(w, b, X, y)
        _close(getattr(lr, f"loss_{name}")(w, b, X, y), value, dtype)
        grad_dw, grad_db = getattr(lr, f"grad_{name}")(w, b, X, y)
        _close(grad_dw, dw, dtype)
        _close(grad_db, db, dtype)


@settings(max_examples=80, deadline=None)
@given(problems())
def test_predict_agrees_with_predict_proba_at_one_half(problem):
    """Class 1 exactly where σ(z) ≥ 1/2. predict uses the proved equivalent z ≥ 0; the two
    can only differ where σ(z) rounds to exactly 1/2, i.e. |z| below one ulp of 1/2."""
    w, b, X, _ = problem
    classes, probabilities = lr.predict(w, b, X), lr.predict_proba(w, b, X)
    assert classes.dtype == np.int64 and set(np.unique(classes)) <= {0, 1}
    decided = probabilities != 0.5
    np.testing.assert_array_equal(classes[decided], (probabilities[decided] >= 0.5).astype(int))
    z = X @ w + b  # as the module computes it, in the same dtype
    assert np.all(np.abs(z[~decided]) <= np.finfo(X.dtype).eps)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e300, 1e300)))
def test_sigmoid_is_in_the_unit_interval_and_symmetric(z):
    s = lr.sigmoid(z)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(lr.sigmoid(-z), 1 - s, atol=1e-15)
    np.testing.assert_allclose(lr.sigmoid_prime(z), s * lr.sigmoid(-z), rtol=1e-15, atol=0)
