"""What the generated NumPy module computes, taken from the verified derivations.

``module_context(book)`` returns plain strings for the template, from a ``Book`` of
verified derivations (results reached by ``derive.engine.labels``): the
stable primitives' bodies, and per loss the per-sample loss and the per-sample
derivative δ = ∂L/∂z, each rewritten into its stable form and printed. Every formula
here comes from a derivation's result; each rewrite is verified by a ``Step`` before it
is printed (a rewrite that does not hold raises ``StepError`` and nothing is written).

Conventions of the code: z = X @ w + b; δ = ∂L/∂b = ∂L/∂z per sample (∂z/∂b = 1), and
∂L/∂w_j = δ · x_j, which is also checked as a Step. Over samples, the runtime adds the
per-sample terms block by block and divides by m for the mean: ``_batch_formula``
checks that the proved matrix forms ∇_w J = (1/m)·Xᵀδ [+ ∇R] and ∂J/∂b = (1/m)·1ᵀδ
say exactly that. The L2 penalty's value and gradient are printed from their proved
results (``penalty_function``) and added once to a reduced result, never to b.
"""

from sympy import Derivative, MatMul, OneMatrix, S, Symbol, ZeroMatrix, exp

from derive.codegen.paste import runtime
from derive.engine import labels, samples
from derive.engine.algebra import evaluated, product, replace_exactly
from derive.engine.numbering import cite, equation_numbers
from derive.engine.registry import label_range
from derive.engine.second_order import HESSIAN_ENTRIES, is_convex
from derive.engine.stable import (
    HELPERS,
    PRIMITIVES,
    LogSoftplus,
    Sigmoid,
    Softplus,
    SoftplusGap,
)
from derive.engine.steps import Step, StepError
from derive.engine.symbols import a, b, w_j, x_j, y, z
from derive.engine.text import text
from derive.printing.numpy import print_block, print_numpy, print_scalar

TEMPLATE = "logistic_regression.py.jinja"
TEMPLATE_FUNCTIONS = {"runtime": runtime}
"""What the module template may call besides its context: the runtime's pieces."""
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


def module_context(book):
    """Plain strings for ``templates/logistic_regression.py.jinja``."""
    model = book.model
    numbers = equation_numbers(book.on_sheet())
    act = model.activation
    for primitive in PRIMITIVES:
        Step(primitive(z), primitive.body, "stable body", model=model,
             derivation="code generation")
    output = inline_primitives(stable_form(a, model))
    slope = inline_primitives(stable_form(book[labels.DA_DZ].rhs, model))
    losses = [_loss(loss, book, numbers) for loss in model.losses]
    curvatures = [loss.pop("curvature_expr") for loss in losses]  # SymPy, not for the template
    output_name = "predict_proba" if act.classes == (0, 1) else "forward"
    functions = [act.name, f"{act.name}_prime", "predict"]
    if act.classes:
        functions.append(output_name)
    for loss in losses:
        kinds = ["loss", "grad", "value_and_grad", "hessian", "hvp"]
        kinds += ["newton_step"] if loss["convex"] else []
        functions += [f"{kind}_{loss['name']}" for kind in kinds]
    return {
        "activation": act.title,
        "heading": act.heading,
        "name": act.name,
        "symbol": act.symbol,
        "prime_text": text(book[labels.ACT_PRIME].rhs),
        "classes": list(act.classes) if act.classes else None,
        "output_name": output_name,
        "may_overflow": may_overflow(act),
        "exports": sorted(functions),
        "output": _fresh(_forms(output), output),
        "output_cites": cite(numbers, labels.DEF_OUTPUT, labels.DEF_ACT),
        "slope": _fresh(_forms(slope), slope),
        "slope_cites": cite(numbers, labels.ACT_PRIME, labels.DA_DZ),
        "prediction": print_numpy(book[labels.PREDICTION].rhs) if act.classes else "",
        "prediction_cites": cite(numbers, labels.PREDICTION) if act.classes else "",
        "losses": losses,
        "helpers": helper_names(act, curvatures),
        "penalty_function": penalty_function(book, numbers),
    }


def penalty_function(book, numbers):
    """Source of ``_penalty(w, l2)``, which returns (R(w), ∇R(w)) of the L2 penalty,
    printed from its proved definition and gradient (λ is ``l2``, ‖w‖² is w·w)."""
    value = book[labels.PENALTY_DEFINITION].rhs
    gradient = book[labels.PENALTY_GRADIENT].rhs
    code = {samples.lam: Symbol("l2"), samples.norm_w: Symbol("w_squared"), w_j: Symbol("w")}
    on_sheet = labels.PENALTY_GRADIENT in numbers
    source = (cite(numbers, labels.PENALTY_DEFINITION, labels.PENALTY_GRADIENT) if on_sheet
              else f"derive verify: {labels.PENALTY_DEFINITION}, {labels.PENALTY_GRADIENT}")
    return "\n".join([
        "def _penalty(w, l2):",
        (f'    """(R(w), ∇R(w)) of the L2 penalty, R(w) = {text(value.xreplace(code))}, with '
         f'w_squared = w·w ({source})."""'),
        "    w_squared = np.dot(w, w)",
        f"    return {print_numpy(value.xreplace(code))}, {print_numpy(gradient.xreplace(code))}",
    ])


