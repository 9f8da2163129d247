"""What the generated NumPy module computes, taken from the verified derivations.

``module_context(derivations, model)`` returns plain strings for the template: the
stable primitives' bodies, and per loss the per-sample loss and the per-sample
derivative δ = ∂L/∂z, each rewritten into its stable form and printed. Every formula
here comes from a derivation's result; each rewrite is verified by a ``Step`` before it
is printed (a rewrite that does not hold raises ``StepError`` and nothing is written).

Conventions of the code: z = X @ w + b; δ = ∂L/∂b = ∂L/∂z per sample (∂z/∂b = 1), and
∂L/∂w_j = δ · x_j, which is also checked as a Step.
"""

from sympy import Derivative, S, Symbol

from derive.codegen.inplace import inplace_program
from derive.engine.numbering import cite, equation_numbers
from derive.printing.numpy import print_block, print_numpy, print_scalar
from derive.engine.registry import label_range
from derive.engine.rules import evaluated, product, replace_exactly
from derive.engine.stable import HELPERS, PRIMITIVES
from derive.engine.steps import Step, StepError
from derive.engine.symbols import a, b, w_j, x_j, y, z
from derive.engine.text import text

TEMPLATE = "logistic_regression.py.jinja"
HARD_ARGUMENT = Symbol("u", real=True)
"""u = s·z with s = 1 − 2y: the argument of the hard-label forms."""


def stable_form(expr, model):
    """``expr`` (in a, y, z) rewritten by the activation's stable rewrites, verified.

    An activation without rewrites for some part gets its plain definition there:
    correct (verified), but only as stable as that definition."""
    rewritten = expr
    for pattern, replacement in model.activation.stable_rewrites:
        rewritten = replace_exactly(rewritten, pattern, replacement)
    # Whatever no rewrite covered is computed from the activation's definition.
    rewritten = evaluated(rewritten.subs(a, model.activation.expression(z)))
    Step(expr, rewritten, "stable form", model=model, derivation="code generation")
    return rewritten


def module_context(derivations, model):
    """Plain strings for ``templates/logistic_regression.py.jinja``."""
    by_label = {derivation.label: derivation for derivation in derivations}
    numbers = equation_numbers(derivations)
    act = model.activation
    for primitive in PRIMITIVES:
        Step(primitive(z), primitive.body, "stable body", model=model,
             derivation="code generation")
    output = inline_primitives(stable_form(a, model))
    slope = inline_primitives(stable_form(by_label["da-dz"].rhs, model))
    losses = [_loss(loss, by_label, numbers, model) for loss in model.losses]
    output_name = "predict_proba" if act.classes == (0, 1) else "forward"
    functions = [act.name, f"{act.name}_prime", "predict"]
    if act.classes:
        functions.append(output_name)
    for loss in losses:
        functions += [f"{kind}_{loss['name']}" for kind in ("loss", "grad", "value_and_grad")]
    return {
        "activation": act.title,
        "heading": act.heading,
        "name": act.name,
        "symbol": act.symbol,
        "prime_text": text(by_label["act-prime"].rhs),
        "classes": list(act.classes) if act.classes else None,
        "output_name": output_name,
        "may_overflow": may_overflow(act),
        "exports": sorted(functions),
        "output": _forms(output),
        "output_cites": cite(numbers, "def-output", "def-act"),
        "slope": _forms(slope),
        "slope_cites": cite(numbers, "act-prime", "da-dz"),
        "prediction": print_numpy(by_label["prediction"].rhs) if act.classes else "",
        "prediction_cites": cite(numbers, "prediction") if act.classes else "",
        "losses": losses,
        "helpers": _helpers(act),
    }


def _helpers(act):
    """Code names of the helper primitives the activation's stable forms call."""
    replacements = [inline_primitives(replacement) for _, replacement in act.stable_rewrites]
    return [helper.code_name for helper in HELPERS
            if any(replacement.has(helper) for replacement in replacements)]


def may_overflow(act):
    """True when the output a = act(z) is unbounded: then some finite z give a result
    beyond the float range, and the generated code must say so rather than return inf.
    Such a module computes a single sample with NumPy too (no ``math`` exceptions)."""
    return not (act.output_range.inf.is_finite and act.output_range.sup.is_finite)


