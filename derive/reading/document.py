r"""The mathematics of a whole document, as people publish it, cut into equations.

A document is a LaTeX file, a Markdown file or a Jupyter notebook (its markdown cells;
``cells``). ``displays`` finds every display in it — ``\begin{align}`` and its kin,
``\[ … \]``, ``$$ … $$`` — and every inline ``$ … $`` or ``\( … \)`` that holds an
equality; text outside mathematics is ignored, and so are Markdown code blocks other
than ``latex``/``tex``/``math`` ones. An input with no display at all is one block, the
whole text (lines that each start with "=" are a chain).

``tidy`` undoes typography that does not change the mathematics: inner environments
(``aligned``, ``array`` with its column spec, ``split``, ``eqnarray``), ``\boxed``,
``\cancel``, ``\underbrace{…}_{…}``, ``\color``, ``\underset{…}{=}`` and its kin, bold
or arrowed letters, ``\mathrm{d}`` and ``\mathrm{e}``, typographic primes and full-width
punctuation. ``equations`` cuts a block into ``Piece``\ s: rows end at ``\\``; within a
row ``\Rightarrow``, ``\implies``, ``\therefore``, and a ``\quad``, comma or semicolon
followed by another equality start a new equation. A piece that begins with a relation
continues the chain before it (also across displays, as a display that begins with "="
does); any other piece starts a chain. Nothing is evaluated: this is text cutting, and
line numbers are kept (a removed line break is replaced by one).
"""

import json
import re
from dataclasses import dataclass

