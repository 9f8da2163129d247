"""``derive check``: a corpus of hand-written derivations, hostile input, and formats.

Each file in tests/check_corpus/ starts with "% expect: holds" or
"% expect: false at step N"; every correct one must pass and every flawed one must be
reported false at exactly step N, with every earlier step holding.
"""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sympy import Derivative

from derive.cli import main
from derive.engine.model import Model
from derive.engine.registry import ACTIVATIONS, LOSSES
from derive.engine.symbols import b, z
from derive.reading import vocabulary
from derive.reading.parser import Losses, Parser
from derive.reading.reader import MAX_DEPTH
from derive.reading.report import CHECKED, DEFINED, FALSE, PROVED, check_chains, read
from derive.reading.tokens import tokenize

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "check_corpus").glob("*.tex"))
MODEL = Model(ACTIVATIONS["sigmoid"], (LOSSES["se"], LOSSES["ce"]))


def _expectation(path):
    first = path.read_text().splitlines()[0]
    match = re.fullmatch(r"% expect: (holds|false at step (\d+))", first)
    assert match, f"{path.name} must start with an expectation"
    return None if match.group(1) == "holds" else int(match.group(2))


def test_corpus_is_large_enough():
    expectations = [_expectation(path) for path in CORPUS]
    assert sum(e is None for e in expectations) >= 15
    assert sum(e is not None for e in expectations) >= 15


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.stem)
def test_corpus(path):
    results = check_chains(read(path.read_text(), MODEL, "ce"), MODEL)
    expected = _expectation(path)
    statuses = [result.status for result in results]
    if expected is None:
        assert all(status in (PROVED, CHECKED, DEFINED) for status in statuses), statuses
    else:
        first = next(i for i, status in enumerate(statuses, 1)
                     if status not in (PROVED, CHECKED, DEFINED))
        assert (first, statuses[first - 1]) == (expected, FALSE), statuses


def test_the_notes_slip_is_caught_at_exactly_that_step(capsys):
    slip = ROOT / "tests" / "check_corpus" / "bad_01_note_slip.tex"
    assert main(["check", str(slip)]) == 1
    output = capsys.readouterr().out
    assert "step 3 (line 7):" in output
    block = output.split("step 3 (line 7):")[1].split("step 4")[0]
    assert "FALSE" in block and "counterexample: x_j = " in block and "left side = " in block
    assert "first at step 3, line 7" in output


