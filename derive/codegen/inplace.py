"""Straight-line NumPy that reuses its buffers: the body of a generated block function.

A block function maps the arrays of a block of rows (z and y, or u and s) to the
per-sample loss and δ. Printed as plain expressions, every operation would allocate a
new array; on blocks of thousands of rows the extra buffers push each other out of the
cache. ``inplace_program`` lowers the printed expressions to one NumPy operation per
line and writes each result into an operand that is no longer needed (``out=``, or an
augmented assignment), allocating only when none is.

Conventions:

* The input is what ``print_block`` prints: Python source, so the lowering follows
  Python's own order of evaluation. Every operation is the one the expression performs,
  on the same operands in the same order; only where its result is stored changes. The
  program is therefore bit-for-bit the printed expressions (a test checks this).
* Arguments (the block's inputs) are never written to. Comparisons give boolean arrays,
  which are never reused for numbers; ``np.where`` and helpers always allocate, and
  the result of any other call is never written to (it might be a view).
* All arrays of a block have one shape and one dtype, and constants are Python numbers,
  so writing a result into an operand's buffer changes neither.
* Buffers are named ``t0``, ``t1``, … in the order they are allocated.
"""

import ast
from dataclasses import dataclass, field

import numpy as np

_INFIX = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_UFUNCS = {ast.Add: "np.add", ast.Sub: "np.subtract", ast.Mult: "np.multiply",
           ast.Div: "np.divide"}
_COMMUTATIVE = (ast.Add, ast.Mult)  # exactly, in IEEE arithmetic: operands may swap
_COMPARISONS = {ast.GtE: ">=", ast.LtE: "<=", ast.Gt: ">", ast.Lt: "<", ast.Eq: "==",
                ast.NotEq: "!="}


@dataclass
class _Value:
    """One array or number the program computes or receives."""

    name: str = ""        # buffer or argument name; a constant's source text
    owned: bool = False   # a buffer the program allocated for numbers: may be reused
    uses: list = field(default_factory=list)  # indices of the operations reading it


@dataclass
class _Operation:
    kind: str             # "binary", "power", "ufunc" (takes out=), "call", "compare"
    operator: object      # an ast operator class, or the function's source name
    operands: list
    result: _Value


def inplace_program(assignments, results, arguments):
    """Lines of NumPy computing ``results``, and the names that hold them.

    ``assignments`` are ``(name, code)`` pairs computed in order (common
    subexpressions); ``results`` are code; both may use the ``arguments`` (names) and
    earlier assignments. Returns ``(lines, names)`` with ``names[k]`` the variable
    holding ``results[k]``. Python the printers do not produce raises ValueError.
    """
    lowering = _Lowering({name: _Value(name) for name in arguments})
    for name, code in assignments:
        lowering.scope[name] = lowering.lower(code)
    returned = [lowering.lower(code) for code in results]
    lines = _Printer(lowering.operations, returned).lines()
    return lines, [value.name for value in returned]


