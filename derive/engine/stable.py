"""Numerically stable primitives that generated code calls, as SymPy functions.

Each primitive is a SymPy ``Function`` with two faces: ``definition`` (what it means,
used by the verifier) and ``body`` (how the generated code computes it, from
e^{−|u|} so that nothing overflows for any finite u). The body is itself verified
against the definition before it is printed. ``u`` is the argument symbol of a body.
"""

from sympy import Abs, Function, Lambda, Max, Piecewise, exp, log
from sympy.codegen.cfunctions import log1p

from derive.engine.symbols import z

u = z  # the bodies are written in one real variable; the verifier samples z widely


class Sigmoid(Function):
    """σ(u) = 1 / (1 + e^{−u}); computed as [u ≥ 0 ? 1 : t] / (1 + t) with t = e^{−|u|}."""

    nargs = 1
    is_real = True
    code_name = "_sigmoid"
    definition = Lambda(u, 1 / (1 + exp(-u)))

    def fdiff(self, argindex=1):
        """σ'(u) = σ(u)·σ(−u): a product of stable factors, for second derivatives."""
        return Sigmoid(self.args[0]) * Sigmoid(-self.args[0])
    body = Piecewise((1, u >= 0), (exp(-Abs(u)), True)) / (1 + exp(-Abs(u)))


class Softplus(Function):
    """softplus(u) = log(1 + e^{u}); computed as max(u, 0) + log1p(e^{−|u|})."""

    nargs = 1
    is_real = True
    code_name = "_softplus"
    definition = Lambda(u, log(1 + exp(u)))

    def fdiff(self, argindex=1):
        """softplus'(u) = σ(u)."""
        return Sigmoid(self.args[0])
    body = Max(u, 0) + log1p(exp(-Abs(u)))


class Log1pRatio(Function):
    """log(1 + t) / t for t = e^{−|u|} ∈ (0, 1], which tends to 1 as t → 0.

    Not inlined: the generated module computes it with a helper, ``_log1p_ratio``, that
    returns the limit 1 where t has underflowed to 0 (there log1p(t)/t rounds to 1
    anyway). The verifier uses the definition, which holds wherever t > 0.
    """

    nargs = 1
    is_real = True
    code_name = "_log1p_ratio"
    definition = Lambda(u, log(1 + u) / u)


class LogSoftplus(Function):
    """log(softplus(u)); computed as log(u + log1p(t)) for u ≥ 0 and as
    u + log(log1p(t)/t) for u < 0, with t = e^{−|u|}: finite and accurate even where
    softplus(u) itself underflows (u below about −745)."""

    nargs = 1
    is_real = True
    code_name = "_log_softplus"
    definition = Lambda(u, log(log(1 + exp(u))))

    def fdiff(self, argindex=1):
        """(log softplus u)' = σ(u)/softplus(u) = e^{log σ(u) − log softplus(u)}."""
        return exp(-Softplus(-self.args[0]) - LogSoftplus(self.args[0]))
    body = Piecewise(
        (log(u + log1p(exp(-Abs(u)))), u >= 0),
        (u + log(Log1pRatio(exp(-Abs(u)))), True),
    )


class LogGapRatio(Function):
    """(u − log(1 + u))/u for u ≥ 0, tending to 0 as u → 0, which ``_log_gap_ratio``
    computes without the cancellation of u − log1p(u) at small u, and without dividing
    by an underflowed u (a series in s = u/(2 + u), since log1p(u) = 2·atanh(s))."""

    nargs = 1
    is_real = True
    code_name = "_log_gap_ratio"
    definition = Lambda(u, (u - log(1 + u)) / u)


class SoftplusGap(Function):
    """σ(u)/softplus(u) − σ(−u), which is ≥ 0; the y-term of the softplus–Poisson
    curvature. Both terms tend to 1 as u → −∞, so for u < 0 it is computed, with
    t = e^{u}, as [(t − log1p t)/t] / [(1 + t)·(log1p t)/t]: no cancellation, and
    finite where t underflows."""

    nargs = 1
    is_real = True
    code_name = "_softplus_gap"
    definition = Lambda(u, 1 / ((1 + exp(-u)) * log(1 + exp(u))) - 1 / (1 + exp(u)))
    body = Piecewise(
        (LogGapRatio(exp(-Abs(u))) / ((1 + exp(-Abs(u))) * Log1pRatio(exp(-Abs(u)))),
         u < 0),
        (Sigmoid.body / Softplus.body - Sigmoid.body.subs(u, -u), True),
    )


PRIMITIVES = (Sigmoid, Softplus, LogSoftplus, SoftplusGap)
"""Primitives whose bodies are inlined into the generated code."""
HELPERS = (Log1pRatio, LogGapRatio)
"""Primitives that the generated module computes with a helper function of its own."""


def unfold_primitives(expr):
    """``expr`` with every stable primitive replaced by its definition."""
    for primitive in (*PRIMITIVES, *HELPERS):
        expr = expr.replace(primitive, primitive.definition)
    return expr
