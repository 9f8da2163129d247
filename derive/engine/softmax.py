"""Many classes: the softmax neuron, its losses, and what its displayed symbols mean.

Conventions. Classes are counted 1…K on the sheet; ``k``, ``i`` are free class indices and
``l`` the one summed over. One sample has features x_j (j = 1…n), weights W_{ji} (an n × K
matrix, column i feeding class i), biases b_i, pre-activations z_i = Σ_j W_{ji} x_j + b_i,
outputs a_k = e^{z_k} / Σ_l e^{z_l} (values in the open simplex) and a label row y
(one-hot or probabilities) with Σ_k y_k = 1, a stated assumption of every step. Over
samples s = 1…m: x_j^{(s)}, z_i^{(s)}, a_i^{(s)}, y_i^{(s)}, the matrices X (m × n),
A and Y (m × K) and the averaged loss J = (1/m) Σ_s L^{(s)} + R(W), R = (λ/2)‖W‖².

Meaning (as in ``derive.engine.model``): every side of a step unfolds into base variables
(z, y, W_{ji}, b_i, x_j, r_i = Σ_{j'≠j} W_{j'i} x_{j'}, λ, ρ = ‖W‖² − W_{ji}²), SymPy
differentiates with respect to an indexed variable (the Kronecker delta arises there),
and ``derive.engine.softmax_meaning`` turns the sums over classes and samples, with K and
m symbolic, into finitely many variables, so the verifier's usual routes apply.
"""

from dataclasses import dataclass

from sympy import (
    Derivative,
    IndexedBase,
    MatrixExpr,
    MatrixSymbol,
    Rational,
    Sum,
    Symbol,
    exp,
    log,
)
from sympy.matrices.expressions.matexpr import MatrixElement

from derive.engine import samples
from derive.engine.registry import LOSSES
from derive.engine.samples import PENALTIES, Penalty, m, n, norm_w, rho
from derive.engine.softmax_meaning import finite
from derive.engine.symbols import x_j

K = Symbol("K", integer=True, positive=True)
k = Symbol("k", integer=True, positive=True)
i = Symbol("i", integer=True, positive=True)
l = Symbol("l", integer=True, positive=True)
s = Symbol("s", integer=True, positive=True)
j = samples.j

z = IndexedBase("z_c", real=True)
a = IndexedBase("a_c", real=True)
y = IndexedBase("y_c", real=True)
b = IndexedBase("b_c", real=True)
W = IndexedBase("W", real=True)
r = IndexedBase("r_c", real=True)
"""r_i = Σ_{j'≠j} W_{j'i} x_{j'}: the part of z_i that does not involve W_{ji}."""
zs = IndexedBase("z_cs", real=True)
a_s = IndexedBase("a_cs", real=True)
ys = IndexedBase("y_cs", real=True)
xs = IndexedBase("x_cs", real=True)
rs = IndexedBase("r_cs", real=True)
softmax_sum = Sum(exp(z[l]), (l, 1, K))
"""Σ_l e^{z_l}, the softmax's normaliser."""

X_matrix = MatrixSymbol("X", m, n)
A_matrix = MatrixSymbol("A", m, K)
Y_matrix = MatrixSymbol("Y", m, K)
W_matrix = MatrixSymbol("W", n, K)

norm_W = Symbol("norm_W", nonnegative=True)
"""‖W‖² = Σ_{j'i'} W_{j'i'}², shown as such."""

LABELS_SUM_TO_ONE = "Σ_k y_k = 1"
"""The stated assumption on every label row."""


@dataclass(frozen=True)
class VectorActivation:
    """a = act(z) for z ∈ ℝ^K; ``output_range`` says in words where a lies."""

    name: str
    title: str
    heading: str
    symbol: str
    latex: str
    output_range: str
    default_losses: tuple = ()
    classes: str = "K"

    def expression(self, index, values=z, bound=l):
        """a at class ``index`` in terms of the ``values`` (z, or z^{(s)} as a lambda)."""
        at = values if callable(values) and not isinstance(values, IndexedBase) else (
            lambda c: values[c])
        return exp(at(index)) / Sum(exp(at(bound)), (bound, 1, K))


