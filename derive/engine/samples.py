"""All samples at once: the averaged loss J over m samples, the penalties, and what the
displayed sample and matrix expressions mean.

Conventions. Samples i = 1…m and features j = 1…n are counted from 1 on the sheet.
``x[i, j]`` is x_j^{(i)}, the j-th feature of sample i; ``y[i]``, ``z[i]``, ``a[i]`` are
y^{(i)}, z^{(i)} = Σ_k w_k x_k^{(i)} + b and a^{(i)} = act(z^{(i)}); ``loss_at(loss)[i]``
is L^{(i)} = L(a^{(i)}, y^{(i)}) and ``delta[i]`` is δ^{(i)} = ∂L^{(i)}/∂z^{(i)}. The
averaged loss is J(w, b) = (1/m) Σ_i L^{(i)} + R(w), with a penalty R from
``PENALTIES`` that never involves the bias. In matrix form X is the m × n matrix with
entries x_j^{(i)}, and δ, a, y are m-vectors, w an n-vector; SymPy's matrix expressions
count from 0, so entry (i − 1, j − 1) of X is x_j^{(i)}.

Meaning (as in ``derive.engine.model``): every displayed expression unfolds into the
base variables w_j, b, λ, ρ = Σ_{k≠j} w_k², and per sample x[i, j], y[i] and
r[i] = Σ_{k≠j} w_k x_k^{(i)}. A vector expression means its j-th entry (a 1 × 1 one its
only entry), which SymPy's matrix algebra writes as a sum over i. The indices j, m and
n stay symbolic, so an equality proved here holds for every number of samples and
features.
"""

from dataclasses import dataclass

from sympy import (
    Derivative,
    IndexedBase,
    KroneckerDelta,
    MatrixExpr,
    MatrixSymbol,
    Piecewise,
    Rational,
    S,
    Sum,
    Symbol,
    diff,
)
from sympy.matrices.expressions.matexpr import MatrixElement

from derive.engine.algebra import replace_exactly
from derive.engine.symbols import a as a_one
from derive.engine.symbols import b, w_j
from derive.engine.symbols import y as y_one
from derive.engine.symbols import z as z_one

i = Symbol("i", integer=True, positive=True)
j = Symbol("j", integer=True, positive=True)
k = Symbol("k", integer=True, positive=True)
"""A second feature index, k ≠ j, for the Hessian's entries off its diagonal."""
w_k = Symbol("w_k", real=True)
m = Symbol("m", integer=True, positive=True)
n = Symbol("n", integer=True, positive=True)

x = IndexedBase("x_s", real=True)
y = IndexedBase("y_s", real=True)
z = IndexedBase("z_s", real=True)
a = IndexedBase("a_s", real=True)
delta = IndexedBase("delta_s", real=True)
r = IndexedBase("r_s", real=True)
"""r[i] = Σ_{k≠j} w_k x_k^{(i)}: the part of z^{(i)} that does not involve w_j."""
r_k = IndexedBase("rk_s", real=True)
"""The part of z^{(i)} that does not involve w_k."""
curvature = IndexedBase("d_s", real=True)
"""d^{(i)} = ∂²L^{(i)}/∂z^{(i)2}: the per-sample weight of the Hessian."""

lam = Symbol("lambda", nonnegative=True)
rho = Symbol("rho", nonnegative=True)
"""ρ = Σ_{k≠j} w_k²: the part of ‖w‖² that does not involve w_j."""
norm_w = Symbol("norm_w", nonnegative=True)
"""‖w‖², shown as such."""
R = Symbol("R", real=True)
"""The penalty R(w) of the chosen entry of ``PENALTIES``."""

X_matrix = MatrixSymbol("X", m, n)
d_vector = MatrixSymbol("d", m, 1)
delta_vector = MatrixSymbol("delta", m, 1)
a_vector = MatrixSymbol("a", m, 1)
y_vector = MatrixSymbol("y", m, 1)
w_vector = MatrixSymbol("w", n, 1)

