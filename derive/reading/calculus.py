r"""Sums, fractions and derivatives: the parser's rules for them (a mixin of ``Parser``).

Sums over samples. ``\sum_{i=1}^{m} t``, ``\sum_{i=0}^{m} t``, ``\sum_i t`` and a bare
``\sum t`` apply to what follows up to the end of the expression they stand in (or to
the next ``+ \sum``), as ML texts write them (J = -\frac1m \sum y log h + (1-y) log(1-h)); they are read with every sample equal,
as (number of terms) · t, and so are y^{(i)}, y_i (see ``derive.reading.notation``): an
equality of such sums that is linear in them (each sum times factors the same for every
sample, as in J = (1/m) Σ L^{(i)} and its gradient) holds for all samples exactly when
it holds so, which makes "proved" exact there; a step where a sum is multiplied by a
sum, put inside a function, raised to a power, or stands beside a sample's own symbol
outside any sum is only an instance, and the parser marks it (``Part.instance``): such a
step can be found false, never proved. A derivative with respect to one sample's a, z
or y of an expression holding a sum is refused (its meaning is not that of the instance).
``\sum_{k \neq j} w_k x_k`` and ``\sum_{k=1}^{n} w_k x_k`` keep their meaning as parts of z.
"""

from sympy import Derivative, Rational, Symbol, diff

from derive.engine.symbols import a, b, rest, y, z
from derive.reading import vocabulary as vocab
from derive.reading.tokens import Token

_PER_SAMPLE = (a, y, z)


def count_symbol(letter):
    """The number of samples named ``letter`` (m, n, N): a positive symbol."""
    return Symbol(letter, positive=True)


class Calculus:
    """Sums, fractions and derivatives, for ``derive.reading.parser.Parser``."""

    def weighted_sum(self, token, word):
        """\\sum_{k \\neq j} w_k x_k is the rest of z, \\sum_{k=1}^{n} w_k x_k all of
        its weighted sum; any other \\sum is a sum over samples."""
        ahead = [t.text for t in self.tokens[self.index:self.index + 12]]
        if ahead[:2] == ["_", "{"] and "w" in ahead[5:12] and ahead[2:3] != ["i"]:
            return self.feature_sum(token)
        return self.sample_sum(token)

    def feature_sum(self, token):
        self.expect("symbol", "_", f"a subscript after {token}")
        self.expect("symbol", "{", "'{'")
        index = self.expect("letter", None, "the summation index").text
        whole = bool(self.accept("symbol", "="))
        if whole:
            self.expect("number", "1", "1 (a sum from 1 to n)")
        else:
            if not self.at_role(vocab.NOT_EQUAL):
                self.fail(f"expected \\neq j in the subscript of {token}")
            self.advance()
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

    def sample_sum(self, token):
        """(number of terms) · the term that follows, with every sample the same."""
        count, lower = count_symbol("m"), 1
        if self.accept("symbol", "_"):
            braced = self.accept("symbol", "{")
            self.expect("letter", None, "the summation index")
            if braced:
                if self.accept("symbol", "="):
                    lower = int(self.expect("number", None, "the first index, 0 or 1").text)
                self.expect("symbol", "}", "'}' to close the subscript of \\sum")
            if self.accept("symbol", "^"):
                braced = self.accept("symbol", "{")
                count = count_symbol(self.expect("letter", None, "the number of samples").text)
                if braced:
                    self.expect("symbol", "}", "'}'")
        if lower not in (0, 1):
            self.fail("a sum over samples starts at 0 or 1", token)
        self.sums += 1
        self.in_sum += 1
        body = self.term()
        while (self.at("symbol", "+") or self.at("symbol", "-")) \
                and self.following.spelling != "\\sum":
            sign = 1 if self.advance().text == "+" else -1
            body = body + sign * self.term()
        self.in_sum -= 1
        return (count + 1 - lower) * body

    def fraction(self, token, word):
        if self.derivative_ahead():
            return self.derivative()
        numerator = self.fraction_argument(token, "numerator")
        denominator = self.fraction_argument(token, "denominator")
        return numerator / denominator

    def fraction_argument(self, token, which):
        """A braced expression, or one digit or letter (``\\frac1m``)."""
        if self.accept("symbol", "{"):
            value = self.expression()
            self.expect("symbol", "}", f"'}}' to close the {which}")
            return value
        if self.at("number") and len(self.peek.text) > 1 and "." not in self.peek.text:
            digits = self.peek.text
            self.tokens[self.index] = Token("number", digits[1:], self.peek.line,
                                            self.peek.column + 1, self.peek.offset + 1)
            return Rational(digits[0])
        if self.at("number") or self.at("letter"):
            return self.atom()
        self.fail(f"expected '{{' to open the {which} after {token}, found {self.peek}")

    def derivative_ahead(self):
        return self.at("symbol", "{") and self.following.role is vocab.DIFFERENTIAL

    def derivative(self):
        self.advance()  # {
        self.advance()  # d or \partial
        operator = self.accept("symbol", "}")
        sums_before = self.sums
        if not operator:
            function = self.expression()
            self.expect("symbol", "}", "'}' to close the numerator of the derivative")
        self.expect("symbol", "{", "'{' to open the denominator of the derivative")
        mark = self.advance()
        if mark.role is not vocab.DIFFERENTIAL:
            self.fail(f"expected d or \\partial in the denominator, found {mark}", mark)
        variable_token = self.peek
        variable = self.variable()
        while self.at("sample"):
            self.advance()
        self.expect("symbol", "}", "'}' to close the denominator of the derivative")
        if operator:
            function = self.term()
        if variable in _PER_SAMPLE and self.sums > sums_before:
            self.fail("a derivative with respect to one sample's "
                      f"{variable} of a sum over samples is not read", variable_token)
        return Derivative(function, variable)

    def variable(self):
        """The variable of differentiation."""
        token = self.expect("letter", None, "the variable of differentiation")
        found = token.word
        if found is not None and found.role is vocab.INDEXED:
            index = self.subscript(token)
            if index in found.meaning:
                return found.meaning[index]
        elif found is not None and found.role is vocab.VARIABLE:
            return found.meaning
        elif found is None and token.text not in self.defined:
            return self.free(token)
        self.fail(f"cannot differentiate with respect to {token.text}; use one of "
                  f"{vocab.DIFFERENTIABLE}", token)

    def postfix_prime(self, first, base):
        """``(…)'``, ``\\left(…\\right)'``, ``f(x)'`` or ``1'``: the derivative with respect
        to the pre-activation z, read only where nothing but z varies in it."""
        prime = self.peek
        closed = self.tokens[self.index - 1].text in (")", "]", "}")
        if not (closed or first.kind == "number"):
            self.fail("a prime is read after a name the document defined, an activation, "
                      "a number or a closing bracket, not here", prime)
        body = self.losses.meaning(base)
        if not body.free_symbols <= {z}:
            self.fail("a prime after an expression is read only where the pre-activation "
                      "is its one variable", prime)
        self.advance()
        if self.at("symbol", "'"):
            self.fail("a second derivative is not read", prime)
        return diff(body, z)

    def loss_prime(self, token, name):
        """``L'(u)`` after ``L(u) = …``: the derivative of the document's loss with respect
        to the pre-activation, read only at the pre-activation itself."""
        prime = self.advance()
        ahead = [t.text for t in self.tokens[self.index:self.index + 3]]
        if ahead != ["(", "z", ")"]:
            self.fail(f"a prime after {token} is read only at the pre-activation, "
                      f"as in {name}'(z)", prime)
        self.index += 3
        return diff(self.losses.meaning(self.defined[name]), z)
