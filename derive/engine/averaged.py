"""The samples section of a Book: the averaged loss J over m samples, its gradient by
linearity from the one-sample chain, and the same gradient for all samples at once in
matrix form (conventions and meanings: ``derive.engine.samples``).

For every loss of the model: δ^{(i)} (the one-sample δ = ∂L/∂z, at sample i), the
definition of J with the model's penalty, ∂J/∂w_j and ∂J/∂b, and ∇_w J = (1/m)Xᵀδ + ∇R.
Independently of the model's penalty the L2 penalty's own results (its definition and
gradient) are derived too, in the section "penalty": the generated code offers ``l2=``
whatever the sheet shows, and prints its penalty terms from them.
"""

from sympy import Derivative

from derive.engine import labels, rules, sample_rules
from derive.engine.samples import (
    PENALTIES,
    BatchModel,
    R,
    at_sample,
    averaged,
    delta,
    gradient_vector,
    i,
    w_j,
)
from derive.engine.symbols import b
from derive.engine.symbols import z as z_one

SECTION = "samples"
PENALTY_SECTION = "penalty"


def derive_samples(book, gradient):
    """Add the samples section to ``book`` for its model's losses and penalty;
    ``gradient`` is ``derivations.gradient`` (to derive the one-sample δ where the book
    lacks it)."""
    model = book.model
    book.section = PENALTY_SECTION
    penalty_results(book)
    book.section = SECTION
    for loss in model.losses:
        if labels.gradient(loss, z_one) not in book:
            gradient(book, loss, z_one)
        batch = BatchModel(model, loss, model.penalty)
        at_sample_result(book, batch, delta, labels.sample_delta(loss),
                         book[labels.gradient(loss, z_one)])
        _definition(book, batch)
        for parameter in (w_j, b):
            _component(book, batch, parameter)
        _matrix_form(book, batch)


def penalty_results(book):
    """R(w) = (λ/2)‖w‖² and ∂R/∂w_j = λ w_j, in their own model (no loss involved)."""
    penalty = PENALTIES["l2"]
    batch = BatchModel(book.model, book.model.losses[0], penalty)
    book.start("The L2 penalty", labels.PENALTY_DEFINITION, R, model=batch).apply(
        sample_rules.penalty_definition, penalty=penalty)
    (
        book.start(("Gradient of the L2 penalty with respect to ", w_j),
                   labels.PENALTY_GRADIENT, Derivative(penalty.value, w_j), model=batch)
        .apply(sample_rules.penalty_derivative)
    )


def at_sample_result(book, batch, symbol, label, one_sample):
    """``symbol``[i] (δ or d at sample i) by its definition, then the one-sample result
    ``one_sample`` (a derivation of the book) at sample i."""
    loss = batch.loss
    derivation = book.start((f"The {loss.title}'s ", symbol[i], " at sample ", i), label,
                            symbol[i], model=batch)
    derivation.apply(sample_rules.delta_definition, loss=loss)
    derivation.apply(rules.substitute, old=derivation.rhs, new=at_sample(one_sample.rhs),
                     detail=one_sample.label)


def _definition(book, batch):
    loss, J = batch.loss, averaged(batch.loss)
    title = f"The {loss.title} averaged over the samples"
    if batch.penalty.value != 0:
        title += f", with the {batch.penalty.title}"
    book.start(title, labels.averaged_definition(loss), J, model=batch).apply(
        sample_rules.average, loss=loss, penalty=batch.penalty)


def _component(book, batch, parameter):
    loss = batch.loss
    derivation = book.start(
        (f"Gradient of the averaged {loss.title} with respect to ", parameter),
        labels.averaged_gradient(loss, parameter),
        Derivative(averaged(loss), parameter), model=batch)
    derivation.apply(sample_rules.linearity, loss=loss, penalty=batch.penalty)
    derivation.apply(sample_rules.penalty_derivative, optional=True,
                     detail=labels.PENALTY_GRADIENT)
    derivation.apply(sample_rules.chain_rule_per_sample, loss=loss,
                     detail=labels.sample_delta(loss))
    if parameter == b:
        derivation.apply(sample_rules.in_matrix_form, component=derivation.rhs)


def _matrix_form(book, batch):
    loss = batch.loss
    component = book[labels.averaged_gradient(loss, w_j)]
    derivation = book.start(
        (f"The gradient of the averaged {loss.title} for all samples at once",),
        labels.matrix_gradient(loss), gradient_vector(loss), model=batch)
    derivation.apply(sample_rules.in_matrix_form, component=component.rhs,
                     detail=component.label)
    per_sample = book[labels.gradient(loss, z_one)].rhs
    derivation.apply(sample_rules.delta_for_all_samples, per_sample=per_sample,
                     optional=True, detail=labels.sample_delta(loss))
