"""Second order: ∂²L/∂z² of every loss, and whether the loss is convex in (w, b).

Because z = w·x + b is linear in the parameters, the Hessian of one sample's loss is
∂²L/∂z² · x̃x̃ᵀ with x̃ = (x, 1), and the Hessian of the averaged loss is
(1/m)·X̃ᵀ diag(d) X̃ (+ λ on the weights' diagonal) with d the per-sample ∂²L/∂z². So
the loss is convex in (w, b) for every data set exactly when ∂²L/∂z² ≥ 0 for all z
and all labels: each loss's verdict is a verified chain, either d ≥ 0 on the
activation's range (convex), or d < 0 at one point z₀, y₀ found by a search over a
small grid and then evaluated exactly (not convex).
"""

from dataclasses import replace

from sympy import (
    Add,
    Contains,
    Derivative,
    Eq,
    Interval,
    Ne,
    Rational,
    Rel,
    S,
    Subs,
    cancel,
    expand,
    factor,
    floor,
)

from derive.engine import labels, rules, sample_rules
from derive.engine.algebra import product
from derive.engine.averaged import at_sample_result
from derive.engine.registry import label_range
from derive.engine.samples import (
    BatchModel,
    averaged,
    curvature,
    hessian_matrix,
    k,
    w_j,
    w_k,
)
from derive.engine.samples import j as samples_j
from derive.engine.symbols import a, b, y, z

SECTION = "second order"
_Z_GRID = (0, 1, -1, 2, -2, 3, -3, 4, -4)
"""Where a counterexample is looked for: pre-activations, then the labels below."""


def derive_second_order(book):
    """For every loss of ``book``'s model: ∂²L/∂z², the convexity verdict, d^{(i)},
    the entries of the averaged loss's Hessian and its matrix form."""
    book.section = SECTION
    model = book.model
    for loss in model.losses:
        second_derivative(book, loss)
        convexity(book, loss)
        batch = BatchModel(model, loss, model.penalty)
        at_sample_result(book, batch, curvature, labels.sample_curvature(loss),
                         book[labels.second_derivative(loss)])
        for pair in HESSIAN_ENTRIES:
            _hessian_entry(book, batch, pair)
        for diagonal in (False, True):
            _hessian_matrix(book, replace(batch, diagonal=diagonal))


HESSIAN_ENTRIES = ((w_j, w_k), (w_j, w_j), (w_j, b), (b, b))
"""The Hessian's entries: off and on the weights' diagonal, the weight–bias row, the bias."""


def _hessian_entry(book, batch, pair):
    loss = batch.loss
    first, second = pair
    title = ((f"Second derivative of the averaged {loss.title} with respect to ", first)
             + ((" twice",) if first == second else (" and ", second))
             + ((", for ", Ne(k, samples_j)) if w_k in pair else ()))
    derivation = book.start(title, labels.hessian_entry(loss, *pair),
                            Derivative(averaged(loss), *pair), model=batch)
    derivation.apply(sample_rules.linearity, loss=loss, penalty=batch.penalty)
    derivation.apply(sample_rules.penalty_derivative, optional=True,
                     detail=labels.PENALTY_GRADIENT)
    derivation.apply(sample_rules.chain_rule_per_sample, loss=loss,
                     detail=labels.sample_curvature(loss))
    derivation.apply(rules.arithmetic, optional=True)


def _hessian_matrix(book, batch):
    loss = batch.loss
    entry = (w_j, w_j) if batch.diagonal else (w_j, w_k)
    where = "on its diagonal" if batch.diagonal else "off its diagonal"
    derivation = book.start(
        (f"The Hessian of the averaged {loss.title} in the weights, {where}",),
        labels.hessian_matrix(loss, batch.diagonal), hessian_matrix(loss), model=batch)
    derivation.apply(sample_rules.hessian_in_matrix_form,
                     penalised=batch.penalty.name != "none",
                     detail=labels.hessian_entry(loss, *entry))


def second_derivative(book, loss):
    """∂²L/∂z² = ∂δ/∂z, with δ from the book and a differentiated through da/dz."""
    delta = book[labels.gradient(loss, z)]
    derivation = book.start((f"Second derivative of the {loss.title} with respect to ", z),
                            labels.second_derivative(loss), Derivative(loss.symbol, (z, 2)))
    derivation.then(Derivative(delta.rhs, z), rules.substitute, detail=delta.label)
    derivation.apply(rules.through_the_output)
    derivation.apply(rules.substitute, old=Derivative(a, z), new=book[labels.DA_DZ].rhs,
                     detail=labels.DA_DZ, optional=True)
    tidied = tidy(derivation.rhs.doit())
    if tidied != derivation.rhs:
        derivation.then(tidied, rules.arithmetic)
    return derivation


