"""What a generated softmax module computes, taken from the verified derivations.

``softmax_context(book)`` returns plain strings for ``templates/softmax.py.jinja``. Each
loss's per-row code computes the forms below; before anything is printed each form is
proved equal (a ``Step`` in the book's ``SoftmaxModel``) to the derivation's result it
implements, with M any real number (the code takes the row maximum):

* a_i = e^{z_i − M} / Σ_l e^{z_l − M}, the softmax (``def-softmax``);
* L_cce = Σ_k y_k (M − z_k) + log Σ_l e^{z_l − M} (log-sum-exp, with Σ_k y_k = 1);
* ∂L_cce/∂z_i = a_i − y_i and ∂L_se/∂z_i = a_i((a_i − y_i) − Σ_k (a_k − y_k) a_k);
* ∂L/∂W_{ji} = δ_i x_j, ∂L/∂b_i = δ_i, and over samples ∇_W J = (1/m) Xᵀ(A − Y) (+ λW).

The fixed part (input checks, the shifted exponentials, reductions, the penalty) is
``runtime_softmax.py`` with the checks of ``runtime_inputs.py``, pasted verbatim.
"""

import functools
from pathlib import Path

from sympy import Derivative, Rational, Sum, Symbol, exp, log

from derive.codegen.numba_context import fast
from derive.codegen.paste import IMPORTS, _without_own_imports, pasted, pieces
from derive.engine import labels
from derive.engine.numbering import cite, equation_numbers
from derive.engine.softmax import K, W, a, b, i, j, k, l, y, z
from derive.engine.steps import Step
from derive.engine.symbols import x_j

TEMPLATE = "softmax.py.jinja"
HERE = Path(__file__).resolve().parent
RUNTIME_FILES = (HERE / "runtime_softmax.py", HERE / "runtime_inputs.py")
RUNTIME_NUMBA = HERE / "runtime_softmax_numba.py"
M = Symbol("M", real=True)
"""Any real number: the code subtracts the row maximum."""

_SHARE = exp(z[i] - M) / Sum(exp(z[l] - M), (l, 1, K))
_FORMS = {
    "cce": {
        "value": Sum(y[k] * (M - z[k]), (k, 1, K)) + log(Sum(exp(z[l] - M), (l, 1, K))),
        "delta": _SHARE - y[i],
        "code": [
            "(gap, error), t, rest, c = _shifted(Z)",
            "tail = (Y * error).sum(axis=-1) + np.log1p(rest[..., 0]) if value else None",
            "rows = (Y * gap).sum(axis=-1) + tail if value else None",
            "a = _probabilities(t, rest, c)",
            "delta = _minus_labels(a, Y, rest, c) if gradient else None",
        ],
        "value_text": "Σ_k y_k (M − z_k) + log1p(Σ_{k≠c} e^(z_k − M))",
        "delta_text": "a − y",
        "extended": "soft",
    },
    "se": {
        "value": Sum(Rational(1, 2) * (exp(z[k] - M) / Sum(exp(z[l] - M), (l, 1, K)) - y[k]) ** 2,
                     (k, 1, K)),
        "delta": _SHARE * ((_SHARE - y[i]) - Sum(
            (exp(z[k] - M) / Sum(exp(z[l] - M), (l, 1, K)) - y[k])
            * exp(z[k] - M) / Sum(exp(z[l] - M), (l, 1, K)), (k, 1, K))),
        "code": [
            "_, t, rest, c = _shifted(Z)",
            "a = _probabilities(t, rest, c)",
            "error = _minus_labels(a, Y, rest, c)",
            "rows = (error * error).sum(axis=-1) / 2 if value else None",
            "delta = _centred_slope(a, error, rest, c) if gradient else None",
        ],
        "value_text": "½ Σ_k (a_k − y_k)²",
        "delta_text": "a_i((a_i − y_i) − Σ_k (a_k − y_k) a_k)",
        "extended": "always",
    },
}
"""Per loss: the forms the code computes (proved against the book) and its lines."""


def runtime(*names):
    """The pieces ``names`` of the softmax runtime files."""
    return pasted(runtime_source(), names)


@functools.cache
def runtime_source():
    first, *others = (path.read_text(encoding="utf-8") for path in RUNTIME_FILES)
    text = _without_own_imports(first)
    for other in others:
        text += "\n\n" + other.split(pieces(other)[IMPORTS].text, 1)[1]
    return text


def classes(*names):
    """The pieces ``names`` of ``runtime_softmax_numba.py``, the numba target's rows."""
    return pasted(RUNTIME_NUMBA.read_text(encoding="utf-8"), names)


TEMPLATE_FUNCTIONS = {"runtime": runtime, "classes": classes, "fast": fast}


def softmax_context(book, target="numpy"):
    """Plain strings for the softmax module template, for the NumPy or the numba
    ``target``; every form verified first."""
    model = book.model
    numbers = equation_numbers(book.on_sheet())
    where = "code generation"
    Step(a[i], _SHARE, "stable form", model=model, derivation=where)
    losses = []
    for loss in model.losses:
        forms = _FORMS[loss.name]
        Step(loss.symbol, forms["value"], "stable form", model=model, derivation=where)
        delta = book[labels.class_gradient(loss, "z")]
        Step(delta.rhs, forms["delta"], "stable form", model=model, derivation=where)
        for name, factor in (("W", x_j), ("b", 1)):
            result = book[labels.class_gradient(loss, name)]
            variable = W[j, i] if name == "W" else b[i]
            if result.lhs != Derivative(loss.symbol, variable):
                raise ValueError(f"derivation {result.label} does not differentiate {loss.symbol}")
            Step(result.rhs, delta.rhs * factor, "factor out x_j", model=model, derivation=where)
        averaged = [labels.class_averaged_gradient(loss, name) for name in ("W", "b")]
        if labels.class_matrix_gradient(loss) in book:
            averaged.append(labels.class_matrix_gradient(loss))
        losses.append({
            "name": loss.name,
            "title": loss.title,
            "code": forms["code"],
            "value_text": forms["value_text"],
            "delta_text": forms["delta_text"],
            "extended": forms["extended"],
            "value_cites": cite(numbers, labels.loss_definition(loss)),
            "grad_cites": cite(numbers, delta.label, *(
                labels.class_gradient(loss, name) for name in ("W", "b"))),
            "batch_cites": cite(numbers, *averaged),
        })
    exports = ["predict", "predict_proba", "softmax"]
    for loss in losses:
        exports += [f"{kind}_{loss['name']}" for kind in ("grad", "loss", "value_and_grad")]
    return {
        "numba": target == "numba",
        "heading": model.activation.heading,
        "losses": losses,
        "exports": sorted(exports),
        "output_cites": cite(numbers, labels.SOFTMAX_DEF_OUTPUT),
        "two_classes_cites": cite(numbers, labels.SOFTMAX_TWO_CLASSES),
    }
