"""``derive check``: read a derivation written by hand and report every step."""

import sys

from derive.cli.common import FAILED, OK, USAGE, fail, read_text


def check(arguments):
    from derive.config import ConfigError, load_lets
    from derive.engine.choice import InvalidChoice, choose
    from derive.engine.model import Model
    from derive.engine.registry import valid_losses
    from derive.reading.notation import parse_let
    from derive.reading.reader import LatexInputError
    from derive.reading.report import as_json, as_text, check_chains, holds, read

    name = "<stdin>" if arguments.file == "-" else arguments.file
    try:
        act, _ = choose(arguments.activation)
        valid = valid_losses(act)
        plain = arguments.loss or ("ce" if "ce" in valid else valid[0])
        choose(act.name, [plain])  # only to refuse a plain L the activation cannot feed
        model = Model(*choose(act.name, valid))
    except InvalidChoice as error:
        fail("check", error, USAGE)
    try:
        lets = [parse_let(text) for text in [*load_lets(), *(arguments.let or [])]]
    except (ConfigError, ValueError) as error:
        fail("check", error, USAGE)
    source = read_text("check", arguments.file)
    try:
        chains = read(source, model, plain, lets)
    except LatexInputError as error:
        fail("check", f"{name}: {error}", USAGE)
    results = check_chains(chains, model)
    sys.stdout.write(as_json(results, name, chains) if arguments.json
                     else as_text(results, chains))
    if not holds(results):
        return FAILED
    if chains.unread:
        first = chains.unread[0]
        sys.stderr.write(f"derive check: {name}: line {first.line}, column {first.column}: "
                         f"{first.reason} ({len(chains.unread)} equations not read)\n")
        return USAGE
    return OK
