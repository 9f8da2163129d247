"""The note's derivations, produced by the rules from the registry entries.

``derive_all(model)`` returns every derivation in sheet order, each tagged with its
section: "neuron" (z, the activation, its derivative, and for a classifier the
prediction rule), "losses" (definitions, derivatives with respect to a, one-sided
behaviour) and "gradients".
Definitions are one-step derivations too, so every displayed equality is a Step.
Nothing here states a finished chain: each link is what a rule makes of the previous
one, and facts about the activation (its value at 0, its symmetry, its limits) are
found by the engine. Labels are stable identifiers ("act-prime", "grad-ce-w") that the
sheet and the generated code cite.
"""

from sympy import Contains, Derivative, Eq, Limit, Rel, S, Subs, oo, simplify

from derive.engine.steps import Derivation
from derive.engine.symbols import a, b, w_j, y, z


class Book:
    """The derivations made so far, in order, each retrievable by label."""

    def __init__(self, model):
        self.model = model
        self.section = ""
        self.derivations = []
        self._by_label = {}

    def start(self, title, label, lhs, domains=None):
        """A new derivation in the current section, starting from ``lhs``."""
        if label in self._by_label:
            raise ValueError(f"two derivations share the label {label!r}")
        derivation = Derivation(title, label, lhs, model=self.model, domains=domains,
                                section=self.section)
        self.derivations.append(derivation)
        self._by_label[label] = derivation
        return derivation

    def __getitem__(self, label):
        return self._by_label[label]


def derive_all(model):
    """Every derivation for ``model``, in the order the sheet presents them."""
    book = Book(model)
    book.section = "neuron"
    _neuron_definitions(book)
    _activation_facts(book)
    activation_derivative(book)
    if model.activation.classes:
        _prediction_rule(book)
    book.section = "losses"
    for loss in model.losses:
        _loss_definition(book, loss)
        loss_derivative(book, loss)
        for label_value in loss.label_cases:
            _label_case(book, loss, label_value)
    book.section = "gradients"
    _pre_activation(book)
    for loss in model.losses:
        for parameter in (w_j, b):
            _gradient(book, loss, parameter)
    return book.derivations


def _name(parameter):
    return "w" if parameter == w_j else "b"


# --- the neuron ----------------------------------------------------------------------


def _pre_activation(book):
    for parameter in (w_j, b):
        (
            book.start(("Derivative of ", z, " with respect to ", parameter),
                       f"dz-d{_name(parameter)}", Derivative(z, parameter))
            .apply("definition", model=book.model, of="z")
            .apply("differentiate")
        )


def _neuron_definitions(book):
    model = book.model
    act = model.activation
    book.start("The pre-activation", "def-z", z).apply("definition", model=model, of="z")
    book.start("The output", "def-output", a).apply("definition", model=model, of="output")
    book.start(f"The {act.title}", "def-act", act(z)).apply(
        "definition", model=model, of="activation")


# --- the activation ------------------------------------------------------------------


def _activation_facts(book):
    model = book.model
    act = model.activation
    name = act.title
    at_zero = book.start(f"The {name} at zero", "act-at-zero", act(S.Zero))
    at_zero.apply("definition", model=model, of="activation").apply("arithmetic")

    reflected = simplify(act.expression(-z) + act.expression(z))
    if reflected.is_number:
        target = reflected - act(z)
        symmetry = book.start(f"Symmetry of the {name}", "act-symmetry", act(-z))
        symmetry.apply("definition", model=model, of="activation")
        for rule in ("in terms of exp(-z)", "add and subtract", "split the numerator"):
            symmetry.apply(rule, optional=True)
        symmetry.apply("recognise the activation", model=model, optional=True)
        if symmetry.rhs != target:
            symmetry.then(target, "arithmetic")

    for end, label in ((-oo, "act-limit-minus"), (oo, "act-limit-plus")):
        (
            book.start((f"The {name} as ", z, " tends to ", end), label,
                       Limit(act(z), z, end))
            .apply("definition", model=model, of="activation")
            .apply("limit")
        )


