"""``derive.check(text)``: the reader as a Python function, for notebooks and tools.

``check`` reads ``text`` (a derivation, or a whole LaTeX/Markdown document or notebook
JSON) in the chosen neuron's model and returns a ``Report``: ``holds``, ``steps`` (the
``CheckedStep`` of every equality), ``not_read``, ``notation``, ``text`` (what the
command line prints) and ``as_json()``; in Jupyter it renders as a table of steps
(``_repr_html_``, ``_repr_markdown_``). An input that cannot be read at all raises
``derive.reading.reader.LatexInputError``.
"""

import html

from derive.engine.choice import choose
from derive.engine.model import Model
from derive.engine.registry import valid_losses
from derive.reading.notation import parse_let
from derive.reading.report import FALSE, as_json, as_text, check_chains, holds, read


class Report:
    """What ``derive check`` found in one input."""

    def __init__(self, results, chains, name):
        self.steps, self.chains, self.name = results, chains, name
        self.holds = holds(results)
        self.not_read = list(chains.unread)
        self.notation = list(chains.notes)
        self.text = as_text(results, chains)

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"<derive.check report: {self.text.splitlines()[-1]}>"

    def as_json(self):
        return as_json(self.steps, self.name, self.chains)

    def _rows(self):
        for step in self.steps:
            verdict = step.status.upper() if step.status == FALSE else step.status
            note = "; ".join(part for part in (step.mistake, step.reason) if part)
            yield (str(step.index), step.where, step.written, verdict, note)

    def _repr_markdown_(self):
        def cell(value):
            return value.replace("|", "\\|")
        lines = ["| step | where | written | verdict | note |", "| --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in self._rows()]
        return "\n".join(lines) + "\n\n" + self.text.splitlines()[-1] + "\n"

    def _repr_html_(self):
        head = "".join(f"<th>{name}</th>" for name in ("step", "where", "written", "verdict",
                                                       "note"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row)
                       + "</tr>" for row in self._rows())
        summary = html.escape(self.text.splitlines()[-1])
        return f"<table><tr>{head}</tr>{body}</table><p>{summary}</p>"


def check(text, *, activation="sigmoid", loss=None, let=(), name="<text>"):
    """The ``Report`` of ``text`` in the model of ``activation`` with a plain L the
    ``loss`` (default: ce where valid); ``let`` is notation as ["WRITTEN=MEANS", …]."""
    act, _ = choose(activation)
    valid = valid_losses(act)
    plain = loss or ("ce" if "ce" in valid else valid[0])
    choose(act.name, [plain])
    model = Model(*choose(act.name, valid))
    chains = read(text, model, plain, [parse_let(item) for item in let])
    return Report(check_chains(chains, model), chains, name)
