"""The generated NumPy module, checked against finite differences and mpmath.

The reference is independent of the generated code: it is the registry's SymPy loss
L(σ(z), y), with 1 − σ(z) written σ(−z) = 1/(1 + e^{z}) so that no value is lost to
cancellation, evaluated by mpmath with 50 digits plus enough to absorb e^{−|z|}; δ is
SymPy's derivative of that expression with respect to z.
"""

import math
import os
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest
from support import (
    GENERATED,
    Reference,
    holds_in_forked_child,
    load_generated,
    relative_error,
    ulps,
)
from sympy import exp, simplify

from derive.engine.registry import LOSSES
from derive.engine.symbols import a, y, z

lr = load_generated()
LOSS_NAMES = ("se", "ce")
EXTREME_Z = [0.0, 1e-9, -1e-9, 1.0, -1.0, 18.0, -18.0, 37.0, -37.0, 88.0, -88.0, 89.0,
             -89.0, 709.0, -709.0, 710.0, -710.0, 800.0, -800.0, 1e300, -1e300]
TOLERANCE = {np.float64: 1e-13, np.float32: 1e-5}


# --- the reference ------------------------------------------------------------------


def _exact_loss(name):
    """The loss of σ(z) with 1 − σ(z) written σ(−z) = 1/(1 + e^{z}): mpmath then loses
    nothing to cancellation even at z = ±1e300, where 1 − σ(z) would round to 0."""
    sigma, complement = 1 / (1 + exp(-z)), 1 / (1 + exp(z))
    plain = LOSSES[name].expression(a, y)
    exact = plain.subs(1 - a, complement).subs(a, sigma)
    assert simplify(exact - plain.subs(a, sigma)) == 0  # the rewrite is an identity
    return exact


REFERENCE = {name: Reference(_exact_loss(name)) for name in LOSS_NAMES}


def reference(name, z_value, label):
    """(loss, δ) at z with mpmath, to 50 significant digits or better."""
    return REFERENCE[name](z_value, label)


# --- accuracy at extreme z -----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_loss_and_gradient_match_mpmath_at_extreme_z(name, label, dtype):
    values = [v for v in EXTREME_Z if abs(v) < float(np.finfo(dtype).max)]
    z_column = np.array(values, dtype=dtype)[:, None]
    labels = np.full(len(values), label, dtype=dtype)
    w, b = np.ones(1, dtype=dtype), dtype(0)
    functions = (getattr(lr, f"{kind}_{name}") for kind in ("loss", "grad", "value_and_grad"))
    loss, (dw, db), (loss_both, dw_both, db_both) = (
        f(w, b, z_column, labels, reduction="none") for f in functions
    )
    worst = 0.0
    for i, z_value in enumerate(z_column[:, 0]):
        expected_loss, expected_delta = reference(name, float(z_value), label)
        for got, expected in ((loss[i], expected_loss), (loss_both[i], expected_loss),
                              (db[i], expected_delta), (db_both[i], expected_delta),
                              (dw[i, 0], expected_delta * mpmath.mpf(float(z_value))),
                              (dw_both[i, 0], expected_delta * mpmath.mpf(float(z_value)))):
            assert np.isfinite(got)
            error = relative_error(got, expected, dtype)
            assert error <= TOLERANCE[dtype], (name, label, float(z_value), float(got), expected)
            worst = max(worst, ulps(got, expected, dtype))
    assert loss.dtype == dw.dtype == db.dtype == dtype
    print(f"{name} y={label:g} {np.dtype(dtype).name}: worst error {worst:.1f} ULP")


def test_sigmoid_and_its_derivative_match_mpmath():
    values = np.array([v for v in EXTREME_Z], dtype=np.float64)
    got, slope = lr.sigmoid(values), lr.sigmoid_prime(values)
    for i, z_value in enumerate(values):
        with mpmath.workdps(60 + int(min(abs(z_value), 2000.0) * 0.45)):
            s = 1 / (1 + mpmath.exp(-mpmath.mpf(z_value)))
            expected_slope = s * (1 / (1 + mpmath.exp(mpmath.mpf(z_value))))
            assert relative_error(got[i], s, np.float64) <= 1e-15
            assert relative_error(slope[i], expected_slope, np.float64) <= 1e-14


# --- finite differences --------------------------------------------------------------