LATEX_NAMES = {
    lam: r"\lambda", rho: r"\rho", norm_w: r"\lVert \mathbf{w} \rVert^{2}", R: r"R(\mathbf{w})",
}
INDEXED_LATEX = {"x_s": "x", "y_s": "y", "z_s": "z", "a_s": "a", "delta_s": r"\delta",
                 "d_s": "d"}
"""How each per-sample IndexedBase is named on the sheet (the names in SymPy are
distinct from the one-sample symbols a, y, z, so no substitution can confuse them)."""
MATRIX_LATEX = {"X": "X", "delta": r"\boldsymbol{\delta}", "a": r"\mathbf{a}",
                "y": r"\mathbf{y}", "w": r"\mathbf{w}", "d": r"\mathbf{d}"}


class NoMeaning(ValueError):
    """A displayed expression this model cannot read: a matrix of another shape, say."""


@dataclass(frozen=True)
class Penalty:
    """R(w), a regulariser of the weights only (the bias is never penalised).

    ``value`` is R as shown, in λ and ‖w‖²; its meaning replaces ‖w‖² by w_j² + ρ.
    """

    name: str
    title: str
    value: object

    def meaning(self):
        return self.value.subs(norm_w, w_j**2 + rho)


PENALTIES = {
    "none": Penalty("none", "no penalty", S.Zero),
    "l2": Penalty("l2", "L2 penalty (weight decay)", Rational(1, 2) * lam * norm_w),
}


def loss_at(loss):
    """L^{(i)} of ``loss``: an IndexedBase named after the loss's symbol."""
    return IndexedBase(loss.symbol.name, real=True)


def averaged(loss):
    """The symbol J of ``loss`` (J_ce, say), the mean of its L^{(i)} plus R."""
    return Symbol("J" + loss.symbol.name[1:], real=True)


def gradient_vector(loss):
    """∇_w J of ``loss``: the n-vector of its ∂J/∂w_j."""
    return MatrixSymbol(f"nabla_w {averaged(loss).name}", n, 1)


def hessian_matrix(loss):
    """∇²_w J of ``loss``: the n × n matrix of its ∂²J/∂w_j∂w_k."""
    return MatrixSymbol(f"nabla2_w {averaged(loss).name}", n, n)


def at_sample(expr):
    """A per-sample expression (in a, y, z) at sample i, in the same reading order."""
    for one, indexed in ((a_one, a[i]), (y_one, y[i]), (z_one, z[i])):
        expr = replace_exactly(expr, one, indexed)
    return expr


