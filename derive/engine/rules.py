"""The rules that produce derivation steps, each a ``Rule`` object defined once here.

Each rule is written as a function ``rule(expr, **arguments) -> expr`` whose docstring
is the rule written as a formula; the ``rule`` decorator turns it into a ``Rule``, so a
derivation applies ``rules.split_square`` (a misspelt rule is an AttributeError at
import) and every step records the rule's name. A rule that does not apply returns None.
Rules build their results with unevaluated products and sums where the reader should see
the shape of the step (the factors of a chain rule, say); the verifier judges meanings,
so display order never affects correctness.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from sympy import (
    Add,
    Derivative,
    Dummy,
    Eq,
    Limit,
    Mul,
    Pow,
    Rel,
    S,
    cancel,
    count_ops,
    evaluate,
    exp,
    expand,
    factor,
    fraction,
    simplify,
    solve,
)
from sympy import (
    limit as sympy_limit,
)
from sympy.core.relational import Relational

from derive.engine.algebra import (
    chain_factors,
    evaluated,
    factors_of,
    product,
    replace_exactly,
)
from derive.engine.symbols import a, b, rest, w_j, x_j, z

CHAIN_RULE = "chain rule"
DIFFERENTIATE = "differentiate"
SUBSTITUTE = "substitute"
ALGEBRA = "algebra"
CALCULUS = "calculus"


@dataclass(frozen=True)
class Rule:
    """A named rule; ``formula`` (the function's docstring) is what it applies.

    ``phrase`` is the short justification a sheet prints beside a step (LaTeX text).
    Calling the rule applies it: the next expression, or None where it does not apply.
    """

    name: str
    kind: str
    formula: str
    function: Callable
    phrase: str

    def __call__(self, expr, **arguments):
        return self.function(expr, **arguments)


RULES: dict[str, Rule] = {}
"""Every rule by name, in definition order (for the record and the sheet's phrases)."""


def rule(name, kind, phrase=None):
    """Make the decorated function the rule ``name`` of the given kind."""

    def register(function):
        if name in RULES:
            raise ValueError(f"two rules are named {name!r}")
        RULES[name] = Rule(name, kind, inspect.getdoc(function), function, phrase or name)
        return RULES[name]

    return register


# --- the rules -------------------------------------------------------------------------


@rule("definition", SUBSTITUTE)
def definition(expr, *, model, of):
    """act(u) = formula(u);  a = act(z);  L = L(a, y);  z = w_j x_j + Σ_{k≠j} w_k x_k + b."""
    if of == "output":
        return replace_exactly(expr, a, model.activation(z))
    if of == "activation":
        return expr.replace(model.activation.function, lambda u: _unfold_at(model, u))
    if of == "z":
        return replace_exactly(expr, z, Add(w_j * x_j, rest, b, evaluate=False))
    if of == "loss":
        for loss in model.losses:
            expr = replace_exactly(expr, loss.symbol, loss.expression())
        return expr
    raise ValueError(f"no definition of {of!r}; use activation, output, loss or z")


def _unfold_at(model, argument):
    """The activation's formula at ``argument``; at a number, left unevaluated to show it."""
    if argument.is_number:
        with evaluate(False):
            return model.activation.expression(argument)
    return model.activation.expression(argument)


@rule(CHAIN_RULE, CHAIN_RULE)
def chain_rule(expr, *, model, loss, parameter):
    """∂L/∂p = dL/da · ∂a/∂z · ∂z/∂p, since L depends on p only through a(z(p))
    (for p = z itself the last factor is 1)."""
    if expr != Derivative(loss.symbol, parameter):
        return None
    last = S.One if parameter == z else Derivative(z, parameter)
    return product(Derivative(loss.symbol, a), Derivative(a, z), last)


@rule(DIFFERENTIATE, DIFFERENTIATE)
def differentiate(expr):
    """d/dv f(g(v)) = f'(g(v)) · g'(v), term by term, with f' from the derivative table."""
    return expr.replace(
        lambda node: isinstance(node, Derivative) and len(node.variables) == 1,
        lambda node: product(*chain_factors(node.expr, node.variables[0])),
    )


@rule("through the output", CHAIN_RULE, phrase="chain rule through $a$")
def through_the_output(expr):
    """d/dz f(a, z) = ∂f/∂a · da/dz + ∂f/∂z, for f written in a (and z) with a = act(z)."""
    if not (isinstance(expr, Derivative) and expr.variables == (z,)):
        return None
    inner = expr.expr
    through_a = product(inner.diff(a), Derivative(a, z))
    direct = inner.diff(z)
    return through_a if direct == 0 else Add(through_a, direct, evaluate=False)


@rule(SUBSTITUTE, SUBSTITUTE, phrase="by")
def substitute(expr, *, old, new):
    """If u = v has been shown (or is a definition), u may be replaced by v anywhere."""
    replaced = replace_exactly(expr, old, new)
    return None if replaced == expr else replaced


@rule("arithmetic", ALGEBRA)
def arithmetic(expr):
    """c·(d·u) = (cd)·u,  u·u⁻¹ = 1,  −(−u) = u,  f(v)|_{v=c} = f(c): do the arithmetic."""
    return evaluated(expr)


@rule("split the square", ALGEBRA)
def split_square(expr):
    """N / D² = (1 / D) · (N / D)."""
    numerator, denominator = fraction(evaluated(expr), exact=True)
    if not (isinstance(denominator, Pow) and denominator.exp == 2):
        return None
    base = denominator.base
    return product(Pow(base, -1), numerator / base)


@rule("add and subtract", ALGEBRA, phrase="add and subtract a constant")
def add_and_subtract(expr):
    """N / D = (D − c) / D  where  c = D − N  is a constant."""
    rewritten = []
    for part in factors_of(expr):
        numerator, denominator = fraction(part, exact=True)
        constant = expand(denominator - numerator)
        if denominator != 1 and constant.is_number and constant != 0 and not numerator.is_number:
            shifted = Add(denominator, -constant, evaluate=False)
            part = Mul(shifted, Pow(denominator, -1), evaluate=False)
        rewritten.append(part)
    result = product(*rewritten)
    return None if result == expr else result


@rule("in terms of exp(-z)", ALGEBRA, phrase=r"in terms of $e^{-z}$")
def in_terms_of_decay(expr):
    """e^{z} = 1 / e^{−z}; then the compound fraction is cleared: 1/(e^{z}+1) = e^{−z}/(1+e^{−z})."""
    if not expr.has(exp(z)):
        return None
    decay = Dummy("t", positive=True)
    rational = cancel(expr.subs(exp(z), 1 / decay))
    if rational.has(z):
        return None
    return rational.subs(decay, exp(-z))


@rule("split the numerator", ALGEBRA)
def split_numerator(expr):
    """(D − c) / D = 1 − c / D."""
    numerator, denominator = fraction(expr, exact=True)
    constant = expand(denominator - numerator)
    if denominator == 1 or not constant.is_number or constant == 0:
        return None
    return Add(S.One, -constant / denominator, evaluate=False)


@rule("recognise the activation", ALGEBRA, phrase="definition of the activation")
def recognise_activation(expr, *, model):
    """A factor g(z) that equals h(act(z)) is written h(act(z)) (solve a = act(z) for z);
    the whole product is rewritten at once when that reads shorter."""
    activation = model.activation
    inverses = [inverse for inverse in solve(Eq(a, activation.expression(z)), z)
                if _real_on(inverse, activation.output_range)]
    if len(inverses) != 1:
        return None
    rewritten = [_through_output(part, inverses[0], activation) for part in factors_of(expr)]
    result = product(*rewritten)
    whole = _through_output(expr, inverses[0], activation)
    if whole != expr and count_ops(whole) < count_ops(result):
        result = whole
    return None if result == expr else result


def _through_output(part, inverse, activation):
    """``part`` as a function of act(z), when it is one; else ``part`` unchanged."""
    substituted = part.subs(z, inverse)
    through_output = min(expand(substituted), simplify(substituted), key=count_ops)
    if through_output.free_symbols <= {a} and not through_output.is_number:
        return through_output.subs(a, activation(z))
    return part


def _real_on(inverse, output_range):
    """True when ``inverse`` (a function of a) is real at an interior point of the range."""
    low, high = output_range.inf, output_range.sup
    if low.is_finite and high.is_finite:
        inside = (low + high) / 2
    else:
        inside = low + 1 if low.is_finite else (high - 1 if high.is_finite else S.Zero)
    return bool(inverse.subs(a, inside).is_extended_real)


@rule("cancel common factors", ALGEBRA, phrase="cancel")
def cancel_common_factors(expr):
    """(Σᵢ Nᵢ/Dᵢ) · G = Σᵢ Nᵢ · (G / Dᵢ), with each Dᵢ (1 for some terms, not all)
    cancelled against a factor of G."""
    parts = factors_of(expr)
    for index in range(len(parts) - 1):
        total, other = parts[index], parts[index + 1]
        if not isinstance(total, Add):
            continue
        if all(fraction(term, exact=True)[1] == 1 for term in total.args):
            continue
        terms = [_cancel_term(term, factors_of(other)) for term in total.args]
        if None in terms:
            continue
        cancelled = Add(*terms, evaluate=False)
        return product(*parts[:index], cancelled, *parts[index + 2:])
    return None


def _cancel_term(term, available):
    numerator, denominator = fraction(term, exact=True)
    remaining = list(available)
    for part in factors_of(denominator) if denominator != 1 else []:
        if part not in remaining:
            return None
        remaining.remove(part)
    return product(*factors_of(numerator), *remaining)


@rule("expand and collect", ALGEBRA)
def expand_and_collect(expr):
    """A sum is multiplied out and its like terms collected: −y(1 − a) + (1 − y)a = a − y."""
    rewritten = []
    for part in factors_of(expr):
        if isinstance(part, Add):
            collected = _fewer_minus_signs(factor(expand(part)))
            if count_ops(collected) < count_ops(part):
                part = collected
        rewritten.append(part)
    result = product(*rewritten)
    return None if result == expr else result


def _fewer_minus_signs(expr):
    """A factored product with its factors' signs chosen for reading: (y − a)(a − 1)
    becomes (a − y)(1 − a); an odd flip is absorbed by a factor u − c → c − u."""
    factors = factors_of(expr)
    flips = [part.could_extract_minus_sign() and isinstance(part, Add) for part in factors]
    factors = [-part if flip else part for part, flip in zip(factors, flips)]
    if sum(flips) % 2:
        for index, part in enumerate(factors):
            if isinstance(part, Add) and any(term.is_number and term < 0 for term in part.args):
                factors[index] = -part
                break
        else:
            factors.insert(0, S.NegativeOne)
    return Mul(*factors, evaluate=False) if len(factors) > 1 else factors[0]


@rule("limit", CALCULUS)
def evaluate_limit(expr):
    """lim_{v→p} f(v) is evaluated (e^{−z} → 0 as z → ∞, −log a → ∞ as a → 0⁺, …)."""
    if not isinstance(expr, Limit):
        return None
    body, variable, point, direction = expr.args
    return sympy_limit(body, variable, point, str(direction))


@rule("monotonicity", CALCULUS, phrase="strictly increasing,")
def monotonicity(expr, *, model):
    """If act is strictly increasing, then act(u) ⋈ act(v) ⇔ u ⋈ v for ⋈ ∈ {<, ≤, >, ≥}."""
    if not isinstance(expr, Relational):
        return None
    function = model.activation.function
    left, right = expr.lhs, expr.rhs
    if not (left.func == function and right.func == function):
        return None
    return Rel(left.args[0], right.args[0], expr.rel_op)


@rule("sign", CALCULUS, phrase="since")
def sign(expr):
    """A quantity is compared with 0 on its domain (each factor's sign is known there)."""
    return S.Zero
