"""The softmax neuron's solution and problem sheets (``templates/softmax_sheet.tex.jinja``).

``softmax_sheet_context`` turns a ``Book`` of the softmax derivations and the canonical-link
rows (the registry's binary pairs and the softmax's own, ``softmax_links``) into plain
strings, with the derivation layout of ``derive.sheet.context``.
"""

from dataclasses import replace

from derive.config import SheetInfo
from derive.engine.numbering import equation_numbers
from derive.engine.registry import ACTIVATIONS, LOSSES
from derive.engine.softmax import VECTOR_LOSSES
from derive.engine.verify import MIN_POINTS, NUMERIC
from derive.printing.latex import latex
from derive.render import render
from derive.sheet.context import VARIANTS, _derivation, escape

TEMPLATE = "softmax_sheet.tex.jinja"
SECTIONS = {
    "neuron": "Softmax regression",
    "losses": "The losses",
    "gradients": "Gradients",
    "samples": "All samples at once",
    "two classes": "Two classes: logistic regression again",
}


def softmax_sheet_context(book, info=None, variant="solutions", links=(), softmax_rows=()):
    """Plain strings for the softmax sheet; ``links`` are the binary table's rows
    (``derive.engine.links.Link``), ``softmax_rows`` those of ``softmax_links``."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown sheet variant {variant!r}; use one of {VARIANTS}")
    info = info or SheetInfo()
    if not info.title:
        info = replace(info, title="Gradients of softmax regression")
    shown = book.on_sheet()
    numbers = equation_numbers(shown)
    table = [{"activation": rf"\texttt{{{escape(link.activation)}}}",
              "loss": rf"\texttt{{{escape(link.loss)}}}, ${LOSSES[link.loss].latex}$",
              "delta": latex(link.delta), "canonical": link.canonical, "here": False}
             for link in links if link.activation in ACTIVATIONS]
    names = {loss.name for loss in book.model.losses}
    table += [{"activation": r"\texttt{softmax}",
               "loss": rf"\texttt{{{name}}}, ${VECTOR_LOSSES[name].latex}$",
               "delta": latex(derivation.rhs), "canonical": canonical, "here": name in names}
              for name, derivation, canonical, _ in softmax_rows]
    return {
        "variant": variant,
        "info": {key: escape(value) for key, value in vars(info).items()},
        "numeric_points": MIN_POINTS,
        "numeric_steps": sum(step.method == NUMERIC for d in book for step in d.steps),
        "penalty": book.model.penalty.name,
        "sections": [{"key": key, "heading": heading,
                      "derivations": [_derivation(d, numbers) for d in shown
                                      if d.section == key]}
                     for key, heading in SECTIONS.items()],
        "links": table,
    }


def render_softmax_sheet(context):
    return render(TEMPLATE, context, "%")
