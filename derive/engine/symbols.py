"""The symbols of the note, shared by every module.

Conventions (those of the note): one neuron with weights w_1..w_n and bias b sees a
feature vector x; ``j`` is one fixed feature index, so ``w_j`` and ``x_j`` are plain
symbols and the rest of the weighted sum, sum_{k != j} w_k x_k, is the symbol ``r``.
The pre-activation is z = w_j x_j + r + b, the activation output is a = act(z), and
y is the label. Every symbol is real.
"""

from sympy import Symbol

z = Symbol("z", real=True)
a = Symbol("a", real=True)
y = Symbol("y", real=True)
b = Symbol("b", real=True)
w_j = Symbol("w_j", real=True)
x_j = Symbol("x_j", real=True)
rest = Symbol("r", real=True)
"""sum_{k != j} w_k x_k: the part of z that does not involve w_j."""

PARAMETERS = (w_j, b)
"""The trainable quantities the gradients are taken with respect to."""

LATEX_NAMES = {rest: r"\sum_{k \neq j} w_k x_k"}
"""Symbols whose LaTeX form is not what their name suggests."""
