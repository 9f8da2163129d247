"""Structural helpers the rules and code generation share: products and sums that keep
their reading order, exact subtree replacement, re-evaluation, and the chain-rule factors
from a one-line-per-function derivative table.

Rules build unevaluated products and sums where the reader should see the shape of a
step; ``evaluated`` switches SymPy's arithmetic back on when a step is done with it.
"""

from sympy import Add, Derivative, Limit, Mul, Pow, S, Subs, atan, exp, log, tanh

# --- structural helpers ---------------------------------------------------------------


def product(*factors):
    """An unevaluated product that keeps its factors in reading order; drops 1s."""
    kept = [factor_ for factor_ in factors if factor_ != 1]
    if not kept:
        return S.One
    return kept[0] if len(kept) == 1 else Mul(*kept, evaluate=False)


def factors_of(expr):
    """The factors of a product in reading order (a non-product is one factor)."""
    return list(expr.args) if isinstance(expr, Mul) else [expr]


def replace_exactly(expr, old, new):
    """``expr`` with every subtree equal to ``old`` replaced, keeping unevaluated shapes.

    An unevaluated sum or product matches whatever the order of its terms or factors.
    """
    if _same(expr, old):
        return new
    if not expr.args:
        return expr
    arguments = [replace_exactly(argument, old, new) for argument in expr.args]
    if isinstance(expr, (Mul, Add)):
        if isinstance(expr, Mul):
            return product(*arguments)
        return Add(*arguments, evaluate=False)
    return expr.func(*arguments)


def _same(expr, old):
    if expr == old:
        return True
    if not (isinstance(expr, (Mul, Add)) and expr.func == old.func
            and len(expr.args) == len(old.args)):
        return False
    unmatched = list(old.args)
    for argument in expr.args:
        match = next((other for other in unmatched if _same(argument, other)), None)
        if match is None:
            return False
        unmatched.remove(match)
    return True


def evaluated(expr):
    """``expr`` rebuilt bottom-up with SymPy's automatic arithmetic switched on."""
    if isinstance(expr, Subs):
        return evaluated(expr.doit())
    if not expr.args or isinstance(expr, (Derivative, Limit)):
        return expr
    if isinstance(expr, Mul):
        return Mul(*[evaluated(part) for part in _flat_factors(expr)])
    return expr.func(*[evaluated(argument) for argument in expr.args])


def _flat_factors(expr):
    """Factors of nested products, so −1·(1 − y)·(−1) meets its signs before distributing."""
    if not isinstance(expr, Mul):
        return [expr]
    return [part for argument in expr.args for part in _flat_factors(argument)]


# --- derivative table: d/du f(u), one line each -----------------------------------------

DERIVATIVES = {
    exp: lambda u: exp(u),
    log: lambda u: 1 / u,
    tanh: lambda u: 1 - tanh(u) ** 2,
    atan: lambda u: 1 / (1 + u**2),
}


def chain_factors(expr, variable):
    """d expr / d variable as a list of factors f'(g) · g' · … (outermost first)."""
    if not expr.has(variable):
        return [S.Zero]
    if expr == variable:
        return []
    if isinstance(expr, Add):
        terms = [term for term in expr.args if term.has(variable)]
        if len(terms) == 1:
            return chain_factors(terms[0], variable)
        return [Add(*[product(*chain_factors(t, variable)) for t in terms], evaluate=False)]
    if isinstance(expr, Mul):
        constant = [part for part in expr.args if not part.has(variable)]
        dependent = [part for part in expr.args if part.has(variable)]
        if constant and len(dependent) == 1:
            return [product(*constant), *chain_factors(dependent[0], variable)]
    if isinstance(expr, Pow) and not expr.exp.has(variable):
        power, base = expr.exp, expr.base
        outer = Mul(power, Pow(base, power - 1), evaluate=False)
        return [outer, *chain_factors(base, variable)]
    if expr.func in DERIVATIVES and len(expr.args) == 1:
        (inner,) = expr.args
        return [DERIVATIVES[expr.func](inner), *chain_factors(inner, variable)]
    return [expr.diff(variable)]