class _Lowering:
    """Python expressions → a list of single NumPy operations on ``_Value`` s."""

    def __init__(self, scope):
        self.scope = dict(scope)
        self.operations = []

    def lower(self, code):
        return self._node(ast.parse(code, mode="eval").body)

    def _node(self, node):
        if _constant(node):
            return _Value(_constant_text(node))
        if _numpy_constant(node):
            return _Value(ast.unparse(node))
        if isinstance(node, ast.Name):
            if node.id not in self.scope:
                raise ValueError(f"block code uses {node.id!r}, which nothing defines")
            return self.scope[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _INFIX:
            return self._add("binary", type(node.op), node.left, node.right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self._add("power", ast.Pow, node.left, node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self._add("ufunc", "np.negative", node.operand)
        if (isinstance(node, ast.Compare) and len(node.ops) == 1
                and type(node.ops[0]) in _COMPARISONS):
            return self._add("compare", _COMPARISONS[type(node.ops[0])], node.left,
                             node.comparators[0])
        if isinstance(node, ast.Call) and not node.keywords:
            function = ast.unparse(node.func)
            kind = "ufunc" if _is_ufunc(function) else "call"
            return self._add(kind, function, *node.args)
        raise ValueError(f"cannot lower {ast.unparse(node)!r} to in-place NumPy")

    def _add(self, kind, operator, *nodes):
        operands = [self._node(node) for node in nodes]
        index = len(self.operations)
        for operand in operands:
            operand.uses.append(index)
        result = _Value(owned=_new_numbers(kind, operator))
        self.operations.append(_Operation(kind, operator, operands, result))
        return result


def _new_numbers(kind, operator):
    """Whether the operation's result is a new array of numbers, free to be written
    later. Not a comparison's (booleans). A call's only if it is ``np.where`` or one of
    the module's helpers (``_log1p_ratio``): another function might return a view of
    its argument."""
    if kind == "call":
        return operator == "np.where" or operator.startswith("_")
    return kind != "compare"


def _constant(node):
    """True for an expression of numbers alone (``2``, ``-2``, ``1/2``)."""
    return all(isinstance(part, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.operator,
                                 ast.unaryop))
               for part in ast.walk(node))


def _numpy_constant(node):
    """``np.pi``, ``np.e``: a NumPy float written as an attribute."""
    return (isinstance(node, ast.Attribute) and ast.unparse(node.value) == "np"
            and isinstance(getattr(np, node.attr, None), float))


def _is_ufunc(function):
    """``np.exp`` and the like, which can write into a given array (``out=``)."""
    return (function.startswith("np.")
            and isinstance(getattr(np, function[len("np."):], None), np.ufunc))


def _constant_text(node):
    """The number as Python computes it (``1/2`` is ``0.5``), in round-trip form."""
    number = eval(compile(ast.Expression(node), "<constant>", "eval"), {"__builtins__": {}})
    return repr(number)


class _Printer:
    """Chooses each operation's buffer and prints the operation.

    An allocation read once, by the very next operation and not as its buffer, is
    printed inside that operation (``t1 += np.maximum(u, 0)``) instead of on a line
    of its own; it is computed at the same point either way.
    """

    def __init__(self, operations, returned):
        self.operations = operations
        self.returned = {id(value) for value in returned}
        self.buffers = 0
        self.output = []
        self.pending = None  # (value, code, atomic) of an allocation not yet printed

    def lines(self):
        for index, operation in enumerate(self.operations):
            self._print(index, operation)
        self._flush()
        return self.output

    def _free(self, value, index):
        """``value`` is a number buffer that nothing reads after operation ``index``."""
        return (value.owned and id(value) not in self.returned
                and max(value.uses) == index)

    def _print(self, index, operation):
        operands = operation.operands
        pending = self.pending[0] if self.pending else None
        free = [position for position, value in enumerate(operands)
                if operation.kind in ("binary", "power", "ufunc") and self._free(value, index)]
        free.sort(key=lambda position: operands[position] is pending)  # named ones first
        inline = (pending is not None and pending.uses == [index]
                  and id(pending) not in self.returned
                  and not (free and operands[free[0]] is pending))
        if not inline:
            self._flush()
        names = [self._operand(value, inline and value is pending, _infix(operation))
                 for value in operands]
        if inline:
            self.pending = None
        if free:
            target = operands[free[0]]
            operation.result.name = target.name
            self.output.append(_in_place(operation, names, free[0]))
        else:
            atomic = not _infix(operation)
            self.pending = (operation.result, _allocating(operation, names), atomic)

    def _operand(self, value, inline, infix):
        """How an operation (``infix`` or a call) names ``value``: the pending code when
        ``inline``, in parentheses if both it and the operation are infix."""
        if inline:
            _, code, atomic = self.pending
            return f"({code})" if infix and not atomic else code
        text = value.name
        return f"({text})" if text.startswith("-") else text

    def _flush(self):
        if self.pending:
            value, code, _ = self.pending
            value.name = f"t{self.buffers}"
            self.buffers += 1
            self.output.append(f"{value.name} = {code}")
            self.pending = None


def _infix(operation):
    """Whether the operation, allocating, prints as an operator rather than a call."""
    return operation.kind in ("binary", "power", "compare") or operation.operator == "np.negative"


def _allocating(operation, names):
    kind, operator = operation.kind, operation.operator
    if kind == "binary":
        return f"{names[0]} {_INFIX[operator]} {names[1]}"
    if kind == "power":
        return f"{names[0]}**{names[1]}"
    if kind == "compare":
        return f"{names[0]} {operator} {names[1]}"
    if operator == "np.negative":
        return f"-{names[0]}"
    return f"{operator}({', '.join(names)})"


def _in_place(operation, names, position):
    """The operation writing into operand ``position``'s buffer."""
    kind, operator, target = operation.kind, operation.operator, names[position]
    if kind == "binary":
        if position == 0:
            return f"{target} {_INFIX[operator]}= {names[1]}"
        if operator in _COMMUTATIVE:
            return f"{target} {_INFIX[operator]}= {names[0]}"
        return f"{_UFUNCS[operator]}({names[0]}, {names[1]}, out={target})"
    if kind == "power":
        if position == 0 and names[1] == "2":  # as ``x**2`` computes it: x·x
            return f"np.square({target}, out={target})"
        return f"np.power({names[0]}, {names[1]}, out={target})"
    return f"{operator}({', '.join(names)}, out={target})"
