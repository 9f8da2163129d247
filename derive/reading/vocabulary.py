r"""The one table of what the LaTeX reader understands, and the grammar that reads it.

Every word the reader knows (a letter such as ``a``, a command such as ``\frac``, an
operator name such as ``\operatorname{softplus}``) is one row of ``WORDS``: how it is
spelled, the ``Role`` that says which rule of the grammar reads it, and what it means.
The parser dispatches on the role, asks the role whether a word can start a factor, and
builds every message that lists what is read from this table, so adding a word of an
existing kind is adding one row. Punctuation (``+ - * / ^ _ ' = ( ) [ ] { }``) belongs
to the grammar, not to the table.

Grammar (EBNF). A name in capitals is any row of ``WORDS`` with that role; the parser
reads each rule with the method of the same name (``number``: the tokenizer). White
space and SPACING words are dropped by the tokenizer before the parser sees the input.

    chain          = expression , { "=" , expression } ;
    expression     = [ "+" | "-" ] , term , { ( "+" | "-" ) , term } ;
    term           = factor , { [ PRODUCT | "*" | "/" ] , factor } ;
    factor         = "-" , factor | atom , [ "^" , exponent ] ;
    exponent       = "{" , expression , "}" | [ "-" ] , atom ;
    atom           = number | parenthesised | left_right | symbol | indexed | loss
                   | function | named_function | fraction | weighted_sum ;
    parenthesised  = "(" , expression , ")" | "[" , expression , "]"
                   | "{" , expression , "}" ;
    left_right     = LEFT , "(" , expression , RIGHT , ")"
                   | LEFT , "[" , expression , RIGHT , "]" ;
    symbol         = VARIABLE , [ "'" ] | CONSTANT ;
    indexed        = INDEXED , subscript ;
    loss           = "L" , [ subscript ] | "\mathcal" , "{" , "L" , "}" , [ subscript ] ;
    subscript      = "_" , ( letter | digit
                   | "{" , { letter | digit | UPRIGHT | NAMED | "{" | "}" } , "}" ) ;
    function       = FUNCTION , [ "'" ] , argument ;
    named_function = NAMED , "{" , letter , { letter } , "}" , [ "'" ] , argument ;
    argument       = parenthesised | left_right | factor ;
    fraction       = FRACTION , ( derivative
                   | "{" , expression , "}" , "{" , expression , "}" ) ;
    derivative     = "{" , DIFFERENTIAL , "}" , "{" , DIFFERENTIAL , variable , "}" , term
                   | "{" , DIFFERENTIAL , expression , "}" ,
                     "{" , DIFFERENTIAL , variable , "}" ;
    variable       = VARIABLE | INDEXED , subscript ;
    weighted_sum   = SUM , "_" , "{" , letter , ( NOT_EQUAL , "j" , "}"
                   | "=" , "1" , "}" , "^" , ( "n" | "{" , "n" , "}" ) ) ,
                     "w" , subscript , "x" , subscript ;
    number         = digit , { digit } , [ "." , digit , { digit } ]
                   | "." , digit , { digit } ;

Side conditions. A factor follows another without an operator only where its first
token can start one: a number, a letter, an opening bracket, or a command whose role
``starts_factor``. A prime after a VARIABLE is read only where its row gives
``primed`` (a' = da/dz); an INDEXED letter takes only the subscripts its row lists
(x_j, w_j). A NAMED word, ``\operatorname{w}`` or ``\mathrm{w}``, is the FUNCTION
spelled ``\operatorname{w}``, else the one spelled ``\w`` (``\operatorname{log}`` is
``\log``). A prime after a function is read only for an activation's own name and only
at z: ``\tanh'(z)`` is the derivative at z. ``\frac{d}{dz}`` applies to the whole term
that follows it. In ``weighted_sum`` the letter is the summation index, which both
subscripts must name: ``\sum_{k \neq j} w_k x_k`` is the rest of z, and
``\sum_{k=1}^{n} w_k x_k`` all of its weighted sum.

Meanings (the note's): a, b, y, z, x_j, w_j are its symbols, a' = da/dz = act'(z); e is
Euler's number and e^{u} the exponential; L and \mathcal{L} are the loss their
subscript names (L_{se}, L_{\text{ce}}), a plain L (or J, E, C, \ell, each with an
argument list such as J(\theta) or L(\hat y, y) that is skipped) the loss chosen for the
check, unless the document defines it (``J(\theta) = …`` as the first equation of a
chain). Names published in other notations are rewritten first
(``derive.reading.notation``); a letter the table does not know is a free symbol (or a
function the document defines, g(z) = …), and ``\sum`` over samples, ``y^{(i)}`` and
``y_i`` are read as ``derive.reading.calculus`` says.
Numbers are read exactly (0.5 is 1/2), and a function at a number is read as its value
in the model (σ(0) is 1/2; see ``derive.reading.numbers``).

Activations: each activation of ``derive.engine.registry`` is a FUNCTION row under its
own LaTeX name (``Activation.latex``). In the model of that activation it means the
model's activation function (so ``\operatorname{softplus}'(z)`` is da/dz under
``--activation softplus``); under another activation it keeps its ordinary meaning:
``\sigma`` the logistic sigmoid, ``\tanh`` and ``\exp`` themselves,
``\operatorname{softplus}`` log(1 + e^u), and a name with no ordinary meaning (such as
``\operatorname{id}``) the registry's defining expression.
"""

