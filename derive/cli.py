"""The ``derive`` command line.

Exit status: 0 when everything holds, 1 when a check failed (a step does not hold,
``--check`` found stale files, LaTeX reported an error), 2 for a usage error (a bad
option, an unreadable configuration file, an output path through a file), 3 when the
operating system refused to write a file (permission denied, no space left, a
read-only file system). Each is reported as one line on standard error, without a
traceback. A file is never left half-written, nor a temporary left behind: each file
is either as it was or entirely new, and a build changes no text file unless it can
write them all (see ``derive.build``).
"""

import argparse
import contextlib
import sys
from pathlib import Path

from derive import __version__

OK, FAILED, USAGE, WRITE_FAILED = 0, 1, 2, 3
EXIT_STATUS = (
    "Exit status: 0 when everything holds, 1 when a check failed, 2 for a usage error, "
    "3 when a file could not be written (permission denied, no space left); no file is "
    "then left half-written."
)
DEFAULT_OUT = Path("generated")


class _Exit(Exception):
    """Stop the command with ``status``; the message has been printed."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def main(argv=None):
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help(sys.stderr)
        return USAGE
    try:
        return arguments.run(arguments)
    except _Exit as stop:
        return stop.status


def _parser():
    parser = argparse.ArgumentParser(
        prog="derive",
        description="Derive the gradients of a neuron symbolically, prove every step, "
        "and emit a solution sheet (LaTeX/PDF) and NumPy gradient code from the same "
        "verified expressions.",
        epilog="Run 'derive COMMAND --help' for the options of one command. " + EXIT_STATUS,
    )
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    verify = commands.add_parser(
        "verify",
        help="prove every derivation step and list how each was verified",
        description="Build every derivation for the chosen neuron (by default the note's: "
        "sigmoid with the squared-error and cross-entropy losses), verify each step, and "
        "print the chains with the rule and verification method of every step, then a "
        "summary line.",
    )
    verify.add_argument("--json", action="store_true",
                        help="print the steps as JSON (sympy srepr and LaTeX for both sides)")
    _choice_options(verify)
    verify.set_defaults(run=_verify)

    build = commands.add_parser(
        "build",
        help="verify everything and write the sheets, the code and the record",
        description="Verify every derivation, then write into DIR: derivations.json, "
        "logistic_regression.py, logistic_regression.tex (solutions) and "
        "logistic_regression_problems.tex, and their PDFs when a LaTeX engine "
        "(latexmk or pdflatex) is installed, and the saturation figure they include; "
        "then the same texts for every valid single (activation, loss) pair under "
        "DIR/pairs/ (sigmoid_se.py, sigmoid_se.tex, …; no PDFs). With --activation or "
        "--loss only that choice is built, its names starting with the choice "
        "(tanh_se.py, tanh_se.tex, tanh_se_problems.tex, tanh_se_derivations.json). With "
        "--check nothing is written: the command fails with a unified diff when a text "
        "file in DIR differs from what would be generated (PDFs and the figure are build "
        "products and are not compared).",
        epilog=EXIT_STATUS,
    )
    build.add_argument("--out", metavar="DIR", type=Path, default=DEFAULT_OUT,
                       help=f"output folder (default: {DEFAULT_OUT}/)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 with a diff if DIR is stale")
    build.add_argument("--no-pdf", action="store_true", help="do not compile the PDFs")
    _choice_options(build, golden=True)
    _sheet_options(build)
    build.set_defaults(run=_build)

    sheet = commands.add_parser(
        "sheet",
        help="write one sheet: the solutions or the problems",
        description="Write the solution sheet (every step with its rule) or the problem "
        "sheet (each result as a task, same equation numbers). PATH ending in .pdf "
        "writes only the PDF; otherwise the .tex is written and, unless --no-pdf, "
        "compiled to a PDF next to it.",
        epilog=EXIT_STATUS,
    )
    sheet.add_argument("--variant", choices=("solutions", "problems"), default="solutions",
                       help="which sheet (default: solutions)")
    sheet.add_argument("-o", "--output", metavar="PATH", type=Path, default=None,
                       help="where to write it (default: generated/logistic_regression.tex, "
                       "or generated/logistic_regression_problems.tex; for another "
                       "choice generated/CHOICE.tex, e.g. generated/tanh_se.tex)")
    sheet.add_argument("--no-pdf", action="store_true", help="do not compile a PDF")
    _choice_options(sheet)
    _sheet_options(sheet)
    sheet.set_defaults(run=_sheet)

    check = commands.add_parser(
        "check",
        help="check a derivation written by hand and find the first false step",
        description="Read a derivation written in LaTeX (an align/equation block, or "
        "lines each starting with '=') and check every consecutive equality with the "
        "engine, in the chosen neuron's model (by default the note's: a = σ(z), "
        "z = Σ w_j x_j + b, a' = σ'(z)), with L the chosen loss (L_se, L_ce, … may also "
        "be named). Each step is reported as "
        "proved, checked numerically, or false with a counterexample point. Exit 0 when "
        "every step holds, 1 when one does not, 2 when the input cannot be read or the "
        "activation or loss is not a valid choice.",
    )
    check.add_argument("file", metavar="FILE", help="the derivation; '-' reads standard input")
    check.add_argument("--loss", metavar="NAME", default=None,
                       help="what a plain L means (default: ce, the cross-entropy, where "
                       "the activation allows it, else its first valid loss); every valid "
                       "loss may also be named as L_{NAME}")
    check.add_argument("--activation", metavar="NAME", default="sigmoid",
                       help="the activation a = act(z) (default: sigmoid); its LaTeX "
                       "command (\\sigma, \\tanh) with a prime is its derivative")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(run=_check)

    code = commands.add_parser(
        "code",
        help="write only the generated NumPy module",
        description="Verify every derivation and write the NumPy module with the loss and "
        "gradient functions (the activation and its derivative, predict, loss_*, grad_*, "
        "value_and_grad_*).",
        epilog=EXIT_STATUS,
    )
    code.add_argument("-o", "--output", metavar="PATH", type=Path, default=None,
                      help="where to write it; '-' for standard output (default: "
                      "generated/logistic_regression.py, or generated/CHOICE.py for "
                      "another choice, e.g. generated/tanh_se.py)")
    _choice_options(code)
    code.set_defaults(run=_code)

    listing = commands.add_parser(
        "list",
        help="show the activations, the losses and which pairs are valid",
        description="Show the registry: each activation with the interval of its values, "
        "each loss with the outputs it needs and the labels it takes, and every valid "
        "(activation, loss) pair with the file names 'derive build' gives it.",
    )
    listing.set_defaults(run=_list)
    return parser


def _choice_options(parser, golden=False):
    default = ("Default: the note's logistic regression (sigmoid; losses se and ce)"
               + (" and, under DIR/pairs/, every valid single pair (the golden set "
                  "that 'derive build --check' compares); with either option, only "
                  "that choice" if golden else "") + ". 'derive list' shows every "
               "activation, loss and valid pair.")
    group = parser.add_argument_group("which neuron", default)
    group.add_argument("--activation", metavar="NAME", default=None,
                       help="the activation a = act(z) (default: sigmoid)")
    group.add_argument("--loss", metavar="NAME[,NAME]", default=None,
                       type=lambda names: tuple(names.split(",")),
                       help="the losses, comma-separated (default: the activation's "
                       "usual ones: se,ce for the sigmoid, every valid loss otherwise)")


def _sheet_options(parser):
    group = parser.add_argument_group(
        "sheet title block",
        "Options override --config FILE; without --config, derive.toml in the working "
        "folder is read, else the [tool.derive] table of its pyproject.toml. Keys: "
        "title, author, course, date. There is no date unless one is given.",
    )
    group.add_argument("--config", metavar="FILE", type=Path, help="TOML file with the keys")
    for key in ("title", "author", "course", "date"):
        group.add_argument(f"--{key}", metavar="TEXT", help=f"the sheet's {key}")


def _fail(command, message, status=FAILED):
    print(f"derive {command}: {message}", file=sys.stderr)
    raise _Exit(status)


@contextlib.contextmanager
def _writing(command):
    """Report what stops a command that writes files as one line: a failed stage
    (exit 1), or the OS refusing to write (exit 3; the message names file and reason)."""
    from derive.build import BuildFailed
    from derive.files import WriteFailed

    try:
        yield
    except BuildFailed as error:
        _fail(command, error)
    except WriteFailed as error:
        _fail(command, error, WRITE_FAILED)


def _refuse_file_in_the_way(command, given, folder):
    """A usage error (exit 2) when ``folder`` or one above it is an existing file;
    ``given`` is the option as typed, for the message."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                _fail(command, f"{given}: {candidate} exists and is not a folder", USAGE)
            return


