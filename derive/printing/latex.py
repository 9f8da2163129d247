"""Expressions to LaTeX, in the note's notation.

A small subclass of SymPy's ``LatexPrinter``: σ'(z) for the derivative of a named
function, d for the total derivative with respect to a (the loss depends on a and the
fixed label only), ∂ for every other derivative, ``\\cdot`` between the factors of an
unevaluated product and terms of an unevaluated sum kept in reading order (a chain
rule's factors stay where the rule put them), and the symbol names of
``derive.engine.symbols`` and the registry.
"""

from sympy import Add, Mul, Symbol
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from derive.engine.registry import ACTIVATIONS, LOSSES
from derive.engine.symbols import LATEX_NAMES, a


def _symbol_names():
    names = dict(LATEX_NAMES)
    names.update({loss.symbol: loss.latex for loss in LOSSES.values()})
    return names


class DeriveLatexPrinter(LatexPrinter):
    """LaTeX in the sheet's notation; see the module docstring for the conventions."""

    def __init__(self, settings=None):
        defaults = {"symbol_names": _symbol_names(), "order": "none"}
        super().__init__({**defaults, **(settings or {})})
        self._function_names = {
            entry.function.__name__: entry.latex for entry in ACTIVATIONS.values()
        }

    def _print_Derivative(self, expr):
        if len(expr.variables) != 1:
            return super()._print_Derivative(expr)
        (variable,) = expr.variables
        inner = expr.expr
        if isinstance(inner, AppliedUndef) and inner.args == (variable,):
            return f"{self._function_name(inner)}'\\left({self._print(variable)}\\right)"
        mark = "d" if variable == a else "\\partial"
        top = self._print(inner) if isinstance(inner, Symbol) else ""
        fraction = f"\\frac{{{mark} {top}}}{{{mark} {self._print(variable)}}}"
        if isinstance(inner, Symbol):
            return fraction
        return f"{fraction} \\left({self._print(inner)}\\right)"

    def _print_Function(self, expr, exp=None):
        if isinstance(expr, AppliedUndef) and type(expr).__name__ in self._function_names:
            arguments = ", ".join(self._print(argument) for argument in expr.args)
            text = f"{self._function_name(expr)}\\left({arguments}\\right)"
            return f"{text}^{{{exp}}}" if exp else text
        return super()._print_Function(expr, exp)

    def _print_Mul(self, expr):
        if not isinstance(expr, Mul) or _is_canonical(expr):
            return super()._print_Mul(expr)
        if len(expr.args) == 2 and expr.args[0] == -1:
            return "- " + self.parenthesize(expr.args[1], PRECEDENCE["Mul"])
        numerator, last = expr.args[0], expr.args[-1]
        if len(expr.args) == 2 and last.is_Pow and last.exp == -1:
            return f"\\frac{{{self._print(numerator)}}}{{{self._print(last.base)}}}"
        parts = []
        for index, factor in enumerate(expr.args):
            text = self._print(factor)
            if isinstance(factor, Add) or (index and _leading_minus(text)):
                text = f"\\left({text}\\right)"
            parts.append(text)
        return " \\cdot ".join(parts)

    def _print_Add(self, expr, order=None):
        if _is_canonical(expr):
            return super()._print_Add(expr, order)
        text = self._print(expr.args[0])
        for term in expr.args[1:]:
            printed = self._print(term)
            if isinstance(term, Add):
                printed = f"\\left({printed}\\right)"
            text += f" - {printed[1:].lstrip()}" if printed.startswith("-") else f" + {printed}"
        return text

    def _function_name(self, expr):
        return self._function_names.get(type(expr).__name__, type(expr).__name__)


def _is_canonical(expr):
    """True when SymPy would build this sum or product, and every sum or product in its
    arguments, the same way; one a rule left unevaluated is printed in its own order."""
    if expr.func(*expr.args).args != expr.args:
        return False
    return all(_is_canonical(argument) for argument in expr.args
               if isinstance(argument, (Add, Mul)))


def _leading_minus(text):
    return text.lstrip().startswith("-")


def latex(expr, **settings):
    """``expr`` as LaTeX in the sheet's notation."""
    return DeriveLatexPrinter(settings).doprint(expr)
