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
import sys
from pathlib import Path

from derive import __version__
from derive.cli import checking, common, produce, variants


def main(argv=None):
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help(sys.stderr)
        return common.USAGE
    try:
        return arguments.run(arguments)
    except common.Exit as stop:
        return stop.status


def _parser():
    parser = argparse.ArgumentParser(
        prog="derive",
        description="Derive the gradients of a neuron symbolically, prove every step, "
        "and emit a solution sheet (LaTeX/PDF) and NumPy gradient code from the same "
        "verified expressions.",
        epilog="Run 'derive COMMAND --help' for the options of one command. " + common.EXIT_STATUS,
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
    common.choice_options(verify)
    verify.set_defaults(run=produce.verify)

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
        epilog=common.EXIT_STATUS,
    )
    build.add_argument("--out", metavar="DIR", type=Path, default=common.DEFAULT_OUT,
                       help=f"output folder (default: {common.DEFAULT_OUT}/)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 with a diff if DIR is stale")
    build.add_argument("--no-pdf", action="store_true", help="do not compile the PDFs")
    build.add_argument("--target", metavar="NAME[,NAME]", type=_targets, default=("numpy",),
                       help="the code targets whose modules to write: numpy (the default), "
                       "numba (CHOICE_numba.py, compiled; needs numba to run), or both as "
                       "numpy,numba")
    common.choice_options(build, golden=True)
    common.sheet_options(build)
    build.set_defaults(run=produce.build)

    sheet = commands.add_parser(
        "sheet",
        help="write one sheet: the solutions or the problems",
        description="Write the solution sheet (every step with its rule) or the problem "
        "sheet (each result as a task, same equation numbers). PATH ending in .pdf "
        "writes only the PDF; otherwise the .tex is written and, unless --no-pdf, "
        "compiled to a PDF next to it.",
        epilog=common.EXIT_STATUS,
    )
    sheet.add_argument("--variant", choices=("solutions", "problems"), default="solutions",
                       help="which sheet (default: solutions)")
    sheet.add_argument("-o", "--output", metavar="PATH", type=Path, default=None,
                       help="where to write it (default: generated/logistic_regression.tex, "
                       "or generated/logistic_regression_problems.tex; for another "
                       "choice generated/CHOICE.tex, e.g. generated/tanh_se.tex)")
    sheet.add_argument("--no-pdf", action="store_true", help="do not compile a PDF")
    common.choice_options(sheet)
    common.sheet_options(sheet)
    sheet.set_defaults(run=produce.sheet)

    check = commands.add_parser(
        "check",
        help="check a derivation written by hand and find the first false step",
        description="Read a derivation written in LaTeX (an align/equation block, or "
        "lines each starting with '=') or a whole document (a .tex file, Markdown, a "
        "Jupyter notebook's markdown cells: every display, and inline math that holds "
        "an equality) and check every consecutive equality with the "
        "engine, in the chosen neuron's model (by default the note's: a = σ(z), "
        "z = Σ w_j x_j + b, a' = σ'(z)), with L the chosen loss (L_se, L_ce, … may also "
        "be named; J, E, C, \\ell and \\mathcal{L} too, unless the document defines "
        "them). Published notation (\\hat{y}, h_\\theta(x), \\theta^T x, σ(x)) is "
        "read by role, and the report says how. Each step is reported as "
        "proved, checked numerically, or false with a counterexample point and, where "
        "it matches one, the known mistake. Exit 0 when "
        "every step holds, 1 when one does not, 2 when the input (or an equation of a "
        "document) cannot be read or the activation or loss is not a valid choice.",
    )
    check.add_argument("file", metavar="FILE", help="the derivation; '-' reads standard input")
    check.add_argument("--loss", metavar="NAME", default=None,
                       help="what a plain L means (default: ce, the cross-entropy, where "
                       "the activation allows it, else its first valid loss); every valid "
                       "loss may also be named as L_{NAME}")
    check.add_argument("--activation", metavar="NAME", default="sigmoid",
                       help="the activation a = act(z) (default: sigmoid); its LaTeX "
                       "command (\\sigma, \\tanh) with a prime is its derivative")
    check.add_argument("--let", metavar="WRITTEN=MEANS", action="append", default=None,
                       help="declare a notation, e.g. --let 'J=L' --let '\\hat{y}=a' "
                       "(repeatable; also a let table in [tool.derive])")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(run=checking.check)

    code = commands.add_parser(
        "code",
        help="write only the generated NumPy module",
        description="Verify every derivation and write the NumPy module with the loss and "
        "gradient functions (the activation and its derivative, predict, loss_*, grad_*, "
        "value_and_grad_*).",
        epilog=common.EXIT_STATUS,
    )
    code.add_argument("-o", "--output", metavar="PATH", type=Path, default=None,
                      help="where to write it; '-' for standard output (default: "
                      "generated/logistic_regression.py, or generated/CHOICE.py for "
                      "another choice, e.g. generated/tanh_se.py)")
    code.add_argument("--target", choices=("numpy", "numba"), default="numpy",
                      help="numpy (the default) or numba: the same functions compiled into "
                      "one pass over X (generated/CHOICE_numba.py; needs numba to run)")
    common.choice_options(code)
    code.set_defaults(run=produce.code)

    listing = commands.add_parser(
        "list",
        help="show the activations, the losses and which pairs are valid",
        description="Show the registry: each activation with the interval of its values, "
        "each loss with the outputs it needs and the labels it takes, and every valid "
        "(activation, loss) pair with the file names 'derive build' gives it.",
    )
    listing.set_defaults(run=produce.list)
    variants.add_parser(commands)
    return parser


def _targets(names):
    """``--target numpy,numba`` as a tuple of known targets, in the order given."""
    targets = tuple(dict.fromkeys(name.strip() for name in names.split(",")))
    unknown = [name for name in targets if name not in ("numpy", "numba")]
    if unknown or not targets:
        raise argparse.ArgumentTypeError(f"unknown target {', '.join(unknown) or names!r}; "
                                         "use numpy, numba or numpy,numba")
    return targets
