"""``derive variants``: a verified homework variant for every student of a roster."""

from pathlib import Path

from derive.cli.common import (
    EXIT_STATUS,
    OK,
    USAGE,
    fail,
    refuse_file_in_the_way,
    sheet_options,
    title_block,
    warner,
    writing,
)


def add_parser(commands):
    """Add the ``variants`` subcommand to ``commands`` (argparse subparsers)."""
    parser = commands.add_parser(
        "variants",
        help="a homework variant for every student: sheets, solutions book, quiz",
        description="Give every student of a roster (a CSV file with an 'id' column and "
        "optionally 'name') a neuron drawn from the registry's valid pairs (neighbours in "
        "the roster get different pairs) and numbers drawn from the seed, solve their "
        "numeric tasks exactly from the verified formulas, and write into DIR: "
        "sheets/ID.tex and .pdf (each student's problems), solutions.tex and .pdf (every "
        "student's full worked solution, every equality verified), manifest.json (seed, "
        "pairs, numbers, answers), moodle.xml (a Moodle XML quiz: one numerical question "
        "per task and student, with tolerance and worked feedback) and answers.csv. The "
        "same roster, seed and version give the same bytes. Nothing is written unless "
        "everything can be.",
        epilog=EXIT_STATUS,
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--roster", metavar="FILE", type=Path,
                     help="CSV roster with an 'id' column and optionally 'name'")
    who.add_argument("--count", metavar="K", type=int,
                     help="K anonymous variants (ids v01, v02, ...) instead of a roster")
    parser.add_argument("--seed", metavar="N", type=int, required=True,
                        help="the seed every drawing derives from")
    parser.add_argument("--out", metavar="DIR", type=Path, required=True,
                        help="output folder (created if missing)")
    parser.add_argument("--pairs", metavar="ACT:LOSS[,ACT:LOSS]", default=None,
                        help="draw only these pairs, e.g. sigmoid:ce,tanh:se (default: "
                        "every valid pair; 'derive list' shows them)")
    parser.add_argument("--only", metavar="ID", default=None,
                        help="write only this student's sheet (sheets/ID.tex and .pdf), "
                        "byte for byte as in the full run")
    parser.add_argument("--no-pdf", action="store_true", help="do not compile the PDFs")
    sheet_options(parser)
    parser.set_defaults(run=variants)


def variants(arguments):
    from derive.engine.steps import StepError
    from derive.variants.roster import RosterError, anonymous, parse_pairs, read_roster
    from derive.variants.run import VariantsFailed, prepare, write

    info = title_block("variants", arguments)
    refuse_file_in_the_way("variants", f"--out {arguments.out}", arguments.out)
    try:
        pairs = parse_pairs(arguments.pairs)
        if arguments.roster is not None:
            students = read_roster(arguments.roster)
        else:
            students = anonymous(arguments.count)
        prepared = prepare(students, pairs, arguments.seed, info, arguments.only,
                           say=_say)
    except RosterError as error:
        fail("variants", error, USAGE)
    except StepError as error:
        fail("variants", error)
    with writing("variants"):
        try:
            written = write(arguments.out, prepared, pdf=not arguments.no_pdf, say=_say,
                            warn=warner("variants"))
        except VariantsFailed as error:
            fail("variants", error)
    count = len(prepared.solutions)
    print(f"wrote {len(written)} files into {arguments.out}/ for {count} "
          f"student{'' if count == 1 else 's'}")
    return OK


def _say(message):
    print(message, flush=True)
