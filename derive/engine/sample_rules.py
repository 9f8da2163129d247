"""The rules of the samples section (``derive.engine.averaged``), defined like those of
``derive.engine.rules``: one function each, its docstring the formula, registered in the
same ``RULES`` table. Conventions and symbols: ``derive.engine.samples``.
"""

from sympy import (
    Add,
    Derivative,
    DiagMatrix,
    HadamardPower,
    HadamardProduct,
    Identity,
    Integer,
    MatAdd,
    MatMul,
    MatrixSymbol,
    Mul,
    OneMatrix,
    Pow,
    Rational,
    S,
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
    return product(1 / m, Sum(term, ALL_SAMPLES))


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
    """δ^{(i)} = ∂L^{(i)}/∂z^{(i)}: the one-sample δ at sample i; likewise
    d^{(i)} = ∂²L^{(i)}/∂z^{(i)2}."""
    if expr == delta[i]:
        return Derivative(samples.loss_at(loss)[i], samples.z[i])
    if expr == samples.curvature[i]:
        return Derivative(samples.loss_at(loss)[i], (samples.z[i], 2))
    return None


@rule("linearity", CALCULUS, phrase="linearity of the derivative")
def linearity(expr, *, loss, penalty):
    """∂/∂v [(1/m) Σ_i L^{(i)} + R(w)] = (1/m) Σ_i ∂L^{(i)}/∂v + ∂R/∂v, with ∂R/∂b = 0
    (the bias is not penalised), and the same for second derivatives (∂²R/∂w_j∂w_k = 0
    for k ≠ j)."""
    if not (isinstance(expr, Derivative) and expr.expr == samples.averaged(loss)):
        return None
    variables = expr.variables
    mean = mean_over_samples(Derivative(samples.loss_at(loss)[i], *variables))
    if penalty.value == 0 or set(variables) != {w_j}:  # R involves neither b nor w_k
        return mean
    return Add(mean, Derivative(penalty.value, *variables), evaluate=False)


@rule("derivative of the penalty", CALCULUS, phrase="")
def penalty_derivative(expr):
    """∂/∂w_j (λ/2)‖w‖² = λ w_j, since ‖w‖² = Σ_k w_k² and only w_j² involves w_j; and
    ∂²/∂w_j² (λ/2)‖w‖² = λ."""
    first = Derivative(Rational(1, 2) * lam * norm_w, w_j)
    second = Derivative(Rational(1, 2) * lam * norm_w, (w_j, 2))
    if expr.has(second):
        return replace_exactly(expr, second, lam)
    if not expr.has(first):
        return None
    return replace_exactly(expr, first, product(lam, w_j))


@rule("chain rule at each sample", CHAIN_RULE,
      phrase=r"chain rule at each sample, $\delta^{(i)}$ from")
def chain_rule_per_sample(expr, *, loss):
    """∂L^{(i)}/∂p = ∂L^{(i)}/∂z^{(i)} · ∂z^{(i)}/∂p = δ^{(i)}·x_j^{(i)} for p = w_j and
    δ^{(i)} for p = b, inside the sum; ∂²L^{(i)}/∂p∂q = d^{(i)} · ∂z^{(i)}/∂p ·
    ∂z^{(i)}/∂q with d^{(i)} = ∂²L^{(i)}/∂z^{(i)2}, z being linear in the parameters."""
    base = samples.loss_at(loss)
    replaced = expr.replace(
        lambda e: isinstance(e, Derivative) and e.expr == base[i]
        and set(e.variables) <= {w_j, samples.w_k, b},
        lambda e: product(delta[i] if len(e.variables) == 1 else samples.curvature[i],
                          *(_feature(variable) for variable in e.variables)),
    )
    return None if replaced == expr else replaced


def _feature(variable):
    """∂z^{(i)}/∂v: x_j^{(i)}, x_k^{(i)} or 1."""
    return {w_j: x[i, samples.j], samples.w_k: x[i, samples.k]}.get(variable, S.One)


@rule("all samples at once", ALGEBRA, phrase="in matrix form, from")
def in_matrix_form(expr, *, component):
    """Σ_i x_j^{(i)} δ^{(i)} is entry j of Xᵀδ, Σ_i δ^{(i)} = 1ᵀδ, and λ w_j is entry j
    of λw: the vector of the components ``component`` is a matrix expression. It applies
    to ∇_w J (a matrix symbol) or to a component that is still a sum over samples."""
    if not (isinstance(expr, MatrixSymbol) or expr.has(Sum)):
        return None
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


@rule("Hessian for all samples at once", ALGEBRA, phrase="in matrix form, from")
def hessian_in_matrix_form(expr, *, penalised):
    """Σ_i d^{(i)} x_j^{(i)} x_k^{(i)} is entry (j, k) of Xᵀ diag(d) X, and λ on the
    diagonal is λI: ∇²_w J = (1/m)·Xᵀ diag(d) X (+ λI), for the matrix symbol ∇²_w J."""
    if not isinstance(expr, MatrixSymbol):
        return None
    mean = MatMul(1 / m, samples.X_matrix.T, DiagMatrix(samples.d_vector),
                  samples.X_matrix)
    return MatAdd(mean, lam * Identity(samples.n)) if penalised else mean


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
