"""The note's derivations, produced by the rules from the registry entries.

``derive_all(model)`` returns a ``Book``: every derivation in sheet order, each tagged
with its section ("neuron": z, the activation, its derivative, and for a classifier the
prediction rule; "losses": definitions, derivatives with respect to a, one-sided
behaviour; "gradients") and reached by its label (``book[labels.DA_DZ]``,
``book[labels.gradient(loss, w_j)]``; see ``derive.engine.labels``).
Definitions are one-step derivations too, so every displayed equality is a Step.
Nothing here states a finished chain: each link is what a rule makes of the previous
one, and facts about the activation (its value at 0, its symmetry, its limits) are
found by the engine.
"""

from sympy import Contains, Derivative, Eq, Limit, Rel, S, Subs, oo, simplify

from derive.engine import labels, rules
from derive.engine.averaged import PENALTY_SECTION, derive_samples
from derive.engine.second_order import derive_second_order
from derive.engine.steps import Derivation
from derive.engine.symbols import PARAMETERS, a, y, z


class Book:
    """The derivations made so far, in order, each retrievable by label."""

    def __init__(self, model):
        self.model = model
        self.section = ""
        self.derivations = []
        self._by_label = {}

    def start(self, title, label, lhs, domains=None, model=None):
        """A new derivation in the current section, starting from ``lhs``, in the
        book's model unless another is given (the samples section's, say)."""
        if label in self._by_label:
            raise ValueError(f"two derivations share the label {label!r}")
        derivation = Derivation(title, label, lhs, model=model or self.model, domains=domains,
                                section=self.section)
        self.derivations.append(derivation)
        self._by_label[label] = derivation
        return derivation

    def __getitem__(self, label):
        try:
            return self._by_label[label]
        except KeyError:
            raise KeyError(f"no derivation is labelled {label!r} in this book") from None

    def on_sheet(self):
        """The derivations a sheet shows, in order: all but the L2 penalty's own results
        when the model has no penalty (code generation uses them regardless)."""
        hidden = {PENALTY_SECTION} if self.model.penalty.name == "none" else set()
        return [d for d in self.derivations if d.section not in hidden]

    def __contains__(self, label):
        return label in self._by_label

    def __iter__(self):
        return iter(self.derivations)

    def __len__(self):
        return len(self.derivations)


def derive_all(model):
    """Every derivation for ``model``, in the order the sheet presents them, as a Book."""
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
        for parameter in PARAMETERS:
            gradient(book, loss, parameter)
    derive_samples(book, gradient)
    derive_second_order(book)
    return book


# --- the neuron ----------------------------------------------------------------------


def _pre_activation(book):
    for parameter in PARAMETERS:
        (
            book.start(("Derivative of ", z, " with respect to ", parameter),
                       labels.dz_d(parameter), Derivative(z, parameter))
            .apply(rules.definition, model=book.model, of="z")
            .apply(rules.differentiate)
        )


def _neuron_definitions(book):
    model = book.model
    act = model.activation
    book.start("The pre-activation", labels.DEF_Z, z).apply(
        rules.definition, model=model, of="z")
    book.start("The output", labels.DEF_OUTPUT, a).apply(
        rules.definition, model=model, of="output")
    book.start(f"The {act.title}", labels.DEF_ACT, act(z)).apply(
        rules.definition, model=model, of="activation")


# --- the activation ------------------------------------------------------------------


def _activation_facts(book):
    model = book.model
    act = model.activation
    name = act.title
    at_zero = book.start(f"The {name} at zero", labels.ACT_AT_ZERO, act(S.Zero))
    at_zero.apply(rules.definition, model=model, of="activation").apply(rules.arithmetic)

    reflected = simplify(act.expression(-z) + act.expression(z))
    if reflected.is_number:
        target = reflected - act(z)
        symmetry = book.start(f"Symmetry of the {name}", labels.ACT_SYMMETRY, act(-z))
        symmetry.apply(rules.definition, model=model, of="activation")
        for rule in (rules.in_terms_of_decay, rules.add_and_subtract, rules.split_numerator):
            symmetry.apply(rule, optional=True)
        symmetry.apply(rules.recognise_activation, model=model, optional=True)
        if symmetry.rhs != target:
            symmetry.then(target, rules.arithmetic)

    for end in (-oo, oo):
        (
            book.start((f"The {name} as ", z, " tends to ", end), labels.act_limit(end),
                       Limit(act(z), z, end))
            .apply(rules.definition, model=model, of="activation")
            .apply(rules.evaluate_limit)
        )