import re
from dataclasses import dataclass, replace

from sympy import Derivative, E, cosh, exp, log, sech, sinh, tanh

from derive.engine.registry import ACTIVATIONS
from derive.engine.stable import Sigmoid, Softplus
from derive.engine.symbols import a, b, w_j, x_j, y, z


@dataclass(frozen=True)
class Role:
    """Which rule of the grammar reads a word; ``where`` says where a word that cannot
    stand on its own is read, for the message when it is found elsewhere."""

    name: str
    starts_factor: bool = True
    where: str = ""


VARIABLE = Role("variable")
INDEXED = Role("indexed")
CONSTANT = Role("constant")
LOSS = Role("loss")
FUNCTION = Role("function")
NAMED = Role("named")
FRACTION = Role("fraction")
LEFT = Role("left")
SUM = Role("sum")
PRODUCT = Role("product", False, "between two factors")
RIGHT = Role("right", False, r"to close \left( or \left[")
DIFFERENTIAL = Role("differential", False,
                    r"inside a derivative such as \frac{dL}{da} or \frac{\partial L}{\partial w_j}")
NOT_EQUAL = Role("not equal", False, r"in the subscript of \sum_{k \neq j} w_k x_k")
UPRIGHT = Role("upright", False, r"inside a subscript, as in L_{\text{se}}")
SPACING = Role("spacing", False)


@dataclass(frozen=True)
class Word:
    """One row of the vocabulary.

    ``meaning`` is the SymPy symbol (VARIABLE, CONSTANT), the {subscript: symbol} map
    (INDEXED), or the function applied to the argument (FUNCTION). ``primed`` is what a
    VARIABLE followed by a prime means; ``activation`` names the registry activation
    whose own name a FUNCTION row is; ``shown`` is how messages list the word when that
    is not its spelling.
    """

    spelling: str
    role: Role
    meaning: object = None
    primed: object = None
    activation: str = ""
    shown: tuple = ()

    @property
    def forms(self):
        """How messages list this word."""
        if self.shown:
            return self.shown
        if self.role is INDEXED:
            return tuple(f"{self.spelling}_{index}" for index in self.meaning)
        if self.primed is not None:
            return (self.spelling, f"{self.spelling}'")
        return (self.spelling,)

    def function_in(self, activation):
        """The function this name applies in the model of ``activation``."""
        return activation.function if self.activation == activation.name else self.meaning


def _spacing(*names):
    return tuple(Word(f"\\{name}", SPACING) for name in names)


