"""Expressions as one line of plain text, for terminals, titles and error messages."""

from sympy import Basic, Symbol
from sympy.core.function import AppliedUndef
from sympy.printing.str import StrPrinter

from derive.engine.registry import ACTIVATIONS
from derive.engine.symbols import a


class TextPrinter(StrPrinter):
    """Plain text in reading order: σ'(z), dL_se/da, ∂z/∂w_j; products keep their order."""

    def __init__(self):
        super().__init__({"order": "none"})

    def _print_Derivative(self, expr):
        if len(expr.variables) != 1:  # d²/dz² (…) and mixed ones: one ∂ per variable
            inner = self._print(expr.expr)
            marks = "".join(f"∂{self._print(variable)}" for variable in expr.variables)
            return f"∂^{len(expr.variables)}/{marks} ({inner})"
        (variable,), inner = expr.variables, expr.expr
        if isinstance(inner, AppliedUndef) and inner.args == (variable,):
            return f"{self._print(inner.func)}'({self._print(variable)})"
        mark = "d" if variable == a else "∂"
        if isinstance(inner, Symbol):
            return f"{mark}{self._print(inner)}/{mark}{self._print(variable)}"
        return f"{mark}/{mark}{self._print(variable)} ({self._print(inner)})"

    def _print_Function(self, expr):
        if isinstance(expr, AppliedUndef):
            arguments = ", ".join(self._print(argument) for argument in expr.args)
            return f"{self._print(expr.func)}({arguments})"
        return super()._print_Function(expr)

    def _print_UndefinedFunction(self, expr):
        symbols = {entry.function.__name__: entry.symbol for entry in ACTIVATIONS.values()}
        return symbols.get(expr.__name__, expr.__name__)

    def _print_Contains(self, expr):
        element, container = expr.args
        return f"{self._print(element)} ∈ {self._print(container)}"

    def _print_Interval(self, expr):
        left = "(" if expr.left_open else "["
        right = ")" if expr.right_open else "]"
        return f"{left}{self._print(expr.start)}, {self._print(expr.end)}{right}"

    def _print_Reals(self, expr):
        return "(−∞, ∞)"

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "−∞"


def text(expr):
    """``expr`` as one line of plain text."""
    return TextPrinter().doprint(expr)


def join_title(parts):
    """A title given as text and SymPy pieces, as one line of plain text."""
    return "".join(text(part) if isinstance(part, Basic) else part for part in parts)
