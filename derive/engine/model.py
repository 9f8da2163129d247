"""The model a derivation talks about, and what its displayed expressions mean.

A sheet writes ``a``, ``σ(z)``, ``L_ce``, ``∂L/∂w_j``; to check a step, each side is
turned into its *meaning*: an expression in the base variables z, y, x_j, w_j, b only.
Definitions unfold top-down (L → L(a, y), a → act(z), act → its formula, r → z −
w_j x_j − b). A derivative ∂e/∂v is taken with ``e`` unfolded down to ``v``; for a
parameter v ∈ {w_j, x_j, b} the pre-activation is opened up as z = w_j x_j + r + b
(with r independent of v) and closed again after differentiating. A limit keeps its
bound variable free. ``keep`` names symbols that stay free (a domain variable).
"""

from dataclasses import dataclass

from sympy import Derivative, Limit, Subs, diff, limit

from derive.engine.registry import ACTIVATIONS, LOSSES, Activation, Loss
from derive.engine.samples import PENALTIES, Penalty
from derive.engine.stable import unfold_primitives
from derive.engine.symbols import a, b, rest, w_j, x_j, z

_OPENS_Z = (w_j, x_j, b)


@dataclass(frozen=True)
class Model:
    """One neuron: z = w·x + b, a = activation(z), the losses L(a, y), and the penalty
    R(w) of the averaged loss (``derive.engine.samples``; none by default)."""

    activation: Activation
    losses: tuple[Loss, ...]
    penalty: Penalty = PENALTIES["none"]

    def meaning(self, expr, keep=frozenset()):
        """``expr`` in base variables, with the symbols in ``keep`` left free."""
        expr = expr.replace(
            lambda e: isinstance(e, (Derivative, Limit, Subs)),
            lambda e: self._calculus(e, keep),
        )
        return self._unfold(expr, keep)

    def _unfold(self, expr, keep):
        for loss in self.losses:
            if loss.symbol not in keep:
                expr = expr.subs(loss.symbol, loss.expression())
        if a not in keep:
            expr = expr.subs(a, self.activation(z))
        if rest not in keep:
            expr = expr.subs(rest, z - w_j * x_j - b)
        expr = expr.replace(self.activation.function, self.activation.definition)
        return unfold_primitives(expr)

    def _calculus(self, node, keep):
        if isinstance(node, Subs):  # the meaning of the body, at the point
            body, variables, point = node.args
            return self.meaning(body, keep).subs(dict(zip(variables, point)))
        if isinstance(node, Limit):
            body, variable, point, direction = node.args
            inner = self.meaning(body, keep | {variable})
            return limit(inner, variable, point, str(direction))
        result = node.expr
        for variable, count in node.variable_count:
            result = self._differentiate(result, variable, count, keep)
        return result

    def _differentiate(self, expr, variable, count, keep):
        inner = self.meaning(expr, keep | {variable})
        if variable in _OPENS_Z:
            opened = inner.subs(z, w_j * x_j + rest + b)
            return diff(opened, variable, count).subs(rest, z - w_j * x_j - b)
        return diff(inner, variable, count)


def default_model():
    """The note's model: the sigmoid neuron with the squared-error and cross-entropy losses."""
    return Model(ACTIVATIONS["sigmoid"], (LOSSES["se"], LOSSES["ce"]))
