"""The verifier must reject corrupted steps and must say where and why.

Every step of every derivation is corrupted in several ways (scale by 2, flip a sign,
drop a factor or a term, swap a and 1 − a, shift by 1; for order relations the
direction is flipped). A corruption that leaves the mathematics unchanged (swapping a
and 1 − a in a(1 − a), say) is not a corruption, and is recognised by evaluating both
expressions at random points with plain floats, independently of the engine.
"""

import math
import random

import pytest
from sympy import (
    Add,
    Derivative,
    Indexed,
    Limit,
    MatrixExpr,
    Max,
    Min,
    Mul,
    Rel,
    S,
    Symbol,
    atan,
    exp,
    floor,
    lambdify,
    pi,
)
from sympy.core.function import AppliedUndef

from derive import Step, StepError
from derive.engine import labels, samples
from derive.engine.samples import NoMeaning
from derive.engine.steps import Derivation
from derive.engine.symbols import a, z

FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _swap_a(expr):
    """a ↔ 1 − a (σ(z) ↔ 1 − σ(z)); for expressions in z alone, z ↔ −z (the same swap)."""
    if expr.has(Derivative, Limit):  # their variables are not for swapping
        return expr
    sigma = {f: 1 - f for f in expr.atoms(AppliedUndef) if f.args == (z,)}
    if expr.has(a) or sigma:
        return expr.xreplace({a: 1 - a, **sigma})
    return expr.xreplace({z: -z})


def _drops(expr):
    if isinstance(expr, (Mul, Add)) and len(expr.args) > 1:
        for index in range(len(expr.args)):
            rest = expr.args[:index] + expr.args[index + 1:]
            yield f"drop {'factor' if isinstance(expr, Mul) else 'term'} {index}", expr.func(*rest)


def corruptions(step):
    """(name, lhs, rhs, relation) for each way of breaking ``step``."""
    lhs, rhs, relation = step.lhs, step.rhs, step.relation
    if relation == "<=>":
        yield "flip", lhs, Rel(rhs.lhs, rhs.rhs, FLIP[rhs.rel_op]), relation
        yield "shift", lhs, Rel(rhs.lhs, rhs.rhs + 1, rhs.rel_op), relation
        return
    if relation != "=":
        yield "flip", lhs, rhs, FLIP[relation]
        return
    yield "scale by 2", lhs, 2 * rhs, relation
    yield "flip sign", lhs, -rhs, relation
    if not isinstance(rhs, MatrixExpr):  # a vector plus a number is not an expression
        yield "shift by 1", lhs, rhs + 1, relation
    yield "swap a and 1 - a", lhs, _swap_a(rhs), relation
    for name, dropped in _drops(rhs):
        yield name, lhs, dropped, relation


def _unchanged(model, step, corrupted_rhs, relation):
    """True when the corruption does not change the value (checked at float points)."""
    if relation != "=" or step.relation != "=":
        return False
    keep = frozenset(step.domains)
    try:
        corrupted_meaning = model.meaning(corrupted_rhs, keep)
    except NoMeaning:  # a matrix of the wrong shape, say: not the same mathematics
        return False
    return all(_same_values(_written_out(model.meaning(step.rhs, keep), count),
                            _written_out(corrupted_meaning, count), step)
               for count in (2, 3))


def _same_values(original, corrupted, step):
    variables = sorted(original.free_symbols | corrupted.free_symbols, key=str)
    first, second = (lambdify(variables, e, "math") for e in (original, corrupted))
    rng = random.Random(7)
    for _ in range(20):
        point = [rng.uniform(0.05, 0.95) if v in step.domains or v.name.startswith("y")
                 else rng.uniform(-3, 3) for v in variables]
        try:
            left, right = float(first(*point)), float(second(*point))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            continue
        if not math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


def _written_out(expr, count):
    """Sums over samples written out for ``count`` samples (2 features; a free sample
    index an entry of its own), each entry x[i, j], y[i], … a plain symbol, so that
    floats can evaluate it."""
    expr = expr.subs({samples.m: count, samples.n: 2, samples.i: count + 1}).doit()
    return expr.xreplace({entry: Symbol(str(entry).replace("y_s", "y"))
                          for entry in expr.atoms(Indexed)})


