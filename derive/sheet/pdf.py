"""LaTeX to PDF: latexmk (or pdflatex run twice) in a scratch folder.

The engine runs with ``-halt-on-error -interaction=nonstopmode -no-shell-escape``;
build files never reach the output folder, and ``SOURCE_DATE_EPOCH``/
``FORCE_SOURCE_DATE`` pin the dates so the same .tex gives the same PDF bytes. A log
with an error or an undefined reference is a failure. The PDF is copied to its
destination only after a successful run, directly and without a temporary of its own:
the build hands ``compile_pdf`` a fresh temporary beside the final file and renames it
into place (``derive.files.publish``), so no reader sees half a PDF and two builds into one
folder never share a file name.
"""

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "no LaTeX engine found (latexmk or pdflatex): the .tex was written but no PDF; "
    "to get the PDF install a LaTeX engine, e.g. on Debian or Ubuntu: "
    "apt-get install texlive-latex-base texlive-latex-recommended latexmk"
)
_FLAGS = "-halt-on-error -interaction=nonstopmode -no-shell-escape"
_PROBLEMS = re.compile(
    r"^(!.*|LaTeX Warning: (Reference|Citation) .* undefined.*"
    r"|LaTeX Warning: There were undefined references.*)$",
    re.MULTILINE,
)


class LatexError(RuntimeError):
    """The LaTeX run failed; the message holds the relevant lines of its log."""


def engine():
    """The command that will compile, or None when no LaTeX engine is installed."""
    for name in ("latexmk", "pdflatex"):
        if shutil.which(name):
            return name
    return None


@dataclass(frozen=True)
class LatexRun:
    """What a successful compilation left besides the PDF: its log and its .aux file."""

    log: str
    aux: str


def compile_pdf(tex, destination, timeout=180, resources=()):
    """Compile the LaTeX source ``tex`` into the PDF ``destination``; return a LatexRun.

    ``resources`` are files the source includes (a figure), copied beside it first.
    ``destination`` is written (overwritten, keeping its mode) only when LaTeX succeeded.
    """
    command = engine()
    if command is None:
        raise LatexError(INSTALL_HINT)
    destination = Path(destination)
    with tempfile.TemporaryDirectory(prefix="derive-latex-") as scratch:
        source = Path(scratch) / "sheet.tex"
        source.write_text(tex, encoding="utf-8")
        for resource in resources:
            shutil.copyfile(resource, Path(scratch) / Path(resource).name)
        environment = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        runs = (
            [["latexmk", "-pdf", f"-pdflatex=pdflatex {_FLAGS} %O %S", "-quiet", source.name]]
            if command == "latexmk"
            else [["pdflatex", *_FLAGS.split(), source.name]] * 2
        )
        for run in runs:
            result = subprocess.run(run, cwd=scratch, env=environment, capture_output=True,
                                    text=True, timeout=timeout, check=False)
            log = _log(Path(scratch) / "sheet.log", result)
            if result.returncode != 0:
                raise LatexError(f"{run[0]} failed:\n{_excerpt(log)}")
        problems = _PROBLEMS.findall(log)
        if problems:
            raise LatexError(f"{run[0]} reported problems:\n{_excerpt(log)}")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(scratch) / "sheet.pdf", destination)
        aux = (Path(scratch) / "sheet.aux").read_text(encoding="utf-8", errors="replace")
    return LatexRun(log, aux)


def _log(path, result):
    if path.exists():
        return path.read_text(encoding="utf-8", errors="replace")
    return result.stdout + result.stderr


def _excerpt(log):
    lines = [line for line in log.splitlines()
             if line.startswith(("!", "l.")) or "undefined" in line]
    return "\n".join(lines[:20]) or log[-2000:]
