"""The softmax neuron's derivations, produced by the rules from its entries.

``derive_softmax(model)`` returns a ``Book`` (``derive.engine.derivations``) in sheet order:
"neuron" (z_i, the softmax, its Jacobian ∂a_k/∂z_i = a_k(δ_{ki} − a_i), ∂z_i/∂W_{ji},
∂z_i/∂b_i), "losses" (each loss's definition), "gradients" (∂L/∂z_i, ∂L/∂W_{ji},
∂L/∂b_i), "samples" (J, ∂J/∂W_{ji}, ∂J/∂b_i and ∇_W J = (1/m)·Xᵀ(A − Y) (+ λW)) and
"two classes" (K = 2 is logistic regression in z = z_1 − z_0). Every link is a ``Step``
proved in a ``SoftmaxModel`` with the class indices symbolic and Σ_k y_k = 1 assumed.
``softmax_links`` is the canonical-link table's rows for the softmax: cce canonical, se
not (with the verifier's counterexample).
"""

from sympy import Derivative, Symbol, exp, expand

from derive.engine import labels, rules
from derive.engine import softmax_rules as srules
from derive.engine.derivations import Book
from derive.engine.model import Model
from derive.engine.registry import ACTIVATIONS, LOSSES
from derive.engine.samples import PENALTIES
from derive.engine.softmax import (
    SOFTMAX,
    VECTOR_LOSSES,
    SoftmaxModel,
    W,
    a,
    averaged,
    b,
    gradient_matrix,
    i,
    j,
    k,
    y,
    z,
)
from derive.engine.steps import Step, StepError

z_0 = Symbol("z_0", real=True)
z_1 = Symbol("z_1", real=True)
"""The two classes' pre-activations, for K = 2 (counted 0 and 1 as in code)."""


def derive_softmax(model):
    """Every derivation for the softmax ``model``, in sheet order, as a Book."""
    book = Book(model)
    book.section = "neuron"
    _definition(book)
    jacobian(book)
    for parameter, label in ((W[j, i], labels.SOFTMAX_DZ_DW), (b[i], labels.SOFTMAX_DZ_DB)):
        (book.start(("Derivative of ", z[i], " with respect to ", parameter), label,
                    Derivative(z[i], parameter))
         .apply(srules.class_pre_activation).apply(rules.differentiate).apply(rules.arithmetic))
    book.section = "losses"
    for loss in model.losses:
        book.start(f"The {loss.title} loss", labels.loss_definition(loss), loss.symbol).then(
            loss.expression(), rules.definition)
    book.section = "gradients"
    for loss in model.losses:
        class_delta(book, loss)
        for parameter, name in ((W[j, i], "W"), (b[i], "b")):
            _parameter_gradient(book, loss, parameter, name)
    book.section = "samples"
    for loss in model.losses:
        _samples(book, loss)
    book.section = "two classes"
    _two_classes(book)
    return book


def _definition(book):
    book.start(("The ", SOFTMAX.title, " output of class ", k), labels.SOFTMAX_DEF_OUTPUT,
               a[k]).apply(srules.softmax_definition)


def jacobian(book):
    """∂a_k/∂z_i = a_k(δ_{ki} − a_i) by the quotient rule."""
    derivation = book.start(("The Jacobian of the softmax, ", Derivative(a[k], z[i])),
                            labels.SOFTMAX_JACOBIAN, Derivative(a[k], z[i]))
    derivation.apply(srules.softmax_definition, detail=labels.SOFTMAX_DEF_OUTPUT)
    derivation.apply(srules.quotient_rule)
    derivation.apply(srules.factor_quotient)
    derivation.apply(srules.softmax_definition, forward=False, detail=labels.SOFTMAX_DEF_OUTPUT)
    return derivation


