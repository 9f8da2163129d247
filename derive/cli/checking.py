"""``derive check``: read a derivation written by hand and report every step."""

import sys

from derive.cli.common import FAILED, OK, USAGE, fail, read_text


def check(arguments):
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
        fail("check", error, USAGE)
    source = read_text("check", arguments.file)
    try:
        chains = read(source, model, plain)
    except LatexInputError as error:
        fail("check", f"{name}: {error}", USAGE)
    results = check_chains(chains, model)
    sys.stdout.write(as_json(results, name) if arguments.json else as_text(results))
    return OK if holds(results) else FAILED
