"""derive variants: a verified homework variant per student, its records and its quiz.

Every expected answer here is recomputed independently of the engine: mpmath, from the
activations' and losses' definitions written out below, differentiated numerically by
``mpmath.diff`` (no SymPy, no derive formula), then rounded as the sheets say.
"""

import contextlib
import csv
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from xml.etree import ElementTree

import mpmath
import pytest

from derive.cli import main
from derive.engine.registry import valid_pairs
from derive.engine.steps import StepError
from derive.variants import tasks
from derive.variants.draw import draw
from derive.variants.roster import Student, anonymous, parse_pairs

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["Ada Lovelace", "Zoë O'Brien", 'Bob <b> & "Co"', "Ann, the 2nd", "Émile Zola",
         "50% \\ {braces} $cash$ #1 ~ ^ _"]
STUDENTS = 40

# --- the independent reference ----------------------------------------------------------

ACTIVATIONS = {
    "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
    "tanh": lambda z: (mpmath.exp(z) - mpmath.exp(-z)) / (mpmath.exp(z) + mpmath.exp(-z)),
    "identity": lambda z: z,
    "exp": mpmath.exp,
    "softplus": lambda z: mpmath.log(1 + mpmath.exp(z)),
}
LOSSES = {
    "se": lambda a, y: (a - y) ** 2 / 2,
    "ce": lambda a, y: -y * mpmath.log(a) - (1 - y) * mpmath.log(1 - a),
    "poisson": lambda a, y: a - y * mpmath.log(a),
}


def reference(entry):
    """Every task's answer for one manifest entry, from the definitions alone."""
    act, loss = ACTIVATIONS[entry["activation"]], LOSSES[entry["loss"]]
    numbers = entry["numbers"]
    x1, x2 = (mpmath.mpf(value) for value in numbers["x"])
    w1, w2 = (mpmath.mpf(value) for value in numbers["w"])
    b, y, eta = (mpmath.mpf(numbers[key]) for key in ("b", "y", "eta"))

    def cost(u1, u2, c):
        return loss(act(u1 * x1 + u2 * x2 + c), y)

    gradients = {
        "w1": mpmath.diff(lambda t: cost(t, w2, b), w1),
        "w2": mpmath.diff(lambda t: cost(w1, t, b), w2),
        "b": mpmath.diff(lambda t: cost(w1, w2, t), b),
    }
    start = {"w1": w1, "w2": w2, "b": b}
    answers = {"act_prime": mpmath.diff(act, mpmath.mpf(numbers["z_point"]))}
    answers.update({f"grad_{name}": value for name, value in gradients.items()})
    answers.update({f"step_{name}": start[name] - eta * gradients[name] for name in start})
    return answers


def rounded(value, places=tasks.PLACES):
    shown = Decimal(mpmath.nstr(value, 40, strip_zeros=False)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{abs(shown) if shown == 0 else shown:f}"


# --- a run of 40 students without PDFs, shared ------------------------------------------


def _roster(path, count=STUDENTS):
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "name", "email"])
        for index in range(1, count + 1):
            writer.writerow([f"s{index:02d}", NAMES[index % len(NAMES)], "x@example.org"])
    return path


def _run(*arguments):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["variants", *map(str, arguments)])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")
    roster = _roster(folder / "roster.csv")
    status, out, err = _run("--roster", roster, "--seed", 20, "--out", folder / "out",
                            "--no-pdf")
    assert status == 0, err
    manifest = json.loads((folder / "out" / "manifest.json").read_text(encoding="utf-8"))
    return {"folder": folder / "out", "roster": roster, "out": out, "manifest": manifest}


def test_every_student_gets_a_distinct_variant_and_a_progress_line(run):
    students = run["manifest"]["students"]
    assert list(students) == [f"s{index:02d}" for index in range(1, STUDENTS + 1)]
    variants = {json.dumps([entry["activation"], entry["loss"], entry["numbers"]])
                for entry in students.values()}
    assert len(variants) == STUDENTS
    lines = [line for line in run["out"].splitlines() if "steps verified" in line]
    assert [line.split("]")[0] for line in lines] == [f"[{i}/{STUDENTS}" for i in
                                                      range(1, STUDENTS + 1)]
    assert sorted(path.name for path in (run["folder"] / "sheets").iterdir()) == [
        f"s{index:02d}.tex" for index in range(1, STUDENTS + 1)]


def test_pairs_are_balanced_and_neighbours_differ(run):
    students = list(run["manifest"]["students"].values())
    pairs = [(entry["activation"], entry["loss"]) for entry in students]
    counts = Counter(pairs)
    assert set(counts) == set(valid_pairs())
    assert max(counts.values()) - min(counts.values()) <= 1
    assert all(first != second for first, second in itertools.pairwise(pairs))
    two = draw(anonymous(9), parse_pairs("sigmoid:ce,tanh:se"), seed=3)
    assert [v.activation for v in two][:4] in (["sigmoid", "tanh"] * 2, ["tanh", "sigmoid"] * 2)
    assert all(v.activation != w.activation for v, w in itertools.pairwise(two))


