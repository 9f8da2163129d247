"""derive.codegen.runtime, the fixed code of every generated module, tested where it is
written; and the pasting of its pieces into the generated modules (derive.codegen.paste).

The block functions here are small stand-ins for the generated ones: ``squares`` maps
the (z, y) of a block to the per-sample loss (z − y)²/2 and δ = z − y.
"""

import ast
import math
import os
import subprocess
import sys
import threading
import warnings

import jinja2
import numpy as np
import pytest
from support import holds_in_forked_child

from derive.codegen import runtime as rt
from derive.codegen import runtime_dask as dask_runtime
from derive.codegen import runtime_inputs as inputs
from derive.codegen.context import TEMPLATE
from derive.codegen.paste import RUNTIME_FILES, pasted, pieces, runtime_source
from derive.engine.stable import HELPERS
from derive.render import LATEX_DELIMITERS, environment, templates_folder

LABELS = (0, 1, "[0, 1]")


def squares(z, y):
    delta = z - y
    return delta * delta / 2, delta


def squares_of_hard_labels(u, s):
    """``squares`` from the hard-label arguments u = s·z, s = 1 − 2y (so z = s·u)."""
    return squares(s * u, (1 - s) / 2)


def make_batch(w=(1.0, 2.0), b=0.5, X=None, y=(0, 1, 1, 0), reduction="mean"):
    X = np.arange(8.0).reshape(4, 2) / 10 if X is None else X
    return rt._Batch(w, b, X, y, reduction, LABELS)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 3 rows of 2 float64 features, so that a few rows make many blocks."""
    monkeypatch.setattr(rt, "BLOCK_BYTES", 3 * 2 * 8)


# --- input checking ------------------------------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    ({"w": [[1.0, 2.0]]}, r"w must have shape \(n,\), got \(1, 2\)"),
    ({"w": ["a", "b"]}, r"w must be numeric, got dtype <U1"),
    ({"X": np.ones((4, 3))}, r"X has 3 features per sample but w has 2: X.shape=\(4, 3\)"),
    ({"X": np.ones((2, 2, 2))}, r"X must have shape \(m, n\) or \(n,\), got \(2, 2, 2\)"),
    ({"b": [1.0]}, r"b must be a real scalar, got \[1.0\]"),
    ({"reduction": "avg"}, r"unknown reduction 'avg'; use one of \('mean', 'sum', 'none'\)"),
    ({"y": np.zeros(3)}, r"y must have shape \(4,\) to match X.shape=\(4, 2\), got y.shape=\(3,\)"),
    ({"y": [0, 1, 1.5, 0]}, r"labels must lie in \[0, 1\]; y\[2\] = .*1\.5"),
    ({"y": [0, np.nan, 0, 0]}, r"labels must lie in \[0, 1\]; y\[1\] = .*nan"),
    ({"y": ["a"] * 4}, r"y must be numeric, got dtype <U1"),
    ({"y": [0, 1j, 0, 0]}, r"y must be numeric, got dtype complex128: use real numbers"),
    ({"X": np.ones((4, 2), object)}, r"X must be numeric, got dtype object"),
    ({"y": None}, r"y is required, got None"),
    ({"w": None}, r"w is required, got None"),
    ({"X": [[1.0, 2.0], [1.0]]}, r"X is not an array of numbers: setting an array element"),
    ({"X": np.ma.masked_array(np.ones((4, 2)))}, r"X is a masked array, and masks are not"),
    ({"y": np.ma.masked_array(np.zeros(4), mask=[0, 1, 0, 0])}, r"y is a masked array"),
    ({"b": np.ma.masked}, r"b must be a real scalar, got masked"),
    ({"b": None}, r"b is required, got None"),
    ({"reduction": None}, r"unknown reduction None"),
    ({"reduction": ["mean"]}, r"unknown reduction \['mean'\]"),
    ({"y": [0.0, 1.0, 0.0, -1e308]}, r"labels must lie in \[0, 1\]; y\[3\] = .*-1e\+308"),
    ({"X": np.ones((0, 2)), "y": np.zeros(0)}, r"X has no samples \(X.shape=\(0, 2\)\)"),
    ({"X": np.ones(2), "y": 2.0}, r"labels must lie in \[0, 1\]; y = 2.0"),
])
def test_bad_input_is_named_in_the_message(arguments, message):
    """A ValueError, or a TypeError for a missing argument."""
    error = TypeError if any(value is None for name, value in arguments.items()
                             if name != "reduction") else ValueError
    with pytest.raises(error, match=message):
        make_batch(**arguments)


@pytest.mark.parametrize("low, high", [(-np.inf, np.inf), (0, np.inf), (0, 1)])
def test_labels_at_the_ends_of_the_float_range_are_judged_without_overflow_or_warning(
        low, high):
    """min − max of the labels overflowed to −inf, which read as a bad label, and then
    no label was bad: IndexError. Now either end is compared on its own, and the test
    for hard labels, y(y − 1) = 0, which overflows here, runs under ``_checked``'s
    settings: a public function raises no warning."""
    y = np.array([0.0, 1e308, 1e308, 1.0]) * (1 if low == 0 else [1, 1, -1, 1])

    def labels_and_hardness(y, interval):
        batch = rt._Batch([1.0, 2.0], 0.0, np.ones((4, 2)), y, "mean", interval)
        return batch.y, batch.hard

    public = rt._checked(labels_and_hardness)  # as the module's public functions run
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if high == 1:
            with pytest.raises(ValueError,
                               match=r"labels must lie in \[0, 1\]; y\[1\] = .*1e\+308"):
                public(y, (low, high, "[0, 1]"))
            return
        labels, hard = public(y, (low, high, "I"))
    np.testing.assert_array_equal(labels, y)
    assert not hard


@pytest.mark.parametrize("few", [100, 2])
def test_hard_labels_are_found_alike_by_either_check(few, monkeypatch):
    """Up to FEW_LABELS labels one product finds hard labels and their range; more are
    range-checked by their ends and found hard on first use: the same verdicts and
    messages either way."""
    monkeypatch.setattr(rt, "FEW_LABELS", few)
    public = rt._checked(lambda y: rt._Batch([1.0, 2.0], 0.0, np.ones((4, 2)), y, "mean",
                                             (0, 1, "[0, 1]")).hard)
    assert public(np.array([0.0, 1.0, 1.0, 0.0])) is True
    assert public(np.array([0.0, 1.0, 0.5, 0.0])) is False
    assert public(np.array([0.0, 1.0, 1e-300, 0.0])) is False
    for bad, index in (([0.0, 1.0, 2.0, 0.0], 2), ([0.0, np.nan, 1.0, 0.0], 1)):
        with pytest.raises(ValueError, match=rf"labels must lie in \[0, 1\]; y\[{index}\]"):
            public(np.array(bad))


def test_values_beyond_the_range_of_the_computation_are_named():
    """A longdouble past float64, or a float64 label or b past float32 in a float32 call,
    would become inf (with a cast warning) and be reported as non-finite."""
    huge = np.array([[1.0, np.longdouble("1e400")]] * 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"X has a value beyond the float64 range, in "
                                             r"which this call computes, at index \(0, 1\): "
                                             r"1e\+400"):
            make_batch(X=huge)
        with pytest.raises(ValueError, match=r"y has a value beyond the float32 range.* "
                                             r"at index 2: 1e\+300"):
            rt._Batch(np.ones(2, np.float32), 0.0, np.ones((3, 2), np.float32),
                      [0.0, 1.0, 1e300], "mean", (0, np.inf, "[0, ∞)"))
        with pytest.raises(ValueError, match=r"b has a value beyond the float32 range"):
            rt._Batch(np.ones(2, np.float32), 1e300, np.ones((3, 2), np.float32))
        with pytest.raises(ValueError, match=r"z has a value beyond the float64 range"):
            inputs._float_array(np.longdouble("-1e400"), "z")
    assert inputs._converted(np.array([1e300]), np.float64, "y")[0] == 1e300
    assert inputs._converted(np.array([3.0], np.longdouble), np.float64, "y").dtype == np.float64


@pytest.mark.parametrize("X, w, b, message", [
    ([[0.0, 1.0], [1.0, 2.0], [np.inf, 0.0], [np.nan, 0.0]], [1.0, 1.0], 0.0,
     r"X has a non-finite value in row 2"),
    ([[0.0, 1.0], [1.0, 2.0], [1.0, 1.0]], [1.0, np.nan], 0.0, r"w has a non-finite value at index 1"),
    (np.zeros((0, 2)), [1.0, np.nan], 0.0, r"w has a non-finite value at index 1"),
    ([[0.0, 1.0], [1.0, 2.0], [1.0, 1.0]], [1.0, 1.0], np.inf, r"b is not finite"),
    ([[0.0, 1.0], [1.0, 2.0], [1e308, 1e308]], [10.0, 10.0], 0.0,
     r"z = X @ w \+ b overflows at row 2: the inputs are finite but too large"),
    ([[1.0], [-1.0]], [np.inf], 0.0, r"w has a non-finite value at index 0"),  # inf − inf
])
def test_a_non_finite_z_is_explained_with_its_culprit_and_no_warning(X, w, b, message):
    """w and b are checked when the batch is made (X may have no rows); X and the
    overflow of z when z is computed, without a warning from a public function (the
    check's own sum of z is inf − inf = nan here; ``_checked`` turns warnings off)."""
    public = rt._checked(lambda w, b, X: rt._Batch(w, b, X).all_z())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=message):
            public(w, b, X)


