"""The solution sheet and the problem sheet: LaTeX from the verified derivations.

``sheet_context`` turns a ``Book`` of verified derivations, and the ``SheetExtras`` the
build computed for it, into plain strings for ``templates/sheet.tex.jinja`` (every
expression through ``derive.printing.latex``); ``render_sheet`` fills the template. The
solutions variant shows every step with its rule; the problems variant states each
result as a task, with the same equation numbers (``derive.engine.numbering``).

Equation labels in LaTeX are ``labels.equation(<derivation label>)``; the template gets
every label it cites from the context (``refs``, per loss ``derivative_ref``, per
derivation ``ref``), never spelled in the template. Numbers in the solutions are LaTeX's
own (one per step line, in order); the problems variant tags each statement with the
number its last line has in the solutions.
"""

from dataclasses import dataclass, replace

import mpmath
from sympy import Basic, Float, Integer

from derive.config import SheetInfo
from derive.engine import labels
from derive.engine.numbering import equation_numbers
from derive.engine.registry import ACTIVATIONS, LOSSES, label_range
from derive.engine.symbols import a, b, y
from derive.engine.verify import MIN_POINTS, NUMERIC
from derive.printing.latex import latex
from derive.render import render

TEMPLATE = "sheet.tex.jinja"
VARIANTS = ("solutions", "problems")
SECTIONS = {
    "neuron": "{heading}",
    "losses": "The losses",
    "gradients": "Gradients",
    "penalty": "The penalty",
    "samples": "All samples at once",
    "second order": "Second order: the Hessian and convexity",
}
RELATIONS = {"=": "=", "<": "<", ">": ">", "<=": r"\leq", ">=": r"\geq", "<=>": r"\iff"}
SATURATED_Z = 10

_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}"}


def escape(text):
    """Plain text made safe for LaTeX."""
    return "".join(_ESCAPES.get(character, character) for character in text)


@dataclass(frozen=True)
class SheetExtras:
    """What a sheet shows beyond its own derivations, computed by the build: the
    canonical-link table (``derive.engine.links.Link`` rows), and for the note's
    comparison the saturation figure's data (``derive.sheet.figure.SaturationData``)
    and the figure's file name, which the sheet includes when that file lies next to it
    at compile time (else None)."""

    links: tuple = ()
    saturation: object = None
    figure: str | None = None


def sheet_context(book, info=None, variant="solutions", extras=SheetExtras()):
    """Plain strings for the sheet template; nothing in it is a SymPy object."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown sheet variant {variant!r}; use one of {VARIANTS}")
    model = book.model
    info = info or SheetInfo()
    if not info.title:
        heading = model.activation.heading
        info = replace(info, title=f"Gradients of {heading[0].lower()}{heading[1:]}")
    shown = book.on_sheet()
    numbers = equation_numbers(shown)
    remarks = _remarks() if shows_saturation(model) else {}
    sections = [
        {
            "key": key,
            "heading": heading.format(heading=model.activation.heading),
            "derivations": [_derivation(d, numbers, remarks.get(d.label))
                            for d in shown if d.section == key],
        }
        for key, heading in SECTIONS.items()
    ]
    return {
        "variant": variant,
        "info": {key: escape(value) for key, value in vars(info).items()},
        "activation": _activation(model.activation, book),
        "losses": {loss.name: _loss(model.activation, loss) for loss in model.losses},
        "loss_list": [_loss(model.activation, loss) for loss in model.losses],
        "refs": {"act_symmetry": labels.equation(labels.ACT_SYMMETRY),
                 "da_dz": labels.equation(labels.DA_DZ)},
        "numeric_points": MIN_POINTS,
        "numeric_steps": sum(step.method == NUMERIC for d in book for step in d.steps),
        "sections": sections,
        "saturation": _saturation(book, extras.saturation),
        "links": [_link(link, model) for link in extras.links],
        "figure": extras.figure,
        "penalty": model.penalty.name,
    }


def _remarks():
    """The note's comparison: which gradient each of its two remarks follows."""
    return {labels.gradient(LOSSES["se"], b): "saturation",
            labels.gradient(LOSSES["ce"], b): "cancellation"}


def shows_saturation(model):
    """True for the note's comparison: the sigmoid with both se and ce."""
    names = {loss.name for loss in model.losses}
    return model.activation.name == "sigmoid" and {"se", "ce"} <= names


