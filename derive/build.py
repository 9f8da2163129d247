"""From verified derivations to files: what ``derive build`` writes and checks.

``artefacts`` turns the derivations into named texts (nothing touches the disk);
``write`` puts them in a folder atomically (a temporary file in the same folder, then
``os.replace``), so a failed build never leaves a half-written file; ``stale`` compares
a folder with what would be written and returns unified diffs.
"""

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from derive.codegen import TEMPLATE as CODE_TEMPLATE
from derive.codegen import module_context
from derive.render import render
from derive.report import as_json
from derive.sheet import render_sheet, sheet_context

CODE_FILE = "logistic_regression.py"
SHEET_FILES = {"solutions": "logistic_regression.tex",
               "problems": "logistic_regression_problems.tex"}


@dataclass(frozen=True)
class Artefact:
    """One output file: its name inside the output folder and its full text."""

    name: str
    text: str


def artefacts(derivations, model, info=None):
    """Every text file the build produces for these derivations, in a fixed order.

    The PDFs are compiled from the two sheets' sources (see ``derive.pdf``); they are
    build products, not compared by ``--check``.
    """
    return [
        Artefact("derivations.json", as_json(derivations)),
        Artefact(CODE_FILE, python_module(derivations, model)),
        *(Artefact(name, sheet_source(derivations, model, info, variant))
          for variant, name in SHEET_FILES.items()),
    ]


def sheet_source(derivations, model, info, variant):
    """The LaTeX source of one sheet variant."""
    return render_sheet(sheet_context(derivations, model, info, variant))


def python_module(derivations, model):
    """The generated NumPy module's source."""
    return render(CODE_TEMPLATE, module_context(derivations, model), "#")


def write(folder, files):
    """Write each artefact into ``folder`` atomically; return the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_atomically(folder / artefact.name, artefact.text) for artefact in files]


def write_atomically(path, text):
    """Replace ``path`` with ``text`` in one step; nothing partial is ever visible."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def stale(folder, files):
    """Unified diffs between ``folder`` and the artefacts; empty when up to date."""
    diffs = []
    for artefact in files:
        path = Path(folder) / artefact.name
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != artefact.text:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                artefact.text.splitlines(keepends=True),
                fromfile=f"{path} (on disk)" if path.exists() else f"{path} (missing)",
                tofile=f"{path} (generated now)",
            )
            diffs.append("".join(diff))
    return diffs