def test_every_answer_equals_an_independent_recomputation(run):
    checked = 0
    with mpmath.workdps(50):
        for entry in run["manifest"]["students"].values():
            expected = reference(entry)
            assert list(entry["answers"]) == list(tasks.TASKS)
            for task, answer in entry["answers"].items():
                assert answer["display"] == rounded(expected[task]), (entry, task)
                exact = mpmath.mpf(answer["value"])
                assert abs(exact - expected[task]) <= mpmath.mpf(10) ** -25 * max(
                    1, abs(expected[task])), (entry, task)
                checked += 1
    assert checked == STUDENTS * len(tasks.TASKS)


def test_moodle_xml_has_one_numerical_question_per_task_and_student(run):
    manifest = run["manifest"]["students"]
    root = ElementTree.parse(run["folder"] / "moodle.xml").getroot()
    assert root.tag == "quiz"
    questions = root.findall("question")
    kinds = Counter(question.get("type") for question in questions)
    assert kinds == {"category": STUDENTS, "numerical": STUDENTS * len(tasks.TASKS)}
    current = None
    with mpmath.workdps(50):
        expected = {id_: reference(entry) for id_, entry in manifest.items()}
    for question in questions:
        if question.get("type") == "category":
            current = question.find("category/text").text.rsplit("/", 1)[1]
            continue
        entry = manifest[current]
        name = question.find("name/text").text
        task = name.rsplit(": ", 1)[1]
        assert name.startswith(f"{current} ({entry['name']}) task ")  # names round-trip
        (answer,) = question.findall("answer")
        assert answer.get("fraction") == "100"
        assert answer.find("text").text == entry["answers"][task]["display"]
        assert answer.find("text").text == rounded(expected[current][task])
        tolerance = answer.find("tolerance").text
        assert tolerance == entry["answers"][task]["tolerance"] and float(tolerance) >= 0.001
        text = question.find("questiontext/text").text
        assert text.startswith("<p>") and "\\(" in text and "decimal places" in text
        feedback = question.find("generalfeedback/text").text
        assert feedback.count("\\(") == feedback.count("\\)") >= 2
        for html in (text, feedback):  # the HTML is well-formed, its LaTeX balanced
            ElementTree.fromstring(f"<div>{html}</div>")
            assert html.count("{") == html.count("}")
        assert question.find("idnumber").text == f"{current}-{task}"
    xml = (run["folder"] / "moodle.xml").read_text(encoding="utf-8")
    assert "Bob &lt;b&gt; &amp; \"Co\"" in xml and "&lt;p&gt;" in xml


