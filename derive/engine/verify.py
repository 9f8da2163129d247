"""Deciding whether one displayed relation holds.

Every check works on *meanings* (see ``derive.engine.model``). An equality is proved when
the difference of the two sides is zero: structurally, then after ``cancel`` (exact for
the rational functions of e^{−z} that σ produces), then after ``simplify``; an
expression with |z|, max, min or a piecewise branch is split into the cases z > 0,
z < 0 and z = 0 first. A relation
between expressions (<, ≤, >, ≥) or an equivalence of two conditions (⇔) is proved
with ``solveset`` over the variable's domain. Before the costly ``simplify`` a few
seeded high-precision points are tried, so a false step fails fast with its
counterexample. Where no symbolic route succeeds, at least ``MIN_POINTS`` seeded points
are checked in high precision (mpmath, working precision raised with |z| so that
e^{−z} cancellations stay exact) and the step is marked numerically checked. A
relation with sums over samples i = 1…m is proved for symbolic m (the terms of both
sides compared under one sum) or else checked at the few sizes m of ``FIXED_SAMPLES``
only, and so marked numeric: evidence at some sizes is not a proof for every m.
``check_numerically`` is that numeric check alone, for a caller with a time budget
(``derive check``); ``check`` itself has none, so a verdict depends only on its
arguments.
"""

import functools
import random
from dataclasses import dataclass

import mpmath
from sympy import (
    Abs,
    Dummy,
    Indexed,
    Interval,
    Max,
    Min,
    Piecewise,
    Rel,
    S,
    Symbol,
    cancel,
    lambdify,
    log,
    simplify,
    solveset,
)
from sympy.codegen.cfunctions import log1p
from sympy.core.relational import Relational

from derive.engine import samples
from derive.engine.symbols import b, w_j, x_j, y, z

SYMBOLIC = "symbolic"
NUMERIC = "numeric"
MIN_POINTS = 32
PROBE_POINTS = 8
SEED = 20190217
FIXED_SAMPLES = (2, 3)
FIXED_FEATURES = 2
RELATIONS = ("=", "<", "<=", ">", ">=", "<=>")

BASE_DOMAINS = {
    z: S.Reals,
    y: Interval(0, 1),
    x_j: S.Reals,
    w_j: S.Reals,
    b: S.Reals,
    samples.lam: Interval(0, S.Infinity),
    samples.rho: Interval(0, S.Infinity),
    samples.w_k: S.Reals,
}
"""Where each base variable ranges. Labels y lie in [0, 1] (hard labels are 0 and 1)."""

_Z_SAMPLES = (0, 1e-9, -1e-9, 1, -1, 2.5, -2.5, 10, -10, 37, -37, 100, -100)
_LABEL_SAMPLES = (0, 1, None)  # None: a soft label drawn from (0, 1)


class Refuted(Exception):
    """The relation fails at ``point``, where the sides evaluate to ``values``."""

    def __init__(self, point, values):
        super().__init__(point, values)
        self.point = point
        self.values = values


class Undecided(Exception):
    """Neither a proof nor enough numeric evidence could be found."""


@dataclass(frozen=True)
class Verdict:
    """How a relation was established: ``SYMBOLIC`` or ``NUMERIC`` (with point count)."""

    method: str
    points: int = 0


def check(lhs, rhs, relation, domains):
    """Establish ``lhs relation rhs`` for meanings over ``domains``; raise Refuted."""
    _known(relation)
    return _established(lhs, rhs, relation, frozenset(domains.items()))