def _central_differences(loss, w, b, X, labels, step=1e-6):
    def at(w_, b_):
        return float(loss(w_, b_, X, labels))

    dw = np.empty_like(w)
    for j in range(w.size):
        shift = np.zeros_like(w)
        shift[j] = step
        dw[j] = (at(w + shift, b) - at(w - shift, b)) / (2 * step)
    db = (at(w, b + step) - at(w, b - step)) / (2 * step)
    return dw, db


@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("m, n", [(1, 1), (1, 5), (8, 1), (16, 4)])
def test_gradient_matches_central_differences(name, m, n):
    rng = np.random.default_rng(1000 * m + n)
    X = rng.normal(size=(m, n))
    w, b = rng.normal(size=n), float(rng.normal())
    labels = rng.integers(0, 2, size=m).astype(float)
    loss, grad = getattr(lr, f"loss_{name}"), getattr(lr, f"grad_{name}")
    dw, db = grad(w, b, X, labels)
    fd_dw, fd_db = _central_differences(loss, w, b, X, labels)
    scale = max(np.abs(dw).max(), abs(db))
    np.testing.assert_allclose(dw, fd_dw, rtol=1e-7, atol=1e-9 * scale)
    assert math.isclose(db, fd_db, rel_tol=1e-7, abs_tol=1e-9 * scale)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_single_sample_form_is_the_notes_formula(name):
    rng = np.random.default_rng(5)
    x, w, b, label = rng.normal(size=3), rng.normal(size=3), 0.25, 1.0
    loss, dw, db = getattr(lr, f"value_and_grad_{name}")(w, b, x, label)
    assert np.ndim(loss) == 0 and dw.shape == (3,) and np.ndim(db) == 0
    zz = float(x @ w + b)
    activation = 1 / (1 + math.exp(-zz))
    residual = activation - label
    expected_delta = residual if name == "ce" else residual * activation * (1 - activation)
    np.testing.assert_allclose(dw, expected_delta * x, rtol=1e-12)
    assert math.isclose(db, expected_delta, rel_tol=1e-12)
    batch = getattr(lr, f"value_and_grad_{name}")(w, b, x[None, :], np.array([label]))
    assert math.isclose(loss, batch[0], rel_tol=1e-15)
    np.testing.assert_allclose(dw, batch[1], rtol=1e-15)
    fd_dw, fd_db = _central_differences(getattr(lr, f"loss_{name}"), w, b, x, label)
    np.testing.assert_allclose(dw, fd_dw, rtol=1e-7, atol=1e-12)


# --- stability and dtypes ------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_floating_point_warnings_and_dtype_kept(dtype):
    big = float(np.finfo(dtype).max) / 4
    z_column = np.array([-big, -1e4, -800, -90, -20, 0, 20, 90, 800, 1e4, big],
                        dtype=dtype)[:, None]
    labels = np.tile(np.array([0.0, 1.0, 0.5], dtype=dtype), 4)[: len(z_column)]
    w, b = np.ones(1, dtype=dtype), dtype(0)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        outputs = [lr.sigmoid(z_column), lr.sigmoid_prime(z_column),
                   lr.predict_proba(w, b, z_column)]
        for name in LOSS_NAMES:
            for reduction in ("mean", "sum", "none"):
                outputs.append(getattr(lr, f"loss_{name}")(w, b, z_column, labels, reduction))
                outputs.extend(getattr(lr, f"grad_{name}")(w, b, z_column, labels, reduction))
                outputs.extend(getattr(lr, f"value_and_grad_{name}")(w, b, z_column, labels,
                                                                      reduction))
    for output in outputs:
        assert np.all(np.isfinite(output))
        assert np.asarray(output).dtype == dtype


def test_integer_and_mixed_inputs_compute_in_float64():
    loss, dw, db = lr.value_and_grad_ce(np.array([1, 2]), 0, np.array([[1, 0], [0, 1]]),
                                        np.array([0, 1]))
    assert np.asarray(loss).dtype == dw.dtype == np.float64
    assert lr.grad_ce(np.ones(2, np.float32), 0.0, np.ones((3, 2)), np.ones(3))[0].dtype == np.float64


# --- bad input -----------------------------------------------------------------------


def _call(**overrides):
    arguments = {"w": np.ones(3), "b": 0.0, "X": np.ones((4, 3)), "y": np.zeros(4)}
    arguments.update(overrides)
    return lr.value_and_grad_ce(arguments["w"], arguments["b"], arguments["X"], arguments["y"],
                                **({"reduction": overrides["reduction"]} if "reduction" in overrides else {}))


