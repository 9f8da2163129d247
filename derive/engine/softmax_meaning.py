"""Sums over classes and samples, with K and m symbolic, turned into finitely many
variables, so that an identity in the softmax model can be proved by ``cancel`` or
``simplify`` (``derive.engine.verify``) for every K and m.

Each side of a step, unfolded to base variables (``SoftmaxModel.unfolded``), goes through
the same steps:

1. Cases on the free class indices: with both k and i free, k = i and k ≠ i, each case a
   separate expression; the meaning is c₌·E₌ + c≠·E≠ with fresh symbols c₌, c≠, which is
   zero exactly when each case is (a polynomial in c₌, c≠).
2. Each sum over the classes, innermost first, is split into its terms at the free class
   indices of the case (the Kronecker delta evaluated there) and the sum over the other
   classes. That rest is expanded into terms; a term's factor that depends on the summed
   index becomes one variable per distinct factor (``R…``), independent of every z_c, W_{jc}
   and b_c of a free index c: exactly what a sum over other classes is. A factor free of
   the index is counted (K minus the free indices) times. The labels' rest Σ_{l∉F} y_l is
   1 − Σ_{c∈F} y_c: the stated assumption Σ_l y_l = 1.
3. Sums over the samples likewise, with no free sample index.

An identity in the resulting variables, taken as independent, holds in particular at
their actual values: a proof here is a proof for every K ≥ (the free indices) and every m.
"""

import hashlib

from sympy import (
    Add,
    Function,
    Indexed,
    KroneckerDelta,
    Mul,
    Sum,
    Symbol,
    cancel,
    exp,
    expand,
    expand_log,
    powsimp,
    srepr,
)

from derive.engine.samples import m

CASE_EQUAL = Symbol("case_k_eq_i", real=True)
CASE_DISTINCT = Symbol("case_k_ne_i", real=True)
_REST = Symbol("_rest", integer=True, positive=True)
K = k = i = None
_LABELS = ()
"""Set by ``finite`` for its call: the number of classes, the free class indices and the
label bases (``derive.engine.softmax`` names them; this module does not import it)."""


def finite(expr, classes, indices, labels):
    """``expr`` (base variables, sums kept) in finitely many variables, by cases: K is
    ``classes``, the free class indices ``indices`` (k, i) and the label rows ``labels``
    (one sample's, and per sample)."""
    global K, k, i, _LABELS
    K, (k, i), _LABELS = classes, indices, labels
    expr = _rename_bound(expr, 0)
    free = expr.free_symbols
    if k in free and i in free:
        cases = [(CASE_EQUAL, expr.xreplace({k: i}), [i]), (CASE_DISTINCT, expr, [i, k])]
    else:
        cases = [(None, expr, [c for c in (i, k) if c in free])]
    total = 0
    for selector, case, specials in cases:
        value = _plain(_finite(case, specials))
        total += value if selector is None else selector * value
    return total


def _rename_bound(expr, depth):
    """Every summation index renamed by its kind and depth (_c0, _s1, …): the same
    structure gets the same names on both sides, and no bound index is called k or i."""
    if isinstance(expr, Sum):
        *inner, (variable, low, high) = expr.limits  # the last limit is the outermost
        function = Sum(expr.function, *inner) if inner else expr.function
        bound = Symbol(f"_{'c' if high == K else 's'}{depth}", integer=True, positive=True)
        body = _rename_bound(function.xreplace({variable: bound}), depth + 1)
        return Sum(body, (bound, low, high))
    if not expr.args or isinstance(expr, Indexed):
        return expr
    return expr.func(*[_rename_bound(argument, depth) for argument in expr.args])


def _finite(expr, specials):
    if isinstance(expr, Sum):
        return _sum(expr, specials)
    if not expr.args or isinstance(expr, Indexed):
        return expr
    return expr.func(*[_finite(argument, specials) for argument in expr.args])


def _sum(total, specials):
    *inner, (bound, low, high) = total.limits  # SymPy flattens nested sums
    if low != 1 or high not in (K, m):
        raise ValueError(f"a sum over 1…K or 1…m was expected, not {total}")
    body = _finite(Sum(total.function, *inner) if inner else total.function, specials)
    over_classes = high == K
    excluded = specials if over_classes else []
    terms = [body.xreplace({bound: c}) for c in excluded]
    rest = body.replace(
        lambda e: isinstance(e, KroneckerDelta) and bound in e.args
        and set(e.args) - {bound} <= set(excluded) and len(set(e.args)) == 2,
        lambda e: 0)
    rest = expand_log(rest, force=True)
    if not over_classes:  # the whole term under one sum, in a canonical form
        return Add(*terms, _rest_sum(_canonical(rest), bound, excluded, over_classes))
    for term in Add.make_args(expand(rest)):
        factors = Mul.make_args(term)
        depends = Mul(*[f for f in factors if f.has(bound)])
        constant = Mul(*[f for f in factors if not f.has(bound)])
        if depends == 1:
            terms.append((high - len(excluded)) * constant)
        else:
            terms.append(constant * _rest_sum(_canonical(depends), bound, excluded,
                                              over_classes))
    return Add(*terms)


def _canonical(part):
    """One form for equal rational functions of the exponentials and variables."""
    return cancel(powsimp(part.replace(
        lambda e: isinstance(e, exp) and e.args[0].could_extract_minus_sign(),
        lambda e: 1 / exp(-e.args[0]))))


def _rest_sum(part, bound, excluded, over_classes):
    """The variable that stands for Σ over the other indices of ``part``."""
    canonical = part.xreplace({bound: _REST})
    if over_classes:
        for base in _LABELS:
            if canonical.is_Indexed and canonical.base == base and canonical.indices[-1] == _REST:
                row = canonical.indices[:-1]
                return 1 - Add(*[base[(*row, c)] for c in excluded])
    key = srepr(canonical) + "|" + ",".join(map(str, excluded)) + str(over_classes)
    name = "R" + hashlib.sha256(key.encode()).hexdigest()[:10]
    outer = sorted((v for v in canonical.free_symbols if v.name.startswith("_")
                    and v != _REST), key=str)
    return Function(name, real=True)(*outer) if outer else Symbol(name, real=True)


def _plain(expr):
    """Kronecker deltas of distinct free indices are 0; logarithms expanded (every
    argument is positive: exponentials and their sums); indexed variables as symbols."""
    expr = expr.replace(lambda e: isinstance(e, KroneckerDelta), lambda e: 0)
    expr = expand_log(expr, force=True)
    return expr.replace(
        lambda e: isinstance(e, Indexed),
        lambda e: Symbol(f"{e.base.name}_{'_'.join(map(str, e.indices))}", real=True))

