"""Expressions to code: NumPy for arrays, the ``math`` module for one sample.

``StableNumPyPrinter`` is a small subclass of SymPy's ``NumPyPrinter``: it prints
``np.`` (the generated module imports ``numpy as np``), a two-branch piecewise as
``np.where``, ``max(u, 0)`` as ``np.maximum``, ``1/u`` rather than ``u**(-1.0)``, and
comparisons as operators, so every line reads like careful hand-written NumPy.
``ScalarPrinter`` prints the same expressions for Python floats (``math.exp``,
conditional expressions), which is what keeps a single-sample call cheap.
"""

from sympy import S, cse, numbered_symbols
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

_OPERATORS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _StableForms:
    """What both printers share: two-branch piecewise, max(u, 0), 1/u for u**-k.

    A subclass names its spelling of each in ``where_form`` and ``max_form``.
    """

    where_form = max_form = ""
    helper_suffix = ""
    """Appended to a helper's ``code_name``: the compiled target's helpers of one value
    are ``<code_name>_one``."""

    def _print_Log1pRatio(self, expr):
        return f"{type(expr).code_name}{self.helper_suffix}({self._print(expr.args[0])})"

    _print_LogGapRatio = _print_Log1pRatio

    def _print_Pow(self, expr, rational=False):
        return _reciprocal(self, expr) or super()._print_Pow(expr, rational)

    def _print_Piecewise(self, expr):
        if len(expr.args) != 2 or expr.args[1].cond is not S.true:
            return super()._print_Piecewise(expr)
        (value, condition), (otherwise, _) = expr.args
        return self.where_form.format(condition=self._print(condition),
                                      value=self._print(value),
                                      otherwise=self._print(otherwise))

    def _print_Max(self, expr):
        if len(expr.args) != 2:
            return super()._print_Max(expr)
        first, second = sorted(expr.args, key=lambda argument: argument.is_number)
        return self.max_form.format(self._print(first), self._print(second))


class StableNumPyPrinter(_StableForms, NumPyPrinter):
    """NumPy code for derive's expressions; see the module docstring."""

    where_form = "np.where({condition}, {value}, {otherwise})"
    max_form = "np.maximum({}, {})"

    def _module_format(self, fqn, register=True):
        name = super()._module_format(fqn, register)
        return "np." + name[len("numpy."):] if name.startswith("numpy.") else name

    def _print_Abs(self, expr):
        return f"np.abs({self._print(expr.args[0])})"

    def _print_Relational(self, expr):
        operator = _OPERATORS[expr.rel_op]
        return f"{self._print(expr.lhs)} {operator} {self._print(expr.rhs)}"


class ScalarPrinter(_StableForms, PythonCodePrinter):
    """Python code for one sample: ``math`` functions on floats."""

    where_form = "({value} if {condition} else {otherwise})"
    max_form = "max({}, {})"


class CompiledPrinter(ScalarPrinter):
    """Python code for one sample in a numba kernel: the helpers' compiled versions."""

    helper_suffix = "_one"


def _reciprocal(printer, expr):
    """``1/u`` and ``1/u**k`` instead of negative powers (cheaper, and exact)."""
    if expr.exp.is_Integer and expr.exp < 0:
        base = printer.parenthesize(expr.base, PRECEDENCE["Pow"])
        power = "" if expr.exp == -1 else f"**{-expr.exp}"
        return f"1/{base}{power}"
    return None


def print_numpy(expr):
    """One expression as NumPy code."""
    return StableNumPyPrinter({"fully_qualified_modules": True}).doprint(expr)


def print_scalar(expr):
    """One expression as Python code on floats (``math`` functions)."""
    return ScalarPrinter({"fully_qualified_modules": True}).doprint(expr)


def print_compiled(expr):
    """One expression as Python code on floats for a numba kernel."""
    return CompiledPrinter({"fully_qualified_modules": True}).doprint(expr)


def print_block(exprs, prefix="t", printer=print_numpy):
    """Common subexpressions as ``(name, code)`` assignments, then the results' code.

    The elimination is SymPy's ``cse`` over all expressions together, so quantities
    shared between a loss and its gradient (such as e^{−|z|}) are computed once.
    """
    replacements, reduced = cse(list(exprs), symbols=numbered_symbols(prefix), order="canonical")
    assignments = [(str(symbol), printer(value)) for symbol, value in replacements]
    return assignments, [printer(expr) for expr in reduced]
