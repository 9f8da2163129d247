"""Numerically stable primitives that generated code calls, as SymPy functions.

Each primitive is a SymPy ``Function`` with two faces: ``definition`` (what it means,
used by the verifier) and ``body`` (how the generated code computes it, from
e^{−|u|} so that nothing overflows for any finite u). The body is itself verified
against the definition before it is printed. ``u`` is the argument symbol of a body.
"""

from sympy import Abs, Function, Lambda, Max, Piecewise, exp, log
from sympy.codegen.cfunctions import log1p

from derive.symbols import z

u = z  # the bodies are written in one real variable; the verifier samples z widely


class Sigmoid(Function):
    """σ(u) = 1 / (1 + e^{−u}); computed as [u ≥ 0 ? 1 : t] / (1 + t) with t = e^{−|u|}."""

    nargs = 1
    is_real = True
    code_name = "_sigmoid"
    definition = Lambda(u, 1 / (1 + exp(-u)))
    body = Piecewise((1, u >= 0), (exp(-Abs(u)), True)) / (1 + exp(-Abs(u)))


class Softplus(Function):
    """softplus(u) = log(1 + e^{u}); computed as max(u, 0) + log1p(e^{−|u|})."""

    nargs = 1
    is_real = True
    code_name = "_softplus"
    definition = Lambda(u, log(1 + exp(u)))
    body = Max(u, 0) + log1p(exp(-Abs(u)))


PRIMITIVES = (Sigmoid, Softplus)


def unfold_primitives(expr):
    """``expr`` with every stable primitive replaced by its definition."""
    for primitive in PRIMITIVES:
        expr = expr.replace(primitive, primitive.definition)
    return expr