@functools.lru_cache(maxsize=4096)
def _established(lhs, rhs, relation, domains):
    """``check``, remembered by content: the verdict depends on nothing but these
    arguments (sampling is seeded), and the same relation recurs across models (the
    sigmoid's facts in the note, in each of its pairs and in the link table). A relation
    that fails raises and is not remembered."""
    domains = {**BASE_DOMAINS, **dict(domains)}
    variables = sorted(_free(lhs, rhs), key=str)
    if _proved(lhs, rhs, relation, variables, domains, cheap=True):
        return Verdict(SYMBOLIC)
    if lhs.has(Indexed) or rhs.has(Indexed):
        if _proved(lhs, rhs, relation, variables, domains, cheap=False):
            return Verdict(SYMBOLIC)
        return _at_fixed_sizes(lhs, rhs, relation, domains)
    holds = _truth(lhs, rhs, relation)
    _sample(holds, variables, domains, PROBE_POINTS, seed=SEED + 1)
    if _proved(lhs, rhs, relation, variables, domains, cheap=False):
        return Verdict(SYMBOLIC)
    return _numeric_verdict(holds, variables, domains)


def _at_fixed_sizes(lhs, rhs, relation, domains):
    """Numeric evidence, never a proof, for a relation with sums over samples: written
    out at each m of ``FIXED_SAMPLES`` (sums over features at n = ``FIXED_FEATURES``),
    each entry x[i, j], y[i], … a variable of its own (labels in [0, 1]), a free sample
    index i an entry apart from those summed; checked at ``MIN_POINTS`` points per size
    and marked numeric, whatever SymPy could do at one size."""
    points = 0
    for count in FIXED_SAMPLES:
        sizes = {samples.m: count, samples.n: FIXED_FEATURES, samples.i: count + 1}
        sides = [side.subs(sizes).doit() for side in (lhs, rhs)]
        entries = sorted(set().union(*(side.atoms(Indexed) for side in sides)), key=str)
        names = {entry: Symbol(str(entry), real=True) for entry in entries}
        sides = [side.xreplace(names) for side in sides]
        at_size = dict(domains)
        for entry, name in names.items():
            at_size[name] = Interval(0, 1) if entry.base == samples.y else S.Reals
        verdict = _numeric_verdict(_truth(*sides, relation), sorted(_free(*sides), key=str),
                                   at_size)
        points += verdict.points
    return Verdict(NUMERIC, points)


def check_numerically(lhs, rhs, relation, domains):
    """The numeric evidence of ``check`` alone: the same ``MIN_POINTS`` seeded points its
    fallback draws, no proof attempted; raise Refuted or Undecided. For a caller that
    stopped the proof search (``derive check``, past its time budget)."""
    _known(relation)
    variables = sorted(_free(lhs, rhs), key=str)
    return _numeric_verdict(_truth(lhs, rhs, relation), variables,
                            {**BASE_DOMAINS, **domains})


def _known(relation):
    if relation not in RELATIONS:
        raise ValueError(f"unknown relation {relation!r}; use one of {RELATIONS}")


def _numeric_verdict(holds, variables, domains):
    return Verdict(NUMERIC, _sample(holds, variables, domains, MIN_POINTS, seed=SEED))


def _free(*exprs):
    return set().union(*(e.free_symbols for e in exprs))


def _proved(lhs, rhs, relation, variables, domains, cheap):
    try:
        if relation == "=":
            return _zero(lhs, rhs, cheap)
        if cheap or len(variables) > 1:
            return False
        if relation == "<=>":
            return _same_set(lhs, rhs, variables, domains)
        return _same_set(Rel(lhs, rhs, relation), S.true, variables, domains)
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return False


def _zero(lhs, rhs, cheap):
    if lhs == rhs:
        return True
    if lhs.is_infinite or rhs.is_infinite:
        return False
    reduce = cancel if cheap else simplify
    return all(reduce(case) == 0 for case in _cases(lhs - rhs))


def _cases(difference):
    """Split on the sign of the one variable when |·|, max, min or a piecewise appear.

    With u > 0, u < 0 and u = 0 substituted in turn (u = ±p for a positive p), each
    of these evaluates to one branch, and each case is an ordinary identity.
    """
    difference = difference.replace(log1p, lambda argument: log(1 + argument))
    variables = difference.free_symbols
    if len(variables) != 1 or not difference.has(Abs, Max, Min, Piecewise):
        return [difference]
    (variable,) = variables
    positive = Dummy("p", positive=True)
    return [difference.subs(variable, value) for value in (positive, -positive, S.Zero)]