def tidy(expr):
    """``expr`` factored, each factor's sign chosen for reading: a(1 − a), not −a(a − 1)."""
    coefficient, factors = factor(expand(expr)).as_coeff_mul()
    shown = []
    for part in factors:  # u − c becomes c − u
        if isinstance(part, Add) and len(part.args) == 2 and any(
                term.is_number and term < 0 for term in part.args):
            coefficient, part = -coefficient, -part
        shown.append(part)
    if coefficient < 0:  # absorbed by a sum that reads as well negated
        for index, part in enumerate(shown):
            if isinstance(part, Add) and part.could_extract_minus_sign():
                coefficient, shown[index] = -coefficient, -part
                break
    if coefficient != 1:
        shown.insert(0, coefficient)
    return product(*shown) if len(shown) > 1 else shown[0] if shown else S.One


def convexity(book, loss):
    """A verified chain that ends in ∂²L/∂z² ≥ 0 on the activation's range (convex), or
    in a negative value at one (z₀, y₀) (not convex)."""
    model = book.model
    act = model.activation
    second = book[labels.second_derivative(loss)]
    if _nonnegative(second.rhs, act, loss):
        domains = {a: act.output_range}
        if second.rhs.has(y):
            domains[y] = label_range(act, loss)
        derivation = book.start(
            (f"The {loss.title} is convex in the parameters: ", Rel(second.lhs, 0, ">=")),
            labels.convexity(loss), second.rhs, domains=domains)
        detail = Contains(a, act.output_range)
        derivation.apply(rules.sign, relation=">=", detail=detail)
        return derivation
    z0, y0 = _counterexample(second.rhs, act, loss)
    at_point = Subs(second.lhs, (z, y), (z0, y0))
    derivation = book.start(
        (f"The {loss.title} is not convex: at ", Eq(z, z0), " and ", Eq(y, y0)),
        labels.convexity(loss), at_point)
    value = factor(cancel(second.rhs.subs({a: act.expression(S(z0)), y: y0})))
    derivation.then(value, rules.substitute, detail=second.label)
    hundredths = floor(value.evalf(30) * 100)
    hundredths = Interval.Ropen(Rational(hundredths, 100), Rational(hundredths + 1, 100))
    if hundredths.contains(value) is not S.true:
        raise ValueError(f"{value} is not in {hundredths}")
    derivation.apply(rules.sign, relation="<", detail=Contains(value, hundredths, evaluate=False))
    return derivation


def is_convex(book, loss):
    """The verdict of ``convexity`` as a bool."""
    return book[labels.convexity(loss)].relation == ">="


def _nonnegative(expr, act, loss):
    """Whether ``expr`` (in a and y) is ≥ 0 at a grid of outputs and labels; the chain
    that claims it is then verified by the engine."""
    interval, labels_ = act.output_range, label_range(act, loss)
    low = interval.inf if interval.inf.is_finite else S(-50)
    high = interval.sup if interval.sup.is_finite else S(50)
    outputs = [low + (high - low) * Rational(step, 40) for step in range(1, 40)]
    ends = [labels_.inf, labels_.sup if labels_.sup.is_finite else S(1000)]
    values = [value for value in (*ends, S.One, Rational(1, 2)) if labels_.contains(value)]
    return all(expr.subs({a: output, y: value}).evalf(30) >= 0
               for output in outputs for value in values)


def _counterexample(expr, act, loss):
    """The first (z₀, y₀) of the grid, labels from the loss's range, with expr < 0."""
    labels_ = [value for value in (S.Zero, S.One, Rational(1, 2), S(3))
               if loss.labels.contains(value) is S.true
               and act.output_range.closure.contains(value) is S.true]
    for z0 in _Z_GRID:
        for y0 in labels_:
            value = expr.subs({a: act.expression(S(z0)), y: y0})
            if value.evalf(30) < 0:
                return z0, y0
    raise ValueError(f"no point of the grid shows the {loss.title} is not convex: {expr}")