_ROWS = (
    Word("a", VARIABLE, a, primed=Derivative(a, z)),
    Word("b", VARIABLE, b),
    Word("y", VARIABLE, y),
    Word("z", VARIABLE, z),
    Word("x", INDEXED, {"j": x_j}),
    Word("w", INDEXED, {"j": w_j}),
    Word("e", CONSTANT, E, shown=("e", "e^{…}")),
    Word("L", LOSS, shown=("L", "L_{…}")),
    Word("J", LOSS),
    Word("E", LOSS),
    Word("C", LOSS),
    Word(r"\ell", LOSS),
    Word(r"\mathcal", LOSS, shown=(r"\mathcal{L}",)),
    Word(r"\log", FUNCTION, log),
    Word(r"\ln", FUNCTION, log),
    Word(r"\exp", FUNCTION, exp),
    Word(r"\tanh", FUNCTION, tanh),
    Word(r"\cosh", FUNCTION, cosh),
    Word(r"\sinh", FUNCTION, sinh),
    Word(r"\sech", FUNCTION, sech),
    Word(r"\sigma", FUNCTION, Sigmoid),
    Word(r"\operatorname{softplus}", FUNCTION, Softplus),
    Word(r"\operatorname", NAMED, shown=(r"\operatorname{…}",)),
    Word(r"\mathrm", NAMED, shown=(r"\mathrm{…}",)),
    Word(r"\frac", FRACTION),
    Word(r"\dfrac", FRACTION),
    Word(r"\tfrac", FRACTION),
    Word(r"\cdot", PRODUCT),
    Word(r"\times", PRODUCT),
    Word(r"\left", LEFT),
    Word(r"\right", RIGHT),
    Word(r"\sum", SUM),
    Word("d", DIFFERENTIAL),
    Word(r"\partial", DIFFERENTIAL),
    Word(r"\neq", NOT_EQUAL),
    Word(r"\ne", NOT_EQUAL),
    Word(r"\text", UPRIGHT),
    Word(r"\textrm", UPRIGHT),
    *_spacing(",", ";", "!", ":", " ", "quad", "qquad", "displaystyle", "textstyle",
              "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
              "Biggl", "Biggr", "nonumber", "notag", "small", "Tiny", "tiny", "scriptstyle",
              "limits", "nolimits", "dots", "middle"),
)

_OPERATOR_NAME = re.compile(r"\\(?:operatorname|mathrm)\s*\{\s*([A-Za-z]+)\s*\}")


def operator_spelling(name):
    """How the table spells the operator name ``name``: ``\\operatorname{name}``."""
    return f"\\operatorname{{{name}}}"


def _canonical(latex):
    """A registry spelling as the table writes it (``\\mathrm{w}`` as ``\\operatorname{w}``)."""
    match = _OPERATOR_NAME.fullmatch(latex.strip())
    return operator_spelling(match.group(1)) if match else latex.strip()


def _with_activations(rows):
    """The rows keyed by spelling, each registry activation's own name marked as such
    (a name the table does not know yet means the registry's defining expression)."""
    table = {row.spelling: row for row in rows}
    for activation in ACTIVATIONS.values():
        spelling = _canonical(activation.latex)
        known = table.get(spelling, Word(spelling, FUNCTION, activation.definition))
        if known.role is not FUNCTION:
            raise ValueError(f"the activation {activation.name} is spelled {spelling}, "
                             f"which the reader reads as a {known.role.name}")
        table[spelling] = replace(known, activation=activation.name)
    return table


WORDS = _with_activations(_ROWS)
"""Every word the reader knows, by spelling (commands with their backslash)."""


def word(spelling):
    """The row spelled ``spelling`` (``"a"``, ``"\\frac"``), or None."""
    return WORDS.get(spelling)


def operator(name):
    """The function that ``\\operatorname{name}`` or ``\\mathrm{name}`` spells, or None."""
    found = WORDS.get(operator_spelling(name)) or WORDS.get(f"\\{name}")
    return found if found is not None and found.role is FUNCTION else None


def is_spacing(spelling):
    found = WORDS.get(spelling)
    return found is not None and found.role is SPACING


def _listed(keep):
    """The forms of the rows ``keep`` accepts, as messages list them, in table order."""
    return ", ".join(form for row in WORDS.values() if row.role is not SPACING and keep(row)
                     for form in row.forms)


SYMBOLS = _listed(lambda row: not row.spelling.startswith("\\"))
FUNCTIONS = _listed(lambda row: row.role is FUNCTION)
COMMANDS = _listed(lambda row: row.spelling.startswith("\\") and row.role is not FUNCTION)
ACTIVATION_NAMES = ", ".join(row.spelling for row in WORDS.values() if row.activation)
DIFFERENTIABLE = ", ".join(form for row in WORDS.values() if row.role in (VARIABLE, INDEXED)
                           for form in (row.forms if row.role is INDEXED else (row.spelling,)))
EVERYTHING = f"the symbols {SYMBOLS}; the functions {FUNCTIONS}; the commands {COMMANDS}"
"""What the reader reads, for messages that list it all."""