def test_a_single_sample_with_a_non_finite_feature_names_it():
    batch = make_batch(X=np.array([1.0, np.inf]), y=1.0)
    with pytest.raises(ValueError, match=r"X has a non-finite value in row 0"):
        batch.scalars()


def test_float_array_keeps_float32_and_names_a_bad_entry():
    assert inputs._float_array(np.ones(2, np.float16), "z").dtype == np.float64
    assert inputs._float_array(np.ones(2, np.float32), "z").dtype == np.float32
    assert inputs._float_array([1, 2], "z").dtype == np.float64
    with pytest.raises(ValueError, match=r"z must be numeric, got dtype <U1"):
        inputs._float_array(["a"], "z")
    with pytest.raises(ValueError, match=r"z has a non-finite value at index 2"):
        inputs._float_array([0.0, 1.0, np.nan], "z")
    with pytest.raises(ValueError, match=r"z has a non-finite value at index \(1, 0\)"):
        inputs._float_array([[0.0, 1.0], [-np.inf, 1.0]], "z")


def test_scalar_is_converted_to_the_computation_dtype():
    value = inputs._scalar(2, "b", np.float32)
    assert value == 2 and value.dtype == np.float32
    for bad in ([1.0, 2.0], "1", [1.0, [2.0]], 1j, np.ma.masked_array(1.0)):
        with pytest.raises(ValueError, match="b must be a real scalar"):
            inputs._scalar(bad, "b", np.float64)
    with pytest.raises(ValueError, match="b is not finite: np.float64\\(nan\\)"):
        inputs._scalar(np.nan, "b", np.float64)