@dataclass(frozen=True)
class BatchModel:
    """The model of J over m samples for ``model``'s neuron and ``penalty``; ``loss`` is
    the loss whose J, ∇_w J and δ this model talks about."""

    model: object
    loss: object
    penalty: Penalty
    diagonal: bool = False
    """For an n × n matrix: its entry (j, j) when True, else (j, k) with k ≠ j."""

    def meaning(self, expr, keep=frozenset()):
        if isinstance(expr, MatrixExpr):
            expr = self._entry(expr)
        expr = expr.replace(lambda e: isinstance(e, Derivative), self._derivative)
        return self._unfold(expr, keep)

    # --- vectors and matrices ------------------------------------------------------

    def _entry(self, expr):
        """The j-th entry of an n-vector (the only entry of a 1 × 1), with SymPy's sums
        over 0…m−1 renumbered to i = 1…m and its entries named per sample."""
        column = j - 1 if self.diagonal else k - 1
        if expr.shape == (n, 1):
            entry = expr[j - 1, 0]
        elif expr.shape == (1, 1):
            entry = expr[0, 0]
        elif expr.shape == (n, n):
            entry = expr[j - 1, column].doit()
            entry = entry.subs(KroneckerDelta(j - 1, k - 1, (0, n - 1)), S.Zero)
        else:
            raise NoMeaning(f"a step relates scalars, n-vectors or n × n matrices, not "
                            f"{expr.shape}: {expr}")
        entry = entry.replace(lambda e: isinstance(e, Sum), _from_one)
        return entry.replace(lambda e: isinstance(e, MatrixElement), self._named)

    def _named(self, element):
        matrix, row, column = element.args
        names = {
            "X": lambda: x[row + 1, column + 1],
            "delta": lambda: delta[row + 1],
            "d": lambda: curvature[row + 1],
            "a": lambda: a[row + 1],
            "y": lambda: y[row + 1],
        }
        name = matrix.name
        if name in names:
            return names[name]()
        if column == 0 and row == j - 1:
            if name == "w":
                return w_j
            if name == gradient_vector(self.loss).name:
                return Derivative(averaged(self.loss), w_j)
        if name == hessian_matrix(self.loss).name and row == j - 1:
            if self.diagonal and column == j - 1:
                return Derivative(averaged(self.loss), (w_j, 2))
            if not self.diagonal and column == k - 1:
                return Derivative(averaged(self.loss), w_j, w_k)
        raise NoMeaning(f"no meaning for the entry {element}")

    # --- calculus ------------------------------------------------------------------

    def _derivative(self, node):
        """Differentiate in turn by each variable: for w_j, w_k or b, each z^{(i)} is
        opened as w·x^{(i)} + (the rest) + b around that weight and closed again."""
        result = self._unfold(node.expr)
        for variable in node.variables:
            weight, feature, rest_ = (w_k, k, r_k) if variable == w_k else (w_j, j, r)
            if variable not in (w_j, w_k, b):
                result = diff(result, variable)
                continue
            opened = result.replace(
                lambda e: e.is_Indexed and e.base == z,
                lambda e, w=weight, f=feature, q=rest_: w * x[e.indices[0], f] + q[e.indices[0]] + b)
            result = diff(opened, variable).replace(
                lambda e, q=rest_: e.is_Indexed and e.base == q,
                lambda e, w=weight, f=feature: z[e.indices[0]] - w * x[e.indices[0], f] - b)
        return result

    # --- definitions ---------------------------------------------------------------

    def _unfold(self, expr, keep=frozenset()):
        per_sample = self.model
        for loss in per_sample.losses:
            J = averaged(loss)
            if J in expr.free_symbols:
                expr = expr.subs(J, Sum(loss_at(loss)[i], (i, 1, m)) / m + R)
        expr = expr.subs(R, self.penalty.meaning()).subs(norm_w, w_j**2 + rho)
        expr = expr.replace(lambda e: e.is_Indexed and e.base == delta,
                            lambda e: self._delta(e.indices[0]))
        expr = expr.replace(lambda e: e.is_Indexed and e.base == curvature,
                            lambda e: self._delta(e.indices[0], order=2))
        for loss in per_sample.losses:
            base = loss_at(loss)
            expr = expr.replace(
                lambda e, base=base: e.is_Indexed and e.base == base,
                lambda e, loss=loss: loss.expression(a[e.indices[0]], y[e.indices[0]]),
            )
        expr = expr.replace(lambda e: e.is_Indexed and e.base == a,
                            lambda e: per_sample.activation.expression(z[e.indices[0]]))
        return per_sample.meaning(expr, keep)

    def _delta(self, index, order=1):
        """δ^{(i)} = ∂L^{(i)}/∂z^{(i)} (or d^{(i)}, ``order`` 2) by definition."""
        inner = self._unfold(loss_at(self.loss)[index])
        return diff(inner, z[index], order)


def _from_one(total):
    """A sum over 0…m−1 (as SymPy's matrix products write it) renumbered to 1…m; a
    branch that holds on the whole range (v ≤ m − 1) taken."""
    (variable, low, high), = total.limits
    if low == 0 and high == m - 1:
        body = total.function
        if isinstance(body, Piecewise) and body.args[0].cond == (variable <= high):
            total = Sum(body.args[0].expr, total.limits[0])
        return total.change_index(variable, variable + 1, i)
    return total
