"""The numba target against the same suite as the NumPy target (issue 18).

The checks of ``test_pairs``, ``test_generated_code``, ``test_accuracy`` and
``test_module_hardening`` are run here on both targets of every valid pair: finite
differences, the mpmath reference at extreme z in float64 and float32, the 4-ULP grid
for hard labels, the property test against hostile input. Then what only two targets
can show: the numba module's results equal the NumPy module's (1e-12 relative), do not
depend on the number of threads (identical bits), and its errors are the NumPy
module's, word for word. The numba modules are written to ``.pytest_cache`` (rewritten
only when their text changes) so that numba's cache keeps the compiled kernels between
sessions. Skipped without numba.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import test_accuracy
import test_generated_code
import test_module_hardening as hardening
import test_pairs
from hypothesis import HealthCheck, given, settings
from support import NUMBA_MODULES, PAIRS, built_pair, labels_for, numba_module

from derive.build import python_module, stem

numba = pytest.importorskip("numba")

TARGETS = ("numpy", "numba")


def _numba_module(book):
    """The numba module of ``book``'s model, imported from its file."""
    return numba_module(python_module(book, "numba"), f"{stem(book.model)}_numba")


def target_pair(act_name, loss_name, target):
    """(model, book, module) of one pair and target."""
    model, book, module = built_pair(act_name, loss_name)
    return (model, book, module if target == "numpy" else _numba_module(book))


@pytest.fixture(scope="module", params=[(*p, t) for p in PAIRS for t in TARGETS],
                ids=lambda param: "_".join(param))
def pair(request):
    return target_pair(*request.param)


@pytest.fixture(scope="module", params=PAIRS, ids=lambda p: "_".join(p))
def both(request):
    """(model, NumPy module, numba module) of each pair."""
    model, _, module = built_pair(*request.param)
    return model, module, target_pair(*request.param, "numba")[2]


@pytest.fixture(scope="module")
def note():
    """The note's model's numba module (sigmoid with se and ce)."""
    from derive.engine.derivations import derive_all
    from derive.engine.model import default_model

    return _numba_module(derive_all(default_model()))


# --- the NumPy target's suite, on both targets -------------------------------------


def test_code_matches_finite_differences(pair):
    test_pairs.test_code_matches_finite_differences(pair)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_code_matches_mpmath_at_extreme_inputs(pair, dtype):
    test_pairs.test_code_matches_mpmath_at_extreme_inputs(pair, dtype)


def test_float32_stays_float32_and_quiet(pair):
    test_pairs.test_float32_stays_float32_and_quiet(pair)


def test_labels_outside_the_accepted_interval_are_refused(pair):
    test_pairs.test_labels_outside_the_accepted_interval_are_refused(pair)


def test_a_single_sample_agrees_with_a_batch_of_one(pair):
    test_pairs.test_a_single_sample_agrees_with_a_batch_of_one(pair)


def test_the_penalty_is_added_once_and_its_gradient_holds(pair):
    """l2: R(w) = (λ/2)·w·w added once to the mean and the sum, λw to dw, nothing to db
    or to "none"; finite differences of the penalised loss give the penalised gradient."""
    model, _, module = pair
    name = model.losses[0].name
    rng = np.random.default_rng(11)
    X, w, b = rng.normal(size=(30, 3)), rng.normal(size=3), 0.1
    y = rng.choice(labels_for(model), size=30)
    both_ = getattr(module, f"value_and_grad_{name}")
    for reduction in ("mean", "sum"):
        plain, penalised = both_(w, b, X, y, reduction), both_(w, b, X, y, reduction, l2=0.7)
        assert penalised[0] == pytest.approx(plain[0] + 0.35 * (w @ w), rel=1e-14)
        np.testing.assert_allclose(penalised[1], plain[1] + 0.7 * w, rtol=1e-14)
        assert penalised[2] == plain[2]
    for got, want in zip(both_(w, b, X, y, "none", l2=0.7), both_(w, b, X, y, "none")):
        np.testing.assert_array_equal(got, want)
    loss = getattr(module, f"loss_{name}")
    step, dw = 1e-6, getattr(module, f"grad_{name}")(w, b, X, y, l2=0.7)[0]
    numeric = [(loss(w + step * e, b, X, y, l2=0.7) - loss(w - step * e, b, X, y, l2=0.7))
               / (2 * step) for e in np.eye(3)]
    np.testing.assert_allclose(dw, numeric, rtol=1e-6, atol=1e-8)
    for bad in (-1.0, np.nan, np.inf, "1", None, True):
        with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0, got "):
            loss(w, b, X, y, l2=bad)