@dataclass(frozen=True)
class VectorLoss:
    """L(a, y) summed over the classes; ``symbol`` as displayed, ``title`` in words."""

    name: str
    title: str
    symbol: Symbol
    latex: str
    per_class: object
    """(a_l, y_l) → the term of class l, summed over l = 1…K."""

    def expression(self, outputs=a, labels=y, bound=k):
        return Sum(self.per_class(outputs[bound], labels[bound]), (bound, 1, K))


SOFTMAX = VectorActivation(
    name="softmax", title="softmax", heading="Softmax regression", symbol="softmax",
    latex=r"\operatorname{softmax}", output_range="the open simplex",
    default_losses=("cce",))
VECTOR_ACTIVATIONS = {"softmax": SOFTMAX}
VECTOR_LOSSES = {
    "cce": VectorLoss("cce", "categorical cross-entropy", Symbol("L_cce", real=True),
                      r"\mathcal{L}_{\mathrm{cce}}", lambda out, label: -label * log(out)),
    "se": VectorLoss("se", "squared error", LOSSES["se"].symbol, LOSSES["se"].latex,
                     lambda out, label: Rational(1, 2) * (out - label) ** 2),
}
"""The losses of a vector output; se keeps the symbol of the scalar squared error."""


def penalty_value(penalty):
    """R(W) of ``penalty`` (written for a weight vector) for the weight matrix W."""
    return penalty.value.xreplace({norm_w: norm_W})


def vector_pairs():
    """Every (vector activation, loss) that may be combined: each with each."""
    return [(name, loss) for name in VECTOR_ACTIVATIONS for loss in VECTOR_LOSSES]


def loss_at(loss):
    """L^{(s)} of ``loss``."""
    return IndexedBase(f"{loss.symbol.name}_cs", real=True)


def averaged(loss):
    return Symbol("J" + loss.symbol.name[1:] + "_c", real=True)


def gradient_matrix(loss):
    """∇_W J of ``loss``: the n × K matrix of its ∂J/∂W_{ji}."""
    return MatrixSymbol(f"nabla_W {averaged(loss).name}", n, K)


LATEX_NAMES = {K: "K", averaged(VECTOR_LOSSES["cce"]): r"J_{\mathrm{cce}}",
               averaged(VECTOR_LOSSES["se"]): r"J_{\mathrm{se}}",
               VECTOR_LOSSES["cce"].symbol: VECTOR_LOSSES["cce"].latex,
               norm_W: r"\lVert W \rVert^{2}"}
INDEXED_LATEX = {"z_c": "z", "a_c": "a", "y_c": "y", "b_c": "b", "W": "W",
                 "r_c": r"r", "z_cs": "z", "a_cs": "a", "y_cs": "y", "x_cs": "x",
                 "r_cs": "r", "L_cce_cs": VECTOR_LOSSES["cce"].latex,
                 "L_se_cs": VECTOR_LOSSES["se"].latex}
"""Sheet names: a one-sample quantity is subscripted by its class, a per-sample one
(two indices, the sample first) carries the sample as a superscript."""
SUBSCRIPTED = ("z_c", "a_c", "y_c", "b_c", "r_c", "W")
"""The one-sample class quantities, printed with their indices as subscripts."""
MATRIX_LATEX = {"X": "X", "A": "A", "Y": "Y", "W": "W",
                **{gradient_matrix(loss).name: rf"\nabla_{{W}} J_{{\mathrm{{{loss.name}}}}}"
                   for loss in VECTOR_LOSSES.values()}}