@pytest.mark.parametrize("overrides, message", [
    ({"X": np.ones((4, 2))}, r"X has 2 features per sample but w has 3: X.shape=\(4, 2\), w.shape=\(3,\)"),
    ({"w": np.ones((3, 1))}, r"w must have shape \(n,\), got \(3, 1\)"),
    ({"X": np.ones((2, 2, 3))}, r"X must have shape \(m, n\) or \(n,\), got \(2, 2, 3\)"),
    ({"y": np.zeros(5)}, r"y must have shape \(4,\) to match X.shape=\(4, 3\), got y.shape=\(5,\)"),
    ({"y": np.array([0.0, 1.0, 1.5, 0.0])}, r"labels must lie in \[0, 1\]; y\[2\] = "),
    ({"y": np.array([0.0, np.nan, 1.0, 0.0])}, r"labels must lie in \[0, 1\]; y\[1\] = "),
    ({"w": np.array([1.0, np.inf, 0.0])}, r"w has a non-finite value at index 1"),
    ({"b": np.nan}, r"b is not finite"),
    ({"b": np.ones(2)}, r"b must be a real scalar"),
    ({"X": np.vstack([np.ones((2, 3)), [[1.0, np.nan, 1.0]], np.ones((1, 3))])},
     r"X has a non-finite value in row 2"),
    ({"X": np.full((4, 3), 1e308), "w": np.full(3, 1e308)}, r"z = X @ w \+ b overflows at row 0"),
    ({"X": np.ones((0, 3)), "y": np.zeros(0)}, r"X has no samples \(X.shape=\(0, 3\)\)"),
    ({"reduction": "average"}, r"unknown reduction 'average'; use one of \('mean', 'sum', 'none'\)"),
])
def test_bad_input_raises_value_error_saying_what_and_where(overrides, message):
    with pytest.raises(ValueError, match=message):
        _call(**overrides)


def test_non_numeric_input_is_refused():
    with pytest.raises(ValueError, match="X must be numeric"):
        lr.predict(np.ones(2), 0.0, np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="z has a non-finite value at index 2"):
        lr.sigmoid([0.0, 1.0, np.inf])


# --- the module itself ---------------------------------------------------------------


def test_module_imports_only_numpy_and_the_standard_library():
    """NumPy is the only dependency: math serves one sample, sys finds Dask where it is
    imported, the rest the worker threads."""
    source = (GENERATED / "logistic_regression.py").read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import functools", "import math", "import os", "import sys",
                       "import threading",
                       "from concurrent.futures import ThreadPoolExecutor", "import numpy as np"]
    assert source.startswith("# Generated by derive from templates/logistic_regression.py.jinja; do not edit.\n")


def test_every_public_function_cites_sheet_equations():
    for name in lr.__all__:
        assert "eq" in getattr(lr, name).__doc__, name