@pytest.fixture
def note_target(request, note, monkeypatch):
    """The note's module of the target named by the test's parameter, as ``lr`` of the
    NumPy target's test modules."""
    module = note if request.param == "numba" else test_generated_code.lr
    monkeypatch.setattr(test_generated_code, "lr", module)
    monkeypatch.setattr(test_accuracy, "lr", module)
    return module


@pytest.mark.parametrize("note_target", TARGETS, indirect=True)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["ce", "se"])
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_note_loss_and_gradient_match_mpmath_at_extreme_z(note_target, name, label, dtype):
    test_generated_code.test_loss_and_gradient_match_mpmath_at_extreme_z(name, label, dtype)


@pytest.mark.parametrize("note_target", ["numba"], indirect=True)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["ce", "se"])
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_hard_labels_within_four_ulp_on_a_dense_grid(note_target, name, label, dtype):
    """The NumPy target runs this in test_accuracy; here the numba target."""
    test_accuracy.test_hard_labels_within_four_ulp_on_a_dense_grid(name, label, dtype)


@pytest.mark.parametrize("note_target", ["numba"], indirect=True)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["ce", "se"])
def test_soft_labels_are_finite_and_within_the_stated_bound(note_target, name, dtype):
    test_accuracy.test_soft_labels_are_finite_and_within_the_stated_bound(name, dtype)


@pytest.mark.parametrize("note_target", TARGETS, indirect=True)
@pytest.mark.parametrize("name", ["ce", "se"])
@pytest.mark.parametrize("m, n", [(1, 1), (1, 5), (8, 1), (16, 4)])
def test_note_gradient_matches_central_differences(note_target, name, m, n):
    test_generated_code.test_gradient_matches_central_differences(name, m, n)


@pytest.mark.parametrize("act_name, loss_name", PAIRS, ids=["_".join(p) for p in PAIRS])
def test_every_call_returns_an_accurate_result_or_names_the_bad_argument(act_name,
                                                                        loss_name):
    """test_module_hardening's property test on the numba module (500 examples a pair:
    its NumPy twin runs 2 000)."""
    pair_ = hardening._pair(act_name, loss_name)
    numba_pair = object.__new__(type(pair_))
    numba_pair.__dict__.update(pair_.__dict__, module=target_pair(act_name, loss_name,
                                                                  "numba")[2])
    outcomes = {}

    @settings(max_examples=500, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(call=hardening.calls(numba_pair))
    def one_call(call):
        outcome = hardening._check_call(numba_pair, call)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one_call()
    assert sum(outcomes.values()) >= 500 and outcomes.get("result", 0) > 100


# --- what two targets show ------------------------------------------------------------


def _calls(model, m, rng, dtype=np.float64):
    """Arguments of calls over m rows of 7 features, in ``dtype``."""
    X = rng.normal(size=(m, 7)).astype(dtype)
    w, b = (rng.normal(size=7) * 0.4).astype(dtype), dtype(0.3)
    y = np.asarray(rng.choice(labels_for(model), size=m), dtype)
    return w, b, X, y


def _functions(model, module):
    name = model.losses[0].name
    return [getattr(module, f"{kind}_{name}") for kind in ("loss", "grad", "value_and_grad")]


def _parts(result):
    return [np.asarray(part) for part in (result if isinstance(result, tuple) else (result,))]


@pytest.mark.parametrize("m", [1, 5, 4096 * 3 + 17, 40_000])
def test_numba_results_equal_numpys_to_1e_12(both, m):
    """float64: every reduction, with and without l2, across one and many stripes; per
    sample ("none") relative to the largest value of the array."""
    model, numpy_module, numba_module = both
    rng = np.random.default_rng(m)
    w, b, X, y = _calls(model, m, rng)
    for reduction in ("mean", "sum", "none"):
        for l2 in (0.0, 0.25):
            for mine, theirs in zip(_functions(model, numba_module),
                                    _functions(model, numpy_module)):
                got = _parts(mine(w, b, X, y, reduction, l2=l2))
                want = _parts(theirs(w, b, X, y, reduction, l2=l2))
                for g, t in zip(got, want, strict=True):
                    assert g.dtype == t.dtype and g.shape == t.shape
                    # Per sample, normwise: z = x·w + b is summed in another order, and
                    # δ(z) may cancel (z − y near 0) in either module.
                    scale = np.max(np.abs(t)) if reduction == "none" else 0.0
                    np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12 * scale + 1e-300)
    single = _parts(_functions(model, numba_module)[2](w, b, X[0], y[0], l2=0.5))
    for g, t in zip(single, _parts(_functions(model, numpy_module)[2](w, b, X[0], y[0], l2=0.5))):
        np.testing.assert_allclose(g, t, rtol=1e-14)


