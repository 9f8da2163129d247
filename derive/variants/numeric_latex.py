"""LaTeX for numbers and expressions at a point, in the sheet's notation.

``NumericLatexPrinter`` is the sheet's printer (``derive.printing.latex``) with three
changes for worked numeric solutions: a rational with a terminating decimal expansion
prints as that decimal (3/4 as 0.75), every product shows ``\\cdot``, and a value at a
point (SymPy's ``Subs``) prints as f'(0.75) or as a bar with the point beside it.
``at_numbers`` prints a formula with its symbols shown as numbers (``x_j`` as 1.5, ``a``
as σ(0.75)): what it prints is the formula with those values substituted, and the
caller verifies that substituted expression.
"""

from sympy import Derivative, Rational
from sympy.core.function import AppliedUndef

from derive.engine.registry import LOSSES
from derive.engine.symbols import LATEX_NAMES
from derive.printing.latex import DeriveLatexPrinter
from derive.variants.draw import decimal


def _names():
    names = dict(LATEX_NAMES)
    names.update({loss.symbol: loss.latex for loss in LOSSES.values()})
    return names


class NumericLatexPrinter(DeriveLatexPrinter):
    """Decimals, ``\\cdot`` products and values at a point; see the module docstring."""

    def __init__(self, settings=None):
        settings = dict(settings or {})
        settings["symbol_names"] = {**_names(), **settings.get("symbol_names", {})}
        super().__init__({"mul_symbol": "dot", **settings})

    def _print_Rational(self, expr):
        try:
            return decimal(expr)
        except ValueError:
            return super()._print_Rational(expr)

    def _print_Subs(self, expr):
        inner, variables, point = expr.args
        if (isinstance(inner, Derivative) and len(variables) == 1
                and isinstance(inner.expr, AppliedUndef)
                and inner.expr.args == tuple(variables) == inner.variables):
            name = self._function_name(inner.expr)
            return f"{name}'\\left({self._print(point[0])}\\right)"
        at = ",\\ ".join(f"{self._print(v)} = {self._print(p)}"
                         for v, p in zip(variables, point))
        return f"\\left. {self._print(inner)} \\right|_{{{at}}}"


def number(value):
    """A number as LaTeX: a decimal, in parentheses when negative (for use as a factor)."""
    text = NumericLatexPrinter().doprint(Rational(value))
    return f"\\left({text}\\right)" if text.startswith("-") else text


def numeric_latex(expr):
    """``expr`` (constants only, or values at a point) as LaTeX with decimals."""
    return NumericLatexPrinter().doprint(expr)


def at_numbers(expr, shown):
    """``expr`` printed with each symbol in ``shown`` ({symbol: LaTeX}) written as
    its value; the expression this stands for is ``expr.xreplace(values)``."""
    return NumericLatexPrinter({"symbol_names": shown}).doprint(expr)
