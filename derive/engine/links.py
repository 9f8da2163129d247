"""The canonical-link table: for which (activation, loss) pairs ∂L/∂z is just a − y,
and which losses are convex in the parameters.

For every valid pair the engine derives δ = ∂L/∂z = dL/da · da/dz (each factor by the
rules, as on the sheets) and then tries the step δ = a − y. A pair is *canonical* when
that step is proved; otherwise the verifier's counterexample shows it false. Nothing in
the table is typed in: the sigmoid with the cross-entropy, the identity with the
squared error and the exponential with the Poisson likelihood come out canonical because
the loss is the negative log-likelihood whose natural parameter is z (a generalised
linear model with its canonical link), so da/dz cancels the curvature of the loss.
"""

from dataclasses import dataclass, replace

from derive.engine.derivations import (
    Book,
    activation_derivative,
    gradient,
    loss_derivative,
)
from derive.engine.model import Model
from derive.engine.registry import ACTIVATIONS, LOSSES, is_valid
from derive.engine.second_order import convexity, is_convex, second_derivative
from derive.engine.steps import Step, StepError
from derive.engine.symbols import a, y, z


@dataclass(frozen=True)
class Link:
    """One valid pair: δ = ∂L/∂z as derived, and whether δ = a − y holds.

    ``counterexample`` is the point and the two sides where it fails (None when it
    holds); ``derivation`` is the chain that produced δ.
    """

    activation: str
    loss: str
    derivation: object
    canonical: bool
    counterexample: dict | None
    curvature: object = None
    """The derivation of ∂²L/∂z² (``derive.engine.second_order``)."""
    convex: bool | None = None
    """Whether the loss is convex in (w, b): ∂²L/∂z² ≥ 0 for all z and labels, verified
    either way (a chain to ≥ 0, or a point where it is negative)."""

    @property
    def delta(self):
        return self.derivation.rhs


def canonical_links(activations=None, losses=None):
    """A ``Link`` for every valid pair of these entries (by default the registry's), in
    registry order."""
    activations = ACTIVATIONS.values() if activations is None else activations
    losses = LOSSES.values() if losses is None else losses
    links = []
    for act in activations:
        model = Model(act, tuple(loss for loss in losses if is_valid(act, loss)))
        book = Book(model)
        activation_derivative(book)
        for loss in model.losses:
            loss_derivative(book, loss)
            link = _link(act.name, loss, gradient(book, loss, z), model)
            curvature = second_derivative(book, loss)
            convexity(book, loss)
            links.append(replace(link, curvature=curvature, convex=is_convex(book, loss)))
    return links


def _link(name, loss, derivation, model):
    try:
        Step(derivation.rhs, a - y, "canonical link", model=model, derivation=derivation.title)
    except StepError as error:
        counterexample = {"point": error.point, "values": error.values}
        return Link(name, loss.name, derivation, False, counterexample)
    return Link(name, loss.name, derivation, True, None)