def _refuse_folder_as_output(command, output):
    """``-o PATH`` must name a file whose folder can exist (exit 2 otherwise)."""
    if output is None or str(output) == "-":
        return
    if output.is_dir():
        _fail(command, f"-o {output} is a folder; give a file path", USAGE)
    _refuse_file_in_the_way(command, f"-o {output}", output.parent)


def _warner(command):
    return lambda message: print(f"derive {command}: {message}", file=sys.stderr)


def _model(command, activation, losses):
    """The chosen neuron; an invalid choice is a usage error (exit 2)."""
    from derive.engine.choice import InvalidChoice, choose
    from derive.engine.model import Model

    try:
        return Model(*choose(activation or "sigmoid", losses))
    except InvalidChoice as error:
        _fail(command, error, USAGE)


def _verified(command, model):
    """The Book of ``model``'s derivations, every step verified; a StepError is a
    failure (exit 1)."""
    from derive.engine.derivations import derive_all
    from derive.engine.steps import StepError

    try:
        return derive_all(model)
    except StepError as error:
        _fail(command, error)


def _info(command, arguments):
    from derive.config import ConfigError, load_info

    overrides = {key: getattr(arguments, key) for key in ("title", "author", "course", "date")}
    try:
        return load_info(arguments.config, overrides)
    except ConfigError as error:
        _fail(command, error, USAGE)


