"""From verified derivations to files: what ``derive build`` writes and checks.

``artefacts`` turns the derivations into named texts (nothing touches the disk);
``write`` puts them in a folder atomically (a temporary file in the same folder, then
``os.replace``), so a failed build never leaves a half-written file; ``stale`` compares
a folder with what would be written and returns unified diffs.
"""

import difflib
import functools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from derive.codegen.context import TEMPLATE as CODE_TEMPLATE
from derive.codegen.context import module_context
from derive.sheet.figure import load_module, plot, saturation_data
from derive.engine.links import canonical_links
from derive.engine.registry import ACTIVATIONS, LOSSES, default_losses
from derive.render import render
from derive.printing.record import as_json
from derive.sheet.context import render_sheet, sheet_context, shows_saturation

DEFAULT_STEM = "logistic_regression"
SHEET_FILES = {"solutions": "{stem}.tex", "problems": "{stem}_problems.tex"}
"""Sheet file names per variant, for a model whose files are named ``stem``."""


def stem(model):
    """The base of the file names for ``model``: the note's own choice (the sigmoid with
    its default losses) is ``logistic_regression``; any other is named after the choice,
    e.g. ``tanh_se`` or ``exp_se_poisson``."""
    act = model.activation
    names = tuple(loss.name for loss in model.losses)
    if act.name == "sigmoid" and names == default_losses(act):
        return DEFAULT_STEM
    return "_".join((act.name, *names))


def file_names(model):
    """What ``derive build`` writes for ``model``: record, module, and the two sheets."""
    base = stem(model)
    record = "derivations.json" if base == DEFAULT_STEM else f"{base}_derivations.json"
    sheets = {variant: name.format(stem=base) for variant, name in SHEET_FILES.items()}
    return {"record": record, "code": f"{base}.py", **sheets}


@dataclass(frozen=True)
class Artefact:
    """One output file: its name inside the output folder and its full text."""

    name: str
    text: str


def artefacts(derivations, model, info=None):
    """Every text file the build produces for these derivations, in a fixed order, and
    the ``SheetExtras`` the sheets were made with (the figure is drawn from them).

    The PDFs and the figure's PNG are build products compiled from these (see
    ``derive.sheet.pdf``), not compared by ``--check``.
    """
    names = file_names(model)
    module = python_module(derivations, model)
    extras = sheet_extras(derivations, model, module)
    files = [
        Artefact(names["record"], as_json(derivations)),
        Artefact(names["code"], module),
        *(Artefact(names[variant], sheet_source(derivations, model, info, variant, extras))
          for variant in SHEET_FILES),
    ]
    return files, extras


@dataclass(frozen=True)
class SheetExtras:
    """What a sheet shows beyond its own derivations: the canonical-link table, and for
    the note's comparison the saturation figure's data and file name (else None)."""

    links: list
    saturation: object = None
    figure: str | None = None


def sheet_extras(derivations, model, module=None):
    """The canonical-link table and, for the note's model, the figure's data (computed
    by running the generated module ``module``)."""
    links = _links(tuple(ACTIVATIONS.values()), tuple(LOSSES.values()))
    if not shows_saturation(model):
        return SheetExtras(links)
    module = module or python_module(derivations, model)
    return SheetExtras(links, _saturation(module), f"{stem(model)}_saturation.png")


@functools.lru_cache(maxsize=4)
def _links(activations, losses):
    """The table for this registry content, computed once per content."""
    return canonical_links(activations, losses)


@functools.lru_cache(maxsize=4)
def _saturation(module):
    return saturation_data(load_module(module))


def sheet_source(derivations, model, info, variant, extras=None):
    """The LaTeX source of one sheet variant."""
    extras = extras or sheet_extras(derivations, model)
    return render_sheet(sheet_context(derivations, model, info, variant, extras))


def draw_figure(extras, folder):
    """Write the saturation figure into ``folder``; its path, or None when there is no
    figure for this sheet or matplotlib is not installed."""
    if extras.saturation is None:
        return None
    path = Path(folder) / extras.figure
    path.parent.mkdir(parents=True, exist_ok=True)
    return path if plot(extras.saturation, path) else None


def python_module(derivations, model):
    """The generated NumPy module's source."""
    context = module_context(derivations, model)
    context["sheet"] = file_names(model)["solutions"].removesuffix(".tex") + ".pdf"
    return render(CODE_TEMPLATE, context, "#")


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
