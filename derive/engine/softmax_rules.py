"""The rules of the softmax neuron (``derive.engine.softmax_derivations``), defined like
those of ``derive.engine.rules``: one function each, its docstring the formula, registered
in the same ``RULES`` table. Symbols and conventions: ``derive.engine.softmax``.
"""

from sympy import (
    Add,
    Derivative,
    Indexed,
    KroneckerDelta,
    MatAdd,
    MatMul,
    Mul,
    Pow,
    Rational,
    S,
    Sum,
    exp,
    expand,
)

from derive.engine import softmax
from derive.engine.algebra import product, replace_exactly
from derive.engine.rules import (
    ALGEBRA,
    CALCULUS,
    CHAIN_RULE,
    DIFFERENTIATE,
    SUBSTITUTE,
    rule,
)
from derive.engine.samples import lam, m
from derive.engine.softmax import K, W, a, a_s, b, i, j, k, s, xs, y, ys, z, zs


@rule("definition of the softmax", SUBSTITUTE, phrase="definition")
def softmax_definition(expr, *, forward=True):
    """a_k = e^{z_k} / Σ_{l=1}^K e^{z_l}; backwards, e^{z_c}/Σ_l e^{z_l} is a_c."""
    if forward:
        replaced = expr.replace(lambda e: e.is_Indexed and e.base == a,
                                lambda e: softmax.SOFTMAX.expression(e.indices[0]))
    else:
        replaced = expr
        for c in (k, i):
            share = Mul(exp(z[c]), Pow(softmax.softmax_sum, -1), evaluate=False)
            replaced = replace_exactly(replaced, share, a[c])
    return None if replaced == expr else replaced


@rule("definition of the class's pre-activation", SUBSTITUTE, phrase="definition")
def class_pre_activation(expr):
    """z_i = W_{ji} x_j + Σ_{j'≠j} W_{j'i} x_{j'} + b_i."""
    replaced = expr.replace(
        lambda e: isinstance(e, Derivative) and e.expr == z[i],
        lambda e: Derivative(Add(W[j, i] * softmax.x_j, softmax.r[i], b[i], evaluate=False),
                             *e.variables))
    return None if replaced == expr else replaced


@rule("quotient rule", DIFFERENTIATE, phrase=r"quotient rule, $z_l$ depends on $z_i$ iff $l = i$")
def quotient_rule(expr):
    """∂/∂z_i (e^{z_k} / Σ_l e^{z_l}) = (δ_{ki} e^{z_k} Σ_l e^{z_l} − e^{z_k} e^{z_i}) /
    (Σ_l e^{z_l})², since z_l depends on z_i only for l = i."""
    total = softmax.softmax_sum
    if expr != Derivative(exp(z[k]) / total, z[i]):
        return None
    numerator = Add(product(KroneckerDelta(k, i), exp(z[k]), total),
                    Mul(S.NegativeOne, product(exp(z[k]), exp(z[i])), evaluate=False),
                    evaluate=False)
    return Mul(numerator, Pow(Pow(total, 2), -1), evaluate=False)


@rule("factor the quotient", ALGEBRA, phrase="factor")
def factor_quotient(expr):
    """(δ N S − N e^{z_i}) / S² = (N / S)·(δ − e^{z_i} / S)."""
    total = softmax.softmax_sum
    if not (isinstance(expr, Mul) and Pow(Pow(total, 2), -1) in expr.args):
        return None
    share = Mul(exp(z[i]), Pow(total, -1), evaluate=False)
    first = Mul(exp(z[k]), Pow(total, -1), evaluate=False)
    return product(first, Add(KroneckerDelta(k, i), Mul(S.NegativeOne, share, evaluate=False),
                              evaluate=False))


@rule("chain rule through the outputs", CHAIN_RULE,
      phrase=r"chain rule through every $a_k$")
def through_the_outputs(expr):
    """∂/∂z_i Σ_k f(a_k, y_k) = Σ_k ∂f/∂a_k · ∂a_k/∂z_i (linearity, then the chain rule)."""
    if not (isinstance(expr, Derivative) and isinstance(expr.expr, Sum)
            and expr.variables == (z[i],)):
        return None
    total = expr.expr
    (bound, low, high), = total.limits
    outer = total.function.diff(a[bound])
    return Sum(product(outer, Derivative(a[bound], z[i])), (bound, low, high))


@rule("chain rule through the class", CHAIN_RULE,
      phrase=r"chain rule, only $z_i$ depends on $W_{ji}$ and $b_i$")
def through_the_class(expr):
    """∂L/∂p = ∂L/∂z_i · ∂z_i/∂p for p = W_{ji} or b_i: only z_i involves them."""
    if not (isinstance(expr, Derivative) and len(expr.variables) == 1
            and expr.variables[0] in (W[j, i], b[i])):
        return None
    return product(Derivative(expr.expr, z[i]), Derivative(z[i], expr.variables[0]))


@rule("split the sum", ALGEBRA, phrase="linearity of the sum")
def split_sum(expr):
    """Σ_k (c·u_k + v_k) = c·Σ_k u_k + Σ_k v_k, factors free of k taken out of each sum."""
    def split(total):
        (bound, *_), = total.limits
        pieces = []
        for term in Add.make_args(expand(total.function)):
            factors = Mul.make_args(term)
            outside = [f for f in factors if not f.has(bound)]
            inside = [f for f in factors if f.has(bound)]
            pieces.append(product(*outside, Sum(Mul(*inside), total.limits)))
        return Add(*pieces, evaluate=False) if len(pieces) > 1 else pieces[0]

    replaced = expr.replace(lambda e: isinstance(e, Sum) and e.limits[0][2] == K, split)
    return None if replaced == expr else replaced


