"""The softmax neuron (issue 17): derivations proved for symbolic K, m and n, steps with
teeth, the generated module against finite differences, mpmath, scikit-learn and the
sigmoid + ce module, and the command line."""

import re
import subprocess
import warnings

import mpmath
import numpy as np
import pytest
from support import GENERATED, load_generated, numba_module
from sympy import Derivative, KroneckerDelta, MatMul

from derive.build import load_module, python_module, sheet_source
from derive.cli import main
from derive.codegen import runtime_softmax
from derive.config import SheetInfo
from derive.engine import labels
from derive.engine.choice import InvalidChoice, choose
from derive.engine.softmax import SOFTMAX, VECTOR_LOSSES, a, i, k, y, z
from derive.engine.softmax_derivations import (
    default_softmax_model,
    derive_softmax,
    softmax_links,
)
from derive.engine.steps import Step, StepError
from derive.sheet.pdf import compile_pdf


@pytest.fixture(scope="module")
def book():
    return derive_softmax(default_softmax_model(("cce", "se"), "l2"))


TARGETS = ("numpy", "numba")


def softmax_module(name, target="numpy"):
    """The softmax module of loss ``name`` for ``target``, rendered now; the numba
    module's kernels are compiled on first use (cached beside its file)."""
    source = python_module(derive_softmax(default_softmax_model((name,))), target)
    if target == "numpy":
        return load_module(source, f"generated_softmax_{name}")
    pytest.importorskip("numba")
    return numba_module(source, f"softmax_{name}_numba")


@pytest.fixture(scope="module", params=[(name, target) for name in ("cce", "se")
                                        for target in TARGETS],
                ids=lambda param: "_".join(param))
def module(request):
    """(module, loss name) of each loss and code target."""
    return softmax_module(*request.param), request.param[0]


# --- the sheets ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["cce", "se"])
@pytest.mark.parametrize("variant", ["solutions", "problems"])
def test_the_sheets_compile_without_overfull_lines(loss, variant, latex_engine, tmp_path):
    """The squared error's δ_i is shown factored, a_i(a_i − y_i − Σ_k a_k(a_k − y_k)),
    so that every line fits the page."""
    book = derive_softmax(default_softmax_model((loss,), "l2"))
    pdf = tmp_path / "sheet.pdf"
    run = compile_pdf(sheet_source(book, SheetInfo(), variant), pdf)
    assert "Output written on" in run.log
    assert not re.search(r"^!", run.log, re.MULTILINE)
    assert "Overfull \\hbox" not in run.log
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "softmax" in text.lower()


# --- the derivations ---------------------------------------------------------------------


def test_every_step_is_proved_symbolically(book):
    steps = [step for derivation in book for step in derivation.steps]
    assert len(steps) > 40
    assert sum(step.method == "symbolic" for step in steps) >= 0.9 * len(steps)


def test_the_results_are_those_of_the_issue(book):
    cce = VECTOR_LOSSES["cce"]
    jacobian = book[labels.SOFTMAX_JACOBIAN].rhs
    assert (jacobian - a[k] * (KroneckerDelta(k, i) - a[i])).expand() == 0
    assert (book[labels.class_gradient(cce, "z")].rhs - (a[i] - y[i])).expand() == 0
    matrix = book[labels.class_matrix_gradient(cce)].rhs
    assert isinstance(matrix.args[0], MatMul) and "lambda" in str(matrix)


def test_canonical_links_cce_yes_se_no():
    rows = {name: canonical for name, _, canonical, _ in softmax_links()}
    assert rows == {"cce": True, "se": False}


def _corruptions(step):
    rhs = step.rhs
    if rhs.is_Matrix or getattr(rhs, "is_MatrixExpr", False):
        yield 2 * rhs
        return
    yield 2 * rhs + 1
    yield -rhs if rhs != 0 else rhs + 1
    yield rhs + a[i]


def test_every_corrupted_step_is_refused(book):
    checked = 0
    for derivation in book:
        for step in derivation.steps:
            for wrong in _corruptions(step):
                with pytest.raises(StepError):
                    Step(step.lhs, wrong, "corrupted", model=derivation.model)
                checked += 1
    assert checked > 100


def test_a_wrong_jacobian_is_refused():
    model = default_softmax_model()
    with pytest.raises(StepError, match="fails at a sample point"):
        Step(Derivative(a[k], z[i]), a[k] * (KroneckerDelta(k, i) + a[i]), "wrong",
             model=model)


def test_invalid_pairs_name_the_valid_losses():
    assert choose("softmax", ["cce"])[0] is SOFTMAX
    for loss in ("ce", "poisson"):
        with pytest.raises(InvalidChoice, match="valid losses for softmax: cce, se"):
            choose("softmax", [loss])
    with pytest.raises(InvalidChoice, match="valid losses for sigmoid"):
        choose("sigmoid", ["cce"])