HOSTILE = {
    "python": "__import__('os').system('touch {marker}')",
    "input": r"\input{/etc/passwd}",
    "def": r"\def\x{1} a = \x",
    "newcommand": r"\newcommand{\x}{1} a = a",
    "nested 10000": "(" * 10000 + "a" + ")" * 10000 + " = a",
    "megabyte": "a = a " * 175_000,
    "deep": "(" * (MAX_DEPTH + 5) + "a" + ")" * (MAX_DEPTH + 5) + " = a",
    "text only": "Hello, world",
    "unbalanced": r"\frac{1}{2 = a",
    "binary": "\x00\x01\x02 = a",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_gets_a_clean_error_quickly(name, tmp_path, capsys):
    marker = tmp_path / "evaluated"
    source = tmp_path / "input.tex"
    source.write_text(HOSTILE[name].replace("{marker}", str(marker)))
    started = time.perf_counter()
    assert main(["check", str(source)]) == 2
    assert time.perf_counter() - started < 2.0
    error = capsys.readouterr().err
    assert error.startswith(f"derive check: {source}: line ")
    assert "Traceback" not in error
    assert not marker.exists()


def test_nesting_and_size_limits_are_named(tmp_path, capsys):
    deep = tmp_path / "deep.tex"
    deep.write_text(HOSTILE["deep"])
    main(["check", str(deep)])
    assert f"nest more than {MAX_DEPTH} levels" in capsys.readouterr().err
    big = tmp_path / "big.tex"
    big.write_text(HOSTILE["megabyte"])
    main(["check", str(big)])
    assert "at most 20000 are read" in capsys.readouterr().err


def test_errors_name_line_and_expectation(tmp_path, capsys):
    source = tmp_path / "typo.tex"
    source.write_text("\\begin{align*}\na &= \\sigma(z) \\\\\n  &= \\frac{1}{1+e^{-z}\n\\end{align*}\n")
    assert main(["check", str(source)]) == 2
    error = capsys.readouterr().err
    assert "line 4, column 1: expected '}' to close the denominator, found the end of the input" \
        in error


def test_reader_never_evaluates_text():
    modules = sorted((ROOT / "derive" / "reading").glob("*.py"))
    assert len(modules) > 5
    for module in modules:
        code = module.read_text()
        for forbidden in ("sympify", "parse_expr", "eval(", "exec(", "lambdify", "parse_latex"):
            assert forbidden not in code, (module.name, forbidden)


def test_stdin_and_json(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(r"\frac{\partial L}{\partial b} = a - y = y - a"))
    assert main(["check", "-", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["source"] == "<stdin>" and report["holds"] is False
    first, second = report["steps"]
    assert first["status"] == "proved" and second["status"] == "false"
    assert set(second["counterexample"]) <= {"z", "y", "x_j", "w_j", "b"}
    assert set(second["values"]) == {"lhs", "rhs"}
    assert second["lhs"]["latex"] == "a - y"


def test_plain_l_follows_the_loss_option(tmp_path):
    source = tmp_path / "se.tex"
    source.write_text(r"\frac{\partial L}{\partial b} = (a - y) a (1 - a)")
    assert main(["check", str(source), "--loss", "se"]) == 0
    assert main(["check", str(source)]) == 1


TANH_CHAIN = r"""
\begin{align*}
\frac{\partial L}{\partial b}
  &= \frac{dL}{da} \cdot \frac{\partial a}{\partial z} \cdot \frac{\partial z}{\partial b} \\
  &= (a - y) \cdot \tanh'(z) \cdot 1 \\
  &= (a - y) \cdot (1 - \tanh(z)^2) \\
  &= (a - y) \cdot (1 - a^2)
\end{align*}
"""


def test_another_activation_is_checked_in_its_own_model(tmp_path, capsys):
    """With --activation tanh, \\tanh' is the activation's derivative and a = tanh z; the
    sigmoid's a(1 − a) is then false."""
    source = tmp_path / "tanh.tex"
    source.write_text(TANH_CHAIN)
    assert main(["check", str(source), "--activation", "tanh"]) == 0
    source.write_text(TANH_CHAIN.replace("(1 - a^2)", "a (1 - a)"))
    assert main(["check", str(source), "--activation", "tanh"]) == 1
    assert "first at step 4" in capsys.readouterr().out


def test_a_loss_the_activation_cannot_feed_is_a_usage_error(tmp_path, capsys):
    source = tmp_path / "tanh.tex"
    source.write_text(TANH_CHAIN)
    assert main(["check", str(source), "--activation", "tanh", "--loss", "ce"]) == 2
    assert "valid losses for tanh: se" in capsys.readouterr().err


def test_readme_shows_real_output():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- check-example -->", 1)[1]
    latex_input = re.search(r"```latex\n(.+?)```", section, re.DOTALL).group(1)
    shown = re.search(r"```text\n(.+?)```", section, re.DOTALL).group(1)
    command = re.search(r"\$ (derive check .+)\n", shown).group(1)
    assert command == "derive check slip.tex"
    result = subprocess.run([sys.executable, "-m", "derive", "check", "-"], input=latex_input,
                            capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 1
    assert shown.split("\n", 1)[1] == result.stdout


OWN_NAMES = {
    # activation: (a correct derivation using its own LaTeX name, a slip, the step it breaks)
    "softplus": (r"""
\begin{align*}
\frac{d}{dz}\operatorname{softplus}(z) &= \frac{1}{1+e^{-z}} \\
  &= \sigma(z)
\end{align*}
\begin{align*}
\frac{\partial L}{\partial b} &= (a - y) \cdot \operatorname{softplus}'(z) \\
  &= (\mathrm{softplus}(z) - y) \cdot (1 - e^{-a})
\end{align*}
""", (r"\operatorname{softplus}'(z)", r"\operatorname{softplus}(z)"), 3),
    "identity": (r"""
\begin{align*}
\frac{\partial L}{\partial w_j} &= (a - y) \cdot \operatorname{id}'(z) \cdot x_j \\
  &= (\operatorname{id}(z) - y)\, x_j \\
  &= \left(w_j x_j + \sum_{k \neq j} w_k x_k + b - y\right) x_j
\end{align*}
""", (r"(\operatorname{id}(z) - y)", r"(\operatorname{id}(z) + y)"), 2),
    "exp": (r"""
\begin{align*}
\frac{d}{dz}\exp(z) &= \exp(z) = e^{z}
\end{align*}
\begin{align*}
\frac{\partial L}{\partial b} &= (a - y) \cdot \exp'(z) = (a - y)\, a
\end{align*}
""", (r"(a - y)\, a", r"(a - y)\, e^{-z}"), 4),
}


@pytest.mark.parametrize("name", list(OWN_NAMES))
def test_an_activation_is_read_under_its_own_latex_name(name, tmp_path, capsys):
    """--activation NAME reads the activation's registry spelling (\\operatorname{…} too)
    as the model's activation, and its primed form as da/dz; a slip is found where made."""
    correct, (right, wrong), step = OWN_NAMES[name]
    source = tmp_path / f"{name}.tex"
    source.write_text(correct)
    assert main(["check", str(source), "--activation", name]) == 0, capsys.readouterr()
    capsys.readouterr()
    assert right in correct
    source.write_text(correct.replace(right, wrong))
    assert main(["check", str(source), "--activation", name]) == 1
    output = capsys.readouterr().out
    assert f"first at step {step}," in output
    assert "FALSE" in output.split(f"step {step} (line")[1].split("\nstep ")[0]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_name_means_the_activation_in_its_own_model(name):
    """act(z) and act'(z) in the activation's own model; under every other model its name
    is the function itself (the logistic sigmoid for \\sigma, log(1 + e^u) for softplus)."""
    act = ACTIVATIONS[name]
    own = Model(act, (LOSSES["se"],))
    spellings = {act.latex, act.latex.replace(r"\operatorname", r"\mathrm")}
    for spelling in spellings:
        chain = read(f"{spelling}(z) = {spelling}'(z) = {spelling}(2 b)", own, "se")[0]
        assert [part.value for part in chain] == [
            own.activation(z), Derivative(own.activation(z), z), own.activation(2 * b)]
    for other in ACTIVATIONS.values():
        model = Model(other, (LOSSES["se"],))
        value = read(f"{act.latex}(z) = {act.latex}(z)", model, "se")[0][0].value
        difference = model.meaning(value) - act.expression(z)
        assert all(abs(difference.subs(z, point).evalf()) < 1e-12 for point in (-2.5, 0.3, 4)), \
            (name, other.name, value)


@pytest.mark.parametrize(("written", "message"), [
    (r"\operatorname{relu}(z) = z", r"unknown function \operatorname{relu}; the functions read are "
     + vocabulary.FUNCTIONS),
    (r"\log'(z) = z", r"line 1, column 5: a prime is read only after an activation's name"),
    (r"\operatorname{softplus}'(2 z) = z", r"\operatorname{softplus}' is read only at z"),
    (r"a \cdot \right) = a", r"'\right' is only read to close \left( or \left["),
])
def test_names_outside_the_vocabulary_are_refused_with_what_is_read(written, message, tmp_path,
                                                                    capsys):
    source = tmp_path / "unknown.tex"
    source.write_text(written)
    assert main(["check", str(source), "--activation", "softplus"]) == 2
    assert message in capsys.readouterr().err


def test_the_vocabulary_table_is_the_only_list_of_what_is_read():
    """Every word of the table is listed in the messages, every function row reads, and
    what the tokenizer drops or the parser reads follows the row's role."""
    readers = Parser("", tokenize(""), Losses(MODEL), "se").readers
    assert {row.role for row in vocabulary.WORDS.values() if row.role.starts_factor} \
        == set(readers)
    listed = vocabulary.EVERYTHING
    for row in vocabulary.WORDS.values():
        if row.role is vocabulary.SPACING:
            assert tokenize(f"a{row.spelling} b")[1].text == "b"
            continue
        assert all(form in listed for form in row.forms), row.spelling
        if row.role is vocabulary.FUNCTION:
            [[left, right]] = read(f"{row.spelling}(y) = 2 {row.spelling}(y)", MODEL, "se")
            assert 2 * left.value == right.value != 0, row.spelling


PIECES = ["a", "b", "y", "z", "x_j", "w_j", "e^{", "}", "{", "(", ")", r"\left(", r"\right)",
          r"\frac{", "}{", r"\cdot", "+", "-", "=", "^", "_", "1", "0", "2.5", r"\log",
          r"\sigma(", "a'", r"\partial", "d", "L", r"\mathcal{L}_{se}", "/", r"\text{x}",
          "&", r"\\", "\n", " ", "0^{-1}", r"\frac{d}{dz}", r"\frac{\partial L}{\partial w_j}",
          r"\ln(0)", "e^{1000}", "^{-64}", r"\sigma'(z)", r"\sum_{k\neq j} w_k x_k"]


def test_arbitrary_token_soup_never_raises(tmp_path):
    """Random mixtures of the vocabulary: always exit 0, 1 or 2, never a traceback."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    source = tmp_path / "soup.tex"

    @settings(max_examples=300, deadline=2000, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=25))
    def check_soup(pieces):
        source.write_text("".join(pieces))
        assert main(["check", str(source)]) in (0, 1, 2)

    check_soup()


def test_json_prints_a_second_derivative(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(r"\frac{d}{dz}\frac{d}{dz} z^2 = 2"))
    assert main(["check", "-", "--json"]) == 0
    (step,) = json.loads(capsys.readouterr().out)["steps"]
    assert step["lhs"]["text"] == "∂^2/∂z∂z (z**2)" and step["status"] == "proved"


def test_a_row_with_its_own_left_side_starts_a_new_chain(tmp_path, capsys):
    """A row break is never a product: each row that does not begin with '=' is a chain
    of its own, reported at its own line (the block a user reported as FALSE)."""
    source = tmp_path / "rows.tex"
    source.write_text("\\begin{align*}\n"
                      "\\sigma(z) &= \\frac{1}{1+e^{-z}} \\\\\n"
                      "\\frac{d}{dz}\\sigma(z) &= \\sigma(z)(1-\\sigma(z)) \\\\\n"
                      "a' &= 1 - a\n"
                      "\\end{align*}\n")
    assert main(["check", str(source)]) == 1
    report = capsys.readouterr().out
    assert "step 1 (line 2): = \\frac{1}{1+e^{-z}}\n    proved" in report
    assert "step 2 (line 3): = \\sigma(z)(1-\\sigma(z))\n    proved" in report
    assert "step 3 (line 4): = 1 - a\n    FALSE" in report