@rule("sift", ALGEBRA, phrase=r"$\delta_{ki} = 1$ for $k = i$ and $0$ otherwise")
def sift(expr):
    """Σ_k f(k)·δ_{ki} = f(i): the Kronecker delta keeps the one term k = i."""
    def sifted(total):
        (bound, *_), = total.limits
        delta = KroneckerDelta(bound, i)
        if delta not in Mul.make_args(total.function):
            return total
        return (total.function / delta).xreplace({bound: i})

    replaced = expr.replace(lambda e: isinstance(e, Sum) and e.function.has(KroneckerDelta),
                            sifted)
    return None if replaced == expr else replaced


@rule("labels sum to one", SUBSTITUTE, phrase="a label row sums to one,")
def labels_sum_to_one(expr):
    """Σ_k y_k = 1 (one-hot or probability labels); then the arithmetic is done."""
    replaced = expr.replace(
        lambda e: isinstance(e, Sum) and e.function.is_Indexed and e.function.base == y,
        lambda e: S.One)
    if replaced == expr:
        return None
    if expand(replaced - (a[i] - y[i])) == 0:
        return Add(a[i], Mul(S.NegativeOne, y[i], evaluate=False), evaluate=False)
    return replaced


@rule("factor the class's output", ALGEBRA, phrase=r"factor out $a_i$")
def factor_output(expr):
    """a_i² − a_i y_i − a_i Σ_k a_k² + a_i Σ_k a_k y_k = a_i·(a_i − y_i − Σ_k a_k (a_k − y_k)):
    the squared error's δ_i as its error times the output, less the outputs' mean error."""
    def error(index):
        return Add(a[index], Mul(S.NegativeOne, y[index], evaluate=False), evaluate=False)

    factored = product(a[i], Add(error(i), Mul(S.NegativeOne, Sum(product(a[k], error(k)),
                                                                  (k, 1, K)), evaluate=False),
                                 evaluate=False))
    return factored if expand(split_sum(factored) - expr) == 0 else None


@rule("average over the samples of every class", SUBSTITUTE, phrase="definition")
def average(expr, *, loss, penalty):
    """J(W, b) = (1/m) Σ_{s=1}^m L(a^{(s)}, y^{(s)}) + R(W)."""
    if expr != softmax.averaged(loss):
        return None
    mean = product(1 / m, Sum(softmax.loss_at(loss)[s], (s, 1, m)))
    return mean if penalty.value == 0 else Add(mean, softmax.penalty_value(penalty),
                                                 evaluate=False)


@rule("linearity over the samples of every class", CALCULUS, phrase="linearity of the derivative")
def linearity(expr, *, loss, penalty):
    """∂/∂p [(1/m) Σ_s L^{(s)} + R(W)] = (1/m) Σ_s ∂L^{(s)}/∂p + ∂R/∂p (∂R/∂b_i = 0)."""
    if not (isinstance(expr, Derivative) and expr.expr == softmax.averaged(loss)):
        return None
    (variable,) = expr.variables
    mean = product(1 / m,
                   Sum(Derivative(softmax.loss_at(loss)[s], variable), (s, 1, m)))
    if penalty.value == 0 or variable != W[j, i]:
        return mean
    return Add(mean, Derivative(softmax.penalty_value(penalty), variable), evaluate=False)


@rule("derivative of the weight penalty", CALCULUS, phrase=r"$\|W\|^2 = \sum W_{j'i'}^2$,")
def penalty_derivative(expr):
    """∂/∂W_{ji} (λ/2)‖W‖² = λ W_{ji}."""
    first = Derivative(Rational(1, 2) * lam * softmax.norm_W, W[j, i])
    replaced = expr.xreplace({first: product(lam, W[j, i])})
    return None if replaced == expr else replaced


@rule("chain rule at each sample and class", CHAIN_RULE,
      phrase=r"chain rule per sample, by")
def per_sample(expr, *, loss, delta):
    """∂L^{(s)}/∂W_{ji} = δ_i^{(s)} x_j^{(s)} and ∂L^{(s)}/∂b_i = δ_i^{(s)}, with δ_i the
    proved one-sample ∂L/∂z_i at sample s."""
    at = delta  # δ at sample s, its terms in the proved order
    for entry in sorted(delta.atoms(Indexed), key=str):
        if entry.base in (a, y, z):
            at = replace_exactly(at, entry, {a: a_s, y: ys, z: zs}[entry.base][s, entry.indices[0]])
    base = softmax.loss_at(loss)[s]
    replaced = expr.xreplace({Derivative(base, W[j, i]): product(at, xs[s, j]),
                              Derivative(base, b[i]): at})
    return None if replaced == expr else replaced


@rule("all samples and classes at once", ALGEBRA, phrase="in matrix form")
def in_matrix_form(expr, *, penalised):
    """Σ_s x_j^{(s)} (a_i^{(s)} − y_i^{(s)}) is entry (j, i) of Xᵀ(A − Y), λW_{ji} of λW:
    ∇_W J = (1/m)·Xᵀ(A − Y) (+ λW)."""
    mean = MatMul(1 / m, softmax.X_matrix.T,
                  MatAdd(softmax.A_matrix, -softmax.Y_matrix))
    return MatAdd(mean, lam * softmax.W_matrix) if penalised else mean
