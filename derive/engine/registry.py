"""Activations and losses: each is one registry entry, and everything else follows.

An ``Activation`` gives the function a = act(z) as a SymPy ``Lambda`` and the open
interval of its values; a ``Loss`` gives L(a, y), the interval of outputs a where it is
defined (``requires``) and the labels it accepts. A pair is valid when every value of
the activation lies where the loss is defined (``valid_pairs``): tanh, with values in
(−1, 1), cannot feed the cross-entropy, which needs a in (0, 1).

An activation also lists its ``stable_rewrites``: identities (pattern in a, y →
replacement in z) that code generation applies, in order, to turn a result such as
(a − y)·x_j into a form that is exact and finite for every finite z (σ(−z) instead of
1 − σ(z), softplus instead of log σ). Each rewritten expression is verified against the
original before it is printed, so a wrong rewrite stops the build.
"""

from dataclasses import dataclass, field

from sympy import Function, Interval, Lambda, Mul, Rational, S, Symbol, exp, log, tanh
from sympy.core.function import UndefinedFunction

from derive.engine.stable import LogSoftplus, Sigmoid, Softplus
from derive.engine.symbols import a, y, z


@dataclass(frozen=True)
class Activation:
    """a = act(z). ``function`` is the symbolic name (σ): ``symbol`` in text, ``latex``.

    ``classes`` is the pair of class labels (below, above the threshold act(0)) when the
    neuron is a classifier; None for a regression neuron, whose prediction is a itself.
    ``default_losses`` are the losses its sheet shows when none are named (all valid
    ones when empty). ``heading`` names the model in the sheet.
    """

    name: str
    title: str
    heading: str
    function: UndefinedFunction
    symbol: str
    latex: str
    definition: Lambda
    output_range: Interval
    stable_rewrites: tuple = ()
    classes: tuple | None = None
    default_losses: tuple = ()

    def __call__(self, argument):
        """The activation applied symbolically, e.g. σ(−z)."""
        return self.function(argument)

    def expression(self, argument):
        """The defining expression at ``argument``, e.g. 1/(1 + e^{−z})."""
        return self.definition(argument)


@dataclass(frozen=True)
class Loss:
    """L(a, y) for one sample; ``symbol`` is the name shown in the sheet (L_se).

    ``requires`` is the set of outputs a where L is defined; ``labels`` the labels y it
    accepts (the generated code also keeps y within the closure of the activation's
    range).
    """

    name: str
    title: str
    symbol: Symbol
    latex: str
    definition: Lambda
    requires: Interval = S.Reals
    labels: Interval = S.Reals
    label_cases: tuple = field(default=())
    """Label values whose one-sided losses the sheet discusses (e.g. y = 1, y = 0)."""

    def expression(self, output=a, label=y):
        """L at activation output ``output`` and label ``label``."""
        return self.definition(output, label)


ACTIVATIONS = {
    "sigmoid": Activation(
        name="sigmoid",
        title="logistic sigmoid",
        heading="Logistic regression",
        function=Function("sigma", real=True),
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
        classes=(0, 1),
        default_losses=("se", "ce"),
    ),
    "tanh": Activation(
        name="tanh",
        title="hyperbolic tangent",
        heading="A tanh neuron",
        function=Function("tanh", real=True),
        symbol="tanh",
        latex=r"\tanh",
        definition=Lambda(z, (exp(z) - exp(-z)) / (exp(z) + exp(-z))),
        output_range=Interval.open(-1, 1),
        stable_rewrites=(
            # tanh z = 2σ(2z) − 1, so tanh z − y = (1 − y)σ(2z) − (1 + y)σ(−2z) and
            # 1 − tanh² z = 4σ(2z)σ(−2z): no cancellation when |z| is large.
            (a - y, (1 - y) * Sigmoid(2 * z) - (1 + y) * Sigmoid(-2 * z)),
            (1 - a**2, 4 * Sigmoid(2 * z) * Sigmoid(-2 * z)),
            (a, tanh(z)),
        ),
        classes=(-1, 1),
    ),
    "identity": Activation(
        name="identity",
        title="identity",
        heading="Linear regression",
        function=Function("id", real=True),
        symbol="id",
        latex=r"\operatorname{id}",
        definition=Lambda(z, z),
        output_range=S.Reals,
        stable_rewrites=((a, z),),
    ),
    "exp": Activation(
        name="exp",
        title="exponential",
        heading="An exponential neuron",
        function=Function("exp_", real=True),
        symbol="exp",
        latex=r"\exp",
        definition=Lambda(z, exp(z)),
        output_range=Interval.open(0, S.Infinity),
        stable_rewrites=((log(a), z), (a, exp(z))),
    ),
    "softplus": Activation(
        name="softplus",
        title="softplus",
        heading="A softplus neuron",
        function=Function("softplus", real=True),
        symbol="softplus",
        latex=r"\operatorname{softplus}",
        definition=Lambda(z, log(1 + exp(z))),
        output_range=Interval.open(0, S.Infinity),
        stable_rewrites=(
            # The Poisson δ = (1 − y/a)·σ(z) = σ(z) − y·e^{log σ(z) − log a}: no y/a,
            # which overflows where softplus(z) underflows.
            (Mul(1 - exp(-a), 1 - y / a, evaluate=False),
             Sigmoid(z) - y * exp(-Softplus(-z) - LogSoftplus(z))),
            # da/dz = 1 − e^{−a} = σ(z), without the cancellation at small a.
            (1 - exp(-a), Sigmoid(z)),
            (log(a), LogSoftplus(z)),
            (a, Softplus(z)),
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
        requires=Interval.open(0, 1),
        labels=Interval(0, 1),
        label_cases=(S.One, S.Zero),
    ),
    "poisson": Loss(
        name="poisson",
        title="Poisson negative log-likelihood",
        symbol=Symbol("L_poisson", real=True),
        latex=r"\mathcal{L}_{\mathrm{P}}",
        definition=Lambda((a, y), a - y * log(a)),
        requires=Interval.open(0, S.Infinity),
        labels=Interval(0, S.Infinity),
    ),
}


def is_valid(act, chosen):
    """True when every output of ``act`` lies where the loss ``chosen`` is defined."""
    return bool(act.output_range.is_subset(chosen.requires))


def valid_losses(act):
    """Names of the losses ``act`` can feed, in registry order."""
    return tuple(name for name, entry in LOSSES.items() if is_valid(act, entry))


def valid_pairs():
    """Every (activation name, loss name) that may be combined, in registry order."""
    return [(name, loss_name) for name, entry in ACTIVATIONS.items()
            for loss_name in valid_losses(entry)]


def default_losses(act):
    """The losses a sheet for ``act`` shows when none are named."""
    return act.default_losses or valid_losses(act)


def label_range(act, chosen):
    """Labels the generated code accepts: the loss's labels within the closure of the
    activation's range (a label the output can approach)."""
    return chosen.labels.intersect(act.output_range.closure)