def test_module_passes_ruff():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                             str(GENERATED / "logistic_regression.py")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("m", [1, 5, 29, 64])
@pytest.mark.parametrize("labels", ["hard", "soft"])
def test_blocked_sums_equal_the_unblocked_reference(name, m, labels, monkeypatch):
    """Blocks of 8 rows: m = 1, m smaller than a block, m not a multiple of it, and a
    multiple; the reference is the per-sample ("none") result reduced in one go."""
    n = 3
    monkeypatch.setattr(lr, "BLOCK_BYTES", 8 * n * 8)
    rng = np.random.default_rng(m)
    X, w, b = rng.normal(size=(m, n)), rng.normal(size=n), 0.3
    y = rng.integers(0, 2, size=m).astype(float) if labels == "hard" else rng.random(m)
    function = getattr(lr, f"value_and_grad_{name}")
    each, dw_each, db_each = function(w, b, X, y, reduction="none")
    for reduction, reduce in (("mean", np.mean), ("sum", np.sum)):
        loss, dw, db = function(w, b, X, y, reduction=reduction)
        np.testing.assert_allclose(loss, reduce(each), rtol=1e-12)
        np.testing.assert_allclose(dw, reduce(dw_each, axis=0), rtol=1e-12)
        np.testing.assert_allclose(db, reduce(db_each), rtol=1e-12)
        dw_alone, db_alone = getattr(lr, f"grad_{name}")(w, b, X, y, reduction=reduction)
        np.testing.assert_allclose(dw_alone, dw, rtol=1e-12)
        np.testing.assert_allclose(db_alone, db, rtol=1e-12)
        np.testing.assert_allclose(getattr(lr, f"loss_{name}")(w, b, X, y, reduction), loss,
                                   rtol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("function", [lr.grad_ce, lr.value_and_grad_se, lr.loss_ce])
def test_a_bad_row_in_any_block_is_named_whoever_computes_it(function, threads, monkeypatch):
    """Blocks of 2 rows, the bad row in the seventh block: a worker thread finds it, and
    the caller gets the same message as without workers."""
    monkeypatch.setattr(lr, "BLOCK_BYTES", 2 * 3 * 8)
    monkeypatch.setattr(lr, "THREADS", threads)
    X, y = np.ones((20, 3)), np.zeros(20)
    X[13, 1] = np.nan
    with pytest.raises(ValueError, match="X has a non-finite value in row 13"):
        function(np.ones(3), 0.0, X, y)
    X[13, 1] = 1e308
    with pytest.raises(ValueError, match=r"z = X @ w \+ b overflows at row 13"):
        function(np.array([1.0, 10.0, 1.0]), 0.0, X, y)


def test_the_worker_threads_are_made_once_and_forgotten_in_a_forked_child(monkeypatch):
    monkeypatch.setattr(lr, "BLOCK_BYTES", 2 * 3 * 8)
    monkeypatch.setattr(lr, "THREADS", 2)
    X, y = np.ones((20, 3)), np.zeros(20)
    lr.grad_ce(np.ones(3), 0.0, X, y)
    pool = lr._pool()
    lr.grad_ce(np.ones(3), 0.0, X, y)
    assert lr._pool() is pool
    if not hasattr(os, "fork"):
        return

    def fresh_pool_finite_result():
        return lr._pool() is not pool and np.isfinite(lr.grad_ce(np.ones(3), 0.0, X, y)[1])

    assert holds_in_forked_child(fresh_pool_finite_result)


def test_only_calls_of_enough_blocks_go_to_the_worker_threads(monkeypatch):
    """Fewer than MIN_SHARED_BLOCKS blocks stay in the calling thread (X is in cache and
    BLAS is faster there; one block does not even go through ``_each``); from that many
    on, the workers share them."""
    monkeypatch.setattr(lr, "BLOCK_BYTES", 2 * 3 * 8)
    monkeypatch.setattr(lr, "THREADS", 2)
    calls = []
    each = lr._each

    def recording_each(function, items, threaded):
        calls.append(threaded)
        each(function, items, threaded)

    monkeypatch.setattr(lr, "_each", recording_each)
    for blocks in (1, lr.MIN_SHARED_BLOCKS - 1, lr.MIN_SHARED_BLOCKS, 20):
        X, y = np.ones((2 * blocks, 3)), np.zeros(2 * blocks)
        lr.grad_ce(np.ones(3), 0.0, X, y)
    assert calls == [False, True, True]


@pytest.mark.parametrize("layout", ["F", "strided"])
def test_any_layout_of_x_gives_the_c_contiguous_result(layout, monkeypatch):
    """Only a C-contiguous X goes to the worker threads; others stay with BLAS in the
    calling thread and must agree with it."""
    monkeypatch.setattr(lr, "BLOCK_BYTES", 4 * 3 * 8)
    rng = np.random.default_rng(5)
    X, w, y = rng.normal(size=(50, 3)), rng.normal(size=3), rng.integers(0, 2, 50) * 1.0
    other = np.asfortranarray(X) if layout == "F" else np.repeat(X, 2, axis=1)[:, ::2]
    assert not other.flags.c_contiguous
    expected = lr.value_and_grad_ce(w, 0.2, X, y)
    for got, want in zip(lr.value_and_grad_ce(w, 0.2, other, y), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_float32_stays_float32_in_the_worker_threads(name, monkeypatch):
    monkeypatch.setattr(lr, "BLOCK_BYTES", 2 * 3 * 4)
    rng = np.random.default_rng(8)
    X = rng.normal(size=(41, 3)).astype(np.float32)
    w = (rng.normal(size=3) * 4).astype(np.float32)
    y = rng.integers(0, 2, 41).astype(np.float32)
    function = getattr(lr, f"value_and_grad_{name}")
    results = {}
    for threads in (1, 2):
        monkeypatch.setattr(lr, "THREADS", threads)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            results[threads] = function(w, np.float32(0.1), X, y)
    for got, want in zip(results[2], results[1], strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5)
