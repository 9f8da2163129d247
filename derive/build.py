"""What a build writes, and in which order: the one place that orchestrates the stages.

For a chosen neuron the build verifies every derivation (``derive_all``), renders the
record, the generated module and both sheets as texts (``artefacts``: nothing touches
the disk), then ``build`` writes them into a folder, draws the saturation figure and
compiles the PDFs. Without a choice the build is the project's golden set: the note's
model at the top of the folder and every valid (activation, loss) pair under
``pairs/``. ``--check`` compares the texts with a folder and returns unified diffs
instead of writing.

The sheet never runs generated code: the build loads the module it rendered, computes
the figure's data with it and hands the data to the sheet (``SheetExtras``).

Every file (texts, PNG, PDFs) is written whole by ``derive.files``: via its own
temporary beside it, renamed over it, with the mode ``open(path, "w")`` would give; a
failure removes the temporaries and raises ``WriteFailed`` naming file and reason.
"""

import difflib
import functools
import types
from dataclasses import dataclass
from pathlib import Path

from derive.codegen.context import TEMPLATE as CODE_TEMPLATE
from derive.codegen.context import TEMPLATE_FUNCTIONS, module_context
from derive.codegen.numba_context import TEMPLATE as NUMBA_TEMPLATE
from derive.codegen.numba_context import TEMPLATE_FUNCTIONS as NUMBA_FUNCTIONS
from derive.codegen.numba_context import numba_context
from derive.codegen.softmax_context import TEMPLATE as SOFTMAX_TEMPLATE
from derive.codegen.softmax_context import TEMPLATE_FUNCTIONS as SOFTMAX_FUNCTIONS
from derive.codegen.softmax_context import softmax_context
from derive.engine.derivations import derive_all
from derive.engine.links import canonical_links
from derive.engine.model import Model
from derive.engine.registry import ACTIVATIONS, LOSSES, default_losses, valid_pairs
from derive.engine.softmax import (
    VECTOR_ACTIVATIONS,
    VECTOR_LOSSES,
    SoftmaxModel,
    vector_pairs,
)
from derive.engine.softmax_derivations import derive_softmax, softmax_links
from derive.files import (
    Artefact,
    make_folder,
    publish,
    write,
    write_atomically,
)
from derive.printing.record import as_json
from derive.render import render
from derive.sheet.context import (
    SheetExtras,
    render_sheet,
    sheet_context,
    shows_saturation,
)
from derive.sheet.figure import plot, saturation_data
from derive.sheet.pdf import INSTALL_HINT, LatexError, compile_pdf, engine
from derive.sheet.softmax_context import render_softmax_sheet, softmax_sheet_context

DEFAULT_STEM = "logistic_regression"
PAIRS_FOLDER = "pairs"
"""Where the golden build puts every single (activation, loss) pair."""
SHEET_FILES = {"solutions": "{stem}.tex", "problems": "{stem}_problems.tex"}
"""Sheet file names per variant, for a model whose files are named ``stem``."""
TARGETS = {"numpy": (CODE_TEMPLATE, module_context, TEMPLATE_FUNCTIONS),
           "numba": (NUMBA_TEMPLATE, numba_context, NUMBA_FUNCTIONS)}
"""Code targets: template, context and template functions. A build writes the NumPy
module unless told otherwise (``targets``); the numba module is ``STEM_numba.py``."""


class BuildFailed(Exception):
    """A stage failed (LaTeX reported an error, a required engine is missing); the
    message says which and how to fix it."""


def stem(model):
    """The base of the file names for ``model``: the note's own choice (the sigmoid with
    its default losses) is ``logistic_regression``; any other is named after the choice,
    e.g. ``tanh_se`` or ``exp_se_poisson``; a penalty adds its name (``tanh_se_l2``)."""
    act = model.activation
    names = tuple(loss.name for loss in model.losses)
    penalty = () if model.penalty.name == "none" else (model.penalty.name,)
    if act.name == "sigmoid" and names == default_losses(act):
        return "_".join((DEFAULT_STEM, *penalty))
    return "_".join((act.name, *names, *penalty))


