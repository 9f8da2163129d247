"""Pasting the fixed runtime into generated modules, piece by piece, verbatim.

A generated module carries the exact source of the top-level definitions of the runtime
files (``derive/codegen/runtime.py``, ``runtime_inputs.py``, ``runtime_dask.py``, …) that
it needs; the module template asks for them by name with ``runtime(name, …)``, so the
runtime stays real, linted, tested modules and each generated file stays self-contained.
The imports piece is that of ``runtime.py`` without its imports from ``derive`` itself
(the pieces those name are pasted too); the other files' imports are not pasted.
"""

import ast
import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

RUNTIME = Path(__file__).resolve().parent / "runtime.py"
RUNTIME_FILES = (RUNTIME, RUNTIME.with_name("runtime_inputs.py"),
                 RUNTIME.with_name("runtime_dask.py"), RUNTIME.with_name("runtime_second.py"))
"""Every file whose pieces ``runtime`` pastes; the first one's imports are pasted."""
IMPORTS = "imports"
"""The name of the piece that holds every import of ``runtime.py``."""


@dataclass(frozen=True)
class Piece:
    """One top-level definition of a Python file, as its exact source text (no final
    newline); ``definition`` when it is a function or class, not a statement."""

    text: str
    definition: bool


def runtime(*names):
    """The pieces ``names`` of the runtime files, in the order given."""
    return pasted(runtime_source(), names)


@functools.lru_cache(maxsize=1)
def runtime_source():
    """The runtime files as one source: ``runtime.py`` without its imports from
    ``derive``, then the other files without their imports."""
    first, *others = (path.read_text(encoding="utf-8") for path in RUNTIME_FILES)
    text = _without_own_imports(first)
    for other in others:
        imports = pieces(other)[IMPORTS].text
        text += "\n\n" + other.split(imports, 1)[1]
    return text


def _without_own_imports(source):
    """``source`` without its imports from ``derive`` (one line, or parenthesised)."""
    kept, inside = [], False
    for line in source.split("\n"):
        if line.startswith("from derive."):
            inside = line.endswith("(")
        elif inside:
            inside = line != ")"
        else:
            kept.append(line)
    return "\n".join(kept)


def pasted(source, names):
    """The pieces ``names`` of the Python ``source``, in the order given, laid out as
    PEP 8 lays out top-level code: two blank lines before and after a function or
    class, none between other statements. A name that is not a piece of ``source``
    raises LookupError."""
    available = pieces(source)
    missing = [name for name in names if name not in available]
    if missing:
        raise LookupError(f"no top-level definition named {', '.join(missing)} to paste; "
                          f"the pieces are {', '.join(available)}")
    chosen = [available[name] for name in names]
    text = chosen[0].text if chosen else ""
    for before, after in itertools.pairwise(chosen):
        text += ("\n\n\n" if before.definition or after.definition else "\n") + after.text
    return text


@functools.lru_cache(maxsize=4)
def pieces(source):
    """``{name: Piece}`` for the top-level code of ``source``, in source order.

    The imports at the top (after the docstring) are the piece ``imports``. Every other
    piece starts at a function, a class (decorators included) or an assignment to one
    name, and runs up to the next: the statements in between, such as a constant's
    docstring, belong to the piece before them. Comments between pieces belong to none.
    Lines end in a line feed, as in a checkout of this repository.
    """
    lines = source.split("\n")
    tree = ast.parse(source)
    body = tree.body[1:] if ast.get_docstring(tree, clean=False) is not None else tree.body
    spans = {}  # name: [first line, last line, is a definition], 1-based and inclusive
    current = None  # the piece being read
    for node in body:
        name = IMPORTS if isinstance(node, (ast.Import, ast.ImportFrom)) else _defined_name(node)
        if name == IMPORTS and current not in (None, IMPORTS):
            raise ValueError(f"line {node.lineno}: imports must come before every definition")
        if name is None or name == IMPORTS == current:  # more of the current piece
            if current is None:
                raise ValueError(f"line {node.lineno}: a statement before any definition")
            spans[current][1] = node.end_lineno
            continue
        if name in spans:
            raise ValueError(f"line {node.lineno}: {name} is defined twice")
        decorators = getattr(node, "decorator_list", [])
        first = min([node.lineno, *(decorator.lineno for decorator in decorators)])
        spans[name] = [first, node.end_lineno, isinstance(node, _DEFINITIONS)]
        current = name
    return {name: Piece("\n".join(lines[first - 1:last]), definition)
            for name, (first, last, definition) in spans.items()}


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _defined_name(node):
    """The name a function, class or assignment to one name defines; else None."""
    if isinstance(node, _DEFINITIONS):
        return node.name
    if isinstance(node, ast.AnnAssign):
        targets = [node.target]
    else:
        targets = node.targets if isinstance(node, ast.Assign) else []
    if len(targets) == 1 and isinstance(targets[0], ast.Name):
        return targets[0].id
    return None
