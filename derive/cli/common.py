"""What every command shares: exit statuses, one-line failures, the choice and
title-block options, and the steps from arguments to a verified Book."""

import contextlib
import sys
from pathlib import Path

OK, FAILED, USAGE, WRITE_FAILED = 0, 1, 2, 3
EXIT_STATUS = (
    "Exit status: 0 when everything holds, 1 when a check failed, 2 for a usage error, "
    "3 when a file could not be written (permission denied, no space left); no file is "
    "then left half-written."
)
DEFAULT_OUT = Path("generated")


class Exit(Exception):
    """Stop the command with ``status``; the message has been printed."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def choice_options(parser, golden=False):
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
    group.add_argument("--penalty", metavar="NAME", default=None, choices=("none", "l2"),
                       help="the penalty R(w) of the averaged loss: none (the default) or "
                       "l2, (λ/2)·‖w‖² with the bias not penalised; l2 adds its derivations "
                       "to the samples section (the code takes l2= either way)")


def sheet_options(parser):
    group = parser.add_argument_group(
        "sheet title block",
        "Options override --config FILE; without --config, derive.toml in the working "
        "folder is read, else the [tool.derive] table of its pyproject.toml. Keys: "
        "title, author, course, date. There is no date unless one is given.",
    )
    group.add_argument("--config", metavar="FILE", type=Path, help="TOML file with the keys")
    for key in ("title", "author", "course", "date"):
        group.add_argument(f"--{key}", metavar="TEXT", help=f"the sheet's {key}")


def fail(command, message, status=FAILED):
    print(f"derive {command}: {message}", file=sys.stderr)
    raise Exit(status)


@contextlib.contextmanager
def writing(command):
    """Report what stops a command that writes files as one line: a failed stage
    (exit 1), or the OS refusing to write (exit 3; the message names file and reason)."""
    from derive.build import BuildFailed
    from derive.files import WriteFailed

    try:
        yield
    except BuildFailed as error:
        fail(command, error)
    except WriteFailed as error:
        fail(command, error, WRITE_FAILED)


def refuse_file_in_the_way(command, given, folder):
    """A usage error (exit 2) when ``folder`` or one above it is an existing file;
    ``given`` is the option as typed, for the message."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                fail(command, f"{given}: {candidate} exists and is not a folder", USAGE)
            return


def refuse_folder_as_output(command, output):
    """``-o PATH`` must name a file whose folder can exist (exit 2 otherwise)."""
    if output is None or str(output) == "-":
        return
    if output.is_dir():
        fail(command, f"-o {output} is a folder; give a file path", USAGE)
    refuse_file_in_the_way(command, f"-o {output}", output.parent)


def warner(command):
    return lambda message: print(f"derive {command}: {message}", file=sys.stderr)


def chosen_model(command, activation, losses, penalty=None):
    """The chosen neuron; an invalid choice is a usage error (exit 2)."""
    from derive.engine.choice import InvalidChoice, choose
    from derive.engine.model import Model
    from derive.engine.samples import PENALTIES
    from derive.engine.softmax import SoftmaxModel, VectorActivation

    try:
        act, chosen = choose(activation or "sigmoid", losses)
        kind = SoftmaxModel if isinstance(act, VectorActivation) else Model
        return kind(act, chosen, PENALTIES[penalty or "none"])
    except InvalidChoice as error:
        fail(command, error, USAGE)


def verified(command, model):
    """The Book of ``model``'s derivations, every step verified; a StepError is a
    failure (exit 1)."""
    from derive.engine.derivations import derive_all
    from derive.engine.softmax import SoftmaxModel
    from derive.engine.softmax_derivations import derive_softmax
    from derive.engine.steps import StepError

    try:
        return derive_softmax(model) if isinstance(model, SoftmaxModel) else derive_all(model)
    except StepError as error:
        fail(command, error)


def title_block(command, arguments):
    from derive.config import ConfigError, load_info

    overrides = {key: getattr(arguments, key) for key in ("title", "author", "course", "date")}
    try:
        return load_info(arguments.config, overrides)
    except ConfigError as error:
        fail(command, error, USAGE)


def read_text(command, path):
    from derive.reading.reader import MAX_CHARACTERS

    try:
        if path == "-":
            return sys.stdin.read(MAX_CHARACTERS + 1)
        with open(path, encoding="utf-8") as stream:
            return stream.read(MAX_CHARACTERS + 1)
    except (OSError, UnicodeDecodeError) as error:
        fail(command, f"cannot read {path}: {error}", USAGE)