def test_the_answer_key_matches_the_manifest(run):
    with open(run["folder"] / "answers.csv", encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == STUDENTS * len(tasks.TASKS)
    for row in rows:
        answer = run["manifest"]["students"][row["id"]]["answers"][row["task"]]
        assert (row["answer"], row["tolerance"]) == (answer["display"], answer["tolerance"])
    assert rows[3]["name"] == NAMES[1]


def test_a_second_run_is_identical_and_only_rewrites_one_sheet(run, tmp_path):
    again = tmp_path / "again"
    assert _run("--roster", run["roster"], "--seed", 20, "--out", again, "--no-pdf")[0] == 0
    for path in sorted(run["folder"].rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (again / path.relative_to(run["folder"])).read_bytes()
    one = tmp_path / "one"
    status, _, _ = _run("--roster", run["roster"], "--seed", 20, "--out", one, "--no-pdf",
                        "--only", "s07")
    assert status == 0
    assert [p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file()] == [
        "sheets/s07.tex"]
    assert (one / "sheets/s07.tex").read_bytes() == (
        run["folder"] / "sheets/s07.tex").read_bytes()
    students = anonymous(STUDENTS)
    assert draw(students, parse_pairs(), 20) != draw(students, parse_pairs(), 21)


# --- bad input ---------------------------------------------------------------------------

BAD = {
    "no id column": ("name\nAda\n", "no 'id' column"),
    "duplicate ids": ("id,name\na,A\nb,B\na,C\n", "also on line 2"),
    "empty roster": ("id,name\n", "no students"),
    "empty file": ("", "is empty"),
    "empty id": ("id,name\n,A\n", "the id is empty"),
    "id that cannot name a file": ("id,name\n../x,A\n", "cannot name a file"),
    "control character": ("id,name\na,A\x01\n", "control character"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_roster_is_a_usage_error_and_writes_nothing(case, tmp_path):
    text, message = BAD[case]
    roster = tmp_path / "roster.csv"
    roster.write_text(text, encoding="utf-8")
    status, _, err = _run("--roster", roster, "--seed", 1, "--out", tmp_path / "out")
    assert status == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", [["--pairs", "tanh:ce"], ["--pairs", "sigmoid"],
                                    ["--pairs", "sigmoid:ce,sigmoid:ce"], ["--only", "nobody"],
                                    ["--count", "0"]])
def test_bad_options_are_usage_errors_and_write_nothing(option, tmp_path):
    arguments = ["--seed", 1, "--out", tmp_path / "out", *option]
    if "--count" not in option:
        arguments += ["--count", 3]
    status, _, err = _run(*arguments)
    assert status == 2 and err.startswith("derive variants: ")
    assert not (tmp_path / "out").exists()


def test_a_failing_sheet_leaves_the_folder_as_it_was(tmp_path, monkeypatch, latex_engine):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text("old", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\na,\\undefinedcommand\n", encoding="utf-8")
    monkeypatch.setattr("derive.variants.sheets.escape", lambda text: text)
    status, _, err = _run("--roster", roster, "--seed", 1, "--out", out)
    assert status == 1 and "LaTeX failed" in err
    assert (out / "manifest.json").read_text(encoding="utf-8") == "old"
    assert [p.name for p in out.rglob("*") if p.is_file()] == ["manifest.json"]


# --- the worked solutions have teeth ----------------------------------------------------


def _variant(activation="sigmoid", loss="ce"):
    return draw([Student("t1")], parse_pairs(f"{activation}:{loss}"), seed=5)[0]


def test_a_wrongly_rounded_answer_is_refused(monkeypatch):
    real = tasks._rounded

    def one_unit_off(value, places):
        answer, shown = real(value, places)
        return answer, shown + tasks.Rational(1, 10**places)

    monkeypatch.setattr(tasks, "_rounded", one_unit_off)
    with pytest.raises(StepError, match="rounded to"):
        tasks.solve(_variant())


def test_a_wrong_formula_is_refused(monkeypatch):
    from derive.engine import labels
    from derive.engine.symbols import a, w_j, x_j, y

    book = tasks.book_for("sigmoid", "ce")
    last = book[labels.gradient(book.model.losses[0], w_j)].steps[-1]
    monkeypatch.setattr(last, "rhs", (a - y) * x_j * 2)
    with pytest.raises(StepError, match="at the drawn numbers"):
        tasks.solve(_variant())


def test_every_pair_solves_with_every_step_proved():
    for activation, loss in valid_pairs():
        solution = tasks.solve(_variant(activation, loss))
        assert [task.key for task in solution.tasks] == list(tasks.TASKS)
        assert dict(solution.methods).get("numeric", 0) == 0


# --- the whole run with PDFs (slow: about 30-40 s; CI runs it) ---------------------------


def _cli(*arguments, hashseed):
    environment = {**os.environ, "PYTHONHASHSEED": str(hashseed)}
    return subprocess.run([sys.executable, "-m", "derive", "variants", *map(str, arguments)],
                          capture_output=True, text=True, env=environment, check=False,
                          timeout=300)


@pytest.mark.slow
def test_slow_forty_students_with_pdfs_byte_identical_under_two_hash_seeds(tmp_path,
                                                                           latex_engine):
    roster = _roster(tmp_path / "roster.csv")
    first, second = tmp_path / "first", tmp_path / "second"
    started = time.monotonic()
    result = _cli("--roster", roster, "--seed", 8, "--out", first, hashseed=1)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 120, elapsed
    assert result.stdout.count("steps verified") == STUDENTS
    assert result.stdout.count("compiled") == STUDENTS + 1
    pdfs = sorted(path.relative_to(first).as_posix() for path in first.rglob("*.pdf"))
    assert pdfs == ["sheets/" + f"s{i:02d}.pdf" for i in range(1, STUDENTS + 1)] + [
        "solutions.pdf"]
    # the same texts under another hash seed; the PDF of one sheet recompiled alone
    assert _cli("--roster", roster, "--seed", 8, "--out", second, "--no-pdf",
                hashseed=2).returncode == 0
    for path in first.rglob("*"):
        if path.is_file() and path.suffix != ".pdf":
            assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path
    for student in ("s40",):
        only = tmp_path / student
        assert _cli("--roster", roster, "--seed", 8, "--out", only, "--only", student,
                    hashseed=3).returncode == 0
        for suffix in (".tex", ".pdf"):
            name = f"sheets/{student}{suffix}"
            assert (only / name).read_bytes() == (first / name).read_bytes(), name
    sheet = subprocess.run(["pdftotext", first / "sheets/s03.pdf", "-"], capture_output=True,
                           text=True, check=True).stdout
    assert "s03" in sheet and NAMES[3] in sheet
    book = subprocess.run(["pdftotext", first / "solutions.pdf", "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "??" not in book and book.count("Answer:") == STUDENTS * len(tasks.TASKS)
    shutil.rmtree(first)