def activation_derivative(book):
    """act'(z) in terms of act(z) where it can be, then da/dz and act' > 0."""
    model = book.model
    act = model.activation
    derivation = book.start(f"Derivative of the {act.title}", labels.ACT_PRIME,
                            Derivative(act(z), z))
    derivation.apply(rules.definition, model=model, of="activation")
    derivation.apply(rules.differentiate)
    derivation.apply(rules.split_square, optional=True)
    derivation.apply(rules.add_and_subtract, optional=True)
    derivation.apply(rules.recognise_activation, model=model, optional=True)

    in_output = book.start(("Derivative of the output with respect to ", z), labels.DA_DZ,
                           Derivative(a, z))
    in_output.apply(rules.substitute, old=a, new=act(z), detail=labels.DEF_OUTPUT)
    _substitute_result(in_output, derivation)
    in_output.apply(rules.substitute, old=act(z), new=a, detail=labels.DEF_OUTPUT,
                    optional=True)

    positive = book.start(f"The {act.title} is strictly increasing", labels.ACT_INCREASING,
                          Derivative(act(z), z))
    _substitute_result(positive, derivation)
    positive.apply(rules.sign, relation=">", detail=Contains(act(z), act.output_range))


def _prediction_rule(book):
    model = book.model
    act = model.activation
    at_zero = book[labels.ACT_AT_ZERO]
    rule = book.start("The prediction rule", labels.PREDICTION,
                      Rel(act(z), at_zero.rhs, ">="))
    rule.apply(rules.substitute, old=at_zero.rhs, new=at_zero.lhs, relation="<=>",
               detail=at_zero.label)
    rule.apply(rules.monotonicity, model=model, relation="<=>",
               detail=labels.ACT_INCREASING)


def _substitute_result(derivation, result):
    """Replace the left side of an earlier result by its right side, citing its label."""
    derivation.apply(rules.substitute, old=result.lhs, new=result.rhs, detail=result.label)


# --- the losses ----------------------------------------------------------------------


def _loss_definition(book, loss):
    book.start(f"The {loss.title} loss", labels.loss_definition(loss), loss.symbol).apply(
        rules.definition, model=book.model, of="loss")


def loss_derivative(book, loss):
    """dL/da from the loss's definition."""
    derivation = book.start((f"Derivative of the {loss.title} with respect to ", a),
                            labels.loss_derivative(loss), Derivative(loss.symbol, a))
    derivation.apply(rules.definition, model=book.model, of="loss")
    derivation.apply(rules.differentiate)
    derivation.apply(rules.arithmetic)


def _label_case(book, loss, label_value):
    unit = book.model.activation.output_range
    domains = {a: unit}
    case = book.start((f"The {loss.title} when ", Eq(y, label_value)),
                      labels.label_case(loss, label_value),
                      Subs(loss.expression(), y, label_value), domains)
    case.apply(rules.arithmetic)
    one_sided = case.rhs
    for end, side in ((unit.inf, "+"), (unit.sup, "-")):
        (
            book.start((f"The {loss.title} with ", Eq(y, label_value), " as ", a, " tends to ",
                        end, " from above" if side == "+" else " from below"),
                       labels.label_case_limit(loss, label_value, end),
                       Limit(one_sided, a, end, side), domains)
            .apply(rules.evaluate_limit)
        )
    slope = book.start((f"Monotonicity of the {loss.title} with ", Eq(y, label_value)),
                       labels.label_case_slope(loss, label_value),
                       Derivative(one_sided, a), domains)
    slope.apply(rules.differentiate).apply(rules.arithmetic)
    midpoint = (unit.inf + unit.sup) / 2
    direction = ">" if slope.rhs.subs(a, midpoint) > 0 else "<"
    slope.apply(rules.sign, relation=direction, detail=Contains(a, unit))


# --- the gradients -------------------------------------------------------------------


def gradient(book, loss, parameter):
    """∂L/∂p = dL/da · da/dz · ∂z/∂p for p = w_j or b, or δ = ∂L/∂z = dL/da · da/dz
    for p = z; each factor is substituted from the book's earlier results (which must
    include dL/da, da/dz and, for a parameter, ∂z/∂p), then simplified."""
    name = "Derivative" if parameter == z else "Gradient"
    derivation = book.start((f"{name} of the {loss.title} with respect to ", parameter),
                            labels.gradient(loss, parameter), Derivative(loss.symbol, parameter))
    derivation.apply(rules.chain_rule, model=book.model, loss=loss, parameter=parameter)
    factors = [labels.loss_derivative(loss), labels.DA_DZ]
    if parameter != z:
        factors.insert(1, labels.dz_d(parameter))
    for label in factors:
        _substitute_result(derivation, book[label])
    derivation.apply(rules.cancel_common_factors, optional=True)
    derivation.apply(rules.expand_and_collect, optional=True)
    return derivation