def test_float32_inputs_are_computed_in_float32():
    batch = make_batch(w=np.ones(2, np.float32), X=np.ones((4, 2), np.float32))
    loss, dw, db = batch.value_and_grad(squares)
    assert batch.dtype is np.float32
    assert loss.dtype == dw.dtype == db.dtype == np.float32


# --- reductions ----------------------------------------------------------------------


@pytest.mark.parametrize("labels", ["hard", "soft"])
def test_reductions_of_the_block_results(labels, small_blocks):
    """Blocks of 3 rows over 100 rows: more blocks than STRIPES, the last one short;
    "none" gives the per-sample values, "sum" and "mean" their sums and averages."""
    rng = np.random.default_rng(3)
    X, w, b = rng.normal(size=(100, 2)), rng.normal(size=2), 0.25
    y = rng.integers(0, 2, 100).astype(float) if labels == "hard" else rng.random(100)
    loss, delta = squares(X @ w + b, y)
    per_block, hard = ((squares_of_hard_labels, True) if labels == "hard"
                       else (squares, False))
    batch = make_batch(w, b, X, y, "none")
    assert batch.hard == (labels == "hard")
    each, dw_each, db_each = batch.value_and_grad(per_block, hard)
    np.testing.assert_allclose(each, loss, rtol=1e-14)
    np.testing.assert_allclose(dw_each, delta[:, None] * X, rtol=1e-14)
    np.testing.assert_allclose(db_each, delta, rtol=1e-14)
    for reduction, reduce in (("sum", np.sum), ("mean", np.mean)):
        batch = make_batch(w, b, X, y, reduction)
        total, dw, db = batch.value_and_grad(per_block, hard)
        np.testing.assert_allclose(total, reduce(loss), rtol=1e-13)
        np.testing.assert_allclose(dw, reduce(delta[:, None] * X, axis=0), rtol=1e-13)
        np.testing.assert_allclose(db, reduce(delta), rtol=1e-13)
        assert batch.loss(per_block, hard) == total
        np.testing.assert_array_equal(np.concatenate(batch.grad(per_block, hard), axis=None),
                                      np.concatenate((dw, db), axis=None))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_mean_or_sum_of_finite_terms_is_formed_without_overflow(reduction, threads,
                                                                  small_blocks, monkeypatch):
    """Terms of 1.5e308 over 40 rows in blocks of 3: every partial sum overflows, so the
    terms are summed again, each times 2^-7 (exactly); the mean is 1.5e308 to rounding,
    and the sum beyond the range is refused."""
    monkeypatch.setattr(rt, "THREADS", threads)
    monkeypatch.setattr(rt, "MIN_SHARED_BLOCKS", 2)

    def large(z, y):
        return np.full(z.shape, 1.5e308), np.full(z.shape, -1.5e308)

    batch = make_batch(X=np.ones((40, 2)), y=np.zeros(40), reduction=reduction)
    value_and_grad = rt._checked(batch.value_and_grad)  # as a public function runs it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if reduction == "sum":
            with pytest.raises(ValueError, match=r"the sum over the 40 samples is not finite "
                                                 r"in float64: the exact value is beyond"):
                value_and_grad(large)
            return
        loss, dw, db = value_and_grad(large)
    assert loss == pytest.approx(1.5e308, rel=1e-15) and db == pytest.approx(-1.5e308,
                                                                             rel=1e-15)
    np.testing.assert_allclose(dw, [-1.5e308, -1.5e308], rtol=1e-15)


