"""The run's records: ``manifest.json``, the Moodle XML quiz and the CSV answer key.

All three list the students in roster order and the tasks in ``tasks.TASKS`` order, and
hold the same answers: the value rounded to ``tasks.PLACES`` decimal places as shown on
the sheets, and an absolute tolerance (0.1 % of the answer, at least 0.001). The
manifest also records the seed, the pairs that could be drawn, each student's pair and
numbers (exact decimals) and the exact answer to 30 significant digits; it names no
path or time, so the same roster, seed and version give the same bytes.

``moodle_xml`` writes one category per student (``$course$/derive variants, seed N/ID``;
ids hold no "/", which would nest categories) holding one ``numerical`` question per
task, named with the student's id and name: the question text states the student's
neuron and numbers, the answer carries its tolerance, and the general feedback is the
worked formula with its LaTeX in ``\\( … \\)``. It is built with ElementTree, which
escapes every text and attribute, in the element order of Moodle's own export.
"""

import csv
import io
import json
import re
from xml.etree import ElementTree

from derive import __version__
from derive.variants.draw import decimal
from derive.variants.sheets import neuron_latex
from derive.variants.tasks import PLACES, TASKS, book_for

QUESTION_TYPE = "numerical"


def manifest(solutions, seed, pairs):
    """The manifest's JSON text."""
    students = {}
    for solution in solutions:
        variant, numbers = solution.variant, solution.variant.numbers
        students[variant.student.id] = {
            "name": variant.student.name,
            "index": variant.index,
            "activation": variant.activation,
            "loss": variant.loss,
            "numbers": {
                "x": [decimal(value) for value in numbers.x],
                "w": [decimal(value) for value in numbers.w],
                "b": decimal(numbers.b), "y": decimal(numbers.y),
                "eta": decimal(numbers.eta), "z_point": decimal(numbers.point),
                "z": decimal(numbers.z),
            },
            "answers": {task.key: {"value": task.answer.digits,
                                   "display": task.answer.display,
                                   "tolerance": task.answer.tolerance}
                        for task in solution.tasks},
            "problems": f"sheets/{variant.student.id}.pdf",
        }
    document = {
        "derive": __version__,
        "seed": seed,
        "pairs": [f"{act}:{loss}" for act, loss in pairs],
        "places": PLACES,
        "tasks": list(TASKS),
        "students": students,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def answer_key(solutions):
    """The CSV answer key: one row per student and task."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["id", "name", "activation", "loss", "task", "answer", "tolerance",
                     "exact"])
    for solution in solutions:
        variant = solution.variant
        for task in solution.tasks:
            writer.writerow([variant.student.id, variant.student.name, variant.activation,
                             variant.loss, task.key, task.answer.display,
                             task.answer.tolerance, task.answer.digits])
    return stream.getvalue()


def moodle_xml(solutions, seed):
    """The Moodle XML quiz (UTF-8 text with its declaration)."""
    quiz = ElementTree.Element("quiz")
    for solution in solutions:
        variant = solution.variant
        category = _child(quiz, "question", type="category")
        _text(_child(category, "category"),
              f"$course$/derive variants, seed {seed}/{variant.student.id}")
        for number, task in enumerate(solution.tasks, start=1):
            _question(quiz, solution, number, task)
    ElementTree.indent(quiz)
    body = ElementTree.tostring(quiz, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _question(quiz, solution, number, task):
    variant = solution.variant
    question = _child(quiz, "question", type=QUESTION_TYPE)
    who = variant.student.id + (f" ({variant.student.name})" if variant.student.name else "")
    _text(_child(question, "name"), f"{who} task {number}: {task.key}")
    _text(_child(question, "questiontext", format="html"),
          _neuron_html(solution) + f"<p>Compute {_inline(task.statement)}, rounded to "
          f"{PLACES} decimal places.</p>")
    _text(_child(question, "generalfeedback", format="html"), _feedback_html(task))
    _child(question, "defaultgrade").text = "1.0000000"
    _child(question, "penalty").text = "0.3333333"
    _child(question, "hidden").text = "0"
    _child(question, "idnumber").text = f"{variant.student.id}-{task.key}"
    answer = _child(question, "answer", fraction="100", format="moodle_auto_format")
    _text(answer, task.answer.display)
    _text(_child(answer, "feedback", format="html"), "")
    _child(answer, "tolerance").text = task.answer.tolerance
    _child(question, "unitgradingtype").text = "0"
    _child(question, "unitpenalty").text = "0.1000000"
    _child(question, "showunits").text = "3"
    _child(question, "unitsleft").text = "0"


def _neuron_html(solution):
    variant, numbers = solution.variant, solution.variant.numbers
    book = book_for(variant.activation, variant.loss)
    act, loss = neuron_latex(book)
    values = (f"x = ({', '.join(decimal(v) for v in numbers.x)}),\\ "
              f"w = ({', '.join(decimal(v) for v in numbers.w)}),\\ b = {decimal(numbers.b)},"
              f"\\ y = {decimal(numbers.y)},\\ \\eta = {decimal(numbers.eta)}")
    return (f"<p>A neuron computes \\(z = w_1 x_1 + w_2 x_2 + b\\) and "
            f"\\(a = {act}\\); a sample with label \\(y\\) costs \\({loss}\\).</p>"
            f"<p>Your numbers: \\({values}\\).</p>")


def _feedback_html(task):
    chain = task.chain
    steps = " ".join(f"{link.relation} {link.rhs}" for link in chain.links)
    return (f"<p>\\({task.formula}\\)</p>"
            f"<p>\\({chain.lhs} {steps}\\)</p>")


def _inline(latex_text):
    """Inline mathematics ``$…$`` in our own LaTeX text as ``\\(…\\)`` for MathJax."""
    return re.sub(r"\$([^$]*)\$", r"\\(\1\\)", latex_text)


def _child(parent, tag, **attributes):
    return ElementTree.SubElement(parent, tag, attributes)


def _text(parent, text):
    _child(parent, "text").text = text
