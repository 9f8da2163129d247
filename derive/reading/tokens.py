"""The LaTeX reader's tokens (numbers, single letters, commands, punctuation) and the
stream a parser walks through them.

A command token's ``text`` is its name without the backslash; ``spelling`` puts the
backslash back, which is how ``derive.reading.vocabulary`` spells it, and ``word`` is its
row there (None for punctuation, numbers and unknown words). White space and the
vocabulary's SPACING words are dropped here. Lines and columns count from 1, columns
in characters. Errors are ``LatexInputError``: the line, the column, what is wrong and
what was expected.

Limits keep hostile input cheap: at most ``MAX_CHARACTERS`` characters, numbers of at
most ``MAX_DIGITS`` digits, nesting at most ``MAX_DEPTH`` deep (counted by the parser
through ``TokenStream.nested``), and reading stops after ``TIME_LIMIT`` seconds: the
stream's ``deadline`` (one for the whole input, see ``derive.reading.report.read``) is
checked at every token, and ``derive.reading.reader`` also stops the parse by a timer at
the same moment.
"""

import re
import time
from dataclasses import dataclass

from derive.reading.vocabulary import EVERYTHING, is_spacing, word

MAX_CHARACTERS = 20_000
MAX_DIGITS = 15
MAX_DEPTH = 60
TIME_LIMIT = 1.0


class LatexInputError(ValueError):
    """The input is not an expression of the accepted grammar."""

    def __init__(self, line, column, message):
        super().__init__(f"line {line}, column {column}: {message}")
        self.line, self.column, self.reason = line, column, message


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "letter", "command", "symbol", "end"
    text: str
    line: int
    column: int
    offset: int  # where the token starts in the source

    @property
    def spelling(self):
        """The token as the vocabulary spells it: commands with their backslash."""
        return f"\\{self.text}" if self.kind == "command" else self.text

    @property
    def word(self):
        """The vocabulary's row for this letter or command, or None."""
        return word(self.spelling) if self.kind in ("letter", "command") else None

    @property
    def role(self):
        found = self.word
        return found.role if found is not None else None

    def __str__(self):
        if self.kind == "end":
            return "the end of the input"
        return f"'{self.spelling}'"


_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>\d+(?:\.\d+)?|\.\d+)|(?P<command>\\(?:[A-Za-z]+|.))"
    r"|(?P<letter>[A-Za-z])|(?P<symbol>[-+*/^_()\[\]{}=',|&<>.])",
    re.DOTALL,
)


def too_long(line=1):
    """The error for an input of more than ``MAX_CHARACTERS`` characters. Its real size is
    not given: a reader stops after MAX_CHARACTERS + 1 characters, and so does the CLI."""
    return LatexInputError(line, 1, f"the input has more than {MAX_CHARACTERS} characters; "
                           f"at most {MAX_CHARACTERS} are read: check a shorter derivation, "
                           "or split it into several files")


def tokenize(source, first_line=1):
    """Tokens of ``source``, ending with an "end" token; spacing is dropped."""
    if len(source) > MAX_CHARACTERS:
        raise too_long(first_line)
    tokens, position, line, line_start = [], 0, first_line, 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        column = position - line_start + 1
        if match is None:
            raise LatexInputError(line, column, f"unexpected character {source[position]!r}; "
                                  f"expected mathematics using {EVERYTHING}")
        kind, text = match.lastgroup, match.group()
        if kind == "command":
            text = text[1:]
        if kind == "space" or (kind == "command" and is_spacing(f"\\{text}")):
            pass
        elif kind == "number" and len(text.replace(".", "")) > MAX_DIGITS:
            raise LatexInputError(line, column, f"number with more than {MAX_DIGITS} digits")
        else:
            tokens.append(Token(kind, text, line, column, position))
        newlines = text.count("\n") if kind == "space" else 0
        if newlines:
            line += newlines
            line_start = position + text.rindex("\n") + 1
        position = match.end()
    tokens.append(Token("end", "", line, position - line_start + 1, position))
    return tokens


class TokenStream:
    """The tokens of one chain, read left to right; ``fail`` raises at a token. Reading
    stops at ``deadline`` (``time.monotonic()``; default: ``TIME_LIMIT`` from now)."""

    def __init__(self, tokens, deadline=None):
        self.tokens, self.index, self.depth = tokens, 0, 0
        self.deadline = time.monotonic() + TIME_LIMIT if deadline is None else deadline

    @property
    def peek(self):
        return self.tokens[self.index]

    @property
    def following(self):
        """The token after the next one (the end token at the end)."""
        return self.tokens[min(self.index + 1, len(self.tokens) - 1)]

    def advance(self):
        if time.monotonic() > self.deadline:
            self.out_of_time()
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind, text=None):
        token = self.peek
        return token.kind == kind and (text is None or token.text == text)

    def at_role(self, role):
        return self.peek.role is role

    def accept(self, kind, text=None):
        if self.at(kind, text):
            return self.advance()
        return None

    def expect(self, kind, text, what):
        if self.at(kind, text):
            return self.advance()
        self.fail(f"expected {what}, found {self.peek}")

    def fail(self, message, token=None):
        token = token or self.peek
        raise LatexInputError(token.line, token.column, message)

    def out_of_time(self):
        self.fail(f"the input took more than {TIME_LIMIT:g} s to read; check a shorter "
                  "or simpler derivation")

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expressions nest more than {MAX_DEPTH} levels deep")