def _activation(act, book):
    return {
        "name": act.name,
        "title": escape(act.title),
        "symbol": act.latex,
        "range": latex(act.output_range),
        "probability": act.classes == (0, 1),
        "classes": list(act.classes) if act.classes else None,
        "symmetric": labels.ACT_SYMMETRY in book,
    }


def _loss(act, loss):
    return {
        "name": loss.name,
        "title": escape(loss.title),
        "symbol": loss.latex,
        "labels": latex(label_range(act, loss)),
        "derivative_ref": labels.equation(labels.loss_derivative(loss)),
    }


def _link(link, model):
    act, loss = ACTIVATIONS[link.activation], LOSSES[link.loss]
    return {
        "activation": f"\\texttt{{{escape(act.name)}}}, $a \\in {latex(act.output_range)}$",
        "loss": f"\\texttt{{{escape(loss.name)}}}, ${loss.latex}$",
        "delta": latex(link.delta),
        "canonical": link.canonical,
        "activation_name": f"\\texttt{{{escape(act.name)}}}",
        "loss_name": f"\\texttt{{{escape(loss.name)}}}",
        "curvature": latex(link.curvature.rhs),
        "convex": link.convex,
        "here": act == model.activation and loss in model.losses,
    }


def render_sheet(context):
    """The sheet's LaTeX source, with the generated-file header."""
    return render(TEMPLATE, context, "%")


def _derivation(derivation, numbers, remark=None):
    return {
        "ref": labels.equation(derivation.label),
        "remark": remark,
        "title": _title(derivation.title_parts),
        "number": numbers[derivation.label],
        "is_definition": len(derivation.steps) == 1
        and derivation.label.startswith(labels.DEFINITION_PREFIX),
        "lhs": latex(derivation.lhs),
        "relation": RELATIONS[derivation.relation],
        "rhs": latex(derivation.rhs),
        "steps": [
            {
                "relation": RELATIONS[step.relation],
                "rhs": latex(step.rhs),
                "why": _justification(step),
                "numeric": step.method == NUMERIC,
            }
            for step in derivation.steps
        ],
    }


def _title(parts):
    return "".join(f"${latex(part)}$" if isinstance(part, Basic) else escape(part)
                   for part in parts)


def _justification(step):
    phrase, detail = step.phrase, step.detail
    if isinstance(detail, Basic):
        return f"{phrase} ${latex(detail)}$"
    if detail:
        return f"{phrase} \\eqref{{{labels.equation(detail)}}}"
    return phrase


def _saturation(book, training=None):
    """Numbers for the saturation remark, evaluated from the derived expressions, and a
    sentence on the training curves when their data is given; None unless the sheet is
    the note's comparison."""
    model = book.model
    if not shows_saturation(model):
        return None
    slope = book[labels.DA_DZ].rhs
    activation = model.activation.expression(-SATURATED_Z)
    values = {
        "z": str(SATURATED_Z),
        "slope": _scientific(slope.subs(a, model.activation.expression(SATURATED_Z))),
        "activation": _scientific(activation),
    }
    for loss in model.losses:
        delta = book[labels.gradient(loss, b)].rhs
        values[f"delta_{loss.name}"] = _scientific(delta.subs({a: activation, y: Integer(1)}))
    values["training"] = _training(training) if training is not None else ""
    return values


def _training(data):
    se, ce = data.below["se"], data.below["ce"]
    epochs = len(data.curves["se"]) - 1
    start = ", ".join(f"{_scientific_text(data.curves[name][0])} ({name})"
                      for name in ("se", "ce"))
    if ce is None:
        return (f"from mean losses {start}, neither loss falls below {data.target} in "
                f"{epochs} epochs.")
    text = (f"from mean losses {start}, the cross-entropy falls below {data.target} after "
            f"{ce} epochs, ")
    if se is None:
        return text + f"the squared error not within {epochs} epochs."
    return text + f"the squared error only after {se}: {se / max(ce, 1):.0f} times later."


def _scientific_text(value):
    return f"${_scientific(Float(float(value)))}$"


def _scientific(expr, digits=3):
    """A number in LaTeX: 0.99995 stays decimal, 4.54e-05 becomes 4.54 \\cdot 10^{-5}."""
    value = mpmath.mpf(expr.evalf(30))
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return mpmath.nstr(value, 5)
    mantissa, exponent = f"{float(value):.{digits - 1}e}".split("e")
    return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"