def inline_primitives(expr):
    """``expr`` with each stable primitive replaced by its body, so that common work
    (e^{−|z|} for σ(z) and σ(−z) alike) is shared after elimination."""
    for primitive in PRIMITIVES:
        expr = expr.replace(primitive, lambda u, body=primitive.body: body.subs(z, u))
    return expr


def _forms(*exprs, scalar=print_scalar):
    """Array code and one-sample code for ``exprs``, common work computed once."""
    forms = {}
    for kind, printer in (("array", print_numpy), ("scalar", scalar)):
        assignments, results = print_block(exprs, printer=printer)
        forms[kind] = {"assignments": assignments, "results": results}
    return forms


def _loss(loss, by_label, numbers, model):
    name = loss.name
    grad_w, grad_b = by_label[f"grad-{name}-w"], by_label[f"grad-{name}-b"]
    if grad_b.lhs != Derivative(loss.symbol, b) or grad_w.lhs != Derivative(loss.symbol, w_j):
        raise ValueError(f"derivations grad-{name}-w/-b do not differentiate {loss.symbol}")
    Step(grad_w.rhs, product(grad_b.rhs, x_j), "factor out x_j", model=model,
         derivation=f"code generation for {loss.title}")
    value = stable_form(by_label[f"def-L{name}"].rhs, model)
    delta = stable_form(grad_b.rhs, model)
    hard = _hard_label_forms(value, delta, model, loss)
    value, delta = inline_primitives(value), inline_primitives(delta)
    labels = label_range(model.activation, loss)
    scalar = print_numpy if may_overflow(model.activation) else print_scalar
    forms = {kind: _forms(*exprs, scalar=scalar) for kind, exprs in
             (("value", [value]), ("delta", [delta]), ("both", [value, delta]))}
    _add_blocks(forms, ("z", "y"))
    return {
        "name": name,
        "title": loss.title,
        "labels": {"low": _bound(labels.inf), "high": _bound(labels.sup),
                   "text": text(labels)},
        "value_cites": cite(numbers, f"def-L{name}"),
        "grad_cites": cite(numbers, f"grad-{name}-w", f"grad-{name}-b"),
        **forms,
        "hard": hard,
    }


def _bound(end):
    """An interval end as Python source: a number or ±math.inf."""
    if end is S.Infinity:
        return "math.inf"
    if end is S.NegativeInfinity:
        return "-math.inf"
    return str(end)


def _hard_label_forms(value, delta, model, loss):
    """Forms for hard labels y ∈ {0, 1}, when the loss has the label symmetry
    L(z, 1) = L(−z, 0) (verified): then with s = 1 − 2y and u = s·z,
    L = L(u, 0) and δ = s·δ(u, 0), one formula for both labels and no (1 − y) terms.
    None when the symmetry does not hold."""
    where = f"code generation for {loss.title} with hard labels"
    try:
        Step(value.subs(y, 1), value.subs({y: 0, z: -z}), "label symmetry", model=model,
             derivation=where)
        Step(delta.subs(y, 1), -delta.subs({y: 0, z: -z}), "label symmetry", model=model,
             derivation=where)
    except StepError:
        return None
    value0 = inline_primitives(value.subs(y, 0)).subs(z, HARD_ARGUMENT)
    delta0 = inline_primitives(delta.subs(y, 0)).subs(z, HARD_ARGUMENT)
    forms = {"value": _forms(value0), "delta": _forms(delta0), "both": _forms(value0, delta0)}
    _add_blocks(forms, (str(HARD_ARGUMENT), "s"), sign="s")
    return forms


def _add_blocks(forms, arguments, sign=None):
    """Give each of ``forms`` (value, delta, both) the body of its block function:
    ``block`` is the lines computing its array code in place (``inplace_program``)
    and ``returns`` the (loss, delta) pair it returns, None for the one not computed.
    With ``sign``, δ is ``sign`` times the printed δ (the hard-label forms)."""
    for kind, form in forms.items():
        results = list(form["array"]["results"])
        if sign and kind != "value":
            results[-1] = f"{sign}*({results[-1]})"
        lines, names = inplace_program(form["array"]["assignments"], results, arguments)
        pair = {"value": (names[0], None), "delta": (None, names[0]), "both": names}[kind]
        form["block"] = lines
        form["returns"] = ", ".join(str(name) for name in pair)