# --- the generated module ----------------------------------------------------------------


def _data(K, soft, rng, m=12, n=4):
    X, W, b = rng.normal(size=(m, n)), rng.normal(size=(n, K)), rng.normal(size=K)
    y = rng.dirichlet(np.ones(K), size=m) if soft else rng.integers(0, K, size=m)
    return W, b, X, y


@pytest.mark.parametrize("K", [2, 3, 10])
@pytest.mark.parametrize("soft", [False, True])
def test_gradients_match_finite_differences(module, K, soft):
    module, name = module
    W, b, X, y = _data(K, soft, np.random.default_rng(K))
    loss = getattr(module, f"loss_{name}")
    value, dW, db = getattr(module, f"value_and_grad_{name}")(W, b, X, y, l2=0.3)
    assert value == pytest.approx(loss(W, b, X, y, l2=0.3), rel=1e-15)
    h = 1e-6
    numeric = np.zeros_like(W)
    for index in np.ndindex(*W.shape):
        e = np.zeros_like(W)
        e[index] = h
        numeric[index] = (loss(W + e, b, X, y, l2=0.3) - loss(W - e, b, X, y, l2=0.3)) / (2 * h)
    np.testing.assert_allclose(dW, numeric, rtol=1e-6, atol=1e-8)
    numeric_b = [(loss(W, b + h * e, X, y, l2=0.3) - loss(W, b - h * e, X, y, l2=0.3)) / (2 * h)
                 for e in np.eye(K)]
    np.testing.assert_allclose(db, numeric_b, rtol=1e-6, atol=1e-8)


EXTENDED = runtime_softmax.EXTENDED is not None
"""Whether the modules compute δ where it cancels in a float wider than float64."""


def _reference(z_row, y_row, name):
    """Loss and δ of one row in 60 digits, from the definitions."""
    with mpmath.workdps(60 + int(np.ptp(z_row))):
        zs = [mpmath.mpf(float(v)) for v in z_row]
        ys = [mpmath.mpf(float(v)) for v in y_row]
        total = mpmath.fsum(mpmath.exp(v) for v in zs)
        p = [mpmath.exp(v) / total for v in zs]
        if name == "cce":
            value = mpmath.fsum(-t * mpmath.log(q) for t, q in zip(ys, p) if t)
            delta = [q - t for q, t in zip(p, ys)]
        else:
            value = mpmath.fsum((q - t) ** 2 for q, t in zip(p, ys)) / 2
            inner = mpmath.fsum((q - t) * q for q, t in zip(p, ys))
            delta = [q * ((q - t) - inner) for q, t in zip(p, ys)]
        return value, delta, p


def _ulps(computed, exact, scale=0.0):
    """|computed − exact| in units in the last place of |exact| (or of ``scale``)."""
    exact = float(exact)
    scale = max(abs(exact), float(scale), np.finfo(float).tiny)
    return abs(float(computed) - exact) / np.spacing(scale)


@pytest.mark.parametrize("extended", [True, False], ids=["extended", "dtype"])
@pytest.mark.parametrize("K", [2, 3, 10])
@pytest.mark.parametrize("soft", [False, True])
def test_loss_and_delta_within_4_ulp_at_logits_up_to_800(module, K, soft, extended,
                                                          monkeypatch):
    """Per-sample loss and δ = ∂L/∂z against 60+ digits, float64, within 4 ulps. Where
    the platform has no float wider than float64, or the module is told not to use it,
    δ of a soft label (and of the squared error) is counted in ulps of max(a, y): a − y
    cancels there (its condition number is a/|a − y|), and no evaluation in float64
    from rounded outputs does better."""
    module, name = module
    if not extended:  # the module's switch: the per-row formulas in the call's dtype
        monkeypatch.setattr(module, "EXTENDED", None)
    rng = np.random.default_rng(100 + K)
    m = 30
    Z = rng.uniform(-800, 800, size=(m, K)) * rng.choice([1e-3, 1e-1, 1], size=(m, 1))
    y = rng.dirichlet(np.ones(K), size=m) if soft else rng.integers(0, K, size=m)
    rows = np.eye(K)[y] if not soft else y
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = getattr(module, f"loss_{name}")(np.eye(K), np.zeros(K), Z, y, "none")
        _, delta = getattr(module, f"grad_{name}")(np.eye(K), np.zeros(K), Z, y, "none")
    worst = 0.0
    for row in range(m):
        value, exact, p = _reference(Z[row], rows[row], name)
        worst = max(worst, _ulps(loss[row], value))
        for c in range(K):
            if name == "se" and abs(exact[c]) < 1e-300:
                continue  # far below the products' rounding: an absolute error
            # Without EXTENDED: a − y of a soft label cancels where a ≈ y, and for se
            # a − y against Σ_k (a_k − y_k) a_k where the outputs are alike: counted in
            # ulps of max(a, y). With it, in ulps of δ itself.
            wider = EXTENDED and extended and module.EXTENDED is not None
            cancels = not wider and (soft or name == "se")
            scale = max(p[c], rows[row][c]) if cancels else 0.0
            worst = max(worst, _ulps(delta[row, c], exact[c], scale))
    assert worst <= 4, worst


