"""The ``derive`` command line.

Exit status: 0 when everything holds, 1 when a check failed (a step does not hold, or
``--check`` found stale files), 2 for a usage error.
"""

import argparse
import sys
from pathlib import Path

from derive import __version__

OK, FAILED, USAGE = 0, 1, 2
DEFAULT_OUT = Path("generated")


def main(argv=None):
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help(sys.stderr)
        return USAGE
    return arguments.run(arguments)


def _parser():
    parser = argparse.ArgumentParser(
        prog="derive",
        description="Derive the gradients of a neuron symbolically, prove every step, "
        "and emit the verified results.",
        epilog="Run 'derive COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    verify = commands.add_parser(
        "verify",
        help="prove every derivation step and list how each was verified",
        description="Build every derivation of the note (sigmoid neuron, squared-error and "
        "cross-entropy losses), verify each step, and print the chains with the rule and "
        "verification method of every step, then a summary line.",
    )
    verify.add_argument("--json", action="store_true",
                        help="print the steps as JSON (sympy srepr and LaTeX for both sides)")
    verify.set_defaults(run=_verify)

    build = commands.add_parser(
        "build",
        help="verify everything and write the generated files",
        description="Verify every derivation, then write the generated files into DIR. "
        "With --check nothing is written: the command fails with a unified diff when DIR "
        "differs from what would be generated.",
    )
    build.add_argument("--out", metavar="DIR", type=Path, default=DEFAULT_OUT,
                       help=f"output folder (default: {DEFAULT_OUT}/)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 with a diff if DIR is stale")
    build.set_defaults(run=_build)

    code = commands.add_parser(
        "code",
        help="write only the generated NumPy module",
        description="Verify every derivation and write the NumPy module with the loss and "
        "gradient functions (sigmoid, predict, loss_*, grad_*, value_and_grad_*).",
    )
    code.add_argument("-o", "--output", metavar="PATH", type=Path,
                      default=DEFAULT_OUT / "logistic_regression.py",
                      help="where to write it; '-' for standard output "
                      "(default: %(default)s)")
    code.set_defaults(run=_code)
    return parser


class _Failed(Exception):
    """A check failed; the message has been printed."""


def _verified(command, produce):
    """Derivations (and whatever ``produce`` makes of them), with StepError → exit 1."""
    from derive.derivations import derive_all
    from derive.steps import StepError, default_model

    model = default_model()
    try:
        derivations = derive_all(model)
        return derivations, produce(derivations, model)
    except StepError as error:
        print(f"derive {command}: {error}", file=sys.stderr)
        raise _Failed from None


def _exit_1_on_failure(run):
    def guarded(arguments):
        try:
            return run(arguments)
        except _Failed:
            return FAILED

    return guarded


@_exit_1_on_failure
def _verify(arguments):
    from derive.report import as_json, as_text

    derivations, _ = _verified("verify", lambda derivations, model: None)
    sys.stdout.write(as_json(derivations) if arguments.json else as_text(derivations))
    return OK


@_exit_1_on_failure
def _code(arguments):
    from derive.build import python_module, write_atomically

    _, source = _verified("code", python_module)
    if str(arguments.output) == "-":
        sys.stdout.write(source)
        return OK
    if arguments.output.is_dir():
        print(f"derive code: -o {arguments.output} is a folder; give a file path",
              file=sys.stderr)
        return USAGE
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {write_atomically(arguments.output, source)}")
    return OK


@_exit_1_on_failure
def _build(arguments):
    from derive.build import artefacts, stale, write
    from derive.report import summary_line

    derivations, files = _verified("build", artefacts)
    if arguments.check:
        diffs = stale(arguments.out, files)
        if diffs:
            sys.stdout.writelines(diffs)
            print(f"derive build --check: {arguments.out}/ is stale; "
                  f"run 'derive build --out {arguments.out}' and commit the result",
                  file=sys.stderr)
            return FAILED
        print(f"{arguments.out}/ is up to date ({summary_line(derivations)})")
        return OK
    if arguments.out.exists() and not arguments.out.is_dir():
        print(f"derive build: --out {arguments.out} exists and is not a folder", file=sys.stderr)
        return USAGE
    for path in write(arguments.out, files):
        print(f"wrote {path}")
    print(summary_line(derivations))
    return OK
