"""The rules of the samples section (``derive.engine.averaged``), defined like those of
``derive.engine.rules``: one function each, its docstring the formula, registered in the
same ``RULES`` table. Conventions and symbols: ``derive.engine.samples``.
"""

from sympy import (
    Add,
    Derivative,
    HadamardPower,
    HadamardProduct,
    Integer,
    MatAdd,
    MatMul,
    Mul,
    OneMatrix,
    Pow,
    Rational,
    Sum,
)

from derive.engine import samples
from derive.engine.algebra import product, replace_exactly
from derive.engine.rules import ALGEBRA, CALCULUS, CHAIN_RULE, SUBSTITUTE, rule
from derive.engine.samples import delta, i, lam, m, norm_w, w_j, x
from derive.engine.symbols import a as a_one
from derive.engine.symbols import b
from derive.engine.symbols import y as y_one

ALL_SAMPLES = (i, 1, m)


def mean_over_samples(term):
    """(1/m)·Σ_{i=1}^m term, kept in that shape for the reader."""
    return product(Rational(1, 1) / m, Sum(term, ALL_SAMPLES))


@rule("average over the samples", SUBSTITUTE, phrase="definition")
def average(expr, *, loss, penalty):
    """J(w, b) = (1/m) Σ_{i=1}^m L(a^{(i)}, y^{(i)}) + R(w)."""
    mean = mean_over_samples(samples.loss_at(loss)[i])
    value = mean if penalty.value == 0 else Add(mean, penalty.value, evaluate=False)
    return value if expr == samples.averaged(loss) else None


@rule("definition of the penalty", SUBSTITUTE, phrase="definition")
def penalty_definition(expr, *, penalty):
    """R(w) = (λ/2)‖w‖² = (λ/2) Σ_{k=1}^n w_k² for the L2 penalty (no term in b)."""
    return penalty.value if expr == samples.R else None


@rule("definition of delta", SUBSTITUTE, phrase="definition")
def delta_definition(expr, *, loss):
    """δ^{(i)} = ∂L^{(i)}/∂z^{(i)}: the one-sample δ at sample i."""
    if expr != delta[i]:
        return None
    return Derivative(samples.loss_at(loss)[i], samples.z[i])


@rule("linearity", CALCULUS, phrase="linearity of the derivative")
def linearity(expr, *, loss, penalty):
    """∂/∂v [(1/m) Σ_i L^{(i)} + R(w)] = (1/m) Σ_i ∂L^{(i)}/∂v + ∂R/∂v, with ∂R/∂b = 0
    (the bias is not penalised)."""
    if not (isinstance(expr, Derivative) and expr.expr == samples.averaged(loss)):
        return None
    (variable,) = expr.variables
    mean = mean_over_samples(Derivative(samples.loss_at(loss)[i], variable))
    if penalty.value == 0 or variable == b:
        return mean
    return Add(mean, Derivative(penalty.value, variable), evaluate=False)


@rule("derivative of the penalty", CALCULUS, phrase="")
def penalty_derivative(expr):
    """∂/∂w_j (λ/2)‖w‖² = λ w_j, since ‖w‖² = Σ_k w_k² and only w_j² involves w_j."""
    old = Derivative(Rational(1, 2) * lam * norm_w, w_j)
    if not expr.has(old):
        return None
    return replace_exactly(expr, old, product(lam, w_j))


@rule("chain rule at each sample", CHAIN_RULE,
      phrase=r"chain rule at each sample, $\delta^{(i)}$ from")
def chain_rule_per_sample(expr, *, loss):
    """∂L^{(i)}/∂p = ∂L^{(i)}/∂z^{(i)} · ∂z^{(i)}/∂p = δ^{(i)}·x_j^{(i)} for p = w_j and
    δ^{(i)} for p = b, inside the sum."""
    base = samples.loss_at(loss)
    replaced = expr.replace(
        lambda e: isinstance(e, Derivative) and e.expr == base[i] and e.variables[0] in (w_j, b),
        lambda e: product(delta[i], x[i, samples.j]) if e.variables[0] == w_j else delta[i],
    )
    return None if replaced == expr else replaced


@rule("all samples at once", ALGEBRA, phrase="in matrix form, from")
def in_matrix_form(expr, *, component):
    """Σ_i x_j^{(i)} δ^{(i)} is entry j of Xᵀδ, Σ_i δ^{(i)} = 1ᵀδ, and λ w_j is entry j
    of λw: the vector of the components ``component`` is a matrix expression."""
    return _as_matrix(component)


def _as_matrix(expr):
    if isinstance(expr, Add):
        return MatAdd(*(_as_matrix(term) for term in expr.args))
    if isinstance(expr, Mul):
        scalars = [f for f in expr.args if not f.has(Sum, w_j)]
        (rest,) = [f for f in expr.args if f.has(Sum, w_j)]
        return MatMul(*scalars, _as_matrix(rest))
    if expr == w_j:
        return samples.w_vector
    if isinstance(expr, Sum) and expr.limits == (ALL_SAMPLES,):
        if expr.function == delta[i]:
            return MatMul(OneMatrix(m, 1).T, samples.delta_vector)
        if set(Mul.make_args(expr.function)) == {delta[i], x[i, samples.j]}:
            return MatMul(samples.X_matrix.T, samples.delta_vector)
    raise ValueError(f"no matrix form for {expr}")


@rule("δ for all samples", SUBSTITUTE, phrase="by")
def delta_for_all_samples(expr, *, per_sample):
    """δ = (δ^{(1)}, …, δ^{(m)}) with each δ^{(i)} the one-sample δ at sample i; a
    product of per-sample factors is their elementwise (Hadamard) product ∘."""
    vector = elementwise(per_sample)
    if vector is None or not expr.has(samples.delta_vector):
        return None
    return expr.xreplace({samples.delta_vector: vector})


def elementwise(expr):
    """The m-vector whose entry i is ``expr`` (in a and y) at sample i, or None where
    ``expr`` is not a polynomial in a and y."""
    if expr == a_one:
        return samples.a_vector
    if expr == y_one:
        return samples.y_vector
    if isinstance(expr, Integer):
        return expr * OneMatrix(m, 1)
    parts = [elementwise(argument) for argument in expr.args]
    if any(part is None for part in parts):
        return None
    if isinstance(expr, Add):
        return MatAdd(*parts)
    if isinstance(expr, Mul):
        numbers = [f for f in expr.args if isinstance(f, Integer)]
        vectors = [elementwise(f) for f in expr.args if not isinstance(f, Integer)]
        shaped = vectors[0] if len(vectors) == 1 else HadamardProduct(*vectors)
        return MatMul(*numbers, shaped) if numbers else shaped
    if isinstance(expr, Pow) and isinstance(expr.exp, Integer) and expr.exp > 0:
        return HadamardPower(parts[0], expr.exp)
    return None
