"""All samples at once: the averaged loss, its gradient by linearity, the matrix form
∇_w J = (1/m)·Xᵀδ + λw proved for symbolic m and n, and the penalty, for every pair."""

import pytest
from support import PAIRS
from sympy import Derivative, MatMul, OneMatrix, Sum

from derive.build import sheet_source
from derive.cli import main
from derive.config import SheetInfo
from derive.engine import labels
from derive.engine.choice import choose
from derive.engine.derivations import derive_all
from derive.engine.model import Model
from derive.engine.registry import LOSSES, default_losses
from derive.engine.samples import (
    PENALTIES,
    BatchModel,
    X_matrix,
    averaged,
    delta,
    delta_vector,
    gradient_vector,
    i,
    j,
    lam,
    m,
    w_vector,
    x,
)
from derive.engine.steps import Step, StepError
from derive.engine.symbols import b, w_j
from derive.engine.verify import SYMBOLIC
from derive.sheet.pdf import compile_pdf


@pytest.fixture(scope="module", params=[(*pair, penalty) for pair in PAIRS
                                        for penalty in PENALTIES],
                ids=lambda choice: "_".join(choice))
def penalised(request):
    act, loss, penalty = request.param
    return derive_all(Model(*choose(act, [loss]), PENALTIES[penalty]))


def _expected_matrix_form(book):
    """(1/m)·Xᵀδ, plus λw with the L2 penalty: written here, not read from the book."""
    mean = MatMul(1 / m, X_matrix.T, delta_vector)
    return mean + lam * w_vector if book.model.penalty.name == "l2" else mean


def test_every_pair_proves_linearity_and_the_matrix_form_for_symbolic_sizes(penalised):
    (loss,) = penalised.model.losses
    component = penalised[labels.averaged_gradient(loss, w_j)]
    matrix = penalised[labels.matrix_gradient(loss)]
    assert component.lhs == Derivative(averaged(loss), w_j)
    assert component.steps[0].rule == "linearity"
    assert matrix.lhs == gradient_vector(loss)
    assert (matrix.steps[0].rhs - _expected_matrix_form(penalised)).doit().is_ZeroMatrix
    for derivation in (component, matrix, penalised[labels.averaged_gradient(loss, b)]):
        assert all(step.method == SYMBOLIC for step in derivation.steps), derivation.label
    bias = penalised[labels.averaged_gradient(loss, b)].rhs
    # no λ: b is not penalised
    assert (bias - MatMul(1 / m, OneMatrix(m, 1).T, delta_vector)).doit().is_ZeroMatrix


def test_at_least_90_percent_of_all_steps_stay_symbolic(penalised):
    steps = [step for derivation in penalised for step in derivation.steps]
    symbolic = sum(step.method == SYMBOLIC for step in steps)
    assert symbolic >= 0.9 * len(steps)


def test_delta_of_the_canonical_pairs_is_a_minus_y_for_all_samples():
    book = derive_all(Model(*choose("sigmoid", ["ce"])))
    final = book[labels.matrix_gradient(LOSSES["ce"])].rhs
    assert str(final) == "1/m*(X.T*(a - y))"


def test_the_squared_error_keeps_the_saturating_factor_in_delta():
    book = derive_all(Model(*choose("sigmoid", ["se"])))
    final = str(book[labels.matrix_gradient(LOSSES["se"])].rhs)
    assert "HadamardProduct(a - y, HadamardProduct(a, -a + 1))" in final


# --- the mutations of the issue: each refused --------------------------------------------


@pytest.fixture(scope="module")
def batch():
    model = Model(*choose("sigmoid", ["ce"]), PENALTIES["l2"])
    return BatchModel(model, LOSSES["ce"], PENALTIES["l2"])


def _mean(term):
    return Sum(term, (i, 1, m)) / m


@pytest.mark.parametrize("name", ["drop 1/m", "penalise b", "wrong sign of λw",
                                  "drop the penalty"])
