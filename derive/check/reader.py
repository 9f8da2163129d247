"""A small, strict reader of LaTeX mathematics as students write it, into SymPy.

Nothing here evaluates user text: the input is cut into tokens, a recursive-descent
parser accepts a fixed grammar, and SymPy objects are built directly from a fixed
vocabulary. Anything outside it is an error that names the line and column and says
what was expected.

Vocabulary (the note's meanings): a, b, y, z, x_j, w_j, e (Euler's number; e^{u} is
the exponential), a' (= act'(z)), \\sigma(u) and \\sigma'(z) (the model's activation
when it is the sigmoid, else the logistic sigmoid itself), \\tanh likewise, L and
\\mathcal{L} with an optional subscript naming a loss, \\log, \\ln, \\exp, \\frac,
\\cdot, \\times, powers, parentheses with or without \\left/\\right,
\\sum_{k \\neq j} w_k x_k (the rest of the weighted sum), and derivatives written
\\frac{dL}{da}, \\frac{\\partial L}{\\partial w_j} or \\frac{d}{dz}(…) (which applies to
the whole product that follows). Numbers are read exactly (0.5 is 1/2).

Limits keep hostile input cheap: at most ``MAX_CHARACTERS`` characters, nesting at
most ``MAX_DEPTH`` deep, exponents at most ``MAX_EXPONENT`` in size, and a parse that
takes longer than ``TIME_LIMIT`` seconds is stopped.
"""

import re
import time
from dataclasses import dataclass

from sympy import Derivative, E, Rational, S, exp, log, tanh

from derive.engine.stable import Sigmoid
from derive.engine.symbols import a, b, rest, w_j, x_j, y, z

MAX_CHARACTERS = 20_000
MAX_DEPTH = 60
MAX_EXPONENT = 64
MAX_DIGITS = 15
TIME_LIMIT = 1.0

VARIABLES = {"a": a, "b": b, "y": y, "z": z}
SUBSCRIPTED = {("x", "j"): x_j, ("w", "j"): w_j}
SPACING = {",", ";", "!", ":", " ", "quad", "qquad", "displaystyle", "textstyle",
           "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
           "Biggl", "Biggr", "nonumber", "notag"}
FUNCTIONS = {"log": log, "ln": log, "exp": exp, "tanh": tanh}
KNOWN = ("a, a', b, y, z, x_j, w_j, e^{…}, L (or L_{se}, L_{ce}), \\sigma(…), \\tanh(…), "
         "\\log, \\ln, \\exp, \\frac, \\cdot")


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

    def __str__(self):
        if self.kind == "end":
            return "the end of the input"
        return f"'\\{self.text}'" if self.kind == "command" else f"'{self.text}'"


_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>\d+(?:\.\d+)?|\.\d+)|(?P<command>\\(?:[A-Za-z]+|.))"
    r"|(?P<letter>[A-Za-z])|(?P<symbol>[-+*/^_()\[\]{}=',|&<>.])",
    re.DOTALL,
)


def tokenize(source, first_line=1):
    """Tokens of ``source``; spacing commands and white space are dropped."""
    if len(source) > MAX_CHARACTERS:
        raise LatexInputError(first_line, 1, f"the input has {len(source)} characters; "
                              f"at most {MAX_CHARACTERS} are read")
    tokens, position, line, line_start = [], 0, first_line, 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        column = position - line_start + 1
        if match is None:
            raise LatexInputError(line, column, f"unexpected character {source[position]!r}; "
                                  f"expected mathematics using {KNOWN}")
        kind, text = match.lastgroup, match.group()
        if kind == "command":
            text = text[1:]
        if kind == "space" or (kind == "command" and text in SPACING):
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


