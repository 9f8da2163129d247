"""The note's results, checked against SymPy's own ``diff`` of the composed model.

The composition here is written out independently of ``derive.engine.model``: the loss of
σ(w_j x_j + r + b), differentiated by SymPy, with the derivation's final expression
unfolded by hand (a → σ(z), σ → its formula).
"""

import pytest
from sympy.core.function import AppliedUndef
from sympy import Derivative, Rational, S, Symbol, diff, exp, log, oo, simplify, solveset

from derive.engine.symbols import a, b, rest, w_j, x_j, y, z

SIGMA = 1 / (1 + exp(-z))
LOSSES = {
    "se": Rational(1, 2) * (a - y) ** 2,
    "ce": -y * log(a) - (1 - y) * log(1 - a),
}


def _by_hand(expr):
    """Unfold a final expression by hand: σ(·) → its formula, a → σ(z)."""
    sigma = [f for f in expr.atoms(AppliedUndef) if type(f).__name__ == "sigma"]
    for applied in sigma:
        expr = expr.subs(applied, 1 / (1 + exp(-applied.args[0])))
    return expr.subs(a, SIGMA)


def _composed(loss, parameter):
    """∂/∂p of L(σ(w_j x_j + r + b)), by SymPy, written in z afterwards."""
    opened = LOSSES[loss].subs(a, SIGMA).subs(z, w_j * x_j + rest + b)
    return diff(opened, parameter).subs(rest, z - w_j * x_j - b)


def _equal(first, second):
    return simplify(first - second) == 0


@pytest.mark.parametrize("loss", ["se", "ce"])
@pytest.mark.parametrize("parameter, name", [(w_j, "w"), (b, "b")])
def test_gradient_final_form_equals_sympy_diff(by_label, loss, parameter, name):
    derivation = by_label[f"grad-{loss}-{name}"]
    assert derivation.lhs == Derivative(Symbol(f"L_{loss}", real=True), parameter)
    assert _equal(_by_hand(derivation.rhs), _composed(loss, parameter))


def test_gradients_end_in_the_notes_forms(by_label):
    residual = a - y
    expected = {
        "grad-se-w": residual * a * (1 - a) * x_j,
        "grad-se-b": residual * a * (1 - a),
        "grad-ce-w": residual * x_j,
        "grad-ce-b": residual,
    }
    for label, form in expected.items():
        final = by_label[label].rhs
        assert (final - form).expand() == 0, label
        assert final.free_symbols <= {a, y, x_j}, label


def test_cross_entropy_cancellation_passes_through_the_notes_intermediate(by_label):
    """(24) → (25): after cancelling, −y(1 − a) + (1 − y)a times x_j appears as a step."""
    steps = by_label["grad-ce-w"].steps
    rules = [step.rule for step in steps]
    assert rules[0] == "chain rule"
    assert "cancel common factors" in rules and rules[-1] == "expand and collect"
    cancelled = steps[rules.index("cancel common factors")].rhs
    assert (cancelled - (-y * (1 - a) + (1 - y) * a) * x_j).expand() == 0
    assert not cancelled.has(1 / a) and not cancelled.has(1 / (1 - a))


def test_loss_derivatives(by_label):
    assert (by_label["dLse-da"].rhs - (a - y)).expand() == 0
    assert _equal(by_label["dLce-da"].rhs, diff(LOSSES["ce"], a))
    assert _equal(by_label["dLce-da"].rhs, -y / a + (1 - y) / (1 - a))


def test_sigmoid_derivative_follows_the_notes_steps(by_label):
    derivation = by_label["act-prime"]
    assert [step.rule for step in derivation.steps] == [
        "definition", "differentiate", "split the square", "add and subtract",
        "recognise the activation",
    ]
    sigma = derivation.lhs.expr
    assert derivation.rhs.args == (sigma, 1 - sigma)  # in reading order: σ(z)(1 − σ(z))
    assert _equal(_by_hand(derivation.rhs), diff(SIGMA, z))
    assert by_label["da-dz"].rhs.args == (a, 1 - a)


def test_sigmoid_facts(by_label):
    assert by_label["act-at-zero"].rhs == Rational(1, 2)
    symmetry = by_label["act-symmetry"]
    assert _equal(_by_hand(symmetry.lhs), _by_hand(symmetry.rhs))
    assert symmetry.rhs == 1 - symmetry.lhs.func(z)
    assert by_label["act-limit-minus"].rhs == 0
    assert by_label["act-limit-plus"].rhs == 1
    assert by_label["act-increasing"].relation == ">"


def test_prediction_rule(by_label):
    rule = by_label["prediction"]
    assert rule.relation == "<=>"
    assert rule.rhs == (z >= 0)
    holds = solveset(_by_hand(rule.lhs.lhs) >= Rational(1, 2), z, S.Reals)
    assert holds == solveset(z >= 0, z, S.Reals)


def test_cross_entropy_one_sided_losses(by_label):
    assert by_label["Lce-y1"].rhs == -log(a)
    assert by_label["Lce-y0"].rhs == -log(1 - a)
    assert by_label["Lce-y1-limit-0"].rhs == oo and by_label["Lce-y1-limit-1"].rhs == 0
    assert by_label["Lce-y0-limit-0"].rhs == 0 and by_label["Lce-y0-limit-1"].rhs == oo
    assert by_label["Lce-y1-slope"].relation == "<"
    assert by_label["Lce-y0-slope"].relation == ">"


def test_every_step_names_a_registered_rule(derivations):
    from derive.engine.rules import RULES

    for derivation in derivations:
        for step in derivation.steps:
            assert step.rule in RULES, (derivation.label, step.rule)
            assert RULES[step.rule].formula, step.rule


def test_labels_are_unique(derivations):
    labels = [step.label for d in derivations for step in d.steps]
    labels += [d.label for d in derivations]
    assert len(labels) == len(set(labels))


def test_at_least_ninety_percent_of_steps_are_proved_symbolically(derivations):
    steps = [step for d in derivations for step in d.steps]
    symbolic = sum(step.method == "symbolic" for step in steps)
    assert len(steps) >= 50
    assert symbolic / len(steps) >= 0.9
