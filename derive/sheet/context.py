"""The solution sheet and the problem sheet: LaTeX from the verified derivations.

``sheet_context`` turns derivations into plain strings for ``templates/sheet.tex.jinja``
(every expression through ``derive.printing.latex``); ``render_sheet`` fills the template. The
solutions variant shows every step with its rule; the problems variant states each
result as a task, with the same equation numbers (``derive.engine.numbering``).

Equation labels in LaTeX are ``eq:<derivation label>``. Numbers in the solutions are
LaTeX's own (one per step line, in order); the problems variant tags each statement
with the number its last line has in the solutions.
"""

from dataclasses import replace

import mpmath
from sympy import Basic, Float, Integer

from derive.config import SheetInfo
from derive.sheet.figure import TARGET
from derive.printing.latex import latex
from derive.engine.numbering import equation_numbers
from derive.engine.registry import ACTIVATIONS, LOSSES, label_range
from derive.render import render
from derive.engine.rules import RULES
from derive.engine.symbols import a, y
from derive.engine.verify import MIN_POINTS, NUMERIC

TEMPLATE = "sheet.tex.jinja"
VARIANTS = ("solutions", "problems")
SECTIONS = {
    "neuron": "{heading}",
    "losses": "The losses",
    "gradients": "Gradients",
}
RELATIONS = {"=": "=", "<": "<", ">": ">", "<=": r"\leq", ">=": r"\geq", "<=>": r"\iff"}
SATURATED_Z = 10

_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}"}


def escape(text):
    """Plain text made safe for LaTeX."""
    return "".join(_ESCAPES.get(character, character) for character in text)


def sheet_context(derivations, model, info=None, variant="solutions", extras=None):
    """Plain strings for the sheet template; nothing in it is a SymPy object.

    ``extras`` (``derive.build.SheetExtras``) brings the canonical-link table and the
    saturation figure: its data, quoted in the text, and its file name, which the sheet
    includes when that file lies next to it at compile time.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown sheet variant {variant!r}; use one of {VARIANTS}")
    info = info or SheetInfo()
    if not info.title:
        heading = model.activation.heading
        info = replace(info, title=f"Gradients of {heading[0].lower()}{heading[1:]}")
    numbers = equation_numbers(derivations)
    by_label = {derivation.label: derivation for derivation in derivations}
    sections = [
        {
            "key": key,
            "heading": heading.format(heading=model.activation.heading),
            "derivations": [_derivation(d, numbers) for d in derivations if d.section == key],
        }
        for key, heading in SECTIONS.items()
    ]
    return {
        "variant": variant,
        "info": {key: escape(value) for key, value in vars(info).items()},
        "activation": _activation(model.activation, by_label),
        "losses": {loss.name: _loss(model.activation, loss) for loss in model.losses},
        "loss_list": [_loss(model.activation, loss) for loss in model.losses],
        "numeric_points": MIN_POINTS,
        "numeric_steps": sum(step.method == NUMERIC for d in derivations for step in d.steps),
        "sections": sections,
        "saturation": _saturation(by_label, model, getattr(extras, "saturation", None)),
        "links": [_link(link, model) for link in getattr(extras, "links", ())],
        "figure": getattr(extras, "figure", None),
    }


def shows_saturation(model):
    """True for the note's comparison: the sigmoid with both se and ce."""
    names = {loss.name for loss in model.losses}
    return model.activation.name == "sigmoid" and {"se", "ce"} <= names


def _activation(act, by_label):
    return {
        "name": act.name,
        "title": escape(act.title),
        "symbol": act.latex,
        "range": latex(act.output_range),
        "probability": act.classes == (0, 1),
        "classes": list(act.classes) if act.classes else None,
        "symmetric": "act-symmetry" in by_label,
    }


def _loss(act, loss):
    return {
        "name": loss.name,
        "title": escape(loss.title),
        "symbol": loss.latex,
        "labels": latex(label_range(act, loss)),
    }


def _link(link, model):
    act, loss = ACTIVATIONS[link.activation], LOSSES[link.loss]
    return {
        "activation": f"\\texttt{{{escape(act.name)}}}, $a \\in {latex(act.output_range)}$",
        "loss": f"\\texttt{{{escape(loss.name)}}}, ${loss.latex}$",
        "delta": latex(link.delta),
        "canonical": link.canonical,
        "here": act == model.activation and loss in model.losses,
    }


def render_sheet(context):
    """The sheet's LaTeX source, with the generated-file header."""
    return render(TEMPLATE, context, "%")


def _derivation(derivation, numbers):
    return {
        "label": derivation.label,
        "title": _title(derivation.title_parts),
        "number": numbers[derivation.label],
        "is_definition": [s.rule for s in derivation.steps] == ["definition"]
        and derivation.label.startswith("def-"),
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
    phrase = RULES[step.rule].phrase
    detail = step.detail
    if isinstance(detail, Basic):
        return f"{phrase} ${latex(detail)}$"
    if detail:
        return f"{phrase} \\eqref{{eq:{detail}}}"
    return phrase


def _saturation(by_label, model, training=None):
    """Numbers for the saturation remark, evaluated from the derived expressions, and a
    sentence on the training curves when their data is given; None unless the sheet is
    the note's comparison."""
    if not shows_saturation(model):
        return None
    slope = by_label["da-dz"].rhs
    activation = model.activation.expression(-SATURATED_Z)
    values = {
        "z": str(SATURATED_Z),
        "slope": _scientific(slope.subs(a, model.activation.expression(SATURATED_Z))),
        "activation": _scientific(activation),
    }
    for loss in model.losses:
        delta = by_label[f"grad-{loss.name}-b"].rhs
        values[f"delta_{loss.name}"] = _scientific(delta.subs({a: activation, y: Integer(1)}))
    values["training"] = _training(training) if training is not None else ""
    return values


def _training(data):
    se, ce = data.below["se"], data.below["ce"]
    epochs = len(data.curves["se"]) - 1
    start = ", ".join(f"{_scientific_text(data.curves[name][0])} ({name})"
                      for name in ("se", "ce"))
    if ce is None:
        return f"from mean losses {start}, neither loss falls below {TARGET} in {epochs} epochs."
    text = (f"from mean losses {start}, the cross-entropy falls below {TARGET} after "
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