class Parser:
    """Recursive descent over the tokens of one chain ``e0 = e1 = … = en``."""

    def __init__(self, source, tokens, losses, default_loss):
        self.source, self.tokens, self.index, self.depth = source, tokens, 0, 0
        self.losses, self.default_loss = losses, default_loss
        self.deadline = time.monotonic() + TIME_LIMIT

    # --- token handling -------------------------------------------------------------

    @property
    def peek(self):
        return self.tokens[self.index]

    def advance(self):
        if time.monotonic() > self.deadline:
            token = self.peek
            raise LatexInputError(token.line, token.column,
                                  f"the input took more than {TIME_LIMIT} s to read")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind, text=None):
        token = self.peek
        return token.kind == kind and (text is None or token.text == text)

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

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expressions nest more than {MAX_DEPTH} levels deep")

    # --- grammar ----------------------------------------------------------------------

    def chain(self):
        """[Part] for ``e0 = e1 = …``; the whole input must be used."""
        parts = [self.part(self.tokens[0].line)]
        while True:
            equals = self.accept("symbol", "=")
            if equals is None:
                break
            parts.append(self.part(equals.line))
        if not self.at("end"):
            self.fail(f"expected '=', an operator or the end of the expression, "
                      f"found {self.peek}")
        return parts

    def part(self, line):
        start_token = self.peek
        start = start_token.offset
        value = self.expression()
        if value.has(S.ComplexInfinity, S.NaN):
            self.fail("this expression divides by zero (or is otherwise undefined)",
                      start_token)
        written = " ".join(self.source[start:self.peek.offset].split())
        return Part(value, line, written)

    def expression(self):
        self.nested()
        if self.at("end") or self.at("symbol", "="):
            self.fail(f"expected an expression, found {self.peek}")
        sign = 1
        if self.accept("symbol", "-"):
            sign = -1
        else:
            self.accept("symbol", "+")
        value = sign * self.term()
        while True:
            if self.accept("symbol", "+"):
                value = value + self.term()
            elif self.accept("symbol", "-"):
                value = value - self.term()
            else:
                break
        self.depth -= 1
        return value

    def term(self):
        value = self.factor()
        while True:
            if self.accept("command", "cdot") or self.accept("command", "times") \
                    or self.accept("symbol", "*"):
                value = value * self.factor()
            elif self.accept("symbol", "/"):
                value = value / self.factor()
            elif self.starts_factor():
                value = value * self.factor()
            else:
                return value

    def starts_factor(self):
        token = self.peek
        if token.kind in ("number", "letter"):
            return True
        if token.kind == "symbol":
            return token.text in "([{"
        return token.kind == "command" and token.text in (
            "left", "frac", "dfrac", "tfrac", "sigma", "mathcal", "sum", *FUNCTIONS)

    def factor(self):
        if self.accept("symbol", "-"):
            return -self.factor()
        base = self.atom()
        if self.accept("symbol", "^"):
            exponent = self.group_or_atom()
            if exponent.is_number and exponent.is_real and abs(exponent) > MAX_EXPONENT:
                self.fail(f"exponents larger than {MAX_EXPONENT} are not read")
            return exp(exponent) if base == E else base**exponent
        return base

    def group_or_atom(self):
        if self.accept("symbol", "{"):
            value = self.expression()
            self.expect("symbol", "}", "'}'")
            return value
        if self.at("symbol", "-"):
            self.advance()
            return -self.atom()
        return self.atom()

    def atom(self):
        token = self.peek
        if token.kind == "number":
            self.advance()
            return Rational(token.text)
        if token.kind == "letter":
            return self.letter()
        if token.kind == "symbol" and token.text in "([{":
            return self.parenthesised()
        if token.kind == "command":
            return self.command()
        self.fail(f"expected a number, a symbol or '(', found {token}")

    def parenthesised(self):
        opening = self.advance().text
        closing = {"(": ")", "[": "]", "{": "}"}[opening]
        value = self.expression()
        self.expect("symbol", closing, f"'{closing}' to match '{opening}'")
        return value

    def left_right(self):
        opening = self.advance()
        if not (opening.kind == "symbol" and opening.text in "(["):
            self.fail(f"expected '(' or '[' after \\left, found {opening}", opening)
        closing = {"(": ")", "[": "]"}[opening.text]
        value = self.expression()
        self.expect("command", "right", f"'\\right{closing}'")
        self.expect("symbol", closing, f"'{closing}' after \\right")
        return value

    def command(self):
        token = self.advance()
        name = token.text
        if name == "left":
            return self.left_right()
        if name in ("frac", "dfrac", "tfrac"):
            return self.fraction()
        if f"\\{name}" == self.losses.activation.latex:
            return self.activation(token)
        if name in FUNCTIONS:
            return FUNCTIONS[name](self.argument(name))
        if name == "sigma":
            return self.activation(token, Sigmoid)
        if name == "mathcal":
            self.expect("symbol", "{", "'{' after \\mathcal")
            self.expect("letter", "L", "'L' (the only calligraphic letter read)")
            self.expect("symbol", "}", "'}'")
            return self.loss(token)
        if name == "sum":
            return self.rest_of_sum(token)
        if name == "partial":
            self.fail("\\partial is only read inside a derivative such as "
                      "\\frac{\\partial L}{\\partial w_j}", token)
        self.fail(f"unknown command \\{name}; the commands read are \\frac, \\cdot, \\times, "
                  "\\left, \\right, \\log, \\ln, \\exp, \\tanh, \\sigma, \\mathcal, "
                  "\\partial, \\sum", token)

    def argument(self, name):
        if self.at("symbol", "(") or self.at("symbol", "["):
            return self.parenthesised()
        if self.at("command", "left"):
            self.advance()
            return self.left_right()
        if self.at("symbol", "{"):
            return self.parenthesised()
        if self.at("end") or self.at("symbol"):
            self.fail(f"expected the argument of \\{name}, found {self.peek}")
        return self.factor()

    def activation(self, token, function=None):
        """The model's activation (or ``function``: \\sigma under another activation is
        the logistic sigmoid), applied; with a prime, its derivative at z."""
        name = token.text
        function = function or self.losses.activation.function
        prime = self.accept("symbol", "'")
        if not (self.at("symbol", "(") or self.at("command", "left") or self.at("symbol", "{")):
            self.fail(f"expected '(' after \\{name}")
        argument = self.argument(name)
        if prime:
            if argument != z:
                self.fail(f"\\{name}' is read only at z: write \\{name}'(z)", token)
            return Derivative(function(z), z)
        return function(argument)

    def letter(self):
        token = self.advance()
        name = token.text
        if name == "e":
            return E
        if name == "L":
            return self.loss(token)
        if name in ("x", "w"):
            index = self.subscript(token)
            if (name, index) not in SUBSCRIPTED:
                self.fail(f"unknown symbol {name}_{index}; only {name}_j is read", token)
            return SUBSCRIPTED[(name, index)]
        if name in VARIABLES:
            if self.at("symbol", "_"):
                self.fail(f"{name} takes no subscript", token)
            value = VARIABLES[name]
            if name == "a" and self.accept("symbol", "'"):
                return Derivative(a, z)
            return value
        if name == "d":
            self.fail("'d' is only read inside a derivative such as \\frac{dL}{da}", token)
        self.fail(f"unknown symbol '{name}'; the symbols read are {KNOWN}", token)

    def subscript(self, token):
        if not self.accept("symbol", "_"):
            self.fail(f"expected a subscript after {token.text} (as in {token.text}_j)")
        if self.accept("symbol", "{"):
            parts, depth = [], 1
            while True:
                part = self.advance()
                if part.kind == "symbol" and part.text in "{}":
                    depth += 1 if part.text == "{" else -1
                    if depth == 0:
                        break
                elif part.kind == "command" and part.text in ("text", "mathrm", "textrm"):
                    continue
                elif part.kind in ("letter", "number"):
                    parts.append(part.text)
                else:
                    self.fail(f"expected letters in the subscript, found {part}", part)
            return "".join(parts)
        part = self.advance()
        if part.kind not in ("letter", "number"):
            self.fail(f"expected a subscript, found {part}", part)
        return part.text

    def loss(self, token):
        if not self.at("symbol", "_"):
            return self.losses.symbol(self.default_loss)
        name = self.subscript(token)
        if name not in self.losses.names:
            self.fail(f"unknown loss L_{name}; the losses are "
                      f"{', '.join('L_' + n for n in self.losses.names)}", token)
        return self.losses.symbol(name)

    def rest_of_sum(self, token):
        """\\sum_{k \\neq j} w_k x_k is the rest of the weighted sum; with ^n, all of it."""
        self.expect("symbol", "_", "a subscript after \\sum")
        self.expect("symbol", "{", "'{'")
        index = self.expect("letter", None, "the summation index").text
        whole = bool(self.accept("symbol", "="))
        if whole:
            self.expect("number", "1", "1 (a sum from 1 to n)")
        else:
            if not (self.accept("command", "neq") or self.accept("command", "ne")):
                self.fail("expected \\neq j in the subscript of \\sum")
            self.expect("letter", "j", "j")
        self.expect("symbol", "}", "'}'")
        if whole:
            self.expect("symbol", "^", "'^n'")
            braced = self.accept("symbol", "{")
            self.expect("letter", "n", "n")
            if braced:
                self.expect("symbol", "}", "'}'")
        for letter in ("w", "x"):
            self.expect("letter", letter, f"{letter}_{index}")
            if self.subscript(token) != index:
                self.fail(f"expected the summation index {index} in the subscript")
        return z - b if whole else rest

    def fraction(self):
        if self.derivative_ahead():
            return self.derivative()
        self.expect("symbol", "{", "'{' after \\frac")
        numerator = self.expression()
        self.expect("symbol", "}", "'}' to close the numerator")
        self.expect("symbol", "{", "'{' to open the denominator")
        denominator = self.expression()
        self.expect("symbol", "}", "'}' to close the denominator")
        return numerator / denominator

    def derivative_ahead(self):
        following = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
        return self.at("symbol", "{") and following is not None and (
            (following.kind == "letter" and following.text == "d")
            or (following.kind == "command" and following.text == "partial"))

    def derivative(self):
        self.advance()  # {
        self.advance()  # d or \partial
        operator = self.accept("symbol", "}")
        if not operator:
            function = self.expression()
            self.expect("symbol", "}", "'}' to close the numerator of the derivative")
        self.expect("symbol", "{", "'{' to open the denominator of the derivative")
        mark = self.advance()
        if not ((mark.kind == "letter" and mark.text == "d") or
                (mark.kind == "command" and mark.text == "partial")):
            self.fail(f"expected d or \\partial in the denominator, found {mark}", mark)
        variable = self.variable()
        self.expect("symbol", "}", "'}' to close the denominator of the derivative")
        if operator:
            function = self.term()
        return Derivative(function, variable)

    def variable(self):
        token = self.expect("letter", None, "the variable of differentiation")
        if token.text in ("x", "w"):
            index = self.subscript(token)
            if (token.text, index) in SUBSCRIPTED:
                return SUBSCRIPTED[(token.text, index)]
        elif token.text in VARIABLES:
            return VARIABLES[token.text]
        self.fail(f"cannot differentiate with respect to {token.text}; use a, z, b, y, "
                  "w_j or x_j", token)


@dataclass(frozen=True)
class Part:
    """One expression of a chain: its value, the line it starts on, and how it was written."""

    value: object
    line: int
    written: str


class Losses:
    """The loss names a chain may use, and the model's activation."""

    def __init__(self, model):
        self.activation = model.activation
        self._symbols = {loss.name: loss.symbol for loss in model.losses}
        self.names = tuple(self._symbols)

    def symbol(self, name):
        return self._symbols[name]


def parse_chain(source, model, default_loss, first_line=1):
    """[Part] of a chain ``e0 = e1 = …`` written in ``source``."""
    parser = Parser(source, tokenize(source, first_line), Losses(model), default_loss)
    return parser.chain()

