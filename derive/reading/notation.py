r"""Notation by role: the names people publish, rewritten into the vocabulary's.

A ``Let`` says that a written form (a short LaTeX spelling, as tokens) means another
(``J`` means ``L``; ``\hat{y}`` means ``a``). ``Notation`` holds the lets of a document
in the order they are tried — the user's own (``--let``, ``[tool.derive] let``) first,
then the built-in ones, longest first — and rewrites a chain's tokens through them,
recording what it read so the report can say so ("read x as the pre-activation z").

Built in: the output (``\hat{y}``, ``h_\theta(x)``) is a; the weighted sum written as
``\theta^T x``, ``w^\top x + b``, ``w \cdot x + b``, ``\theta x`` is the pre-activation
z; ``\theta_j``, ``\theta_i``, ``w_i``, a lone ``w``, ``W`` or ``\theta`` is the weight
w_j and ``\theta_0``, ``w_0`` the bias b; a lone ``x`` is the pre-activation where the
document differentiates with respect to x or applies σ or tanh to it, and else the
feature x_j, and so are ``t``, ``u``, ``s`` and ``v`` where σ or tanh is applied to them.

Sample indices: a superscript in parentheses, ``y^{(i)}``, and a subscript i on a, y,
z or x (``y_i``, ``x_i``) become a "sample" token after the symbol, which the parser
reads as "this sample's" (see ``derive.reading.parser``).
"""

import itertools
from dataclasses import dataclass, replace

from derive.reading.tokens import Token, tokenize

_ACTIVATION_NAMES = ("\\sigma", "\\tanh")
_PER_SAMPLE = ("a", "y", "z")
_WEIGHTS = ("w", "W", "\\theta")


@dataclass(frozen=True)
class Let:
    """``written`` (token keys) read as ``means`` (token keys); ``note`` for the report."""

    written: tuple
    means: tuple
    note: str


def keys(latex):
    """The (kind, text) keys of the tokens of ``latex``."""
    return tuple((token.kind, token.text) for token in tokenize(latex)[:-1])


def let(written, means, note=""):
    return Let(keys(written), keys(means), note or f"read {written} as {means}")


def parse_let(text):
    """A user's ``WRITTEN=MEANS`` as a Let; raises ValueError with how to write one."""
    written, equals, means = text.partition("=")
    if not equals or not written.strip() or not means.strip():
        raise ValueError(f"--let {text!r}: write WRITTEN=MEANS, e.g. --let 'J=L' "
                         "or --let '\\hat{y}=a'")
    return let(written.strip(), means.strip(), f"read {written.strip()} as {means.strip()} (as declared)")


def _weighted_sums():
    for weight, transpose, product, data, bias in itertools.product(
            _WEIGHTS, ("", "^T", "^{T}", "^\\top", "^{\\top}", "^\\intercal"),
            ("", " \\cdot "), ("x", "X"), ("", " + b")):
        if weight == "W" and transpose:
            continue
        yield let(f"{weight}{transpose}{product} {data}{bias}", "z",
                  f"read {weight}{transpose}{product.strip()} {data}{bias} as the pre-activation z")


def _builtin():
    lets = [
        *(let(form, "a", f"read {form} as the output a")
          for form in ("\\hat{y}", "\\hat y", "\\hat{p}", "h_\\theta", "h_{\\theta}")),
        *(let(f"{head}{argument}", "a", f"read {head}(x) as the output a")
          for head in ("h_\\theta", "h_{\\theta}", "h_w", "h_{w}", "h_{w,b}", "h")
          for argument in ("(x)", "\\left(x\\right)", "\\left(x \\right)")),
        *_weighted_sums(),
        *(let(f"{weight}_{index}", "w_j", f"read {weight}_{index} as the weight w_j")
          for weight in _WEIGHTS for index in ("j", "i", "1", "{j}", "{i}") if weight != "w"
          or index not in ("j", "{j}")),
        let("\\theta_0", "b", "read \\theta_0 as the bias b"),
        let("\\theta_{0}", "b", "read \\theta_0 as the bias b"),
        let("w_0", "b", "read w_0 as the bias b"),
        *(let(f"x_{index}", "x_j", f"read x_{index} as the feature x_j")
          for index in ("1", "i", "{i}")),
    ]
    return sorted(lets, key=lambda item: -len(item.written))


BUILTIN = tuple(_builtin())