def test_second_order_functions_are_the_numpy_modules(both):
    """hessian_*, hvp_* and newton_step_* have the NumPy module's code (products of X
    with itself are BLAS's work): the same bits; a Newton step takes the numba
    gradient, so it agrees to 1e-12."""
    model, numpy_module, numba_module = both
    name = model.losses[0].name
    w, b, X, y = _calls(model, 300, np.random.default_rng(7))
    v = np.random.default_rng(8).normal(size=8)
    for kind, extra in (("hessian", ()), ("hvp", (v,))):
        mine = getattr(numba_module, f"{kind}_{name}")(w, b, X, y, *extra, l2=0.3)
        theirs = getattr(numpy_module, f"{kind}_{name}")(w, b, X, y, *extra, l2=0.3)
        np.testing.assert_array_equal(mine, theirs)
    assert (f"newton_step_{name}" in numba_module.__all__) == hasattr(numpy_module,
                                                                     f"newton_step_{name}")
    if hasattr(numpy_module, f"newton_step_{name}"):
        mine = getattr(numba_module, f"newton_step_{name}")(w, b, X, y, l2=0.3)
        theirs = getattr(numpy_module, f"newton_step_{name}")(w, b, X, y, l2=0.3)
        np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-12, atol=1e-14)
        assert mine[1] == pytest.approx(theirs[1], rel=1e-12, abs=1e-14)


def test_dask_arrays_are_refused_with_the_way_out(note):
    """The kernels take arrays in memory: a Dask X is refused, not computed whole."""
    dask_array = pytest.importorskip("dask.array")
    X = dask_array.from_array(np.ones((10, 3)), chunks=5)
    for call in (lambda: note.grad_ce(np.zeros(3), 0.0, X, np.zeros(10)),
                 lambda: note.hessian_ce(np.zeros(3), 0.0, X, np.zeros(10))):
        with pytest.raises(ValueError, match=r"of the numba module does not take Dask "
                                             r"arrays; pass NumPy arrays .*NumPy module"):
            call()


def test_float32_results_agree_with_numpys(both):
    model, numpy_module, numba_module = both
    w, b, X, y = _calls(model, 9000, np.random.default_rng(2), np.float32)
    for mine, theirs in zip(_functions(model, numba_module), _functions(model, numpy_module)):
        for g, t in zip(_parts(mine(w, b, X, y)), _parts(theirs(w, b, X, y)), strict=True):
            assert g.dtype == t.dtype == np.float32
            np.testing.assert_allclose(g, t, rtol=2e-4, atol=1e-6)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="numba has one thread here")
def test_sums_are_bit_identical_for_one_and_two_threads(both):
    model, _, module = both
    w, b, X, y = _calls(model, 4096 * 8 + 3, np.random.default_rng(4))
    results = {}
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            results[threads] = [_parts(f(w, b, X, y, reduction))
                                for f in _functions(model, module) for reduction in ("mean", "sum")]
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for one, two in zip(results[1], results[2]):
        for a, b_ in zip(one, two):
            assert a.tobytes() == b_.tobytes()


