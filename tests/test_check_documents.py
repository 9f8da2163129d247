"""``derive check`` on whole documents: Markdown, notebooks, several equations per block,
notation by role, --let, named mistakes and the Python API ``derive.check``."""

import json
import re
from pathlib import Path

import pytest

import derive
from derive.cli import main

CORPUS = Path(__file__).resolve().parent / "check_corpus"

ISSUE_BLOCK = r"""\begin{align*}
\sigma(z) &= \frac{1}{1+e^{-z}} \\
\frac{d}{dz}\sigma(z) &= \sigma(z)(1-\sigma(z))
\end{align*}
"""

MARKDOWN = r"""# Notes

The sigmoid is $\sigma(x) = \frac{1}{1+e^{-x}}$ and its slope follows.

$$
\begin{aligned}
\frac{d}{dx}\sigma(x) &= \frac{e^{-x}}{(1+e^{-x})^2} \\
&= \sigma(x)(1 - \sigma(x))
\end{aligned}
$$

A wrong claim: \[ \sigma'(x) = 1 - \sigma(x) \]
"""


def test_the_block_of_the_issue_holds(tmp_path):
    source = tmp_path / "block.tex"
    source.write_text(ISSUE_BLOCK)
    assert main(["check", str(source)]) == 0


def test_a_markdown_file_reports_every_chain_with_its_line(tmp_path, capsys):
    source = tmp_path / "notes.md"
    source.write_text(MARKDOWN)
    assert main(["check", str(source)]) == 1
    out = capsys.readouterr().out
    assert "read x as the pre-activation z" in out
    assert "step 1 (line 3): = \\frac{1}{1+e^{-x}}\n    proved" in out
    assert "step 2 (line 7): = \\frac{e^{-x}}{(1+e^{-x})^2}\n    proved" in out
    assert "step 3 (line 8): = \\sigma(x)(1 - \\sigma(x))\n    proved" in out
    assert "step 4 (line 12): = 1 - \\sigma(x)\n    FALSE" in out
    assert "mistake: σ' was taken as 1 − σ" in out
    assert "3 chains" in out


def test_a_notebook_reports_the_cell_and_its_line(tmp_path, capsys):
    cells = [{"cell_type": "code", "source": ["x = 1\n"]},
             {"cell_type": "markdown", "source": ["Text\n", "$$\\frac{\\partial L}{\\partial b} = a - y$$\n"]},
             {"cell_type": "markdown", "source": ["$$\\frac{\\partial L}{\\partial w_j} = a - y$$"]}]
    source = tmp_path / "lesson.ipynb"
    source.write_text(json.dumps({"cells": cells, "nbformat": 4}))
    assert main(["check", str(source)]) == 1
    out = capsys.readouterr().out
    assert "step 1 (cell 2, line 2): = a - y\n    proved" in out
    assert "step 2 (cell 3, line 1): = a - y\n    FALSE" in out
    assert "∂z/∂w_j = x_j is missing" in out


@pytest.mark.parametrize(("written", "chains"), [
    (r"$$\sigma(z) = \frac{1}{1+e^{-z}} \Rightarrow 1 - \sigma(z) = \frac{e^{-z}}{1+e^{-z}}$$", 2),
    (r"$$\sigma(z) = \frac{1}{1+e^{-z}}, \quad a = \sigma(z)$$", 2),
    (r"$$\sigma(z) = \frac{1}{1+e^{-z}} \implies a' = a(1 - a)$$", 2),
])
def test_several_equations_in_one_block_are_several_chains(written, chains, tmp_path, capsys):
    source = tmp_path / "several.md"
    source.write_text(written)
    assert main(["check", str(source)]) == 0
    assert f"{chains} chains" in capsys.readouterr().out


def test_published_names_are_read_by_role(tmp_path, capsys):
    source = tmp_path / "roles.md"
    source.write_text(r"$$\frac{\partial J(\theta)}{\partial \theta_j} = (h_\theta(x) - y) x_j$$"
                      "\n"
                      r"$$\frac{\partial \ell}{\partial \hat{y}} = \frac{\hat y - y}{\hat y (1 - \hat y)}$$")
    assert main(["check", str(source)]) == 0
    out = capsys.readouterr().out
    assert "read \\theta_j as the weight w_j" in out and "read \\hat{y} as the output a" in out


def test_let_declares_a_notation(tmp_path, capsys, monkeypatch):
    source = tmp_path / "let.md"
    source.write_text(r"$$\frac{d q}{d b} = o - t$$")
    assert main(["check", str(source)]) == 1  # q, o, t undeclared are free letters: dq/db = 0
    capsys.readouterr()
    assert main(["check", str(source), "--let", "q=L", "--let", "o=a", "--let", "t=y"]) == 0
    assert "read q as L (as declared)" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.derive]\nlet = { q = "L", o = "a", t = "y" }\n')
    assert main(["check", str(source)]) == 0


def test_sums_over_samples_and_the_mean(tmp_path, capsys):
    source = tmp_path / "mean.md"
    source.write_text(
        "$$J(w) = -\\frac1m \\sum_{i=1}^m y^{(i)} \\log a^{(i)} + (1 - y^{(i)}) \\log(1 - a^{(i)})$$\n"
        "$$\\frac{\\partial J}{\\partial w_j} = \\frac{1}{m}\\sum_{i=1}^{m} (a^{(i)} - y^{(i)}) x_j^{(i)}"
        " = \\frac{1}{m}\\sum_i (a_i - y_i) x_j$$\n"
        "$$\\frac{\\partial J}{\\partial b} = \\sum_{i=1}^{m} (a^{(i)} - y^{(i)})$$\n")
    assert main(["check", str(source)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"step 2 \(line 2\).*\n    proved", out)
    assert re.search(r"step 3 \(line 2\).*\n    proved", out)
    assert "step 4 (line 3)" in out and "the 1/m of the average is missing" in out


def test_a_sample_beside_a_sum_is_never_proved(tmp_path, capsys):
    source = tmp_path / "loose.md"
    source.write_text(r"$$\sum_{i=1}^{m} y^{(i)} = m y^{(i)}$$")
    main(["check", str(source)])
    assert "undecided" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.tex")), ids=lambda path: path.stem)
def test_named_mistakes_only_where_made(path, capsys):
    lines = path.read_text().splitlines()
    expected = lines[1].removeprefix("% mistake: ") if lines[1].startswith("% mistake: ") else None
    main(["check", str(path)])
    mistakes = re.findall(r"    mistake: (.*)", capsys.readouterr().out)
    if lines[0] == "% expect: holds":
        assert mistakes == []
    elif expected is not None:
        assert any(expected in mistake for mistake in mistakes), mistakes


def test_the_python_api_returns_the_report():
    report = derive.check(r"\frac{\partial L}{\partial b} = a - y = y - a")
    assert report.holds is False
    assert [step.status for step in report.steps] == ["proved", "false"]
    assert "<table>" in report._repr_html_() and "the sign is flipped" in report._repr_html_()
    assert report._repr_markdown_().startswith("| step | where | written | verdict | note |")


def test_the_readme_api_example_runs():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("<!-- api-example -->", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    lines = example.splitlines()
    code = "\n".join(line for line in lines if not line.startswith("# → "))
    shown = [line.removeprefix("# → ") for line in lines if line.startswith("# → ")]
    namespace = {}
    exec(compile(code, "README", "exec"), namespace)  # noqa: S102 - the README's own example
    assert [str(value) for value in namespace["shown"]] == shown