def test_the_squared_errors_delta_of_the_largest_class_does_not_cancel():
    """δ_c of the class with a_c ≈ 1 is a_c(e_c(1 − a_c) − Σ_{k≠c} e_k a_k): tiny, and
    within 4 ulps of itself, where e_c − Σ_k e_k a_k in floats gave 0 (z = (78.9, −41.2)
    with label 1: exact 1.38e-52) or lost half its digits (z = (−597.4, −618.1))."""
    module = load_module(python_module(derive_softmax(default_softmax_model(("se",)))),
                         "generated_softmax_se_top")
    Z = np.array([[78.91071866, -41.19655039], [-597.4112453, -618.11551869],
                  [29.58392345, -5.77853435], [3.0, -30.0]])
    y = np.array([1, 1, 0, 0])
    _, delta = module.grad_se(np.eye(2), np.zeros(2), Z, y, "none")
    for row in range(len(Z)):
        _, exact, _ = _reference(Z[row], np.eye(2)[y[row]], "se")
        assert _ulps(delta[row, 0], exact[0]) <= 4, (row, delta[row, 0], float(exact[0]))


@pytest.mark.parametrize("target", TARGETS)
def test_finite_and_silent_at_logits_1e300_and_float32_kept(target):
    module = softmax_module("cce", target)
    Z = np.array([[1e300, -1e300, 0.0], [-1e300, -1e300, -1e300]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, dW, db = module.value_and_grad_cce(np.eye(3), np.zeros(3), Z, [1, 2])
        probabilities = module.softmax(Z)
    assert np.isfinite(value) and np.isfinite(dW).all() and np.isfinite(db).all()
    np.testing.assert_allclose(probabilities[1], [1 / 3] * 3)
    single = np.float32
    value, dW, db = module.value_and_grad_cce(np.ones((2, 3), single), np.zeros(3, single),
                                              np.ones((4, 2), single), [0, 1, 2, 0], l2=0.1)
    assert value.dtype == dW.dtype == db.dtype == np.float32


@pytest.mark.parametrize("target", TARGETS)
def test_dask_arrays_are_refused_not_computed_whole(target):
    dask_array = pytest.importorskip("dask.array")
    module = softmax_module("cce", target)
    W, b, X, y = _data(3, False, np.random.default_rng(5), m=10)
    for call in (lambda: module.grad_cce(W, b, dask_array.from_array(X, chunks=5), y),
                 lambda: module.predict_proba(dask_array.from_array(W), b, X),
                 lambda: module.predict(W, b, dask_array.from_array(X, chunks=5))):
        with pytest.raises(ValueError, match=r"does not take Dask arrays; pass NumPy arrays"):
            call()


@pytest.mark.parametrize("target", TARGETS)
def test_bad_labels_are_a_clear_error(target):
    module = softmax_module("cce", target)
    W, b, X = np.ones((2, 3)), np.zeros(3), np.ones((2, 2))
    for labels_, message in (([0, 3], "whole numbers in 0…2"), ([0.5, 1], "whole numbers"),
                       ([[1, 0, 0], [0.5, 0.6, -0.1]], ">= 0"),
                       ([[1, 0, 0], [0.5, 0.6, 0.0]], "sum to 1"), ([0], "shape")):
        with pytest.raises(ValueError, match=message):
            module.loss_cce(W, b, X, labels_)


@pytest.mark.parametrize("target", TARGETS)
def test_predict_ties_to_the_lowest_class_and_one_sample(target):
    module = softmax_module("cce", target)
    assert module.predict(np.zeros((2, 3)), np.array([1.0, 1.0, 0.0]), np.ones((2, 2))).tolist() \
        == [0, 0]
    value, dW, db = module.value_and_grad_cce(np.ones((2, 3)), np.zeros(3), np.ones(2), 1)
    assert np.ndim(value) == 0 and dW.shape == (2, 3) and db.shape == (3,)
    assert value == pytest.approx(np.log(3))


@pytest.mark.parametrize("target", TARGETS)
def test_two_classes_are_logistic_regression(target):
    softmax = softmax_module("cce", target)
    logistic = load_generated("sigmoid_ce", GENERATED / "pairs")
    rng = np.random.default_rng(2)
    W, b, X, _ = _data(2, False, rng, m=50)
    y = rng.integers(0, 2, size=50)
    w, bias = W[:, 1] - W[:, 0], b[1] - b[0]
    value, dW, db = softmax.value_and_grad_cce(W, b, X, y)
    expected, dw, dbias = logistic.value_and_grad_ce(w, bias, X, y.astype(float))
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(dW[:, 1], dw, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dW[:, 0], -dw, rtol=1e-12, atol=1e-15)
    assert db[1] == pytest.approx(dbias, rel=1e-12)


def _parts(result):
    return [np.asarray(part) for part in (result if isinstance(result, tuple) else (result,))]


@pytest.mark.parametrize("name", ["cce", "se"])
def test_the_numba_target_equals_the_numpy_target(name):
    """Every function and reduction, class and soft labels, float64: to 1e-12 of each
    result's largest entry (the NumPy target computes δ of soft labels in extended
    precision, the numba target in float64); float32 stays float32; errors word for
    word."""
    numpy_module, numba_module = (softmax_module(name, target) for target in TARGETS)
    rng = np.random.default_rng(11)
    for K in (2, 3, 10):
        for soft in (False, True):
            W, b, X, y = _data(K, soft, rng, m=700)
            for kind in ("loss", "grad", "value_and_grad"):
                for reduction in ("mean", "sum", "none"):
                    args = (W, b, X, y, reduction)
                    mine = getattr(numba_module, f"{kind}_{name}")(*args, l2=0.2)
                    theirs = getattr(numpy_module, f"{kind}_{name}")(*args, l2=0.2)
                    for got, want in zip(_parts(mine), _parts(theirs), strict=True):
                        assert got.dtype == want.dtype and got.shape == want.shape
                        np.testing.assert_allclose(got, want, rtol=0,
                                                   atol=1e-12 * np.max(np.abs(want)))
            one = getattr(numba_module, f"value_and_grad_{name}")(W, b, X[0], y[0])
            for got, want in zip(one, getattr(numpy_module, f"value_and_grad_{name}")(
                    W, b, X[0], y[0]), strict=True):
                assert type(got) is type(want)
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    single = np.float32
    W, b, X, y = _data(3, True, rng, m=50)
    dW, db = getattr(numba_module, f"grad_{name}")(W.astype(single), b.astype(single),
                                                   X.astype(single), y)
    assert dW.dtype == db.dtype == single
    for bad in ((W, b, X, np.full(50, 3)), (W, b, X[:, :-1], y), (W, b, X, y[:-1]),
                (W, b, X * np.inf, y)):
        messages = []
        for module in (numpy_module, numba_module):
            with pytest.raises(ValueError) as error:
                getattr(module, f"loss_{name}")(*bad)
            messages.append(str(error.value))
        assert messages[0] == messages[1]


@pytest.mark.parametrize("dataset", ["iris", "digits"])
@pytest.mark.parametrize("target", TARGETS)
def test_lbfgs_reaches_scikit_learns_multinomial_loss(dataset, target):
    datasets = pytest.importorskip("sklearn.datasets")
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    module = softmax_module("cce", target)
    X, y = getattr(datasets, f"load_{dataset}")(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    m, n = X.shape
    K, C = int(y.max()) + 1, 1.0
    l2 = 1 / (C * m)

    def objective(theta):
        value, dW, db = module.value_and_grad_cce(theta[:n * K].reshape(n, K), theta[n * K:],
                                                  X, y, l2=l2)
        return value, np.concatenate([dW.ravel(), db])

    ours = minimize(objective, np.zeros((n + 1) * K), jac=True, method="L-BFGS-B",
                    options={"maxiter": 20000, "gtol": 1e-12, "ftol": 1e-16})
    reference = LogisticRegression(C=C, tol=1e-12, max_iter=20000).fit(X, y)
    theirs = objective(np.concatenate([reference.coef_.T.ravel(), reference.intercept_]))[0]
    assert abs(ours.fun - theirs) <= 1e-8 * abs(theirs), (ours.fun, theirs)


def test_the_command_line_lists_and_verifies_softmax(capsys):
    assert main(["list"]) == 0
    assert "softmax_cce" in capsys.readouterr().out
    assert main(["verify", "--activation", "softmax", "--loss", "cce"]) == 0
    assert "(100 %)" in capsys.readouterr().out
    assert main(["verify", "--activation", "softmax", "--loss", "ce"]) == 2
    assert "valid losses for softmax: cce, se" in capsys.readouterr().err