def file_names(model):
    """What ``derive build`` writes for ``model``: record, module, and the two sheets."""
    base = stem(model)
    record = "derivations.json" if base == DEFAULT_STEM else f"{base}_derivations.json"
    sheets = {variant: name.format(stem=base) for variant, name in SHEET_FILES.items()}
    return {"record": record, "code": f"{base}.py", "code_numba": f"{base}_numba.py",
            **sheets}


@dataclass(frozen=True)
class Built:
    """The texts of one model's files, what its sheets were made with, and its book."""

    book: object
    files: list
    extras: SheetExtras

    @property
    def sources(self):
        return {artefact.name: artefact.text for artefact in self.files}


def artefacts(book, info=None, folder="", targets=("numpy",)):
    """Every text file the build produces for ``book``'s model, in a fixed order, named
    inside ``folder`` (a path relative to the output folder, "" for its top): the module
    of each code target in ``targets``."""
    names = file_names(book.model)
    module = python_module(book)
    extras = sheet_extras(book, module)
    texts = [
        (names["record"], as_json(book)),
        *((names["code" if target == "numpy" else f"code_{target}"],
           module if target == "numpy" else python_module(book, target))
          for target in targets),
        *((names[variant], sheet_source(book, info, variant, extras))
          for variant in SHEET_FILES),
    ]
    return Built(book, [Artefact(_inside(folder, name), text) for name, text in texts], extras)


def golden(info=None, targets=("numpy",)):
    """The project's golden set: the note's model, then every valid single pair under
    ``pairs/`` (one model each), with the module of each code target in ``targets``."""
    models = [Model(ACTIVATIONS["sigmoid"],
                    tuple(LOSSES[name] for name in default_losses(ACTIVATIONS["sigmoid"])))]
    pairs = [Model(ACTIVATIONS[act], (LOSSES[loss],)) for act, loss in valid_pairs()]
    many = [SoftmaxModel(VECTOR_ACTIVATIONS[act], (VECTOR_LOSSES[loss],))
            for act, loss in vector_pairs()]
    return [artefacts(derive_all(model), info, targets=targets) for model in models] + [
        artefacts(derive_all(model), info, PAIRS_FOLDER, targets) for model in pairs] + [
        artefacts(derive_softmax(model), info, PAIRS_FOLDER, targets) for model in many]


def python_module(book, target="numpy"):
    """The source of the generated module for ``target`` (a key of ``TARGETS``)."""
    if isinstance(book.model, SoftmaxModel):
        if target not in TARGETS:
            raise BuildFailed(f"no {target} target; use one of {', '.join(TARGETS)}")
        context = softmax_context(book, target)
        context["sheet"] = file_names(book.model)["solutions"].removesuffix(".tex") + ".pdf"
        return render(SOFTMAX_TEMPLATE, context, "#", SOFTMAX_FUNCTIONS)
    template, make_context, functions = TARGETS[target]
    context = make_context(book)
    context["sheet"] = file_names(book.model)["solutions"].removesuffix(".tex") + ".pdf"
    return render(template, context, "#", functions)


def sheet_extras(book, module=None):
    """The canonical-link table and, for the note's model, the figure's data (computed
    by running the generated module, ``module`` or rendered now)."""
    links = _links(tuple(ACTIVATIONS.values()), tuple(LOSSES.values()))
    if isinstance(book.model, SoftmaxModel):
        return SheetExtras(links + tuple(_softmax_links()))
    if not shows_saturation(book.model):
        return SheetExtras(links)
    module = module or python_module(book)
    return SheetExtras(links, _saturation(module), f"{stem(book.model)}_saturation.png")


@functools.lru_cache(maxsize=4)
def _links(activations, losses):
    """The table for this registry content, computed once per content."""
    return tuple(canonical_links(activations, losses))


@functools.cache
def _softmax_links():
    return tuple(softmax_links())


@functools.lru_cache(maxsize=4)
def _saturation(module):
    return saturation_data(load_module(module))


def load_module(source, name="derive_generated"):
    """Generated source executed as a fresh module (it is our own text, just rendered)."""
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102
    return module


