"""Feedback that names the mistake: which known slip a false step matches.

``named_mistake(lhs, rhs, model)`` is asked only about a step the engine found false.
Each known mistake is a repair of the written right side; where the repaired side
equals the left side (in the model's meaning, at seeded points in high precision) the
step made that mistake, and its message says so. No repair matches a step that is
not false, so a correct derivation never gets a message. The mistakes:

- σ' taken as 1 − σ (the note's own slip): (1 − a) where a(1 − a) is meant;
- a dropped chain-rule factor: the left side is the right one times x_j, or times
  da/dz;
- a sign flip: the left side is minus the right one;
- a missing (or extra) 1/m: the left side is the right one over m (or times m);
- a and y swapped;
- log's derivative taken as log: log u written where u'/u is meant.
"""

import random

from sympy import Derivative, log

from derive.engine.symbols import a, x_j, y, z
from derive.reading.calculus import count_symbol

_SEED = 20240514
_POINTS = 6


def _points(symbols):
    rng = random.Random(_SEED)
    for _ in range(_POINTS):
        point = {}
        for symbol in sorted(symbols, key=str):
            if symbol == y:
                point[symbol] = rng.uniform(0.05, 0.95)
            elif symbol.is_positive:
                point[symbol] = rng.uniform(1.5, 7.0)
            else:
                point[symbol] = rng.uniform(-2.0, 2.0)
        yield point


def _same(first, second):
    """Whether two meanings agree at the seeded points (and are not both undefined)."""
    symbols = first.free_symbols | second.free_symbols
    agreed = 0
    for point in _points(symbols):
        try:
            left, right = complex(first.subs(point).evalf(30)), complex(second.subs(point).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if abs(left - right) > 1e-9 * (1 + abs(left)):
            return False
        agreed += 1
    return agreed >= 3


def _swap(expr):
    return expr.xreplace({a: y, y: a})


def _log_as_log(rhs, lhs):
    variables = [variable for node in lhs.atoms(Derivative) for variable in node.variables]
    variable = variables[0] if variables else a
    return rhs.replace(lambda e: e.func == log, lambda e: e.args[0].diff(variable) / e.args[0])


def named_mistake(lhs, rhs, model):
    """The message of the known mistake the false step ``lhs = rhs`` makes, or ""."""
    try:
        return _named(lhs, rhs, model)
    except Exception:  # noqa: BLE001 - feedback is a courtesy; the verdict stands without it
        return ""


def _named(lhs, rhs, model):
    meaning = model.meaning
    left, right = meaning(lhs), meaning(rhs)
    slope = a * (1 - a)
    sigma = model.activation.function(z)
    activation_slope = meaning(Derivative(a, z))
    m = count_symbol("m")
    repairs = [
        ("σ' was taken as 1 − σ; the derivative of the sigmoid is σ(z)(1 − σ(z)) = a(1 − a)",
         lambda: meaning(rhs.subs({1 - a: slope, 1 - sigma: sigma * (1 - sigma)}))),
        ("a chain-rule factor was dropped: ∂z/∂w_j = x_j is missing",
         lambda: right * x_j if left.has(x_j) else None),
        ("a chain-rule factor was dropped: da/dz is missing",
         lambda: right * activation_slope),
        ("the sign is flipped", lambda: -right),
        ("the 1/m of the average is missing", lambda: right / m if right.has(m) else None),
        ("an extra 1/m: the sum is already averaged", lambda: right * m),
        ("a and y are swapped", lambda: meaning(_swap(rhs))),
        ("the derivative of log u was taken as log u; it is u'/u",
         lambda: meaning(_log_as_log(rhs, lhs)) if rhs.has(log) else None),
    ]
    for message, repaired in repairs:
        candidate = repaired()
        if candidate is None or candidate == right:
            continue
        if _same(left, candidate):
            return message
    return ""


__all__ = ["named_mistake"]
