"""The commands that produce: verify, build, sheet, code, list."""

import sys

from derive.cli.common import (
    DEFAULT_OUT,
    OK,
    chosen_model,
    fail,
    refuse_file_in_the_way,
    refuse_folder_as_output,
    title_block,
    verified,
    warner,
    writing,
)


def verify(arguments):
    from derive.printing.record import as_json, as_text

    book = verified("verify", chosen_model("verify", arguments.activation, arguments.loss,
                         arguments.penalty))
    sys.stdout.write(as_json(book) if arguments.json else as_text(book))
    return OK


def code(arguments):
    from derive.build import file_names, python_module
    from derive.files import write_atomically

    model = chosen_model("code", arguments.activation, arguments.loss,
                         arguments.penalty)
    refuse_folder_as_output("code", arguments.output)
    source = python_module(verified("code", model), arguments.target)
    key = "code" if arguments.target == "numpy" else f"code_{arguments.target}"
    output = arguments.output or DEFAULT_OUT / file_names(model)[key]
    if str(output) == "-":
        sys.stdout.write(source)
        return OK
    with writing("code"):
        print(f"wrote {write_atomically(output, source)}")
    return OK


def sheet(arguments):
    from derive.build import file_names, write_sheet

    info = title_block("sheet", arguments)
    refuse_folder_as_output("sheet", arguments.output)
    model = chosen_model("sheet", arguments.activation, arguments.loss,
                         arguments.penalty)
    book = verified("sheet", model)
    output = arguments.output or DEFAULT_OUT / file_names(model)[arguments.variant]
    with writing("sheet"):
        write_sheet(book, info, arguments.variant, output, pdf=not arguments.no_pdf,
                    warn=warner("sheet"))
    return OK


def build(arguments):
    from derive.build import artefacts, build, golden, stale
    from derive.engine.steps import StepError
    from derive.printing.record import summary_line

    info = title_block("build", arguments)
    out = arguments.out
    refuse_file_in_the_way("build", f"--out {out}", out)
    chosen = any(getattr(arguments, option) is not None
                 for option in ("activation", "loss", "penalty"))
    model = chosen_model("build", arguments.activation, arguments.loss,
                         arguments.penalty) if chosen else None
    try:
        targets = arguments.target
        built = ([artefacts(verified("build", model), info, targets=targets)] if chosen
                 else golden(info, targets))
    except StepError as error:
        fail("build", error)
    summary = summary_line(built[0].book)
    if arguments.check:
        diffs = stale(out, built)
        if diffs:
            sys.stdout.writelines(diffs)
            fail("build --check", f"{out}/ is stale; run 'derive build --out {out}' "
                  "and commit the result")
        print(f"{out}/ is up to date ({summary}; {len(built)} models)")
        return OK
    with writing("build"):
        build(out, built, pdf=not arguments.no_pdf, warn=warner("build"))
    print(summary)
    return OK


def list(arguments):
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
    from derive.engine.softmax import VECTOR_ACTIVATIONS, VECTOR_LOSSES, SoftmaxModel

    print("\nMany classes, a = softmax(z) for z in R^K (labels: class numbers or rows of "
          "probabilities):")
    for name, act in VECTOR_ACTIVATIONS.items():
        print(f"  {name:<9} {act.title}; a in {act.output_range}")
        pairs = ", ".join(f"{loss} ({stem(SoftmaxModel(*choose(name, [loss])))})"
                          for loss in VECTOR_LOSSES)
        print(f"  {'':<9} {pairs}")
        for loss_name, entry in VECTOR_LOSSES.items():
            print(f"  {'':<9} {loss_name:<5} {entry.title}")
    return OK