def _verify(arguments):
    from derive.printing.record import as_json, as_text

    book = _verified("verify", _model("verify", arguments.activation, arguments.loss))
    sys.stdout.write(as_json(book) if arguments.json else as_text(book))
    return OK


def _check(arguments):
    from derive.check.reader import LatexInputError
    from derive.check.report import as_json, as_text, check_chains, holds, read
    from derive.engine.choice import InvalidChoice, choose
    from derive.engine.model import Model
    from derive.engine.registry import valid_losses

    name = "<stdin>" if arguments.file == "-" else arguments.file
    try:
        act, _ = choose(arguments.activation)
        valid = valid_losses(act)
        plain = arguments.loss or ("ce" if "ce" in valid else valid[0])
        choose(act.name, [plain])  # only to refuse a plain L the activation cannot feed
        model = Model(*choose(act.name, valid))
    except InvalidChoice as error:
        _fail("check", error, USAGE)
    source = _read_text("check", arguments.file)
    try:
        chains = read(source, model, plain)
    except LatexInputError as error:
        _fail("check", f"{name}: {error}", USAGE)
    results = check_chains(chains, model)
    sys.stdout.write(as_json(results, name) if arguments.json else as_text(results))
    return OK if holds(results) else FAILED


def _read_text(command, path):
    from derive.check.reader import MAX_CHARACTERS

    try:
        if path == "-":
            return sys.stdin.read(MAX_CHARACTERS + 1)
        with open(path, encoding="utf-8") as stream:
            return stream.read(MAX_CHARACTERS + 1)
    except (OSError, UnicodeDecodeError) as error:
        _fail(command, f"cannot read {path}: {error}", USAGE)


def _code(arguments):
    from derive.build import file_names, python_module
    from derive.files import write_atomically

    model = _model("code", arguments.activation, arguments.loss)
    _refuse_folder_as_output("code", arguments.output)
    source = python_module(_verified("code", model))
    output = arguments.output or DEFAULT_OUT / file_names(model)["code"]
    if str(output) == "-":
        sys.stdout.write(source)
        return OK
    with _writing("code"):
        print(f"wrote {write_atomically(output, source)}")
    return OK


def _sheet(arguments):
    from derive.build import file_names, write_sheet

    info = _info("sheet", arguments)
    _refuse_folder_as_output("sheet", arguments.output)
    model = _model("sheet", arguments.activation, arguments.loss)
    book = _verified("sheet", model)
    output = arguments.output or DEFAULT_OUT / file_names(model)[arguments.variant]
    with _writing("sheet"):
        write_sheet(book, info, arguments.variant, output, pdf=not arguments.no_pdf,
                    warn=_warner("sheet"))
    return OK


def _build(arguments):
    from derive.build import artefacts, build, golden, stale
    from derive.engine.steps import StepError
    from derive.printing.record import summary_line

    info = _info("build", arguments)
    out = arguments.out
    _refuse_file_in_the_way("build", f"--out {out}", out)
    chosen = arguments.activation is not None or arguments.loss is not None
    model = _model("build", arguments.activation, arguments.loss) if chosen else None
    try:
        built = [artefacts(_verified("build", model), info)] if chosen else golden(info)
    except StepError as error:
        _fail("build", error)
    summary = summary_line(built[0].book)
    if arguments.check:
        diffs = stale(out, built)
        if diffs:
            sys.stdout.writelines(diffs)
            _fail("build --check", f"{out}/ is stale; run 'derive build --out {out}' "
                  "and commit the result")
        print(f"{out}/ is up to date ({summary}; {len(built)} models)")
        return OK
    with _writing("build"):
        build(out, built, pdf=not arguments.no_pdf, warn=_warner("build"))
    print(summary)
    return OK


def _list(arguments):
    from derive.build import stem
    from derive.engine.choice import choose
    from derive.engine.model import Model
    from derive.engine.registry import ACTIVATIONS, LOSSES, default_losses, valid_losses
    from derive.engine.text import text

    print("Activations, a = act(z):")
    for name, act in ACTIVATIONS.items():
        print(f"  {name:<9} {act.title}; a in {text(act.output_range)}")
    print("\nLosses, L(a, y):")
    for name, entry in LOSSES.items():
        print(f"  {name:<9} {entry.title}; needs a in {text(entry.requires)}, "
              f"labels y in {text(entry.labels)}")
    print("\nValid pairs (--activation NAME --loss NAME[,NAME]) and their file names:")
    for name, act in ACTIVATIONS.items():
        pairs = ", ".join(f"{loss_name} ({stem(Model(*choose(name, [loss_name])))})"
                          for loss_name in valid_losses(act))
        print(f"  {name:<9} {pairs}")
        print(f"  {'':<9} default --loss {','.join(default_losses(act))} "
              f"({stem(Model(*choose(name)))})")
    return OK