def class_delta(book, loss):
    """δ_i = ∂L/∂z_i: through every output, the Jacobian, then the sums worked out."""
    derivation = book.start((f"Derivative of the {loss.title} with respect to ", z[i]),
                            labels.class_gradient(loss, "z"), Derivative(loss.symbol, z[i]))
    derivation.then(Derivative(loss.expression(), z[i]), rules.definition,
                    detail=labels.loss_definition(loss))
    derivation.apply(srules.through_the_outputs)
    result = book[labels.SOFTMAX_JACOBIAN]
    derivation.apply(rules.substitute, old=result.lhs, new=result.rhs, detail=result.label)
    derivation.apply(rules.arithmetic)
    derivation.apply(srules.split_sum)
    derivation.apply(srules.sift)
    derivation.apply(srules.labels_sum_to_one, optional=True)
    derivation.apply(srules.factor_output, optional=True)
    return derivation


def _parameter_gradient(book, loss, parameter, name):
    derivation = book.start((f"Gradient of the {loss.title} with respect to ", parameter),
                            labels.class_gradient(loss, name), Derivative(loss.symbol, parameter))
    derivation.apply(srules.through_the_class)
    for label in (labels.class_gradient(loss, "z"),
                  labels.SOFTMAX_DZ_DW if name == "W" else labels.SOFTMAX_DZ_DB):
        result = book[label]
        derivation.apply(rules.substitute, old=result.lhs, new=result.rhs, detail=result.label)


def _samples(book, loss):
    model = book.model
    penalty = model.penalty
    title = f"The {loss.title} averaged over the samples"
    if penalty.value != 0:
        title += f", with the {penalty.title}"
    book.start(title, labels.averaged_definition(loss), averaged(loss)).apply(
        srules.average, loss=loss, penalty=penalty)
    delta = book[labels.class_gradient(loss, "z")].rhs
    for parameter, name in ((W[j, i], "W"), (b[i], "b")):
        derivation = book.start(
            (f"Gradient of the averaged {loss.title} with respect to ", parameter),
            labels.class_averaged_gradient(loss, name), Derivative(averaged(loss), parameter))
        derivation.apply(srules.linearity, loss=loss, penalty=penalty)
        derivation.apply(srules.penalty_derivative, optional=True)
        derivation.apply(srules.per_sample, loss=loss, delta=delta,
                         detail=labels.class_gradient(loss, "z"))
    if expand(delta - (a[i] - y[i])) == 0:
        component = book[labels.class_averaged_gradient(loss, "W")]
        (book.start((f"The gradient of the averaged {loss.title} for all samples at once",),
                    labels.class_matrix_gradient(loss), gradient_matrix(loss))
         .apply(srules.in_matrix_form, penalised=penalty.value != 0, detail=component.label))


def _two_classes(book):
    """For K = 2 (classes 0 and 1): a_1 = σ(z_1 − z_0), in the sigmoid's own model."""
    sigmoid = ACTIVATIONS["sigmoid"]
    model = Model(sigmoid, (LOSSES["ce"],))
    derivation = book.start(("Two classes: the output of class 1",),
                            labels.SOFTMAX_TWO_CLASSES, exp(z_1) / (exp(z_0) + exp(z_1)),
                            model=model)
    derivation.then(1 / (1 + exp(-(z_1 - z_0))), rules.arithmetic)
    derivation.then(sigmoid(z_1 - z_0), rules.definition)


def softmax_links(losses=None):
    """(loss name, δ derivation, canonical, counterexample) for every vector loss: whether
    the proved ∂L/∂z_i is a_i − y_i."""
    rows = []
    for loss in losses or VECTOR_LOSSES.values():
        model = SoftmaxModel(SOFTMAX, (loss,))
        book = Book(model)
        jacobian(book)
        book.start("", labels.loss_definition(loss), loss.symbol)
        derivation = class_delta(book, loss)
        try:
            Step(derivation.rhs, a[i] - y[i], "canonical link", model=model)
            rows.append((loss.name, derivation, True, None))
        except StepError as error:
            rows.append((loss.name, derivation, False, {"point": error.point,
                                                         "values": error.values}))
    return rows


def default_softmax_model(loss_names=("cce",), penalty="none"):
    return SoftmaxModel(SOFTMAX, tuple(VECTOR_LOSSES[name] for name in loss_names),
                        PENALTIES[penalty])