def _same_set(first, second, variables, domains):
    if not variables:
        return bool(first) == bool(second)
    (variable,) = variables
    domain = domains[variable]
    return _solutions(first, variable, domain) == _solutions(second, variable, domain)


def _solutions(condition, variable, domain):
    if condition is S.true:
        return domain
    return solveset(condition, variable, domain)


# --- numeric evidence ---------------------------------------------------------------


def _truth(lhs, rhs, relation):
    """A function of a point (dict) returning (holds, lhs value, rhs value)."""
    variables = sorted(_free(lhs, rhs), key=str)
    if relation == "<=>":
        first, second = (_evaluator(side, variables, condition=True) for side in (lhs, rhs))

        def holds(point):
            left, right = first(point), second(point)
            return left == right, left, right

        return holds
    left_of, right_of = (_evaluator(side, variables) for side in (lhs, rhs))

    def holds(point):
        left, right = left_of(point), right_of(point)
        return _compare(left, right, relation), left, right

    return holds


def _evaluator(expr, variables, condition=False):
    if condition and isinstance(expr, Relational):
        left = _evaluator(expr.lhs, variables)
        right = _evaluator(expr.rhs, variables)
        return lambda point: _compare(left(point), right(point), expr.rel_op)
    function = lambdify(variables, expr, modules="mpmath")
    return lambda point: function(*(point[v] for v in variables))


def _compare(left, right, relation):
    if relation in ("=", "=="):
        if mpmath.isinf(left) or mpmath.isinf(right):
            return left == right
        scale = max(mpmath.mpf(1), abs(left), abs(right))
        return abs(left - right) <= scale * mpmath.mpf(10) ** (-30)
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[
        relation
    ]


def _sample(holds, variables, domains, count, seed):
    """Check ``holds`` at ``count`` seeded points; return how many were evaluated."""
    rng = random.Random(seed)
    checked = 0
    for index in range(count * 3):
        if checked >= count:
            break
        # A symbol a model introduces for part of a sum (softmax's other classes) is real.
        point = {v: _draw(v, domains.get(v, S.Reals), index, rng) for v in variables}
        with mpmath.workdps(_precision(point)):
            try:
                ok, left, right = holds(point)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                continue
            if not _real(left) or not _real(right):
                continue
            checked += 1
            if not ok:
                raise Refuted(_printable(point), (_short(left), _short(right)))
    if checked < min(count, MIN_POINTS) and variables:
        raise Undecided(f"only {checked} of {count} sample points could be evaluated")
    return checked


def _draw(variable, domain, index, rng):
    if variable == z:
        values = _Z_SAMPLES
        return mpmath.mpf(values[index]) if index < len(values) else mpmath.mpf(rng.gauss(0, 6))
    if variable == y:
        label = _LABEL_SAMPLES[index % len(_LABEL_SAMPLES)]
        return mpmath.mpf(rng.random() if label is None else label)
    if domain == S.Reals:
        return mpmath.mpf(rng.gauss(0, 2))
    low, high = domain.inf, domain.sup
    if high is S.Infinity or low is S.NegativeInfinity:
        start, sign = (low, 1) if high is S.Infinity else (high, -1)
        return mpmath.mpf(float(start)) + sign * mpmath.mpf(1e-12 + rng.expovariate(0.3))
    low, high = float(low), float(high)
    edges = (low + 1e-12, high - 1e-12)
    if index < len(edges):
        return mpmath.mpf(edges[index])
    return mpmath.mpf(low + (high - low) * rng.random())


def _precision(point):
    """Digits enough to keep e^{−z} cancellations exact at this point."""
    largest = max((abs(float(value)) for value in point.values()), default=0.0)
    return 50 + int(largest / 2)


def _real(value):
    return isinstance(value, (mpmath.mpf, int, float, bool)) and not mpmath.isnan(value)


def _printable(point):
    return {str(k): mpmath.nstr(v, 12) for k, v in sorted(point.items(), key=lambda kv: str(kv[0]))}


def _short(value):
    if isinstance(value, bool):
        return str(value)
    return mpmath.nstr(value, 12)