@dataclass(frozen=True)
class SoftmaxModel:
    """The softmax neuron with ``losses`` (VectorLoss entries) and the averaged loss's
    ``penalty``; ``meaning`` gives a displayed expression in base variables."""

    activation: VectorActivation
    losses: tuple
    penalty: Penalty = PENALTIES["none"]

    def meaning(self, expr, keep=frozenset()):
        return finite(self.unfolded(expr), K, (k, i), (y, ys))

    def unfolded(self, expr):
        """``expr`` in base variables, sums over classes and samples kept."""
        if isinstance(expr, MatrixExpr):
            expr = _entry(expr)
        expr = expr.replace(lambda e: isinstance(e, Derivative), self._derivative)
        return self._unfold(expr)

    def _unfold(self, expr):
        for loss in self.losses:
            J = averaged(loss)
            if J in expr.free_symbols:
                expr = expr.subs(J, Sum(loss_at(loss)[s], (s, 1, m)) / m + samples.R)
        expr = expr.subs(samples.R, penalty_value(self.penalty)).subs(norm_W, W[j, i] ** 2 + rho)
        for loss in self.losses:
            expr = expr.subs(loss.symbol, loss.expression())
            per_sample = loss_at(loss)
            expr = expr.replace(
                lambda e, base=per_sample: e.is_Indexed and e.base == base,
                lambda e, loss=loss: loss.expression(
                    _at_sample(a_s, e.indices[0]), _at_sample(ys, e.indices[0])))
        expr = expr.replace(lambda e: e.is_Indexed and e.base == r,
                            lambda e: z[e.indices[0]] - W[j, e.indices[0]] * x_j - b[e.indices[0]])
        expr = expr.replace(lambda e: e.is_Indexed and e.base == a,
                            lambda e: self.activation.expression(e.indices[0]))
        expr = expr.replace(
            lambda e: e.is_Indexed and e.base == a_s,
            lambda e: self.activation.expression(
                e.indices[1], lambda c, t=e.indices[0]: zs[t, c]))
        return expr

    def _derivative(self, node):
        result = self.unfolded(node.expr)
        for variable in node.variables:
            opens = variable.is_Indexed and variable.base in (W, b)
            if opens:
                result = _open(result)
            result = result.diff(variable)
            if opens:
                result = _close(result)
        return result


def _at_sample(base, sample):
    """The IndexedBase-like view of class quantities at one sample."""

    class _Row:
        def __getitem__(self, index):
            return base[sample, index]

    return _Row()


def _open(expr):
    """Every z_c (one sample or per sample) written as W_{jc} x_j + r_c + b_c."""
    expr = expr.replace(lambda e: e.is_Indexed and e.base == z,
                        lambda e: W[j, e.indices[0]] * x_j + r[e.indices[0]] + b[e.indices[0]])
    return expr.replace(
        lambda e: e.is_Indexed and e.base == zs,
        lambda e: (W[j, e.indices[1]] * xs[e.indices[0], j] + rs[e.indices[0], e.indices[1]]
                   + b[e.indices[1]]))


def _close(expr):
    expr = expr.replace(lambda e: e.is_Indexed and e.base == r,
                        lambda e: z[e.indices[0]] - W[j, e.indices[0]] * x_j - b[e.indices[0]])
    return expr.replace(
        lambda e: e.is_Indexed and e.base == rs,
        lambda e: (zs[e.indices[0], e.indices[1]] - W[j, e.indices[1]] * xs[e.indices[0], j]
                   - b[e.indices[1]]))


def _entry(expr):
    """Entry (j, i) of an n × K matrix expression, its sums over 0…m−1 renumbered to
    s = 1…m and its entries named per sample."""
    if expr.shape != (n, K):
        raise ValueError(f"a step relates scalars or n × K matrices, not {expr.shape}: {expr}")
    entry = expr[j - 1, i - 1]
    entry = entry.replace(lambda e: isinstance(e, Sum), _from_one)
    return entry.replace(lambda e: isinstance(e, MatrixElement), _named)


def _from_one(total):
    (variable, low, high), = total.limits
    if low == 0 and high == m - 1:
        return total.change_index(variable, variable + 1, s)
    return total


def _named(element):
    matrix, row, column = element.args
    if matrix.name == "X":
        return xs[row + 1, column + 1]
    if matrix.name == "A":
        return a_s[row + 1, column + 1]
    if matrix.name == "Y":
        return ys[row + 1, column + 1]
    if (row, column) == (j - 1, i - 1):
        if matrix.name == "W":
            return W[j, i]
        for loss in VECTOR_LOSSES.values():
            if matrix.name == gradient_matrix(loss).name:
                return Derivative(averaged(loss), W[j, i])
    raise ValueError(f"no meaning for the entry {element}")