def test_a_corrupted_component_step_is_refused_with_a_counterexample(batch, name):
    J = averaged(LOSSES["ce"])
    lhs, rhs = {
        "drop 1/m": (Derivative(J, w_j), Sum(delta[i] * x[i, j], (i, 1, m)) + lam * w_j),
        "penalise b": (Derivative(J, b), _mean(delta[i]) + lam * b),
        "wrong sign of λw": (Derivative(J, w_j), _mean(delta[i] * x[i, j]) - lam * w_j),
        "drop the penalty": (Derivative(J, w_j), _mean(delta[i] * x[i, j])),
    }[name]
    Step(lhs, _mean(delta[i] * x[i, j]) + lam * w_j if lhs.variables == (w_j,)
         else _mean(delta[i]), "the right one", model=batch)
    with pytest.raises(StepError, match="counterexample"):
        Step(lhs, rhs, "corrupted", model=batch)


@pytest.mark.parametrize("name", ["1/3 for 1/m", "the first sample for sample i"])
def test_a_step_true_at_one_size_is_refused_not_proved(batch, name):
    """A step that holds at m = 3 (or for i = 1) only must not pass as proved: what SymPy
    cannot prove for symbolic m is checked numerically at several sizes, with a free
    sample index apart from the summed ones."""
    J = averaged(LOSSES["ce"])
    lhs, rhs = {
        "1/3 for 1/m": (Derivative(J, w_j), Sum(delta[i] * x[i, j], (i, 1, m)) / 3 + lam * w_j),
        "the first sample for sample i": (delta[i], delta[1]),
    }[name]
    with pytest.raises(StepError, match="counterexample"):
        Step(lhs, rhs, "true at one size only", model=batch)


def test_the_matrix_form_without_the_transpose_is_refused(batch):
    """X·δ is an m-vector (SymPy cannot refuse it: m might equal n), not the n-vector of
    the gradient."""
    untransposed = MatMul(1 / m, X_matrix, delta_vector)
    with pytest.raises(StepError, match="does not hold"):
        Step(gradient_vector(LOSSES["ce"]), untransposed + lam * w_vector, "corrupted",
             model=batch)


def test_the_matrix_form_with_the_wrong_scale_is_refused(batch):
    with pytest.raises(StepError, match="counterexample"):
        Step(gradient_vector(LOSSES["ce"]), MatMul(X_matrix.T, delta_vector) + lam * w_vector,
             "corrupted", model=batch)


# --- sheets and the command line ---------------------------------------------------------


def test_the_penalised_sheet_compiles_with_every_reference_resolved(latex_engine, tmp_path):
    act = "sigmoid"
    model = Model(*choose(act, list(default_losses(choose(act)[0]))), PENALTIES["l2"])
    book = derive_all(model)
    for variant in ("solutions", "problems"):
        source = sheet_source(book, SheetInfo(), variant)
        assert "All samples at once" in source and "The penalty" in source
        run = compile_pdf(source, tmp_path / f"{variant}.pdf")
        assert "Output written on" in run.log
        assert "undefined" not in run.log.lower()
    assert "eq:grad-R" in run.aux  # the penalty's gradient is numbered on the sheet


def test_the_unpenalised_sheet_has_the_samples_section_and_no_penalty(book):
    source = sheet_source(book, SheetInfo(), "solutions")
    assert "All samples at once" in source
    assert r"\section{The penalty}" not in source
    assert r"X^{\top} \left(\mathbf{a} - \mathbf{y}\right)" in source


def test_verify_and_build_take_the_penalty(capsys, tmp_path):
    assert main(["verify", "--penalty", "l2", "--activation", "tanh"]) == 0
    output = capsys.readouterr().out
    assert "[grad-R]" in output and "by derivative of the penalty" in output
    assert main(["build", "--penalty", "l2", "--no-pdf", "--out", str(tmp_path)]) == 0
    written = sorted(path.name for path in tmp_path.iterdir())
    assert "logistic_regression_l2.py" in written and "logistic_regression_l2.tex" in written


def test_an_unknown_penalty_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["verify", "--penalty", "l1"])
    assert stop.value.code == 2
    assert "invalid choice: 'l1'" in capsys.readouterr().err