_ENVIRONMENTS = "align|equation|gather|multline|eqnarray|flalign|displaymath|math"
_DISPLAY = re.compile(
    rf"\\begin\{{({_ENVIRONMENTS})(\*?)\}}(?P<env>.*?)\\end\{{\1\2\}}"
    r"|\\\[(?P<bracket>.*?)\\\]|\$\$(?P<dollars>.*?)\$\$"
    r"|\\\((?P<paren>.*?)\\\)|(?<![\\$])\$(?P<inline>[^$]+?)(?<!\\)\$",
    re.DOTALL,
)
_FENCE = re.compile(r"^(```+|~~~+)[ \t]*([A-Za-z]*)[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)
_INNER = re.compile(r"\\(?:begin|end)\{(?:aligned|alignedat|array|split|gathered|eqnarray|"
                    r"align|equation|gather|multline|flalign)\*?\}(?:\{[^{}]*\})?")
_KEEP_SECOND = ("color", "textcolor", "colorbox")
_BARE = ("boxed", "cancel", "bcancel", "xcancel")
_KEEP_FIRST = ("mathbf", "boldsymbol", "bm", "vec",
               "mathit", "pmb", "underline", "overline", "mathbb")
_BELOW = ("underbrace", "overbrace")
_RELATION_ABOVE = ("underset", "overset", "stackrel")
_CHARACTERS = {"’": "'", "′": "'", "‘": "'", "−": "-", "（": "(", "）": ")", "＝": "=",
               "，": ",", "：": ":", "；": ";", "·": r" \cdot ", "×": r" \times ", "\u00a0": " ",
               "＋": "+", "－": "-", "σ": r"\sigma ", "θ": r"\theta ", "ŷ": r"\hat{y} "}
_SPLITTERS = re.compile(r"\\(?:Rightarrow|implies|Longrightarrow|therefore|because|iff)\b"
                        r"|\\q?quad\b|[,;]")
_ALWAYS = ("\\Rightarrow", "\\implies", "\\Longrightarrow", "\\therefore", "\\because",
           "\\iff")
_ROW_BREAK = re.compile(r"\\\\(?:\s*\[[^\]]*\])?|\\newline\b")


@dataclass(frozen=True)
class Piece:
    """One equation (or the continuation of one): its text, the line it starts on in the
    file, the notebook cell (0 outside notebooks), and whether it continues the chain
    before it."""

    text: str
    line: int
    cell: int = 0
    continues: bool = False


def cells(source):
    """[(text, cell number, line of its first character)] of an input: the markdown cells
    of a notebook (numbered from 1, lines counted within the cell), else the whole text."""
    if not source.lstrip().startswith("{"):
        return [(source, 0, 1)]
    try:
        notebook = json.loads(source)
    except ValueError:
        return [(source, 0, 1)]
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return [(source, 0, 1)]
    found = []
    for number, cell in enumerate(notebook["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        text = cell.get("source", "")
        text = "".join(str(line) for line in text) if isinstance(text, list) else str(text)
        found.append((text, number, 1))
    return found


def _blank(match):
    """The match replaced by spaces, line breaks kept."""
    return re.sub(r"[^\n]", " ", match.group())


def _without_code(text):
    """Markdown code blocks blanked out, except latex/tex/math ones (whose text stays)."""
    def blank(match):
        if match.group(2).lower() in ("latex", "tex", "math"):
            return "\n" + match.group(3) + "\n" * (match.group().count("\n") - match.group(3).count("\n") - 1)
        return _blank(match)
    return _FENCE.sub(blank, text)


def displays(text, first_line=1):
    """[(block text, first line, whether it is inline)] of the mathematics in ``text``;
    the whole text when it has no display."""
    text = _without_code(text)
    found = []
    for match in _DISPLAY.finditer(text):
        name = next(key for key in ("env", "bracket", "dollars", "paren", "inline")
                    if match.group(key) is not None)
        body = match.group(name)
        if name in ("inline", "paren") and "=" not in body:
            continue
        line = first_line + text.count("\n", 0, match.start(name))
        found.append((body, line, name in ("inline", "paren")))
    return found


# --- typography -------------------------------------------------------------------------

def _group_end(text, start):
    """The index after the brace group opening at ``start`` (``text[start] == '{'``), or -1."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "\\":
            continue
        if text[index] == "{" and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif text[index] == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return index + 1
    return -1


def _arguments(text, position, count):
    """[(start, end)] of ``count`` brace groups from ``position`` (spaces skipped), or None."""
    groups = []
    for _ in range(count):
        while position < len(text) and text[position] in " \t":
            position += 1
        if position >= len(text) or text[position] != "{":
            return None
        end = _group_end(text, position)
        if end < 0:
            return None
        groups.append((position, end))
        position = end
    return groups


def _rewrite(text, names, count, keep, after=None, bare=False):
    """Each ``\\name{…}…`` (``count`` groups) replaced by the group ``keep`` (its braces
    kept, or with ``bare`` dropped unless a power or subscript follows: braces are
    invisible, so ``y \\cancel{- y h}`` reads y - y h), a following ``_{…}``/``^{…}``
    dropped where ``after`` says so."""
    pattern = re.compile(r"\\(" + "|".join(names) + r")(?![A-Za-z])")
    position = 0
    while True:
        match = pattern.search(text, position)
        if match is None:
            return text
        groups = _arguments(text, match.end(), count)
        if groups is None:
            position = match.end()
            continue
        end = groups[-1][1]
        if after:
            tail = re.match(r"\s*[_^]\s*", text[end:])
            if tail and end + tail.end() < len(text) and text[end + tail.end()] == "{":
                close = _group_end(text, end + tail.end())
                if close > 0:
                    end = close
            elif tail:
                end += tail.end() + 1
        start, stop = groups[keep]
        kept = text[start:stop]
        if re.fullmatch(r"\{\s*[A-Za-z]\s*\}", kept) or (
                bare and not re.match(r"\s*[_^']", text[end:])):
            kept = " " + kept[1:-1] + " "
        removed = text[match.start():end]
        text = text[:match.start()] + kept + "\n" * (removed.count("\n") - kept.count("\n")) + text[end:]
        position = match.start() + 1


def tidy(block):
    """The block with typography that does not change the mathematics undone."""
    for old, new in _CHARACTERS.items():
        block = block.replace(old, new)
    block = _INNER.sub(" ", block)
    block = re.sub(r"\{\\color\{[^{}]*\}", "{", block)
    block = re.sub(r"\\mathrm\{\s*([de])\s*\}", r" \1 ", block)
    block = re.sub(r"\\(?:text|mathrm|operatorname)\{\s*(MSE|BCE|Loss|Cost|CE|loss|cost)\s*\}", r" J ", block)
    block = re.sub(r"\\(?:text|mathrm)\{\s*(tanh|sech|cosh|sinh|exp|log|ln)\s*\}", r"\\\1 ", block)
    block = re.sub(r"\\operatorname\{\s*(tanh|sech|cosh|sinh)\s*\}", r"\\\1 ", block)
    block = re.sub(r"\\(?:left|right)\.", " ", block)
    block = re.sub(r"\\require\{[^{}]*\}", " ", block)
    block = re.sub(r"\{\s*-\s*([A-Za-z])\s*\}(?=\s*\^)", r"-\1", block)
    block = re.sub(r"(?<![A-Za-z\\])([A-Za-z])\^\{\(i\)\}_(\{[^{}]*\}|[A-Za-z0-9])", r"\1_\2^{(i)}", block)
    block = re.sub(r"\\(?:operatorname|text|mathrm)\{\s*(?:since|because)\s*\}", r" \\because ", block)
    block = re.sub(r"(?<![\\A-Za-z{])(log|ln)(?![A-Za-z])", r"\\\1 ", block)
    block = re.sub(r"\\partial\s*\{\s*(\\?[A-Za-z]+)\s*\}", r"\\partial \1 ", block)
    block = re.sub(r"\\(?:cdots|ldots|dots)\b", r" \\dots ", block)
    block = _rewrite(block, _BARE, 1, 0, bare=True)
    block = _rewrite(block, _KEEP_FIRST, 1, 0)
    block = _rewrite(block, _KEEP_SECOND, 2, 1)
    block = _rewrite(block, _BELOW, 1, 0, after=True)
    block = _rewrite(block, ("cancelto",), 2, 1)
    block = _rewrite(block, _RELATION_ABOVE, 2, 1)
    return re.sub(r"\{\s*[,.;]\s*\}", " ", block)


# --- equations ----------------------------------------------------------------------------

def _top_level_splits(row):
    """Where ``row`` is cut into equations: the separators at brace and bracket depth 0
    after which a new equation begins."""
    cuts, depth = [], 0
    for match in re.finditer(r"\\[A-Za-z]+|\\.|[{}()\[\]]|[,;]", row):
        token = match.group()
        if token in ("{", "(", "[", "\\{", "\\left"):
            depth += 1
        elif token in ("}", ")", "]", "\\}", "\\right"):
            depth -= 1
        elif depth <= 0 and _SPLITTERS.fullmatch(token):
            cuts.append((match.start(), match.end(), token in _ALWAYS))
    return cuts


def _pieces_of_row(row):
    """[(offset, text)] of the equations in one row."""
    cuts = _top_level_splits(row)
    pieces, start = [], 0
    for begin, end, always in cuts:
        before, after = row[start:begin], row[end:]
        if always or ("=" in before and "=" in after.split(",")[0].split(";")[0]):
            pieces.append((start, before))
            start = end
        elif not always and row[begin] in ",;":
            row = row[:begin] + " " + row[begin + 1:]
    pieces.append((start, row[start:]))
    return pieces


def equations(block, first_line, cell=0, aside=lambda text: text):
    """[Piece] of one block; ``aside`` sets annotations aside (lines kept) before the
    row's first relation is looked for."""
    pieces = []
    starts = [0] + [match.end() for match in _ROW_BREAK.finditer(block)]
    ends = [match.start() for match in _ROW_BREAK.finditer(block)] + [len(block)]
    for start, end in zip(starts, ends, strict=True):
        row = block[start:end]
        for offset, text in _pieces_of_row(row):
            bare = aside(text).strip()
            if not bare:
                continue
            line = first_line + block.count("\n", 0, start + offset)
            pieces.append(Piece(text, line, cell, bare.startswith("=")))
    return pieces