def test_ordinary_sums_keep_their_bits(small_blocks):
    """The scaled sums are a second pass, only where the plain one overflowed: an
    ordinary mean is the plain sum over m, as before."""
    rng = np.random.default_rng(6)
    X, w, y = rng.normal(size=(50, 2)), rng.normal(size=2), rng.random(50)
    batch = make_batch(w, 0.2, X, y)
    total = batch._sums(squares, False, 1)  # the plain sums, over the stripes
    loss, dw, db = batch.value_and_grad(squares)
    assert loss == total[0] / 50 and db == total[1] / 50
    np.testing.assert_array_equal(dw, total[2:] / 50)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_the_first_row_with_a_term_beyond_the_range_is_named(reduction, small_blocks):
    """Row 4 has δ = 1e200 and x = 1e200 (δ·x overflows), row 7 an infinite loss: the
    error names row 4, its z and y, whichever block finds it."""
    X = np.ones((10, 2))
    X[4] = 1e200

    def terms(z, y):
        loss, delta = np.ones(z.shape), np.ones(z.shape)
        delta[z > 1e100] = 1e200
        loss[y == 0.5] = np.inf
        return loss, delta

    y = np.zeros(10)
    y[7] = 0.5
    batch = make_batch(w=(1.0, 0.0), b=0.0, X=X, y=y, reduction=reduction)
    with pytest.raises(ValueError, match=r"δ·x at row 4 \(z = 1e\+200, y = 0\) is not "
                                         r"finite in float64"):
        batch.value_and_grad(terms)
    X[4] = 1.0
    batch = make_batch(w=(1.0, 0.0), b=0.0, X=X, y=y, reduction=reduction)
    with pytest.raises(ValueError, match=r"the loss at row 7 \(z = 1, y = 0.5\)"):
        batch.loss(lambda z, y: (terms(z, y)[0], None))


