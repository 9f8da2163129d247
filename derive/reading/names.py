"""Names a document gives: definitions (``J(\\theta) = …``, ``g(z) = …``, ``p = …`` as the
first equation of a chain), free letters, and functions it defined (a mixin of
``derive.reading.parser.Parser``).

A chain that begins with a name the document has not defined yet — a loss name
(L, J, E, C, \\ell, \\mathcal{L}, with an argument list or none), a letter the vocabulary
does not know, or ``g(v)`` for such a letter g — defines it by its first equality: that
step is recorded as a definition, not checked, and the name means its value from then
on (a function, its body at any argument; with a prime, its derivative). ``y = …`` with
no y on the right (``y = \\tanh(x) = …``) names the function, not the label. Any other
letter the vocabulary does not know is a free symbol (m, n, N positive); before "(" an
undefined letter is refused, as it would otherwise be read as a product.
"""

from dataclasses import dataclass, field, replace

from sympy import Lambda, Symbol, diff

from derive.engine.symbols import z
from derive.reading import vocabulary as vocab
from derive.reading.calculus import count_symbol

MATHCAL = "\\mathcal"


@dataclass
class Definitions:
    """What a document defines as it goes (``J(\theta) = …``, ``g(z) = …``, ``p = …``):
    {name: value} for symbols and losses, {name: Lambda} for functions, and whether a
    definition holds a sum."""

    values: dict = field(default_factory=dict)
    summed: set = field(default_factory=set)



class Names:
    """Definitions, free letters and defined functions, for the parser."""

    def definition_ahead(self):
        """(name, parameter token or None, index of '=') when the chain begins by defining
        a name, else None."""
        tokens, first = self.tokens, self.tokens[0]
        index = 1
        if first.spelling == MATHCAL:
            index = 4  # \mathcal{L}
        if first.role is vocab.LOSS or (first.kind == "letter" and first.word is None):
            name = "L" if first.spelling == MATHCAL else first.spelling
            parameter = None
            while tokens[index].kind == "sample":
                index += 1
            if tokens[index].text == "(":
                close = self.closing(index)
                if close is None:
                    return None
                inside = tokens[index + 1:close]
                if first.word is None and len(inside) == 1 and inside[0].kind == "letter":
                    parameter = inside[0]
                elif first.role is not vocab.LOSS:
                    return None
                index = close + 1
            if tokens[index].text == "=" and name not in self.defined:
                return name, parameter, index
        if first.spelling == "y" and tokens[1].text == "=" and "y" not in self.defined \
                and not any(t.spelling == "y" for t in tokens[2:]):
            return "y", None, 1  # y = \tanh(x) = …: y names the function, not the label
        return None

    def closing(self, index):
        depth = 0
        for position in range(index, len(self.tokens)):
            text = self.tokens[position].text
            depth += text in "([{" and self.tokens[position].kind == "symbol"
            depth -= text in ")]}" and self.tokens[position].kind == "symbol"
            if depth == 0:
                return position
        return None

    def definition(self, name, parameter, equals):
        """The first two parts of a defining chain: the definition and its value."""
        head = " ".join(self.source[self.tokens[0].offset:self.tokens[equals].offset].split())
        line = self.tokens[0].line
        self.index = equals + 1
        value_part = self.part(self.tokens[equals].line)
        value = value_part.value
        if parameter is not None:
            variable = z if parameter.text == "z" else self.free(parameter)
            self.defined[name] = Lambda(variable, value)
        else:
            self.defined[name] = value
        if value_part.sums:
            self.definitions.summed.add(name)
        self.notes.append(f"read {head} as defined on line {line}")
        return [replace(value_part, line=line, written=head, defines=name), value_part]

    def free(self, token):
        """A letter the vocabulary does not know: a free symbol (m, n, N positive)."""
        note = f"read {token.text} as a free symbol"
        if note not in self.notes:
            self.notes.append(note)
        if token.text in ("m", "n", "N"):
            return count_symbol(token.text)
        return Symbol(token.text, real=True)

    def letter(self, token):
        """A letter the vocabulary does not know: what the document defined it as (a
        function g applied to its argument, with a prime its derivative), else a free
        symbol; an undefined letter before '(' is refused (it would be a product)."""
        defined = self.defined.get(token.text)
        if token.text in self.definitions.summed:
            self.sums += 1
        if isinstance(defined, Lambda):
            prime = self.accept("symbol", "'")
            variable = defined.variables[0]
            if self.at("symbol", "(") or self.at_role(vocab.LEFT):
                argument = self.argument(token.text)
            else:
                argument = variable
            body = self.losses.meaning(defined.expr) if prime else defined.expr
            return (diff(body, variable) if prime else body).subs(variable, argument)
        if defined is not None:
            return defined
        if self.at("symbol", "(") or self.at("symbol", "'"):
            self.fail(f"unknown function {token.text}; define it first (as in "
                      f"{token.text}(z) = …) or declare it with --let", token)
        return self.free(token)

