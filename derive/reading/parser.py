"""Recursive descent over the tokens of one chain ``e0 = e1 = … = en``, into SymPy.

The grammar is the EBNF of ``derive.reading.vocabulary``; each of its rules is read by
the method of the same name. A letter or command in an atom is looked up in the
vocabulary's table and read by the method for its role (``Parser.readers``); whether
it may start a factor is its role's. SymPy objects are built directly from the table's
meanings: nothing is evaluated. The numbers built are bounded by
``derive.reading.numbers`` (an exponent is at most ``MAX_EXPONENT`` in size, a number at
most ``MAX_NUMBER_DIGITS`` digits long); the other limits are those of
``derive.reading.tokens``.
"""

from dataclasses import dataclass

from sympy import Derivative, E, Rational, S, exp

from derive.engine.symbols import z
from derive.reading import vocabulary as vocab
from derive.reading.calculus import Calculus
from derive.reading.names import MATHCAL, Definitions, Names
from derive.reading.numbers import (
    MAX_EXPONENT,
    MAX_NUMBER_DIGITS,
    exponent_problem,
    expression_problem,
    power_problem,
)
from derive.reading.tokens import TokenStream

__all__ = ["MAX_EXPONENT", "MAX_NUMBER_DIGITS", "Definitions", "Losses", "Parser", "Part"]

_CLOSING = {"(": ")", "[": "]", "{": "}"}



@dataclass(frozen=True)
class Part:
    """One expression of a chain: its value, the line it starts on, and how it was
    written; ``defines`` names what a definition part defines, ``sums`` says it holds a
    sum over samples and ``instance`` that it is read only as the instance with every
    sample equal (see ``derive.reading.calculus``)."""

    value: object
    line: int
    written: str
    defines: str = ""
    sums: bool = False
    instance: bool = False
    loose: bool = False


class Losses:
    """The loss names a chain may use, the model's activation, and ``meaning``: what an
    expression means in the model (``Model.meaning``)."""

    def __init__(self, model):
        self.activation, self.meaning = model.activation, model.meaning
        self._symbols = {loss.name: loss.symbol for loss in model.losses}
        self.names = tuple(self._symbols)

    def symbol(self, name):
        return self._symbols[name]


