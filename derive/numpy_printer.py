"""Expressions to NumPy code: a small subclass of SymPy's ``NumPyPrinter``.

It prints ``np.`` (the generated module imports ``numpy as np``), calls the stable
primitives of ``derive.stable`` by their helper names (``_sigmoid``, ``_softplus``),
prints a two-branch piecewise as ``np.where``, ``max(u, 0)`` as ``np.maximum`` and
comparisons as operators, so every line reads like careful hand-written NumPy.
"""

from sympy import S, cse, numbered_symbols
from sympy.printing.numpy import NumPyPrinter

from derive.stable import PRIMITIVES

_OPERATORS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class StableNumPyPrinter(NumPyPrinter):
    """NumPy code for derive's expressions; see the module docstring."""

    def _module_format(self, fqn, register=True):
        name = super()._module_format(fqn, register)
        return "np." + name[len("numpy."):] if name.startswith("numpy.") else name

    def _print_Function(self, expr):
        for primitive in PRIMITIVES:
            if isinstance(expr, primitive):
                return f"{primitive.code_name}({self._print(expr.args[0])})"
        return super()._print_Function(expr)

    def _print_Piecewise(self, expr):
        if len(expr.args) != 2 or expr.args[1].cond is not S.true:
            return super()._print_Piecewise(expr)
        (value, condition), (otherwise, _) = expr.args
        return (f"np.where({self._print(condition)}, {self._print(value)}, "
                f"{self._print(otherwise)})")

    def _print_Max(self, expr):
        if len(expr.args) != 2:
            return super()._print_Max(expr)
        first, second = sorted(expr.args, key=lambda argument: argument.is_number)
        return f"np.maximum({self._print(first)}, {self._print(second)})"

    def _print_Abs(self, expr):
        return f"np.abs({self._print(expr.args[0])})"

    def _print_Relational(self, expr):
        operator = _OPERATORS[expr.rel_op]
        return f"{self._print(expr.lhs)} {operator} {self._print(expr.rhs)}"


def print_numpy(expr):
    """One expression as NumPy code."""
    return StableNumPyPrinter({"fully_qualified_modules": True}).doprint(expr)


def print_block(exprs, prefix="t"):
    """Common subexpressions as ``(name, code)`` assignments, then the results' code.

    The elimination is SymPy's ``cse`` over all expressions together, so quantities
    shared between a loss and its gradient are computed once.
    """
    replacements, reduced = cse(list(exprs), symbols=numbered_symbols(prefix), order="canonical")
    assignments = [(str(symbol), print_numpy(value)) for symbol, value in replacements]
    return assignments, [print_numpy(expr) for expr in reduced]
