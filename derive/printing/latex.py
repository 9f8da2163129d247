"""Expressions to LaTeX, in the note's notation.

A small subclass of SymPy's ``LatexPrinter``: σ'(z) for the derivative of a named
function, d for the total derivative with respect to a (the loss depends on a and the
fixed label only), ∂ for every other derivative, ``\\cdot`` between the factors of an
unevaluated product and terms of an unevaluated sum kept in reading order (a chain
rule's factors stay where the rule put them), and the symbol names of
``derive.engine.symbols`` and the registry.
"""

from sympy import Add, Indexed, Mul, Sum, Symbol
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from derive.engine import samples, softmax
from derive.engine.registry import ACTIVATIONS, LOSSES
from derive.engine.symbols import LATEX_NAMES, a


def _averaged_latex(loss):
    return loss.latex.replace(r"\mathcal{L}", "J")


def _symbol_names():
    names = dict(LATEX_NAMES)
    names.update(samples.LATEX_NAMES)
    names.update({loss.symbol: loss.latex for loss in LOSSES.values()})
    names.update({samples.averaged(loss): _averaged_latex(loss) for loss in LOSSES.values()})
    names.update(softmax.LATEX_NAMES)
    return names


def _indexed_names():
    names = dict(samples.INDEXED_LATEX)
    names.update({samples.loss_at(loss).name: loss.latex for loss in LOSSES.values()})
    names.update(softmax.INDEXED_LATEX)
    return names


def _matrix_names():
    names = dict(samples.MATRIX_LATEX)
    names.update({samples.gradient_vector(loss).name:
                  rf"\nabla_{{\mathbf{{w}}}} {_averaged_latex(loss)}" for loss in LOSSES.values()})
    names.update({samples.hessian_matrix(loss).name:
                  rf"\nabla^{{2}}_{{\mathbf{{w}}}} {_averaged_latex(loss)}"
                  for loss in LOSSES.values()})
    names.update(softmax.MATRIX_LATEX)
    return names


class DeriveLatexPrinter(LatexPrinter):
    """LaTeX in the sheet's notation; see the module docstring for the conventions."""

    def __init__(self, settings=None):
        defaults = {"symbol_names": _symbol_names(), "order": "none"}
        super().__init__({**defaults, **(settings or {})})
        self._function_names = {
            entry.function.__name__: entry.latex for entry in ACTIVATIONS.values()
        }
        self._indexed_names, self._matrix_names = _indexed_names(), _matrix_names()

    def _print_Indexed(self, expr):
        """x_j^{(i)}: the sample index as a superscript in parentheses, then the feature."""
        base = self._indexed_names.get(expr.base.name, expr.base.name)
        if expr.base.name in softmax.SUBSCRIPTED:  # a class's z_i, W_{ji}: subscripts only
            return f"{base}_{{{''.join(self._print(index) for index in expr.indices)}}}"
        sample, *feature = (self._print(index) for index in expr.indices)
        text = f"{base}^{{({sample})}}"
        return f"{text}_{{{feature[0]}}}" if feature else text

    def _print_Pow(self, expr, exp=None):
        if isinstance(expr.base, Indexed) and expr.exp.is_Integer and expr.exp > 0:
            return f"\\left({self._print(expr.base)}\\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_MatrixSymbol(self, expr):
        return self._matrix_names.get(expr.name, expr.name)

    def _print_DiagMatrix(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    def _print_Identity(self, expr):
        return "I"

    def _print_OneMatrix(self, expr):
        """The vector of ones; as a row (1 × m), transposed."""
        return r"\mathbf{1}^{\top}" if expr.shape[0] == 1 else r"\mathbf{1}"

    def _print_Transpose(self, expr):
        return f"{self.parenthesize(expr.arg, PRECEDENCE['Pow'])}^{{\\top}}"

    def _print_Derivative(self, expr):
        if len(expr.variables) != 1:
            return super()._print_Derivative(expr)
        (variable,) = expr.variables
        inner = expr.expr
        if isinstance(inner, AppliedUndef) and inner.args == (variable,):
            return f"{self._function_name(inner)}'\\left({self._print(variable)}\\right)"
        mark = "d" if variable == a else "\\partial"
        named = isinstance(inner, (Symbol, Indexed))
        top = self._print(inner) if named else ""
        fraction = f"\\frac{{{mark} {top}}}{{{mark} {self._print(variable)}}}"
        if named:
            return fraction
        return f"{fraction} \\left({self._print(inner)}\\right)"

    def _print_Function(self, expr, exp=None):
        if isinstance(expr, AppliedUndef) and type(expr).__name__ in self._function_names:
            arguments = ", ".join(self._print(argument) for argument in expr.args)
            text = f"{self._function_name(expr)}\\left({arguments}\\right)"
            return f"{text}^{{{exp}}}" if exp else text
        return super()._print_Function(expr, exp)

    def _print_Mul(self, expr):
        mean = _mean_of(expr)
        if mean is not None:
            count, total = mean
            return f"\\frac{{1}}{{{self._print(count)}}} {self._print(total)}"
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
        return "".join(_joined(before, after) for before, after in
                       zip(["", *parts], parts))

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


def _mean_of(expr):
    """(m, the rest) for a product 1/m · Σ … (printed as 1/m before the sum), else None."""
    if not isinstance(expr, Mul) or len(expr.args) != 2:
        return None
    first, second = sorted(expr.args, key=lambda factor: not factor.is_Pow)
    if first.is_Pow and first.exp == -1 and first.base.is_Symbol and isinstance(second, Sum):
        return first.base, second
    return None


def _is_canonical(expr):
    """True when SymPy would build this sum or product, and every sum or product in its
    arguments, the same way; one a rule left unevaluated is printed in its own order."""
    if expr.func(*expr.args).args != expr.args:
        return False
    return all(_is_canonical(argument) for argument in expr.args
               if isinstance(argument, (Add, Mul)))


def _joined(before, after):
    """``after`` as the next factor of a product that so far ends in ``before``: side by
    side where ``before`` is one symbol and ``after`` a parenthesised group, a·(b + c)
    written a(b + c); with a centred dot otherwise."""
    if not before:
        return after
    single = before.replace("_", "").replace("^", "").replace("{", "").replace("}", "")
    side_by_side = after.startswith("\\left(") and single.replace("(s)", "").isalpha()
    return (" " if side_by_side else " \\cdot ") + after


def _leading_minus(text):
    return text.lstrip().startswith("-")


def latex(expr, **settings):
    """``expr`` as LaTeX in the sheet's notation."""
    return DeriveLatexPrinter(settings).doprint(expr)