def _batch_formula(book, loss):
    """Check that the proved matrix forms are the runtime's mean: (1/m)·Xᵀδ (+ the
    penalty's gradient) for w and (1/m)·1ᵀδ for b, with the bias not penalised."""
    mean = 1 / samples.m
    for label, expected in (
        (labels.matrix_gradient(loss), MatMul(mean, samples.X_matrix.T, samples.delta_vector)),
        (labels.averaged_gradient(loss, b),
         MatMul(mean, OneMatrix(samples.m, 1).T, samples.delta_vector)),
    ):
        derivation = book[label]
        proved = [step.rhs for step in derivation.steps]
        penalised = book.model.penalty.name != "none" and label != labels.averaged_gradient(loss, b)
        wanted = expected + samples.lam * samples.w_vector if penalised else expected
        if not any(_same_matrix(expr, wanted) for expr in proved):
            raise ValueError(f"derivation {label} does not end in {wanted}: the generated "
                             "code's reduction would not follow from it")


def _same_matrix(first, second):
    try:
        return (first - second).doit() == ZeroMatrix(*first.shape) or first == second
    except (TypeError, ValueError, AttributeError):
        return False


def helper_names(act, printed=()):
    """Code names of the helper primitives the activation's stable forms, or the
    ``printed`` expressions, call."""
    replacements = [inline_primitives(replacement) for _, replacement in act.stable_rewrites]
    replacements += list(printed)
    return [helper.code_name for helper in HELPERS
            if any(replacement.has(helper) for replacement in replacements)]


def may_overflow(act):
    """True when the output a = act(z) is unbounded: then some finite z give a result
    beyond the float range (refused, as every module refuses one, by ``_checked``), so
    such a module computes a single sample with NumPy too (no ``math`` exceptions)."""
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


def _fresh(forms, expr):
    """``forms`` with ``fresh``: the array result as code that gives a new array of z's
    shape and dtype (a NumPy scalar for a scalar z), where the printed result is z itself
    (the caller's array) or a constant (the wrong shape)."""
    result = forms["array"]["results"][0]
    if expr == z:
        result = "np.positive(z)"
    elif not expr.has(z):
        result = f"np.full_like(z, {result})[()]"
    forms["array"]["fresh"] = result
    return forms


def _loss(loss, book, numbers):
    model = book.model
    grad_w, grad_b = book[labels.gradient(loss, w_j)], book[labels.gradient(loss, b)]
    if grad_b.lhs != Derivative(loss.symbol, b) or grad_w.lhs != Derivative(loss.symbol, w_j):
        raise ValueError(f"derivations {grad_w.label} and {grad_b.label} do not "
                         f"differentiate {loss.symbol}")
    Step(grad_w.rhs, product(grad_b.rhs, x_j), "factor out x_j", model=model,
         derivation=f"code generation for {loss.title}")
    _batch_formula(book, loss)
    value = stable_form(book[labels.loss_definition(loss)].rhs, model)
    delta = stable_form(grad_b.rhs, model)
    curvature = inline_primitives(_curvature(book, loss, delta))
    hard = _hard_label_forms(value, delta, model, loss)
    value, delta = inline_primitives(value), inline_primitives(delta)
    accepted = label_range(model.activation, loss)
    scalar = print_numpy if may_overflow(model.activation) else print_scalar
    forms = {kind: _forms(*exprs, scalar=scalar) for kind, exprs in
             (("value", [value]), ("delta", [delta]), ("both", [value, delta]))}
    _add_returns(forms)
    hessian = [labels.hessian_entry(loss, *entry) for entry in HESSIAN_ENTRIES]
    return {
        "curvature": _fresh(_forms(curvature), curvature),
        "curvature_expr": curvature,
        "curvature_labels": curvature.diff(y) != 0,
        "curvature_cites": cite(numbers, labels.second_derivative(loss)),
        "hessian_cites": cite(numbers, *hessian),
        "convex": is_convex(book, loss),
        "convex_cites": cite(numbers, labels.convexity(loss)),
        "name": loss.name,
        "title": loss.title,
        "labels": {"low": _bound(accepted.inf), "high": _bound(accepted.sup),
                   "text": text(accepted)},
        "value_cites": cite(numbers, labels.loss_definition(loss)),
        "grad_cites": cite(numbers, grad_w.label, grad_b.label),
        **forms,
        "hard": hard,
    }


def _curvature(book, loss, delta):
    """d = ∂²L/∂z² for the code: the stable δ differentiated in z through its stable
    primitives (σ' = σ(z)σ(−z), softplus' = σ), so that d is a sum of products of
    stable factors rather than a polynomial in a that cancels at large |z|; verified
    equal to the proved second derivative."""
    second = book[labels.second_derivative(loss)]
    curvature = delta.diff(z)
    # The softplus–Poisson y-term σ(−z) − σ(z)/softplus(z) cancels as z → −∞.
    curvature = curvature.subs(Sigmoid(-z) - exp(-LogSoftplus(z) - Softplus(-z)),
                               -SoftplusGap(z))
    if curvature.diff(y) == 0:  # y cancels (the canonical pairs): d without it
        curvature = curvature.subs(y, 0)
    Step(second.rhs, curvature, "stable form", model=book.model,
         derivation=f"code generation for {loss.title}")
    return curvature


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
    _add_returns(forms, sign="s")
    return forms


def _add_returns(forms, sign=None):
    """Give each of ``forms`` (value, delta, both) ``returns``: the code of the (loss, δ)
    pair its block function returns after its array assignments, None for the one not
    computed. With ``sign``, δ is ``sign`` times the printed δ (the hard-label forms)."""
    for kind, form in forms.items():
        results = list(form["array"]["results"])
        if sign and kind != "value":
            results[-1] = f"{sign}*({results[-1]})"
        pair = {"value": (results[0], "None"), "delta": ("None", results[0]),
                "both": results}[kind]
        form["returns"] = ", ".join(pair)
