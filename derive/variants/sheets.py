"""Each student's problem sheet and the one solutions book, as LaTeX.

``problems_source`` fills ``templates/variant_problems.tex.jinja`` for one solved
variant: the student's name and id, the neuron (the definitions of the activation and
the loss), the drawn numbers and the tasks. ``solutions_source`` fills
``templates/variant_solutions.tex.jinja``: one section per student with the verified
derivations of the formulas their tasks use (every step with its rule, as on the
solution sheet) and the worked numeric chains of ``derive.variants.tasks``. Equation
labels are prefixed with the variant's key (``v3:eq:grad-ce-w``), so every student's
section has its own. Templates receive plain strings only.
"""

from sympy import Basic

from derive.config import SheetInfo
from derive.engine import labels
from derive.engine.symbols import b, w_j
from derive.engine.verify import NUMERIC
from derive.printing.latex import latex
from derive.render import render
from derive.sheet.context import RELATIONS, escape
from derive.variants.draw import decimal
from derive.variants.tasks import PLACES, book_for, ref

PROBLEMS_TEMPLATE = "variant_problems.tex.jinja"
SOLUTIONS_TEMPLATE = "variant_solutions.tex.jinja"
DEFAULT_TITLE = "Homework: the gradients of one neuron"


def _shown(loss):
    """The results a student's section of the book derives, in order."""
    return (labels.DEF_Z, labels.DEF_OUTPUT, labels.DEF_ACT, labels.loss_definition(loss),
            labels.ACT_PRIME, labels.DA_DZ, labels.loss_derivative(loss),
            labels.dz_d(w_j), labels.dz_d(b), labels.gradient(loss, w_j),
            labels.gradient(loss, b))


def problems_source(solution, info=None):
    """The LaTeX of one student's problem sheet."""
    return render(PROBLEMS_TEMPLATE, {**_common(info), **_student(solution)}, "%")


def solutions_source(solutions, info=None):
    """The LaTeX of the solutions book: every student's full worked solution."""
    entries = [{**_student(solution), **_worked(solution)} for solution in solutions]
    numeric = sum(count for solution in solutions for method, count in solution.methods
                  if method == NUMERIC)
    steps = sum(count for solution in solutions for _, count in solution.methods)
    return render(SOLUTIONS_TEMPLATE, {**_common(info), "entries": entries,
                                       "numeric_steps": numeric, "steps": steps}, "%")


def _common(info):
    info = info or SheetInfo()
    values = {key: escape(value) for key, value in vars(info).items()}
    values["title"] = values["title"] or escape(DEFAULT_TITLE)
    return {"info": values, "places": PLACES}


def neuron_latex(book):
    """The definitions of the activation and of the loss of ``book``'s pair, as LaTeX
    ("\\sigma(z) = …", "\\mathcal{L}_{ce} = …")."""
    act_definition = book[labels.DEF_ACT]
    loss_definition = book[labels.loss_definition(book.model.losses[0])]
    return (f"{latex(act_definition.lhs)} = {latex(act_definition.rhs)}",
            f"{latex(loss_definition.lhs)} = {latex(loss_definition.rhs)}")


def _student(solution):
    variant = solution.variant
    book = book_for(variant.activation, variant.loss)
    act, loss = book.model.activation, book.model.losses[0]
    numbers = variant.numbers
    act_definition, loss_definition = neuron_latex(book)
    return {
        "key": variant.key,
        "id": escape(variant.student.id),
        "name": escape(variant.student.name),
        "activation": {"name": escape(act.name), "title": escape(act.title),
                       "definition": act_definition},
        "loss": {"name": escape(loss.name), "title": escape(loss.title),
                 "symbol": loss.latex,
                 "definition": loss_definition},
        "numbers": {
            "x": ", ".join(decimal(value) for value in numbers.x),
            "w": ", ".join(decimal(value) for value in numbers.w),
            "b": decimal(numbers.b), "y": decimal(numbers.y),
            "eta": decimal(numbers.eta), "point": decimal(numbers.point),
        },
        "tasks": [{"key": task.key, "statement": task.statement} for task in solution.tasks],
    }


def _worked(solution):
    variant = solution.variant
    book = book_for(variant.activation, variant.loss)
    shown = _shown(book.model.losses[0])
    return {
        "derivations": [_derivation(book[label], variant, shown) for label in shown],
        "intermediates": [_chain(chain) for chain in solution.intermediates],
        "refs": {"def_z": ref(variant, labels.DEF_Z),
                 "def_output": ref(variant, labels.DEF_OUTPUT)},
        "worked": [{"statement": task.statement, "formula": task.formula,
                    "formula_ref": task.formula_ref, "chain": _chain(task.chain),
                    "answer": task.answer.display, "tolerance": task.answer.tolerance}
                   for task in solution.tasks],
    }


def _chain(chain):
    return {"head": chain.head, "lhs": chain.lhs, "label": chain.label,
            "links": [{"relation": link.relation, "rhs": link.rhs, "why": link.why}
                      for link in chain.links]}


def _derivation(derivation, variant, shown):
    return {
        "title": _title(derivation.title_parts),
        "label": ref(variant, derivation.label),
        "lhs": latex(derivation.lhs),
        "definition": [step.rule for step in derivation.steps] == ["definition"],
        "rhs": latex(derivation.rhs),
        "relation": RELATIONS[derivation.relation],
        "steps": [{"relation": RELATIONS[step.relation], "rhs": latex(step.rhs),
                   "why": _justification(step, variant, shown),
                   "numeric": step.method == NUMERIC}
                  for step in derivation.steps],
    }


def _title(parts):
    return "".join(f"${latex(part)}$" if isinstance(part, Basic) else escape(part)
                   for part in parts)


def _justification(step, variant, shown):
    if isinstance(step.detail, Basic):
        return f"{step.phrase} ${latex(step.detail)}$"
    if step.detail and step.detail in shown:
        return f"{step.phrase} \\eqref{{{ref(variant, step.detail)}}}"
    return step.phrase