def activation_derivative(book):
    model = book.model
    act = model.activation
    derivation = book.start(f"Derivative of the {act.title}", "act-prime",
                            Derivative(act(z), z))
    derivation.apply("definition", model=model, of="activation")
    derivation.apply("differentiate")
    derivation.apply("split the square", optional=True)
    derivation.apply("add and subtract", optional=True)
    derivation.apply("recognise the activation", model=model, optional=True)

    in_output = book.start(("Derivative of the output with respect to ", z), "da-dz",
                           Derivative(a, z))
    in_output.apply("substitute", old=a, new=act(z), detail="def-output")
    _substitute_result(in_output, derivation)
    in_output.apply("substitute", old=act(z), new=a, detail="def-output", optional=True)

    positive = book.start(f"The {act.title} is strictly increasing", "act-increasing",
                          Derivative(act(z), z))
    _substitute_result(positive, derivation)
    positive.apply("sign", relation=">", detail=Contains(act(z), act.output_range))


def _prediction_rule(book):
    model = book.model
    act = model.activation
    at_zero = book["act-at-zero"]
    rule = book.start("The prediction rule", "prediction", Rel(act(z), at_zero.rhs, ">="))
    rule.apply("substitute", old=at_zero.rhs, new=at_zero.lhs, relation="<=>",
               detail=at_zero.label)
    rule.apply("monotonicity", model=model, relation="<=>", detail="act-increasing")


def _substitute_result(derivation, result):
    """Replace the left side of an earlier result by its right side, citing its label."""
    derivation.apply("substitute", old=result.lhs, new=result.rhs, detail=result.label)


# --- the losses ----------------------------------------------------------------------


def _loss_definition(book, loss):
    book.start(f"The {loss.title} loss", f"def-L{loss.name}", loss.symbol).apply(
        "definition", model=book.model, of="loss")


def loss_derivative(book, loss):
    model = book.model
    derivation = book.start((f"Derivative of the {loss.title} with respect to ", a),
                            f"dL{loss.name}-da", Derivative(loss.symbol, a))
    derivation.apply("definition", model=model, of="loss")
    derivation.apply("differentiate")
    derivation.apply("arithmetic")


def _label_case(book, loss, label_value):
    model = book.model
    unit = model.activation.output_range
    domains = {a: unit}
    tag = f"{loss.name}-y{label_value}"
    case = book.start((f"The {loss.title} when ", Eq(y, label_value)), f"L{tag}",
                      Subs(loss.expression(), y, label_value), domains)
    case.apply("arithmetic")
    one_sided = case.rhs
    for end, side in ((unit.inf, "+"), (unit.sup, "-")):
        (
            book.start((f"The {loss.title} with ", Eq(y, label_value), " as ", a, " tends to ",
                        end, " from above" if side == "+" else " from below"),
                       f"L{tag}-limit-{end}", Limit(one_sided, a, end, side), domains)
            .apply("limit")
        )
    slope = book.start((f"Monotonicity of the {loss.title} with ", Eq(y, label_value)),
                       f"L{tag}-slope", Derivative(one_sided, a), domains)
    slope.apply("differentiate").apply("arithmetic")
    midpoint = (unit.inf + unit.sup) / 2
    direction = ">" if slope.rhs.subs(a, midpoint) > 0 else "<"
    slope.apply("sign", relation=direction, detail=Contains(a, unit))


# --- the gradients -------------------------------------------------------------------


def _gradient(book, loss, parameter):
    model = book.model
    name = _name(parameter)
    derivation = book.start((f"Gradient of the {loss.title} with respect to ", parameter),
                            f"grad-{loss.name}-{name}", Derivative(loss.symbol, parameter))
    derivation.apply("chain rule", model=model, loss=loss, parameter=parameter)
    for label in (f"dL{loss.name}-da", f"dz-d{name}", "da-dz"):
        _substitute_result(derivation, book[label])
    derivation.apply("cancel common factors", optional=True)
    derivation.apply("expand and collect", optional=True)
