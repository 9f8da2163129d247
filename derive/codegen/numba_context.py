"""What the generated numba module computes: the NumPy module's context, and per loss
the per-sample formulas for one row, printed for floats.

``numba_context(book)`` starts from ``context.module_context`` (the same verified stable
forms, cites, labels and exports) and adds, per loss, the per-row loss and δ = ∂L/∂z
printed by the scalar printer (``math`` functions on floats, no array temporaries;
common work computed once). The generated ``_row(which, z, y)`` computes form ``which``:
3·(index of the loss) + part, where part is 0 (the loss), 1 (δ) or 2 (both), as
``runtime_numba`` numbers them. The fixed part is ``runtime_numba.py``, pasted verbatim
with ``fast(name, …)``; input checking is the NumPy runtime's, pasted with ``runtime``.
"""

from pathlib import Path

from derive.codegen.context import (
    helper_names,
    inline_primitives,
    module_context,
    stable_form,
)
from derive.codegen.paste import pasted, runtime
from derive.engine import labels
from derive.engine.symbols import b
from derive.printing.numpy import print_block, print_compiled

TEMPLATE = "logistic_regression_numba.py.jinja"
RUNTIME_NUMBA = Path(__file__).resolve().parent / "runtime_numba.py"
PARTS = ("value", "delta", "both")
"""The parts a row function computes, in the order of ``runtime_numba``'s numbers."""


def fast(*names):
    """The pieces ``names`` of ``derive/codegen/runtime_numba.py``, in the order given."""
    return pasted(RUNTIME_NUMBA.read_text(encoding="utf-8"), names)


TEMPLATE_FUNCTIONS = {"runtime": runtime, "fast": fast}
"""What the numba module template may call: the pieces of both runtimes."""


def numba_context(book):
    """Plain strings for ``templates/logistic_regression_numba.py.jinja``."""
    context = module_context(book)
    # The kernels' helpers of one value; the second-order functions (hessian_*, hvp_*,
    # newton_step_*) are the NumPy module's, with its helpers (``helpers``).
    context["compiled_helpers"] = [f"{name}_one" for name in
                                   helper_names(book.model.activation)]
    model = book.model
    for index, (loss, strings) in enumerate(zip(model.losses, context["losses"], strict=True)):
        value = inline_primitives(stable_form(book[labels.loss_definition(loss)].rhs, model))
        delta = inline_primitives(stable_form(book[labels.gradient(loss, b)].rhs, model))
        strings["rows"] = {part: _row_form(3 * index + number, exprs)
                           for number, (part, exprs) in enumerate(zip(
                               PARTS, ([value], [delta], [value, delta])))}
    return context


def _row_form(which, exprs):
    """The number, the assignments and the returned (loss, δ) of one row form."""
    assignments, results = print_block(exprs, printer=print_compiled)
    if len(results) == 1:
        results = [results[0], "0.0"] if which % 3 == 0 else ["0.0", results[0]]
    return {"which": which, "assignments": assignments, "returns": ", ".join(results)}