def sheet_source(book, info, variant, extras=None):
    """The LaTeX source of one sheet variant."""
    extras = extras or sheet_extras(book)
    if isinstance(book.model, SoftmaxModel):
        binary = [link for link in extras.links if not isinstance(link, tuple)]
        rows = [link for link in extras.links if isinstance(link, tuple)]
        return render_softmax_sheet(softmax_sheet_context(book, info, variant, binary, rows))
    return render_sheet(sheet_context(book, info, variant, extras))


# --- writing ---------------------------------------------------------------------------


def build(out, built, *, pdf=True, say=print, warn=print):
    """Write every model's files into ``out``, then the figure, then the PDFs of the
    top-level sheets. ``say`` reports each file written; ``warn`` what was skipped."""
    out = Path(out)
    for path in write(out, [artefact for model_files in built for artefact in model_files.files]):
        say(f"wrote {path}")
    top = built[0]
    figures = draw_figure(top.extras, out, say, warn)
    if pdf:
        sources = top.sources
        for variant in SHEET_FILES:
            name = file_names(top.book.model)[variant]
            target = (out / name).with_suffix(".pdf")
            if not compile_sheet(sources[name], target, figures, say=say, warn=warn):
                break


def write_sheet(book, info, variant, output, *, pdf=True, say=print, warn=print):
    """One sheet: its figure (for the solutions) beside ``output``, then the .tex and,
    unless ``pdf`` is False, its PDF; an ``output`` ending in .pdf writes only the PDF
    (and fails without a LaTeX engine)."""
    output = Path(output)
    extras = sheet_extras(book)
    source = sheet_source(book, info, variant, extras)
    figures = draw_figure(extras, output.parent, say, warn) if variant == "solutions" else []
    if output.suffix == ".pdf":
        compile_sheet(source, output, figures, required=True, say=say, warn=warn)
        return
    say(f"wrote {write_atomically(output, source)}")
    if pdf:
        compile_sheet(source, output.with_suffix(".pdf"), figures, say=say, warn=warn)


def draw_figure(extras, folder, say=print, warn=print):
    """Draw the saturation figure into ``folder`` when the sheet has one; the files to
    give LaTeX (none when matplotlib is missing: the sheet then says it was skipped)."""
    if extras.saturation is None:
        return []
    path = Path(folder) / extras.figure
    make_folder(path.parent)
    if publish(path, functools.partial(plot, extras.saturation)) is None:
        warn("matplotlib is not installed, so the saturation figure was skipped (the "
             "sheet says so); pip install matplotlib to draw it")
        return []
    say(f"wrote {path}")
    return [path]


def compile_sheet(source, pdf, figures=(), *, required=False, say=print, warn=print):
    """Compile ``source`` to ``pdf``; True when written. Without a LaTeX engine this
    says how to get one (``warn``), or fails when the PDF was ``required``."""
    if engine() is None:
        if required:
            raise BuildFailed(INSTALL_HINT)
        warn(INSTALL_HINT)
        return False
    make_folder(Path(pdf).parent)
    try:
        publish(pdf, lambda temporary: compile_pdf(source, temporary, resources=figures))
    except LatexError as error:
        raise BuildFailed(str(error)) from None
    say(f"wrote {pdf}")
    return True


def stale(folder, built):
    """Unified diffs between ``folder`` and every model's artefacts, and a line for each
    file in a subfolder the build owns (``pairs/``) that it would not write; empty when
    up to date."""
    artefacts_ = [artefact for model_files in built for artefact in model_files.files]
    diffs = []
    expected = {artefact.name for artefact in artefacts_}
    owned = {Path(name).parent for name in expected} - {Path(".")}
    for subfolder in sorted(owned):
        for path in sorted((Path(folder) / subfolder).glob("*")):
            if path.is_file() and str(subfolder / path.name) not in expected:
                diffs.append(f"{path}: not generated any more; delete it\n")
    for artefact in artefacts_:
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


def _inside(folder, name):
    return f"{folder}/{name}" if folder else name