def test_every_corruption_of_every_step_is_rejected(book):
    rejected, steps = 0, 0
    for derivation in book:
        model = derivation.model
        for step in derivation.steps:
            steps += 1
            caught_here = 0
            for name, lhs, rhs, relation in corruptions(step):
                if _unchanged(model, step, rhs, relation):
                    continue
                try:
                    Step(lhs, rhs, step.rule, relation=relation, model=model,
                         domains=step.domains, label=step.label)
                except StepError:
                    caught_here += 1
                else:
                    pytest.fail(f"corruption '{name}' of step {step.label} was accepted")
            assert caught_here >= 1, f"no corruption applied to {step.label}"
            rejected += caught_here
    assert steps >= 50 and rejected >= 4 * steps


def test_the_notes_slip_is_rejected(model, book):
    """The note writes a' = (1 − a); a(1 − a) is meant."""
    da_dz = book[labels.DA_DZ]
    with pytest.raises(StepError, match="counterexample"):
        Step(da_dz.lhs, 1 - a, "substitute", model=model)


def test_step_error_names_derivation_step_sides_and_counterexample(model):
    derivation = Derivation("Derivative of the sigmoid, slipped", "slip", Derivative(a, z),
                            model=model)
    with pytest.raises(StepError) as caught:
        derivation.then(1 - a, "substitute", label="slip.1")
    message = str(caught.value)
    assert "'Derivative of the sigmoid, slipped'" in message
    assert "step slip.1" in message and "rule: substitute" in message
    assert "lhs: Derivative(a, z)" in message and "rhs: 1 - a" in message
    assert "counterexample: z = " in message
    error = caught.value
    assert set(error.point) == {"z"}
    assert error.values[0] != error.values[1]


def test_numeric_fallback_marks_steps_sympy_cannot_prove(model):
    """atan(e^z) + atan(e^−z) = π/2 holds for every real z; simplify does not see it."""
    lhs = atan(exp(z)) + atan(exp(-z))
    step = Step(lhs, pi / 2, "identity", model=model)
    assert step.method == "numeric"
    assert step.points >= 30


def test_numeric_fallback_refutes_with_a_counterexample(model):
    lhs = atan(exp(z)) + atan(exp(-z))
    with pytest.raises(StepError) as caught:
        Step(lhs, pi / 3, "identity", model=model, label="wrong-constant")
    message = str(caught.value)
    assert "step wrong-constant" in message
    assert "counterexample: z = " in message
    left, right = (float(value) for value in caught.value.values)
    assert math.isclose(left, math.pi / 2, rel_tol=1e-9)
    assert math.isclose(right, math.pi / 3, rel_tol=1e-9)


def test_numeric_check_reaches_large_z_and_both_hard_labels(model):
    """Claims false only for z > 30, only for z < −30, or only at y = 1 are refuted."""
    y = Symbol("y", real=True)
    with pytest.raises(StepError, match=r"z = (37|100)"):
        Step(Max(z, 30), S(30), "bogus", model=model)
    with pytest.raises(StepError, match=r"z = -(37|100)"):
        Step(Min(z, -30), S(-30), "bogus", model=model)
    with pytest.raises(StepError, match=r"y = 1\b"):
        Step(floor(y), S.Zero, "bogus", model=model)


def test_a_wrong_stable_rewrite_stops_code_generation(model):
    """Code generation verifies its rewrites: 1 − a ↦ σ(z) (instead of σ(−z)) is caught."""
    from dataclasses import replace

    from derive.codegen.context import stable_form
    from derive.engine.stable import Sigmoid

    rewrites = tuple((pattern, Sigmoid(z) if pattern == 1 - a else replacement)
                     for pattern, replacement in model.activation.stable_rewrites)
    broken = replace(model, activation=replace(model.activation, stable_rewrites=rewrites))
    assert stable_form(a * (1 - a), model) is not None
    with pytest.raises(StepError, match="code generation"):
        stable_form(a * (1 - a), broken)