def _outcome(function, *arguments, **keywords):
    """(error type, message), or None when ``function`` returns."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            function(*arguments, **keywords)
    except (TypeError, ValueError) as error:
        return type(error).__name__, str(error)
    return None


BIG = 4096 * 4
"""Rows enough for several stripes: a bad row is then found by another thread."""


def _bad_calls(model):
    """(arguments, keywords) of calls that every module must refuse."""
    ones, zeros = np.ones((BIG, 3)), np.zeros(BIG)
    label = labels_for(model)[0]
    y = np.full(BIG, label)
    nan_row = ones.copy()
    nan_row[BIG - 5, 1] = np.nan
    huge = ones.copy()
    huge[3 * BIG // 4, 1] = 1e308
    return [
        ((np.ones(3), 0.0, np.ones((4, 2)), y[:4]), {}),
        ((np.ones((3, 1)), 0.0, ones[:4], y[:4]), {}),
        ((np.ones(3), 0.0, ones[:4], zeros[:5]), {}),
        ((np.ones(3), 0.0, ones[:4], np.array([label, np.nan, label, label])), {}),
        ((np.array([1.0, np.inf, 0.0]), 0.0, ones[:4], y[:4]), {}),
        ((np.ones(3), np.nan, ones[:4], y[:4]), {}),
        ((np.ones(3), 0.0, nan_row, y), {}),
        ((np.array([1.0, 10.0, 1.0]), 0.0, huge, y), {}),
        ((np.ones(3), 0.0, ones[:0], zeros[:0]), {}),
        ((np.ones(3), 0.0, ones[:4], y[:4], "average"), {}),
        ((np.ones(3), 0.0, ones[:4], y[:4]), {"l2": -0.5}),
        ((None, 0.0, ones[:4], y[:4]), {}),
        ((np.ones(3), 0.0, np.ma.masked_array(ones[:4]), y[:4]), {}),
        ((np.ones(3), 0.0, ones[:4].astype(complex), y[:4]), {}),
        ((np.ones(3, np.float32), 1e300, ones[:4].astype(np.float32), y[:4]), {}),
        (([1e308], 0.0, np.ones((2, 1)), np.full(2, label), "sum"), {}),
        (([709.0], 0.0, np.vstack([np.full((BIG, 1), -1.0), [[1.0], [1.0]]]),
          np.full(BIG + 2, label)), {}),
        (([709.0], 0.0, np.vstack([np.full((BIG, 1), -1.0), [[1.0], [1.0]]]),
          np.full(BIG + 2, label), "none"), {}),
        (([3e38], np.float32(0), np.ones((BIG, 1), np.float32),
          np.full(BIG, label, np.float32), "sum"), {}),
    ]


def test_errors_are_the_numpy_modules_word_for_word(both):
    model, numpy_module, numba_module = both
    refused = 0
    for arguments, keywords in _bad_calls(model):
        for mine, theirs in zip(_functions(model, numba_module),
                                _functions(model, numpy_module)):
            want = _outcome(theirs, *arguments, **keywords)
            assert _outcome(mine, *arguments, **keywords) == want, (mine.__name__, want)
            refused += want is not None
    assert refused >= 3 * 14


# --- the module itself ---------------------------------------------------------------


def test_module_passes_ruff_and_imports_numpy_numba_and_the_standard_library(note):
    path = note.__file__
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", path],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(path, encoding="utf-8") as file:
        source = file.read()
    imports = {line.split()[1] for line in source.splitlines()
               if line.strip().startswith(("import ", "from "))}
    assert imports == {"functools", "math", "os", "sys", "threading", "concurrent.futures",
                       "numpy", "numba"}
    assert sorted(note.__all__) == sorted(test_generated_code.lr.__all__)  # the same API


def _python(code, tmp_path, **environment):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(NUMBA_MODULES)]),
           **environment}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300, check=False)


def test_without_numba_the_module_says_how_to_install_it(note, tmp_path):
    (tmp_path / "numba").mkdir()
    (tmp_path / "numba" / "__init__.py").write_text("raise ImportError('no numba here')\n")
    result = _python("import logistic_regression_numba", tmp_path)
    assert result.returncode != 0
    assert "ImportError: this module is the numba target of derive and needs numba: pip " \
           "install numba (or pip install 'derive[fast]')" in result.stderr


def test_a_second_process_loads_the_kernels_from_the_cache(note, tmp_path):
    """The kernels are compiled once: a fresh process finds them in numba's cache."""
    code = ("import numpy as np, logistic_regression_numba as m\n"
            "m.value_and_grad_ce(np.ones(3), 0.0, np.ones((9000, 3)), np.zeros(9000))\n"
            "print(sum(m._stripes.stats.cache_hits.values()), "
            "sum(m._stripes.stats.cache_misses.values()))\n")
    _python(code, tmp_path)  # compiles where this session has not
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "0"]


def test_code_and_build_write_the_numba_target(tmp_path):
    from derive.cli import main

    assert main(["code", "--target", "numba", "--activation", "tanh", "--loss", "se",
                 "-o", str(tmp_path / "t.py")]) == 0
    assert "@numba.njit" in (tmp_path / "t.py").read_text()
    assert main(["build", "--target", "numpy,numba", "--activation", "sigmoid", "--loss",
                 "ce", "--no-pdf", "--out", str(tmp_path / "out")]) == 0
    assert {"sigmoid_ce.py", "sigmoid_ce_numba.py"} <= {p.name for p in (tmp_path / "out").iterdir()}
    with pytest.raises(SystemExit):
        main(["build", "--target", "fortran"])
