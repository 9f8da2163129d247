"""Activations and losses: each is one registry entry, and everything else follows.

An ``Activation`` gives the function a = act(z) as a SymPy ``Lambda``; a ``Loss`` gives
L(a, y). Both carry their LaTeX name. An activation also lists its ``stable_rewrites``:
identities (pattern in a, y → replacement in z) that code generation applies, in
order, to turn a result such as (a − y)·x_j into a form that is exact and finite for
every finite z (σ(−z) instead of 1 − σ(z), softplus instead of log σ). Each rewritten
expression is verified against the original before it is printed.
"""

from dataclasses import dataclass, field

from sympy import Function, Interval, Lambda, Rational, S, Symbol, exp, log
from sympy.core.function import UndefinedFunction

from derive.stable import Sigmoid, Softplus
from derive.symbols import a, y, z


@dataclass(frozen=True)
class Activation:
    """a = act(z). ``function`` is the symbolic name (σ): ``symbol`` in text, ``latex``."""

    name: str
    title: str
    function: UndefinedFunction
    symbol: str
    latex: str
    definition: Lambda
    output_range: Interval
    stable_rewrites: tuple = ()

    def __call__(self, argument):
        """The activation applied symbolically, e.g. σ(−z)."""
        return self.function(argument)

    def expression(self, argument):
        """The defining expression at ``argument``, e.g. 1/(1 + e^{−z})."""
        return self.definition(argument)


@dataclass(frozen=True)
class Loss:
    """L(a, y) for one sample; ``symbol`` is the name shown in the sheet (L_se)."""

    name: str
    title: str
    symbol: Symbol
    latex: str
    definition: Lambda
    label_cases: tuple = field(default=())
    """Label values whose one-sided losses the sheet discusses (e.g. y = 1, y = 0)."""

    def expression(self, output=a, label=y):
        """L at activation output ``output`` and label ``label``."""
        return self.definition(output, label)


_sigma = Function("sigma", real=True)

ACTIVATIONS = {
    "sigmoid": Activation(
        name="sigmoid",
        title="logistic sigmoid",
        function=_sigma,
        symbol="σ",
        latex=r"\sigma",
        definition=Lambda(z, 1 / (1 + exp(-z))),
        output_range=Interval.open(0, 1),
        stable_rewrites=(
            (log(a), -Softplus(-z)),
            (log(1 - a), -Softplus(z)),
            (a - y, (1 - y) * Sigmoid(z) - y * Sigmoid(-z)),
            (1 - a, Sigmoid(-z)),
            (a, Sigmoid(z)),
        ),
    ),
}

LOSSES = {
    "se": Loss(
        name="se",
        title="squared error",
        symbol=Symbol("L_se", real=True),
        latex=r"\mathcal{L}_{\mathrm{se}}",
        definition=Lambda((a, y), Rational(1, 2) * (a - y) ** 2),
    ),
    "ce": Loss(
        name="ce",
        title="binary cross-entropy",
        symbol=Symbol("L_ce", real=True),
        latex=r"\mathcal{L}_{\mathrm{ce}}",
        definition=Lambda((a, y), -y * log(a) - (1 - y) * log(1 - a)),
        label_cases=(S.One, S.Zero),
    ),
}


def activation(name):
    """The registry entry ``name``; a KeyError names the valid choices."""
    return _lookup(ACTIVATIONS, name, "activation")


def loss(name):
    """The registry entry ``name``; a KeyError names the valid choices."""
    return _lookup(LOSSES, name, "loss")


def _lookup(table, name, kind):
    try:
        return table[name]
    except KeyError:
        valid = ", ".join(sorted(table))
        raise KeyError(f"unknown {kind} {name!r}; choose one of: {valid}") from None