class Parser(Names, Calculus, TokenStream):
    """Reads one chain; ``losses`` gives the model's losses and activation,
    ``default_loss`` is what a plain L means, and reading stops at ``deadline``.
    ``definitions`` are the document's own (read and added to), ``notes`` collects how
    names were read."""

    def __init__(self, source, tokens, losses, default_loss, deadline=None, definitions=None,
                 notes=None):
        super().__init__(tokens, deadline)
        self.source, self.losses, self.default_loss = source, losses, default_loss
        self.definitions = definitions if definitions is not None else Definitions()
        self.defined = self.definitions.values
        self.notes = notes if notes is not None else []
        self.sums = self.in_sum = 0
        self.instance = self.loose = False
        self.readers = {
            vocab.VARIABLE: self.symbol, vocab.INDEXED: self.indexed,
            vocab.CONSTANT: self.symbol, vocab.LOSS: self.loss,
            vocab.FUNCTION: self.function, vocab.NAMED: self.named_function,
            vocab.FRACTION: self.fraction, vocab.LEFT: self.left_right,
            vocab.SUM: self.weighted_sum,
        }

    # --- chain, expression, term, factor ----------------------------------------------

    def chain(self):
        """[Part] for ``e0 = e1 = …``; the whole input must be used. A chain that begins
        with a name the document has not defined yet (a loss, a function g(z), a letter)
        defines it by its first equality."""
        defining = self.definition_ahead()
        if defining:
            parts = self.definition(*defining)
        else:
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
        problem = expression_problem(value)
        if problem:
            self.fail(problem, start_token)
        written = " ".join(self.source[start:self.peek.offset].split())
        return self.made(Part(value, line, written))

    def made(self, part, sums_before=0):
        """``part`` with the sum and instance marks read since the last part."""
        marked = Part(part.value, part.line, part.written, part.defines,
                      self.sums > sums_before, self.instance, self.loose)
        self.sums, self.instance, self.loose = 0, False, False
        return marked

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
            if self.at_role(vocab.PRODUCT) or self.at("symbol", "*"):
                self.advance()
                value = value * self.factor()
            elif self.accept("symbol", "/"):
                value = value / self.factor()
            elif self.starts_factor():
                value = value * self.factor()
            else:
                return value

    def starts_factor(self):
        """Whether the next token begins a factor (a product written without an operator).
        Every letter does (an unknown one is then reported), and so does a command
        whose role starts a factor or that is not in the vocabulary at all."""
        token = self.peek
        if token.kind in ("number", "letter"):
            return True
        if token.kind == "symbol":
            return token.text in "([{"
        if token.kind == "command":
            return token.word is None or token.role.starts_factor
        return False

    def factor(self):
        if self.accept("symbol", "-"):
            return -self.factor()
        sums = self.sums
        first, first_at = self.peek, self.index
        base = self.atom()
        if self.at("symbol", "'"):
            base = self.postfix_prime(first, base)
        while self.at("sample"):
            self.advance()
            if not self.in_sum:
                self.loose = True
        caret = self.accept("symbol", "^")
        if caret is not None and first.text == "{" and self.tokens[first_at + 1].text == "-":
            self.fail("a power of a braced group that begins with '-' ({-e}^{x}) is "
                      "ambiguous: write -e^{x} or (-e)^{x}", caret)
        if caret is not None and self.sums > sums:
            self.instance = True
        if caret is None:
            return base
        written = self.following if self.at("symbol", "{") else self.peek
        exponent = self.exponent()
        problem = exponent_problem(exponent)
        if problem:
            self.fail(problem, written)
        if base == E:
            return exp(exponent)
        problem = power_problem(base, exponent)
        if problem:
            self.fail(problem, caret)
        return base**exponent

    def exponent(self):
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
        if token.kind == "symbol" and token.text in _CLOSING:
            return self.parenthesised()
        if token.kind not in ("letter", "command"):
            self.fail(f"expected a number, a symbol or '(', found {token}")
        found = token.word
        if found is None and token.kind == "letter":
            return self.letter(self.advance())
        if found is None:
            self.fail(f"unknown command {token}; the commands read are {vocab.COMMANDS}, "
                      f"and the functions {vocab.FUNCTIONS}", token)
        if found.role not in self.readers:
            self.fail(f"{token} is only read {found.role.where}", token)
        self.advance()
        return self.readers[found.role](token, found)

    # --- groups -----------------------------------------------------------------------

    def parenthesised(self):
        opening = self.advance().text
        closing = _CLOSING[opening]
        value = self.expression()
        self.expect("symbol", closing, f"'{closing}' to match '{opening}'")
        return value

    def left_right(self, token, word):
        opening = self.advance()
        if not (opening.kind == "symbol" and opening.text in "(["):
            self.fail(f"expected '(' or '[' after {token}, found {opening}", opening)
        closing = _CLOSING[opening.text]
        value = self.expression()
        if not self.at_role(vocab.RIGHT):
            self.fail(f"expected '\\right{closing}', found {self.peek}")
        self.advance()
        self.expect("symbol", closing, f"'{closing}' after \\right")
        return value

    # --- symbols ----------------------------------------------------------------------

    def symbol(self, token, word):
        if token.spelling in self.defined:
            return self.defined[token.spelling]
        if self.at("symbol", "_"):
            self.fail(f"{token.text} takes no subscript", token)
        if word.primed is not None and self.accept("symbol", "'"):
            return word.primed
        return word.meaning

    def indexed(self, token, word):
        index = self.subscript(token)
        if index not in word.meaning:
            self.fail(f"unknown symbol {token.text}_{index}; only "
                      f"{' and '.join(word.forms)} is read", token)
        return word.meaning[index]

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
                elif part.role in (vocab.UPRIGHT, vocab.NAMED):
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

    def loss(self, token, word):
        if token.spelling == MATHCAL:  # \mathcal{L}
            self.expect("symbol", "{", f"'{{' after {token}")
            self.expect("letter", "L", "'L' (the only calligraphic letter read)")
            self.expect("symbol", "}", "'}'")
        name = "L" if token.spelling == MATHCAL else token.spelling
        if self.at("symbol", "'") and name in self.defined:
            return self.loss_prime(token, name)
        if not self.at("symbol", "_"):
            self.skip_arguments()
            if name in self.defined:
                if name in self.definitions.summed:
                    self.sums += 1
                return self.defined[name]
            return self.losses.symbol(self.default_loss)
        name = self.subscript(token)
        if name not in self.losses.names:
            self.fail(f"unknown loss L_{name}; the losses are "
                      f"{', '.join('L_' + n for n in self.losses.names)}", token)
        return self.losses.symbol(name)

    # --- functions --------------------------------------------------------------------

    def skip_arguments(self):
        """An argument list after a loss's name, J(θ) or L(ŷ, y): names only."""
        if not self.at("symbol", "("):
            return
        close = self.closing(self.index)
        inside = self.tokens[self.index + 1:close] if close is not None else []
        if close is not None and all(t.kind in ("letter", "sample") or t.text in (",", "_", "j")
                                     for t in inside):
            self.index = close + 1

    def named_function(self, token, word):
        """\\operatorname{name} or \\mathrm{name}: the function the vocabulary spells so."""
        self.expect("symbol", "{", f"'{{' after {token}")
        letters = []
        while self.at("letter"):
            letters.append(self.advance().text)
        self.expect("symbol", "}", f"'}}' to close the name after {token}")
        name = "".join(letters)
        found = vocab.operator(name)
        if found is None:
            self.fail(f"unknown function {token.spelling}{{{name}}}; the functions read are "
                      f"{vocab.FUNCTIONS}", token)
        return self.function(token, found)

    def function(self, token, word):
        """The function applied to its argument; an activation's own name is the model's
        activation under that model, and with a prime its derivative at z. At a number
        it is its value in the model (see ``derive.reading.numbers``)."""
        name = word.spelling
        meaning = word.function_in(self.losses.activation)
        prime = self.accept("symbol", "'")
        if prime and not word.activation:
            self.fail(f"a prime is read only after an activation's name "
                      f"({vocab.ACTIVATION_NAMES}), not after {name}", prime)
        power = None
        if not prime and self.accept("symbol", "^"):
            power = self.exponent()
        if word.activation and (self.at("symbol", "}") or self.at("symbol", "=")
                                or self.at("end")):
            argument = z  # \frac{d\sigma}{dz}: the activation at the pre-activation
        else:
            sums = self.sums
            argument = self.argument(name)
            if self.sums > sums:
                self.instance = True
        value = self.applied(token, name, meaning, argument, prime)
        return value if power is None else value**power

    def applied(self, token, name, meaning, argument, prime):
        """``meaning`` at ``argument`` (with a prime, its derivative at z)."""
        if prime:
            if argument != z:
                self.fail(f"{name}' is read only at z: write {name}'(z)", token)
            return Derivative(meaning(z), z)
        if argument.is_number:  # its value now, whose size SymPy can tell (σ(0) = 1/2)
            return self.losses.meaning(meaning(argument))
        return meaning(argument)

    def argument(self, name):
        if self.at("symbol") and self.peek.text in "([{":
            return self.parenthesised()
        if self.at_role(vocab.LEFT):
            return self.left_right(self.advance(), None)
        if self.at("end") or self.at("symbol"):
            self.fail(f"expected the argument of {name}, found {self.peek}")
        return self.factor()
