"""Who gets a variant and which neurons may be drawn: the roster and ``--pairs``.

A roster is a CSV file (UTF-8, a BOM allowed) whose header has an ``id`` column and
optionally a ``name`` column (other columns are ignored; header names are matched
without regard to case or surrounding spaces). Ids name files, so they are 1–64
characters from letters, digits and ``. _ - @ +``, not starting with a dot, and unique.
``anonymous(count)`` gives ids ``v01``, ``v02``, … instead. Every problem is a
``RosterError`` whose message names the file, the row and what to do.
"""

import csv
import re
from dataclasses import dataclass

from derive.engine.registry import valid_pairs

ID_PATTERN = re.compile(r"[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,63}")
MAX_STUDENTS = 5000


class RosterError(ValueError):
    """The roster, the count or the pairs cannot be used; the message says why."""


@dataclass(frozen=True)
class Student:
    """One line of the roster: ``id`` (names the student's files) and ``name`` (may be "")."""

    id: str
    name: str = ""


def read_roster(path):
    """The students of the CSV roster at ``path``, in its order."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.reader(stream))
    except OSError as error:
        raise RosterError(f"cannot read the roster {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise RosterError(f"the roster {path} is not UTF-8 text; save it as UTF-8 CSV") from None
    except csv.Error as error:
        raise RosterError(f"the roster {path} is not valid CSV: {error}") from None
    if not rows:
        raise RosterError(f"the roster {path} is empty; it needs a header with an 'id' "
                          "column and one row per student")
    header = [cell.strip().lower() for cell in rows[0]]
    if "id" not in header:
        raise RosterError(f"the roster {path} has no 'id' column (its header is "
                          f"{','.join(rows[0]) or 'empty'}); add a header line such as "
                          "'id,name'")
    id_column = header.index("id")
    name_column = header.index("name") if "name" in header else None
    students = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = row[id_column].strip() if id_column < len(row) else ""
        name = row[name_column].strip() if name_column is not None and name_column < len(row) \
            else ""
        students.append((line, Student(cell, name)))
    if not students:
        raise RosterError(f"the roster {path} has a header but no students; add one row "
                          "per student")
    return _checked(students, path)


def _checked(numbered, path):
    if len(numbered) > MAX_STUDENTS:
        raise RosterError(f"the roster {path} has {len(numbered)} students; at most "
                          f"{MAX_STUDENTS} are supported")
    seen = {}
    for line, student in numbered:
        if not student.id:
            raise RosterError(f"{path}, line {line}: the id is empty; every student needs one")
        if not ID_PATTERN.fullmatch(student.id):
            raise RosterError(
                f"{path}, line {line}: the id {student.id!r} cannot name a file; use 1-64 "
                "letters, digits and . _ - @ + (not starting with a dot)")
        if student.id in seen:
            raise RosterError(f"{path}, line {line}: the id {student.id!r} is also on line "
                              f"{seen[student.id]}; ids must be unique")
        seen[student.id] = line
        if any(not _printable(character) for character in student.name):
            raise RosterError(f"{path}, line {line}: the name of {student.id!r} contains a "
                              "control character; remove it")
    return [student for _, student in numbered]


def anonymous(count):
    """``count`` students without names: v01, v02, … (zero-padded to a common width)."""
    if not 1 <= count <= MAX_STUDENTS:
        raise RosterError(f"--count must be between 1 and {MAX_STUDENTS}, not {count}")
    width = max(2, len(str(count)))
    return [Student(f"v{index:0{width}d}") for index in range(1, count + 1)]


def parse_pairs(text=None):
    """The pairs that may be drawn: all valid ones, or those named in ``text``
    ("sigmoid:ce,tanh:se"), in the order given."""
    valid = valid_pairs()
    if text is None:
        return tuple(valid)
    listing = ", ".join(f"{act}:{loss}" for act, loss in valid)
    chosen = []
    for item in text.split(","):
        pair = tuple(part.strip() for part in item.split(":"))
        if len(pair) != 2 or pair not in valid:
            raise RosterError(f"--pairs: {item.strip()!r} is not a valid activation:loss "
                              f"pair; choose from {listing}")
        if pair in chosen:
            raise RosterError(f"--pairs: {item.strip()} is named twice")
        chosen.append(pair)
    return tuple(chosen)


def _printable(character):
    """True for a character XML 1.0 and LaTeX accept in text (no control characters)."""
    code = ord(character)
    return code >= 0x20 and code != 0x7F and not 0xD800 <= code <= 0xDFFF \
        and code not in (0xFFFE, 0xFFFF)