def _marks_samples(tokens):
    """The tokens with ``^{(i)}`` after any symbol, and ``_i`` after a, y, z, x, made
    "sample" tokens."""
    out, index = [], 0
    while index < len(tokens):
        token = tokens[index]
        window = [t.text for t in tokens[index:index + 6]]
        if window[:2] == ["^", "{"] and window[2:3] == ["("] and len(window) == 6 \
                and window[4:6] == [")", "}"] and tokens[index + 3].kind == "letter":
            out.append(replace(token, kind="sample", text=tokens[index + 3].text))
            index += 6
            continue
        if window[:1] == ["^"] and window[1:2] == ["("] and len(window) >= 4 and window[3] == ")":
            out.append(replace(token, kind="sample", text=tokens[index + 2].text))
            index += 4
            continue
        previous = out[-1] if out else None
        if (token.text == "_" and previous is not None and previous.kind == "letter"
                and previous.text in _PER_SAMPLE and index + 1 < len(tokens)):
            following = tokens[index + 1]
            if following.kind == "letter" and following.text == "i":
                out.append(replace(token, kind="sample", text="i"))
                index += 2
                continue
            if [t.text for t in tokens[index + 1:index + 4]] == ["{", "i", "}"]:
                out.append(replace(token, kind="sample", text="i"))
                index += 4
                continue
        out.append(token)
        index += 1
    return out


class Notation:
    """The lets of one document, and what was read through them (``notes``)."""

    def __init__(self, user=(), source=""):
        self.lets = tuple(user) + BUILTIN
        self.notes = []
        self.pre_activations = self._pre_activations(source)

    @staticmethod
    def _pre_activations(source):
        """The letters the document uses as the pre-activation besides z."""
        found = set()
        compact = "".join(source.split())
        for letter in ("x", "t", "u", "s", "v"):
            applied = any(f"{name}({letter})" in compact or f"{name}\\left({letter}" in compact
                          for name in _ACTIVATION_NAMES)
            if applied or (letter == "x" and any(mark in compact for mark in (
                    "{dx}", "{\\partialx}", "{dx}", "e^{-x}", "e^{x}", "e^-x"))):
                found.add(letter)
        return found

    def _note(self, note):
        if note not in self.notes:
            self.notes.append(note)

    def rewrite(self, tokens):
        """``tokens`` read through the lets (a list of Tokens ending with "end")."""
        tokens = _marks_samples(tokens)
        out, index = [], 0
        while index < len(tokens):
            matched = self._match(tokens, index)
            if matched is not None:
                found, end, samples = matched
                first = tokens[index]
                out.extend(Token(kind, text, first.line, first.column, first.offset)
                           for kind, text in found.means)
                out.extend(samples)
                self._note(found.note)
                index = end
                continue
            out.extend(self._alone(tokens, index))
            index += 1
        return out

    def _match(self, tokens, index):
        """(let, index after the match, sample tokens skipped) of the first let that
        matches at ``index``, or None."""
        for candidate in self.lets:
            position, samples = index, []
            for key in candidate.written:
                while position < len(tokens) and tokens[position].kind == "sample":
                    samples.append(tokens[position])
                    position += 1
                if position >= len(tokens) or (tokens[position].kind, tokens[position].text) != key:
                    break
                position += 1
            else:
                if self._letter_ends(tokens, position, candidate):
                    return candidate, position, samples
        return None

    @staticmethod
    def _letter_ends(tokens, position, candidate):
        """A match that ends in a letter must not be followed by a subscript or power
        that belongs to it (``w x`` in ``w x_j`` is not w·x)."""
        if candidate.written[-1][0] != "letter" or position >= len(tokens):
            return True
        return tokens[position].text != "_"

    def _alone(self, tokens, index):
        """A lone weight, feature or pre-activation letter read by its role."""
        token = tokens[index]
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if token.kind not in ("letter", "command") or following in ("_",):
            return [token]
        if token.text in self.pre_activations and token.kind == "letter":
            self._note(f"read {token.text} as the pre-activation z")
            return [replace(token, text="z")]
        if token.kind == "letter" and token.text == "x":
            self._note("read x as the feature x_j")
            return _indexed(token, "x")
        if token.spelling in _WEIGHTS and following not in ("^",):
            self._note(f"read {token.spelling} as the weight w_j")
            return _indexed(token, "w")
        return [token]


def _indexed(token, letter):
    """The tokens of ``letter_j`` where ``token`` stood."""
    return [replace(token, kind="letter", text=letter), replace(token, kind="symbol", text="_"),
            replace(token, kind="letter", text="j")]
