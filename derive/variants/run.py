"""What ``derive variants`` writes, and in which order; all of it or nothing.

``prepare`` draws and solves every variant (each link of each worked solution verified)
and renders every text in memory; ``write`` then stages every file in a fresh temporary
beside its target (``derive.files.stage``), compiling the PDFs into theirs, several at
once, and only when every file is staged renames them all into place. A failure at
any point (LaTeX, a full disk, an interrupt) removes the temporaries, so the folder is
as it was: no file in it is ever half-written, and a run changes none unless it can
write them all.

Files, inside the output folder: ``manifest.json``, ``moodle.xml``, ``answers.csv``,
``solutions.tex`` (and ``.pdf``), and per student ``sheets/ID.tex`` (and ``.pdf``). With
``only`` just that student's sheet is written; its bytes are those of the full run.
"""

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from derive.files import WriteFailed, make_folder, stage
from derive.sheet.pdf import INSTALL_HINT, LatexError, compile_pdf, engine
from derive.variants import export
from derive.variants.draw import draw
from derive.variants.roster import RosterError
from derive.variants.sheets import problems_source, solutions_source
from derive.variants.tasks import solve

SHEETS = "sheets"
WORKERS = 4
"""LaTeX runs at once (each is one process); fewer when the machine has fewer cores."""


class VariantsFailed(Exception):
    """LaTeX failed on a sheet; the message names the file and LaTeX's complaint."""


@dataclass(frozen=True)
class Prepared:
    """Every text of a run, in writing order, and the LaTeX sources to compile."""

    texts: tuple
    pdfs: tuple
    solutions: tuple


def sheet_name(student_id, suffix):
    return f"{SHEETS}/{student_id}{suffix}"


def prepare(students, pairs, seed, info=None, only=None, say=print):
    """Draw, solve and render; ``only`` (an id) restricts the texts to that student's
    sheet. ``say`` gets one progress line per student."""
    variants = draw(students, pairs, seed)
    if only is not None:
        chosen = [variant for variant in variants if variant.student.id == only]
        if not chosen:
            raise RosterError(f"--only {only}: no student has that id in the roster")
        variants = chosen
    solutions = []
    for number, variant in enumerate(variants, start=1):
        solution = solve(variant)
        steps = sum(count for _, count in solution.methods)
        say(f"[{number}/{len(variants)}] {variant.student.id}: {variant.activation} with "
            f"{variant.loss}, {len(solution.tasks)} tasks, {steps} steps verified")
        solutions.append(solution)
    sheets = [(sheet_name(s.variant.student.id, ".tex"), problems_source(s, info))
              for s in solutions]
    if only is not None:
        return Prepared(tuple(sheets), tuple(sheets), tuple(solutions))
    book = ("solutions.tex", solutions_source(solutions, info))
    texts = (("manifest.json", export.manifest(solutions, seed, pairs)),
             ("moodle.xml", export.moodle_xml(solutions, seed)),
             ("answers.csv", export.answer_key(solutions)), book, *sheets)
    return Prepared(texts, (book, *sheets), tuple(solutions))


def write(out, prepared, pdf=True, say=print, warn=print):
    """Write every text and (with ``pdf`` and a LaTeX engine) every PDF into ``out``,
    all or nothing; return the paths written."""
    out = Path(out)
    if pdf and engine() is None:
        warn(INSTALL_HINT)
        pdf = False
    staged = []
    try:
        for name, text in prepared.texts:
            path = out / name
            make_folder(path.parent)
            staged.append((stage(path, _text_writer(text)), path))
        if pdf:
            staged.extend(_compiled(out, prepared.pdfs, say))
        _replace(staged)
    except BaseException:
        _discard(temporary for temporary, _ in staged)
        raise
    return [path for _, path in staged]


def _compiled(out, sources, say):
    """(temporary, path) of each PDF, compiled several at a time, in ``sources`` order;
    on a failure every PDF staged so far is removed."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(WORKERS, os.cpu_count() or 1)))
    jobs = []
    try:
        for name, source in sources:
            path = (out / name).with_suffix(".pdf")
            jobs.append((pool.submit(_stage_pdf, path, source), path))
        staged = []
        for number, (job, path) in enumerate(jobs, start=1):
            try:
                staged.append((job.result(), path))
            except LatexError as error:
                hint = ("; a name in the roster has a character pdflatex cannot typeset: "
                        "write it in Latin letters, or use --no-pdf"
                        if "Unicode character" in str(error) else "")
                raise VariantsFailed(f"LaTeX failed on {path}: {error}{hint}") from None
            say(f"[{number}/{len(jobs)}] compiled {path}")
        return staged
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        _discard(job.result() for job, _ in jobs
                 if job.done() and not job.cancelled() and job.exception() is None)
        raise
    finally:
        pool.shutdown(wait=True)


def _stage_pdf(path, source):
    return stage(path, lambda temporary: compile_pdf(source, temporary))


def _text_writer(text):
    def fill(temporary):
        with open(temporary, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
    return fill


def _replace(staged):
    """Rename every staged temporary over its target, in order."""
    for number, (temporary, path) in enumerate(staged):
        try:
            os.replace(temporary, path)
        except OSError as error:
            _discard(temporary for temporary, _ in staged[number:])
            raise WriteFailed(f"cannot replace {path}: {error.strerror or error}") from error


def _discard(temporaries):
    for temporary in temporaries:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