def test_a_block_function_may_leave_out_the_loss_or_delta(small_blocks):
    X, y = np.ones((7, 2)), np.zeros(7)
    loss_only = make_batch(X=X, y=y, reduction="none").value_and_grad(
        lambda z, y: (z - y, None))
    assert loss_only[1] is None and loss_only[2] is None
    dw, db = make_batch(X=X, y=y, reduction="sum").grad(lambda z, y: (None, z - y))
    np.testing.assert_allclose(dw, [7 * 3.5, 7 * 3.5])
    np.testing.assert_allclose(db, 7 * 3.5)


def test_a_single_sample_is_reduced_to_nothing():
    batch = make_batch(X=np.array([1.0, 2.0]), y=1.0, reduction="mean")
    z, y = batch.scalars()
    assert (z, y) == (5.5, 1.0)
    dw, db = batch.single_grad(2.0)
    np.testing.assert_array_equal(dw, [2.0, 4.0])
    assert db == 2.0 and batch.single_loss(3.0) == 3.0


# --- worker threads ------------------------------------------------------------------


def test_worker_threads_give_the_sums_of_the_calling_thread(monkeypatch, small_blocks):
    """The workers add the same stripes in the same order whatever their number, so
    2 and 3 threads agree to the bit; the calling thread's BLAS products round
    differently, so THREADS = 1 agrees to rounding."""
    monkeypatch.setattr(rt, "MIN_SHARED_BLOCKS", 2)
    rng = np.random.default_rng(4)
    X, w, y = rng.normal(size=(203, 2)), rng.normal(size=2), rng.random(203)
    results, threads_used = {}, {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(rt, "THREADS", threads)
        names = set()

        def recording(z, y, names=names):
            names.add(threading.current_thread().name)
            return squares(z, y)

        results[threads] = np.hstack(make_batch(w, 0.1, X, y).value_and_grad(recording))
        threads_used[threads] = names
    assert threads_used[1] == {threading.current_thread().name}
    assert all(name.startswith("derive") for name in threads_used[2] | threads_used[3])
    np.testing.assert_array_equal(results[2], results[3])
    np.testing.assert_allclose(results[1], results[2], rtol=1e-13)
    loss, delta = squares(X @ w + 0.1, y)
    np.testing.assert_allclose(results[1], [loss.mean(), *(delta @ X) / 203, delta.mean()],
                               rtol=1e-13)


def test_each_raises_the_first_error_of_a_worker(monkeypatch):
    monkeypatch.setattr(rt, "THREADS", 2)

    def fail_on_three(item):
        if item == 3:
            raise KeyError(f"item {item}")

    with pytest.raises(KeyError, match="item 3"):
        rt._each(fail_on_three, range(8), threaded=True)


def test_workers_compute_under_the_callers_floating_point_settings(monkeypatch):
    monkeypatch.setattr(rt, "THREADS", 2)

    def overflow(item):
        np.exp(np.full(2, 1000.0))

    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        rt._each(overflow, range(4), threaded=True)
    with np.errstate(over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        rt._each(overflow, range(4), threaded=True)


def test_the_pool_is_made_once_per_thread_count(monkeypatch):
    monkeypatch.setattr(rt, "THREADS", 2)
    pool = rt._pool()
    assert rt._pool() is pool and pool._max_workers == 2
    monkeypatch.setattr(rt, "THREADS", 3)
    other = rt._pool()
    assert other is not pool and other._max_workers == 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_a_forked_child_makes_its_own_worker_threads(monkeypatch, small_blocks):
    monkeypatch.setattr(rt, "THREADS", 2)
    monkeypatch.setattr(rt, "MIN_SHARED_BLOCKS", 2)
    X, y = np.ones((30, 2)), np.zeros(30)
    expected = make_batch(X=X, y=y).value_and_grad(squares)
    pool = rt._pool()

    def fresh_pool_same_result():
        same = np.array_equal(np.hstack(make_batch(X=X, y=y).value_and_grad(squares)),
                              np.hstack(expected))
        return rt._pool() is not pool and same

    assert holds_in_forked_child(fresh_pool_same_result)


# --- the pieces only some modules carry ------------------------------------------------


def test_checked_turns_a_result_beyond_the_float_range_into_a_value_error():
    """Warnings off, and the first entry that is not finite named (not the largest |z|,
    which may be harmless: e^(−800) is)."""
    @rt._checked
    def exp_of(w, b, X):
        return np.exp(rt._Batch(w, b, X).all_z())

    @rt._checked
    def overflow_in_math(z):
        return math.exp(z)

    assert exp_of.__name__ == "exp_of"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(exp_of([1.0], 0.0, [[1.0]]), [np.e])
        with pytest.raises(ValueError, match=r"exp_of: the result is not finite in float64 at "
                                             r"index 2: the exact value is beyond its range; "
                                             r"rescale w, b, X"):
            exp_of([1.0], 0.0, [[1.0], [-800.0], [800.0]])
        with pytest.raises(ValueError, match=r"overflow_in_math: .* rescale z"):
            overflow_in_math(800.0)


def test_log1p_ratio_is_its_limit_1_where_t_underflowed():
    t = np.array([0.0, 1e-300, 1e-8, 0.5, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ratio = inputs._log1p_ratio(t)
    np.testing.assert_allclose(ratio, [1, 1, 1 - 5e-9, 2 * np.log1p(0.5), np.log(2)],
                               rtol=1e-15)


def test_runtime_passes_ruff():
    files = [str(path) for path in RUNTIME_FILES]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *files],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- pasting -------------------------------------------------------------------------

SOURCE = '''"""A module."""

import functools
import os

LIMIT = 3
"""The limit."""
OTHER: int = 4


@functools.cache
def cached():
    return LIMIT


# not pasted: a comment between pieces
class Thing:
    pass


def hook():
    pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=hook)
'''


def test_pieces_are_the_exact_source_of_each_definition():
    found = pieces(SOURCE)
    assert list(found) == ["imports", "LIMIT", "OTHER", "cached", "Thing", "hook"]
    assert found["imports"].text == "import functools\nimport os"
    assert found["LIMIT"].text == 'LIMIT = 3\n"""The limit."""'
    assert found["cached"].text.startswith("@functools.cache\ndef cached():")
    assert found["Thing"].text == "class Thing:\n    pass"
    assert found["hook"].text.endswith("    os.register_at_fork(after_in_child=hook)")
    assert [piece.definition for piece in found.values()] == [False] * 3 + [True] * 3


def test_pasted_pieces_are_laid_out_as_pep_8_lays_out_top_level_code():
    assert pasted(SOURCE, ["OTHER", "LIMIT", "Thing"]) == (
        'OTHER: int = 4\nLIMIT = 3\n"""The limit."""\n\n\nclass Thing:\n    pass')


@pytest.mark.parametrize("source, message", [
    ("X = 1\nX = 2\n", "line 2: X is defined twice"),
    ("X = 1\nimport os\n", "line 2: imports must come before every definition"),
    ("print(1)\nX = 1\n", "line 1: a statement before any definition"),
])
def test_a_source_that_is_not_made_of_pieces_is_refused(source, message):
    with pytest.raises(ValueError, match=message):
        pieces(source)


def test_a_missing_piece_is_an_error_that_names_it():
    with pytest.raises(LookupError, match="no top-level definition named nothing"):
        pasted(SOURCE, ["LIMIT", "nothing"])


@pytest.mark.parametrize("path", RUNTIME_FILES, ids=lambda path: path.name)
def test_every_line_of_the_runtime_is_in_a_piece(path):
    """A top-level comment of a runtime file would silently not be pasted."""
    source = path.read_text(encoding="utf-8")
    docstring_end = ast.parse(source).body[0].end_lineno
    body = source.splitlines()[docstring_end:]
    pasted_lines = "\n".join(piece.text for piece in pieces(source).values()).splitlines()
    assert [line for line in body if line.strip()] == \
        [line for line in pasted_lines if line.strip()]


def test_the_pasted_imports_are_the_runtime_s_own_and_never_derive():
    imports = pieces(runtime_source())["imports"].text
    assert "derive" not in imports
    assert "import numpy as np" in imports


def test_the_template_pastes_every_piece_of_the_runtime():
    """Every piece of runtime.py reaches some generated module: named in the template,
    or a helper an activation's stable forms may call (pasted where one does)."""
    calls = []
    for name in (TEMPLATE, "second_order.py.jinja"):  # the module and what it includes
        source = (templates_folder() / name).read_text(encoding="utf-8")
        template = environment(**LATEX_DELIMITERS).parse(source)
        calls += [call for call in template.find_all(jinja2.nodes.Call)
                  if isinstance(call.node, jinja2.nodes.Name) and call.node.name == "runtime"]
    named = {argument.value for call in calls for argument in call.args
             if isinstance(argument, jinja2.nodes.Const)}
    helpers = {helper.code_name for helper in HELPERS}
    assert named | helpers == set(pieces(runtime_source()))


# --- Dask arrays (runtime_dask.py; the generated functions on Dask: tests/test_dask.py) -------


@pytest.mark.parametrize("message, starts, expected", [
    ("X has a non-finite value in row 3", (100,), "X has a non-finite value in row 103"),
    ("labels must lie in [0, 1]; y[0] = 2.0", (7,), "labels must lie in [0, 1]; y[7] = 2.0"),
    ("the loss at row 2 (z = 800, y = 0)", (40,), "the loss at row 42 (z = 800, y = 0)"),
    ("f: the result is not finite in float64 at index (1, 2): rescale w",
     (10,), "f: the result is not finite in float64 at index (11, 2): rescale w"),
    ("z has a non-finite value at index (1, 2)", (4, 30), "z has a non-finite value at index (5, 32)"),
    ("z has a non-finite value at index 5", (1000,), "z has a non-finite value at index 1005"),
    ("X has 3 features per sample but w has 2", (9,), "X has 3 features per sample but w has 2"),
])
def test_a_chunk_s_message_gets_the_rows_of_the_whole_array(message, starts, expected):
    assert dask_runtime._dask_shifted(message, starts) == expected


def test_checked_hands_dask_arrays_to_on_dask_only_where_a_module_carries_it(monkeypatch):
    """A module without the Dask pieces (the numba target's) computes as before."""
    class Array:  # stands in for dask.array.Array
        pass

    monkeypatch.setitem(sys.modules, "dask.array", type(sys)("dask.array"))
    monkeypatch.setattr(sys.modules["dask.array"], "Array", Array, raising=False)
    seen = []
    identity = rt._checked(lambda value: seen.append("plain") or 1.0)
    assert identity(Array()) == 1.0 and seen == ["plain"]
    monkeypatch.setattr(rt, "_on_dask", lambda function, *arguments: arguments[0], raising=False)
    lazy = Array()
    assert identity(lazy) is lazy and seen == ["plain"]  # not checked as a number
    assert identity(2.0) == 1.0 and seen == ["plain", "plain"]
